use std::io::{BufRead, Write};

use serde_json::{json, Value};

use crate::cli::DebugCommand;
use crate::flowchart::{layout_json, mermaid_json, FlowDb};
use crate::source::MappedText;
use crate::syntax::{self, Mode};

use super::{EXIT_FAILURE, EXIT_OK};

/// archc's message, then Mermaid's own wording when known.
fn error_text(diagnostics: &[crate::diagnostic::Diagnostic]) -> String {
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| match &d.mermaid {
            Some(m) => format!("{} [{}] ({m})", d.message, d.code),
            None => format!("{} [{}]", d.message, d.code),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One diagram through the front end, as the oracle prints it.
pub fn oracle_result(source: &str, mode: Mode, layout: bool) -> Value {
    let text = MappedText::new(source, 0);
    let parsed = match syntax::parse(&text, mode) {
        Ok(p) => p,
        Err(d) => return json!({"ok": false, "error": error_text(&d)}),
    };
    match FlowDb::build(&parsed.flowchart, &parsed.preprocessed.config, parsed.preprocessed.title.clone()) {
        Ok(db) => {
            let decode = mode == Mode::Full;
            let mut v = mermaid_json(&db, decode);
            if let Some(m) = v.as_object_mut() {
                m.insert("ok".into(), true.into());
                if layout {
                    let curve = parsed
                        .preprocessed
                        .config
                        .get("flowchart")
                        .and_then(|f| f.get("curve"))
                        .and_then(Value::as_str)
                        .unwrap_or("basis");
                    m.insert("layout".into(), layout_json(&db, curve, decode));
                }
            }
            v
        }
        Err(d) => json!({"ok": false, "error": error_text(&d), "error_kind": "semantic"}),
    }
}

/// `archc debug ...`
pub(crate) fn debug(command: &DebugCommand) -> i32 {
    match command {
        DebugCommand::OracleJsonl { mode, layout } => {
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for (n, line) in stdin.lock().lines().enumerate() {
                let Ok(line) = line else { return EXIT_FAILURE };
                if line.trim().is_empty() {
                    continue;
                }
                let rec: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                let (id, source) = match &rec {
                    Value::String(s) => (None, s.clone()),
                    Value::Object(m) => (
                        m.get("id").cloned(),
                        m.get("source")
                            .or(m.get("text"))
                            .or(m.get("code"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ),
                    _ => (None, String::new()),
                };
                let mode = match rec.get("mode").and_then(Value::as_str) {
                    Some("raw") => Mode::Raw,
                    Some("full") => Mode::Full,
                    _ => *mode,
                };
                let mut result = oracle_result(&source, mode, *layout);
                if let Some(m) = result.as_object_mut() {
                    match id {
                        Some(id) => m.insert("id".into(), id),
                        None => m.insert("line".into(), json!(n + 1)),
                    };
                }
                if let Err(e) = writeln!(out, "{result}") {
                    return if e.kind() == std::io::ErrorKind::BrokenPipe { EXIT_OK } else { EXIT_FAILURE };
                }
            }
            EXIT_OK
        }
    }
}
