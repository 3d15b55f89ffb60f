//! The resource diff: per stack, which CloudFormation resources are added, removed, updated
//! or replaced, property by property, with CloudFormation's update behaviour for each
//! (`targets/cloudformation/replacement.yaml`).
//!
//! Values are compared as a deploy would see them: a `Ref` to a parameter whose value archc
//! knows is that value (so a CIDR or engine version that moved from the diagram into a
//! parameter still shows as a change), comments are ignored. Knock-on changes are followed to a
//! fixed point: a property that refers to a replaced resource (`Ref`, `GetAtt`, `Sub`) or to a
//! parameter filled from another stack's output that changes gets a new value at deploy time,
//! which may replace its resource in turn (a subnet replaced → its node group replaced).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

use super::replacement::{table, Update};
use crate::plan::{ParamSource, Parameter, Resource, Stack};

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Update,
    Replace,
    Remove,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "added",
            Action::Update => "updated",
            Action::Replace => "replaced",
            Action::Remove => "removed",
        }
    }
}

/// One property value that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// `CidrBlock`, `SecurityGroupIngress[1].FromPort`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    pub update: Update,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why a value changes that reads the same in the template (a parameter's value, a
    /// replaced resource it refers to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

/// One resource that changes.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    pub logical: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub action: Action,
    /// For an update, the worst behaviour among its properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    pub stateful: bool,
    /// For a removal its `DeletionPolicy`, for a replacement its `UpdateReplacePolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<PropertyChange>,
}

impl ResourceChange {
    /// The properties that force the replacement (for a replaced resource).
    pub fn replacing(&self) -> impl Iterator<Item = &PropertyChange> {
        self.properties.iter().filter(|p| p.update == Update::Replacement)
    }
}

/// A parameter whose value (what a deploy uses) changes, or which is added or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterChange {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StackStatus {
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// Counts of a stack's resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResourceCounts {
    pub added: usize,
    /// Updated in place or replaced.
    pub changed: usize,
    pub replaced: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// One stack's changes.
#[derive(Debug, Clone, Serialize)]
pub struct StackDiff {
    pub stack: String,
    /// The CloudFormation stack name.
    pub name: String,
    pub status: StackStatus,
    pub counts: ResourceCounts,
    pub resources: Vec<ResourceChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs_removed: Vec<String>,
    /// Outputs whose value changes at deploy time (what reads them elsewhere changes too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs_changed: Vec<String>,
}

impl StackDiff {
    pub fn is_changed(&self) -> bool {
        self.status != StackStatus::Unchanged
    }
}

/// The value a deploy gives a parameter: what archc knows, its default, or the output that
/// fills it (`${network.PrivDataSubnet1Id}`).
pub fn parameter_value(p: &Parameter) -> Value {
    match &p.source {
        ParamSource::Known(v) => v.clone(),
        ParamSource::Default => p.default.clone().unwrap_or(Value::Null),
        ParamSource::Output { stack, output } => Value::String(format!("${{{}.{output}}}", stack.as_str())),
    }
}

/// `value` with comments (`//` keys) removed and `Ref`s to the stack's parameters replaced by
/// their values (also `${Name}` in `Fn::Sub` templates).
pub fn resolve(value: &Value, parameters: &BTreeMap<String, Value>) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(name)) = map.get("Ref") {
                    if let Some(v) = parameters.get(name) {
                        return v.clone();
                    }
                }
                if let Some(Value::String(template)) = map.get("Fn::Sub") {
                    return json!({"Fn::Sub": substitute(template, parameters)});
                }
            }
            Value::Object(
                map.iter()
                    .filter(|(k, _)| k.as_str() != "//")
                    .map(|(k, v)| (k.clone(), resolve(v, parameters)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, parameters)).collect()),
        other => other.clone(),
    }
}

/// `${Name}` of a `Fn::Sub` template replaced by the parameters' values (strings and numbers).
fn substitute(template: &str, parameters: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match parameters.get(name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(Value::Number(n)) => out.push_str(&n.to_string()),
            _ => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The names a value refers to: `Ref` targets, `GetAtt` resources, `${Name}` / `${Name.Attr}`
/// in `Fn::Sub` templates (pseudo parameters `AWS::*` left out).
pub fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("Ref", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(name)) = parts.first() {
                            out.insert(name.clone());
                        }
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        out.insert(dotted.split('.').next().unwrap_or(dotted).to_string());
                    }
                    ("Fn::Sub", Value::String(template)) => sub_references(template, out),
                    ("Fn::Sub", Value::Array(parts)) => {
                        if let Some(Value::String(template)) = parts.first() {
                            sub_references(template, out);
                        }
                        for p in parts.iter().skip(1) {
                            references(p, out);
                        }
                    }
                    ("//", _) => {}
                    _ => references(v, out),
                }
            }
            out.retain(|n| !n.starts_with("AWS::"));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn sub_references(template: &str, out: &mut BTreeSet<String>) {
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') && !name.starts_with("AWS::") {
            out.insert(name.split('.').next().unwrap_or(name).to_string());
        }
        rest = &after[end + 1..];
    }
}

/// A path element: a key or a list index.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn path_names(path: &[Seg]) -> Vec<&str> {
    path.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect()
}

/// The leaves where `a` and `b` differ: (path, old, new). Lists of the same length are
/// compared item by item; otherwise the items only one side has are listed.
fn leaves(
    path: &mut Vec<Seg>,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(Vec<Seg>, Option<Value>, Option<Value>)>,
) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                path.push(Seg::Key(k.clone()));
                leaves(path, x.get(k), y.get(k), out);
                path.pop();
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                path.push(Seg::Index(i));
                leaves(path, Some(p), Some(q), out);
                path.pop();
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            let mut unmatched: Vec<Option<&Value>> = y.iter().map(Some).collect();
            for (i, p) in x.iter().enumerate() {
                match unmatched.iter().position(|q| *q == Some(p)) {
                    Some(j) => unmatched[j] = None,
                    None => {
                        path.push(Seg::Index(i));
                        out.push((path.clone(), Some(p.clone()), None));
                        path.pop();
                    }
                }
            }
            for (j, q) in unmatched.into_iter().enumerate() {
                if let Some(q) = q {
                    path.push(Seg::Index(j));
                    out.push((path.clone(), None, Some(q.clone())));
                    path.pop();
                }
            }
        }
        (a, b) if a != b => out.push((path.clone(), a.cloned(), b.cloned())),
        _ => {}
    }
}

/// Parameter values by name.
type Values = BTreeMap<String, Value>;

fn parameters(stack: Option<&Stack>) -> BTreeMap<String, Value> {
    stack.map(|s| s.parameters.iter().map(|(k, p)| (k.clone(), parameter_value(p))).collect()).unwrap_or_default()
}

fn property_changes(
    ty: &str,
    a: &Resource,
    b: &Resource,
    pa: &BTreeMap<String, Value>,
    pb: &BTreeMap<String, Value>,
) -> Vec<PropertyChange> {
    let table = table();
    let mut out = Vec::new();
    let x = resolve(&a.properties, pa);
    let y = resolve(&b.properties, pb);
    let mut found = Vec::new();
    leaves(&mut Vec::new(), Some(&x), Some(&y), &mut found);
    for (path, old, new) in found {
        let names = path_names(&path);
        let rule = table.rule(ty, &names);
        // a parameter read by the property, when the template text itself is unchanged
        let top = names.first().copied().unwrap_or_default();
        let raw_same = a.properties.get(top) == b.properties.get(top);
        let because = raw_same.then(|| {
            let mut refs = BTreeSet::new();
            if let Some(v) = b.properties.get(top) {
                references(v, &mut refs);
            }
            let params: Vec<String> =
                refs.into_iter().filter(|r| pa.get(r) != pb.get(r)).map(|r| format!("parameter `{r}`")).collect();
            params.join(", ")
        });
        out.push(PropertyChange {
            path: path_text(&path),
            old,
            new,
            update: rule.map_or(Update::Unknown, |r| r.update),
            note: rule.and_then(|r| r.note.clone()),
            because: because.filter(|b| !b.is_empty()),
        });
    }
    let mut attribute = |name: &str, old: Value, new: Value| {
        if old != new {
            out.push(PropertyChange {
                path: name.to_string(),
                old: Some(old),
                new: Some(new),
                update: if name == "Condition" { Update::Unknown } else { Update::NoInterruption },
                note: None,
                because: None,
            });
        }
    };
    attribute("DeletionPolicy", json!(a.deletion_policy), json!(b.deletion_policy));
    attribute("UpdateReplacePolicy", json!(a.update_replace_policy), json!(b.update_replace_policy));
    attribute("Condition", json!(a.condition), json!(b.condition));
    attribute("DependsOn", json!(a.depends_on), json!(b.depends_on));
    attribute("Metadata", json!(a.metadata), json!(b.metadata));
    out
}

fn resource_change(
    logical: &str,
    a: Option<&Resource>,
    b: Option<&Resource>,
    pa: &BTreeMap<String, Value>,
    pb: &BTreeMap<String, Value>,
) -> Option<ResourceChange> {
    let table = table();
    let r = b.or(a)?;
    let mut change = ResourceChange {
        logical: logical.to_string(),
        ty: r.ty.clone(),
        node: r.node.clone(),
        action: Action::Update,
        update: None,
        stateful: table.stateful(&r.ty),
        policy: None,
        properties: Vec::new(),
    };
    match (a, b) {
        (None, Some(_)) => change.action = Action::Add,
        (Some(a), None) => {
            change.action = Action::Remove;
            change.policy = a.deletion_policy.map(str::to_string);
        }
        (Some(a), Some(b)) => {
            change.properties = property_changes(&b.ty, a, b, pa, pb);
            if a.ty != b.ty {
                change.stateful |= table.stateful(&a.ty);
                change.properties.insert(
                    0,
                    PropertyChange {
                        path: "Type".into(),
                        old: Some(json!(a.ty)),
                        new: Some(json!(b.ty)),
                        update: Update::Replacement,
                        note: None,
                        because: None,
                    },
                );
            }
            if change.properties.is_empty() {
                return None;
            }
            settle(&mut change, a);
        }
        (None, None) => return None,
    }
    Some(change)
}

/// Set action and update from the properties.
fn settle(change: &mut ResourceChange, old: &Resource) {
    let worst = change.properties.iter().map(|p| p.update).max().unwrap_or(Update::NoInterruption);
    if worst == Update::Replacement {
        change.action = Action::Replace;
        change.update = None;
        change.policy = old.update_replace_policy.map(str::to_string);
    } else {
        change.action = Action::Update;
        change.update = Some(worst);
    }
}

/// Compare the stacks of two plans (either may be empty: a side that compiles to nothing).
pub fn diff(old: &[Stack], new: &[Stack]) -> Vec<StackDiff> {
    // stacks: the new plan's order, then those only the old plan has
    let mut ids: Vec<&str> = new.iter().map(|s| s.id.as_str()).collect();
    ids.extend(old.iter().map(|s| s.id.as_str()).filter(|id| !new.iter().any(|s| s.id.as_str() == *id)));
    let find = |stacks: &'_ [Stack], id: &str| stacks.iter().position(|s| s.id.as_str() == id);
    let pairs: Vec<(&str, Option<&Stack>, Option<&Stack>)> =
        ids.iter().map(|id| (*id, find(old, id).map(|i| &old[i]), find(new, id).map(|i| &new[i]))).collect();
    let params: Vec<(Values, Values)> = pairs.iter().map(|(_, a, b)| (parameters(*a), parameters(*b))).collect();

    // direct changes
    let mut changes: Vec<BTreeMap<String, ResourceChange>> = Vec::new();
    let mut order: Vec<Vec<String>> = Vec::new();
    for ((_, a, b), (pa, pb)) in pairs.iter().zip(&params) {
        let mut logicals: Vec<String> = b.map(|s| s.resources.keys().cloned().collect()).unwrap_or_default();
        if let Some(a) = a {
            logicals.extend(a.resources.keys().filter(|k| !b.is_some_and(|b| b.resources.contains_key(*k))).cloned());
        }
        let mut map = BTreeMap::new();
        for logical in &logicals {
            let ra = a.and_then(|s| s.resources.get(logical));
            let rb = b.and_then(|s| s.resources.get(logical));
            if let Some(c) = resource_change(logical, ra, rb, pa, pb) {
                map.insert(logical.clone(), c);
            }
        }
        changes.push(map);
        order.push(logicals);
    }

    let volatile = knock_on(&pairs, &params, &mut changes);

    let mut out = Vec::new();
    for (i, (id, a, b)) in pairs.iter().enumerate() {
        let mut counts = ResourceCounts::default();
        let mut resources = Vec::new();
        for logical in &order[i] {
            match changes[i].remove(logical) {
                Some(c) => {
                    match c.action {
                        Action::Add => counts.added += 1,
                        Action::Remove => counts.removed += 1,
                        Action::Replace => {
                            counts.changed += 1;
                            counts.replaced += 1;
                        }
                        Action::Update => counts.changed += 1,
                    }
                    resources.push(c);
                }
                None => counts.unchanged += 1,
            }
        }
        let (pa, pb) = &params[i];
        let names: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
        let parameters: Vec<ParameterChange> = names
            .into_iter()
            .filter(|n| pa.get(*n) != pb.get(*n))
            .map(|n| ParameterChange { name: n.clone(), old: pa.get(n).cloned(), new: pb.get(n).cloned() })
            .collect();
        let outs = |s: &Option<&Stack>| -> BTreeSet<String> {
            s.map(|s| s.outputs.keys().cloned().collect()).unwrap_or_default()
        };
        let (oa, ob) = (outs(a), outs(b));
        let outputs_added: Vec<String> = ob.difference(&oa).cloned().collect();
        let outputs_removed: Vec<String> = oa.difference(&ob).cloned().collect();
        let status = match (a, b) {
            (None, Some(_)) => StackStatus::Added,
            (Some(_), None) => StackStatus::Removed,
            _ if resources.is_empty()
                && parameters.is_empty()
                && outputs_added.is_empty()
                && outputs_removed.is_empty() =>
            {
                StackStatus::Unchanged
            }
            _ => StackStatus::Changed,
        };
        out.push(StackDiff {
            stack: id.to_string(),
            name: b.or(*a).map(|s| s.name.clone()).unwrap_or_default(),
            status,
            counts,
            resources,
            parameters,
            outputs_added,
            outputs_removed,
            outputs_changed: volatile.iter().filter(|(s, _)| s == id).map(|(_, o)| o.clone()).collect(),
        });
    }
    out
}

/// Follow replacements and changed outputs to the properties that read them, until nothing
/// more changes. Returns the outputs (stack, name) whose value changes at deploy time.
fn knock_on(
    pairs: &[(&str, Option<&Stack>, Option<&Stack>)],
    params: &[(Values, Values)],
    changes: &mut [BTreeMap<String, ResourceChange>],
) -> BTreeSet<(String, String)> {
    let table = table();
    loop {
        let replaced = |i: usize, logical: &str, changes: &[BTreeMap<String, ResourceChange>]| {
            changes[i].get(logical).is_some_and(|c| c.action == Action::Replace)
        };
        // outputs whose value changes at deploy time
        let mut volatile: BTreeSet<(String, String)> = BTreeSet::new();
        for (i, (id, a, b)) in pairs.iter().enumerate() {
            let (Some(a), Some(b)) = (a, b) else { continue };
            let (pa, pb) = &params[i];
            for (name, out) in &b.outputs {
                let Some(old) = a.outputs.get(name) else { continue };
                let mut refs = BTreeSet::new();
                references(&out.value, &mut refs);
                let moved = resolve(&old.value, pa) != resolve(&out.value, pb)
                    || refs.iter().any(|r| replaced(i, r, changes) || volatile_param(b, r, &volatile));
                if moved {
                    volatile.insert((id.to_string(), name.clone()));
                }
            }
        }
        let mut grew = false;
        for (i, (_, a, b)) in pairs.iter().enumerate() {
            let (Some(a), Some(b)) = (a, b) else { continue };
            for (logical, rb) in &b.resources {
                let Some(ra) = a.resources.get(logical) else { continue };
                if ra.ty != rb.ty || replaced(i, logical, changes) {
                    continue;
                }
                let Value::Object(props) = &rb.properties else { continue };
                let mut added = Vec::new();
                for (key, value) in props {
                    if key == "//" {
                        continue;
                    }
                    let already = changes[i].get(logical).is_some_and(|c| {
                        c.properties.iter().any(|p| {
                            p.path == *key
                                || p.path.starts_with(&format!("{key}."))
                                || p.path.starts_with(&format!("{key}["))
                        })
                    });
                    if already {
                        continue;
                    }
                    let mut refs = BTreeSet::new();
                    references(value, &mut refs);
                    let mut because: Vec<String> =
                        refs.iter().filter(|r| replaced(i, r, changes)).map(|r| format!("`{r}` is replaced")).collect();
                    because.extend(refs.iter().filter(|r| volatile_param(b, r, &volatile)).map(|r| {
                        match b.parameters.get(r).map(|p| &p.source) {
                            Some(ParamSource::Output { stack, output }) => {
                                format!("output `{output}` of the {} stack changes", stack.as_str())
                            }
                            _ => format!("parameter `{r}` changes"),
                        }
                    }));
                    if because.is_empty() {
                        continue;
                    }
                    let rule = table.rule(&rb.ty, &[key.as_str()]);
                    added.push(PropertyChange {
                        path: key.clone(),
                        old: None,
                        new: None,
                        update: rule.map_or(Update::Unknown, |r| r.update),
                        note: rule.and_then(|r| r.note.clone()),
                        because: Some(because.join(", ")),
                    });
                }
                if added.is_empty() {
                    continue;
                }
                grew = true;
                let change = changes[i].entry(logical.clone()).or_insert_with(|| ResourceChange {
                    logical: logical.clone(),
                    ty: rb.ty.clone(),
                    node: rb.node.clone(),
                    action: Action::Update,
                    update: None,
                    stateful: table.stateful(&rb.ty),
                    policy: None,
                    properties: Vec::new(),
                });
                change.properties.extend(added);
                change.properties.sort_by(|x, y| x.path.cmp(&y.path));
                settle(change, ra);
            }
        }
        if !grew {
            return volatile;
        }
    }
}

/// `name` is a parameter of `stack` filled from an output that changes.
fn volatile_param(stack: &Stack, name: &str, volatile: &BTreeSet<(String, String)>) -> bool {
    match stack.parameters.get(name).map(|p| &p.source) {
        Some(ParamSource::Output { stack, output }) => volatile.contains(&(stack.as_str().to_string(), output.clone())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn refs_to_known_parameters_resolve_and_comments_go() {
        let p = params(&[("Cidr", json!("10.0.0.0/24"))]);
        let v = json!({"//": "a comment", "CidrBlock": {"Ref": "Cidr"}, "VpcId": {"Ref": "Vpc"}, "Name": {"Fn::Sub": "${Cidr}-${AWS::StackName}"}});
        assert_eq!(
            resolve(&v, &p),
            json!({"CidrBlock": "10.0.0.0/24", "VpcId": {"Ref": "Vpc"}, "Name": {"Fn::Sub": "10.0.0.0/24-${AWS::StackName}"}})
        );
    }

    #[test]
    fn references_cover_ref_getatt_and_sub() {
        let mut refs = BTreeSet::new();
        references(
            &json!({"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Y", "Arn"]}, "C": {"Fn::Sub": "${Z.Arn}/* ${AWS::Region} ${!Literal}"}, "D": {"Ref": "AWS::NoValue"}}),
            &mut refs,
        );
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["X", "Y", "Z"]);
    }

    #[test]
    fn lists_of_different_lengths_show_the_items_one_side_has() {
        let mut out = Vec::new();
        leaves(&mut Vec::new(), Some(&json!({"L": [1, 2, 3]})), Some(&json!({"L": [1, 3, 4, 5]})), &mut out);
        let shown: Vec<(String, Option<Value>, Option<Value>)> =
            out.into_iter().map(|(p, a, b)| (path_text(&p), a, b)).collect();
        assert_eq!(
            shown,
            [
                ("L[1]".to_string(), Some(json!(2)), None),
                ("L[2]".to_string(), None, Some(json!(4))),
                ("L[3]".to_string(), None, Some(json!(5)))
            ]
        );
    }
}
