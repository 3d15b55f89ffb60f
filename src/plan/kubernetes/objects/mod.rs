//! The objects themselves, as k8s-openapi values serialised to JSON.

mod attached;
mod config;
mod identity;
mod network_policy;
mod nlb;
pub(super) mod others;
mod resolve;
mod secret_sync;
mod service;
mod stateful;
mod storage;
mod workload;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use petgraph::stable_graph::NodeIndex;
use serde_json::{Map, Value};

use super::profile::Profile;
use super::wiring::{Dependency, Wiring};
use super::{Object, Placeholders, WorkloadNames};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::ArchGraph;
use crate::plan::settings::AppSettings;
use crate::plan::Settings;
use crate::yaml::COMMENT;

/// The AWS Load Balancer Controller's names (its Helm chart's defaults).
pub(crate) const LBC_NAME: &str = "aws-load-balancer-controller";
const LBC_NAMESPACE: &str = "kube-system";
/// Where the EKS pod identity webhook mounts the IRSA token; archc mounts it there itself.
const IRSA_TOKEN_DIR: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
const IRSA_TOKEN_VOLUME: &str = "aws-iam-token";
/// The pod annotation that carries the database secret's version: a new value rolls the pods.
pub(crate) const SECRET_VERSION_ANNOTATION: &str = "archc/db-secret-version";
/// On the database Secret: the version of the application user's secret the sync last set in
/// the database and wrote into the DSN (its own record, which no apply touches).
pub(crate) const USER_VERSION_ANNOTATION: &str = "archc/db-user-version";
/// Where the pods find the Amazon RDS certificate authorities, for `sslmode=verify-full`: a
/// DSN template of a profile that names this file gets the bundle mounted from a ConfigMap.
pub(crate) const RDS_CA_PATH: &str = "/etc/ssl/rds/rds-ca-bundle.pem";
pub(crate) const RDS_CA_DIR: &str = "/etc/ssl/rds";
const RDS_CA_FILE: &str = "rds-ca-bundle.pem";
/// The Amazon RDS root certificate authorities of every commercial region, still valid when
/// vendored (targets/certificates/README.md says from where and how to refresh them).
const RDS_CA_BUNDLE: &str = include_str!("../../../../targets/certificates/rds-ca-bundle.pem");

pub(crate) struct Input<'a> {
    pub(crate) graph: &'a ArchGraph,
    pub(crate) settings: &'a Settings,
    pub(crate) app: &'a AppSettings,
    pub(crate) profile: &'static Profile,
    pub(crate) wiring: &'a Wiring,
}

pub(crate) struct Built {
    pub(crate) objects: Vec<Object>,
    pub(crate) helm: Vec<(String, Value)>,
    pub(crate) findings: Vec<Diagnostic>,
    /// `None` when CI builds the repository's own Dockerfile (no base image is known).
    pub(crate) dockerfile: Option<String>,
    pub(crate) names: WorkloadNames,
    pub(crate) registry: Option<String>,
}

/// What the workload uses, resolved to names and placeholders.
struct Resolved {
    name: String,
    namespace: String,
    container: String,
    host: String,
    image: String,
    registry: Option<NodeIndex>,
    /// The IRSA role, when the workload calls AWS APIs.
    role: Option<String>,
    database: Option<DatabaseUse>,
    /// The file-store bucket.
    bucket: Option<(NodeIndex, String)>,
    cache: Option<CacheUse>,
    /// EFS: (node, file system id).
    efs: Option<(NodeIndex, String)>,
    /// Several replicas working as a cluster.
    cluster: bool,
    max_replicas: u32,
}

struct DatabaseUse {
    dep: Dependency,
    secret: String,
    driver: String,
    /// The profile's DSN template for the driver (slots `<user>`, `<password>`, ...).
    dsn_template: String,
    /// The deploy-time DSN placeholder; `None` when the secret sync writes the DSN (own user).
    data_source: Option<String>,
    /// The deploy-time secret version placeholder of the pod template; `None` as above.
    version: Option<String>,
    /// The DSN verifies the server against the RDS CA bundle (`RDS_CA_PATH`): the pods mount it.
    ca_bundle: bool,
    /// What the driver needs in the environment beside the DSN (the profile's).
    driver_env: BTreeMap<String, String>,
    /// The data stack has the secret sync's role, so the sync is built.
    sync: bool,
    /// The application's own database user (PostgreSQL), made and kept by the sync.
    app_user: Option<String>,
}

struct CacheUse {
    dep: Dependency,
    address: String,
    port: String,
    tls: bool,
}

fn q(s: &str) -> Quantity {
    Quantity(s.to_string())
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A label selector on `labels`.
fn selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector { match_labels: Some(labels.clone()), ..LabelSelector::default() }
}

fn meta(name: &str, namespace: Option<&str>, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

/// A comment never carries a placeholder (a rendered secret must not land in one). Its
/// paragraphs and `- ` items are reflowed to `WIDTH`; indented lines that continue neither are
/// kept as written (commands, examples).
pub(crate) fn comment_text(s: &str) -> String {
    const WIDTH: usize = 96;
    struct Para {
        text: String,
        lead: usize,
        cont: usize,
        pre: bool,
    }
    let mut paras: Vec<Para> = Vec::new();
    for line in s.replace("${", "$ {").lines() {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let bullet = trimmed.starts_with("- ");
        if let Some(p) = paras.last_mut() {
            if !bullet && !trimmed.is_empty() && !p.pre && !p.text.is_empty() && lead == p.cont {
                p.text.push(' ');
                p.text.push_str(trimmed);
                continue;
            }
        }
        let cont = if bullet { lead + 2 } else { lead };
        paras.push(Para { text: trimmed.to_string(), lead, cont, pre: lead > 0 && !bullet });
    }
    let mut out = Vec::new();
    for p in paras {
        if p.pre {
            out.push(format!("{}{}", " ".repeat(p.lead), p.text));
            continue;
        }
        let mut current = " ".repeat(p.lead);
        let mut empty = true;
        for word in p.text.split(' ') {
            if empty {
                current.push_str(word);
                empty = false;
            } else if current.len() + 1 + word.len() > WIDTH {
                out.push(std::mem::take(&mut current));
                current = format!("{}{word}", " ".repeat(p.cont));
            } else {
                current.push(' ');
                current.push_str(word);
            }
        }
        out.push(current);
    }
    out.join("\n")
}

/// A container's security context under Pod Security "restricted": runs as `uid`/`gid`
/// (never root), read-only root file system, no privilege escalation, every capability dropped,
/// seccomp RuntimeDefault.
fn restricted(uid: i64, gid: i64) -> k8s_openapi::api::core::v1::SecurityContext {
    use k8s_openapi::api::core::v1::{Capabilities, SeccompProfile, SecurityContext};
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        privileged: Some(false),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..SecurityContext::default()
    }
}

/// The IRSA token for audience sts.amazonaws.com, projected where the EKS pod identity webhook
/// would put it, valid `expiration` seconds (the kubelet renews it at 80%).
fn irsa_volume(expiration: i64) -> k8s_openapi::api::core::v1::Volume {
    use k8s_openapi::api::core::v1::{ProjectedVolumeSource, ServiceAccountTokenProjection, Volume, VolumeProjection};
    Volume {
        name: IRSA_TOKEN_VOLUME.into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some("sts.amazonaws.com".into()),
                    expiration_seconds: Some(expiration),
                    path: "token".into(),
                }),
                ..VolumeProjection::default()
            }]),
            default_mode: None,
        }),
        ..Volume::default()
    }
}

/// Serialise a k8s-openapi value into an [`Object`].
fn object<T>(order: u8, value: &T, node: Option<&str>, comment: &str, summary: &str) -> Object
where
    T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + serde::Serialize,
{
    let body = serde_json::to_value(value).unwrap_or_else(|e| unreachable!("k8s-openapi values serialise: {e}"));
    let mut with_comment = Map::new();
    with_comment.insert(COMMENT.into(), Value::String(comment_text(comment.trim_end())));
    if let Value::Object(fields) = body {
        with_comment.extend(fields);
    }
    let m = value.metadata();
    let name = m.name.clone().unwrap_or_default();
    Object {
        api_version: T::API_VERSION.to_string(),
        kind: T::KIND.to_string(),
        file: format!("{order:02}-{}-{name}.yaml", T::KIND.to_lowercase()),
        name,
        namespace: m.namespace.clone(),
        body: Value::Object(with_comment),
        node: node.map(str::to_string),
        summary: summary.to_string(),
        run_at_deploy: false,
    }
}

/// A MiniJinja template of a profile, rendered with undefined names as errors. The templates
/// are embedded data and their contexts are built here; the tests render every profile, so
/// no input reaches the panic.
#[allow(clippy::panic)]
fn render(template: &str, context: &Value) -> String {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.render_str(template, minijinja::Value::from(minijinja::value::Serde(context)))
        .unwrap_or_else(|e| panic!("application profile template `{template}` does not render: {e}"))
}

/// The S3 endpoint of a region.
fn s3_endpoint(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("s3.{region}.amazonaws.com.cn")
    } else {
        format!("s3.{region}.amazonaws.com")
    }
}

/// Build every object of the workload.
pub(crate) fn build(input: &Input<'_>, ph: &mut Placeholders<'_>) -> Built {
    let mut findings = Vec::new();
    let r = input.resolve(ph, &mut findings);
    let mut b = Builder { i: input, r: &r, objects: Vec::new(), helm: Vec::new() };
    b.namespace();
    let alb = input.wiring.alb(input.graph);
    let nlbs: Vec<NodeIndex> =
        input.wiring.load_balancers.iter().copied().filter(|&lb| nlb::is_nlb(input, lb)).collect();
    if alb.is_some() || !nlbs.is_empty() {
        b.controller_service_account(ph);
    }
    b.service_account();
    b.network_policies(ph);
    if b.smtp().is_none() && input.profile.deploy.smtp_port.is_some() {
        if let Some(n) = input.graph.node(&input.app.node) {
            findings.push(
                Diagnostic::new(
                    codes::PLAN_ASSUMED,
                    Severity::Info,
                    format!(
                        "email is off: `app.smtp` is not set, so {} sends no mail (password resets, notifications) and its NetworkPolicy opens no mail port",
                        input.display()
                    ),
                )
                .with_primary(input.graph.component(n).span, "no mail server configured")
                .with_help(format!(
                    "set `app: {{smtp: {{host: email-smtp.{}.amazonaws.com}}}}` (port {} unless `port:` says otherwise)",
                    input.settings.region,
                    input.profile.deploy.smtp_port.unwrap_or(587)
                )),
            );
        }
    }
    b.secret();
    b.ca_bundle();
    b.storage();
    b.deployment();
    findings.extend(b.secret_sync(ph));
    if input.wiring.service.is_some() || alb.is_some() {
        b.service();
    }
    b.disruption_budget();
    b.autoscaler();
    if let Some(alb) = alb {
        b.ingress(alb, ph);
    } else if let Some(ing) = input.wiring.ingress.filter(|_| !input.graph.draws_aws()) {
        b.generic_ingress(ing);
    }
    for &lb in &nlbs {
        let target = nlb::Target {
            node: &input.app.node,
            name: &r.name,
            namespace: &r.namespace,
            selector: b.selector_labels(),
            labels: b.labels(),
            port: input.app.port,
            policy: false,
        };
        b.objects.extend(nlb::objects(input, ph, lb, &target));
    }
    for &lb in &input.wiring.load_balancers {
        if !input.graph.component(lb).is("aws.alb") && !nlb::is_nlb(input, lb) {
            findings.push(
                Diagnostic::new(
                    codes::PLAN_UNSUPPORTED,
                    Severity::Info,
                    format!(
                        "archc exposes workloads through an ALB Ingress only; `{}` gets no Kubernetes object",
                        input.id(lb)
                    ),
                )
                .with_primary(input.graph.component(lb).span, "not wired to the workload"),
            );
        }
    }
    let Builder { objects, helm, .. } = b;
    Built {
        objects,
        helm,
        findings,
        // built by CI and pushed to ECR: nothing to build without AWS
        dockerfile: input
            .app
            .base_image
            .as_deref()
            .filter(|_| input.graph.draws_aws())
            .map(|base| dockerfile(input, base)),
        names: WorkloadNames {
            namespace: r.namespace.clone(),
            deployment: r.name.clone(),
            container: r.container.clone(),
            app: input.display(),
            health_path: input.app.health_path.clone(),
        },
        registry: r.registry.map(|n| input.id(n).to_string()),
    }
}

struct Builder<'a, 'b> {
    i: &'a Input<'b>,
    r: &'a Resolved,
    objects: Vec<Object>,
    helm: Vec<(String, Value)>,
}

impl Builder<'_, '_> {
    fn node(&self) -> Option<&str> {
        Some(self.i.app.node.as_str())
    }

    fn ns(&self) -> Option<&str> {
        Some(self.r.namespace.as_str())
    }

    /// `app.kubernetes.io/name` and `instance`: what selectors match.
    fn selector_labels(&self) -> BTreeMap<String, String> {
        map(&[("app.kubernetes.io/name", &self.r.name), ("app.kubernetes.io/instance", &self.r.name)])
    }

    fn labels(&self) -> BTreeMap<String, String> {
        let mut l = self.selector_labels();
        l.insert("app.kubernetes.io/part-of".into(), self.i.settings.project.clone());
        l.insert("app.kubernetes.io/managed-by".into(), "archc".into());
        l
    }

    fn pod_labels(&self) -> BTreeMap<String, String> {
        let mut l = self.labels();
        l.insert("app.kubernetes.io/component".into(), self.i.profile.deploy.component.clone());
        l
    }
}

/// The Dockerfile CI builds: the application's pinned upstream image.
fn dockerfile(i: &Input<'_>, base: &str) -> String {
    let user = format!("{}:{}", i.profile.user, i.profile.group);
    format!(
        "# The image of `{node}` ({app}), built by CI and pushed to ECR tagged with the\n# commit SHA (see .github/workflows/deploy.yml when the diagram draws GitHub Actions).\n# The base image is pinned by version; pin it by digest as well (FROM image:tag@sha256:...)\n# and let Dependabot or Renovate move both.\nFROM {base}\n\n# The Deployment runs the container as this user, non-root, with a read-only root file system.\nUSER {user}\nEXPOSE {port}\n",
        node = i.app.node,
        app = i.display(),
        base = base,
        port = i.app.port,
    )
}
