//! The diagram's other workloads: every `k8s.deployment`, `k8s.cronjob` and `k8s.statefulset` besides the
//! application (which its profile and `app:` describe), each configured by its `nodes.<id>:`
//! settings ([`Settings::workload`]). Each gets its ServiceAccount (the one its IRSA role
//! trusts), its Deployment and Service or its CronJob, and its egress NetworkPolicy from its
//! arrows.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, HTTPGetAction, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, Service, ServiceAccount, ServicePort, ServiceSpec,
    Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::json;

use super::attached::{self, Attachment};
use super::stateful::{self, Engine};
use super::{map, meta, object, q, selector, Input, IRSA_TOKEN_DIR, IRSA_TOKEN_VOLUME};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::plan::kubernetes::wiring::Wiring;
use crate::plan::kubernetes::{Object, Placeholders};
use crate::plan::names::{kebab, pascal};
use crate::plan::settings::Workload;
use crate::plan::StackId;

/// The kinds built here, besides the application's box.
pub(crate) const KINDS: &[&str] = &["k8s.deployment", "k8s.cronjob", "k8s.statefulset"];
/// The user and group the containers run as: non-root and above 10000, so that they never
/// share a uid with a user of the node.
const UID: i64 = 10001;

/// What the other workloads become.
#[derive(Default)]
pub(crate) struct Others {
    pub(crate) objects: Vec<Object>,
    pub(crate) findings: Vec<Diagnostic>,
    /// The arrows their objects express, with how.
    pub(crate) edges: Vec<(EdgeIndex, String)>,
}

/// One workload being built.
pub(super) struct One<'a> {
    pub(super) n: NodeIndex,
    cronjob: bool,
    /// A StatefulSet, with the database or cache it runs when its label names one.
    stateful: bool,
    pub(super) engine: Option<&'static Engine>,
    pub(super) w: Workload,
    wiring: Wiring,
    pub(super) namespace: &'a str,
    region: &'a str,
    /// The IRSA role's ARN placeholder, when the data stack has the role.
    role: Option<String>,
    image: String,
    /// The ConfigMaps and claims drawn attached to it.
    attached: Vec<Attachment>,
}

/// Build the objects of every workload box but the application's.
pub(crate) fn build(i: &Input<'_>, namespace: &str, ph: &mut Placeholders<'_>) -> Others {
    let mut out = Others::default();
    let boxes: Vec<NodeIndex> = i
        .graph
        .components()
        .filter(|(_, c)| c.kind_id().is_some_and(|k| KINDS.contains(&k)) && c.id != i.app.node)
        .map(|(n, _)| n)
        .collect();
    // the StatefulSets' and the drawn volumes' claims (the EBS CSI add-on is the cluster stack's)
    let claims = i.graph.components().find(|(n, c)| {
        (c.is("k8s.statefulset") && boxes.contains(n)) || (c.is("k8s.volume") && !attached::users(i, *n).is_empty())
    });
    if let Some((_, c)) = claims.filter(|_| i.graph.draws_aws()) {
        out.objects.push(stateful::storage_class(&i.settings.project, &c.id));
    }
    for n in boxes {
        let mut w = i.settings.workload(i.graph, n);
        let cronjob = i.graph.component(n).is("k8s.cronjob");
        let stateful = i.graph.component(n).is("k8s.statefulset");
        let engine = if stateful { stateful::engine(i, n) } else { None };
        if let Some(e) = engine {
            stateful::preset(&mut w, e);
        }
        let role_output = format!("{}RoleArn", pascal(&w.node));
        let role = ph
            .has_output(&role_output)
            .then(|| ph.output(&role_output, StackId::Data, &format!("IAM role (IRSA) of the `{}` pods", w.node)));
        let image = image(&w, ph);
        let attached = attached::attachments(i, n);
        let one = One {
            attached,
            n,
            cronjob,
            stateful,
            engine,
            wiring: Wiring::of(i.graph, n),
            w,
            namespace,
            region: &i.settings.region,
            role,
            image,
        };
        one.build(i, ph, &mut out);
    }
    attached::build(i, namespace, &mut out);
    out
}

/// The image by digest: the configured one with a digest found at deploy time, else one a
/// deploy is given.
fn image(w: &Workload, ph: &mut Placeholders<'_>) -> String {
    let p = pascal(&w.node);
    match &w.image {
        Some(image) if image.contains('@') => image.clone(),
        Some(image) => {
            let digest = ph.deploy(
                &format!("{p}ImageDigest"),
                &format!("the digest (sha256:...) of `{image}`, the image of `{}`", w.node),
                json!({"image_digest": {"image": image}}),
            );
            format!("{image}@{digest}")
        }
        None => ph.deploy(
            &format!("{p}Image"),
            &format!("the image `{}` runs, by digest (`repository@sha256:...`): nothing configures one", w.node),
            json!({"config": {"key": format!("nodes.{}.image", w.node)}}),
        ),
    }
}

impl One<'_> {
    fn build(&self, i: &Input<'_>, ph: &mut Placeholders<'_>, out: &mut Others) {
        let span = i.graph.component(self.n).span;
        if self.cronjob && self.w.schedule.is_none() {
            out.findings.push(
                Diagnostic::warning(
                    codes::PLAN_ASSUMED,
                    format!("the CronJob `{}` has no schedule: archc builds no object for it", self.w.node),
                )
                .with_primary(span, "when does this run?")
                .with_help(format!("set `nodes.{}.schedule: \"0 3 * * *\"` in the ```yaml archc block", self.w.node)),
            );
            return;
        }
        let assumed = self.assumed();
        if !assumed.is_empty() {
            out.findings.push(
                Diagnostic::new(
                    codes::PLAN_ASSUMED,
                    Severity::Info,
                    format!("`{}` runs with what archc assumed: {}", self.w.node, assumed.join(", ")),
                )
                .with_primary(span, "assumed settings")
                .with_help(format!("set them under `nodes.{}:` in the ```yaml archc block", self.w.node)),
            );
        }
        out.objects.push(self.service_account());
        out.objects.push(self.egress(i, ph));
        if self.stateful {
            self.stateful(i, ph, out);
        } else if self.cronjob {
            out.objects.push(self.cron_job());
        } else {
            out.objects.push(self.deployment());
            out.objects.push(self.service());
        }
        for &lb in self.wiring.load_balancers.iter().filter(|&&lb| super::nlb::is_nlb(i, lb)) {
            let target = super::nlb::Target {
                node: &self.w.node,
                name: &self.w.name,
                namespace: self.namespace,
                selector: self.selector_labels(),
                labels: self.labels(),
                port: self.w.port,
                policy: true,
            };
            out.objects.extend(super::nlb::objects(i, ph, lb, &target));
        }
        self.expressed(i, out);
    }

    /// What nothing configured: the workload's own list, and the resources.
    fn assumed(&self) -> Vec<String> {
        let mut assumed = self.w.assumed.clone();
        if self.cronjob {
            // a job has no port, health checks or replicas
            assumed.retain(|a| !a.starts_with("port") && !a.starts_with("health") && !a.contains("replicas"));
        }
        if self.stateful {
            // its probes are TCP
            assumed.retain(|a| !a.starts_with("health"));
            assumed.push(format!("a {} volume per pod", "10Gi"));
        }
        if self.w.cpu.is_none() {
            assumed.push("cpu 250m".into());
        }
        if self.w.memory.is_none() {
            assumed.push("memory 256Mi".into());
        }
        if self.w.image.is_none() && self.engine.is_none() {
            assumed.push(format!("the image a deploy is given (`${{{}Image}}`)", pascal(&self.w.node)));
        }
        assumed
    }

    pub(super) fn node(&self) -> Option<&str> {
        Some(self.w.node.as_str())
    }

    pub(super) fn selector_labels(&self) -> std::collections::BTreeMap<String, String> {
        map(&[("app.kubernetes.io/name", &self.w.name), ("app.kubernetes.io/instance", &self.w.name)])
    }

    pub(super) fn labels(&self) -> std::collections::BTreeMap<String, String> {
        let mut l = self.selector_labels();
        l.insert("app.kubernetes.io/managed-by".into(), "archc".into());
        l
    }

    /// The name the IRSA role trusts (`lower/workload_role.rs`).
    fn service_account_name(&self) -> String {
        kebab(&self.w.node, 63)
    }

    fn service_account(&self) -> Object {
        let mut m = meta(&self.service_account_name(), Some(self.namespace), self.labels());
        if let Some(role) = &self.role {
            m.annotations = Some(map(&[("eks.amazonaws.com/role-arn", role)]));
        }
        let sa =
            ServiceAccount { metadata: m, automount_service_account_token: Some(false), ..ServiceAccount::default() };
        let comment = match &self.role {
            Some(_) => format!(
                "Identity of the `{}` pods. IRSA: the role trusts system:serviceaccount:{}:{} (aud\nsts.amazonaws.com) and allows what the diagram's arrows to AWS APIs need. No Kubernetes API\ntoken is mounted.",
                self.w.node,
                self.namespace,
                self.service_account_name()
            ),
            None => format!(
                "Identity of the `{}` pods: no arrow to an AWS API, so no IAM role; no Kubernetes API token\neither.",
                self.w.node
            ),
        };
        object(11, &sa, self.node(), &comment, &format!("the identity of `{}` (IRSA role annotation)", self.w.node))
    }

    /// Egress: DNS, the data stores' subnets, AWS APIs on 443; ingress stays denied.
    fn egress(&self, i: &Input<'_>, ph: &mut Placeholders<'_>) -> Object {
        let tcp = |port: u16| NetworkPolicyPort {
            protocol: Some("TCP".into()),
            port: Some(IntOrString::Int(i32::from(port))),
            ..NetworkPolicyPort::default()
        };
        let block = |cidr: String, except: Option<Vec<String>>| NetworkPolicyPeer {
            ip_block: Some(IPBlock { cidr, except }),
            ..NetworkPolicyPeer::default()
        };
        let mut egress = vec![super::network_policy::dns_egress()];
        let mut lines = vec!["- DNS: UDP/TCP 53 to CoreDNS (kube-system, k8s-app=kube-dns).".to_string()];
        for dep in self.wiring.databases.iter().chain(&self.wiring.caches) {
            let mut cidrs = i.subnet_cidrs(dep.node, "data", ph);
            cidrs.dedup();
            egress.push(NetworkPolicyEgressRule {
                to: Some(cidrs.into_iter().map(|c| block(c, None)).collect()),
                ports: Some(vec![tcp(dep.port)]),
            });
            lines.push(format!(
                "- {} --> {}: TCP {} to the CIDRs of its subnets (its security group admits the cluster).",
                self.w.node,
                i.id(dep.node),
                dep.port
            ));
        }
        if !self.wiring.apis.is_empty() {
            let vpc = ph.output("VpcCidr", StackId::Network, "the VPC's CIDR block");
            let except = (!self.wiring.vpc_endpoints).then(|| vec![vpc]);
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![block("0.0.0.0/0".into(), except)]),
                ports: Some(vec![tcp(443)]),
            });
            let apis: Vec<&str> = self.wiring.apis.iter().map(|&n| i.id(n)).collect();
            lines.push(format!(
                "- {} --> {} (and STS, for the IRSA role): TCP 443 to public AWS addresses, which cannot be\n  listed.",
                self.w.node,
                apis.join(", ")
            ));
        }
        if self.stateful && stateful::has_peers(i, self.n) {
            lines.push(format!("The arrows into it open {}-ingress; nothing else may reach it.", self.w.name));
        } else {
            lines.push("No arrow into it is drawn: ingress stays denied by default-deny-all.".into());
        }
        let policy = NetworkPolicy {
            metadata: meta(&format!("{}-egress", self.w.name), Some(self.namespace), self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&self.selector_labels())),
                policy_types: Some(vec!["Egress".into()]),
                egress: Some(egress),
                ..NetworkPolicySpec::default()
            }),
        };
        let comment = format!("The diagram's arrows out of `{}`:\n{}", self.w.node, lines.join("\n"));
        object(17, &policy, self.node(), &comment, &format!("egress of `{}`: DNS and its arrows", self.w.node))
    }

    /// The pod: non-root, read-only root file system, every capability dropped, IRSA wired.
    pub(super) fn pod(&self, restart: Option<&str>) -> PodSpec {
        let seccomp = || Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None });
        let mut mounts = vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }];
        let mut volumes = vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource { size_limit: Some(q("256Mi")), medium: None }),
            ..Volume::default()
        }];
        if self.role.is_some() {
            mounts.push(VolumeMount {
                name: IRSA_TOKEN_VOLUME.into(),
                mount_path: IRSA_TOKEN_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
            volumes.push(super::irsa_volume(86400));
        }
        let resources = |cpu: &str, memory: &str| {
            Some([("cpu".to_string(), q(cpu)), ("memory".to_string(), q(memory))].into_iter().collect())
        };
        let (cpu, memory) = (
            self.w.cpu.clone().unwrap_or_else(|| "250m".into()),
            self.w.memory.clone().unwrap_or_else(|| "256Mi".into()),
        );
        let container = Container {
            name: self.w.name.clone(),
            image: Some(self.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: (!self.w.command.is_empty()).then(|| self.w.command.clone()),
            env: Some(self.env()),
            resources: Some(ResourceRequirements {
                requests: resources(&cpu, &memory),
                limits: resources(&cpu, &memory),
                ..ResourceRequirements::default()
            }),
            security_context: Some(super::restricted(UID, UID)),
            volume_mounts: Some(mounts),
            ..Container::default()
        };
        let mut pod = PodSpec {
            service_account_name: Some(self.service_account_name()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            restart_policy: restart.map(str::to_string),
            node_selector: Some(map(&[("kubernetes.io/os", "linux")])),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(UID),
                run_as_group: Some(UID),
                fs_group: Some(UID),
                run_as_non_root: Some(true),
                seccomp_profile: seccomp(),
                ..PodSecurityContext::default()
            }),
            containers: vec![container],
            volumes: Some(volumes),
            ..PodSpec::default()
        };
        attached::apply(&self.attached, &mut pod);
        pod
    }

    /// `nodes.<id>.env`, then what the EKS pod identity webhook would inject for IRSA.
    fn env(&self) -> Vec<EnvVar> {
        let region = self.region;
        let var =
            |name: &str, value: &str| EnvVar { name: name.into(), value: Some(value.into()), ..EnvVar::default() };
        let mut env: Vec<EnvVar> = self.w.env.iter().map(|(k, v)| var(k, v)).collect();
        if let Some(role) = &self.role {
            env.push(var("AWS_ROLE_ARN", role));
            env.push(var("AWS_WEB_IDENTITY_TOKEN_FILE", &format!("{IRSA_TOKEN_DIR}/token")));
            env.push(var("AWS_ROLE_SESSION_NAME", &self.w.name));
            env.push(var("AWS_REGION", region));
            env.push(var("AWS_DEFAULT_REGION", region));
            env.push(var("AWS_STS_REGIONAL_ENDPOINTS", "regional"));
        }
        env
    }

    fn deployment(&self) -> Object {
        let probe = |period: i32, failures: i32| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(self.w.health_path.clone()),
                port: IntOrString::String("http".into()),
                ..HTTPGetAction::default()
            }),
            period_seconds: Some(period),
            failure_threshold: Some(failures),
            ..Probe::default()
        };
        let mut pod = self.pod(None);
        if let Some(c) = pod.containers.first_mut() {
            c.ports = Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: i32::from(self.w.port),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }]);
            c.startup_probe = Some(probe(5, 30));
            c.liveness_probe = Some(probe(10, 3));
            c.readiness_probe = Some(probe(5, 3));
        }
        let deployment = Deployment {
            metadata: meta(&self.w.name, Some(self.namespace), self.labels()),
            spec: Some(DeploymentSpec {
                replicas: Some(self.w.replicas as i32),
                revision_history_limit: Some(5),
                selector: selector(&self.selector_labels()),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(self.labels()), ..ObjectMeta::default() }),
                    spec: Some(pod),
                },
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        };
        let comment = format!(
            "`{}` (nodes.{}): {} replica(s) of its image, by digest; probes on {} (port {}).\n{}",
            self.w.node,
            self.w.node,
            self.w.replicas,
            self.w.health_path,
            self.w.port,
            self.security_note()
        );
        object(40, &deployment, self.node(), &comment, &format!("the workload `{}`", self.w.node))
    }

    pub(super) fn security_note(&self) -> String {
        format!(
            "Runs as uid/gid {UID} (non-root, whatever the image's USER says), read-only root file system\n(/tmp is an emptyDir), all capabilities dropped, seccomp RuntimeDefault{}.",
            if self.role.is_some() { "; IRSA token projected" } else { "" }
        )
    }

    fn service(&self) -> Object {
        let svc = Service {
            metadata: meta(&self.w.name, Some(self.namespace), self.labels()),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(self.selector_labels()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: i32::from(self.w.port),
                    target_port: Some(IntOrString::String("http".into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let comment = format!(
            "A stable name for `{}` inside the cluster ({}.{}.svc). No arrow into it is drawn, so its\nNetworkPolicy admits nobody yet.",
            self.w.node, self.w.name, self.namespace
        );
        object(41, &svc, self.node(), &comment, &format!("ClusterIP Service of `{}`", self.w.node))
    }

    fn cron_job(&self) -> Object {
        let schedule = self.w.schedule.clone().unwrap_or_default();
        let job = CronJob {
            metadata: meta(&self.w.name, Some(self.namespace), self.labels()),
            spec: Some(CronJobSpec {
                schedule: schedule.clone(),
                time_zone: Some("Etc/UTC".into()),
                concurrency_policy: Some("Forbid".into()),
                starting_deadline_seconds: Some(300),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        backoff_limit: Some(2),
                        active_deadline_seconds: Some(3600),
                        ttl_seconds_after_finished: Some(86400),
                        template: PodTemplateSpec {
                            metadata: Some(ObjectMeta { labels: Some(self.labels()), ..ObjectMeta::default() }),
                            spec: Some(self.pod(Some("Never"))),
                        },
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            ..CronJob::default()
        };
        let comment = format!(
            "`{}` (nodes.{}): runs on \"{schedule}\" (UTC); concurrencyPolicy Forbid (a run never\noverlaps the previous one), 3 successful and 3 failed Jobs kept, 2 retries, one hour at most.\n{}",
            self.w.node,
            self.w.node,
            self.security_note()
        );
        object(40, &job, self.node(), &comment, &format!("the scheduled job `{}`", self.w.node))
    }

    /// The arrows out of the workload its objects express.
    fn expressed(&self, i: &Input<'_>, out: &mut Others) {
        for (e, a, _, c) in i.graph.connections() {
            if a != self.n {
                continue;
            }
            let how = match c.meaning {
                "ingress" if super::nlb::is_nlb(i, self.n) => continue,
                "connects" => "the NetworkPolicy egress to the store's subnets",
                "calls-api" if self.role.is_some() => "the workload's IRSA role and its NetworkPolicy egress on 443",
                _ => continue,
            };
            out.edges.push((e, how.to_string()));
        }
        for (e, a, b, c) in i.graph.connections() {
            if b == self.n && c.meaning == "traffic" && super::nlb::is_nlb(i, a) {
                out.edges.push((
                    e,
                    "the Service of type LoadBalancer (an NLB with ip targets) and its NetworkPolicy".into(),
                ));
            }
            // what comes into the NLB in front of the workload: its listener
            if c.meaning == "ingress"
                && self.wiring.load_balancers.contains(&b)
                && super::nlb::is_nlb(i, b)
                && !out.edges.iter().any(|(x, _)| *x == e)
            {
                out.edges.push((e, "the NLB's listener (a Service of type LoadBalancer)".into()));
            }
            // a Fargate profile's pods are not built yet: only a node group runs them
            if b == self.n && c.meaning == "runs" && i.graph.component(a).is("aws.eks-nodegroup") {
                let what = if self.cronjob {
                    "the CronJob's pods"
                } else if self.stateful {
                    "the StatefulSet's pods"
                } else {
                    "the Deployment's pods"
                };
                out.edges.push((e, format!("{what}, scheduled on the cluster's nodes")));
            }
        }
    }
}
