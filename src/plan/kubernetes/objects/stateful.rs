//! StatefulSets: a `k8s.statefulset` box, or a database or cache drawn as a pod in the cluster,
//! with a volume claim per pod (an encrypted gp3 EBS volume on EKS, the cluster's default class
//! elsewhere), a headless Service, and NetworkPolicies admitting the pods of the workloads whose
//! arrows reach it.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    ContainerPort, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec,
    PodTemplateSpec, Probe, Secret, SecretVolumeSource, Service, ServicePort, ServiceSpec, TCPSocketAction, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::others::{One, Others};
use super::{map, meta, object, q, selector, Input};
use crate::model::Style;
use crate::plan::kubernetes::{Object, Placeholders};
use crate::plan::names::{kebab, pascal};
use crate::plan::settings::Workload;

/// The StorageClass of the claims on EKS.
pub(super) const GP3: &str = "gp3-encrypted";
/// Where the volume is mounted when no engine says.
const DATA_PATH: &str = "/data";
const DATA_SIZE: &str = "10Gi";

/// A database or cache archc knows how to run as a pod.
pub(super) struct Engine {
    /// A word of the box's label that names it.
    word: &'static str,
    name: &'static str,
    image: &'static str,
    port: u16,
    data: &'static str,
    /// Directories it writes besides its data (the root file system is read-only).
    scratch: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// The variable naming the file its password is read from, when it has one.
    password_file: Option<&'static str>,
}

const ENGINES: &[Engine] = &[
    Engine {
        word: "postgres",
        name: "PostgreSQL",
        image: "postgres:17.6",
        port: 5432,
        data: "/var/lib/postgresql/data",
        scratch: &["/var/run/postgresql"],
        env: &[("PGDATA", "/var/lib/postgresql/data/pgdata")],
        password_file: Some("POSTGRES_PASSWORD_FILE"),
    },
    Engine {
        word: "redis",
        name: "Redis",
        image: "redis:7.4.5",
        port: 6379,
        data: "/data",
        scratch: &[],
        env: &[],
        password_file: None,
    },
];

/// The engine a StatefulSet box names (`Postgres`, `PostgreSQL`, `Redis`), if any.
pub(super) fn engine(i: &Input<'_>, n: NodeIndex) -> Option<&'static Engine> {
    let c = i.graph.component(n);
    let text = format!("{} {}", c.id, c.label).to_lowercase();
    ENGINES.iter().find(|e| text.contains(e.word))
}

/// An engine's defaults where `nodes.<id>:` says nothing: its image, port, one replica (a
/// second pod of a plain database would be another database, not a replica).
pub(super) fn preset(w: &mut Workload, e: &Engine) {
    if w.image.is_none() {
        w.image = Some(e.image.to_string());
        w.assumed.push(format!("image {}", e.image));
    }
    if w.assumed.iter().any(|a| a.starts_with("port ")) {
        w.port = e.port;
        w.assumed.retain(|a| !a.starts_with("port "));
        w.assumed.push(format!("port {}", e.port));
    }
    if w.assumed.iter().any(|a| a.ends_with("replicas")) {
        w.replicas = 1;
        w.assumed.retain(|a| !a.ends_with("replicas"));
        w.assumed.push("1 replica".into());
    }
}

/// The workload boxes with a solid arrow into `n`: (their pods' name label, their id, the arrow).
fn peers(i: &Input<'_>, n: NodeIndex) -> Vec<(String, String, petgraph::stable_graph::EdgeIndex)> {
    let mut out = Vec::new();
    for (e, a, b, c) in i.graph.connections() {
        let kind = i.graph.component(a).kind_id();
        if b != n || c.style != Style::Solid || !kind.is_some_and(|k| super::others::KINDS.contains(&k)) {
            continue;
        }
        let id = i.id(a).to_string();
        let name = if id == i.app.node { i.app.name.clone() } else { kebab(&id, 40) };
        if !out.iter().any(|(x, _, _)| *x == name) {
            out.push((name, id, e));
        }
    }
    out
}

/// Whether a workload's arrow reaches `n`.
pub(super) fn has_peers(i: &Input<'_>, n: NodeIndex) -> bool {
    !peers(i, n).is_empty()
}

impl One<'_> {
    fn data_path(&self) -> &'static str {
        self.engine.map_or(DATA_PATH, |e| e.data)
    }

    fn secret_name(&self) -> String {
        format!("{}-credentials", self.w.name)
    }

    /// The StatefulSet and what serves it.
    pub(super) fn stateful(&self, i: &Input<'_>, ph: &mut Placeholders<'_>, out: &mut Others) {
        if let Some(e) = self.engine.filter(|e| e.password_file.is_some()) {
            out.objects.push(self.credentials(e, ph));
        }
        out.objects.push(self.headless_service());
        out.objects.push(self.stateful_set(i));
        self.admit_peers(i, out);
    }

    /// The password, a deploy-time value, in a Secret mounted as a file.
    fn credentials(&self, e: &Engine, ph: &mut Placeholders<'_>) -> Object {
        let p = pascal(&self.w.node);
        let password = ph.deploy(
            &format!("{p}Password"),
            &format!("the {} password of `{}`, which you choose (e.g. `openssl rand -base64 32`)", e.name, self.w.node),
            json!({"config": {"key": format!("nodes.{}.password", self.w.node)}}),
        );
        let secret = Secret {
            metadata: meta(&self.secret_name(), Some(self.namespace), self.labels()),
            type_: Some("Opaque".into()),
            string_data: Some(map(&[("password", &password)])),
            ..Secret::default()
        };
        let comment = format!(
            "The {} password of `{}`: a placeholder filled at deploy time, never a credential in a\nfile. The pods read it as a file ({}), not from the environment.",
            e.name,
            self.w.node,
            e.password_file.unwrap_or_default()
        );
        object(20, &secret, self.node(), &comment, &format!("the password of `{}`, filled at deploy time", self.w.node))
    }

    fn headless_service(&self) -> Object {
        let svc = Service {
            metadata: meta(&self.w.name, Some(self.namespace), self.labels()),
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(self.selector_labels()),
                ports: Some(vec![ServicePort {
                    name: Some("tcp".into()),
                    port: i32::from(self.w.port),
                    target_port: Some(IntOrString::String("tcp".into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let comment = format!(
            "Headless Service of the StatefulSet `{}`: each pod keeps its DNS name\n({}-0.{}.{}.svc), which the clients use.",
            self.w.node, self.w.name, self.w.name, self.namespace
        );
        object(41, &svc, self.node(), &comment, &format!("headless Service of `{}`", self.w.node))
    }

    /// The engine's writable directories besides its data (each an emptyDir).
    fn scratch(&self) -> Vec<String> {
        let mut scratch: Vec<String> =
            self.engine.map_or(Vec::new(), |e| e.scratch.iter().map(|s| s.to_string()).collect());
        scratch.retain(|s| s != "/tmp");
        scratch
    }

    /// The pod: the shared one, with the port, TCP probes, the data volume, the engine's
    /// directories, environment and password file.
    fn stateful_pod(&self) -> PodSpec {
        let mut pod = self.pod(None);
        let tcp = |period: i32, failures: i32| Probe {
            tcp_socket: Some(TCPSocketAction { port: IntOrString::String("tcp".into()), host: None }),
            period_seconds: Some(period),
            failure_threshold: Some(failures),
            ..Probe::default()
        };
        let scratch = self.scratch();
        if let Some(c) = pod.containers.first_mut() {
            c.ports = Some(vec![ContainerPort {
                name: Some("tcp".into()),
                container_port: i32::from(self.w.port),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }]);
            c.startup_probe = Some(tcp(5, 60));
            c.liveness_probe = Some(tcp(10, 3));
            c.readiness_probe = Some(tcp(5, 3));
            let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
            let mount =
                |name: String, path: &str| VolumeMount { name, mount_path: path.into(), ..VolumeMount::default() };
            mounts.push(mount("data".into(), self.data_path()));
            for (n, dir) in scratch.iter().enumerate() {
                mounts.push(mount(format!("scratch-{n}"), dir));
            }
            let env = c.env.get_or_insert_with(Vec::new);
            let var = |k: &str, v: &str| EnvVar { name: k.into(), value: Some(v.into()), ..EnvVar::default() };
            for (k, v) in self.engine.map_or(&[][..], |e| e.env) {
                env.push(var(k, v));
            }
            if let Some(name) = self.engine.and_then(|e| e.password_file) {
                mounts.push(VolumeMount { read_only: Some(true), ..mount("credentials".into(), "/etc/credentials") });
                env.push(var(name, "/etc/credentials/password"));
            }
        }
        self.stateful_volumes(&mut pod, scratch.len());
        pod
    }

    /// The emptyDirs of the engine's directories and the password's Secret.
    fn stateful_volumes(&self, pod: &mut PodSpec, scratch: usize) {
        let volumes = pod.volumes.get_or_insert_with(Vec::new);
        for n in 0..scratch {
            volumes.push(Volume {
                name: format!("scratch-{n}"),
                empty_dir: Some(EmptyDirVolumeSource { size_limit: Some(q("64Mi")), medium: None }),
                ..Volume::default()
            });
        }
        if self.engine.is_some_and(|e| e.password_file.is_some()) {
            volumes.push(Volume {
                name: "credentials".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(self.secret_name()),
                    default_mode: Some(0o440),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
    }

    fn stateful_set(&self, i: &Input<'_>) -> Object {
        let pod = self.stateful_pod();
        let eks = i.graph.draws_aws();
        let claim = PersistentVolumeClaim {
            metadata: ObjectMeta { name: Some("data".into()), ..ObjectMeta::default() },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: eks.then(|| GP3.to_string()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), q(DATA_SIZE))].into()),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            ..PersistentVolumeClaim::default()
        };
        let set = StatefulSet {
            metadata: meta(&self.w.name, Some(self.namespace), self.labels()),
            spec: Some(StatefulSetSpec {
                service_name: Some(self.w.name.clone()),
                replicas: Some(self.w.replicas as i32),
                revision_history_limit: Some(5),
                selector: selector(&self.selector_labels()),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(self.labels()), ..ObjectMeta::default() }),
                    spec: Some(pod),
                },
                volume_claim_templates: Some(vec![claim]),
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        };
        let what = self.engine.map_or_else(|| "its image".to_string(), |e| format!("{} ({})", e.name, e.image));
        let class = if eks {
            format!("the StorageClass {GP3} (EBS gp3, encrypted; the EKS add-on aws-ebs-csi-driver)")
        } else {
            "the cluster's default StorageClass".to_string()
        };
        let comment = format!(
            "`{}` (nodes.{}): {} replica(s) of {what}, each with its own {DATA_SIZE} volume at {}\n({class}); the claims outlive the pods. TCP probes on port {}.\n{}",
            self.w.node,
            self.w.node,
            self.w.replicas,
            self.data_path(),
            self.w.port,
            self.security_note()
        );
        object(40, &set, self.node(), &comment, &format!("the StatefulSet `{}`", self.w.node))
    }

    /// Ingress from the pods of the workloads drawn reaching it, and their egress to it.
    fn admit_peers(&self, i: &Input<'_>, out: &mut Others) {
        let peers = peers(i, self.n);
        if peers.is_empty() {
            return;
        }
        let port = || {
            vec![NetworkPolicyPort {
                protocol: Some("TCP".into()),
                port: Some(IntOrString::Int(i32::from(self.w.port))),
                ..NetworkPolicyPort::default()
            }]
        };
        let pods = |name: &str| NetworkPolicyPeer {
            pod_selector: Some(selector(&map(&[("app.kubernetes.io/name", name)]))),
            ..NetworkPolicyPeer::default()
        };
        let policy = NetworkPolicy {
            metadata: meta(&format!("{}-ingress", self.w.name), Some(self.namespace), self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(&self.selector_labels())),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(peers.iter().map(|(name, _, _)| pods(name)).collect()),
                    ports: Some(port()),
                }]),
                ..NetworkPolicySpec::default()
            }),
        };
        let ids: Vec<&str> = peers.iter().map(|(_, id, _)| id.as_str()).collect();
        let comment =
            format!("Diagram: {} --> {}. Only those pods may reach port {}.", ids.join(", "), self.w.node, self.w.port);
        out.objects.push(object(
            16,
            &policy,
            self.node(),
            &comment,
            &format!("ingress to `{}` from its clients", self.w.node),
        ));
        for (name, id, e) in &peers {
            let egress = NetworkPolicy {
                metadata: meta(&format!("{name}-to-{}", self.w.name), Some(self.namespace), self.labels()),
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(selector(&map(&[("app.kubernetes.io/name", name)]))),
                    policy_types: Some(vec!["Egress".into()]),
                    egress: Some(vec![NetworkPolicyEgressRule {
                        to: Some(vec![pods(&self.w.name)]),
                        ports: Some(port()),
                    }]),
                    ..NetworkPolicySpec::default()
                }),
            };
            let comment = format!("Diagram: {id} --> {}: TCP {} to its pods.", self.w.node, self.w.port);
            out.objects.push(object(
                18,
                &egress,
                Some(id),
                &comment,
                &format!("egress of `{id}` to `{}`", self.w.node),
            ));
            out.edges.push((*e, format!("the NetworkPolicies {}-ingress and {name}-to-{}", self.w.name, self.w.name)));
        }
    }
}

/// The StorageClass of the StatefulSets' claims on EKS: EBS gp3, encrypted, bound where the pod
/// lands.
pub(super) fn storage_class(project: &str, node: &str) -> Object {
    let class = StorageClass {
        metadata: meta(
            GP3,
            None,
            map(&[("app.kubernetes.io/part-of", project), ("app.kubernetes.io/managed-by", "archc")]),
        ),
        provisioner: "ebs.csi.aws.com".into(),
        parameters: Some(map(&[("type", "gp3"), ("encrypted", "true")])),
        reclaim_policy: Some("Retain".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        allow_volume_expansion: Some(true),
        ..StorageClass::default()
    };
    let comment = "EBS gp3 volumes for the StatefulSets' claims, encrypted (the account's EBS key), made by the\nEKS add-on aws-ebs-csi-driver (cluster stack, with its IRSA role). WaitForFirstConsumer:\nthe volume is created in the zone the pod is scheduled to. reclaimPolicy Retain: deleting a\nclaim keeps the volume and its data.";
    object(30, &class, Some(node), comment, "encrypted EBS gp3 volumes")
}
