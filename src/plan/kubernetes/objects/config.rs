//! The workload's configuration: the database Secret and the environment.

use k8s_openapi::api::core::v1::{ConfigMap, EnvVar, EnvVarSource, Secret, SecretKeySelector};
use serde_json::json;

use crate::plan::kubernetes::profile::EnvValue;

use super::{
    map, meta, object, render, s3_endpoint, Builder, IRSA_TOKEN_DIR, RDS_CA_BUNDLE, RDS_CA_FILE, RDS_CA_PATH,
    SECRET_VERSION_ANNOTATION, USER_VERSION_ANNOTATION,
};

impl Builder<'_, '_> {
    pub(super) fn secret(&mut self) {
        let Some(db) = &self.r.database else { return };
        let sync = db.sync;
        let secret = Secret {
            metadata: meta(&db.secret, self.ns(), self.labels()),
            type_: Some("Opaque".into()),
            string_data: db.data_source.as_ref().map(|ds| map(&[("datasource", ds)])),
            ..Secret::default()
        };
        let dsn = &db.dsn_template;
        if let Some(user) = &db.app_user {
            let comment = format!(
                "Connection string of `{}` to `{}`, as the application's own database user {user}: the
secret sync (the CronJob {name}-db-secret-sync, also run once by `archc deploy`) writes the
key `datasource` here,
  {dsn}
with the password of the data stack's application user secret, after it has set that password
in the database; this file carries no key, so no apply ever overwrites the sync's value. Until
the first sync the pods wait (CreateContainerConfigError: the key is missing), then start.
The annotation {USER_VERSION_ANNOTATION} records the secret version the sync applied. See
kubernetes/README.md, \"Database user and secret\".",
                self.i.app.node,
                self.i.id(db.dep.node),
                name = self.r.name,
            );
            self.objects.push(object(
                20,
                &secret,
                Some(self.i.id(db.dep.node)),
                &comment,
                "the database DSN, written by the secret sync",
            ));
            return;
        }
        let comment = format!(
            "Connection string of `{}` to `{}`: a template filled at deploy time, never a credential in a\nfile. The deploy step reads the RDS-managed master secret from Secrets Manager, URL-encodes\nuser and password, builds\n  {dsn}\nsubstitutes it for the placeholder in memory and pipes the result to `kubectl apply -f -`.\n{}",
            self.i.app.node,
            self.i.id(db.dep.node),
            if sync {
                format!("Rotation: RDS rotates the secret (every 7 days by default); the CronJob {}-db-secret-sync\nrewrites this Secret and sets the pod annotation {SECRET_VERSION_ANNOTATION} to the new\nVersionId, which rolls the pods (the variable is read at start). See kubernetes/README.md.", self.r.name)
            } else {
                format!("Rotation: RDS rotates the secret (every 7 days by default). No sync is built for this\ndiagram: run `archc deploy` again after each rotation; it re-applies this Secret and sets\nthe pod annotation {SECRET_VERSION_ANNOTATION} to the new VersionId, which rolls the pods\n(the variable is read at start). See kubernetes/README.md.")
            }
        );
        self.objects.push(object(
            20,
            &secret,
            Some(self.i.id(db.dep.node)),
            &comment,
            "the database DSN, filled at deploy time",
        ));
    }

    /// Outgoing email (`app.smtp`, which configures the one workload `app:` describes): host,
    /// port (else the profile's, else 587) and Mattermost's connection security for it
    /// (implicit TLS on 465 and 2465, STARTTLS otherwise).
    pub(super) fn smtp(&self) -> Option<(String, u16, &'static str)> {
        let s = self.i.settings;
        let smtp = s.app_config.smtp.as_ref().filter(|_| s.single_workload)?;
        let port = smtp.port.or(self.i.profile.deploy.smtp_port).unwrap_or(587);
        Some((smtp.host.clone(), port, if matches!(port, 465 | 2465) { "TLS" } else { "STARTTLS" }))
    }

    /// The name of the ConfigMap with the RDS CA bundle, when the DSN verifies the server.
    pub(super) fn ca_bundle_name(&self) -> Option<String> {
        self.r.database.as_ref().filter(|db| db.ca_bundle).map(|_| format!("{}-rds-ca", self.r.name))
    }

    /// The Amazon RDS certificate authorities as a ConfigMap the pods mount read-only, so that
    /// the DSN's `sslmode=verify-full` has the roots to verify the database's certificate and
    /// host name against. A ConfigMap (not a file in the image, not a download at start): it
    /// reaches the pods whether or not CI builds an image (without a registry the upstream
    /// image runs as published), needs no network at start, and the bytes are fixed in the
    /// output, so a test or a review sees exactly what the pods trust.
    pub(super) fn ca_bundle(&mut self) {
        let (Some(name), Some(db)) = (self.ca_bundle_name(), &self.r.database) else { return };
        let config_map = ConfigMap {
            metadata: meta(&name, self.ns(), self.labels()),
            data: Some(map(&[(RDS_CA_FILE, RDS_CA_BUNDLE)])),
            ..ConfigMap::default()
        };
        let comment = format!(
            "The Amazon RDS certificate authorities (every commercial region's roots still valid when\nvendored; targets/certificates/README.md in archc says from where), mounted read-only at\n{RDS_CA_PATH} in the `{}` pods: the DSN to `{}` says sslmode=verify-full\nand sslrootcert={RDS_CA_PATH}, so the client checks the server's certificate and\nhost name. A new bundle comes with a new archc output; the kubelet updates the mounted file in\nplace and the driver reads it at each new connection.",
            self.i.app.node,
            self.i.id(db.dep.node)
        );
        self.objects.push(object(
            20,
            &config_map,
            Some(self.i.id(db.dep.node)),
            &comment,
            "the Amazon RDS CA bundle the DSN verifies the server with",
        ));
    }

    pub(super) fn env(&self) -> Vec<EnvVar> {
        let (i, r) = (self.i, self.r);
        let d = &i.profile.deploy;
        let mut ctx = json!({
            "name": r.name,
            "namespace": r.namespace,
            "project": i.settings.project,
            "port": i.app.port,
            "region": i.settings.region,
            "host": r.host,
        });
        let mut sets = vec![&d.env.always];
        if let Some(db) = &r.database {
            ctx["database"] = json!({"driver": db.driver});
            sets.push(&d.env.database);
        }
        if let Some((_, bucket)) = &r.bucket {
            ctx["bucket"] = json!(bucket);
            ctx["s3_endpoint"] = json!(s3_endpoint(&i.settings.region));
            sets.push(&d.env.s3);
        } else if r.efs.is_some() && d.local_file_store.is_some() {
            sets.push(&d.env.local_file_store);
        }
        if let Some(c) = &r.cache {
            ctx["cache"] = json!({"address": c.address, "port": c.port, "tls": c.tls.to_string()});
            sets.push(&d.env.cache);
        }
        if r.cluster {
            sets.push(&d.env.cluster);
        }
        if let Some((host, port, security)) = self.smtp() {
            ctx["smtp"] = json!({"host": host, "port": port, "security": security});
            sets.push(&d.env.email);
        }
        let mut env = Vec::new();
        for set in sets {
            for (name, value) in set {
                env.push(match value {
                    EnvValue::Value(t) => {
                        EnvVar { name: name.clone(), value: Some(render(t, &ctx)), ..EnvVar::default() }
                    }
                    EnvValue::Secret { secret } => EnvVar {
                        name: name.clone(),
                        value_from: Some(EnvVarSource {
                            secret_key_ref: Some(SecretKeySelector {
                                name: r.database.as_ref().map(|db| db.secret.clone()).unwrap_or_default(),
                                key: secret.clone(),
                                optional: None,
                            }),
                            ..EnvVarSource::default()
                        }),
                        ..EnvVar::default()
                    },
                });
            }
        }
        if let Some(db) = &r.database {
            for (name, value) in &db.driver_env {
                env.push(EnvVar { name: name.clone(), value: Some(value.clone()), ..EnvVar::default() });
            }
        }
        if let Some(role) = &r.role {
            // what the EKS pod identity webhook would inject; with these present it changes nothing
            for (name, value) in [
                ("AWS_ROLE_ARN", role.as_str()),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", &format!("{IRSA_TOKEN_DIR}/token")),
                ("AWS_ROLE_SESSION_NAME", &r.name),
                ("AWS_REGION", &i.settings.region),
                ("AWS_DEFAULT_REGION", &i.settings.region),
                ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
            ] {
                env.push(EnvVar { name: name.into(), value: Some(value.to_string()), ..EnvVar::default() });
            }
        }
        env
    }
}
