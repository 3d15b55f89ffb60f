//! `archc explain`, `archc rules`, `archc kinds`: the catalogs, printed.

use serde_json::json;

use crate::cli::ListFormat;
use crate::diagnostic::SYNTAX_CODES;
use crate::model::catalog;
use crate::rules::{self, RULES};

use super::{err, out, EXIT_FAILURE, EXIT_OK};

/// `archc explain CODE`
pub(crate) fn explain(code: &str) -> i32 {
    if let Some(rule) = rules::rule(code) {
        let text = format!(
            "# {} ({})\n\nDefault severity: {}.\n\n{}",
            rule.name,
            rule.code,
            rule.severity.as_str(),
            rule.explanation
        );
        return done(out(&text));
    }
    if let Some(c) = SYNTAX_CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code) || c.name == code) {
        return done(out(&format!("# {} ({})\n\n{}.\n", c.name, c.code, c.summary)));
    }
    let mut known: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    known.extend(SYNTAX_CODES.iter().map(|c| c.code));
    err(&format!("error: no rule or diagnostic code `{code}` (known: {})\n", known.join(", ")));
    EXIT_FAILURE
}

/// `archc rules`
pub(crate) fn rules(format: ListFormat) -> i32 {
    let text = match format {
        ListFormat::Markdown => rules::markdown_table(),
        ListFormat::Json => {
            let list: Vec<_> = RULES
                .iter()
                .map(|r| json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary()}))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
        }
        ListFormat::Text => RULES
            .iter()
            .map(|r| format!("{}  {:<40} {:<8} {}\n", r.code, r.name, r.severity.as_str(), r.summary()))
            .collect(),
    };
    done(out(&text))
}

fn done(result: Result<(), i32>) -> i32 {
    match result {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}

/// `archc kinds`
pub(crate) fn kinds(format: ListFormat) -> i32 {
    let c = catalog();
    let text = match format {
        ListFormat::Json => {
            let list: Vec<_> = c
                .kinds
                .iter()
                .map(|k| json!({"id": k.def.id, "name": k.def.name, "category": k.def.category, "container": k.def.container, "names": k.def.names, "nothing_to_build": k.def.nothing_to_build, "built_by": crate::plan::built_by(k.id())}))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
        }
        ListFormat::Markdown => {
            let mut s = String::from("| kind | name | category | recognised by |\n|---|---|---|---|\n");
            for k in &c.kinds {
                s.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    k.def.id,
                    k.def.name,
                    k.def.category,
                    k.def.names.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            s
        }
        ListFormat::Text => c
            .kinds
            .iter()
            .map(|k| {
                let how = crate::plan::built_by(k.id())
                    .or_else(|| k.def.nothing_to_build.as_ref().map(|w| format!("nothing to build: {w}")))
                    .unwrap_or_default();
                format!("{:<24} {:<34} {:<14} {how}\n", k.def.id, k.def.name, k.def.category)
            })
            .collect(),
    };
    done(out(&text))
}
