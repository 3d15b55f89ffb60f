//! Danger flags: what a reviewer must not miss. From the resource diff when both sides compile
//! (replacement or deletion of stateful resources, other replacements, new internet exposure,
//! new security-group openings, IAM widening, Kubernetes exposure); from the drawing when a
//! side does not compile (a store removed, moved into a public subnet, new arrows that open
//! ports or grant permissions).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::files::{FilesDiff, ObjectChange};
use super::graph::{Change, GraphDiff, NodeView};
use super::resources::{parameter_value, resolve, Action, ResourceChange, StackDiff};
use super::text::{code, value};
use crate::plan::{Resource, Stack};

/// Which rule raised a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    StatefulDeletion,
    StatefulReplacement,
    InternetExposure,
    SecurityGroupOpening,
    IamWidening,
    Replacement,
}

impl Rule {
    pub fn title(self) -> &'static str {
        match self {
            Rule::StatefulDeletion => "deletes a stateful resource",
            Rule::StatefulReplacement => "replaces a stateful resource",
            Rule::InternetExposure => "new internet exposure",
            Rule::SecurityGroupOpening => "new security-group opening",
            Rule::IamWidening => "IAM widening",
            Rule::Replacement => "replacement",
        }
    }
}

/// How bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Danger,
    Caution,
}

/// What a flag was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Resources,
    Kubernetes,
    /// The graph only: a side does not compile.
    Drawing,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Danger {
    pub level: Level,
    pub rule: Rule,
    /// A consequence of another change (a resource replaced because one it refers to is):
    /// listed after the causes.
    pub knock_on: bool,
    /// `data/Cache`, `node rds`, `Ingress mattermost/mattermost`.
    pub subject: String,
    /// One Markdown line.
    pub message: String,
    pub source: Source,
}

/// Kinds whose components keep data (the drawing-level counterpart of `stateful:` in
/// `targets/cloudformation/replacement.yaml`).
const STATEFUL_CATEGORIES: &[&str] = &["database", "cache", "storage", "registry"];
const STATELESS_KINDS: &[&str] = &["aws.efs-mount-target"];
const STATEFUL_KINDS: &[&str] = &["aws.secrets-manager"];

fn stateful_node(v: &NodeView) -> bool {
    let kind = v.kind.as_deref().unwrap_or_default();
    STATEFUL_KINDS.contains(&kind)
        || (v.category.as_deref().is_some_and(|c| STATEFUL_CATEGORIES.contains(&c)) && !STATELESS_KINDS.contains(&kind))
}

fn subject(stack: &StackDiff, r: &ResourceChange) -> String {
    format!("{}/{}", stack.stack, r.logical)
}

fn about(r: &ResourceChange) -> String {
    match &r.node {
        Some(node) => format!("{}, node {}", code(&r.ty), code(node)),
        None => code(&r.ty),
    }
}

fn replaced_because(r: &ResourceChange) -> String {
    let reasons: Vec<String> = r
        .replacing()
        .take(3)
        .map(|p| match (&p.because, &p.old, &p.new) {
            (Some(b), None, None) => format!("{} ({b})", code(&p.path)),
            (_, old, new) => format!(
                "{} {} → {}",
                code(&p.path),
                old.as_ref().map_or("_(none)_".into(), |v| code(&value(v))),
                new.as_ref().map_or("_(none)_".into(), |v| code(&value(v)))
            ),
        })
        .collect();
    reasons.join("; ")
}

/// Replaced only because something it refers to is (no property value of its own changes).
fn knock_on(r: &ResourceChange) -> bool {
    r.replacing().all(|p| p.old.is_none() && p.new.is_none())
}

/// Flags from the resource diff.
fn from_resources(stacks: &[StackDiff], old: &[Stack], new: &[Stack], out: &mut Vec<Danger>) {
    let table = super::replacement::table();
    for stack in stacks {
        for r in &stack.resources {
            let what = table.what(&r.ty).unwrap_or("data");
            match (r.action, r.stateful) {
                (Action::Replace, true) => {
                    let policy = match r.policy.as_deref() {
                        Some("Snapshot") => "UpdateReplacePolicy Snapshot: the old one is snapshotted, then deleted; the new one starts empty",
                        Some("Retain") => "UpdateReplacePolicy Retain: the old one is kept outside the stack; the new one starts empty",
                        _ => "the old one is deleted with its data",
                    };
                    out.push(Danger {
                        level: Level::Danger,
                        rule: Rule::StatefulReplacement,
                        knock_on: knock_on(r),
                        subject: subject(stack, r),
                        message: format!(
                            "{} ({}) holds {what} and is **replaced**: {}. {policy}.",
                            code(&subject(stack, r)),
                            about(r),
                            replaced_because(r)
                        ),
                        source: Source::Resources,
                    });
                }
                (Action::Remove, true) => {
                    let (level, policy) = match r.policy.as_deref() {
                        Some("Snapshot") => (
                            Level::Danger,
                            "DeletionPolicy Snapshot: a final snapshot is kept, the resource is deleted",
                        ),
                        Some("Retain" | "RetainExceptOnCreate") => {
                            (Level::Caution, "DeletionPolicy Retain: it is left in the account, unmanaged (and billed)")
                        }
                        _ => (Level::Danger, "it is deleted with its data"),
                    };
                    out.push(Danger {
                        level,
                        rule: Rule::StatefulDeletion,
                        knock_on: false,
                        subject: subject(stack, r),
                        message: format!(
                            "{} ({}) holds {what} and is **removed**. {policy}.",
                            code(&subject(stack, r)),
                            about(r)
                        ),
                        source: Source::Resources,
                    });
                }
                (Action::Replace, false) => out.push(Danger {
                    level: Level::Caution,
                    rule: Rule::Replacement,
                    knock_on: knock_on(r),
                    subject: subject(stack, r),
                    message: format!(
                        "{} ({}) is replaced: {}.",
                        code(&subject(stack, r)),
                        about(r),
                        replaced_because(r)
                    ),
                    source: Source::Resources,
                }),
                _ => {}
            }
        }
    }
    for stack in stacks {
        let a = old.iter().find(|s| s.id.as_str() == stack.stack);
        let b = new.iter().find(|s| s.id.as_str() == stack.stack);
        let Some(b) = b else { continue };
        let pb = params(b);
        let pa = a.map(params).unwrap_or_default();
        for r in &stack.resources {
            if matches!(r.action, Action::Remove) {
                continue;
            }
            let Some(rb) = b.resources.get(&r.logical) else { continue };
            let ra = a.and_then(|a| a.resources.get(&r.logical));
            let subject = subject(stack, r);
            exposure(&subject, ra.map(|x| (x, &pa)), (rb, &pb), out);
            openings(&subject, ra.map(|x| (x, &pa)), (rb, &pb), out);
            iam(&subject, ra.map(|x| (x, &pa)), (rb, &pb), out);
        }
    }
}

fn params(s: &Stack) -> std::collections::BTreeMap<String, Value> {
    s.parameters.iter().map(|(k, p)| (k.clone(), parameter_value(p))).collect()
}

type Side<'a> = (&'a Resource, &'a std::collections::BTreeMap<String, Value>);

fn prop(side: Option<Side<'_>>, pointer: &str) -> Value {
    side.map(|(r, p)| resolve(&r.properties, p).pointer(pointer).cloned().unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

fn is_true(v: &Value) -> bool {
    v == &Value::Bool(true) || v.as_str() == Some("true")
}

fn strings(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Array(items) => items.iter().map(value).collect(),
        Value::Null => BTreeSet::new(),
        other => [value(other)].into_iter().collect(),
    }
}

fn exposure(subject: &str, a: Option<Side<'_>>, b: Side<'_>, out: &mut Vec<Danger>) {
    let ty = b.0.ty.as_str();
    let mut flag = |message: String| {
        out.push(Danger {
            level: Level::Danger,
            rule: Rule::InternetExposure,
            knock_on: false,
            subject: subject.to_string(),
            message,
            source: Source::Resources,
        });
    };
    let turned_on = |pointer: &str| is_true(&prop(Some(b), pointer)) && !is_true(&prop(a, pointer));
    match ty {
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" if turned_on("/PubliclyAccessible") => {
            flag(format!("{} becomes `PubliclyAccessible`: a public DNS name and address.", code(subject)));
        }
        "AWS::EC2::Subnet" if turned_on("/MapPublicIpOnLaunch") => {
            flag(format!("{} gives every instance launched in it a public IP (`MapPublicIpOnLaunch`).", code(subject)));
        }
        "AWS::EC2::Route" => {
            let to_igw =
                !prop(Some(b), "/GatewayId").is_null() && prop(Some(b), "/DestinationCidrBlock") == "0.0.0.0/0";
            let was = !prop(a, "/GatewayId").is_null() && prop(a, "/DestinationCidrBlock") == "0.0.0.0/0";
            if to_igw && !was {
                flag(format!(
                    "{} routes {} to the internet gateway: its subnets become public.",
                    code(subject),
                    code(&value(&prop(Some(b), "/RouteTableId")))
                ));
            }
        }
        "AWS::EKS::Cluster" => {
            if turned_on("/ResourcesVpcConfig/EndpointPublicAccess") {
                flag(format!("{} opens its Kubernetes API endpoint to the internet.", code(subject)));
            }
            let before = strings(&prop(a, "/ResourcesVpcConfig/PublicAccessCidrs"));
            let added: Vec<String> = strings(&prop(Some(b), "/ResourcesVpcConfig/PublicAccessCidrs"))
                .difference(&before)
                .map(|c| code(c))
                .collect();
            if !added.is_empty() && a.is_some() {
                flag(format!("{} admits {} to its public API endpoint.", code(subject), added.join(", ")));
            }
        }
        _ => {}
    }
}

/// The ingress rules of a security group, without their descriptions.
fn ingress_rules(side: Option<Side<'_>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some((r, _)) = side else { return out };
    let rules = match r.ty.as_str() {
        "AWS::EC2::SecurityGroup" => prop(side, "/SecurityGroupIngress"),
        "AWS::EC2::SecurityGroupIngress" => {
            Value::Array(vec![resolve(&r.properties, side.map(|s| s.1).unwrap_or(&Default::default()))])
        }
        _ => return out,
    };
    for rule in rules.as_array().into_iter().flatten() {
        let mut rule = rule.clone();
        if let Some(m) = rule.as_object_mut() {
            m.remove("Description");
            m.remove("GroupId");
        }
        out.insert(describe_rule(&rule));
    }
    out
}

fn describe_rule(rule: &Value) -> String {
    let proto = rule["IpProtocol"].as_str().map_or_else(|| value(&rule["IpProtocol"]), str::to_string);
    let ports = match (&rule["FromPort"], &rule["ToPort"]) {
        (Value::Null, _) => "all ports".to_string(),
        (a, b) if a == b => format!("port {}", value(a)),
        (a, b) => format!("ports {}-{}", value(a), value(b)),
    };
    let source = ["CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourcePrefixListId"]
        .iter()
        .find_map(|k| (!rule[*k].is_null()).then(|| value(&rule[*k])))
        .unwrap_or_else(|| "?".into());
    format!("{proto} {ports} from {source}")
}

fn openings(subject: &str, a: Option<Side<'_>>, b: Side<'_>, out: &mut Vec<Danger>) {
    let before = ingress_rules(a);
    for rule in ingress_rules(Some(b)).difference(&before) {
        let open = rule.ends_with("from 0.0.0.0/0") || rule.ends_with("from ::/0");
        out.push(Danger {
            level: if open { Level::Danger } else { Level::Caution },
            rule: if open { Rule::InternetExposure } else { Rule::SecurityGroupOpening },
            knock_on: false,
            subject: subject.to_string(),
            message: format!("{} admits {}.", code(subject), code(rule)),
            source: Source::Resources,
        });
    }
}

/// Identity-policy statements (`policy/Sid` → actions and resources), trust statements and
/// managed policies of an IAM resource or access entry.
#[derive(Default)]
struct Grants {
    statements: std::collections::BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    trust: BTreeSet<String>,
    managed: BTreeSet<String>,
}

fn grants(side: Option<Side<'_>>) -> Grants {
    let mut g = Grants::default();
    let Some((r, p)) = side else { return g };
    let props = resolve(&r.properties, p);
    let mut docs: Vec<(String, &Value)> = Vec::new();
    match r.ty.as_str() {
        "AWS::IAM::Role" => {
            for policy in props["Policies"].as_array().into_iter().flatten() {
                docs.push((value(&policy["PolicyName"]), &policy["PolicyDocument"]));
            }
            g.managed = strings(&props["ManagedPolicyArns"]);
            for st in props["AssumeRolePolicyDocument"]["Statement"].as_array().into_iter().flatten() {
                if st["Effect"] == "Allow" {
                    g.trust.insert(format!("{} if {}", value(&st["Principal"]), value(&st["Condition"])));
                }
            }
        }
        "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => docs.push((String::new(), &props["PolicyDocument"])),
        "AWS::EKS::AccessEntry" => {
            for ap in props["AccessPolicies"].as_array().into_iter().flatten() {
                g.managed.insert(format!("{} ({})", value(&ap["PolicyArn"]), value(&ap["AccessScope"])));
            }
        }
        _ => {}
    }
    for (name, doc) in docs {
        for (i, st) in doc["Statement"].as_array().into_iter().flatten().enumerate() {
            if st["Effect"] != "Allow" {
                continue;
            }
            let sid = st["Sid"].as_str().map_or_else(|| format!("#{i}"), str::to_string);
            let key = if name.is_empty() { sid } else { format!("{name}/{sid}") };
            g.statements.insert(key, (strings(&st["Action"]), strings(&st["Resource"])));
        }
    }
    g
}

fn list(items: &BTreeSet<String>) -> String {
    let shown: Vec<String> = items.iter().take(4).map(|i| code(i)).collect();
    if items.len() > 4 {
        format!("{} and {} more", shown.join(", "), items.len() - 4)
    } else {
        shown.join(", ")
    }
}

fn iam(subject: &str, a: Option<Side<'_>>, b: Side<'_>, out: &mut Vec<Danger>) {
    let (ga, gb) = (grants(a), grants(Some(b)));
    let mut flag = |message: String| {
        out.push(Danger {
            level: Level::Caution,
            rule: Rule::IamWidening,
            knock_on: false,
            subject: subject.to_string(),
            message,
            source: Source::Resources,
        });
    };
    for (key, (actions, resources)) in &gb.statements {
        match ga.statements.get(key) {
            None => flag(format!(
                "{} allows {} on {} (statement {}).",
                code(subject),
                list(actions),
                list(resources),
                code(key)
            )),
            Some((old_actions, old_resources)) => {
                let more_actions: BTreeSet<String> = actions.difference(old_actions).cloned().collect();
                let more_resources: BTreeSet<String> = resources.difference(old_resources).cloned().collect();
                if !more_actions.is_empty() {
                    flag(format!("{} statement {} also allows {}.", code(subject), code(key), list(&more_actions)));
                }
                if !more_resources.is_empty() {
                    flag(format!("{} statement {} also covers {}.", code(subject), code(key), list(&more_resources)));
                }
            }
        }
    }
    let managed: BTreeSet<String> = gb.managed.difference(&ga.managed).cloned().collect();
    if !managed.is_empty() {
        flag(format!("{} is granted {}.", code(subject), list(&managed)));
    }
    let trust: BTreeSet<String> = gb.trust.difference(&ga.trust).cloned().collect();
    if !trust.is_empty() && a.is_some() {
        flag(format!("{} can now be assumed by {}.", code(subject), list(&trust)));
    }
}

/// Flags from the Kubernetes objects.
fn from_kubernetes(files: &FilesDiff, out: &mut Vec<Danger>) {
    for o in &files.objects {
        let scheme = |f: &ObjectChange| {
            f.fields.iter().any(|c| {
                c.path.ends_with("alb.ingress.kubernetes.io/scheme")
                    && c.new.as_ref().and_then(Value::as_str) == Some("internet-facing")
            })
        };
        let service_type =
            o.fields.iter().find(|c| c.path == "spec.type").and_then(|c| c.new.as_ref()).and_then(Value::as_str);
        let exposed = match (o.kind.as_str(), o.change) {
            ("Ingress", Change::Added) => {
                Some("a new internet-facing Ingress (the load balancer controller creates a public ALB)")
            }
            ("Ingress", Change::Changed) if scheme(o) => Some("the Ingress becomes internet-facing"),
            ("Service", Change::Changed) if matches!(service_type, Some("LoadBalancer" | "NodePort")) => {
                Some("the Service is exposed outside the cluster")
            }
            _ => None,
        };
        if let Some(what) = exposed {
            out.push(Danger {
                level: Level::Danger,
                rule: Rule::InternetExposure,
                knock_on: false,
                subject: o.title(),
                message: format!("{}: {what}.", code(&o.title())),
                source: Source::Kubernetes,
            });
        }
    }
}

/// Flags from the drawing alone (a side does not compile).
fn from_drawing(graph: &GraphDiff, out: &mut Vec<Danger>) {
    let mut flag = |level: Level, rule: Rule, subject: String, message: String| {
        out.push(Danger { level, rule, knock_on: false, subject, message, source: Source::Drawing });
    };
    for n in &graph.nodes {
        let Some(view) = n.view() else { continue };
        let kind = view.kind.as_deref().unwrap_or("unknown kind");
        match n.change {
            Change::Removed if stateful_node(view) => flag(
                Level::Danger,
                Rule::StatefulDeletion,
                format!("node {}", n.id),
                format!(
                    "the drawing removes {} ({}): its resources and data would be deleted.",
                    code(&n.id),
                    code(kind)
                ),
            ),
            Change::Changed => {
                let (Some(old), Some(new)) = (&n.old, &n.new) else { continue };
                if stateful_node(old) && (old.kind != new.kind || old.attributes != new.attributes) {
                    flag(
                        Level::Danger,
                        Rule::StatefulReplacement,
                        format!("node {}", n.id),
                        format!(
                            "{} changes what it is ({} → {}): its store may be replaced.",
                            code(&n.id),
                            code(&format!("{} {:?}", old.kind.as_deref().unwrap_or("?"), old.attributes)),
                            code(&format!("{} {:?}", new.kind.as_deref().unwrap_or("?"), new.attributes))
                        ),
                    );
                }
                if new.tier.as_deref() == Some("public") && old.tier.as_deref() != Some("public") {
                    flag(
                        Level::Danger,
                        Rule::InternetExposure,
                        format!("node {}", n.id),
                        format!(
                            "{} ({}) moves from {} into the public subnet {}.",
                            code(&n.id),
                            code(kind),
                            old.parent.as_deref().map_or("the top level".to_string(), code),
                            new.parent.as_deref().map_or("?".to_string(), code)
                        ),
                    );
                }
            }
            Change::Added if view.tier.as_deref() == Some("public") && stateful_node(view) => flag(
                Level::Danger,
                Rule::InternetExposure,
                format!("node {}", n.id),
                format!(
                    "{} ({}) is added in the public subnet {}.",
                    code(&n.id),
                    code(kind),
                    view.parent.as_deref().map_or("?".to_string(), code)
                ),
            ),
            _ => {}
        }
    }
    for e in &graph.edges {
        let Some(v) = &e.new else { continue };
        let new_meaning = match (&e.old, e.change) {
            (_, Change::Added) => true,
            (Some(old), Change::Changed) => old.meaning != v.meaning || old.becomes != v.becomes || old.port != v.port,
            _ => false,
        };
        if !new_meaning {
            continue;
        }
        let from_kind = graph.node(&e.from).and_then(|n| n.view()).and_then(|n| n.category.clone());
        let name = e.name();
        if v.meaning == "ingress" || v.meaning == "internet-route" || from_kind.as_deref() == Some("actor") {
            flag(
                Level::Danger,
                Rule::InternetExposure,
                name.clone(),
                format!("new arrow {} ({}) from the internet.", code(&name), code(&v.meaning)),
            );
        } else if v.becomes == "security-group-rule" {
            let port = v.port.map_or(String::new(), |p| format!(", port {p}"));
            flag(
                Level::Caution,
                Rule::SecurityGroupOpening,
                name.clone(),
                format!("new arrow {} ({}{port}) opens a security group.", code(&name), code(&v.meaning)),
            );
        } else if v.becomes == "iam-permission" || v.becomes == "access-entry" {
            flag(
                Level::Caution,
                Rule::IamWidening,
                name.clone(),
                format!("new arrow {} ({}) grants an AWS permission.", code(&name), code(&v.meaning)),
            );
        }
    }
}

/// Every flag, sorted (dangers first).
pub fn find(
    graph: &GraphDiff,
    stacks: Option<(&[StackDiff], &[Stack], &[Stack])>,
    files: Option<&FilesDiff>,
) -> Vec<Danger> {
    let mut out = Vec::new();
    match stacks {
        Some((diff, old, new)) => from_resources(diff, old, new, &mut out),
        None => from_drawing(graph, &mut out),
    }
    if let Some(files) = files {
        from_kubernetes(files, &mut out);
    }
    out.sort();
    out.dedup();
    out
}
