//! `archc destroy`: the stacks in reverse dependency order (a stack only once every stack
//! that depends on it is gone; independent ones at once), after the Ingresses (whose load
//! balancers CloudFormation does not know); then what was kept: resources with
//! `DeletionPolicy: Retain` and the final snapshots of `Snapshot` ones. A stack that cannot be
//! deleted is reported with CloudFormation's reason and what is left of it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use aws_sdk_cloudformation::types::TemplateStage;
use aws_sdk_cloudformation::Client;
use serde_json::json;
use tokio::task::JoinSet;

use crate::aws::{AwsOptions, Configs};
use crate::error::{aws_message, Error};
use crate::plan::{Plan, Stack, TemplateInfo};
use crate::report::Reporter;
use crate::run::{cluster_options, plan_options, settings};
use crate::stacks::{self, Existing, StackCtx, Tracker};
use crate::{cluster, Files, Options};

/// One resource as CloudFormation lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}

/// What deleting one stack did.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    /// Kept on purpose: (logical id, type, physical id, policy).
    pub retained: Vec<(String, String, Option<String>, String)>,
}

/// Why a stack was not deleted.
#[derive(Debug, Clone)]
pub struct NotDeleted {
    pub stack: String,
    pub name: String,
    pub reason: String,
    pub status: Option<String>,
    /// Its resources that may still exist.
    pub left: Vec<Resource>,
}

impl NotDeleted {
    fn render(&self) -> String {
        let mut s = format!("{} ({}): {}", self.name, self.stack, self.reason);
        if let Some(st) = &self.status {
            s.push_str(&format!("\n  stack status afterwards: {st}"));
        }
        if !self.left.is_empty() {
            s.push_str("\n  what is left (as CloudFormation listed the stack's resources):");
            for r in &self.left {
                s.push_str(&format!(
                    "\n    {} ({}) {}",
                    r.logical_id,
                    r.resource_type,
                    r.physical_id.as_deref().unwrap_or("(no physical id)")
                ));
            }
        }
        s
    }
}

async fn resources(cfn: &Client, stack: &str) -> Vec<Resource> {
    let Ok(out) = cfn.describe_stack_resources().stack_name(stack).send().await else { return Vec::new() };
    out.stack_resources()
        .iter()
        .map(|r| Resource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().filter(|p| !p.is_empty()).map(str::to_string),
            resource_type: r.resource_type().unwrap_or_default().to_string(),
            status: r.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        })
        .collect()
}

/// Delete one stack and wait.
async fn delete_stack(ctx: &StackCtx, stack: &Stack, p: &stacks::Present) -> Result<Deleted, Box<NotDeleted>> {
    let cfn = &ctx.cfn;
    let before = resources(cfn, &p.id).await;
    // the template CloudFormation has says what is kept; ours when it cannot be read
    let template = match cfn.get_template().stack_name(&p.id).template_stage(TemplateStage::Original).send().await {
        Ok(t) => t.template_body().and_then(|b| TemplateInfo::parse(b).ok()).unwrap_or_else(|| stack.template.clone()),
        Err(_) => stack.template.clone(),
    };
    let not_deleted = |reason: String, status: Option<String>, left: Vec<Resource>| {
        Box::new(NotDeleted { stack: stack.id.clone(), name: stack.name.clone(), reason, status, left })
    };
    let marker = stacks::latest_event(cfn, &p.id).await;
    ctx.reporter.start(&stack.id, &stack.name, "DeleteStack", before.len());
    if let Err(e) = cfn
        .delete_stack()
        .stack_name(&p.id)
        .client_request_token(crate::stacks::request_token("delete", &stack.name))
        .send()
        .await
    {
        let reason = format!("DeleteStack failed: {}", aws_message(&e));
        let status = match stacks::describe(cfn, &stack.name).await {
            Ok(Existing::Present(now)) => Some(now.status),
            Ok(Existing::None) => {
                Some("no longer listed by CloudFormation, though its delete failed: its resources may remain".into())
            }
            Err(_) => None,
        };
        return Err(not_deleted(reason, status, before));
    }
    let end = match stacks::wait(ctx, stack, &p.id, marker, "delete", Some(&p.status)).await {
        Ok(end) => end,
        Err(f) => return Err(not_deleted(f.message, f.status, before)),
    };
    if end.status != "DELETE_COMPLETE" {
        let failed: Vec<String> = end
            .events
            .iter()
            .filter(|e| e.is_failure() && e.resource_type != "AWS::CloudFormation::Stack")
            .map(|e| {
                format!("{} ({}): {}", e.logical_id, e.resource_type, e.reason.as_deref().unwrap_or("no reason given"))
            })
            .collect();
        let left: Vec<Resource> =
            resources(cfn, &p.id).await.into_iter().filter(|r| r.status != "DELETE_COMPLETE").collect();
        let reason = if failed.is_empty() {
            format!("the delete ended in {}", end.status)
        } else {
            format!("the delete ended in {}: {}", end.status, failed.join("; "))
        };
        return Err(not_deleted(reason, Some(end.status), left));
    }
    let mut deleted = Deleted::default();
    for (id, res) in &template.resources {
        if let Some(policy) = res
            .deletion_policy
            .as_deref()
            .filter(|p| *p == "Retain" || *p == "Snapshot" || *p == "RetainExceptOnCreate")
        {
            let physical = before.iter().find(|r| &r.logical_id == id).and_then(|r| r.physical_id.clone());
            if before.is_empty() || before.iter().any(|r| &r.logical_id == id) {
                deleted.retained.push((id.clone(), res.ty.clone(), physical, policy.to_string()));
            }
        }
    }
    ctx.reporter.finish(&stack.id, true, &format!("{} deleted", stack.name));
    Ok(deleted)
}

fn retained_line(stack: &str, (id, ty, physical, policy): &(String, String, Option<String>, String)) -> String {
    let what = physical.as_deref().unwrap_or("(no physical id)");
    if policy == "Snapshot" {
        format!("{stack}: {id} ({ty}) {what}: deleted after a final snapshot, which is kept")
    } else {
        format!("{stack}: {id} ({ty}) {what}: kept (DeletionPolicy {policy}); delete it by hand when no longer needed")
    }
}

/// Destroy what a deploy of `files` made.
///
/// # Errors
/// A stack could not be deleted (reported with its reason and what is left), the operator
/// declined, or Ctrl-C.
pub async fn destroy(
    files: &Files,
    options: &Options,
    r: Arc<Reporter>,
    interrupt: impl Future<Output = ()>,
) -> Result<(), Error> {
    let plan = Plan::from_files(files, &plan_options(options))?;
    let configs = Arc::new(Configs::new(AwsOptions {
        profile: options.profile.clone(),
        endpoint_url: options.endpoint_url.clone(),
    }));
    configs.check_credentials(&plan.region).await?;
    let mut existing: BTreeMap<String, stacks::Present> = BTreeMap::new();
    for s in &plan.stacks {
        let cfn = Client::new(&configs.get(&s.region).await);
        if let Existing::Present(p) = stacks::describe(&cfn, &s.name).await? {
            existing.insert(s.id.clone(), p);
        }
    }
    let mut order: Vec<&str> = plan.order();
    order.reverse();
    let listed: Vec<(String, String, String)> = order
        .iter()
        .filter_map(|id| plan.stack(id))
        .filter(|s| existing.contains_key(&s.id))
        .map(|s| (s.id.clone(), s.name.clone(), s.region.clone()))
        .collect();
    if listed.is_empty() {
        r.record(
            json!({"type": "summary", "ok": true, "deleted": [], "retained": []}),
            "Nothing to destroy: none of the stacks exists.",
        );
        return Ok(());
    }
    r.plan("destroy", &listed);
    let names: Vec<&str> = listed.iter().map(|(_, n, _)| n.as_str()).collect();
    if !r.confirm(&format!("Delete the stacks {}?", names.join(", "))).await? {
        return Err(Error::Declined("not destroyed: declined".into()));
    }

    let tracker = Tracker::default();
    let settings = Arc::new(settings(options));
    let outcome = {
        let work = async {
            // the Ingresses first: their ALBs are not CloudFormation's and would keep the VPC
            if !options.stacks_only && plan.kubernetes.objects.iter().any(|o| o.kind == "Ingress") {
                let outputs: BTreeMap<String, BTreeMap<String, String>> =
                    existing.iter().map(|(k, p)| (k.clone(), p.outputs.clone())).collect();
                match cluster_options(options) {
                    Ok(copts) => match cluster::delete_ingresses(&plan, &outputs, &configs, &copts, &r).await {
                        Ok(n) if n > 0 => r.info(Some("cluster"), &format!("{n} Ingress(es) and their load balancers removed")),
                        Ok(_) => {}
                        Err(e) => r.warn(
                            Some("cluster"),
                            &format!("could not delete the Ingresses first ({e}); a load balancer the controller made may keep the network stack from being deleted: delete it by hand if so"),
                        ),
                    },
                    Err(e) => r.warn(Some("cluster"), &e.to_string()),
                }
            }
            delete_stacks(&plan, &existing, &configs, &settings, &tracker, &r).await
        };
        tokio::pin!(work);
        tokio::select! {
            res = &mut work => Some(res),
            () = interrupt => None,
        }
    };
    match outcome {
        Some(res) => res,
        None => {
            r.clear();
            let mut lines = vec!["Interrupted.".to_string()];
            for (stack, f) in tracker.take() {
                if let stacks::InFlight::Operation { name, .. } = f {
                    lines.push(format!("  {stack}: CloudFormation goes on deleting {name}; run `archc destroy` again to wait for it and continue"));
                }
            }
            r.record(json!({"type": "interrupted", "message": lines.join("\n")}), &lines.join("\n"));
            Err(Error::Interrupted)
        }
    }
}

async fn delete_stacks(
    plan: &Plan,
    existing: &BTreeMap<String, stacks::Present>,
    configs: &Arc<Configs>,
    settings: &Arc<stacks::Settings>,
    tracker: &Tracker,
    r: &Arc<Reporter>,
) -> Result<(), Error> {
    let mut gone: BTreeSet<String> =
        plan.stacks.iter().filter(|s| !existing.contains_key(&s.id)).map(|s| s.id.clone()).collect();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut failed: Vec<NotDeleted> = Vec::new();
    let mut retained: Vec<String> = Vec::new();
    let mut set: JoinSet<(String, Result<Deleted, Box<NotDeleted>>)> = JoinSet::new();
    loop {
        for s in &plan.stacks {
            if gone.contains(&s.id) || started.contains(&s.id) {
                continue;
            }
            // every stack that depends on this one must be gone first
            if !plan.dependents(&s.id).iter().all(|d| gone.contains(&d.id)) {
                continue;
            }
            let Some(p) = existing.get(&s.id).cloned() else { continue };
            started.insert(s.id.clone());
            let ctx = StackCtx {
                cfn: Client::new(&configs.get(&s.region).await),
                reporter: r.clone(),
                settings: settings.clone(),
                tracker: tracker.clone(),
            };
            let stack = s.clone();
            set.spawn(async move {
                ctx.tracker
                    .set(&stack.id, stacks::InFlight::Operation { name: stack.name.clone(), what: "delete".into() });
                let res = delete_stack(&ctx, &stack, &p).await;
                (stack.id, res)
            });
        }
        let Some(joined) = set.join_next().await else { break };
        match joined {
            Ok((id, Ok(d))) => {
                retained.extend(d.retained.iter().map(|x| retained_line(&id, x)));
                gone.insert(id);
            }
            Ok((_, Err(nd))) => {
                r.finish(&nd.stack, false, &nd.render());
                failed.push(*nd);
            }
            Err(e) => return Err(Error::Stacks(format!("a delete task ended unexpectedly: {e}"))),
        }
    }
    let kept: Vec<&str> = plan
        .stacks
        .iter()
        .filter(|s| !gone.contains(&s.id) && !failed.iter().any(|f| f.stack == s.id))
        .map(|s| s.id.as_str())
        .collect();
    let deleted: Vec<&str> = plan
        .stacks
        .iter()
        .filter(|s| existing.contains_key(&s.id) && gone.contains(&s.id))
        .map(|s| s.id.as_str())
        .collect();
    let mut lines = vec![if failed.is_empty() { "Destroyed.".to_string() } else { "Destroy incomplete.".to_string() }];
    if !deleted.is_empty() {
        lines.push(format!("  deleted: {}", deleted.join(", ")));
    }
    if !retained.is_empty() {
        lines.push("  retained (not deleted by design):".into());
        lines.extend(retained.iter().map(|l| format!("    {l}")));
    }
    if !kept.is_empty() {
        lines.push(format!("  not deleted, because a stack that depends on them was not: {}", kept.join(", ")));
    }
    r.record(
        json!({"type": "summary", "ok": failed.is_empty(), "deleted": deleted, "retained": retained, "kept": kept,
               "failed": failed.iter().map(|f| json!({"stack": f.stack, "reason": f.reason, "status": f.status,
                   "left": f.left.iter().map(|r| json!({"logical_id": r.logical_id, "type": r.resource_type, "physical_id": r.physical_id})).collect::<Vec<_>>()})).collect::<Vec<_>>()}),
        &lines.join("\n"),
    );
    if failed.is_empty() {
        return Ok(());
    }
    let mut message = String::from("destroy failed:");
    for f in &failed {
        message.push_str(&format!("\n  {}", f.render().replace('\n', "\n  ")));
    }
    message.push_str("\n  remove what blocks the delete and run `archc destroy` again");
    Err(Error::Stacks(message))
}
