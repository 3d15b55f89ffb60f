//! What the workload uses, resolved to names and placeholders.

use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::plan::kubernetes::Placeholders;
use crate::plan::names::{kebab, pascal};
use crate::plan::StackId;

use super::{CacheUse, DatabaseUse, Input, Resolved};

impl Input<'_> {
    pub(super) fn id(&self, n: NodeIndex) -> &str {
        &self.graph.component(n).id
    }

    /// The application's name for people: its profile's, else the workload box's label.
    pub(super) fn display(&self) -> String {
        match self.app.profile {
            Some(p) => p.name.clone(),
            None => self
                .graph
                .node(&self.app.node)
                .map(|n| self.graph.component(n).label.replace("<br>", " "))
                .filter(|l| !l.trim().is_empty())
                .unwrap_or_else(|| self.app.node.clone()),
        }
    }

    /// The CIDR placeholders of the subnet box around `n`; else of every subnet box of
    /// `tier`; else the VPC's.
    pub(super) fn subnet_cidrs(&self, n: NodeIndex, tier: &str, ph: &mut Placeholders<'_>) -> Vec<String> {
        let subnets = crate::plan::lower::drawn_subnets(self.graph, self.settings, n, tier);
        if subnets.is_empty() {
            return vec![ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block")];
        }
        subnets
            .into_iter()
            .map(|(logical, owner, tier, az)| {
                ph.output(
                    &format!("{logical}Cidr"),
                    StackId::Network,
                    &format!("CIDR of the {tier} subnet `{owner}` in AZ {az}"),
                )
            })
            .collect()
    }

    pub(super) fn resolve(&self, ph: &mut Placeholders<'_>, findings: &mut Vec<Diagnostic>) -> Resolved {
        let (g, s, app, w) = (self.graph, self.settings, self.app, self.wiring);
        let host = match &s.domain {
            Some(d) => d.clone(),
            None => ph.deploy(
                "Domain",
                "the public DNS name of the site (configuration `domain`), e.g. chat.example.com",
                json!({"config": {"key": "domain"}}),
            ),
        };
        // the registry CI pushes to, else the diagram's only one
        let registry = g
            .connections()
            .find(|(_, a, b, c)| {
                c.meaning == "pushes" && g.component(*a).category() == Some("ci") && g.component(*b).is("aws.ecr")
            })
            .map(|(_, _, b, _)| b)
            .or_else(|| g.of_kind("aws.ecr").next());
        let image = match registry {
            Some(r) => {
                let p = pascal(self.id(r));
                let uri = ph.output(
                    &format!("{p}RepositoryUri"),
                    StackId::Ci,
                    &format!("URI of the ECR repository `{}` CI pushes to", self.id(r)),
                );
                let repository = format!("{p}RepositoryName");
                let tag = ph.deploy(
                    "ImageTag",
                    "the git commit SHA CI built and pushed (the image tag)",
                    json!({"image_tag": {"repository_output": repository}}),
                );
                let digest = ph.deploy(
                    "ImageDigest",
                    "the digest (sha256:...) of that image in ECR (`aws ecr describe-images`); CI sets it with `kubectl set image`",
                    json!({"image_digest": {"repository_output": repository, "tag": "ImageTag"}}),
                );
                format!("{uri}:{tag}@{digest}")
            }
            None => match &app.base_image {
                Some(image) if image.contains('@') => image.clone(),
                Some(image) => {
                    let digest = ph.deploy(
                        "ImageDigest",
                        &format!("the digest (sha256:...) of `{image}` (no registry is drawn: the image runs as published)"),
                        json!({"image_digest": {"image": image}}),
                    );
                    format!("{image}@{digest}")
                }
                None => ph.deploy(
                    "Image",
                    "the image the workload runs, by digest (`repository@sha256:...`): the diagram and its configuration name none",
                    json!({"config": {"key": "app.image"}}),
                ),
            },
        };
        let role = (!w.apis.is_empty()).then(|| {
            let apis: Vec<&str> = w.apis.iter().map(|&n| self.id(n)).collect();
            ph.output(
                &format!("{}RoleArn", pascal(&app.node)),
                StackId::Data,
                &format!("IAM role (IRSA) of the `{}` pods, for its arrows to {}", app.node, apis.join(", ")),
            )
        });
        if w.databases.len() > 1 {
            let others: Vec<&str> = w.databases[1..].iter().map(|d| self.id(d.node)).collect();
            findings.push(
                Diagnostic::new(
                    codes::PLAN_UNSUPPORTED,
                    Severity::Info,
                    format!(
                        "`{}` is wired to its first database `{}` only; {} get no connection settings",
                        app.node,
                        self.id(w.databases[0].node),
                        others.join(", ")
                    ),
                )
                .with_primary(g.connection(w.databases[1].edge).span, "not wired into the application"),
            );
        }
        let database = w.databases.first().map(|dep| {
            let c = g.component(dep.node);
            let p = pascal(&c.id);
            let engine = c.attr("engine").unwrap_or("postgres");
            let engine = if engine.contains("mysql") || engine.contains("maria") { "mysql" } else { "postgres" };
            let ds = self
                .profile
                .deploy
                .datasource
                .get(engine)
                .or_else(|| self.profile.deploy.datasource.values().next())
                .unwrap_or_else(|| unreachable!("profiles have a datasource (tested)"));
            let secret_arn = format!("{p}SecretArn");
            let address = format!("{p}EndpointAddress");
            let port = format!("{p}EndpointPort");
            let dbname = format!("{p}DatabaseName");
            // PostgreSQL with the secret sync: the application's own user, whose DSN the sync writes
            let sync = ph.has_output(&crate::plan::lower::secret_sync::role_output(&app.node));
            let app_user = ph
                .has_output(&crate::plan::lower::secret_sync::app_user_output(&c.id))
                .then(|| s.db_app_user.clone());
            // the master user: the DSN and its version are deploy-time values, and a warning
            // at the arrow says no application user is built
            let deploy_time = app_user.is_none().then(|| {
                let data_source = ph.deploy(
                    &format!("{p}DataSource"),
                    &format!(
                        "the DSN `{}`, built at deploy time from the RDS-managed secret (data stack output `{secret_arn}`; user and password URL-encoded where the template says `<user>`, `<password>`, as they are where it says `:raw`), host `{address}`, port `{port}` and database `{dbname}` (data stack outputs); never written to disk",
                        ds.dsn
                    ),
                    json!({"dsn": {
                        "template": ds.dsn,
                        "secret_output": secret_arn,
                        "host_output": address,
                        "port_output": port,
                        "database_output": dbname,
                    }}),
                );
                let (message, help) = if sync {
                    (
                        format!(
                            "`{}` connects to `{}` as its RDS master user: a dedicated application user is not built (the CronJob {}-db-secret-sync keeps the DSN in step with the master secret's rotations)",
                            app.node, c.id, app.name
                        ),
                        "to separate the users, create a role owning only the application's database and pass its DSN with `archc deploy --set` (kubernetes/README.md, \"Database secret\")",
                    )
                } else {
                    (
                        format!(
                            "`{}` connects to `{}` as its RDS master user, and nothing refreshes the DSN when RDS rotates that password (every 7 days): a dedicated application user and a secret sync are not built for this diagram",
                            app.node, c.id
                        ),
                        "run `archc deploy` again after each rotation (it re-reads the secret and rolls the pods); to separate the users, create a role owning only the application's database and pass its DSN with `archc deploy --set` (kubernetes/README.md, \"Database secret\")",
                    )
                };
                findings.push(
                    Diagnostic::new(codes::PLAN_UNSUPPORTED, Severity::Warning, message)
                        .with_primary(g.connection(dep.edge).span, "connects as the master user")
                        .with_help(help),
                );
                let version = ph.deploy(
                    &format!("{p}SecretVersionId"),
                    &format!("the Secrets Manager VersionId of `{secret_arn}` the DSN was built from (rolls the pods after a rotation)"),
                    json!({"secret_version": {"secret_output": secret_arn}}),
                );
                (data_source, version)
            });
            let (data_source, version) = deploy_time.unzip();
            DatabaseUse {
                dep: dep.clone(),
                secret: format!("{}-{}", app.name, kebab(&c.id, 20)),
                driver: ds.driver.clone(),
                dsn_template: ds.dsn.clone(),
                data_source,
                version,
                // the application user's sync verifies the server with it, whatever the driver does
                ca_bundle: app_user.is_some()
                    || ds.dsn.contains(super::RDS_CA_PATH)
                    || ds.env.values().any(|v| v.split(':').any(|d| d == super::RDS_CA_DIR)),
                driver_env: ds.env.clone(),
                sync,
                app_user,
            }
        });
        let bucket = w.buckets.first().map(|&b| {
            let name = ph.output(
                &format!("{}BucketName", pascal(self.id(b))),
                StackId::Data,
                &format!("name of the S3 bucket `{}`", self.id(b)),
            );
            (b, name)
        });
        let edition = app.profile.and_then(|p| app.edition.as_ref().and_then(|e| p.editions.get(e)));
        let cache_allowed = edition.is_none_or(|e| e.cache);
        let cache = w.caches.first().filter(|_| cache_allowed).map(|dep| {
            let p = pascal(self.id(dep.node));
            CacheUse {
                dep: dep.clone(),
                address: ph.output(
                    &format!("{p}PrimaryEndpointAddress"),
                    StackId::Data,
                    &format!("primary endpoint of the cache `{}`", self.id(dep.node)),
                ),
                port: ph.output(
                    &format!("{p}PrimaryEndpointPort"),
                    StackId::Data,
                    &format!("port of the cache `{}`", self.id(dep.node)),
                ),
                tls: s.cache_transit_encryption != "disabled",
            }
        });
        let efs = w.efs.map(|n| {
            let id = ph.output(
                &format!("{}FileSystemId", pascal(self.id(n))),
                StackId::Data,
                &format!("id (fs-...) of the EFS file system `{}`", self.id(n)),
            );
            (n, id)
        });
        let max_replicas = edition.map_or(u32::MAX, |e| e.max_replicas);
        Resolved {
            name: app.name.clone(),
            namespace: s.namespace.clone(),
            container: self.profile.deploy.container.clone(),
            host,
            image,
            registry,
            role,
            database,
            bucket,
            cache,
            efs,
            cluster: app.replicas > 1 && max_replicas > 1 && edition.is_some(),
            max_replicas,
        }
    }
}
