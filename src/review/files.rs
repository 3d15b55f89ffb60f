//! The emitted files compared: Kubernetes objects field by field (matched by kind, namespace
//! and name, not by file name), workflows as unified diffs, every other file by content.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::graph::Change;

/// Files that record the compilation rather than define infrastructure: a change of theirs
/// alone (a box that becomes no resource, say) is no infrastructure change.
pub const BOOKKEEPING: &[&str] = &["plan.json", ".archc-output"];

/// What a file is, for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    CloudFormation,
    Kubernetes,
    Helm,
    Workflow,
    Documentation,
    Bookkeeping,
    Other,
}

impl FileKind {
    pub fn of(path: &str) -> FileKind {
        if BOOKKEEPING.contains(&path) {
            FileKind::Bookkeeping
        } else if path.ends_with(".md") {
            FileKind::Documentation
        } else if path.starts_with("cloudformation/") {
            FileKind::CloudFormation
        } else if path.starts_with("kubernetes/") {
            FileKind::Kubernetes
        } else if path.starts_with("helm/") {
            FileKind::Helm
        } else if path.starts_with(".github/workflows/") {
            FileKind::Workflow
        } else {
            FileKind::Other
        }
    }
}

/// A file added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    pub kind: FileKind,
    pub change: Change,
    /// A unified diff (workflows, Helm values and other text files that are not compared
    /// structurally).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why a file that reads the same changes at deploy time (its `${Name}` placeholders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

/// One field of a Kubernetes object that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// Why a value that reads the same changes at deploy time (a `${Name}` placeholder whose
    /// stack output changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

/// A Kubernetes object added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub file: String,
    pub change: Change,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

impl ObjectChange {
    /// `Deployment mattermost/mattermost`.
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// The file comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilesDiff {
    pub files: Vec<FileChange>,
    pub objects: Vec<ObjectChange>,
}

impl FilesDiff {
    /// Something a deploy applies changed: a Kubernetes object (not just a comment of its
    /// file), a workflow, Helm values or another emitted file. Templates are judged by the
    /// resource diff; documentation and bookkeeping files do not count.
    pub fn is_infrastructure_change(&self) -> bool {
        !self.objects.is_empty()
            || self.files.iter().any(|f| matches!(f.kind, FileKind::Workflow | FileKind::Helm | FileKind::Other))
    }
}

/// The Kubernetes objects of a set of files, by (kind, namespace, name).
fn objects(files: &BTreeMap<String, String>) -> BTreeMap<(String, Option<String>, String), (String, Value)> {
    let mut out = BTreeMap::new();
    for (path, text) in files.iter().filter(|(p, _)| FileKind::of(p) == FileKind::Kubernetes) {
        for doc in serde_yaml::Deserializer::from_str(text) {
            let Ok(value) = <Value as serde::Deserialize>::deserialize(doc) else { continue };
            let kind = value["kind"].as_str().unwrap_or("?").to_string();
            let name = value["metadata"]["name"].as_str().unwrap_or("?").to_string();
            let namespace = value["metadata"]["namespace"].as_str().map(str::to_string);
            out.insert((kind, namespace, name), (path.clone(), value));
        }
    }
    out
}

fn fields(path: &mut String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                fields(path, x.get(k), y.get(k), out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                fields(path, Some(p), Some(q), out);
                path.truncate(len);
            }
        }
        (a, b) if a != b => {
            out.push(FieldChange { path: path.clone(), old: a.cloned(), new: b.cloned(), because: None })
        }
        _ => {}
    }
}

/// The `${Name}` placeholders in the string values of `value`, with their paths.
fn placeholders(path: &mut String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else { break };
                out.push((path.clone(), after[..end].to_string()));
                rest = &after[end + 1..];
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                placeholders(path, v, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                placeholders(path, v, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Kubernetes objects whose `${Name}` placeholders name stack outputs that change at deploy
/// time: a deploy fills them with new values, so the objects change even when their files
/// do not (a subnet CIDR in a NetworkPolicy, a role ARN in an IRSA annotation).
pub fn deploy_time(diff: &mut FilesDiff, new: &BTreeMap<String, String>, changed_outputs: &BTreeSet<String>) {
    if changed_outputs.is_empty() {
        return;
    }
    for ((kind, namespace, name), (file, value)) in objects(new) {
        let mut found = Vec::new();
        placeholders(&mut String::new(), &value, &mut found);
        let fields: Vec<FieldChange> = found
            .into_iter()
            .filter(|(_, p)| changed_outputs.contains(p))
            .map(|(path, p)| FieldChange { path, old: None, new: None, because: Some(format!("output `{p}` changes")) })
            .collect();
        if fields.is_empty() {
            continue;
        }
        let at = diff.objects.iter().position(|o| o.kind == kind && o.namespace == namespace && o.name == name);
        match at {
            Some(i) if diff.objects[i].change == Change::Added => {}
            Some(i) => {
                let o = &mut diff.objects[i];
                let fresh: Vec<FieldChange> =
                    fields.into_iter().filter(|f| !o.fields.iter().any(|g| g.path == f.path)).collect();
                o.fields.extend(fresh);
            }
            None => diff.objects.push(ObjectChange { kind, namespace, name, file, change: Change::Changed, fields }),
        }
    }
    diff.objects.sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
    // Helm values: text with placeholders
    for (path, text) in new.iter().filter(|(p, _)| FileKind::of(p) == FileKind::Helm) {
        let mut found = Vec::new();
        placeholders(&mut String::new(), &Value::String(text.clone()), &mut found);
        let names: BTreeSet<String> =
            found.into_iter().map(|(_, p)| p).filter(|p| changed_outputs.contains(p)).collect();
        if names.is_empty() || diff.files.iter().any(|f| &f.path == path) {
            continue;
        }
        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        diff.files.push(FileChange {
            path: path.clone(),
            kind: FileKind::Helm,
            change: Change::Changed,
            diff: None,
            because: Some(if list.len() == 1 {
                format!("output {} changes", list[0])
            } else {
                format!("outputs {} change", list.join(", "))
            }),
        });
    }
    diff.files.sort_by(|a, b| a.path.cmp(&b.path));
}

/// A unified diff of two texts (three lines of context).
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// Compare two sets of emitted files.
pub fn diff(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> FilesDiff {
    let mut out = FilesDiff::default();
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        let change = match (a, b) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(a), Some(b)) if a != b => Change::Changed,
            _ => continue,
        };
        let kind = FileKind::of(path);
        let diff = match kind {
            FileKind::Workflow | FileKind::Helm | FileKind::Other => Some(unified(
                a.map_or("", String::as_str),
                b.map_or("", String::as_str),
                &format!("a/{path}"),
                &format!("b/{path}"),
            )),
            _ => None,
        };
        out.files.push(FileChange { path: path.clone(), kind, change, diff, because: None });
    }
    let mut old_objects = objects(old);
    for (key, (file, b)) in objects(new) {
        let (kind, namespace, name) = key.clone();
        let change = match old_objects.remove(&key) {
            None => ObjectChange { kind, namespace, name, file, change: Change::Added, fields: Vec::new() },
            Some((_, a)) => {
                let mut found = Vec::new();
                fields(&mut String::new(), Some(&a), Some(&b), &mut found);
                if found.is_empty() {
                    continue;
                }
                ObjectChange { kind, namespace, name, file, change: Change::Changed, fields: found }
            }
        };
        out.objects.push(change);
    }
    for ((kind, namespace, name), (file, _)) in old_objects {
        out.objects.push(ObjectChange { kind, namespace, name, file, change: Change::Removed, fields: Vec::new() });
    }
    out.objects.sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn objects_are_matched_by_identity_not_file_name() {
        let old = files(&[(
            "kubernetes/40-deployment-a.yaml",
            "kind: Deployment\nmetadata: {name: a, namespace: n}\nspec: {replicas: 1}\n",
        )]);
        let new = files(&[(
            "kubernetes/41-deployment-a.yaml",
            "kind: Deployment\nmetadata: {name: a, namespace: n}\nspec: {replicas: 2}\n",
        )]);
        let d = diff(&old, &new);
        assert_eq!(d.objects.len(), 1);
        assert_eq!(d.objects[0].change, Change::Changed);
        assert_eq!(d.objects[0].fields[0].path, "spec.replicas");
        assert_eq!(d.files.len(), 2, "the files themselves are renamed");
    }

    #[test]
    fn bookkeeping_alone_is_no_infrastructure_change() {
        let d = diff(&files(&[("plan.json", "{}")]), &files(&[("plan.json", "{\"a\": 1}")]));
        assert!(!d.is_infrastructure_change());
        let d = diff(&files(&[("Dockerfile", "FROM a")]), &files(&[("Dockerfile", "FROM b")]));
        assert!(d.is_infrastructure_change());
        assert!(d.files[0].diff.as_deref().is_some_and(|t| t.contains("-FROM a") && t.contains("+FROM b")));
    }
}
