//! The objects themselves, as k8s-openapi values serialised to JSON.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, HTTPGetAction, Lifecycle,
    LifecycleHandler, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ProjectedVolumeSource, ResourceRequirements, SeccompProfile,
    Secret, SecretKeySelector, SecurityContext, Service, ServiceAccount, ServiceAccountTokenProjection, ServicePort,
    ServiceSpec, SleepAction, TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
    VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IPBlock, Ingress, IngressBackend, IngressRule, IngressServiceBackend,
    IngressSpec, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use petgraph::stable_graph::NodeIndex;
use serde_json::{json, Map, Value};

use super::profile::{EnvValue, Profile, SharedVolume};
use super::wiring::{Dependency, Wiring};
use super::{Object, Placeholders, WorkloadNames};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::ArchGraph;
use crate::plan::names::{kebab, pascal};
use crate::plan::settings::AppSettings;
use crate::plan::{Settings, StackId};
use crate::yaml::COMMENT;

/// The AWS Load Balancer Controller's names (its Helm chart's defaults).
pub(crate) const LBC_NAME: &str = "aws-load-balancer-controller";
const LBC_NAMESPACE: &str = "kube-system";
/// Where the EKS pod identity webhook mounts the IRSA token; archc mounts it there itself.
const IRSA_TOKEN_DIR: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
const IRSA_TOKEN_VOLUME: &str = "aws-iam-token";
/// The pod annotation that carries the database secret's version: a new value rolls the pods.
pub(crate) const SECRET_VERSION_ANNOTATION: &str = "archc/db-secret-version";

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
    data_source: String,
    version: String,
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

impl Input<'_> {
    fn id(&self, n: NodeIndex) -> &str {
        &self.graph.component(n).id
    }

    /// The application's name for people: its profile's, else the workload box's label.
    fn display(&self) -> String {
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
    fn subnet_cidrs(&self, n: NodeIndex, tier: &str, ph: &mut Placeholders<'_>) -> Vec<String> {
        let boxes: Vec<NodeIndex> = match self.graph.enclosing(n, "aws.subnet") {
            Some(s) => vec![s],
            None => self
                .graph
                .of_kind("aws.subnet")
                .filter(|&s| self.graph.component(s).attr("tier") == Some(tier))
                .collect(),
        };
        if boxes.is_empty() {
            return vec![ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block")];
        }
        let mut out = Vec::new();
        for s in boxes {
            let c = self.graph.component(s);
            for i in 1..=self.settings.az_count {
                let name = format!("{}Subnet{i}Cidr", pascal(&c.id));
                let tier = c.attr("tier").unwrap_or("app");
                out.push(ph.output(
                    &name,
                    StackId::Network,
                    &format!("CIDR of the {tier} subnet `{}` in AZ {i}", c.id),
                ));
            }
        }
        out
    }

    fn resolve(&self, ph: &mut Placeholders<'_>, findings: &mut Vec<Diagnostic>) -> Resolved {
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
            let data_source = ph.deploy(
                &format!("{p}DataSource"),
                &format!(
                    "the DSN `{}`, built at deploy time from the RDS-managed secret (data stack output `{secret_arn}`; user and password URL-encoded), host `{address}`, port `{port}` and database `{dbname}` (data stack outputs); never written to disk",
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
            let version = ph.deploy(
                &format!("{p}SecretVersionId"),
                &format!("the Secrets Manager VersionId of `{secret_arn}` the DSN was built from (rolls the pods after a rotation)"),
                json!({"secret_version": {"secret_output": secret_arn}}),
            );
            DatabaseUse {
                dep: dep.clone(),
                secret: format!("{}-{}", app.name, kebab(&c.id, 20)),
                driver: ds.driver.clone(),
                data_source,
                version,
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

/// Build every object of the workload.
pub(crate) fn build(input: &Input<'_>, ph: &mut Placeholders<'_>) -> Built {
    let mut findings = Vec::new();
    let r = input.resolve(ph, &mut findings);
    let mut b = Builder { i: input, r: &r, objects: Vec::new(), helm: Vec::new() };
    b.namespace();
    let alb = input.wiring.alb(input.graph);
    if alb.is_some() {
        b.controller_service_account(ph);
    }
    b.service_account();
    b.network_policies(ph);
    b.secret();
    b.storage();
    b.deployment();
    if input.wiring.service.is_some() || alb.is_some() {
        b.service();
    }
    b.disruption_budget();
    b.autoscaler();
    if let Some(alb) = alb {
        b.ingress(alb, ph);
    }
    for &lb in &input.wiring.load_balancers {
        if !input.graph.component(lb).is("aws.alb") {
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
        dockerfile: input.app.base_image.as_deref().map(|base| dockerfile(input, base)),
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

    fn namespace(&mut self) {
        let mut labels = map(&[
            ("app.kubernetes.io/part-of", &self.i.settings.project),
            ("app.kubernetes.io/managed-by", "archc"),
            ("pod-security.kubernetes.io/enforce", "restricted"),
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ]);
        labels.insert(
            "pod-security.kubernetes.io/enforce-version".into(),
            format!("v{}", self.i.settings.kubernetes_version),
        );
        let alb = self.i.wiring.alb(self.i.graph).is_some();
        if alb {
            labels.insert("elbv2.k8s.aws/pod-readiness-gate-inject".into(), "enabled".into());
        }
        let ns = Namespace { metadata: meta(&self.r.namespace, None, labels), ..Namespace::default() };
        let mut comment = format!(
            "Namespace of the workload `{}` (and what serves it).\n- pod-security.kubernetes.io/*: Pod Security Admission \"restricted\", which the pods meet\n  (non-root, seccomp RuntimeDefault, all capabilities dropped, no privilege escalation).",
            self.i.app.node
        );
        if alb {
            comment.push_str(
                "\n- elbv2.k8s.aws/pod-readiness-gate-inject: the AWS Load Balancer Controller adds a target-health\n  readiness gate to the pods, so a rollout waits until the ALB calls each new pod healthy\n  (target-type ip only, which the Ingress uses).",
            );
        }
        let o = object(0, &ns, self.node(), &comment, "the namespace, Pod Security Admission `restricted`");
        self.objects.push(o);
    }

    fn controller_service_account(&mut self, ph: &mut Placeholders<'_>) {
        let role = ph.output(
            "LoadBalancerControllerRoleArn",
            StackId::Cluster,
            "IAM role (IRSA) of the AWS Load Balancer Controller, with the controller's official IAM policy",
        );
        let cluster = ph.output("ClusterName", StackId::Cluster, "name of the EKS cluster");
        let vpc = ph.output("VpcId", StackId::Network, "id of the VPC");
        let labels = map(&[("app.kubernetes.io/name", LBC_NAME), ("app.kubernetes.io/managed-by", "archc")]);
        let mut m = meta(LBC_NAME, Some(LBC_NAMESPACE), labels);
        m.annotations = Some(map(&[("eks.amazonaws.com/role-arn", &role)]));
        let sa = ServiceAccount { metadata: m, ..ServiceAccount::default() };
        let node = self.i.wiring.controller.map(|n| self.i.id(n).to_string());
        let comment = format!(
            "ServiceAccount of the AWS Load Balancer Controller{}, created before its Helm release\n(helm/{LBC_NAME}.values.yaml: serviceAccount.create false) so that it carries the IRSA\nannotation (cluster stack output LoadBalancerControllerRoleArn). The controller calls the\nKubernetes API, so its API token stays mounted.",
            node.as_deref().map(|n| format!(" (diagram: `{n}`)")).unwrap_or_default()
        );
        self.objects.push(object(
            10,
            &sa,
            node.as_deref(),
            &comment,
            "the AWS Load Balancer Controller's identity (IRSA)",
        ));
        let header = format!(
            "Values of the chart eks/{LBC_NAME} (https://aws.github.io/eks-charts), release\n{LBC_NAME} in namespace {LBC_NAMESPACE}; install after the ServiceAccount and before\nthe Ingress (its webhook rejects Ingresses while it is not Ready):\n  helm upgrade --install {LBC_NAME} eks/{LBC_NAME} -n {LBC_NAMESPACE} \\\n    --version <pinned chart version> -f helm/{LBC_NAME}.values.yaml --wait --timeout 10m\n`helm upgrade` does not update CRDs: apply the chart's crds/ on upgrades.\nregion and vpcId are explicit so the controller never needs the instance metadata service;\ndefaultTargetType stays the chart default (the Ingress sets target-type ip itself); the\nService mutator webhook is off because archc emits no Service of type LoadBalancer."
        );
        let values = json!({
            COMMENT: comment_text(&header),
            "clusterName": cluster,
            "region": self.i.settings.region,
            "vpcId": vpc,
            "serviceAccount": {
                COMMENT: format!("the ServiceAccount of kubernetes/10-serviceaccount-{LBC_NAME}.yaml (IRSA)"),
                "create": false,
                "name": LBC_NAME,
            },
            "replicaCount": 2,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "ingressClass": "alb",
            "createIngressClassResource": true,
            "defaultTargetType": "instance",
            "enableServiceMutatorWebhook": false,
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "512Mi"},
            },
        });
        self.helm.push((format!("{LBC_NAME}.values.yaml"), values));
    }

    fn service_account(&mut self) {
        let mut m = meta(&self.r.name, self.ns(), self.labels());
        if let Some(role) = &self.r.role {
            m.annotations = Some(map(&[("eks.amazonaws.com/role-arn", role)]));
        }
        let sa =
            ServiceAccount { metadata: m, automount_service_account_token: Some(false), ..ServiceAccount::default() };
        let comment = match &self.r.role {
            Some(_) => format!(
                "Identity of the `{}` pods. IRSA: the role trusts system:serviceaccount:{}:{} (aud\nsts.amazonaws.com) and allows what the diagram's arrows to AWS APIs need. No Kubernetes API\ntoken is mounted (the application does not call the API); the IRSA token is a projected\nvolume of the Deployment.",
                self.i.app.node, self.r.namespace, self.r.name
            ),
            None => format!(
                "Identity of the `{}` pods: the diagram draws no arrow to an AWS API, so no IAM role;\nno Kubernetes API token either.",
                self.i.app.node
            ),
        };
        self.objects.push(object(11, &sa, self.node(), &comment, "the workload's identity (IRSA role annotation)"));
    }

    fn network_policies(&mut self, ph: &mut Placeholders<'_>) {
        let (i, r) = (self.i, self.r);
        let deny = NetworkPolicy {
            metadata: meta(
                "default-deny-all",
                self.ns(),
                map(&[("app.kubernetes.io/part-of", &i.settings.project), ("app.kubernetes.io/managed-by", "archc")]),
            ),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ..NetworkPolicySpec::default()
            }),
        };
        self.objects.push(object(
            15,
            &deny,
            None,
            "Default deny for every pod of the namespace, both directions: only what the diagram draws\nis opened again by the next policies. Enforced on EKS by the VPC CNI's network policy agent\n(vpc-cni add-on configuration enableNetworkPolicy \"true\"); without it policies are ignored.",
            "default deny, ingress and egress",
        ));
        let tcp = |port: u16| NetworkPolicyPort {
            protocol: Some("TCP".into()),
            port: Some(IntOrString::Int(i32::from(port))),
            ..NetworkPolicyPort::default()
        };
        let blocks = |cidrs: Vec<String>| -> Vec<NetworkPolicyPeer> {
            let mut seen = Vec::new();
            cidrs
                .into_iter()
                .filter(|c| {
                    let new = !seen.contains(c);
                    seen.push(c.clone());
                    new
                })
                .map(|cidr| NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr, except: None }),
                    ..NetworkPolicyPeer::default()
                })
                .collect()
        };
        // in: from the load balancers' subnets
        if !i.wiring.load_balancers.is_empty() {
            let mut cidrs = Vec::new();
            let mut names = Vec::new();
            for &lb in &i.wiring.load_balancers {
                cidrs.extend(i.subnet_cidrs(lb, "public", ph));
                names.push(i.id(lb).to_string());
            }
            let policy = NetworkPolicy {
                metadata: meta(&format!("{}-ingress-from-{}", r.name, kebab(&names[0], 30)), self.ns(), self.labels()),
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(selector(&self.selector_labels())),
                    policy_types: Some(vec!["Ingress".into()]),
                    ingress: Some(vec![NetworkPolicyIngressRule {
                        from: Some(blocks(cidrs)),
                        ports: Some(vec![tcp(i.app.port)]),
                    }]),
                    ..NetworkPolicySpec::default()
                }),
            };
            let via = i.wiring.service.map(|s| format!(" --> {}", i.id(s))).unwrap_or_default();
            let comment = format!(
                "Diagram: {}{via} --> {}. With target-type ip the ALB sends requests and health checks to\nthe pod IP from its own network interfaces, in the subnets it is drawn in. A NetworkPolicy\ncannot name a load balancer or a security group, so the source is those subnets' CIDR blocks\n(network stack outputs, one per AZ). Nothing else may reach port {}. Kubelet probes come\nfrom the node and are not subject to NetworkPolicy.",
                names.join(", "),
                i.app.node,
                i.app.port
            );
            self.objects.push(object(
                16,
                &policy,
                Some(&names[0]),
                &comment,
                "ingress from the load balancer's subnets only",
            ));
        }
        // out: DNS, data stores, AWS APIs
        let mut egress = vec![NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(selector(&map(&[("kubernetes.io/metadata.name", "kube-system")]))),
                pod_selector: Some(selector(&map(&[("k8s-app", "kube-dns")]))),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![
                NetworkPolicyPort {
                    protocol: Some("UDP".into()),
                    port: Some(IntOrString::Int(53)),
                    ..NetworkPolicyPort::default()
                },
                tcp(53),
            ]),
        }];
        let mut lines =
            vec!["- DNS: UDP/TCP 53 to CoreDNS (kube-system, k8s-app=kube-dns), for every name below.".to_string()];
        let mut stores: Vec<(&Dependency, &str)> = Vec::new();
        if let Some(db) = &r.database {
            stores.push((&db.dep, "database"));
        }
        if let Some(c) = &r.cache {
            stores.push((&c.dep, "cache"));
        }
        for (dep, what) in stores {
            egress.push(NetworkPolicyEgressRule {
                to: Some(blocks(i.subnet_cidrs(dep.node, "data", ph))),
                ports: Some(vec![tcp(dep.port)]),
            });
            lines.push(format!(
                "- {} --> {}: TCP {} to the CIDRs of the {what}'s subnets (its endpoint can move between\n  them on a Multi-AZ failover); its security group admits only the cluster's nodes.",
                i.app.node,
                i.id(dep.node),
                dep.port
            ));
        }
        for dep in &i.wiring.caches {
            if r.cache.as_ref().is_none_or(|c| c.dep.node != dep.node) {
                lines.push(format!(
                    "- {} --> {}: not opened: {} {} edition cannot use the cache (APP001).",
                    i.app.node,
                    i.id(dep.node),
                    i.display(),
                    i.app.edition.as_deref().unwrap_or("")
                ));
            }
        }
        if !i.wiring.apis.is_empty() {
            let vpc = ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block");
            let except = (!i.wiring.vpc_endpoints).then(|| vec![vpc]);
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr: "0.0.0.0/0".into(), except }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(443)]),
            });
            let apis: Vec<&str> = i.wiring.apis.iter().map(|&n| i.id(n)).collect();
            lines.push(format!(
                "- {} --> {} (and STS, for the IRSA role): TCP 443. AWS APIs answer on public addresses\n  that cannot be listed, {}.",
                i.app.node,
                apis.join(", "),
                if i.wiring.vpc_endpoints {
                    "and on VPC endpoints inside the VPC, hence 0.0.0.0/0"
                } else {
                    "reached through the NAT gateway, hence 0.0.0.0/0 except the VPC\n  (no VPC endpoint is drawn)"
                }
            ));
        }
        if let Some((efs, _)) = r.efs {
            lines.push(format!(
                "- {} <-> {}: no pod rule: the NFS mount is made by the kubelet and the EFS CSI node plugin\n  on the node; the file system's security group admits only the cluster's nodes.",
                i.app.node,
                i.id(efs)
            ));
        }
        lines.push("Everything else, including the instance metadata service, is denied by default-deny-all.".into());
        let policy = NetworkPolicy {
            metadata: meta(&format!("{}-egress", r.name), self.ns(), self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&self.selector_labels())),
                policy_types: Some(vec!["Egress".into()]),
                egress: Some(egress),
                ..NetworkPolicySpec::default()
            }),
        };
        let comment = format!(
            "The diagram's arrows out of `{}`, as far as a NetworkPolicy can express them (pods,\nnamespaces and IP blocks on L3/L4; no DNS names, AWS services or security groups):\n{}",
            i.app.node,
            lines.join("\n")
        );
        self.objects.push(object(17, &policy, self.node(), &comment, "egress: DNS and the arrows out of the workload"));
        // a cluster's members talk to each other
        let peers = &i.profile.deploy.cluster_ports;
        if r.cluster && !peers.is_empty() {
            let ports: Vec<NetworkPolicyPort> = peers
                .iter()
                .flat_map(|p| {
                    p.protocols.iter().map(move |proto| NetworkPolicyPort {
                        protocol: Some(proto.clone()),
                        port: Some(IntOrString::Int(i32::from(p.port))),
                        ..NetworkPolicyPort::default()
                    })
                })
                .collect();
            let me = NetworkPolicyPeer {
                pod_selector: Some(selector(&self.selector_labels())),
                ..NetworkPolicyPeer::default()
            };
            let policy = NetworkPolicy {
                metadata: meta(&format!("{}-cluster", r.name), self.ns(), self.labels()),
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(selector(&self.selector_labels())),
                    policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                    ingress: Some(vec![NetworkPolicyIngressRule {
                        from: Some(vec![me.clone()]),
                        ports: Some(ports.clone()),
                    }]),
                    egress: Some(vec![NetworkPolicyEgressRule { to: Some(vec![me]), ports: Some(ports) }]),
                }),
            };
            let names: Vec<String> = peers.iter().map(|p| format!("{} {}", p.name, p.port)).collect();
            let comment = format!(
                "{} runs {} replicas as a cluster: its pods talk to each other ({}).",
                i.display(),
                i.app.replicas,
                names.join(", ")
            );
            self.objects.push(object(18, &policy, self.node(), &comment, "the cluster's pods reach each other"));
        }
    }

    fn secret(&mut self) {
        let Some(db) = &self.r.database else { return };
        let secret = Secret {
            metadata: meta(&db.secret, self.ns(), self.labels()),
            type_: Some("Opaque".into()),
            string_data: Some(map(&[("datasource", &db.data_source)])),
            ..Secret::default()
        };
        let dsn = self
            .i
            .profile
            .deploy
            .datasource
            .values()
            .find(|d| d.driver == db.driver)
            .map(|d| d.dsn.clone())
            .unwrap_or_default();
        let comment = format!(
            "Connection string of `{}` to `{}`: a template filled at deploy time, never a credential in a\nfile. The deploy step reads the RDS-managed master secret from Secrets Manager, URL-encodes\nuser and password, builds\n  {dsn}\nsubstitutes it for the placeholder in memory and pipes the result to `kubectl apply -f -`.\nRotation: RDS rotates the secret (every 7 days by default). The secret sync must run again\nafter each rotation: it re-applies this Secret and sets the pod annotation\n{SECRET_VERSION_ANNOTATION} to the new VersionId, which rolls the pods (the variable is\nread at start). See kubernetes/README.md.",
            self.i.app.node,
            self.i.id(db.dep.node)
        );
        self.objects.push(object(
            20,
            &secret,
            Some(self.i.id(db.dep.node)),
            &comment,
            "the database DSN, filled at deploy time",
        ));
    }

    /// EFS volumes: (volume, claim name) pairs, with what they hold.
    fn efs_volumes(&self) -> Vec<(&'static SharedVolume, String)> {
        if self.r.efs.is_none() {
            return Vec::new();
        }
        let d = &self.i.profile.deploy;
        let mut out = Vec::new();
        if let Some(v) = &d.shared {
            out.push((v, format!("{}-{}", self.r.name, v.volume)));
        }
        if self.r.bucket.is_none() {
            if let Some(v) = &d.local_file_store {
                out.push((v, format!("{}-{}", self.r.name, v.volume)));
            }
        }
        out
    }

    fn storage(&mut self) {
        let Some((efs, fs_id)) = self.r.efs.clone() else { return };
        let (user, group) = (self.i.profile.user.to_string(), self.i.profile.group.to_string());
        let class = StorageClass {
            metadata: meta(
                "efs-ap",
                None,
                map(&[
                    ("app.kubernetes.io/part-of", &self.i.settings.project),
                    ("app.kubernetes.io/managed-by", "archc"),
                ]),
            ),
            provisioner: "efs.csi.aws.com".into(),
            parameters: Some(map(&[
                ("provisioningMode", "efs-ap"),
                ("fileSystemId", &fs_id),
                ("directoryPerms", "700"),
                ("uid", &user),
                ("gid", &group),
                ("basePath", &format!("/{}", self.r.name)),
            ])),
            reclaim_policy: Some("Retain".into()),
            volume_binding_mode: Some("Immediate".into()),
            ..StorageClass::default()
        };
        let holds = if self.r.bucket.is_some() {
            "only the directories that must be shared and persistent; S3 is the file store"
        } else {
            "the shared directories and, with no S3 drawn, the file store"
        };
        let comment = format!(
            "EFS dynamic provisioning (diagram: {} reaching {}); EFS holds {holds}.\nEach claim becomes an EFS access point whose root directory is created with mode 700 and owned\nby uid/gid {user}/{group} (the image's user); EFS enforces that identity on every call. The\nEFS CSI driver is the EKS add-on aws-efs-csi-driver; TLS to EFS is its default.\nreclaimPolicy Retain: deleting a claim keeps the access point and its data.",
            self.i.id(efs),
            self.i.app.node
        );
        self.objects.push(object(30, &class, Some(self.i.id(efs)), &comment, "EFS access-point provisioning"));
        for (n, (v, claim)) in self.efs_volumes().into_iter().enumerate() {
            let pvc = PersistentVolumeClaim {
                metadata: meta(&claim, self.ns(), self.labels()),
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteMany".into()]),
                    storage_class_name: Some("efs-ap".into()),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some([("storage".to_string(), q(&v.size))].into()),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                ..PersistentVolumeClaim::default()
            };
            let mounts: Vec<String> = v.mounts.iter().map(|m| format!("{}/ -> {}", m.sub_path, m.path)).collect();
            let comment = format!(
                "Shared, persistent storage on EFS (ReadWriteMany), mounted by every pod: {}.\nEFS does not enforce the requested size.",
                mounts.join(", ")
            );
            self.objects.push(object(
                31 + n as u8,
                &pvc,
                Some(self.i.id(efs)),
                &comment,
                "an EFS volume (ReadWriteMany)",
            ));
        }
    }

    fn env(&self) -> Vec<EnvVar> {
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

    fn deployment(&mut self) {
        let (i, r) = (self.i, self.r);
        let d = &i.profile.deploy;
        let probe = |t: &super::profile::ProbeTiming| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(i.app.health_path.clone()),
                port: IntOrString::String("http".into()),
                ..HTTPGetAction::default()
            }),
            period_seconds: Some(t.period),
            timeout_seconds: Some(t.timeout),
            failure_threshold: Some(t.failures),
            ..Probe::default()
        };
        // volumes: EFS claims, then scratch directories not on EFS, then the IRSA token
        let mut mounts = Vec::new();
        let mut volumes = Vec::new();
        let efs = self.efs_volumes();
        for (v, claim) in &efs {
            for m in &v.mounts {
                mounts.push(VolumeMount {
                    name: v.volume.clone(),
                    mount_path: m.path.clone(),
                    sub_path: Some(m.sub_path.clone()),
                    ..VolumeMount::default()
                });
            }
            volumes.push(Volume {
                name: v.volume.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.clone(),
                    read_only: None,
                }),
                ..Volume::default()
            });
        }
        for s in &d.scratch {
            if efs.iter().any(|(v, _)| v.mounts.iter().any(|m| m.path == s.path)) {
                continue;
            }
            mounts.push(VolumeMount { name: s.name.clone(), mount_path: s.path.clone(), ..VolumeMount::default() });
            volumes.push(Volume {
                name: s.name.clone(),
                empty_dir: Some(EmptyDirVolumeSource { size_limit: Some(q(&s.size)), medium: None }),
                ..Volume::default()
            });
        }
        if r.role.is_some() {
            mounts.push(VolumeMount {
                name: IRSA_TOKEN_VOLUME.into(),
                mount_path: IRSA_TOKEN_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
            volumes.push(Volume {
                name: IRSA_TOKEN_VOLUME.into(),
                projected: Some(ProjectedVolumeSource {
                    sources: Some(vec![VolumeProjection {
                        service_account_token: Some(ServiceAccountTokenProjection {
                            audience: Some("sts.amazonaws.com".into()),
                            expiration_seconds: Some(86400),
                            path: "token".into(),
                        }),
                        ..VolumeProjection::default()
                    }]),
                    default_mode: None,
                }),
                ..Volume::default()
            });
        }
        let mut ports = vec![ContainerPort {
            name: Some("http".into()),
            container_port: i32::from(i.app.port),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }];
        if r.cluster {
            for p in &d.cluster_ports {
                for proto in &p.protocols {
                    let name = if p.protocols.len() > 1 {
                        format!("{}-{}", p.name, proto.to_lowercase())
                    } else {
                        p.name.clone()
                    };
                    ports.push(ContainerPort {
                        name: Some(name),
                        container_port: i32::from(p.port),
                        protocol: Some(proto.clone()),
                        ..ContainerPort::default()
                    });
                }
            }
        }
        let uid = i64::from(i.profile.user);
        let gid = i64::from(i.profile.group);
        let seccomp = || Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None });
        let container = Container {
            name: r.container.clone(),
            image: Some(r.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            ports: Some(ports),
            env: Some(self.env()),
            startup_probe: Some(probe(&d.probes.startup)),
            liveness_probe: Some(probe(&d.probes.liveness)),
            readiness_probe: Some(probe(&d.probes.readiness)),
            lifecycle: Some(Lifecycle {
                pre_stop: Some(LifecycleHandler {
                    sleep: Some(SleepAction { seconds: d.pre_stop_sleep_seconds }),
                    ..LifecycleHandler::default()
                }),
                ..Lifecycle::default()
            }),
            resources: Some(ResourceRequirements {
                requests: Some(d.resources.requests.iter().map(|(k, v)| (k.clone(), q(v))).collect()),
                limits: Some(d.resources.limits.iter().map(|(k, v)| (k.clone(), q(v))).collect()),
                ..ResourceRequirements::default()
            }),
            security_context: Some(SecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(uid),
                run_as_group: Some(gid),
                privileged: Some(false),
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
                seccomp_profile: seccomp(),
                ..SecurityContext::default()
            }),
            volume_mounts: Some(mounts),
            ..Container::default()
        };
        let mut template_meta = ObjectMeta { labels: Some(self.pod_labels()), ..ObjectMeta::default() };
        if let Some(db) = &r.database {
            template_meta.annotations = Some(map(&[(SECRET_VERSION_ANNOTATION, &db.version)]));
        }
        let spread = (i.app.replicas > 1).then(|| {
            vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: "ScheduleAnyway".into(),
                label_selector: Some(selector(&self.selector_labels())),
                ..TopologySpreadConstraint::default()
            }]
        });
        let pod = PodSpec {
            service_account_name: Some(r.name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            termination_grace_period_seconds: Some(d.termination_grace_seconds),
            node_selector: Some(map(&[("kubernetes.io/os", "linux")])),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(uid),
                run_as_group: Some(gid),
                fs_group: Some(gid),
                fs_group_change_policy: Some("OnRootMismatch".into()),
                run_as_non_root: Some(true),
                seccomp_profile: seccomp(),
                ..PodSecurityContext::default()
            }),
            topology_spread_constraints: spread,
            containers: vec![container],
            volumes: Some(volumes),
            ..PodSpec::default()
        };
        let mut m = meta(&r.name, self.ns(), self.pod_labels());
        // checkov skips that apply, each with its reason
        let skips: BTreeMap<String, String> = d
            .checkov_skips
            .iter()
            .filter(|s| match s.id.as_str() {
                "CKV_K8S_35" => r.database.is_some(),
                "CKV_K8S_40" => i.profile.user < 10000,
                _ => true,
            })
            .enumerate()
            .map(|(n, s)| (format!("checkov.io/skip{}", n + 1), format!("{}={}", s.id, s.reason)))
            .collect();
        if !skips.is_empty() {
            m.annotations = Some(skips);
        }
        let deployment = Deployment {
            metadata: m,
            spec: Some(DeploymentSpec {
                replicas: Some(i.app.replicas as i32),
                revision_history_limit: Some(5),
                progress_deadline_seconds: Some(600),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::Int(1)),
                        max_unavailable: Some(IntOrString::Int(0)),
                    }),
                }),
                selector: selector(&self.selector_labels()),
                template: PodTemplateSpec { metadata: Some(template_meta), spec: Some(pod) },
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        };
        self.objects.push(object(40, &deployment, self.node(), &self.deployment_comment(), "the workload"));
    }

    fn deployment_comment(&self) -> String {
        let (i, r) = (self.i, self.r);
        let mut lines = vec![format!("{} (diagram: `{}`).", i.display(), i.app.node)];
        let edition = i.app.edition.as_deref().map(|e| format!(" {e} edition")).unwrap_or_default();
        if r.cluster {
            lines.push(format!(
                "- replicas {}: {}{edition} runs as a cluster (cluster settings below), spread over zones,\n  with a PodDisruptionBudget{}.",
                i.app.replicas,
                i.display(),
                if r.max_replicas > i.app.replicas { " and a HorizontalPodAutoscaler" } else { "" }
            ));
        } else if i.app.replicas == 1 {
            lines.push(format!(
                "- replicas 1{}: hence no PodDisruptionBudget (1 of 1 would block node drains) and no\n  HorizontalPodAutoscaler.",
                if r.max_replicas == 1 { format!(": {}{edition} runs one instance", i.display()) } else { String::new() }
            ));
        } else {
            lines.push(format!("- replicas {}, spread over zones, with a PodDisruptionBudget.", i.app.replicas));
        }
        lines.push(match r.registry {
            Some(reg) => format!(
                "- image: built by CI from the Dockerfile ({}) and pushed to `{}` tagged with the\n  commit SHA; referenced by tag and digest, so the bytes are fixed and IfNotPresent is safe.",
                i.app.base_image.as_deref().map_or_else(|| "the repository's own".to_string(), |b| format!("FROM {b}")),
                i.id(reg)
            ),
            None => match &i.app.base_image {
                Some(image) => format!("- image: {image} as published, pinned by digest."),
                None => "- image: the one a deploy is given (`${Image}`), by digest.".to_string(),
            },
        });
        if let Some((b, _)) = &r.bucket {
            lines.push(format!("- files: S3 bucket `{}` through the IAM role (IRSA), no access keys.", i.id(*b)));
        }
        if !self.efs_volumes().is_empty() {
            let paths: Vec<String> =
                self.efs_volumes().iter().flat_map(|(v, _)| v.mounts.iter().map(|m| m.path.clone())).collect();
            lines.push(format!("- EFS holds {}.", paths.join(", ")));
        }
        if let Some(db) = &r.database {
            lines.push(format!(
                "- database `{}`: the DSN comes from the Secret {}; the pod annotation\n  {SECRET_VERSION_ANNOTATION} rolls the pods when the secret is re-synced after a rotation.",
                i.id(db.dep.node),
                db.secret
            ));
        }
        for dep in &i.wiring.caches {
            match &r.cache {
                Some(c) if c.dep.node == dep.node => {
                    let mut line = format!("- cache `{}`: wired.", i.id(dep.node));
                    if c.tls && i.app.profile.is_some() {
                        line.push_str(&format!(
                            " Its in-transit encryption is `{}`: {} may have no TLS setting\n  for it (APP001).",
                            i.settings.cache_transit_encryption,
                            i.display()
                        ));
                    }
                    lines.push(line);
                }
                _ => lines.push(format!(
                    "- cache `{}`: NOT wired: {}{edition} cannot use it (APP001).",
                    i.id(dep.node),
                    i.display()
                )),
            }
        }
        lines.push(
            "- the root file system is read-only; every writable directory is a volume. Non-root,\n  all capabilities dropped, seccomp RuntimeDefault."
                .into(),
        );
        if r.role.is_some() {
            lines.push(
                "- IRSA is wired explicitly (projected token aws-iam-token, AWS_ROLE_ARN,\n  AWS_WEB_IDENTITY_TOKEN_FILE): what the EKS pod identity webhook would inject, so it changes\n  nothing, and no Kubernetes API token is mounted."
                    .into(),
            );
        }
        lines.join("\n")
    }

    fn service(&mut self) {
        let (i, r) = (self.i, self.r);
        let drawn = i.wiring.service.map(|s| i.graph.component(s));
        let ty = match drawn.and_then(|c| c.attr("type")) {
            Some(t) if t.eq_ignore_ascii_case("NodePort") => "NodePort",
            _ => "ClusterIP",
        };
        let svc = Service {
            metadata: meta(&r.name, self.ns(), self.labels()),
            spec: Some(ServiceSpec {
                type_: Some(ty.into()),
                selector: Some(self.selector_labels()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: i32::from(i.app.port),
                    target_port: Some(IntOrString::String("http".into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let comment = match drawn {
            Some(c) => format!(
                "Diagram: `{}` ({ty}). The ALB targets pod IPs (target-type ip), so {ty} is enough; the\ncontroller reads this Service's endpoints.",
                c.id
            ),
            None => format!("The Service the Ingress routes to (not drawn; {ty}, the ALB targets pod IPs)."),
        };
        let node = drawn.map(|c| c.id.clone()).or_else(|| self.node().map(str::to_string));
        self.objects.push(object(41, &svc, node.as_deref(), &comment, &format!("{ty} Service on port {}", i.app.port)));
    }

    fn disruption_budget(&mut self) {
        let (i, r) = (self.i, self.r);
        if i.app.replicas < 2 {
            return;
        }
        let pdb = PodDisruptionBudget {
            metadata: meta(&r.name, self.ns(), self.labels()),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(selector(&self.selector_labels())),
                ..PodDisruptionBudgetSpec::default()
            }),
            ..PodDisruptionBudget::default()
        };
        let comment = format!(
            "At most one of the {} pods may be evicted at a time (node drains, upgrades); never a\nbudget equal to the replica count, which would block drains.",
            i.app.replicas
        );
        self.objects.push(object(42, &pdb, self.node(), &comment, "one pod at a time may be evicted"));
    }

    fn autoscaler(&mut self) {
        let (i, r) = (self.i, self.r);
        if i.app.replicas < 2 || r.max_replicas <= i.app.replicas {
            return;
        }
        let max = (i.app.replicas * 2).min(r.max_replicas);
        let hpa = HorizontalPodAutoscaler {
            metadata: meta(&r.name, self.ns(), self.labels()),
            spec: Some(HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: "Deployment".into(),
                    name: r.name.clone(),
                },
                min_replicas: Some(i.app.replicas as i32),
                max_replicas: max as i32,
                metrics: Some(vec![MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: "cpu".into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(70),
                            ..MetricTarget::default()
                        },
                    }),
                    ..MetricSpec::default()
                }]),
                ..HorizontalPodAutoscalerSpec::default()
            }),
            ..HorizontalPodAutoscaler::default()
        };
        let comment = format!(
            "Scales {} between {} and {max} pods on CPU (70% of the request). Needs metrics-server.",
            i.app.node, i.app.replicas
        );
        self.objects.push(object(43, &hpa, self.node(), &comment, "scales on CPU"));
    }

    fn ingress(&mut self, alb: NodeIndex, ph: &mut Placeholders<'_>) {
        let (i, r) = (self.i, self.r);
        let certificate = match &i.settings.certificate_arn {
            Some(arn) => arn.clone(),
            // the app stack's DNS-validated certificate (domain and hosted zone configured)
            None if ph.has_output("CertificateArn") => ph.output(
                "CertificateArn",
                crate::plan::StackId::App,
                "the DNS-validated ACM certificate of the site's name",
            ),
            None => ph.deploy(
                "CertificateArn",
                &format!(
                    "the ACM certificate for the site's name, in {} (configuration `certificate_arn`)",
                    i.settings.region
                ),
                json!({"config": {"key": "certificate_arn"}}),
            ),
        };
        let health = &i.app.health_path;
        let mut m = meta(&r.name, self.ns(), self.labels());
        m.annotations = Some(map(&[
            ("alb.ingress.kubernetes.io/scheme", "internet-facing"),
            ("alb.ingress.kubernetes.io/target-type", "ip"),
            ("alb.ingress.kubernetes.io/listen-ports", r#"[{"HTTP": 80}, {"HTTPS": 443}]"#),
            ("alb.ingress.kubernetes.io/certificate-arn", &certificate),
            ("alb.ingress.kubernetes.io/ssl-redirect", "443"),
            ("alb.ingress.kubernetes.io/ssl-policy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
            ("alb.ingress.kubernetes.io/backend-protocol", "HTTP"),
            ("alb.ingress.kubernetes.io/healthcheck-path", health),
            ("alb.ingress.kubernetes.io/healthcheck-port", "traffic-port"),
            ("alb.ingress.kubernetes.io/success-codes", "200"),
            (
                "alb.ingress.kubernetes.io/load-balancer-attributes",
                "routing.http.drop_invalid_header_fields.enabled=true",
            ),
            ("alb.ingress.kubernetes.io/target-group-attributes", "deregistration_delay.timeout_seconds=30"),
        ]));
        let ingress = Ingress {
            metadata: m,
            spec: Some(IngressSpec {
                ingress_class_name: Some("alb".into()),
                rules: Some(vec![IngressRule {
                    host: Some(r.host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some("/".into()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: r.name.clone(),
                                    port: Some(ServiceBackendPort { number: Some(i32::from(i.app.port)), name: None }),
                                }),
                                ..IngressBackend::default()
                            },
                        }],
                    }),
                }]),
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        };
        let drawn = i.wiring.ingress.map(|n| i.id(n).to_string());
        let comment = format!(
            "Diagram: {}the ALB `{}`, made by the AWS Load Balancer Controller. Apply only after the\ncontroller is Ready: its validating webhook rejects Ingress writes while it is down.\n- scheme internet-facing (the default is internal); the ALB lands in the public subnets\n  found by their kubernetes.io/role/elb tag.\n- target-type ip: the ALB targets pod IPs, so the Service may be ClusterIP.\n- HTTP 80 only redirects to HTTPS 443 (ACM certificate, TLS 1.3/1.2 policy).\n- health check on {health}, the path of the pod probes.",
            drawn.as_deref().map(|n| format!("`{n}` -> ")).unwrap_or_default(),
            i.id(alb)
        );
        let node = drawn.unwrap_or_else(|| i.id(alb).to_string());
        self.objects.push(object(
            50,
            &ingress,
            Some(&node),
            &comment,
            "the ALB (through the AWS Load Balancer Controller)",
        ));
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
