//! YAML scalars and the comment key: what the plan's templates and the emitters share (a
//! leaf of the program, below every stage).

use serde_json::Value;

/// The key that carries a comment inside an object (the emitters write it as `#` lines).
pub const COMMENT: &str = "//";

/// Whether a plain (unquoted) scalar would be read back as this same string.
fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s != s.trim() {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n" | ".nan" | ".inf" | "-.inf" | "<<"
    ) {
        return false;
    }
    if s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o") {
        return false;
    }
    // numbers with separators (1_000, 1:30) and dates read as other types in YAML 1.1
    if s.chars().all(|c| c.is_ascii_digit() || "_:.-+".contains(c)) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x`, `:x` and `?x` are plain when followed by a non-space, but keep it simple
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains('\t') || s.contains('\n'))
}

/// A scalar as YAML.
/// Quoted when YAML would read it as anything but the string it is.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v).unwrap_or_default(),
    }
}
