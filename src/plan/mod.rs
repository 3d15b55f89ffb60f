//! The resource plan: what the checked graph becomes, before any file is written.
//! CloudFormation stacks (resources with stable logical ids derived from diagram ids,
//! properties, dependencies, parameters wired to other stacks' outputs), the Kubernetes
//! objects and the CI workflow all come from here; `emit` only formats them.
//!
//! Stacks follow real EKS templates: `network` → `cluster` → `data` → `ci`. They are wired
//! by typed parameters that a deploy fills from earlier stacks' outputs (no exports: an
//! exported value cannot change while it is imported; see README "Stacks").

pub mod cfn;
pub mod coverage;
pub mod kubernetes;
mod lower;
pub use lower::{built_by, drawn_endpoint_services, endpoint_services};
pub mod names;
/// The `${Name}` placeholder contract, shared with `archc deploy` (crate `archc-placeholders`).
pub use archc_placeholders as placeholders;
mod settings;
pub mod tags;
pub mod versions;
pub mod workflow;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

pub use settings::{Settings, Workload, WORKLOAD_KINDS};

use crate::config::Config;
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::{ArchGraph, Style};

/// The stacks, in deploy order (a stack takes values only from stacks before it). Only the
/// stacks that get resources are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackId {
    /// VPC, subnets, gateways, routes, VPC endpoints.
    Network,
    /// The EKS cluster and what Kubernetes needs of AWS.
    Cluster,
    /// What keeps state: databases, caches, buckets, file systems, tables, secrets.
    Data,
    /// What runs outside Kubernetes and what connects it: ECS, EC2, Lambda, API Gateway,
    /// load balancers, queues, topics, event rules; the rules into the data stores' security
    /// groups from what runs here.
    App,
    /// The certificate CloudFront requires, in us-east-1 (its own region).
    Certificate,
    /// The edge: CloudFront, WAF, DNS records.
    Edge,
    /// The container registry and the CI system's deploy role.
    Ci,
}

impl StackId {
    pub const ALL: [StackId; 7] = [
        StackId::Network,
        StackId::Cluster,
        StackId::Data,
        StackId::App,
        StackId::Certificate,
        StackId::Edge,
        StackId::Ci,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StackId::Network => "network",
            StackId::Cluster => "cluster",
            StackId::Data => "data",
            StackId::App => "app",
            StackId::Certificate => "certificate",
            StackId::Edge => "edge",
            StackId::Ci => "ci",
        }
    }

    /// The region a stack must live in whatever the diagram's region (CloudFront's certificate).
    pub fn fixed_region(self) -> Option<&'static str> {
        match self {
            StackId::Certificate => Some("us-east-1"),
            _ => None,
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

    /// Kept when the stack is deleted or the resource replaced, but deleted when the operation
    /// that created it rolls back (`RetainExceptOnCreate`): a failed first deploy leaves no
    /// named resource behind to block the retry.
    pub fn retain(mut self) -> Self {
        self.deletion_policy = Some("RetainExceptOnCreate");
        self.update_replace_policy = Some("Retain");
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
    /// Conflicts and caveats the diagram forces, written in the template's
    /// `Metadata.archc.Notes` (id, text).
    pub notes: Vec<(String, String)>,
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
            notes: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Why an IAM permission exists.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// A diagram arrow asks for it (`mm --> s3`: the workload calls S3).
    Edge(EdgeIndex),
    /// AWS requires it for a component the diagram draws (the node role's managed policies,
    /// the EKS cluster role); the text says what needs it.
    Required(String),
}

/// One identity-policy statement (or attached managed policy) and why it exists.
#[derive(Debug, Clone)]
pub struct Grant {
    pub stack: StackId,
    /// The role or managed policy (logical id).
    pub resource: String,
    /// The statement's `Sid`, the managed policy's name, or `*` for a whole policy document.
    pub statement: String,
    pub why: Why,
    /// `why` in words (`arrow `mm --> s3` (calls-api)`).
    pub because: String,
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
    /// The pull-request review workflow (`archc-review`), when the diagram draws GitHub Actions.
    pub review_workflow: Option<workflow::WorkflowPlan>,
    /// Every IAM statement and managed policy of the stacks, with the arrow (or the AWS
    /// requirement) it exists for.
    pub permissions: Vec<Grant>,
    /// Findings of the lowering (an edge that implies no permission, ...).
    pub findings: Vec<Diagnostic>,
    /// What became of every node and arrow of the diagram.
    pub coverage: coverage::Coverage,
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
    /// Why each IAM statement exists.
    pub grants: Vec<Grant>,
    /// Arrows that ask for a permission archc cannot create, with the reason.
    pub unexpressed: Vec<(EdgeIndex, String)>,
    /// What each arrow became, besides IAM statements (those are in `grants`).
    pub built_edges: BTreeMap<EdgeIndex, Vec<String>>,
    /// Nodes that shape the output without resources of their own, and how.
    pub used_nodes: BTreeMap<NodeIndex, String>,
    /// Whether a data store encrypts with the data stack's KMS key (created last, first in
    /// the template).
    pub data_key_used: bool,
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

    /// `import` with an `AllowedPattern` on the parameter.
    pub fn import_checked(&mut self, to: StackId, from: StackId, output: &str, ty: &str, pattern: &str) -> Value {
        let v = self.import(to, from, output, ty);
        if let Some(p) = self.stack(to).parameters.get_mut(output) {
            p.allowed_pattern = Some(pattern.to_string());
        }
        v
    }

    /// `a --> b` (or `a -.-> b`) of a connection: how comments and diagnostics name an arrow.
    pub fn arrow(&self, e: EdgeIndex) -> String {
        let (a, b) = self.graph.endpoints(e);
        let arrow = match self.graph.connection(e).style {
            Style::Solid => "-->",
            Style::Dotted => "-.->",
            Style::Invisible => "~~~",
        };
        format!("{} {arrow} {}", self.graph.component(a).id, self.graph.component(b).id)
    }

    /// The text of a `Why`, for comments.
    pub fn why_text(&self, why: &Why) -> String {
        match why {
            Why::Edge(e) => format!("arrow `{}` ({})", self.arrow(*e), self.graph.connection(*e).meaning),
            Why::Required(text) => text.clone(),
        }
    }

    /// Record why a statement (or managed policy) of `resource` exists.
    pub fn grant(&mut self, stack: StackId, resource: &str, statement: &str, why: Why) {
        let because = self.why_text(&why);
        self.grants.push(Grant {
            stack,
            resource: resource.to_string(),
            statement: statement.to_string(),
            why,
            because,
        });
    }

    /// An `Allow` statement of `resource`'s policy, recorded with why it exists and commented
    /// with it (plus `note`, which must say why when an action or resource is `"*"`).
    #[allow(clippy::too_many_arguments)]
    pub fn allow(
        &mut self,
        stack: StackId,
        resource: &str,
        sid: &str,
        whys: &[Why],
        actions: &[&str],
        resources: Value,
        note: Option<&str>,
    ) -> Value {
        let mut comment: Vec<String> = whys.iter().map(|w| format!("for {}", self.why_text(w))).collect();
        if let Some(n) = note {
            comment.push(n.to_string());
        }
        for why in whys {
            self.grant(stack, resource, sid, why.clone());
        }
        let action = match actions {
            [one] => json!(one),
            many => json!(many),
        };
        json!({"//": comment.join("\n"), "Sid": sid, "Effect": "Allow", "Action": action, "Resource": resources})
    }

    /// A comment naming why each managed policy in `policies` is attached to `resource`
    /// (from the grants recorded for it).
    pub fn managed_policies_comment(&self, stack: StackId, resource: &str, policies: &[&str]) -> String {
        let mut lines = Vec::new();
        for name in policies {
            let whys: Vec<String> = self
                .grants
                .iter()
                .filter(|g| g.stack == stack && g.resource == resource && g.statement == *name)
                .map(|g| self.why_text(&g.why))
                .collect();
            lines.push(format!("{name}: {}", whys.join("; ")));
        }
        lines.join("\n")
    }

    /// Record what arrow `e` became (a security-group rule, a route, ...).
    pub fn built(&mut self, e: EdgeIndex, what: impl Into<String>) {
        let list = self.built_edges.entry(e).or_default();
        let what = what.into();
        if !list.contains(&what) {
            list.push(what);
        }
    }

    /// Record how node `n` shapes the output without a resource of its own.
    pub fn used(&mut self, n: NodeIndex, how: impl Into<String>) {
        self.used_nodes.entry(n).or_insert_with(|| how.into());
    }

    /// An arrow that asks for a permission archc does not create, and why.
    pub fn unexpressed(&mut self, e: EdgeIndex, reason: impl Into<String>) {
        self.unexpressed.push((e, reason.into()));
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

/// Build the plan from the typed graph of an analysis without errors and its configuration.
///
/// # Errors
/// What the lowering cannot do (no region, an unsupported combination), as diagnostics.
pub fn build(graph: &ArchGraph, config: &Config) -> Result<Plan, Vec<Diagnostic>> {
    let settings = Settings::resolve(graph, config)?;
    let region_finding = settings.region_finding(graph);
    let image_finding = settings.image_finding(graph);
    let stacks = StackId::ALL
        .iter()
        .map(|&id| {
            let description = match id {
                StackId::Network => "VPC, subnets per tier and AZ, internet and NAT gateways, route tables",
                StackId::Cluster => "EKS cluster, managed node group, add-ons, IRSA identity provider and kube-system roles",
                StackId::Data => "Stateful services: databases, caches, buckets, file systems, their security groups and workload roles",
                StackId::App => "What runs outside Kubernetes and what connects it: services, functions, APIs, load balancers, queues and topics",
                StackId::Certificate => "The TLS certificate CloudFront requires, in us-east-1",
                StackId::Edge => "The edge: CloudFront distribution, web ACL and DNS records",
                StackId::Ci => "Container registry and the CI system's deploy role",
            };
            Stack::new(id, format!("{}-{}", settings.project, id.as_str()), format!("{} ({}, generated by archc)", description, settings.project))
        })
        .collect();
    let mut lowering = Lowering {
        graph,
        settings: &settings,
        stacks,
        findings: Vec::new(),
        grants: Vec::new(),
        unexpressed: Vec::new(),
        built_edges: BTreeMap::new(),
        used_nodes: BTreeMap::new(),
        data_key_used: false,
    };
    lower::run(&mut lowering);
    let cluster = lowering.stacks.iter().any(|s| s.id == StackId::Cluster && !s.is_empty());
    let version_findings = versions::findings(graph, &settings, config, cluster, versions::Date::today());
    audit_permissions(&mut lowering);
    let Lowering { stacks, mut findings, grants: permissions, mut built_edges, mut used_nodes, .. } = lowering;
    let mut stacks: Vec<Stack> = stacks.into_iter().filter(|s| !s.is_empty()).collect();
    tags::tag_nodes(&mut stacks);
    let kubernetes = kubernetes::plan(graph, &settings, &stacks);
    let workflow = match workflow::plan(graph, &settings, &stacks, &kubernetes) {
        Ok(w) => w,
        Err(e) => {
            findings.push(
                Diagnostic::error(codes::PLAN_UNSUPPORTED, format!("archc could not render the CI workflow: {e}"))
                    .with_help("this is a bug in archc; please report it with the diagram"),
            );
            None
        }
    };
    findings.extend(kubernetes.findings.iter().cloned());
    for (e, what) in kubernetes.built_edges.iter().chain(workflow.iter().flat_map(|w| w.built_edges.iter())) {
        let list = built_edges.entry(*e).or_default();
        if !list.contains(what) {
            list.push(what.clone());
        }
    }
    for g in &permissions {
        if let Why::Edge(e) = g.why {
            let what = format!("IAM `{}` of `{}` ({} stack)", g.statement, g.resource, g.stack.as_str());
            let list = built_edges.entry(e).or_default();
            if !list.contains(&what) {
                list.push(what);
            }
        }
    }
    for (n, how) in &kubernetes.used_nodes {
        used_nodes.entry(*n).or_insert_with(|| how.clone());
    }
    if let Some(n) = graph.of_kind("aws.region").next() {
        used_nodes.entry(n).or_insert_with(|| format!("the region every stack deploys to ({})", settings.region));
    }
    for n in graph.of_kind("aws.availability-zone") {
        used_nodes.entry(n).or_insert_with(|| format!("one of the {} zones of the VPC", settings.az_count));
    }
    findings.extend(label_port_findings(graph));
    findings.extend(region_finding);
    findings.extend(image_finding);
    findings.extend(version_findings);
    let review_workflow = match workflow::review_plan(graph, &settings) {
        Ok(w) => w,
        Err(e) => {
            findings.push(
                Diagnostic::error(codes::PLAN_UNSUPPORTED, format!("archc could not render the review workflow: {e}"))
                    .with_help("this is a bug in archc; please report it with the diagram"),
            );
            None
        }
    };
    let mut plan = Plan {
        settings,
        stacks,
        kubernetes,
        workflow,
        review_workflow,
        permissions,
        findings,
        coverage: coverage::Coverage::default(),
    };
    parts(graph, &plan, &mut built_edges, &mut used_nodes);
    plan.coverage = coverage::Coverage::of(graph, &plan, &built_edges, &used_nodes);
    let coverage_findings = plan.coverage.findings(graph, &plan.findings);
    plan.findings.extend(coverage_findings);
    Ok(plan)
}

/// Parts the model folded into their owner (a target group, a task definition: the owner
/// took over their other arrows) are built with it: their box and the arrows left on them
/// say so, when the owner is built (else the owner's finding speaks for both).
fn parts(
    graph: &ArchGraph,
    plan: &Plan,
    built_edges: &mut BTreeMap<EdgeIndex, Vec<String>>,
    used_nodes: &mut BTreeMap<NodeIndex, String>,
) {
    let built: std::collections::BTreeSet<&str> = plan
        .stacks
        .iter()
        .flat_map(|s| s.resources.values().filter_map(|r| r.node.as_deref()))
        .chain(plan.kubernetes.objects.iter().filter_map(|o| o.node.as_deref()))
        .collect();
    for (n, c) in graph.components() {
        let Some(owner) = c.part_of else { continue };
        let owner_id = &graph.component(owner).id;
        if !built.contains(owner_id.as_str()) && !used_nodes.contains_key(&owner) {
            continue;
        }
        let what = c.attr("part").unwrap_or("part").trim_end_matches('s').to_string();
        used_nodes.entry(n).or_insert_with(|| format!("the {what} of `{owner_id}`, built with it"));
        let text = format!("the {what} of `{owner_id}` (its arrows are `{owner_id}`'s)");
        for (e, _) in graph.incoming(n).chain(graph.outgoing(n)) {
            let list = built_edges.entry(e).or_default();
            if !list.contains(&text) {
                list.push(text.clone());
            }
        }
    }
}

/// `PLN008` for an arrow whose label names another port than the one archc opens for it
/// (`app -->|6432| rds` to PostgreSQL on 5432): the drawing's port is not silently replaced.
fn label_port_findings(graph: &ArchGraph) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (_, a, b, c) in graph.connections() {
        let (Some(said), Some(built)) = (c.label_port, c.port) else { continue };
        if said == built || c.becomes != "security-group-rule" {
            continue;
        }
        out.push(
            Diagnostic::warning(
                codes::PLAN_LABEL_FACT,
                format!(
                    "the arrow `{}` -> `{}` says port {said}; archc opens {built}, the port `{}` listens on",
                    graph.component(a).id,
                    graph.component(b).id,
                    graph.component(b).id
                ),
            )
            .with_primary(c.span, format!("port {said} written here"))
            .with_help(format!(
                "write {built} on the arrow, or configure the target to listen on {said} outside archc"
            )),
        );
    }
    out
}

/// The identity-policy statements and managed policies of a resource: (statement key, the
/// statement). Keys are a statement's `Sid` (`*` without one: a whole official document),
/// or a managed policy's name (`AmazonEKSWorkerNodePolicy`, or the logical id it `Ref`s).
fn identity_statements(r: &Resource) -> Vec<String> {
    let p = &r.properties;
    let mut docs: Vec<&Value> = Vec::new();
    let mut out = Vec::new();
    match r.ty.as_str() {
        "AWS::IAM::Role" => {
            for policy in p["Policies"].as_array().into_iter().flatten() {
                docs.push(&policy["PolicyDocument"]);
            }
            for arn in p["ManagedPolicyArns"].as_array().into_iter().flatten() {
                out.push(managed_policy_name(arn));
            }
        }
        "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => docs.push(&p["PolicyDocument"]),
        _ => {}
    }
    for doc in docs {
        for st in doc["Statement"].as_array().into_iter().flatten() {
            out.push(st["Sid"].as_str().unwrap_or("*").to_string());
        }
    }
    out
}

/// `AmazonEKSWorkerNodePolicy` from `!Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy`,
/// `LbcPolicy` from `!Ref LbcPolicy`.
fn managed_policy_name(arn: &Value) -> String {
    let text = arn.get("Fn::Sub").or_else(|| arn.get("Ref")).and_then(Value::as_str).or(arn.as_str()).unwrap_or("");
    text.rsplit('/').next().unwrap_or(text).to_string()
}

/// IAM001: an arrow that asks for a permission and gets none, and a statement no arrow (and
/// no AWS requirement) asks for.
fn audit_permissions(l: &mut Lowering<'_>) {
    let mut findings = Vec::new();
    for (e, _, b, c) in l.graph.connections() {
        if !matches!(c.becomes, "iam-permission" | "access-entry") {
            continue;
        }
        if l.grants.iter().any(|g| g.why == Why::Edge(e)) {
            continue;
        }
        let reason = l.unexpressed.iter().find(|(x, _)| *x == e).map_or_else(
            || format!("archc has no permission for {} `{}`", c.meaning, l.graph.component(b).id),
            |(_, r)| r.clone(),
        );
        findings.push(
            Diagnostic::warning(
                codes::EDGE_WITHOUT_PERMISSION,
                format!("`{}` asks for an AWS permission that archc does not create: {reason}", l.arrow(e)),
            )
            .with_primary(c.span, format!("{}: no IAM statement", c.meaning))
            .with_help("grant it outside archc (and keep the arrow as documentation), or draw what archc can compile"),
        );
    }
    for stack in &l.stacks {
        for (logical, r) in &stack.resources {
            for key in identity_statements(r) {
                let explained = l.grants.iter().any(|g| {
                    g.stack == stack.id && &g.resource == logical && (g.statement == key || g.statement == "*")
                });
                if explained {
                    continue;
                }
                let span = r
                    .node
                    .as_deref()
                    .and_then(|n| l.graph.node(n))
                    .map(|n| l.graph.component(n).span)
                    .unwrap_or_default();
                findings.push(
                    Diagnostic::new(
                        codes::EDGE_WITHOUT_PERMISSION,
                        Severity::Warning,
                        format!(
                            "IAM statement `{key}` of `{logical}` ({} stack) exists without an arrow asking for it",
                            stack.id.as_str()
                        ),
                    )
                    .with_primary(span, "no arrow asks for this permission")
                    .with_help(
                        "this is a bug in archc: every permission should come from an arrow or an AWS requirement",
                    ),
                );
            }
        }
    }
    l.findings.extend(findings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_statements_are_keyed_by_sid_and_managed_policy() {
        let role = Resource::new(
            "AWS::IAM::Role",
            json!({
                "ManagedPolicyArns": [cfn::aws_policy("AmazonEKSWorkerNodePolicy"), cfn::r("LbcPolicy")],
                "Policies": [{"PolicyName": "p", "PolicyDocument": cfn::policy(vec![
                    json!({"Sid": "S3Bucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "x"}),
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "y"}),
                ])}],
            }),
        );
        assert_eq!(identity_statements(&role), ["AmazonEKSWorkerNodePolicy", "LbcPolicy", "S3Bucket", "*"]);
        let key =
            Resource::new("AWS::KMS::Key", json!({"KeyPolicy": cfn::policy(vec![cfn::key_admin_statement(None)])}));
        assert!(identity_statements(&key).is_empty(), "resource policies are not identity grants");
    }
}
