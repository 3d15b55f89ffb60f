//! The resource plan: what the checked graph becomes, before any file is written.
//! CloudFormation stacks (resources with stable logical ids derived from diagram ids,
//! properties, dependencies, parameters wired to other stacks' outputs), the Kubernetes
//! objects and the CI workflow all come from here; `emit` only formats them.
//!
//! Stacks follow real EKS templates: `network` → `cluster` → `data` → `ci`. They are wired
//! by typed parameters that a deploy fills from earlier stacks' outputs (no exports: an
//! exported value cannot change while it is imported; see README "Stacks").

pub mod cfn;
mod ci;
mod data;
mod eks;
pub mod kubernetes;
pub mod names;
mod network;
mod settings;
pub mod workflow;

use indexmap::IndexMap;
use serde_json::{json, Value};

pub use settings::Settings;

use crate::analysis::Analysis;
use crate::diagnostic::Diagnostic;
use crate::model::ArchGraph;

/// The four stacks, in deploy order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackId {
    Network,
    Cluster,
    Data,
    Ci,
}

impl StackId {
    pub const ALL: [StackId; 4] = [StackId::Network, StackId::Cluster, StackId::Data, StackId::Ci];

    pub fn as_str(self) -> &'static str {
        match self {
            StackId::Network => "network",
            StackId::Cluster => "cluster",
            StackId::Data => "data",
            StackId::Ci => "ci",
        }
    }
}

/// Where a stack parameter's value comes from at deploy time.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamSource {
    /// Another stack's output.
    Output { stack: StackId, output: String },
    /// A value archc knows (configuration or diagram); also the parameter's default.
    Known(Value),
    /// Only the default (or what an operator passes).
    Default,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub ty: String,
    pub description: String,
    pub default: Option<Value>,
    pub allowed_pattern: Option<String>,
    pub allowed_values: Vec<Value>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub source: ParamSource,
}

impl Parameter {
    pub fn new(ty: &str, description: &str) -> Self {
        Self {
            ty: ty.to_string(),
            description: description.to_string(),
            default: None,
            allowed_pattern: None,
            allowed_values: Vec::new(),
            min_value: None,
            max_value: None,
            source: ParamSource::Default,
        }
    }

    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }

    pub fn known(mut self, v: impl Into<Value>) -> Self {
        let v = v.into();
        self.default = Some(v.clone());
        self.source = ParamSource::Known(v);
        self
    }

    pub fn pattern(mut self, p: &str) -> Self {
        self.allowed_pattern = Some(p.to_string());
        self
    }

    pub fn allowed(mut self, values: &[&str]) -> Self {
        self.allowed_values = values.iter().map(|v| json!(v)).collect();
        self
    }

    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub ty: String,
    pub condition: Option<String>,
    pub depends_on: Vec<String>,
    pub deletion_policy: Option<&'static str>,
    pub update_replace_policy: Option<&'static str>,
    pub metadata: Option<Value>,
    pub properties: Value,
    /// The diagram node it comes from.
    pub node: Option<String>,
    /// A comment written above the resource.
    pub comment: Option<String>,
}

impl Resource {
    pub fn new(ty: &str, properties: Value) -> Self {
        Self {
            ty: ty.to_string(),
            condition: None,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata: None,
            properties,
            node: None,
            comment: None,
        }
    }

    pub fn node(mut self, id: &str) -> Self {
        self.node = Some(id.to_string());
        self
    }

    pub fn depends_on(mut self, ids: &[&str]) -> Self {
        self.depends_on.extend(ids.iter().map(|s| s.to_string()));
        self
    }

    pub fn condition(mut self, c: &str) -> Self {
        self.condition = Some(c.to_string());
        self
    }

    /// `DeletionPolicy` and `UpdateReplacePolicy` (Retain, Snapshot, Delete).
    pub fn keep(mut self, policy: &'static str) -> Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }

    pub fn metadata(mut self, m: Value) -> Self {
        self.metadata = Some(m);
        self
    }

    pub fn comment(mut self, c: &str) -> Self {
        self.comment = Some(c.to_string());
        self
    }

    /// Skip a checkov check with a written reason (`Metadata.checkov.skip`).
    pub fn checkov_skip(mut self, id: &str, reason: &str) -> Self {
        let mut m = self.metadata.take().unwrap_or_else(|| json!({}));
        let skip = m
            .as_object_mut()
            .and_then(|o| o.entry("checkov").or_insert_with(|| json!({"skip": []})).get_mut("skip").cloned());
        let mut list = skip.and_then(|s| s.as_array().cloned()).unwrap_or_default();
        list.push(json!({"id": id, "comment": reason}));
        if let Some(o) = m.as_object_mut() {
            o.insert("checkov".into(), json!({"skip": list}));
        }
        self.metadata = Some(m);
        self
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    pub value: Value,
    pub description: String,
    pub condition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub id: StackId,
    /// The CloudFormation stack name (`mattermost-network`).
    pub name: String,
    pub description: String,
    pub parameters: IndexMap<String, Parameter>,
    pub rules: IndexMap<String, Value>,
    pub conditions: IndexMap<String, Value>,
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, Output>,
}

impl Stack {
    fn new(id: StackId, name: String, description: String) -> Self {
        Self {
            id,
            name,
            description,
            parameters: IndexMap::new(),
            rules: IndexMap::new(),
            conditions: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// One diagram node and what it became.
#[derive(Debug, Clone)]
pub struct ComponentPlan {
    pub node: String,
    pub kind: String,
    /// (stack, logical id, resource type) for CloudFormation; Kubernetes objects as
    /// (`kubernetes`, `Kind/name`, apiVersion).
    pub resources: Vec<(String, String, String)>,
}

/// Everything archc will emit.
#[derive(Debug, Clone)]
pub struct Plan {
    pub settings: Settings,
    pub stacks: Vec<Stack>,
    pub kubernetes: kubernetes::KubernetesPlan,
    pub workflow: Option<workflow::WorkflowPlan>,
    /// Findings of the lowering (an edge that implies no permission, ...).
    pub findings: Vec<Diagnostic>,
}

impl Plan {
    pub fn stack(&self, id: StackId) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.id == id)
    }

    /// Diagram node → resources, in diagram order.
    pub fn components(&self, graph: &ArchGraph) -> Vec<ComponentPlan> {
        let mut out: Vec<ComponentPlan> = graph
            .components()
            .map(|(_, c)| ComponentPlan {
                node: c.id.clone(),
                kind: c.kind_id().unwrap_or("?").to_string(),
                resources: Vec::new(),
            })
            .collect();
        for stack in &self.stacks {
            for (logical, r) in &stack.resources {
                if let Some(node) = &r.node {
                    if let Some(c) = out.iter_mut().find(|c| &c.node == node) {
                        c.resources.push((stack.id.as_str().to_string(), logical.clone(), r.ty.clone()));
                    }
                }
            }
        }
        for object in &self.kubernetes.objects {
            if let Some(node) = &object.node {
                if let Some(c) = out.iter_mut().find(|c| &c.node == node) {
                    c.resources.push((
                        "kubernetes".into(),
                        format!("{}/{}", object.kind, object.name),
                        object.api_version.clone(),
                    ));
                }
            }
        }
        out
    }
}

/// The lowering's working state: stacks being built and cross-stack wiring.
pub struct Lowering<'a> {
    pub graph: &'a ArchGraph,
    pub settings: &'a Settings,
    pub stacks: Vec<Stack>,
    pub findings: Vec<Diagnostic>,
}

impl<'a> Lowering<'a> {
    pub fn stack(&mut self, id: StackId) -> &mut Stack {
        let index = self.stacks.iter().position(|s| s.id == id).unwrap_or_else(|| unreachable!("every stack exists"));
        &mut self.stacks[index]
    }

    pub fn add(&mut self, stack: StackId, logical: &str, resource: Resource) {
        self.stack(stack).resources.insert(logical.to_string(), resource);
    }

    pub fn param(&mut self, stack: StackId, name: &str, p: Parameter) -> Value {
        self.stack(stack).parameters.entry(name.to_string()).or_insert(p);
        cfn::r(name)
    }

    pub fn output(&mut self, stack: StackId, name: &str, value: Value, description: &str) {
        self.stack(stack)
            .outputs
            .insert(name.to_string(), Output { value, description: description.to_string(), condition: None });
    }

    /// A value of stack `from` used in stack `to`: `to` gets a parameter of type `ty` named
    /// after the output, which a deploy fills from `from`'s output. Returns `!Ref` of it.
    pub fn import(&mut self, to: StackId, from: StackId, output: &str, ty: &str) -> Value {
        debug_assert!(from < to, "stacks import from earlier stacks only");
        let description = self.stack(from).outputs.get(output).map(|o| o.description.clone()).unwrap_or_default();
        let p = Parameter {
            source: ParamSource::Output { stack: from, output: output.to_string() },
            ..Parameter::new(ty, &format!("{description} (output `{output}` of the {} stack)", from.as_str()))
        };
        self.param(to, output, p)
    }
}

/// Build the plan from an analysis without errors.
///
/// # Errors
/// What the lowering cannot do (no region, an unsupported combination), as diagnostics.
pub fn build(analysis: &Analysis) -> Result<Plan, Vec<Diagnostic>> {
    let graph = analysis.graph.as_ref().ok_or_else(Vec::new)?;
    let settings = Settings::resolve(graph, &analysis.config)?;
    let stacks = StackId::ALL
        .iter()
        .map(|&id| {
            let description = match id {
                StackId::Network => "VPC, subnets per tier and AZ, internet and NAT gateways, route tables",
                StackId::Cluster => "EKS cluster, managed node group, add-ons, IRSA identity provider and kube-system roles",
                StackId::Data => "Stateful services: databases, caches, buckets, file systems, their security groups and workload roles",
                StackId::Ci => "Container registry and the CI system's deploy role",
            };
            Stack::new(id, format!("{}-{}", settings.project, id.as_str()), format!("{} ({}, generated by archc)", description, settings.project))
        })
        .collect();
    let mut lowering = Lowering { graph, settings: &settings, stacks, findings: Vec::new() };
    network::lower(&mut lowering);
    eks::lower(&mut lowering);
    data::lower(&mut lowering);
    ci::lower(&mut lowering);
    let Lowering { stacks, mut findings, .. } = lowering;
    let stacks: Vec<Stack> = stacks.into_iter().filter(|s| !s.is_empty()).collect();
    let kubernetes = kubernetes::plan(graph, &settings, &stacks);
    let workflow = workflow::plan(graph, &settings, &stacks, &kubernetes);
    findings.extend(kubernetes.findings.iter().cloned());
    Ok(Plan { settings, stacks, kubernetes, workflow, findings })
}
