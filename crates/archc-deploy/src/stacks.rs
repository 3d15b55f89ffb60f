//! One stack through CloudFormation: find its state, create a change set (or call
//! CreateStack/UpdateStack with `--method direct`), show the changes, confirm, execute, and
//! wait with its events streamed; on failure, the failing resources, their reasons and the
//! rollback state. Every state a stack can be left in by an earlier run (a failed first
//! create, a change set never executed, an operation still running after Ctrl-C) is one
//! this code continues from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, OnFailure, Parameter, StackStatus, TemplateStage,
};
use aws_sdk_cloudformation::Client;

use crate::error::{aws_message, Error};
use crate::plan::{Source, Stack};
use crate::report::{Change, Event, Reporter};

/// `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Change sets: see the changes before anything happens (the default).
    #[default]
    ChangeSet,
    /// CreateStack / UpdateStack, for fast loops and emulators (as `cdk deploy --method direct`).
    Direct,
}

/// How stacks are deployed and waited for.
#[derive(Debug, Clone)]
pub struct Settings {
    pub method: Method,
    pub dry_run: bool,
    /// Between two polls of a stack's status and events.
    pub poll: Duration,
    /// Longest wait for one stack operation.
    pub stack_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            method: Method::ChangeSet,
            dry_run: false,
            poll: Duration::from_secs(5),
            stack_timeout: Duration::from_secs(3600),
        }
    }
}

/// What is in flight, so Ctrl-C can say what AWS is doing and clean up what was not
/// started: change sets created and not executed.
#[derive(Debug, Clone, Default)]
pub struct Tracker(Arc<Mutex<BTreeMap<String, InFlight>>>);

#[derive(Debug, Clone)]
pub enum InFlight {
    /// A change set exists and was not executed.
    ChangeSet { client: Client, name: String, change_set: String },
    /// CloudFormation is running an operation on the stack.
    Operation { name: String, what: String },
}

impl Tracker {
    pub(crate) fn set(&self, stack: &str, f: InFlight) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(stack.to_string(), f);
        }
    }

    fn clear(&self, stack: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(stack);
        }
    }

    pub fn take(&self) -> BTreeMap<String, InFlight> {
        self.0.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
    }
}

/// The context one stack operation runs in.
#[derive(Clone)]
pub struct StackCtx {
    pub cfn: Client,
    pub reporter: Arc<Reporter>,
    pub settings: Arc<Settings>,
    pub tracker: Tracker,
}

/// How a stack deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    UpToDate,
    /// `--dry-run`: shown, nothing executed.
    Shown,
}

#[derive(Debug, Clone)]
pub struct Deployed {
    pub outcome: Outcome,
    pub outputs: BTreeMap<String, String>,
}

/// A stack that did not reach its goal, with what CloudFormation said.
#[derive(Debug, Clone)]
pub struct Failure {
    pub stack: String,
    pub name: String,
    /// The status it was left in (None: it does not exist, or moto forgot it).
    pub status: Option<String>,
    pub message: String,
    /// Resource events that failed, with their reasons.
    pub resources: Vec<Event>,
    /// What the state means and what the next run does.
    pub advice: String,
}

impl Failure {
    fn new(stack: &Stack, message: impl Into<String>) -> Self {
        Self {
            stack: stack.id.clone(),
            name: stack.name.clone(),
            status: None,
            message: message.into(),
            resources: Vec::new(),
            advice: String::new(),
        }
    }

    /// The human report: reason, failing resources, rollback state.
    pub fn render(&self) -> String {
        let mut s = format!("{} ({}): {}", self.name, self.stack, self.message);
        if let Some(status) = &self.status {
            s.push_str(&format!("\n  stack status: {status}"));
        }
        for e in &self.resources {
            s.push_str(&format!(
                "\n  {} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        if !self.advice.is_empty() {
            s.push_str(&format!("\n  {}", self.advice));
        }
        s
    }
}

/// Parameter values a stack is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Known values (diagram, configuration, outputs of earlier stacks, `--parameter`).
    pub values: indexmap::IndexMap<String, String>,
    /// Left to the template's default, or the value the stack already has.
    pub keep: Vec<String>,
    /// Outputs of stacks that do not exist yet (dry run only): (parameter, stack).
    pub pending: Vec<(String, String)>,
}

/// `--parameter [STACK.]NAME=VALUE`.
#[derive(Debug, Clone, Default)]
pub struct Overrides(pub Vec<(Option<String>, String, String)>);

impl Overrides {
    /// Parse `NAME=VALUE` or `STACK.NAME=VALUE`.
    ///
    /// # Errors
    /// No `=`.
    pub fn parse(items: &[String]) -> Result<Self, Error> {
        let mut out = Vec::new();
        for item in items {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| Error::Plan(format!("--parameter `{item}`: expected NAME=VALUE or STACK.NAME=VALUE")))?;
            let (stack, name) = match key.split_once('.') {
                Some((s, n)) => (Some(s.to_string()), n.to_string()),
                None => (None, key.to_string()),
            };
            out.push((stack, name, value.to_string()));
        }
        Ok(Self(out))
    }

    pub fn has(&self, stack: &str, name: &str) -> bool {
        self.get(stack, name).is_some()
    }

    fn get(&self, stack: &str, name: &str) -> Option<&str> {
        let specific = self.0.iter().rev().find(|(s, n, _)| s.as_deref() == Some(stack) && n == name);
        let general = self.0.iter().rev().find(|(s, n, _)| s.is_none() && n == name);
        specific.or(general).map(|(_, _, v)| v.as_str())
    }
}

/// The parameters of `stack` from the plan's sources, the outputs of the stacks deployed so
/// far and `--parameter`.
///
/// # Errors
/// An earlier stack was deployed but lacks an output this stack needs.
pub fn wanted(
    stack: &Stack,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    overrides: &Overrides,
    dry_run: bool,
) -> Result<Wanted, Error> {
    let mut w = Wanted::default();
    for (name, p) in &stack.parameters {
        if let Some(v) = overrides.get(&stack.id, name) {
            w.values.insert(name.clone(), v.to_string());
            continue;
        }
        match &p.source {
            Source::Value(v) => match crate::plan::parameter_string(v) {
                Some(s) => {
                    w.values.insert(name.clone(), s);
                }
                None => w.keep.push(name.clone()),
            },
            Source::Default(_) => w.keep.push(name.clone()),
            Source::Output { stack: from, name: output } => match outputs.get(from) {
                Some(o) => match o.get(output) {
                    Some(v) => {
                        w.values.insert(name.clone(), v.clone());
                    }
                    None => {
                        return Err(Error::Stacks(format!(
                            "stack `{}` needs output `{output}` of stack `{from}` for parameter `{name}`, and `{from}` has no such output (an emulator that drops outputs, or a stack deployed from another template); pass --parameter {}.{name}=VALUE to give it",
                            stack.id, stack.id
                        )))
                    }
                },
                None if dry_run => w.pending.push((name.clone(), from.clone())),
                None => {
                    return Err(Error::Stacks(format!(
                        "stack `{}` needs stack `{from}`, which is not deployed",
                        stack.id
                    )))
                }
            },
        }
    }
    Ok(w)
}

/// The state of a stack as CloudFormation has it.
#[derive(Debug, Clone)]
pub enum Existing {
    None,
    Present(Present),
}

#[derive(Debug, Clone)]
pub struct Present {
    pub id: String,
    pub status: String,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
}

/// DescribeStacks of one stack.
///
/// # Errors
/// Any failure but "does not exist".
pub async fn describe(cfn: &Client, name: &str) -> Result<Existing, Error> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => {
            let Some(s) = out.stacks().first() else { return Ok(Existing::None) };
            let status = s.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
            if status == "DELETE_COMPLETE" {
                return Ok(Existing::None);
            }
            Ok(Existing::Present(Present {
                id: s.stack_id().unwrap_or(name).to_string(),
                status,
                parameters: s
                    .parameters()
                    .iter()
                    .filter_map(|p| {
                        Some((p.parameter_key()?.to_string(), p.parameter_value().unwrap_or("").to_string()))
                    })
                    .collect(),
                outputs: s
                    .outputs()
                    .iter()
                    .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value().unwrap_or("").to_string())))
                    .collect(),
            }))
        }
        Err(e) => {
            let msg = aws_message(&e);
            if msg.contains("does not exist") {
                Ok(Existing::None)
            } else {
                Err(Error::Aws(format!("DescribeStacks {name}: {msg}")))
            }
        }
    }
}

fn in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// States a deploy cannot continue from without a person.
fn stuck_advice(name: &str, status: &str) -> Option<String> {
    match status {
        "UPDATE_ROLLBACK_FAILED" => Some(format!(
            "the update's rollback failed: run `aws cloudformation continue-update-rollback --stack-name {name}` (with --resources-to-skip for resources that cannot roll back), then deploy again"
        )),
        "ROLLBACK_FAILED" => Some(format!(
            "the failed create could not be rolled back: delete the stack (`aws cloudformation delete-stack --stack-name {name}`, or `archc destroy`), then deploy again"
        )),
        "DELETE_FAILED" => Some(format!(
            "an earlier delete failed: run `archc destroy` again, or delete the resources it names and then `aws cloudformation delete-stack --stack-name {name}`"
        )),
        "IMPORT_ROLLBACK_FAILED" => Some(format!("an import's rollback failed: fix {name} by hand, then deploy again")),
        _ => None,
    }
}

/// What a terminal status means, for the failure report.
fn status_advice(status: &str) -> String {
    match status {
        "ROLLBACK_COMPLETE" => "rollback complete: CloudFormation deleted what the failed create had made; the next `archc deploy` deletes this empty stack and creates it again".into(),
        "UPDATE_ROLLBACK_COMPLETE" => "update rolled back: the stack is as it was before this deploy; fix the cause and deploy again".into(),
        "ROLLBACK_FAILED" | "UPDATE_ROLLBACK_FAILED" | "DELETE_FAILED" => stuck_advice("<stack>", status).unwrap_or_default(),
        "ROLLBACK_IN_PROGRESS" | "UPDATE_ROLLBACK_IN_PROGRESS" => "CloudFormation is still rolling back; the next `archc deploy` waits for it and continues".into(),
        _ => String::new(),
    }
}

/// Deploy one stack with the given parameters.
///
/// # Errors
/// A [`Failure`] with the reason, failing resources and rollback state.
pub async fn deploy(ctx: &StackCtx, stack: &Stack, wanted: &Wanted) -> Result<Deployed, Box<Failure>> {
    let r = &ctx.reporter;
    let cfn = &ctx.cfn;
    let fail = |m: String| Box::new(Failure::new(stack, m));
    let mut existing = describe(cfn, &stack.name).await.map_err(|e| fail(e.to_string()))?;

    // an operation left running (Ctrl-C, another deploy): wait for it, then look again
    if let Existing::Present(p) = &existing {
        if in_progress(&p.status) && !ctx.settings.dry_run {
            r.info(Some(&stack.id), &format!("{} is {}: waiting for it to finish first", stack.name, p.status));
            let end = wait(ctx, stack, &p.id, None, "earlier operation", None).await?;
            r.info(Some(&stack.id), &format!("the earlier operation ended in {}", end.status));
            existing = describe(cfn, &stack.name).await.map_err(|e| fail(e.to_string()))?;
        }
    }
    if let Existing::Present(p) = &existing {
        if let Some(advice) = stuck_advice(&stack.name, &p.status) {
            let mut f = Failure::new(stack, format!("the stack is in {}", p.status));
            f.status = Some(p.status.clone());
            f.advice = advice;
            return Err(Box::new(f));
        }
    }

    if ctx.settings.dry_run {
        return dry_run(ctx, stack, wanted, &existing).await;
    }

    // a failed first create leaves an empty ROLLBACK_COMPLETE stack that can only be deleted;
    // an unexecuted CREATE change set leaves REVIEW_IN_PROGRESS (reused by change sets)
    if let Existing::Present(p) = &existing {
        let recreate = p.status == "ROLLBACK_COMPLETE"
            || (p.status == "REVIEW_IN_PROGRESS" && ctx.settings.method == Method::Direct);
        if recreate {
            r.info(
                Some(&stack.id),
                &format!("{} is {} (nothing in it): deleting it to create it again", stack.name, p.status),
            );
            cfn.delete_stack()
                .stack_name(&p.id)
                .client_request_token(request_token("delete", &stack.name))
                .send()
                .await
                .map_err(|e| fail(format!("DeleteStack: {}", aws_message(&e))))?;
            let end = wait(ctx, stack, &p.id, None, "delete", Some(&p.status)).await?;
            if end.status != "DELETE_COMPLETE" {
                return Err(failure(stack, &end, "could not delete the empty stack".into()));
            }
            existing = Existing::None;
        }
    }

    let params = match parameters(stack, wanted, &existing) {
        Ok(p) => p,
        Err(e) => return Err(fail(e.to_string())),
    };
    if let Existing::Present(p) = &existing {
        if p.status != "REVIEW_IN_PROGRESS" && up_to_date(cfn, stack, &params, p).await {
            r.finish(&stack.id, true, &format!("{} is up to date (template and parameters unchanged)", stack.name));
            return Ok(Deployed { outcome: Outcome::UpToDate, outputs: p.outputs.clone() });
        }
    }
    match ctx.settings.method {
        Method::Direct => direct(ctx, stack, &params, &existing).await,
        Method::ChangeSet => change_set(ctx, stack, &params, &existing).await,
    }
}

/// The parameters to send: known values, and for an existing stack the previous value of
/// every parameter archc leaves to the operator (as `cdk deploy` keeps them).
fn parameters(stack: &Stack, wanted: &Wanted, existing: &Existing) -> Result<Vec<Parameter>, Error> {
    let mut out: Vec<Parameter> =
        wanted.values.iter().map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build()).collect();
    let mut missing = Vec::new();
    for name in &wanted.keep {
        let previous = match existing {
            Existing::Present(p) if p.status != "REVIEW_IN_PROGRESS" => p.parameters.contains_key(name),
            _ => false,
        };
        if previous {
            out.push(Parameter::builder().parameter_key(name).use_previous_value(true).build());
        } else if stack.template.required_parameters.contains(name) {
            missing.push(name.clone());
        }
    }
    if !missing.is_empty() {
        let hints: Vec<String> = missing.iter().map(|m| format!("--parameter {}.{m}=VALUE", stack.id)).collect();
        return Err(Error::Missing(format!(
            "stack `{}` needs values nobody gave for {}: pass {} (or set them in the diagram's configuration)",
            stack.id,
            missing.join(", "),
            hints.join(" ")
        )));
    }
    Ok(out)
}

/// The template CloudFormation has and the parameters it has equal what this deploy would
/// send: nothing to do. (CloudFormation would answer the same with a FAILED change set "The
/// submitted information didn't contain changes", after a round trip per stack.)
async fn up_to_date(cfn: &Client, stack: &Stack, params: &[Parameter], p: &Present) -> bool {
    let Ok(t) = cfn.get_template().stack_name(&stack.name).template_stage(TemplateStage::Original).send().await else {
        return false;
    };
    if t.template_body().map(str::trim_end) != Some(stack.template_body.trim_end()) {
        return false;
    }
    params.iter().all(|param| {
        param.use_previous_value() == Some(true)
            || (!stack.template.no_echo.contains(param.parameter_key().unwrap_or_default())
                && p.parameters.get(param.parameter_key().unwrap_or_default()).map(String::as_str)
                    == param.parameter_value())
    })
}

async fn direct(
    ctx: &StackCtx,
    stack: &Stack,
    params: &[Parameter],
    existing: &Existing,
) -> Result<Deployed, Box<Failure>> {
    let cfn = &ctx.cfn;
    let caps: Vec<Capability> = stack.capabilities.iter().map(|c| Capability::from(c.as_str())).collect();
    let (marker, before) = match existing {
        Existing::Present(p) => (latest_event(cfn, &p.id).await, Some(p.status.clone())),
        Existing::None => (None, None),
    };
    let (id, what, outcome) = match existing {
        Existing::None => {
            ctx.reporter.start(&stack.id, &stack.name, "CreateStack", stack.template.resources.len());
            let out = cfn
                .create_stack()
                .stack_name(&stack.name)
                .template_body(&stack.template_body)
                .set_parameters(Some(params.to_vec()))
                .set_capabilities(Some(caps))
                .on_failure(OnFailure::Rollback)
                .set_tags(Some(tags(stack)))
                .client_request_token(request_token("create", &stack.name))
                .send()
                .await
                .map_err(|e| Box::new(Failure::new(stack, format!("CreateStack failed: {}", aws_message(&e)))))
                .map_err(|f| created_nothing_or_left(f, "create"))?;
            (out.stack_id().unwrap_or(&stack.name).to_string(), "create", Outcome::Created)
        }
        Existing::Present(p) => {
            ctx.reporter.start(&stack.id, &stack.name, "UpdateStack", stack.template.resources.len());
            let sent = cfn
                .update_stack()
                .stack_name(&p.id)
                .template_body(&stack.template_body)
                .set_parameters(Some(params.to_vec()))
                .set_capabilities(Some(caps))
                .set_tags(Some(tags(stack)))
                .client_request_token(request_token("update", &stack.name))
                .send()
                .await;
            match sent {
                Ok(_) => (p.id.clone(), "update", Outcome::Updated),
                Err(e) => {
                    let msg = aws_message(&e);
                    if msg.contains("No updates are to be performed") {
                        ctx.reporter.finish(
                            &stack.id,
                            true,
                            &format!("{} is up to date (CloudFormation: no updates)", stack.name),
                        );
                        return Ok(Deployed { outcome: Outcome::UpToDate, outputs: p.outputs.clone() });
                    }
                    return Err(Box::new(Failure::new(stack, format!("UpdateStack failed: {msg}"))));
                }
            }
        }
    };
    ctx.tracker.set(&stack.id, InFlight::Operation { name: stack.name.clone(), what: what.into() });
    let end = wait(ctx, stack, &id, marker, what, before.as_deref()).await;
    ctx.tracker.clear(&stack.id);
    finish(ctx, stack, end?, outcome).await
}

/// A create that failed synchronously (emulators answer that way; CloudFormation checks
/// parameters synchronously too): say whether anything was left.
fn created_nothing_or_left(mut f: Box<Failure>, what: &str) -> Box<Failure> {
    f.advice = format!(
        "CloudFormation refused the {what} before starting it; an emulator may still have made some resources: `archc destroy` removes what the stack lists"
    );
    f
}

async fn change_set(
    ctx: &StackCtx,
    stack: &Stack,
    params: &[Parameter],
    existing: &Existing,
) -> Result<Deployed, Box<Failure>> {
    let cfn = &ctx.cfn;
    let r = &ctx.reporter;
    let fail = |m: String| Box::new(Failure::new(stack, m));
    // change sets are addressed by the stack's name (moto takes no stack id there)
    let target = stack.name.clone();
    let (kind, outcome) = match existing {
        Existing::None => (ChangeSetType::Create, Outcome::Created),
        Existing::Present(p) if p.status == "REVIEW_IN_PROGRESS" => (ChangeSetType::Create, Outcome::Created),
        Existing::Present(_) => (ChangeSetType::Update, Outcome::Updated),
    };
    if let Existing::Present(_) = existing {
        delete_leftover_change_sets(cfn, &target).await;
    }
    let change_set = change_set_name(&stack.id);
    let caps: Vec<Capability> = stack.capabilities.iter().map(|c| Capability::from(c.as_str())).collect();
    let created = cfn
        .create_change_set()
        .stack_name(&target)
        .change_set_name(&change_set)
        .change_set_type(kind.clone())
        .template_body(&stack.template_body)
        .set_parameters(Some(params.to_vec()))
        .set_capabilities(Some(caps))
        .set_tags(Some(tags(stack)))
        .description("archc deploy")
        .send()
        .await
        .map_err(|e| fail(format!("CreateChangeSet failed: {}", aws_message(&e))))?;
    let stack_id = created.stack_id().unwrap_or(&target).to_string();
    ctx.tracker.set(
        &stack.id,
        InFlight::ChangeSet { client: cfn.clone(), name: target.clone(), change_set: change_set.clone() },
    );
    let described = wait_change_set(ctx, &target, &change_set).await;
    let changes = match described {
        Ok(ChangeSetState::Ready(changes)) => changes,
        Ok(ChangeSetState::NoChanges) => {
            let _ = cfn.delete_change_set().stack_name(&target).change_set_name(&change_set).send().await;
            ctx.tracker.clear(&stack.id);
            r.finish(&stack.id, true, &format!("{} is up to date (no changes)", stack.name));
            let outputs = match describe(cfn, &stack.name).await {
                Ok(Existing::Present(p)) => p.outputs,
                _ => BTreeMap::new(),
            };
            return Ok(Deployed { outcome: Outcome::UpToDate, outputs });
        }
        Err(reason) => {
            let _ = cfn.delete_change_set().stack_name(&target).change_set_name(&change_set).send().await;
            ctx.tracker.clear(&stack.id);
            return Err(fail(format!("the change set failed: {reason}")));
        }
    };
    let heading =
        format!("{}, change set {change_set}", if kind == ChangeSetType::Create { "create" } else { "update" });
    let question = format!("Execute the change set of {}?", stack.name);
    let confirmed = match r.review(&stack.id, &stack.name, &heading, &changes, &question).await {
        Ok(answer) => answer,
        Err(e) => {
            let _ = cfn.delete_change_set().stack_name(&target).change_set_name(&change_set).send().await;
            ctx.tracker.clear(&stack.id);
            return Err(fail(e.to_string()));
        }
    };
    if !confirmed {
        let _ = cfn.delete_change_set().stack_name(&target).change_set_name(&change_set).send().await;
        ctx.tracker.clear(&stack.id);
        let mut f = Failure::new(stack, "not executed: declined");
        f.advice = "the change set was deleted; nothing changed".into();
        return Err(Box::new(f));
    }
    let marker = latest_event(cfn, &stack_id).await;
    ctx.reporter.start(&stack.id, &stack.name, "ExecuteChangeSet", changes.len());
    cfn.execute_change_set()
        .stack_name(&target)
        .change_set_name(&change_set)
        .client_request_token(request_token("execute", &stack.name))
        .send()
        .await
        .map_err(|e| fail(format!("ExecuteChangeSet failed: {}", aws_message(&e))))?;
    ctx.tracker
        .set(&stack.id, InFlight::Operation { name: stack.name.clone(), what: format!("change set {change_set}") });
    let before = match existing {
        Existing::Present(p) => Some(p.status.as_str()),
        Existing::None => Some("REVIEW_IN_PROGRESS"),
    };
    let end = wait(ctx, stack, &stack_id, marker, "change set", before).await;
    ctx.tracker.clear(&stack.id);
    finish(ctx, stack, end?, outcome).await
}

/// The end of a wait: success with outputs, or the failure report.
async fn finish(ctx: &StackCtx, stack: &Stack, end: End, outcome: Outcome) -> Result<Deployed, Box<Failure>> {
    let ok = matches!(end.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE");
    if !ok {
        return Err(failure(stack, &end, format!("ended in {}", end.status)));
    }
    let outputs = match describe(&ctx.cfn, &stack.name).await {
        Ok(Existing::Present(p)) => p.outputs,
        Ok(Existing::None) => BTreeMap::new(),
        Err(e) => return Err(Box::new(Failure::new(stack, e.to_string()))),
    };
    let missing: Vec<&str> = stack.outputs.iter().map(String::as_str).filter(|o| !outputs.contains_key(*o)).collect();
    if !missing.is_empty() {
        ctx.reporter.warn(
            Some(&stack.id),
            &format!("{} has no output {} (plan.json lists them)", stack.name, missing.join(", ")),
        );
    }
    let verb = if outcome == Outcome::Created { "created" } else { "updated" };
    ctx.reporter.finish(&stack.id, true, &format!("{} {verb} ({})", stack.name, end.status));
    Ok(Deployed { outcome, outputs })
}

fn failure(stack: &Stack, end: &End, message: String) -> Box<Failure> {
    let mut f = Failure::new(stack, message);
    f.status = Some(end.status.clone());
    // resource failures first; the stack's own summary ("The following resource(s) failed")
    // only when no resource said more
    let mut resources: Vec<Event> = end
        .events
        .iter()
        .filter(|e| e.is_failure() && e.resource_type != "AWS::CloudFormation::Stack")
        .cloned()
        .collect();
    if resources.is_empty() {
        resources = end.events.iter().filter(|e| e.is_failure() || e.reason.is_some()).cloned().collect();
    }
    f.resources = resources;
    f.advice = status_advice(&end.status).replace("<stack>", &stack.name);
    Box::new(f)
}

fn tag(k: &str, v: &str) -> aws_sdk_cloudformation::types::Tag {
    aws_sdk_cloudformation::types::Tag::builder().key(k).value(v).build()
}

/// The stack's tags (from the plan; `archc:stack` always).
fn tags(stack: &Stack) -> Vec<aws_sdk_cloudformation::types::Tag> {
    stack.tags.iter().map(|(k, v)| tag(k, v)).collect()
}

/// `archc-<stack>-<unix seconds>`: unique per stack and run (moto does not keep change set
/// names apart per stack, and stacks created in the same second must not share one).
fn change_set_name(stack: &str) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let id: String = stack.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("archc-{id}-{secs}")
}

/// Change sets of earlier runs that were never executed (a declined prompt, Ctrl-C).
async fn delete_leftover_change_sets(cfn: &Client, stack: &str) {
    let Ok(list) = cfn.list_change_sets().stack_name(stack).send().await else { return };
    for s in list.summaries() {
        if let Some(name) = s.change_set_name().filter(|n| n.starts_with("archc-")) {
            let _ = cfn.delete_change_set().stack_name(stack).change_set_name(name).send().await;
        }
    }
}

enum ChangeSetState {
    Ready(Vec<Change>),
    NoChanges,
}

async fn wait_change_set(ctx: &StackCtx, stack: &str, name: &str) -> Result<ChangeSetState, String> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(0);
    loop {
        tokio::time::sleep(delay).await;
        delay = ctx.settings.poll.min(delay * 2 + Duration::from_millis(200));
        let out = ctx
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| format!("DescribeChangeSet: {}", aws_message(&e)))?;
        let status = out.status().cloned();
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                let mut changes = to_changes(out.changes());
                let mut token = out.next_token().map(str::to_string);
                while let Some(t) = token {
                    let page = ctx
                        .cfn
                        .describe_change_set()
                        .stack_name(stack)
                        .change_set_name(name)
                        .next_token(t)
                        .send()
                        .await
                        .map_err(|e| format!("DescribeChangeSet: {}", aws_message(&e)))?;
                    changes.extend(to_changes(page.changes()));
                    token = page.next_token().map(str::to_string);
                }
                return Ok(ChangeSetState::Ready(changes));
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or("no reason given").to_string();
                if reason.contains("didn't contain changes") || reason.contains("No updates are to be performed") {
                    return Ok(ChangeSetState::NoChanges);
                }
                return Err(reason);
            }
            _ => {}
        }
        if started.elapsed() > ctx.settings.stack_timeout {
            return Err("the change set was not ready in time".into());
        }
    }
}

fn to_changes(changes: &[aws_sdk_cloudformation::types::Change]) -> Vec<Change> {
    changes
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|rc| Change {
            action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
            logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: rc.resource_type().unwrap_or_default().to_string(),
            physical_id: rc.physical_resource_id().map(str::to_string),
            replacement: rc.replacement().map(|r| r.as_str().to_string()),
        })
        .collect()
}

/// `--dry-run`: an existing stack's changes from a change set that is deleted again; a
/// stack that does not exist yet (or whose inputs are not known yet) from its template.
async fn dry_run(
    ctx: &StackCtx,
    stack: &Stack,
    wanted: &Wanted,
    existing: &Existing,
) -> Result<Deployed, Box<Failure>> {
    let r = &ctx.reporter;
    let from_template = |why: &str| -> Vec<Change> {
        let _ = why;
        stack
            .template
            .resources
            .iter()
            .map(|(id, res)| Change {
                action: "Add".into(),
                logical_id: id.clone(),
                resource_type: res.ty.clone(),
                physical_id: None,
                replacement: None,
            })
            .collect()
    };
    let present = match existing {
        Existing::Present(p) if p.status != "REVIEW_IN_PROGRESS" => p,
        _ => {
            r.changes(
                &stack.id,
                &stack.name,
                "create: the stack does not exist yet; from its template",
                &from_template(""),
            );
            r.finish(&stack.id, true, &format!("{}: shown, nothing executed (--dry-run)", stack.name));
            return Ok(Deployed { outcome: Outcome::Shown, outputs: BTreeMap::new() });
        }
    };
    if !wanted.pending.is_empty() {
        let from: BTreeSet<&str> = wanted.pending.iter().map(|(_, s)| s.as_str()).collect();
        r.changes(
            &stack.id,
            &stack.name,
            &format!(
                "update: its parameters depend on {} which does not exist yet; the template's resources",
                from.into_iter().collect::<Vec<_>>().join(", ")
            ),
            &from_template(""),
        );
        return Ok(Deployed { outcome: Outcome::Shown, outputs: present.outputs.clone() });
    }
    let params = parameters(stack, wanted, existing).map_err(|e| Box::new(Failure::new(stack, e.to_string())))?;
    if up_to_date(&ctx.cfn, stack, &params, present).await {
        r.finish(&stack.id, true, &format!("{} is up to date (template and parameters unchanged)", stack.name));
        return Ok(Deployed { outcome: Outcome::UpToDate, outputs: present.outputs.clone() });
    }
    let change_set = change_set_name(&stack.id);
    let caps: Vec<Capability> = stack.capabilities.iter().map(|c| Capability::from(c.as_str())).collect();
    let cfn = &ctx.cfn;
    cfn.create_change_set()
        .stack_name(&stack.name)
        .change_set_name(&change_set)
        .change_set_type(ChangeSetType::Update)
        .template_body(&stack.template_body)
        .set_parameters(Some(params))
        .set_capabilities(Some(caps))
        .description("archc deploy --dry-run (deleted after it is shown)")
        .send()
        .await
        .map_err(|e| Box::new(Failure::new(stack, format!("CreateChangeSet failed: {}", aws_message(&e)))))?;
    ctx.tracker.set(
        &stack.id,
        InFlight::ChangeSet { client: cfn.clone(), name: stack.name.clone(), change_set: change_set.clone() },
    );
    let state = wait_change_set(ctx, &stack.name, &change_set).await;
    let _ = cfn.delete_change_set().stack_name(&stack.name).change_set_name(&change_set).send().await;
    ctx.tracker.clear(&stack.id);
    match state {
        Ok(ChangeSetState::Ready(changes)) => {
            r.changes(&stack.id, &stack.name, "update (change set deleted: --dry-run)", &changes);
            r.finish(&stack.id, true, &format!("{}: shown, nothing executed (--dry-run)", stack.name));
        }
        Ok(ChangeSetState::NoChanges) => {
            r.finish(&stack.id, true, &format!("{} is up to date (no changes)", stack.name))
        }
        Err(reason) => return Err(Box::new(Failure::new(stack, format!("the change set failed: {reason}")))),
    }
    Ok(Deployed { outcome: Outcome::Shown, outputs: present.outputs.clone() })
}

/// The end of one stack operation: its final status and the events it produced.
#[derive(Debug, Clone)]
pub struct End {
    pub status: String,
    pub events: Vec<Event>,
}

/// The newest event id of a stack: events after it belong to the next operation.
pub async fn latest_event(cfn: &Client, stack: &str) -> Option<String> {
    let out = cfn.describe_stack_events().stack_name(stack).send().await.ok()?;
    out.stack_events().first().and_then(|e| e.event_id()).map(str::to_string)
}

/// Wait until the stack leaves `*_IN_PROGRESS`, reporting its events as they come. A stack
/// that disappears (deleted) ends in `DELETE_COMPLETE`.
///
/// # Errors
/// The status cannot be read, or the wait exceeds the stack timeout.
pub async fn wait(
    ctx: &StackCtx,
    stack: &Stack,
    id: &str,
    marker: Option<String>,
    what: &str,
    before: Option<&str>,
) -> Result<End, Box<Failure>> {
    let started = Instant::now();
    let mut polls = 0;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut events = Vec::new();
    let mut delay = Duration::from_millis(0);
    loop {
        tokio::time::sleep(delay).await;
        delay = ctx.settings.poll.min(delay * 2 + Duration::from_millis(250));
        for e in new_events(&ctx.cfn, id, marker.as_deref(), &seen).await {
            seen.insert(e.id.clone());
            ctx.reporter.event(&stack.id, &e);
            events.push(e);
        }
        let status = match ctx.cfn.describe_stacks().stack_name(id).send().await {
            Ok(out) => out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()),
            Err(e) => {
                let msg = aws_message(&e);
                if msg.contains("does not exist") {
                    Some(StackStatus::DeleteComplete.as_str().to_string())
                } else {
                    return Err(Box::new(Failure::new(stack, format!("DescribeStacks: {msg}"))));
                }
            }
        };
        let status = status.unwrap_or_else(|| StackStatus::DeleteComplete.as_str().to_string());
        polls += 1;
        // the operation may not show yet: the status it had before and no event of it
        let not_started = before == Some(status.as_str()) && events.is_empty() && polls < 4;
        // an executed CREATE change set goes REVIEW_IN_PROGRESS -> CREATE_IN_PROGRESS
        if !status.ends_with("_IN_PROGRESS") && !not_started {
            // the events of the last moments (the failures that ended it)
            for e in new_events(&ctx.cfn, id, marker.as_deref(), &seen).await {
                seen.insert(e.id.clone());
                ctx.reporter.event(&stack.id, &e);
                events.push(e);
            }
            return Ok(End { status, events });
        }
        if started.elapsed() > ctx.settings.stack_timeout {
            let mut f = Failure::new(
                stack,
                format!("the {what} did not finish within {} s (still {status})", ctx.settings.stack_timeout.as_secs()),
            );
            f.status = Some(status);
            f.advice = "CloudFormation goes on; the next `archc deploy` waits for it and continues".into();
            return Err(Box::new(f));
        }
    }
}

/// Events newer than `marker` not seen yet, oldest first.
async fn new_events(cfn: &Client, stack: &str, marker: Option<&str>, seen: &BTreeSet<String>) -> Vec<Event> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    'pages: for _ in 0..20 {
        let Ok(page) = cfn.describe_stack_events().stack_name(stack).set_next_token(token.clone()).send().await else {
            break;
        };
        for e in page.stack_events() {
            let id = e.event_id().unwrap_or_default().to_string();
            if Some(id.as_str()) == marker || seen.contains(&id) {
                break 'pages;
            }
            out.push(Event {
                id,
                time: e
                    .timestamp()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .unwrap_or_default(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: e.resource_type().unwrap_or_default().to_string(),
                status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out.reverse();
    out
}

/// A `ClientRequestToken` for one request: the SDK retries a request that timed out or got a
/// server error with the same token, so CloudFormation takes the retry as the same request
/// instead of answering `AlreadyExistsException` for the create it already started.
pub(crate) fn request_token(op: &str, stack: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut token = format!("archc-{op}-{}-{nanos}-{stack}", std::process::id());
    token.truncate(128);
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ParamJson, TemplateInfo};

    fn stack(params: &[(&str, Source)], required: &[&str]) -> Stack {
        Stack {
            id: "app".into(),
            name: "demo-app".into(),
            order: 1,
            region: "eu-north-1".into(),
            template_path: "app.yaml".into(),
            template_body: String::new(),
            template: TemplateInfo {
                required_parameters: required.iter().map(|s| s.to_string()).collect(),
                ..TemplateInfo::default()
            },
            parameters: params
                .iter()
                .map(|(n, s)| (n.to_string(), ParamJson { ty: "String".into(), source: s.clone() }))
                .collect(),
            outputs: vec![],
            capabilities: vec![],
            tags: indexmap::IndexMap::new(),
            depends_on: BTreeSet::new(),
        }
    }

    #[test]
    fn parameters_come_from_values_outputs_and_overrides() {
        let s = stack(
            &[
                ("VpcId", Source::Output { stack: "net".into(), name: "VpcId".into() }),
                ("Size", Source::Value(serde_json::json!(2))),
                ("Org", Source::Default(serde_json::Value::Null)),
                ("Cidrs", Source::Default(serde_json::json!(""))),
            ],
            &["Org", "VpcId"],
        );
        let outputs =
            BTreeMap::from([("net".to_string(), BTreeMap::from([("VpcId".to_string(), "vpc-1".to_string())]))]);
        let o = Overrides::parse(&["app.Size=3".into(), "Org=acme".into()]).expect("overrides");
        let w = wanted(&s, &outputs, &o, false).expect("wanted");
        assert_eq!(w.values.get("VpcId").map(String::as_str), Some("vpc-1"));
        assert_eq!(w.values.get("Size").map(String::as_str), Some("3"), "STACK.NAME wins");
        assert_eq!(w.values.get("Org").map(String::as_str), Some("acme"));
        assert_eq!(w.keep, ["Cidrs"]);

        let none = wanted(&s, &outputs, &Overrides::default(), false).expect("wanted");
        let err = parameters(&s, &none, &Existing::None).expect_err("Org has no value");
        assert!(err.to_string().contains("--parameter app.Org=VALUE"), "{err}");
        let present = Existing::Present(Present {
            id: "arn".into(),
            status: "UPDATE_COMPLETE".into(),
            parameters: BTreeMap::from([
                ("Org".to_string(), "old".to_string()),
                ("Cidrs".to_string(), "x".to_string()),
            ]),
            outputs: BTreeMap::new(),
        });
        let p = parameters(&s, &none, &present).expect("previous values");
        let previous: Vec<&str> =
            p.iter().filter(|p| p.use_previous_value() == Some(true)).filter_map(|p| p.parameter_key()).collect();
        assert_eq!(previous, ["Org", "Cidrs"], "an existing stack keeps what the operator gave before");

        let err = wanted(&s, &BTreeMap::from([("net".to_string(), BTreeMap::new())]), &Overrides::default(), false)
            .expect_err("output missing");
        assert!(err.to_string().contains("has no such output"), "{err}");
        let dry = wanted(&s, &BTreeMap::new(), &Overrides::default(), true).expect("dry run");
        assert_eq!(dry.pending, [("VpcId".to_string(), "net".to_string())]);
    }
}
