//! How deploy reaches the cluster's API server, in this order:
//! 1. `--kube-api URL` (or `ARCHC_KUBE_API`): that URL (a VPN, a tunnel of one's own, tests);
//! 2. an `AccessInstanceId` stack output: an SSM port forward through that instance
//!    (`aws ssm start-session ... AWS-StartPortForwardingSessionToRemoteHost`) to the private
//!    endpoint, TLS checked against the cluster CA with the endpoint's host name;
//! 3. the endpoint itself (public access configured for this machine).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt as _;

use crate::error::Error;

/// Where the API server answers and how to check it is the cluster's.
#[derive(Debug)]
pub struct Endpoint {
    /// The URL the client connects to.
    pub url: String,
    /// The cluster CA (PEM) when the URL is https.
    pub ca_pem: Option<Vec<u8>>,
    /// The name the server certificate is checked against (the endpoint's host when
    /// connecting through a tunnel on 127.0.0.1).
    pub tls_server_name: Option<String>,
    /// How, in words.
    pub how: String,
    /// The SSM session, ended when this is dropped.
    pub session: Option<SsmSession>,
}

/// What EKS says about the cluster.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    pub name: String,
    pub endpoint: String,
    /// PEM, decoded from EKS's base64.
    pub ca_pem: Vec<u8>,
    pub status: String,
}

impl ClusterInfo {
    pub fn host(&self) -> &str {
        let rest = self.endpoint.split_once("://").map_or(self.endpoint.as_str(), |(_, r)| r);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }
}

/// The tools and settings the SSM path needs.
#[derive(Debug, Clone)]
pub struct SsmTools {
    /// The AWS CLI v2 (`aws`).
    pub aws: Option<PathBuf>,
    pub session_manager_plugin: Option<PathBuf>,
    pub region: String,
    pub profile: Option<String>,
}

/// A program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The error when the SSM path lacks its tools.
pub fn ssm_tools_missing(tools: &SsmTools) -> Option<Error> {
    let mut missing = Vec::new();
    if tools.aws.is_none() {
        missing.push(
            "the AWS CLI v2 (`aws`: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
        );
    }
    if tools.session_manager_plugin.is_none() {
        missing.push("the Session Manager plugin (`session-manager-plugin`: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)");
    }
    (!missing.is_empty()).then(|| {
        Error::Tool(format!(
            "the cluster's API endpoint is private and is reached through the SSM access instance (stack output AccessInstanceId), which needs {}. Install them, or reach the API another way (VPN, your own tunnel) and pass --kube-api https://HOST:PORT (or ARCHC_KUBE_API)",
            missing.join(" and ")
        ))
    })
}

/// The arguments of `aws ssm start-session` for a port forward to the endpoint.
pub fn ssm_arguments(tools: &SsmTools, instance: &str, host: &str, local_port: u16) -> Vec<String> {
    let parameters = serde_json::json!({
        "host": [host],
        "portNumber": ["443"],
        "localPortNumber": [local_port.to_string()],
    });
    let mut args = vec![
        "ssm".to_string(),
        "start-session".into(),
        "--target".into(),
        instance.into(),
        "--document-name".into(),
        "AWS-StartPortForwardingSessionToRemoteHost".into(),
        "--parameters".into(),
        parameters.to_string(),
        "--region".into(),
        tools.region.clone(),
    ];
    if let Some(p) = &tools.profile {
        args.push("--profile".into());
        args.push(p.clone());
    }
    args
}

/// A running `aws ssm start-session`, in its own process group; ended (with the
/// session-manager-plugin it started) when dropped.
#[derive(Debug)]
pub struct SsmSession {
    child: tokio::process::Child,
}

impl SsmSession {
    fn kill(&mut self) {
        if let Some(pid) = self.child.id() {
            // the whole group: `aws` and the session-manager-plugin it runs
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Drop for SsmSession {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free local port.
fn free_port() -> Result<u16, Error> {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Cluster(format!("no free local port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| Error::Cluster(format!("no free local port: {e}")))
}

/// Start the port forward and wait until its local port answers.
///
/// # Errors
/// The tools are missing, the session ends early (its message is shown) or never listens.
pub async fn ssm_forward(
    tools: &SsmTools,
    instance: &str,
    cluster: &ClusterInfo,
    wait: Duration,
) -> Result<Endpoint, Error> {
    if let Some(e) = ssm_tools_missing(tools) {
        return Err(e);
    }
    let Some(aws) = &tools.aws else { return Err(Error::Tool("aws is missing".into())) };
    let port = free_port()?;
    let mut cmd = tokio::process::Command::new(aws);
    cmd.args(ssm_arguments(tools, instance, cluster.host(), port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| Error::Tool(format!("cannot run {}: {e}", aws.display())))?;
    let mut session = SsmSession { child };
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        if let Ok(Some(status)) = session.child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = session.child.stderr.take() {
                let _ = e.read_to_string(&mut stderr).await;
            }
            return Err(Error::Cluster(format!(
                "the SSM session to {instance} ended ({status}) before it forwarded a port: {}",
                stderr.trim()
            )));
        }
        if started.elapsed() > wait {
            return Err(Error::Cluster(format!(
                "the SSM port forward through {instance} did not listen on 127.0.0.1:{port} within {} s",
                wait.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(Endpoint {
        url: format!("https://127.0.0.1:{port}"),
        ca_pem: Some(cluster.ca_pem.clone()),
        tls_server_name: Some(cluster.host().to_string()),
        how: format!("SSM port forward through {instance} (127.0.0.1:{port} -> {}:443)", cluster.host()),
        session: Some(session),
    })
}

/// `--kube-api URL`: the URL as given; over https the certificate is checked against the
/// cluster CA under the endpoint's name.
pub fn explicit(url: &str, cluster: Option<&ClusterInfo>) -> Endpoint {
    let https = url.starts_with("https://");
    Endpoint {
        url: url.trim_end_matches('/').to_string(),
        ca_pem: if https { cluster.map(|c| c.ca_pem.clone()) } else { None },
        tls_server_name: if https { cluster.map(|c| c.host().to_string()) } else { None },
        how: format!("--kube-api {url}"),
        session: None,
    }
}

/// The endpoint itself.
pub fn direct(cluster: &ClusterInfo) -> Endpoint {
    Endpoint {
        url: cluster.endpoint.clone(),
        ca_pem: Some(cluster.ca_pem.clone()),
        tls_server_name: None,
        how: format!("the cluster endpoint {}", cluster.endpoint),
        session: None,
    }
}

/// PEM certificates → DER, as kube's `root_cert` takes them.
pub fn pem_to_der(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE") {
            body = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE") {
            if let Some(b) = body.take() {
                out.push(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|e| Error::Cluster(format!("the cluster CA is not valid PEM: {e}")))?,
                );
            }
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if out.is_empty() {
        return Err(Error::Cluster("the cluster CA has no certificate".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(aws: Option<&str>, plugin: Option<&str>) -> SsmTools {
        SsmTools {
            aws: aws.map(PathBuf::from),
            session_manager_plugin: plugin.map(PathBuf::from),
            region: "eu-north-1".into(),
            profile: Some("ops".into()),
        }
    }

    #[test]
    fn the_port_forward_command_names_the_document_host_and_ports() {
        let args =
            ssm_arguments(&tools(Some("aws"), Some("p")), "i-0abc", "ABC.gr7.eu-north-1.eks.amazonaws.com", 40123);
        assert_eq!(
            args.join(" "),
            r#"ssm start-session --target i-0abc --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters {"host":["ABC.gr7.eu-north-1.eks.amazonaws.com"],"portNumber":["443"],"localPortNumber":["40123"]} --region eu-north-1 --profile ops"#
        );
    }

    #[test]
    fn missing_tools_are_named_with_the_alternative() {
        let e = ssm_tools_missing(&tools(None, None)).expect("missing").to_string();
        assert!(e.contains("AWS CLI v2") && e.contains("session-manager-plugin") && e.contains("--kube-api"), "{e}");
        let e = ssm_tools_missing(&tools(Some("aws"), None)).expect("missing").to_string();
        assert!(!e.contains("AWS CLI v2") && e.contains("session-manager-plugin"), "{e}");
        assert!(ssm_tools_missing(&tools(Some("aws"), Some("p"))).is_none());
    }

    #[test]
    fn host_of_the_endpoint() {
        let c = ClusterInfo {
            name: "c".into(),
            endpoint: "https://ABC.gr7.eu-north-1.eks.amazonaws.com".into(),
            ca_pem: vec![],
            status: "ACTIVE".into(),
        };
        assert_eq!(c.host(), "ABC.gr7.eu-north-1.eks.amazonaws.com");
        let e = explicit("https://127.0.0.1:6443/", Some(&c));
        assert_eq!(e.tls_server_name.as_deref(), Some("ABC.gr7.eu-north-1.eks.amazonaws.com"));
        assert_eq!(e.url, "https://127.0.0.1:6443");
        assert!(explicit("http://127.0.0.1:1", Some(&c)).ca_pem.is_none());
    }

    fn script(name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("archc-ssm-test-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("aws");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn cluster() -> ClusterInfo {
        ClusterInfo {
            name: "c".into(),
            endpoint: "https://ABC.gr7.eu-north-1.eks.amazonaws.com".into(),
            ca_pem: b"pem".to_vec(),
            status: "ACTIVE".into(),
        }
    }

    /// A stand-in `aws` that listens on the local port it is given, as the real port forward
    /// does: deploy connects through it with the endpoint's name, and ends it (and what it
    /// started) when done.
    #[tokio::test]
    async fn the_port_forward_is_used_once_it_listens_and_ended_afterwards() {
        let aws = script(
            "ok",
            r#"port=$(echo "$@" | sed -n 's/.*"localPortNumber":\["\([0-9]*\)"\].*/\1/p')
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(120)" &
wait"#,
        );
        let mut t = tools(Some("x"), Some("session-manager-plugin"));
        t.aws = Some(aws);
        let e = ssm_forward(&t, "i-0abc", &cluster(), Duration::from_secs(20)).await.expect("forward");
        assert!(e.url.starts_with("https://127.0.0.1:"), "{}", e.url);
        assert_eq!(e.tls_server_name.as_deref(), Some("ABC.gr7.eu-north-1.eks.amazonaws.com"));
        assert_eq!(e.ca_pem.as_deref(), Some(&b"pem"[..]));
        let pid = e.session.as_ref().and_then(SsmSession::pid).expect("pid");
        let port = e.url.rsplit(':').next().unwrap_or_default().to_string();
        drop(e);
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err()
                && std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
        });
        assert!(gone, "the session and the listener it started are ended");
    }

    #[tokio::test]
    async fn a_session_that_ends_early_says_why() {
        let aws = script(
            "fails",
            "echo 'An error occurred (TargetNotConnected) when calling the StartSession operation: i-0abc is not connected.' >&2; exit 254",
        );
        let mut t = tools(Some("x"), Some("session-manager-plugin"));
        t.aws = Some(aws);
        let err = ssm_forward(&t, "i-0abc", &cluster(), Duration::from_secs(20)).await.expect_err("fails").to_string();
        assert!(err.contains("TargetNotConnected") && err.contains("i-0abc"), "{err}");
    }

    #[test]
    fn pem_to_der_decodes_each_certificate() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_to_der(pem).expect("der"), vec![vec![0, 1, 2, 3]]);
        assert!(pem_to_der(b"nothing").is_err());
    }
}
