//! The deploy as a whole: check what can be checked before touching anything, the stacks in
//! dependency order (independent ones at once), then the cluster side; Ctrl-C at any point
//! leaves AWS in a state the next run continues from, and says which.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;

use crate::aws::{AwsOptions, Configs};
use crate::cluster::{self, ClusterOptions, ClusterResult, SsmToolsPaths};
use crate::error::Error;
use crate::plan::{Files, Plan, PlanOptions};
use crate::report::Reporter;
use crate::stacks::{self, Deployed, Failure, InFlight, Outcome, Overrides, Settings, StackCtx, Tracker};
use crate::{parse_pairs, Options};

/// What a deploy did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Stack id → outcome.
    pub stacks: BTreeMap<String, Outcome>,
    /// Stack id → outputs.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    pub cluster: Option<ClusterResult>,
}

pub(crate) fn plan_options(o: &Options) -> PlanOptions {
    PlanOptions { region: o.region.clone(), stack_prefix: o.stack_prefix.clone() }
}

pub(crate) fn settings(o: &Options) -> Settings {
    let d = Settings::default();
    Settings {
        method: o.method,
        dry_run: o.dry_run,
        poll: o.poll.unwrap_or(d.poll),
        stack_timeout: o.stack_timeout.unwrap_or(d.stack_timeout),
    }
}

pub(crate) fn cluster_options(o: &Options) -> Result<ClusterOptions, Error> {
    Ok(ClusterOptions {
        kube_api: o.kube_api.clone().or_else(|| std::env::var("ARCHC_KUBE_API").ok().filter(|s| !s.is_empty())),
        set: parse_pairs("--set", &o.set)?,
        image_tag: o.image_tag.clone(),
        helm: o.helm.clone().or_else(|| cluster::access::which("helm")),
        lbc_chart_version: o
            .lbc_chart_version
            .clone()
            .unwrap_or_else(|| cluster::helm::LOAD_BALANCER_CONTROLLER_VERSION.to_string()),
        ssm: SsmToolsPaths {
            aws: cluster::access::which("aws"),
            session_manager_plugin: cluster::access::which("session-manager-plugin"),
        },
        profile: o.profile.clone(),
        wait_timeout: o.wait_timeout.unwrap_or(Duration::from_secs(600)),
        poll: o.poll.unwrap_or(Duration::from_secs(5)),
    })
}

/// Deploy `files`. `interrupt` resolving is Ctrl-C.
///
/// # Errors
/// See [`crate::exit_code`]; every failure has been reported with its detail.
pub async fn deploy(
    files: &Files,
    options: &Options,
    r: Arc<Reporter>,
    interrupt: impl Future<Output = ()>,
) -> Result<Summary, Error> {
    let plan = Plan::from_files(files, &plan_options(options))?;
    let overrides = Overrides::parse(&options.parameters)?;
    let copts = cluster_options(options)?;
    let cluster_side = !options.dry_run && !options.stacks_only && !plan.kubernetes.objects.is_empty();
    if cluster_side {
        cluster::preflight(&plan, &copts, &plan.region)?;
    }
    let configs = Arc::new(Configs::new(AwsOptions {
        profile: options.profile.clone(),
        endpoint_url: options.endpoint_url.clone(),
    }));
    configs.check_credentials(&plan.region).await?;
    if !options.dry_run {
        required_parameters(&plan, &overrides, &configs).await?;
    }
    let order: Vec<(String, String, String)> = plan
        .order()
        .iter()
        .filter_map(|id| plan.stack(id))
        .map(|s| (s.id.clone(), s.name.clone(), s.region.clone()))
        .collect();
    r.plan(if options.dry_run { "deploy --dry-run" } else { "deploy" }, &order);

    let tracker = Tracker::default();
    let settings = Arc::new(settings(options));
    let outcome = {
        let work = async {
            let mut summary = deploy_stacks(&plan, &overrides, &configs, &settings, &tracker, &r).await?;
            if options.dry_run {
                show_cluster_plan(&plan, &r);
            } else if cluster_side {
                summary.cluster = Some(cluster::deploy(&plan, files, &summary.outputs, &configs, &copts, &r).await?);
            }
            Ok::<Summary, Error>(summary)
        };
        tokio::pin!(work);
        tokio::select! {
            res = &mut work => Some(res),
            () = interrupt => None,
        }
    };
    match outcome {
        Some(Ok(summary)) => {
            report_summary(&r, &summary, options.dry_run);
            Ok(summary)
        }
        Some(Err(e)) => Err(e),
        None => {
            interrupted(&tracker, &r).await;
            Err(Error::Interrupted)
        }
    }
}

/// Parameters only the operator can give (no value in the plan, no default in the
/// template) are asked for before any stack changes; a stack that exists keeps the value it
/// was given before.
async fn required_parameters(plan: &Plan, overrides: &Overrides, configs: &Configs) -> Result<(), Error> {
    let mut missing = Vec::new();
    for s in &plan.stacks {
        let needed: Vec<&String> = s
            .parameters
            .iter()
            .filter(|(name, p)| {
                matches!(p.source, crate::plan::Source::Default(_))
                    && s.template.required_parameters.contains(*name)
                    && !overrides.has(&s.id, name)
            })
            .map(|(name, _)| name)
            .collect();
        if needed.is_empty() {
            continue;
        }
        let cfn = aws_sdk_cloudformation::Client::new(&configs.get(&s.region).await);
        let have = match stacks::describe(&cfn, &s.name).await? {
            stacks::Existing::Present(p) if p.status != "REVIEW_IN_PROGRESS" => p.parameters,
            _ => BTreeMap::new(),
        };
        for n in needed {
            if !have.contains_key(n) {
                missing.push(format!("--parameter {}.{n}=VALUE", s.id));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Missing(format!(
            "stack parameters that only you can give (no value in the diagram's configuration, no default): pass {} (nothing was changed)",
            missing.join(" ")
        )))
    }
}

/// The stacks, each once its dependencies are done; independent ones concurrently.
async fn deploy_stacks(
    plan: &Plan,
    overrides: &Overrides,
    configs: &Arc<Configs>,
    settings: &Arc<Settings>,
    tracker: &Tracker,
    r: &Arc<Reporter>,
) -> Result<Summary, Error> {
    let mut summary = Summary::default();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut set: JoinSet<(String, Result<Deployed, Box<Failure>>)> = JoinSet::new();
    loop {
        if failures.is_empty() {
            for s in plan.order().iter().filter_map(|id| plan.stack(id)) {
                if started.contains(&s.id) || !s.depends_on.iter().all(|d| summary.stacks.contains_key(d)) {
                    continue;
                }
                started.insert(s.id.clone());
                let wanted = match stacks::wanted(s, &summary.outputs, overrides, settings.dry_run) {
                    Ok(w) => w,
                    Err(e) => {
                        failures.push(Failure {
                            stack: s.id.clone(),
                            name: s.name.clone(),
                            status: None,
                            message: e.to_string(),
                            resources: vec![],
                            advice: String::new(),
                        });
                        break;
                    }
                };
                let ctx = StackCtx {
                    cfn: aws_sdk_cloudformation::Client::new(&configs.get(&s.region).await),
                    reporter: r.clone(),
                    settings: settings.clone(),
                    tracker: tracker.clone(),
                };
                let stack = s.clone();
                set.spawn(async move {
                    let result = stacks::deploy(&ctx, &stack, &wanted).await;
                    (stack.id, result)
                });
            }
        }
        let Some(joined) = set.join_next().await else { break };
        match joined {
            Ok((id, Ok(d))) => {
                if !(settings.dry_run && d.outputs.is_empty()) {
                    summary.outputs.insert(id.clone(), d.outputs);
                }
                summary.stacks.insert(id, d.outcome);
            }
            Ok((_, Err(f))) => {
                r.finish(&f.stack, false, &f.render());
                failures.push(*f);
            }
            Err(e) => failures.push(Failure {
                stack: "?".into(),
                name: "?".into(),
                status: None,
                message: format!("a stack task ended unexpectedly: {e}"),
                resources: vec![],
                advice: String::new(),
            }),
        }
    }
    if failures.is_empty() {
        return Ok(summary);
    }
    let not_started: Vec<&str> = plan.order().into_iter().filter(|id| !started.contains(*id)).collect();
    let mut message = String::from("deploy failed:");
    for f in &failures {
        message.push_str(&format!("\n  {}", f.render().replace('\n', "\n  ")));
    }
    let done: Vec<String> = summary.stacks.iter().map(|(id, o)| format!("{id} ({})", outcome_word(o))).collect();
    if !done.is_empty() {
        message.push_str(&format!("\n  done before the failure: {}", done.join(", ")));
    }
    if !not_started.is_empty() {
        message.push_str(&format!("\n  not started: {} (they come after the failed stack)", not_started.join(", ")));
    }
    message.push_str("\n  fix the cause and run `archc deploy` again: it continues from the state each stack is in");
    Err(Error::Stacks(message))
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::UpToDate => "up to date",
        Outcome::Shown => "shown",
    }
}

fn show_cluster_plan(plan: &Plan, r: &Reporter) {
    if plan.kubernetes.objects.is_empty() {
        return;
    }
    let mut files: Vec<&str> = plan.kubernetes.objects.iter().map(|o| o.file.as_str()).collect();
    files.sort_by_key(|f| crate::plan::apply_rank(f));
    let helm: Vec<&str> = plan.kubernetes.helm.iter().map(String::as_str).collect();
    r.record(
        json!({"type": "cluster_plan", "apply": files, "helm": helm}),
        &format!(
            "cluster (after the stacks; nothing applied with --dry-run): Helm {}; server-side apply of {}",
            if helm.is_empty() { "-".to_string() } else { helm.join(", ") },
            files.join(", ")
        ),
    );
}

fn report_summary(r: &Reporter, s: &Summary, dry_run: bool) {
    r.clear();
    let mut lines = vec![if dry_run { "Dry run: nothing was executed.".to_string() } else { "Deployed.".to_string() }];
    for (id, o) in &s.stacks {
        lines.push(format!("  {id}: {}", outcome_word(o)));
    }
    if let Some(c) = &s.cluster {
        if !c.applied.is_empty() {
            lines.push(format!("  cluster: {} objects applied", c.applied.len()));
        }
        if let Some(url) = &c.url {
            lines.push(format!("  URL: {url}"));
        }
        if let (Some(a), Some(url)) = (&c.address, &c.url) {
            if !url.ends_with(a.as_str()) {
                lines.push(format!("  point the DNS name at the load balancer {a} (CNAME or alias)"));
            }
        }
    }
    r.record(
        json!({
            "type": "summary",
            "ok": true,
            "dry_run": dry_run,
            "stacks": s.stacks.iter().map(|(k, v)| (k.clone(), outcome_word(v))).collect::<BTreeMap<_, _>>(),
            "url": s.cluster.as_ref().and_then(|c| c.url.clone()),
            "address": s.cluster.as_ref().and_then(|c| c.address.clone()),
        }),
        &lines.join("\n"),
    );
}

/// Ctrl-C: delete change sets that were not executed; say what CloudFormation still does and
/// that the next run continues from there.
async fn interrupted(tracker: &Tracker, r: &Reporter) {
    r.clear();
    let mut lines = vec!["Interrupted.".to_string()];
    for (stack, f) in tracker.take() {
        match f {
            InFlight::ChangeSet { client, name, change_set } => {
                let deleted = tokio::time::timeout(
                    Duration::from_secs(15),
                    client.delete_change_set().stack_name(&name).change_set_name(&change_set).send(),
                )
                .await;
                lines.push(match deleted {
                    Ok(Ok(_)) => format!("  {stack}: change set {change_set} was not executed; deleted it"),
                    _ => format!("  {stack}: change set {change_set} was not executed and could not be deleted now; the next deploy deletes it"),
                });
            }
            InFlight::Operation { name, what } => lines.push(format!(
                "  {stack}: CloudFormation goes on with the {what} of {name}; the next `archc deploy` waits for it to finish and continues from there"
            )),
        }
    }
    lines.push(
        "Stacks not started were not touched; cluster steps are server-side applies, repeated as they are by the next run. Run `archc deploy` again to continue."
            .into(),
    );
    r.record(json!({"type": "interrupted", "message": lines.join("\n")}), &lines.join("\n"));
}
