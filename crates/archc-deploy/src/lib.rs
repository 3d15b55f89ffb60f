//! `archc deploy` / `archc destroy`: a compiled architecture (the files `archc compile` would
//! write, in memory, `plan.json` included) to running infrastructure, and back.
//!
//! Stacks go through CloudFormation in dependency order (independent ones concurrently), each
//! as a change set that is shown and confirmed before it runs (or CreateStack/UpdateStack
//! with [`Method::Direct`]), with their events streamed; then the cluster side: the AWS Load
//! Balancer Controller through Helm and the manifests by server-side apply, with the waits
//! that tell when the application is up.
//!
//! This crate does not depend on the compiler: its input is the compiled files and
//! [`Options`]. What both sides must agree on, the `${Name}` placeholder contract, is the
//! small crate `archc-placeholders`.

pub mod aws;
pub mod cluster;
pub mod destroy;
pub mod error;
pub mod plan;
pub mod report;
mod run;
#[cfg(test)]
mod scenarios;
pub mod stacks;
/// HTTP test doubles (scripted AWS, a Kubernetes API server) for this crate's and archc's
/// tests; std only, and nothing the binary calls.
#[doc(hidden)]
pub mod testkit;

/// The SDK crates, for tests that check what a deploy did with AWS's own describe calls.
#[doc(hidden)]
pub use {aws_config, aws_sdk_cloudformation, aws_sdk_secretsmanager, tokio};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub use error::Error;
pub use plan::Files;
pub use report::{Confirm, OutputMode, Reporter};
pub use run::{deploy, Summary};
pub use stacks::Method;

/// Everything `archc deploy` and `archc destroy` take besides the compiled files.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--region`: overrides the plan's region (a stack with its own region keeps it).
    pub region: Option<String>,
    /// `--profile`: the AWS shared-config profile.
    pub profile: Option<String>,
    /// `--endpoint-url`: another CloudFormation/EKS/... endpoint (an emulator).
    pub endpoint_url: Option<String>,
    /// `--stack-prefix`: replaces the project prefix of the stack names.
    pub stack_prefix: Option<String>,
    /// `--yes`: no confirmation.
    pub yes: bool,
    /// `--dry-run`: show every stack's changes, execute nothing.
    pub dry_run: bool,
    pub method: Method,
    pub output: OutputMode,
    /// `--parameter [STACK.]NAME=VALUE`.
    pub parameters: Vec<String>,
    /// `--set NAME=VALUE`: deploy-time values (`Domain`, `CertificateArn`, ...).
    pub set: Vec<String>,
    /// `--image-tag`.
    pub image_tag: Option<String>,
    /// `--kube-api URL` (or `ARCHC_KUBE_API`).
    pub kube_api: Option<String>,
    /// `--stacks-only`: no cluster side.
    pub stacks_only: bool,
    /// `--lbc-chart-version`.
    pub lbc_chart_version: Option<String>,
    /// Between two polls of CloudFormation or the cluster (default 5 s).
    pub poll: Option<Duration>,
    /// Longest wait for one stack operation (default 60 min).
    pub stack_timeout: Option<Duration>,
    /// Longest wait for each cluster step (default 10 min).
    pub wait_timeout: Option<Duration>,
    /// The `helm` to run (default: on PATH).
    pub helm: Option<std::path::PathBuf>,
}

impl Options {
    fn confirm(&self) -> Confirm {
        if self.yes || self.dry_run {
            Confirm::Yes
        } else {
            Confirm::Ask
        }
    }
}

/// Parse `NAME=VALUE` pairs.
///
/// # Errors
/// An item without `=`.
pub fn parse_pairs(option: &str, items: &[String]) -> Result<BTreeMap<String, String>, Error> {
    items
        .iter()
        .map(|i| {
            i.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| Error::Plan(format!("{option} `{i}`: expected NAME=VALUE")))
        })
        .collect()
}

/// Exit status: 0 done, 1 a stack or the cluster failed (or the operator declined), 2 the
/// deploy could not start (plan, missing value or tool), 130 interrupted.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Plan(_) | Error::Missing(_) | Error::Tool(_) => 2,
        Error::Interrupted => 130,
        Error::Aws(_) | Error::Stacks(_) | Error::Cluster(_) | Error::Declined(_) => 1,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, i32> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        2
    })
}

fn report_error(r: &Reporter, e: &Error) {
    r.clear();
    match r.mode() {
        OutputMode::Json => {
            r.record(serde_json::json!({"type": "error", "kind": format!("{e:?}").split('(').next().unwrap_or(""), "message": e.to_string(), "exit": exit_code(e)}), "");
        }
        OutputMode::Human => eprintln!("error: {e}"),
    }
}

/// `archc deploy`: runs on its own runtime, Ctrl-C handled; returns the exit status.
pub fn run_deploy(files: &Files, options: &Options) -> i32 {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let r = Arc::new(Reporter::new(options.output, options.confirm()));
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match deploy(files, options, r.clone(), interrupt).await {
            Ok(_) => 0,
            Err(e) => {
                report_error(&r, &e);
                exit_code(&e)
            }
        }
    })
}

/// `archc destroy`: runs on its own runtime, Ctrl-C handled; returns the exit status.
pub fn run_destroy(files: &Files, options: &Options) -> i32 {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let r = Arc::new(Reporter::new(options.output, if options.yes { Confirm::Yes } else { Confirm::Ask }));
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match destroy::destroy(files, options, r.clone(), interrupt).await {
            Ok(_) => 0,
            Err(e) => {
                report_error(&r, &e);
                exit_code(&e)
            }
        }
    })
}
