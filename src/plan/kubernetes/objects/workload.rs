//! The Deployment, its disruption budget and its autoscaler.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, HTTPGetAction, Lifecycle, LifecycleHandler,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SleepAction, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    map, meta, object, q, selector, Builder, IRSA_TOKEN_DIR, IRSA_TOKEN_VOLUME, RDS_CA_DIR, SECRET_VERSION_ANNOTATION,
};

impl Builder<'_, '_> {
    pub(super) fn deployment(&mut self) {
        let (i, r) = (self.i, self.r);
        let d = &i.profile.deploy;
        let probe = |t: &crate::plan::kubernetes::profile::ProbeTiming| Probe {
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
        if let Some(ca) = self.ca_bundle_name() {
            mounts.push(VolumeMount {
                name: "rds-ca".into(),
                mount_path: RDS_CA_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
            volumes.push(Volume {
                name: "rds-ca".into(),
                config_map: Some(ConfigMapVolumeSource { name: ca, ..ConfigMapVolumeSource::default() }),
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
            volumes.push(super::irsa_volume(86400));
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
            security_context: Some(super::restricted(uid, gid)),
            volume_mounts: Some(mounts),
            ..Container::default()
        };
        let mut template_meta = ObjectMeta { labels: Some(self.pod_labels()), ..ObjectMeta::default() };
        // with the application's own user the sync sets the annotation (no apply owns it)
        if let Some(version) = r.database.as_ref().and_then(|db| db.version.as_ref()) {
            template_meta.annotations = Some(map(&[(SECRET_VERSION_ANNOTATION, version)]));
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
        let mut pod = PodSpec {
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
        // the ConfigMaps and claims drawn attached to the application
        if let Some(n) = i.graph.node(&i.app.node) {
            super::attached::apply(&super::attached::attachments(i, n), &mut pod);
        }
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

    pub(super) fn deployment_comment(&self) -> String {
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
            lines.push(match &db.app_user {
                Some(user) => format!(
                    "- database `{}`: as its own user {user}; the DSN comes from the Secret {}, which the secret\n  sync writes; it sets the pod annotation {SECRET_VERSION_ANNOTATION} when the user's password\n  changes, which rolls the pods.",
                    i.id(db.dep.node),
                    db.secret
                ),
                None => format!(
                    "- database `{}`: the DSN comes from the Secret {}; the pod annotation\n  {SECRET_VERSION_ANNOTATION} rolls the pods when the secret is re-synced after a rotation.",
                    i.id(db.dep.node),
                    db.secret
                ),
            });
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

    pub(super) fn disruption_budget(&mut self) {
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

    pub(super) fn autoscaler(&mut self) {
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
}
