//! `archc explain`, `archc rules`, `archc kinds`: the catalogs, printed.

use serde_json::json;

use crate::cli::ListFormat;
use crate::diagnostic::SYNTAX_CODES;
use crate::model::catalog;
use crate::rules::{self, RULES};

use super::{EXIT_FAILURE, EXIT_OK};

/// `archc explain CODE`
pub(crate) fn explain(code: &str) -> i32 {
    if let Some(rule) = rules::rule(code) {
        println!("# {} ({})\n\nDefault severity: {}.\n", rule.name, rule.code, rule.severity.as_str());
        print!("{}", rule.explanation);
        return EXIT_OK;
    }
    if let Some(c) = SYNTAX_CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code) || c.name == code) {
        println!("# {} ({})\n\n{}.", c.name, c.code, c.summary);
        return EXIT_OK;
    }
    let mut known: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    known.extend(SYNTAX_CODES.iter().map(|c| c.code));
    eprintln!("error: no rule or diagnostic code `{code}` (known: {})", known.join(", "));
    EXIT_FAILURE
}

/// `archc rules`
pub(crate) fn rules(format: ListFormat) -> i32 {
    match format {
        ListFormat::Markdown => print!("{}", rules::markdown_table()),
        ListFormat::Json => {
            let list: Vec<_> = RULES
                .iter()
                .map(|r| json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary()}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        }
        ListFormat::Text => {
            for r in RULES {
                println!("{}  {:<40} {:<8} {}", r.code, r.name, r.severity.as_str(), r.summary());
            }
        }
    }
    EXIT_OK
}

/// `archc kinds`
pub(crate) fn kinds(format: ListFormat) -> i32 {
    let c = catalog();
    match format {
        ListFormat::Json => {
            let list: Vec<_> = c
                .kinds
                .iter()
                .map(|k| json!({"id": k.def.id, "name": k.def.name, "category": k.def.category, "container": k.def.container, "names": k.def.names}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        }
        ListFormat::Markdown => {
            println!("| kind | name | category | recognised by |\n|---|---|---|---|");
            for k in &c.kinds {
                println!(
                    "| `{}` | {} | {} | {} |",
                    k.def.id,
                    k.def.name,
                    k.def.category,
                    k.def.names.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
        ListFormat::Text => {
            for k in &c.kinds {
                println!("{:<28} {:<34} {}", k.def.id, k.def.name, k.def.category);
            }
        }
    }
    EXIT_OK
}
