//! What runs in the cluster: the Kubernetes objects of the plan, built with k8s-openapi types
//! from the workload's arrows, its application profile (`targets/apps/`) and the settings.
//!
//! One object per file, `<order>-<kind>-<name>.yaml`, the prefix being the apply order.
//! Values that exist only once the stacks do (role ARNs, the file system id, subnet CIDRs,
//! ...) are `${Name}` placeholders named after the CloudFormation outputs, only ever inside
//! string values, so every manifest is schema-valid before a deploy fills them in.

mod objects;
mod profile;
mod wiring;

use serde_json::Value;

use super::{Settings, Stack, StackId};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::ArchGraph;

pub(crate) use wiring::Wiring;

/// One Kubernetes object, ready to serialise.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The file it is written to (`40-deployment-mattermost.yaml`): the prefix is the apply order.
    pub file: String,
    /// The object as JSON (from a k8s-openapi type); a top-level `"//"` key is the comment
    /// written above it.
    pub body: Value,
    /// The diagram node it comes from.
    pub node: Option<String>,
    /// What it is for, in one line (the output's `kubernetes/README.md`).
    pub summary: String,
}

/// A `${Name}` placeholder and where a deploy gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct KubernetesPlan {
    pub objects: Vec<Object>,
    /// Helm releases installed before the objects that need them (file name, values).
    pub helm: Vec<(String, Value)>,
    /// `${Name}` placeholders the objects use, with where a deploy gets each value (sorted by name).
    pub placeholders: Vec<(String, String)>,
    /// How a deploy computes each deploy-time placeholder (`plan.json` `kubernetes.deploy_values`):
    /// `{"config": {"key"}}`, `{"image_tag": {"repository_output"}}`, `{"image_digest":
    /// {"repository_output", "tag"} | {"image"}}`, `{"dsn": {"template", "secret_output",
    /// "host_output", "port_output", "database_output"}}`, `{"secret_version": {"secret_output"}}`.
    pub deploy_values: Vec<(String, Value)>,
    pub findings: Vec<Diagnostic>,
    /// The `Dockerfile` CI builds (at the output root).
    pub dockerfile: Option<String>,
    /// The workload's names, for the workflow: (namespace, Deployment, container).
    pub workload: Option<WorkloadNames>,
    /// The ECR repository's diagram id CI pushes to.
    pub registry: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WorkloadNames {
    pub namespace: String,
    pub deployment: String,
    pub container: String,
    /// The application's display name.
    pub app: String,
    pub health_path: String,
}

type Sorted = (Vec<(String, String)>, Vec<(String, Value)>);

/// Placeholders in use, each with its source.
pub(crate) struct Placeholders<'a> {
    stacks: &'a [Stack],
    list: Vec<Placeholder>,
    deploy_values: Vec<(String, Value)>,
}

impl<'a> Placeholders<'a> {
    fn new(stacks: &'a [Stack]) -> Self {
        Self { stacks, list: Vec::new(), deploy_values: Vec::new() }
    }

    fn add(&mut self, name: &str, source: String) -> String {
        if !self.list.iter().any(|p| p.name == name) {
            self.list.push(Placeholder { name: name.to_string(), source });
        }
        format!("${{{name}}}")
    }

    /// A CloudFormation output (of the stack that has it, else of `stack`, where the
    /// output-name convention puts it).
    pub(crate) fn output(&mut self, name: &str, stack: StackId, what: &str) -> String {
        let stack = self.stacks.iter().find(|s| s.outputs.contains_key(name)).map_or(stack, |s| s.id);
        self.add(name, format!("{} stack output `{name}`: {what}", stack.as_str()))
    }

    /// A value given at deploy time: `source` says it in words, `how` for a deploy (see
    /// [`KubernetesPlan::deploy_values`]).
    pub(crate) fn deploy(&mut self, name: &str, source: &str, how: Value) -> String {
        if !self.deploy_values.iter().any(|(n, _)| n == name) {
            self.deploy_values.push((name.to_string(), how));
        }
        self.add(name, format!("deploy: {source}"))
    }

    /// (placeholders with their sources, deploy-time values), each sorted by name.
    fn into_sorted(mut self) -> Sorted {
        self.list.sort_by(|a, b| a.name.cmp(&b.name));
        self.deploy_values.sort_by(|a, b| a.0.cmp(&b.0));
        (self.list.into_iter().map(|p| (p.name, p.source)).collect(), self.deploy_values)
    }
}

/// Plan the Kubernetes objects of the diagram's workload.
pub(super) fn plan(graph: &ArchGraph, settings: &Settings, stacks: &[Stack]) -> KubernetesPlan {
    let mut out = KubernetesPlan::default();
    ci_findings(graph, &mut out.findings);
    let Some(app) = &settings.app else { return out };
    let Some(workload) = graph.node(&app.node) else { return out };
    let profile = profile::profile(app.profile.map(|p| p.id.as_str()));
    let wiring = Wiring::of(graph, workload);
    let mut placeholders = Placeholders::new(stacks);
    let built = objects::build(&objects::Input { graph, settings, app, profile, wiring: &wiring }, &mut placeholders);
    out.objects = built.objects;
    out.helm = built.helm;
    out.findings.extend(built.findings);
    out.dockerfile = Some(built.dockerfile);
    out.workload = Some(built.names);
    out.registry = built.registry;
    (out.placeholders, out.deploy_values) = placeholders.into_sorted();
    out
}

/// Only GitHub Actions workflows are emitted: say so for any other CI system drawn.
fn ci_findings(graph: &ArchGraph, findings: &mut Vec<Diagnostic>) {
    for (_, c) in graph.components() {
        if c.is("ci.github-actions") && graph.of_kind("aws.ecr").next().is_none() {
            findings.push(
                Diagnostic::new(
                    codes::PLAN_UNSUPPORTED,
                    Severity::Info,
                    format!("`{}` has no container registry to push to: no workflow is emitted", c.id),
                )
                .with_primary(c.span, "no workflow for this CI system")
                .with_help("draw the ECR repository it pushes to (`gha --> ecr[(Amazon ECR)]`)"),
            );
        }
        if c.category() == Some("ci") && !c.is("ci.github-actions") {
            findings.push(
                Diagnostic::new(
                    codes::PLAN_UNSUPPORTED,
                    Severity::Info,
                    format!("archc emits CI workflows for GitHub Actions only: `{}` gets no pipeline", c.id),
                )
                .with_primary(c.span, "no workflow is emitted for this CI system")
                .with_help(
                    "the stacks still create what it pushes to and deploys with; draw `GitHub Actions` to get .github/workflows/deploy.yml",
                ),
            );
        }
    }
}
