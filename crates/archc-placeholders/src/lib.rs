//! Filling the `${Name}` placeholders of the Kubernetes objects (and Helm values) with the
//! values a deploy knows: stack outputs and deploy-time values.
//!
//! The contract (see `kubernetes/README.md` of a compiled output): placeholders appear only
//! inside string values, never in keys; they are filled in the parsed document, so a value
//! needs no escaping; one pass, so a value that itself contains `${...}` is not expanded again;
//! and an object with a placeholder that has no value, or any `${` left over, is refused as a
//! whole: nothing is applied half-filled.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

// a constant pattern, compiled by every test of this crate
#[allow(clippy::expect_used)]
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([A-Za-z][A-Za-z0-9]*)\}").expect("constant pattern"));

/// A place in a document that could not be filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfilled {
    /// JSON pointer of the string (`/metadata/annotations/eks.amazonaws.com~1role-arn`).
    pub pointer: String,
    /// The placeholder without a value, or the text that looks like a broken one.
    pub name: String,
}

impl fmt::Display for Unfilled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` at {}", self.name, if self.pointer.is_empty() { "/" } else { &self.pointer })
    }
}

/// The names of the placeholders `value` uses, sorted and once each.
pub fn names(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_strings(value, &mut |s| out.extend(PLACEHOLDER.captures_iter(s).map(|c| c[1].to_string())));
    out.sort();
    out.dedup();
    out
}

/// `value` with every `${Name}` in its string values replaced by `values[Name]`; every place
/// that cannot be filled otherwise.
pub fn fill(value: &Value, values: &BTreeMap<String, String>) -> Result<Value, Vec<Unfilled>> {
    let mut errors = Vec::new();
    let out = fill_at(value, values, &mut String::new(), &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn fill_at(
    value: &Value,
    values: &BTreeMap<String, String>,
    pointer: &mut String,
    errors: &mut Vec<Unfilled>,
) -> Value {
    match value {
        Value::String(s) => {
            let mut missing = Vec::new();
            let filled = PLACEHOLDER.replace_all(s, |c: &regex::Captures<'_>| match values.get(&c[1]) {
                Some(v) => v.clone(),
                None => {
                    missing.push(c[1].to_string());
                    c[0].to_string()
                }
            });
            errors.extend(missing.into_iter().map(|name| Unfilled { pointer: pointer.clone(), name }));
            // what is left of the original text after the placeholders: a `${` there is a
            // placeholder archc could not read (a typo in a hand edit), never a literal
            if PLACEHOLDER.replace_all(s, "").contains("${") {
                let at = s.find("${").unwrap_or(0);
                let name: String = s[at..].chars().take(40).collect();
                errors.push(Unfilled { pointer: pointer.clone(), name });
            }
            Value::String(filled.into_owned())
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| with_segment(pointer, &i.to_string(), |p| fill_at(item, values, p, errors)))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if k.contains("${") {
                        errors.push(Unfilled { pointer: pointer.clone(), name: k.clone() });
                    }
                    (k.clone(), with_segment(pointer, k, |p| fill_at(v, values, p, errors)))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn with_segment<T>(pointer: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = pointer.len();
    pointer.push('/');
    pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    let out = f(pointer);
    pointer.truncate(len);
    out
}

fn walk_strings(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| walk_strings(i, f)),
        Value::Object(map) => map.values().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fills_string_values_in_one_pass() {
        let doc = json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "${MmRoleArn}"}},
                         "spec": {"args": ["--bucket=${S3BucketName}", "${A}${B}"], "replicas": 2}});
        let v = values(&[("MmRoleArn", "arn:aws:iam::1:role/x"), ("S3BucketName", "b"), ("A", "${B}"), ("B", "2")]);
        let out = fill(&doc, &v).expect("filled");
        assert_eq!(out["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "arn:aws:iam::1:role/x");
        assert_eq!(out["spec"]["args"], json!(["--bucket=b", "${B}2"]), "a value is not expanded again");
        assert_eq!(out["spec"]["replicas"], 2);
        assert_eq!(names(&doc), ["A", "B", "MmRoleArn", "S3BucketName"]);
    }

    #[test]
    fn refuses_a_placeholder_without_a_value_with_where_it_is() {
        let doc =
            json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "${MmRoleArn}"}}, "x": ["${VpcId}"]});
        let err = fill(&doc, &values(&[("VpcId", "vpc-1")])).expect_err("refused");
        assert_eq!(
            err,
            [Unfilled {
                pointer: "/metadata/annotations/eks.amazonaws.com~1role-arn".into(),
                name: "MmRoleArn".into()
            }]
        );
        assert_eq!(err[0].to_string(), "`MmRoleArn` at /metadata/annotations/eks.amazonaws.com~1role-arn");
    }

    #[test]
    fn refuses_broken_placeholders_and_placeholders_in_keys() {
        let doc = json!({"a": "${Vpc Id}", "${Key}": "v", "b": "cost: $5, ${ unterminated"});
        let err = fill(&doc, &values(&[("Key", "k")])).expect_err("refused");
        let mut names: Vec<&str> = err.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["${ unterminated", "${Key}", "${Vpc Id}"]);
    }
}
