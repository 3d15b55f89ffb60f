//! What a workload is drawn attached to: a `k8s.config` box (a ConfigMap, its data from
//! `nodes.<id>.env`, given to the workload as environment) and a `k8s.volume` box (a
//! PersistentVolumeClaim, mounted at `/mnt/<id>`), for the application and every other
//! workload drawn.

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, EnvFromSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::others::{Others, KINDS as WORKLOADS};
use super::stateful::GP3;
use super::{map, meta, object, q, Input};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::plan::kubernetes::Object;
use crate::plan::names::kebab;

/// The kinds built here.
pub(super) const KINDS: &[&str] = &["k8s.config", "k8s.volume"];
const SIZE: &str = "10Gi";

/// The config and volume boxes an arrow joins to workload `n` (either way): (box, arrow).
pub(super) fn of(i: &Input<'_>, n: NodeIndex) -> Vec<(NodeIndex, EdgeIndex)> {
    let mut out = Vec::new();
    for (e, a, b, _) in i.graph.connections() {
        let other = if a == n {
            b
        } else if b == n {
            a
        } else {
            continue;
        };
        if i.graph.component(other).kind_id().is_some_and(|k| KINDS.contains(&k))
            && !out.iter().any(|(o, _)| *o == other)
        {
            out.push((other, e));
        }
    }
    out
}

/// The name of a box's object.
fn name(i: &Input<'_>, n: NodeIndex) -> String {
    kebab(i.id(n), 63)
}

/// What a pod takes from an attached box.
pub(super) enum Attachment {
    /// A ConfigMap, as environment.
    Env(String),
    /// A claim: (volume name, mount path, claim).
    Mount(String, String, String),
}

/// What is attached to workload `n`.
pub(super) fn attachments(i: &Input<'_>, n: NodeIndex) -> Vec<Attachment> {
    of(i, n)
        .into_iter()
        .map(|(other, _)| {
            let id = kebab(i.id(other), 40);
            if i.graph.component(other).is("k8s.config") {
                Attachment::Env(name(i, other))
            } else {
                Attachment::Mount(format!("vol-{id}"), format!("/mnt/{id}"), name(i, other))
            }
        })
        .collect()
}

/// Give the pod what is attached to it.
pub(super) fn apply(attachments: &[Attachment], pod: &mut PodSpec) {
    for a in attachments {
        match a {
            Attachment::Env(config) => {
                if let Some(c) = pod.containers.first_mut() {
                    c.env_from.get_or_insert_with(Vec::new).push(EnvFromSource {
                        config_map_ref: Some(ConfigMapEnvSource { name: config.clone(), optional: Some(false) }),
                        ..EnvFromSource::default()
                    });
                }
            }
            Attachment::Mount(volume, path, claim) => {
                if let Some(c) = pod.containers.first_mut() {
                    c.volume_mounts.get_or_insert_with(Vec::new).push(VolumeMount {
                        name: volume.clone(),
                        mount_path: path.clone(),
                        ..VolumeMount::default()
                    });
                }
                pod.volumes.get_or_insert_with(Vec::new).push(Volume {
                    name: volume.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim.clone(),
                        read_only: None,
                    }),
                    ..Volume::default()
                });
            }
        }
    }
}

/// The ConfigMaps and claims of the boxes attached to a workload archc configures by
/// `nodes.<id>:` (each once), and the arrows they express.
pub(super) fn build(i: &Input<'_>, namespace: &str, out: &mut Others) {
    let boxes: Vec<NodeIndex> =
        i.graph.components().filter(|(_, c)| c.kind_id().is_some_and(|k| KINDS.contains(&k))).map(|(n, _)| n).collect();
    for b in boxes {
        let users: Vec<(NodeIndex, EdgeIndex)> = users(i, b);
        if users.is_empty() {
            continue;
        }
        let names: Vec<&str> = users.iter().map(|(w, _)| i.id(*w)).collect();
        let o = if i.graph.component(b).is("k8s.config") {
            config_map(i, b, namespace, &names, out)
        } else {
            claim(i, b, namespace, &names, out)
        };
        out.objects.push(o);
        for (w, e) in users {
            let how = if i.graph.component(b).is("k8s.config") {
                format!("the ConfigMap {} as the environment of `{}`", name(i, b), i.id(w))
            } else {
                format!("the claim {} mounted by `{}`", name(i, b), i.id(w))
            };
            out.edges.push((e, how));
        }
    }
}

/// The workloads (the application and the others) an arrow joins to box `b`.
pub(super) fn users(i: &Input<'_>, b: NodeIndex) -> Vec<(NodeIndex, EdgeIndex)> {
    let mut out = Vec::new();
    for (e, x, y, _) in i.graph.connections() {
        let w = if x == b {
            y
        } else if y == b {
            x
        } else {
            continue;
        };
        let c = i.graph.component(w);
        if (c.kind_id().is_some_and(|k| WORKLOADS.contains(&k)) || c.id == i.app.node)
            && !out.iter().any(|(o, _)| *o == w)
        {
            out.push((w, e));
        }
    }
    out
}

fn config_map(i: &Input<'_>, b: NodeIndex, namespace: &str, users: &[&str], out: &mut Others) -> Object {
    let data = i.settings.workload(i.graph, b).env;
    let id = i.id(b);
    if data.is_empty() {
        out.findings.push(
            Diagnostic::new(
                codes::PLAN_ASSUMED,
                Severity::Info,
                format!("the ConfigMap `{id}` is empty: nothing gives its data"),
            )
            .with_primary(i.graph.component(b).span, "what goes in it?")
            .with_help(format!("set `nodes.{id}.env: {{KEY: value}}` in the ```yaml archc block")),
        );
    }
    let cm = ConfigMap {
        metadata: meta(&name(i, b), Some(namespace), map(&[("app.kubernetes.io/managed-by", "archc")])),
        data: Some(data),
        ..ConfigMap::default()
    };
    let comment = format!(
        "Diagram: `{id}`, attached to {}: its data (`nodes.{id}.env`) becomes their environment\n(envFrom). Configuration only: secrets belong in a Secret, never here.",
        users.join(", ")
    );
    object(25, &cm, Some(id), &comment, "configuration given as environment")
}

fn claim(i: &Input<'_>, b: NodeIndex, namespace: &str, users: &[&str], out: &mut Others) -> Object {
    let id = i.id(b);
    out.findings.push(
        Diagnostic::new(
            codes::PLAN_ASSUMED,
            Severity::Info,
            format!("the volume `{id}` is assumed {SIZE}, ReadWriteOnce"),
        )
        .with_primary(i.graph.component(b).span, "assumed settings"),
    );
    let eks = i.graph.draws_aws();
    let pvc = PersistentVolumeClaim {
        metadata: meta(&name(i, b), Some(namespace), map(&[("app.kubernetes.io/managed-by", "archc")])),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: eks.then(|| GP3.to_string()),
            resources: Some(VolumeResourceRequirements {
                requests: Some([("storage".to_string(), q(SIZE))].into()),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    };
    let class = if eks { format!("StorageClass {GP3}") } else { "the cluster's default StorageClass".into() };
    let comment = format!(
        "Diagram: `{id}`, mounted by {} at /mnt/{}: {SIZE}, ReadWriteOnce ({class}), so the pods\nusing it share one node.",
        users.join(", "),
        kebab(id, 40)
    );
    // applied with the workloads: with WaitForFirstConsumer it binds once their pod is scheduled
    object(45, &pvc, Some(id), &comment, "a volume claim")
}
