//! The database secret sync: RDS rotates the managed master secret the DSN is built from
//! (every 7 days by default) and the password changes at once. A CronJob beside the workload
//! runs `targets/kubernetes/db-secret-sync.py` every 15 minutes: it reads the secret's current
//! version with its own IRSA role (data stack, `plan::lower::secret_sync`), and when the
//! Deployment's pods were started from another version it rewrites the DSN in the workload's
//! Secret and the version annotation of the pod template, which rolls the pods.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile, ServiceAccount, Volume,
    VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::plan::kubernetes::Placeholders;
use crate::plan::lower::secret_sync::service_account;
use crate::plan::names::pascal;
use crate::plan::StackId;

use super::{
    map, meta, object, q, selector, Builder, IRSA_TOKEN_DIR, IRSA_TOKEN_VOLUME, SECRET_VERSION_ANNOTATION,
    USER_VERSION_ANNOTATION,
};

/// The sync itself, as data: Python's standard library only, so a stock image runs it.
pub(crate) const SCRIPT: &str = include_str!("../../../../targets/kubernetes/db-secret-sync.py");
const SCRIPT_FILE: &str = "db-secret-sync.py";
/// Every 15 minutes: a rotated password fails new connections until the pods restart, so the
/// window is short; a run is one GetSecretValue and one GET of the Deployment.
const SCHEDULE: &str = "*/15 * * * *";
/// The user the sync runs as (the image's root is never used).
const UID: i64 = 65534;

impl Builder<'_, '_> {
    /// The sync's objects; a finding when its image cannot be pulled as drawn.
    pub(super) fn secret_sync(&mut self, ph: &mut Placeholders<'_>) -> Option<Diagnostic> {
        let (i, r) = (self.i, self.r);
        let db = r.database.as_ref()?;
        if !db.sync {
            return None;
        }
        let role_output = crate::plan::lower::secret_sync::role_output(&i.app.node);
        let db_id = i.id(db.dep.node).to_string();
        let dp = pascal(&db_id);
        let role = ph.output(
            &role_output,
            StackId::Data,
            &format!("IRSA role of the database secret sync of `{}`: reads the secret of `{db_id}`", i.app.node),
        );
        let secret_arn = ph.output(
            &format!("{dp}SecretArn"),
            StackId::Data,
            &format!("RDS-managed master user secret of `{db_id}` (keys username, password)"),
        );
        let host = ph.output(&format!("{dp}EndpointAddress"), StackId::Data, &format!("endpoint host of `{db_id}`"));
        let port = ph.output(&format!("{dp}EndpointPort"), StackId::Data, &format!("port of `{db_id}`"));
        let dbname = ph.output(&format!("{dp}DatabaseName"), StackId::Data, &format!("database name in `{db_id}`"));
        // PostgreSQL: the application's own user, made by the sync as the master user
        let app_secret = db.app_user.as_ref().map(|user| {
            ph.output(
                &crate::plan::lower::secret_sync::app_user_output(&db_id),
                StackId::Data,
                &format!("secret of the database user {user} of `{}` (keys username, password)", i.app.node),
            )
        });
        let db_cidrs = app_secret.as_ref().map(|_| i.subnet_cidrs(db.dep.node, "data", ph));
        let name = service_account(&r.name);
        let ns = r.namespace.clone();
        let labels = map(&[
            ("app.kubernetes.io/name", &name),
            ("app.kubernetes.io/component", "db-secret-sync"),
            ("app.kubernetes.io/part-of", &i.settings.project),
            ("app.kubernetes.io/managed-by", "archc"),
        ]);
        let node = Some(db_id.as_str());

        // its identity: the IRSA role, and an API token for the two objects it writes
        let mut sa_meta = meta(&name, Some(&ns), labels.clone());
        sa_meta.annotations = Some(map(&[("eks.amazonaws.com/role-arn", &role)]));
        let sa = ServiceAccount { metadata: sa_meta, ..ServiceAccount::default() };
        self.objects.push(object(
            46,
            &sa,
            node,
            &format!(
                "Identity of the database secret sync of `{}`: IRSA (data stack output {role_output}: reads the\n{} of `{db_id}` and nothing else) and a Kubernetes API token for the Role below.",
                i.app.node,
                if app_secret.is_some() { "master secret and the application user's secret" } else { "secret" }
            ),
            "the secret sync's identity (IRSA)",
        ));
        let rule = |resource: &str, group: &str, verbs: &[&str], names: &[&str]| PolicyRule {
            api_groups: Some(vec![group.to_string()]),
            resources: Some(vec![resource.to_string()]),
            resource_names: Some(names.iter().map(|s| s.to_string()).collect()),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            ..PolicyRule::default()
        };
        let k8s_role = Role {
            metadata: meta(&name, Some(&ns), labels.clone()),
            rules: Some(vec![
                // with its own user the sync reads its record of what it applied (an annotation)
                rule("secrets", "", if app_secret.is_some() { &["get", "patch"] } else { &["patch"] }, &[&db.secret]),
                rule("deployments", "apps", &["get", "patch"], &[&r.name]),
            ]),
        };
        self.objects.push(object(
            46,
            &k8s_role,
            node,
            &if app_secret.is_some() {
                format!(
                    "What the sync may do in the cluster: read and patch the Secret {} (the DSN it writes and its\nannotation {USER_VERSION_ANNOTATION}) and read and patch the Deployment {} (its pod-template\nannotation {SECRET_VERSION_ANNOTATION}); nothing else.",
                    db.secret, r.name
                )
            } else {
                format!(
                    "What the sync may do in the cluster: patch the Secret {} (it never reads it) and read and\npatch the Deployment {} (its pod-template annotation {SECRET_VERSION_ANNOTATION}); nothing else.",
                    db.secret, r.name
                )
            },
            "the secret sync's Role: one Secret, one Deployment",
        ));
        let binding = RoleBinding {
            metadata: meta(&name, Some(&ns), labels.clone()),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: name.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: name.clone(),
                namespace: Some(ns.clone()),
                ..Subject::default()
            }]),
        };
        self.objects.push(object(
            46,
            &binding,
            node,
            "The Role above, for the sync's ServiceAccount.",
            "the secret sync's RoleBinding",
        ));

        // the script, readable in the output
        let script = ConfigMap {
            metadata: meta(&name, Some(&ns), labels.clone()),
            data: Some(map(&[(SCRIPT_FILE, SCRIPT)])),
            ..ConfigMap::default()
        };
        self.objects.push(object(
            46,
            &script,
            node,
            "The sync (archc's targets/kubernetes/db-secret-sync.py): Python's standard library only. It\nsigns its Secrets Manager call with SigV4 itself and prints no secret.",
            "the secret sync's script",
        ));

        // its way out: DNS, then 443 to STS, Secrets Manager and the Kubernetes API server
        let tcp = |p: i32| NetworkPolicyPort {
            protocol: Some("TCP".into()),
            port: Some(IntOrString::Int(p)),
            ..NetworkPolicyPort::default()
        };
        let mut egress = vec![
            super::network_policy::dns_egress(),
            NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr: "0.0.0.0/0".into(), except: None }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(443)]),
            },
        ];
        if let Some(cidrs) = &db_cidrs {
            egress.push(NetworkPolicyEgressRule {
                to: Some(super::network_policy::ip_blocks(cidrs.clone())),
                ports: Some(vec![tcp(i32::from(db.dep.port))]),
            });
        }
        let policy = NetworkPolicy {
            metadata: meta(&format!("{name}-egress"), Some(&ns), labels.clone()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&labels)),
                policy_types: Some(vec!["Egress".into()]),
                egress: Some(egress),
                ..NetworkPolicySpec::default()
            }),
        };
        self.objects.push(object(
            47,
            &policy,
            node,
            &format!(
                "Egress of the secret sync: DNS to CoreDNS, and TCP 443 to STS and Secrets Manager (public\naddresses, or VPC endpoints when drawn) and to the EKS API server's endpoint in the VPC, hence\n0.0.0.0/0{}. Nothing comes in.",
                if db_cidrs.is_some() {
                    format!(";\nTCP {} to the database's subnets (it connects as the master user to manage the\napplication's user)", db.dep.port)
                } else {
                    String::new()
                }
            ),
            if db_cidrs.is_some() {
                "egress of the secret sync: DNS, 443 and the database"
            } else {
                "egress of the secret sync: DNS and 443"
            },
        ));

        // the CronJob
        let var = |k: &str, v: &str| EnvVar { name: k.into(), value: Some(v.into()), ..EnvVar::default() };
        let dsn = db.dsn_template.clone();
        let region = &i.settings.region;
        let mut env = vec![
            var("AWS_REGION", region),
            var("AWS_DEFAULT_REGION", region),
            var("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
            var("AWS_ROLE_ARN", &role),
            var("AWS_WEB_IDENTITY_TOKEN_FILE", &format!("{IRSA_TOKEN_DIR}/token")),
            var("AWS_ROLE_SESSION_NAME", &name),
            var("SECRET_ARN", &secret_arn),
            var("DB_HOST", &host),
            var("DB_PORT", &port),
            var("DB_NAME", &dbname),
            var("DSN_TEMPLATE", &dsn),
            var("SECRET_NAME", &db.secret),
            var("SECRET_KEY", "datasource"),
            var("DEPLOYMENT_NAME", &r.name),
            var("VERSION_ANNOTATION", SECRET_VERSION_ANNOTATION),
            EnvVar {
                name: "POD_NAMESPACE".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector { field_path: "metadata.namespace".into(), api_version: None }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
            var("PYTHONDONTWRITEBYTECODE", "1"),
        ];
        if let Some(arn) = &app_secret {
            env.extend([
                var("APP_SECRET_ARN", arn),
                var("USER_ANNOTATION", USER_VERSION_ANNOTATION),
                var("DB_CA_FILE", super::RDS_CA_PATH),
            ]);
        }
        let python = crate::plan::versions::default("python").unwrap_or("3.14");
        let configured = i.settings.app_config.secret_sync_image.clone();
        let image =
            configured.clone().unwrap_or_else(|| format!("public.ecr.aws/docker/library/python:{python}-alpine"));
        let seccomp = || Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None });
        let resources = Some([("cpu".to_string(), q("100m")), ("memory".to_string(), q("64Mi"))].into_iter().collect());
        // it verifies the database's certificate as the application does (verify-full)
        let ca = app_secret.as_ref().and_then(|_| self.ca_bundle_name());
        let container = Container {
            name: "sync".into(),
            image: Some(image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(vec!["python3".into(), format!("/opt/archc/{SCRIPT_FILE}")]),
            env: Some(env),
            resources: Some(ResourceRequirements {
                requests: resources.clone(),
                limits: resources,
                ..ResourceRequirements::default()
            }),
            security_context: Some(super::restricted(UID, UID)),
            volume_mounts: Some(
                vec![
                    VolumeMount {
                        name: "script".into(),
                        mount_path: "/opt/archc".into(),
                        read_only: Some(true),
                        ..VolumeMount::default()
                    },
                    VolumeMount {
                        name: IRSA_TOKEN_VOLUME.into(),
                        mount_path: IRSA_TOKEN_DIR.into(),
                        read_only: Some(true),
                        ..VolumeMount::default()
                    },
                    VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() },
                ]
                .into_iter()
                .chain(ca.as_ref().map(|_| VolumeMount {
                    name: "rds-ca".into(),
                    mount_path: super::RDS_CA_DIR.into(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                }))
                .collect(),
            ),
            ..Container::default()
        };
        let pod = PodSpec {
            service_account_name: Some(name.clone()),
            automount_service_account_token: Some(true),
            enable_service_links: Some(false),
            restart_policy: Some("Never".into()),
            node_selector: Some(map(&[("kubernetes.io/os", "linux")])),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(UID),
                run_as_group: Some(UID),
                run_as_non_root: Some(true),
                seccomp_profile: seccomp(),
                ..PodSecurityContext::default()
            }),
            containers: vec![container],
            volumes: Some(
                vec![
                    Volume {
                        name: "script".into(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: name.clone(),
                            ..ConfigMapVolumeSource::default()
                        }),
                        ..Volume::default()
                    },
                    super::irsa_volume(3600),
                    Volume {
                        name: "tmp".into(),
                        empty_dir: Some(EmptyDirVolumeSource { size_limit: Some(q("16Mi")), medium: None }),
                        ..Volume::default()
                    },
                ]
                .into_iter()
                .chain(ca.map(|name| Volume {
                    name: "rds-ca".into(),
                    config_map: Some(ConfigMapVolumeSource { name, ..ConfigMapVolumeSource::default() }),
                    ..Volume::default()
                }))
                .collect(),
            ),
            ..PodSpec::default()
        };
        let job = CronJob {
            metadata: meta(&name, Some(&ns), labels.clone()),
            spec: Some(CronJobSpec {
                schedule: SCHEDULE.into(),
                time_zone: Some("Etc/UTC".into()),
                concurrency_policy: Some("Forbid".into()),
                starting_deadline_seconds: Some(300),
                successful_jobs_history_limit: Some(1),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        backoff_limit: Some(2),
                        active_deadline_seconds: Some(300),
                        ttl_seconds_after_finished: Some(3600),
                        template: PodTemplateSpec {
                            metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                            spec: Some(pod),
                        },
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            ..CronJob::default()
        };
        let comment = format!(
            "Keeps the DSN of `{app}` in step with the RDS-managed secret of `{db_id}`, which RDS rotates\n(every 7 days by default; the password changes at once, so new connections fail until the pods\nrestart with the new one). Every 15 minutes (UTC) it reads the secret's version; when the\nDeployment {deployment} was started from another one (pod-template annotation\n{SECRET_VERSION_ANNOTATION}, which the deploy sets too), it writes the new DSN into the Secret\n{secret} and the new version into that annotation, which rolls the pods. A run that finds them\nequal changes nothing. concurrencyPolicy Forbid, 2 retries, 5 minutes at most. Runs as uid\n{UID}, read-only root file system, all capabilities dropped. Its image comes from the ECR Public\nGallery's Docker official images (through the NAT gateway). A failed run shows in `kubectl get\njobs -n {ns}`; `kubectl create job --from=cronjob/{name} {name}-now -n {ns}` runs one at once.",
            app = i.app.node,
            deployment = r.name,
            secret = db.secret,
        );
        let comment = match (&db.app_user, &app_secret) {
            (Some(user), Some(_)) => format!(
                "Gives `{app}` a database user of its own, {user}, and keeps its DSN in step with it. It reads\nthe application user's secret (data stack); when its version differs from the one the Secret\n{secret} records (annotation {USER_VERSION_ANNOTATION}), or the Secret has no DSN yet, it reads\nthe RDS-managed master secret of `{db_id}`, connects as the master user over TLS verifying the\nserver (the RDS CA bundle, as the application does), and in one transaction creates the role\n{user} if it is missing, sets its password (a SCRAM verifier computed here: the password never\nreaches the server or its logs), makes it the owner of the application's database and of the\nmaster's tables in its schema public, and revokes PUBLIC's access to that database. Then it\nwrites the DSN into the Secret and the version into the pod-template annotation\n{SECRET_VERSION_ANNOTATION} of {deployment}, which rolls the pods. The master's own rotation\n(RDS, every 7 days) no longer touches the application. `archc deploy` runs it once right after\napplying it; then every 15 minutes (UTC); a run that finds nothing changed connects to nothing.\nconcurrencyPolicy Forbid, 2 retries, 5 minutes at most. Runs as uid {UID}, read-only root\nfile system, all capabilities dropped. Its image comes from the ECR Public Gallery's Docker\nofficial images (through the NAT gateway). A failed run shows in `kubectl get jobs -n {ns}`;\n`kubectl create job --from=cronjob/{name} {name}-now -n {ns}` runs one at once.",
                app = i.app.node,
                deployment = r.name,
                secret = db.secret,
            ),
            _ => comment,
        };
        let mut cron = object(48, &job, node, &comment, "the database secret sync, every 15 minutes");
        cron.run_at_deploy = app_secret.is_some();
        self.objects.push(cron);
        // VPC endpoints and no NAT gateway: nothing reaches the ECR Public Gallery
        let g = i.graph;
        let no_way_out =
            g.of_kind("aws.vpc-endpoint").next().is_some() && g.of_kind("aws.nat-gateway").next().is_none();
        (no_way_out && configured.is_none()).then(|| {
            Diagnostic::new(
                codes::PLAN_ASSUMED,
                Severity::Warning,
                format!(
                    "the database secret sync of `{}` runs the image public.ecr.aws/docker/library/python:{python}-alpine, and this diagram draws VPC endpoints but no NAT gateway: its nodes cannot pull it",
                    i.app.node
                ),
            )
            .with_primary(g.connection(db.dep.edge).span, "its DSN is kept in step by the sync")
            .with_help(
                "copy it into an ECR repository of the account (`docker pull`, `docker tag`, `docker push`) and set `app: {secret_sync_image: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>}`, or draw a NAT gateway; until then run `archc deploy` again after each rotation (kubernetes/README.md, \"Database secret\")"
            )
        })
    }
}
