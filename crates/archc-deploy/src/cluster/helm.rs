//! The AWS Load Balancer Controller's Helm release, installed with the `helm` on PATH.
//!
//! The connection is helm's own: `--kube-apiserver`, `--kube-ca-file`,
//! `--kube-tls-server-name`, and the token in `HELM_KUBETOKEN` (the environment form of
//! `--kube-token`, so the token never shows in the process list). The filled values and the
//! CA (nothing secret) go to a private temporary directory removed afterwards.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use crate::error::Error;

/// The charts deploy knows, by the values file's name (`helm/<release>.values.yaml`).
pub struct Chart {
    pub release: &'static str,
    pub namespace: &'static str,
    pub chart: &'static str,
    pub repository: &'static str,
    /// The Deployment that is Ready when the release is.
    pub deployment: &'static str,
}

pub const LOAD_BALANCER_CONTROLLER: Chart = Chart {
    release: "aws-load-balancer-controller",
    namespace: "kube-system",
    chart: "aws-load-balancer-controller",
    repository: "https://aws.github.io/eks-charts",
    deployment: "aws-load-balancer-controller",
};

/// The chart version deploy installs (`--lbc-chart-version` overrides it).
pub const LOAD_BALANCER_CONTROLLER_VERSION: &str = "1.14.0";

/// The chart a values file is for.
///
/// # Errors
/// A values file for a chart deploy does not know.
pub fn chart_for(values_file: &str) -> Result<&'static Chart, Error> {
    let name = values_file.rsplit('/').next().unwrap_or(values_file).trim_end_matches(".values.yaml");
    if name == LOAD_BALANCER_CONTROLLER.release {
        Ok(&LOAD_BALANCER_CONTROLLER)
    } else {
        Err(Error::Plan(format!("{values_file}: archc deploy installs only the AWS Load Balancer Controller's chart")))
    }
}

/// The error when helm is not installed.
pub fn missing() -> Error {
    Error::Tool(
        "the architecture has an ALB, so deploy installs the AWS Load Balancer Controller with Helm, and `helm` is not on PATH: install Helm 3 (https://helm.sh/docs/intro/install/), or deploy the stacks only with --stacks-only".into(),
    )
}

/// How to reach the API server, for helm.
pub struct Connection<'a> {
    pub url: &'a str,
    pub ca_pem: Option<&'a [u8]>,
    pub tls_server_name: Option<&'a str>,
    pub token: &'a SecretString,
}

/// A private temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, Error> {
        use std::os::unix::fs::DirBuilderExt as _;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("archc-helm-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::Cluster(format!("cannot make a temporary directory: {e}")))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The arguments of `helm upgrade --install` (the token is not among them).
pub fn arguments(
    chart: &Chart,
    version: &str,
    values: &Path,
    conn: &Connection<'_>,
    ca: Option<&Path>,
    timeout: Duration,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "upgrade",
        "--install",
        chart.release,
        chart.chart,
        "--repo",
        chart.repository,
        "--version",
        version,
        "--namespace",
        chart.namespace,
        "--values",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(values.display().to_string());
    args.extend(["--wait".to_string(), "--timeout".into(), format!("{}s", timeout.as_secs())]);
    args.extend(["--kube-apiserver".to_string(), conn.url.to_string()]);
    if let Some(ca) = ca {
        args.extend(["--kube-ca-file".to_string(), ca.display().to_string()]);
    }
    if let Some(name) = conn.tls_server_name {
        args.extend(["--kube-tls-server-name".to_string(), name.to_string()]);
    }
    args
}

/// `helm upgrade --install` the chart with the filled values, and wait (`--wait`).
///
/// # Errors
/// helm fails; its last lines of output say why.
pub async fn install(
    helm: &Path,
    chart: &Chart,
    version: &str,
    values: &Value,
    conn: &Connection<'_>,
    timeout: Duration,
) -> Result<(), Error> {
    let dir = TempDir::new()?;
    let values_path = dir.0.join("values.yaml");
    let yaml =
        serde_yaml::to_string(values).map_err(|e| Error::Cluster(format!("cannot write the Helm values: {e}")))?;
    std::fs::write(&values_path, yaml).map_err(|e| Error::Cluster(format!("cannot write the Helm values: {e}")))?;
    let ca_path = match conn.ca_pem {
        Some(pem) => {
            let p = dir.0.join("ca.crt");
            std::fs::write(&p, pem).map_err(|e| Error::Cluster(format!("cannot write the cluster CA: {e}")))?;
            Some(p)
        }
        None => None,
    };
    let args = arguments(chart, version, &values_path, conn, ca_path.as_deref(), timeout);
    let out = tokio::process::Command::new(helm)
        .args(&args)
        .env("HELM_KUBETOKEN", conn.token.expose_secret())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::Tool(format!("cannot run {}: {e}", helm.display())))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
    Err(Error::Cluster(format!(
        "helm upgrade --install {} failed ({}):\n  {}",
        chart.release,
        out.status,
        tail.join("\n  ").replace(conn.token.expose_secret(), "<token>")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_the_pinned_chart_and_the_connection_without_the_token() {
        let token = SecretString::from("k8s-aws-v1.secret");
        let conn = Connection {
            url: "https://127.0.0.1:40123",
            ca_pem: Some(b"pem"),
            tls_server_name: Some("ABC.eks.amazonaws.com"),
            token: &token,
        };
        let args = arguments(
            &LOAD_BALANCER_CONTROLLER,
            LOAD_BALANCER_CONTROLLER_VERSION,
            Path::new("/t/values.yaml"),
            &conn,
            Some(Path::new("/t/ca.crt")),
            Duration::from_secs(600),
        )
        .join(" ");
        assert_eq!(
            args,
            "upgrade --install aws-load-balancer-controller aws-load-balancer-controller --repo https://aws.github.io/eks-charts --version 1.14.0 --namespace kube-system --values /t/values.yaml --wait --timeout 600s --kube-apiserver https://127.0.0.1:40123 --kube-ca-file /t/ca.crt --kube-tls-server-name ABC.eks.amazonaws.com"
        );
        assert!(!args.contains("secret"));
        assert!(chart_for("helm/aws-load-balancer-controller.values.yaml").is_ok());
        assert!(chart_for("helm/other.values.yaml").is_err());
    }
}
