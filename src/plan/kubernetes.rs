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
use crate::diagnostic::Diagnostic;
use crate::model::ArchGraph;

pub(crate) use wiring::Wiring;

/// The kinds the Kubernetes stage builds (objects of the workloads). An ALB or NLB in front of
/// the workloads is made by the AWS Load Balancer Controller from an Ingress or a Service of
/// type LoadBalancer; the `aws.alb` and `aws.nlb` kinds are claimed by the load-balancer
/// lowering, which builds only those in front of ECS and EC2 and leaves these to this stage.
pub(crate) const KINDS: &[&str] = &[
    "k8s.namespace",
    "k8s.ingress",
    "k8s.service",
    "k8s.deployment",
    "k8s.cronjob",
    "k8s.statefulset",
    "k8s.config",
    "k8s.volume",
];

/// Kinds a lowering claims whose boxes in front of Kubernetes workloads this stage builds
/// instead (an ALB made by an Ingress, an NLB made by a Service of type LoadBalancer).
pub(crate) const FRONTS: &[&str] = &["aws.alb", "aws.nlb"];

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
    /// A CronJob the deploy also runs once, right after applying it, and waits for (the
    /// database user sync: the application's pods wait for the DSN it writes).
    pub run_at_deploy: bool,
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
    /// The arrows the objects express, with how.
    pub built_edges: Vec<(petgraph::stable_graph::EdgeIndex, String)>,
    /// Boxes the objects follow without an object of their own (the namespace box).
    pub used_nodes: Vec<(petgraph::stable_graph::NodeIndex, String)>,
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

    /// Whether a stack has output `name`.
    pub(crate) fn has_output(&self, name: &str) -> bool {
        self.stacks.iter().any(|s| s.outputs.contains_key(name))
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
    let Some(app) = &settings.app else { return out };
    let Some(workload) = graph.node(&app.node) else { return out };
    let profile = profile::profile(app.profile.map(|p| p.id.as_str()));
    let wiring = Wiring::of(graph, workload);
    let mut placeholders = Placeholders::new(stacks);
    let input = objects::Input { graph, settings, app, profile, wiring: &wiring };
    let built = objects::build(&input, &mut placeholders);
    let others = objects::others::build(&input, &built.names.namespace, &mut placeholders);
    out.objects = built.objects;
    out.objects.extend(others.objects);
    // in apply order (the application's objects already are; the others' interleave)
    out.objects.sort_by(|a, b| a.file.cmp(&b.file));
    out.findings.extend(others.findings);
    out.helm = built.helm;
    out.findings.extend(built.findings);
    out.dockerfile = built.dockerfile;
    out.workload = Some(built.names);
    out.registry = built.registry;
    if !settings.region_known && graph.draws_aws() {
        placeholders.output("Region", StackId::Network, "the region the stacks are deployed to");
    }
    (out.placeholders, out.deploy_values) = placeholders.into_sorted();
    out.built_edges = expressed_edges(graph, workload, &wiring, &out.objects);
    out.built_edges.extend(others.edges);
    if let Some(ns) = graph.enclosing(workload, "k8s.namespace") {
        if let Some(names) = &out.workload {
            out.used_nodes.push((ns, format!("the namespace `{}` of the workload", names.namespace)));
        }
    }
    out
}

/// The arrows around the workload that the objects express, and how.
fn expressed_edges(
    graph: &ArchGraph,
    workload: petgraph::stable_graph::NodeIndex,
    wiring: &Wiring,
    objects: &[Object],
) -> Vec<(petgraph::stable_graph::EdgeIndex, String)> {
    use crate::model::Style;
    let has = |kind: &str| objects.iter().any(|o| o.kind == kind);
    let mut out = Vec::new();
    let alb = wiring.alb(graph);
    for (e, a, b, c) in graph.connections() {
        if c.style == Style::Invisible {
            continue;
        }
        let (ka, kb) = (graph.component(a).kind_id(), graph.component(b).kind_id());
        let how = match c.meaning {
            "traffic" if ka == Some("aws.nlb") && (b == workload || Some(b) == wiring.service) => {
                "the Service of type LoadBalancer (an NLB with ip targets) and its NetworkPolicy"
            }
            "traffic" if (b == workload || Some(b) == wiring.service) && has("Ingress") && Some(a) == alb => {
                "the Ingress (an ALB target group of the pods) and the NetworkPolicy admitting the ALB's subnets"
            }
            "traffic" if b == workload || Some(b) == wiring.service => "the NetworkPolicy admitting the load balancer",
            "selects" if b == workload && Some(a) == wiring.service && has("Service") => "the Service's selector",
            "ingress" if Some(b) == alb && has("Ingress") => "the Ingress's internet-facing HTTPS listener",
            "ingress" if graph.component(b).is("aws.nlb") && wiring.load_balancers.contains(&b) => {
                "the NLB's listener (a Service of type LoadBalancer)"
            }
            "unspecified" if Some(b) == wiring.ingress && alb.is_none() && has("Ingress") => {
                "the Ingress, which the cluster's ingress controller serves"
            }
            "routes-to"
                if ka == Some("k8s.ingress") && Some(b) == wiring.service && alb.is_none() && has("Ingress") =>
            {
                "the Ingress's rule to the Service"
            }
            "configures" if kb == Some("k8s.lb-controller") && ka == Some("k8s.ingress") && has("Ingress") => {
                "the Ingress class `alb`, which the AWS Load Balancer Controller reconciles"
            }
            "provisions" if ka == Some("k8s.ingress") && Some(b) == alb && has("Ingress") => {
                "the Ingress, from which the AWS Load Balancer Controller creates the ALB"
            }
            "runs" if b == workload => "the Deployment's pods, scheduled on the cluster's nodes",
            "runs" if kb == Some("k8s.lb-controller") && alb.is_some() => "the controller's Helm release",
            "connects" if a == workload => "the workload's configuration and its NetworkPolicy egress",
            "mounts" if a == workload || b == workload => "the EFS volume claims and the NetworkPolicy egress to NFS",
            "calls-api" if a == workload => "the workload's IRSA role and its NetworkPolicy egress on 443",
            _ => continue,
        };
        out.push((e, how.to_string()));
    }
    out
}
