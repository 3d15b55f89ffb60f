//! How an application is deployed: the `deploy:` section of its profile in `targets/apps/`
//! (the rules read the rest of the same file through `model::catalog`), or the generic
//! profile for a workload archc has no profile for.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;

/// A profile file as the Kubernetes backend reads it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Profile {
    pub(crate) id: String,
    pub(crate) user: u32,
    pub(crate) group: u32,
    pub(crate) deploy: Deploy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deploy {
    /// The container's name.
    pub(crate) container: String,
    /// `app.kubernetes.io/component`.
    pub(crate) component: String,
    pub(crate) env: EnvSets,
    #[serde(default)]
    pub(crate) cluster_ports: Vec<PeerPort>,
    /// The SMTP port the application sends mail on unless `app.smtp.port` says otherwise;
    /// `None`: archc does not know whether it sends mail.
    #[serde(default)]
    pub(crate) smtp_port: Option<u16>,
    /// Database engine → driver name and the DSN format the deploy step fills.
    pub(crate) datasource: BTreeMap<String, Datasource>,
    pub(crate) probes: Probes,
    pub(crate) resources: Resources,
    /// Writable directories on emptyDir volumes (the root file system is read-only).
    pub(crate) scratch: Vec<Scratch>,
    /// What EFS holds when the diagram draws EFS reaching the workload.
    pub(crate) shared: Option<SharedVolume>,
    /// What EFS holds in addition when there is no S3 file store.
    pub(crate) local_file_store: Option<SharedVolume>,
    pub(crate) termination_grace_seconds: i64,
    pub(crate) pre_stop_sleep_seconds: i64,
    #[serde(default)]
    pub(crate) checkov_skips: Vec<Skip>,
}

/// Environment variables by what the diagram draws, in the order written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvSets {
    pub(crate) always: IndexMap<String, EnvValue>,
    pub(crate) database: IndexMap<String, EnvValue>,
    pub(crate) s3: IndexMap<String, EnvValue>,
    pub(crate) local_file_store: IndexMap<String, EnvValue>,
    pub(crate) cache: IndexMap<String, EnvValue>,
    pub(crate) cluster: IndexMap<String, EnvValue>,
    /// Outgoing email, when `app.smtp` is configured.
    #[serde(default)]
    pub(crate) email: IndexMap<String, EnvValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum EnvValue {
    /// A MiniJinja template.
    Value(String),
    /// A key of the database's deploy-time Secret.
    Secret { secret: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeerPort {
    pub(crate) name: String,
    pub(crate) port: u16,
    pub(crate) protocols: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Datasource {
    pub(crate) driver: String,
    /// Slots `<user>`, `<password>` (URL-encoded), `<user:raw>`, `<password:raw>` (as they
    /// are, for a driver that does not decode them), `<host>`, `<port>`, `<dbname>`.
    pub(crate) dsn: String,
    /// Environment the driver needs beside the DSN (a CA directory for a driver that reads
    /// only the system's roots); `/etc/ssl/rds` in a value mounts the RDS CA bundle there.
    #[serde(default)]
    pub(crate) env: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeTiming {
    pub(crate) period: i32,
    pub(crate) timeout: i32,
    pub(crate) failures: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Probes {
    pub(crate) startup: ProbeTiming,
    pub(crate) liveness: ProbeTiming,
    pub(crate) readiness: ProbeTiming,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resources {
    pub(crate) requests: BTreeMap<String, String>,
    pub(crate) limits: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scratch {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) size: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SharedVolume {
    /// The volume's name in the pod (and the PVC's suffix).
    pub(crate) volume: String,
    /// Nominal: EFS does not enforce it.
    pub(crate) size: String,
    pub(crate) mounts: Vec<Mount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mount {
    pub(crate) path: String,
    pub(crate) sub_path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Skip {
    pub(crate) id: String,
    pub(crate) reason: String,
}

const PROFILES: &[(&str, &str)] = &[
    ("targets/apps/mattermost.yaml", include_str!("../../../targets/apps/mattermost.yaml")),
    ("targets/apps/generic.yaml", include_str!("../../../targets/apps/generic.yaml")),
];

/// Parse the embedded profiles.
///
/// # Errors
/// A profile does not parse, or breaks a rule the code relies on.
pub(crate) fn load() -> Result<Vec<Profile>, String> {
    let mut out = Vec::new();
    for (file, text) in PROFILES {
        let p: Profile = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        for skip in &p.deploy.checkov_skips {
            if skip.reason.contains('=') {
                return Err(format!("{file}: the reason of {} contains `=`, which checkov splits at", skip.id));
            }
        }
        for (_, v) in p.deploy.env.iter() {
            if let EnvValue::Secret { secret } = v {
                if secret != "datasource" {
                    return Err(format!(
                        "{file}: only the `datasource` key of the database Secret exists, not `{secret}`"
                    ));
                }
            }
        }
        out.push(p);
    }
    Ok(out)
}

impl EnvSets {
    fn iter(&self) -> impl Iterator<Item = (&String, &EnvValue)> {
        self.always
            .iter()
            .chain(&self.database)
            .chain(&self.s3)
            .chain(&self.local_file_store)
            .chain(&self.cache)
            .chain(&self.cluster)
    }
}

fn profiles() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| match load() {
        Ok(p) => p,
        // embedded at build time and loaded by the unit tests: not reachable by any input
        #[allow(clippy::panic)]
        Err(e) => panic!("archc's embedded application profiles are invalid: {e}"),
    })
}

/// The deploy profile of application `id`, or the generic one.
pub(crate) fn profile(id: Option<&str>) -> &'static Profile {
    let all = profiles();
    id.and_then(|id| all.iter().find(|p| p.id == id))
        .or_else(|| all.iter().find(|p| p.id == "generic"))
        .unwrap_or_else(|| unreachable!("the generic profile is embedded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_load() {
        let all = load().expect("profiles");
        assert!(all.iter().any(|p| p.id == "mattermost"));
        assert_eq!(profile(Some("unknown")).id, "generic");
        assert_eq!(profile(Some("mattermost")).deploy.container, "mattermost");
    }
}
