//! Backends: the plan as files. Each emitter only formats what `plan` decided.

pub mod cloudformation;
pub mod kubernetes;
mod output;
pub mod yaml;

pub use output::{check_target, manifest, write_atomically, OutputError, WriteOptions, MANIFEST};

use std::collections::BTreeMap;

use serde_json::json;

use crate::plan::{ParamSource, Plan};

/// Every file of a compilation, by path relative to the output directory.
pub fn files(plan: &Plan, components: &[crate::plan::ComponentPlan]) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for (order, stack) in plan.stacks.iter().enumerate() {
        files.insert(format!("cloudformation/{}.yaml", stack.id.as_str()), cloudformation::template(stack, order + 1));
    }
    files.insert("cloudformation/README.md".into(), cloudformation::readme(plan));
    kubernetes::files(plan, &mut files);
    for wf in plan.workflow.iter().chain(&plan.review_workflow) {
        files.insert(wf.file.clone(), wf.content.clone());
    }
    files.insert("plan.json".into(), plan_json(plan, components));
    files
}

fn plan_json(plan: &Plan, components: &[crate::plan::ComponentPlan]) -> String {
    let stacks: Vec<_> = plan
        .stacks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let parameters: serde_json::Map<String, serde_json::Value> = s
                .parameters
                .iter()
                .map(|(name, p)| {
                    let source = match &p.source {
                        ParamSource::Output { stack, output } => json!({"output": {"stack": stack.as_str(), "name": output}}),
                        ParamSource::Known(v) => json!({"value": v}),
                        ParamSource::Default => json!({"default": p.default}),
                    };
                    (name.clone(), json!({"type": p.ty, "source": source}))
                })
                .collect();
            let mut stack = json!({
                "id": s.id.as_str(),
                "name": s.name,
                "order": i + 1,
                "template": format!("cloudformation/{}.yaml", s.id.as_str()),
                "parameters": parameters,
                "outputs": s.outputs.keys().collect::<Vec<_>>(),
                "resources": s.resources.iter().map(|(k, r)| json!({"id": k, "type": r.ty, "node": r.node})).collect::<Vec<_>>(),
                "tags": crate::plan::tags::stack_tags(&plan.settings, s).into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<String, serde_json::Value>>(),
            });
            // a stack that lives in a region of its own (CloudFront's certificate in us-east-1)
            if let (Some(region), Some(map)) = (s.id.fixed_region(), stack.as_object_mut()) {
                map.insert("region".into(), json!(region));
            }
            stack
        })
        .collect();
    let objects: Vec<_> = plan
        .kubernetes
        .objects
        .iter()
        .map(|o| {
            let mut entry = json!({"file": format!("kubernetes/{}", o.file), "apiVersion": o.api_version, "kind": o.kind, "name": o.name, "namespace": o.namespace, "node": o.node});
            if o.run_at_deploy {
                entry["run_at_deploy"] = json!(true);
            }
            entry
        })
        .collect();
    let placeholders: serde_json::Map<String, serde_json::Value> =
        plan.kubernetes.placeholders.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let deploy_values: serde_json::Map<String, serde_json::Value> =
        plan.kubernetes.deploy_values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let doc = json!({
        "project": plan.settings.project,
        "region": plan.settings.region_known.then_some(&plan.settings.region),
        "availability_zones": plan.settings.az_count,
        "cluster": plan.settings.cluster_name,
        "namespace": plan.settings.namespace,
        "stacks": stacks,
        "kubernetes": {"objects": objects, "helm": plan.kubernetes.helm.iter().map(|(f, _)| format!("helm/{f}")).collect::<Vec<_>>(), "placeholders": placeholders, "deploy_values": deploy_values},
        "workflow": plan.workflow.as_ref().map(|w| w.file.clone()),
        "review_workflow": plan.review_workflow.as_ref().map(|w| w.file.clone()),
        "components": components.iter().map(|c| json!({"node": c.node, "kind": c.kind, "resources": c.resources.iter().map(|(s, id, t)| json!({"in": s, "id": id, "type": t})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
