//! Storage: the EFS StorageClass and the claims of the shared volumes.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::api::storage::v1::StorageClass;

use crate::plan::kubernetes::profile::SharedVolume;

use super::{map, meta, object, q, Builder};

impl Builder<'_, '_> {
    /// EFS volumes: (volume, claim name) pairs, with what they hold.
    pub(super) fn efs_volumes(&self) -> Vec<(&'static SharedVolume, String)> {
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

    pub(super) fn storage(&mut self) {
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
}
