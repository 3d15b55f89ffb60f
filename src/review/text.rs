//! Small text helpers shared by the danger rules and the renderers.

use serde_json::Value;

/// Cut `s` to at most `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A value in one short line: strings as they are, everything else as compact JSON (CloudFormation
/// intrinsics in their short form: `!Ref X`, `!GetAtt X.Arn`, `!Sub "..."`).
pub fn value(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Object(map) if map.len() == 1 => {
            let (k, inner) = map.iter().next().map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
            match (k, inner) {
                ("Ref", Value::String(name)) => format!("!Ref {name}"),
                ("Fn::GetAtt", Value::Array(parts)) => {
                    let parts: Vec<String> = parts.iter().map(|p| p.as_str().unwrap_or("?").to_string()).collect();
                    format!("!GetAtt {}", parts.join("."))
                }
                ("Fn::Sub", Value::String(t)) => format!("!Sub {t}"),
                _ => serde_json::to_string(v).unwrap_or_default(),
            }
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    truncate(&text.replace('\n', " "), 120)
}

/// `s` as inline code, safe in Markdown (backticks inside are replaced).
pub fn code(s: &str) -> String {
    let s = s.replace('`', "'").replace('\n', " ");
    if s.is_empty() {
        "_(empty)_".to_string()
    } else {
        format!("`{s}`")
    }
}

/// A value as inline code.
pub fn code_value(v: Option<&Value>) -> String {
    match v {
        Some(v) => code(&value(v)),
        None => "_(none)_".to_string(),
    }
}

/// Text for use inside a Markdown table cell or list item: no newlines, no pipes.
pub fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_read_short() {
        assert_eq!(value(&json!({"Ref": "Vpc"})), "!Ref Vpc");
        assert_eq!(value(&json!({"Fn::GetAtt": ["Role", "Arn"]})), "!GetAtt Role.Arn");
        assert_eq!(value(&json!("10.0.0.0/16")), "10.0.0.0/16");
        assert_eq!(value(&json!([1, 2])), "[1,2]");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
