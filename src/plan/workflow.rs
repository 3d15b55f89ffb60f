//! The CI/CD workflow of the plan: GitHub Actions, rendered from the MiniJinja template
//! `targets/github-actions/deploy.yml.j2` with the actions pinned in
//! `targets/github-actions/actions.yaml`. Emitted only when the diagram draws GitHub Actions
//! pushing to a registry (the Kubernetes plan reports other CI systems).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::kubernetes::KubernetesPlan;
use super::names::pascal;
use super::{Settings, Stack, StackId};
use crate::model::ArchGraph;

#[derive(Debug, Clone)]
pub struct WorkflowPlan {
    /// Path under the output directory (`.github/workflows/deploy.yml`).
    pub file: String,
    pub content: String,
    /// The CI box it comes from.
    pub node: Option<String>,
    /// The arrows it expresses (CI pushing to the registry, deploying to the cluster).
    pub built_edges: Vec<(petgraph::stable_graph::EdgeIndex, String)>,
}

const TEMPLATE: &str = include_str!("../../targets/github-actions/deploy.yml.j2");
const REVIEW_TEMPLATE: &str = include_str!("../../targets/github-actions/review.yml.j2");
const ACTIONS: &str = include_str!("../../targets/github-actions/actions.yaml");
/// Where the workflow is written.
pub const WORKFLOW_FILE: &str = ".github/workflows/deploy.yml";
/// Where the pull-request review workflow is written.
pub const REVIEW_WORKFLOW_FILE: &str = ".github/workflows/archc-review.yml";

/// An action pinned by commit SHA.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub uses: String,
    pub sha: String,
    pub tag: String,
}

/// The pinned actions, by the template's name for them.
///
/// # Errors
/// `actions.yaml` does not parse or an action is not pinned by a full commit SHA.
pub fn actions() -> Result<BTreeMap<String, Action>, String> {
    let all: BTreeMap<String, Action> =
        serde_yaml::from_str(ACTIONS).map_err(|e| format!("targets/github-actions/actions.yaml: {e}"))?;
    for (name, a) in &all {
        if a.sha.len() != 40 || !a.sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
            return Err(format!("targets/github-actions/actions.yaml: `{name}` is not pinned by a full commit SHA"));
        }
    }
    Ok(all)
}

fn pinned() -> &'static BTreeMap<String, Action> {
    static ACTIONS: OnceLock<BTreeMap<String, Action>> = OnceLock::new();
    // embedded at build time and checked by the unit tests: not reachable by any input
    #[allow(clippy::panic)]
    ACTIONS.get_or_init(|| actions().unwrap_or_else(|e| panic!("archc's embedded actions are invalid: {e}")))
}

/// The template environment: `{[ value ]}` and `{% block %}`, so GitHub's `${{ }}` passes
/// through; undefined names are errors; `yaml` quotes a scalar for YAML.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .variable_delimiters("{[", "]}")
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .unwrap_or_else(|e| unreachable!("the delimiters are valid: {e}"));
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("yaml", |v: String| crate::yaml::scalar(&serde_json::Value::String(v)));
    env
}

/// Render the template with `context`.
///
/// # Errors
/// The template does not render (an undefined name, a syntax error).
pub fn render(context: &serde_json::Value) -> Result<String, String> {
    render_template("deploy.yml.j2", TEMPLATE, context)
}

/// Render the pull-request review workflow's template with `context`.
///
/// # Errors
/// The template does not render (an undefined name, a syntax error).
pub fn render_review(context: &serde_json::Value) -> Result<String, String> {
    render_template("review.yml.j2", REVIEW_TEMPLATE, context)
}

fn render_template(name: &str, template: &str, context: &serde_json::Value) -> Result<String, String> {
    let env = environment();
    env.render_str(template, minijinja::Value::from(minijinja::value::Serde(context)))
        .map_err(|e| format!("targets/github-actions/{name}: {e:#}"))
}

/// The pull-request review workflow (`archc-review`), when the diagram draws GitHub Actions:
/// `archc review` of the architecture files on every pull request, one comment per file.
///
/// # Errors
/// The embedded template does not render (a bug in archc).
pub(super) fn review_plan(graph: &ArchGraph, settings: &Settings) -> Result<Option<WorkflowPlan>, String> {
    let Some(ci) = graph.of_kind("ci.github-actions").next() else { return Ok(None) };
    let quoted = |v: &str| crate::yaml::scalar(&serde_json::Value::String(v.to_string()));
    let (archc_git, archc_rev) = match (&settings.archc_repository, &settings.archc_rev) {
        (Some(git), Some(rev)) => (quoted(git), quoted(rev)),
        _ => ("${{ vars.ARCHC_GIT }}".to_string(), "${{ vars.ARCHC_REV }}".to_string()),
    };
    let context = json!({
        "actions": pinned(),
        "ci_node": graph.component(ci).id,
        "paths": settings.review_paths,
        "paths_lines": settings.review_paths.join("\n"),
        "archc_configured": settings.archc_repository.is_some() && settings.archc_rev.is_some(),
        "archc_git": archc_git,
        "archc_rev": archc_rev,
    });
    let content = render_review(&context)?;
    Ok(Some(WorkflowPlan {
        file: REVIEW_WORKFLOW_FILE.into(),
        content,
        node: Some(graph.component(ci).id.clone()),
        built_edges: Vec::new(),
    }))
}

/// The name of a stack output, with the stack that has it (else `stack`).
fn output(stacks: &[Stack], name: &str, stack: StackId) -> String {
    let stack = stacks.iter().find(|s| s.outputs.contains_key(name)).map_or(stack, |s| s.id);
    format!("{} stack output {name}", stack.as_str())
}

pub(super) fn plan(
    graph: &ArchGraph,
    settings: &Settings,
    stacks: &[Stack],
    k8s: &KubernetesPlan,
) -> Result<Option<WorkflowPlan>, String> {
    let Some(ci) = graph.of_kind("ci.github-actions").next() else { return Ok(None) };
    let (Some(workload), Some(registry)) = (k8s.workload.as_ref(), k8s.registry.as_ref()) else {
        return ecs_plan(graph, settings, stacks, ci);
    };
    let ci_id = &graph.component(ci).id;
    // a deploy arrow from the CI system to the cluster: roll the Deployment out
    let cluster = graph
        .outgoing(ci)
        .filter(|(e, _)| graph.connection(*e).meaning == "deploys")
        .map(|(_, to)| to)
        .find(|&to| matches!(graph.component(to).kind_id(), Some("aws.eks-control-plane" | "aws.eks-cluster")));
    let smoke = cluster.is_some() && k8s.objects.iter().any(|o| o.kind == "Ingress");
    let context = json!({
        "actions": pinned(),
        "app": workload.app,
        "ci_node": ci_id,
        "registry_node": registry,
        "cluster_node": cluster.map(|c| graph.component(c).id.clone()).unwrap_or_default(),
        "rollout": cluster.is_some(),
        "smoke": smoke,
        "site_url": settings.domain.as_ref().map(|d| format!("https://{d}")),
        "health_path": workload.health_path,
        "region": if settings.region_known { settings.region.clone() } else { "${{ vars.AWS_REGION }}".to_string() },
        "branch": settings.github_branch,
        "ref_condition": format!("github.ref == 'refs/heads/{}'", settings.github_branch.replace('\'', "''")),
        "environment": settings.github_environment,
        "concurrency": format!("deploy-{}", settings.github_environment),
        "namespace": workload.namespace,
        "deployment": workload.deployment,
        "container": workload.container,
        "rollout_timeout": "10m",
        "ecs": false,
        "ecs_image_parameter": "",
        "ecs_family": "",
        "ecs_cluster_output": "",
        "ecs_service_output": "",
        // the diagram's other workloads, whose published images the push does not change: the
        // job still waits until they are rolled out and healthy
        "other_rollouts": k8s
            .objects
            .iter()
            .filter(|o| matches!(o.kind.as_str(), "Deployment" | "StatefulSet") && o.name != workload.deployment)
            .map(|o| format!("{}/{}", o.kind.to_lowercase(), o.name))
            .collect::<Vec<_>>(),
        "signer": format!(".github/workflows/deploy.yml@refs/heads/{}", settings.github_branch),
        "role_output": output(stacks, &format!("{}DeployRoleArn", pascal(ci_id)), StackId::Ci),
        "repository_output": output(stacks, &format!("{}RepositoryName", pascal(registry)), StackId::Ci),
    });
    let content = render(&context)?;
    let mut built_edges = Vec::new();
    for (e, to) in graph.outgoing(ci) {
        let c = graph.component(to);
        if c.id == *registry {
            built_edges.push((e, "the workflow's image build and push".to_string()));
        } else if Some(to) == cluster {
            built_edges.push((e, "the workflow's rollout".to_string()));
        }
    }
    Ok(Some(WorkflowPlan { file: WORKFLOW_FILE.into(), content, node: Some(ci_id.clone()), built_edges }))
}

/// The workflow of a diagram whose CI deploys an ECS service (`ci --> service`, built in the
/// app stack): build, push and sign as for Kubernetes, then a new task definition revision
/// with the pushed digest, and the service deployed to it.
fn ecs_plan(
    graph: &ArchGraph,
    settings: &Settings,
    stacks: &[Stack],
    ci: petgraph::stable_graph::NodeIndex,
) -> Result<Option<WorkflowPlan>, String> {
    let app = stacks.iter().find(|s| s.id == StackId::App);
    let is_service = |n: petgraph::stable_graph::NodeIndex| {
        graph.component(n).is("aws.ecs-service")
            && app.is_some_and(|a| {
                a.resources.get(&pascal(&graph.component(n).id)).is_some_and(|r| r.ty == "AWS::ECS::Service")
            })
    };
    let mut arrows: Vec<(petgraph::stable_graph::EdgeIndex, petgraph::stable_graph::NodeIndex)> =
        graph.outgoing(ci).collect();
    arrows.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    let Some(&(_, service)) =
        arrows.iter().find(|(e, to)| graph.connection(*e).meaning == "deploys" && is_service(*to))
    else {
        return Ok(None);
    };
    let Some(&(_, registry)) =
        arrows.iter().find(|(e, to)| graph.connection(*e).meaning == "pushes" && graph.component(*to).is("aws.ecr"))
    else {
        return Ok(None);
    };
    let ci_id = &graph.component(ci).id;
    let service_id = graph.component(service).id.clone();
    let registry_id = graph.component(registry).id.clone();
    let w = settings.workload(graph, service);
    let sp = pascal(&service_id);
    // the service's cluster: the one its `Cluster` property names
    let cluster = app
        .and_then(|a| a.resources.get(&sp))
        .and_then(|r| r.properties["Cluster"]["Ref"].as_str())
        .unwrap_or("EcsCluster")
        .to_string();
    let fronted = app.is_some_and(|a| {
        a.resources
            .values()
            .any(|r| r.ty == "AWS::ElasticLoadBalancingV2::Listener" && r.properties["Protocol"] == "HTTPS")
            && a.resources.get(&sp).is_some_and(|r| r.properties.get("LoadBalancers").is_some())
    });
    let context = json!({
        "actions": pinned(),
        "app": w.name,
        "ci_node": ci_id,
        "registry_node": registry_id,
        "cluster_node": service_id,
        "rollout": false,
        "smoke": fronted,
        "site_url": settings.domain.as_ref().map(|d| format!("https://{d}")),
        "health_path": w.health_path,
        "region": if settings.region_known { settings.region.clone() } else { "${{ vars.AWS_REGION }}".to_string() },
        "branch": settings.github_branch,
        "ref_condition": format!("github.ref == 'refs/heads/{}'", settings.github_branch.replace('\'', "''")),
        "environment": settings.github_environment,
        "concurrency": format!("deploy-{}", settings.github_environment),
        "namespace": "",
        "deployment": "",
        "container": w.name,
        "rollout_timeout": "10m",
        "ecs": true,
        // the SSM parameter the app stack's task definition reads its image from
        "ecs_image_parameter": stacks
            .iter()
            .find(|s| s.id == StackId::Data)
            .and_then(|d| d.resources.get(&format!("{sp}ImageParameter")))
            .and_then(|r| r.properties["Name"].as_str())
            .unwrap_or_default(),
        "other_rollouts": Vec::<String>::new(),
        "ecs_family": format!("{}-app-{}", settings.project, w.name),
        "ecs_cluster_output": output(stacks, &format!("{cluster}Name"), StackId::App),
        "ecs_service_output": output(stacks, &format!("{sp}ServiceName"), StackId::App),
        "signer": format!(".github/workflows/deploy.yml@refs/heads/{}", settings.github_branch),
        "role_output": output(stacks, &format!("{}DeployRoleArn", pascal(ci_id)), StackId::Ci),
        "repository_output": output(stacks, &format!("{}RepositoryName", pascal(&registry_id)), StackId::Ci),
    });
    let content = render(&context)?;
    let mut built_edges = Vec::new();
    for (e, to) in arrows {
        if to == registry && graph.connection(e).meaning == "pushes" {
            built_edges.push((e, "the workflow's image build and push".to_string()));
        } else if to == service && graph.connection(e).meaning == "deploys" {
            built_edges.push((e, "the workflow's ECS deployment (a new task definition revision)".to_string()));
        }
    }
    Ok(Some(WorkflowPlan { file: WORKFLOW_FILE.into(), content, node: Some(ci_id.clone()), built_edges }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_pinned_by_sha() {
        let all = actions().expect("actions.yaml");
        assert!(all.contains_key("checkout") && all.contains_key("configure_aws_credentials"));
    }

    #[test]
    fn an_undefined_name_is_an_error() {
        assert!(render(&json!({})).is_err());
        assert!(render_review(&json!({})).is_err());
    }
}
