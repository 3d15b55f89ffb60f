//! Turning rules off and changing their severity, by code or prefix (`NET`, `NET002`):
//! command-line `--ignore/--warn/--error`, the configuration's `rules:`, and comments in the
//! file (`%% archc: ignore NET002` before a statement, `<!-- archc: ignore NET -->` for the
//! whole file). The planner's findings (`PLN`, `IAM`) are selected the same way; a code or
//! prefix that names nothing is an error with a did-you-mean, never silently accepted.

use regex::Regex;
use std::sync::LazyLock;

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::SourceFacts;
use crate::source::{MappedText, Span};

/// Which rules run, at which severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// (prefix, action); a later entry of the same length wins.
    entries: Vec<(String, Option<Severity>)>,
}

impl Selection {
    pub fn ignore(&mut self, prefixes: &[String]) -> &mut Self {
        self.entries.extend(prefixes.iter().map(|p| (p.to_ascii_uppercase(), None)));
        self
    }

    pub fn set(&mut self, prefixes: &[String], severity: Severity) -> &mut Self {
        self.entries.extend(prefixes.iter().map(|p| (p.to_ascii_uppercase(), Some(severity))));
        self
    }

    /// The severity a finding of `code` (by default `default`) is reported at, or `None` when
    /// it is off. The longest matching prefix decides.
    pub fn severity_of(&self, code: &str, default: Severity) -> Option<Severity> {
        let mut best: Option<(usize, Option<Severity>)> = None;
        for (prefix, action) in &self.entries {
            if code.starts_with(prefix.as_str()) && best.is_none_or(|(len, _)| prefix.len() >= len) {
                best = Some((prefix.len(), *action));
            }
        }
        match best {
            Some((_, action)) => action,
            None => Some(default),
        }
    }

    /// The severity `rule` runs at, or `None` when it is off.
    pub fn severity(&self, rule: &super::Rule) -> Option<Severity> {
        self.severity_of(rule.code, rule.severity)
    }

    /// Apply the selection to findings that were made at their default severity (the
    /// planner's): drop the ignored ones, change the severity of the others. Findings that stop
    /// the compilation (`PLN001`, `PLN002`) are not selectable.
    pub fn apply(&self, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        diagnostics
            .into_iter()
            .filter_map(|mut d| {
                if !selectable(d.code) {
                    return Some(d);
                }
                d.severity = self.severity_of(d.code, d.severity)?;
                Some(d)
            })
            .collect()
    }
}

/// Every code `--ignore/--warn/--error` and suppressions may name: the rules' and the
/// planner's.
pub fn selectable_codes() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = super::RULES.iter().map(|r| r.code).collect();
    all.extend(codes::SYNTAX_CODES.iter().map(|c| c.code).filter(|c| selectable(c)));
    all
}

/// Rules, and the planner's findings that do not stop the compilation.
fn selectable(code: &str) -> bool {
    !(code.starts_with("SYN") || code.starts_with("CFG") || code == codes::PLAN_NO_IMAGE)
}

/// Why `code` selects nothing, with the nearest real codes; `None` when it is a code or the
/// prefix of one.
pub fn unknown_code(code: &str) -> Option<String> {
    let upper = code.trim().to_ascii_uppercase();
    let known = selectable_codes();
    if !upper.is_empty() && known.iter().any(|k| k.starts_with(upper.as_str())) {
        return None;
    }
    let near: Vec<&str> = {
        let mut scored: Vec<(usize, &str)> =
            known.iter().map(|k| (strsim::damerau_levenshtein(&upper, k), *k)).filter(|(d, _)| *d <= 2).collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, k)| k).collect()
    };
    let families: Vec<String> = {
        let mut f: Vec<String> = known.iter().map(|k| k[..3].to_string()).collect();
        f.dedup();
        f
    };
    Some(match near.as_slice() {
        [] => format!(
            "`{code}` is not a rule code or prefix; codes are a family ({}) and a number, e.g. `NET002` (`archc rules` lists them)",
            families.join(", ")
        ),
        near => format!(
            "`{code}` is not a rule code or prefix; did you mean {}?",
            near.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")
        ),
    })
}

static MERMAID_IGNORE: LazyLock<Regex> = LazyLock::new(|| {
    crate::constant_regex(r"(?m)^[ \t]*%%[ \t]*archc:[ \t]*ignore[ \t]+([A-Za-z0-9, \t]+?)[ \t]*\r?$")
});
static HTML_IGNORE: LazyLock<Regex> =
    LazyLock::new(|| crate::constant_regex(r"<!--\s*archc:\s*ignore\s+([A-Za-z0-9,\s]+?)\s*-->"));

/// The codes of a suppression comment, each with its span (relative to `base`).
fn codes_at(list: &str, base: usize) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in list.char_indices().chain(std::iter::once((list.len(), ','))) {
        let sep = c == ',' || c.is_whitespace();
        match (sep, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((list[s..i].to_ascii_uppercase(), Span::new(base + s, base + i)));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// One in-file suppression: what it covers and the codes it names (with where each is written).
#[derive(Debug, Clone)]
pub struct Suppression {
    pub covers: Span,
    pub codes: Vec<(String, Span)>,
}

/// The in-file suppressions: `<!-- archc: ignore ... -->` anywhere in `source`, and
/// `%% archc: ignore ...` in the diagram (`block`, the fenced block's text mapped to the file;
/// `None` for a bare diagram), covering the statement after it.
pub fn file_ignores(source: &str, block: Option<&MappedText>, facts: &SourceFacts) -> Vec<Suppression> {
    let mut out = Vec::new();
    for caps in HTML_IGNORE.captures_iter(source) {
        let Some(list) = caps.get(1) else { continue };
        out.push(Suppression { covers: Span::new(0, source.len()), codes: codes_at(list.as_str(), list.start()) });
    }
    let original = block.map(|t| t.as_str()).unwrap_or(source);
    let spans = &facts.statement_spans;
    for caps in MERMAID_IGNORE.captures_iter(original) {
        let (Some(m), Some(list)) = (caps.get(0), caps.get(1)) else { continue };
        let end = block.map_or(m.end(), |t| t.source_offset(m.end()));
        let codes = codes_at(list.as_str(), 0)
            .into_iter()
            .map(|(c, s)| {
                let span = match block {
                    Some(t) => {
                        Span::new(t.source_offset(list.start() + s.start), t.source_offset(list.start() + s.end))
                    }
                    None => Span::new(list.start() + s.start, list.start() + s.end),
                };
                (c, span)
            })
            .collect();
        let covers = spans.iter().find(|s| s.start >= end).copied().unwrap_or(Span::empty(end));
        out.push(Suppression { covers, codes });
    }
    out
}

/// Suppressions that name no code: errors where they are written.
pub fn check_suppressions(suppressions: &[Suppression]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in suppressions {
        for (code, span) in &s.codes {
            if let Some(why) = unknown_code(code) {
                out.push(
                    Diagnostic::error(codes::UNKNOWN_RULE_CODE, why)
                        .with_primary(*span, "no such rule code")
                        .with_help("`archc rules` lists the codes; a prefix such as `NET` selects a family"),
                );
            }
        }
    }
    out
}

/// Drop diagnostics covered by an in-file ignore (never `SYN`/`CFG` ones).
pub fn apply_file_ignores(diagnostics: &mut Vec<Diagnostic>, ignores: &[Suppression]) {
    diagnostics.retain(|d| {
        if !selectable(d.code) || d.file != 0 {
            return true;
        }
        let Some(at) = d.primary_span() else { return true };
        !ignores.iter().any(|s| {
            at.start >= s.covers.start
                && at.start <= s.covers.end
                && s.codes.iter().any(|(c, _)| d.code.starts_with(c.as_str()))
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_prefixes_are_known_and_typos_are_not() {
        assert_eq!(unknown_code("NET002"), None);
        assert_eq!(unknown_code("net"), None);
        assert_eq!(unknown_code("PLN004"), None);
        assert_eq!(unknown_code("IAM"), None);
        let why = unknown_code("GRF04").expect("unknown");
        assert!(why.contains("`GRF004`"), "{why}");
        let why = unknown_code("BOGUS1").expect("unknown");
        assert!(why.contains("`archc rules`"), "{why}");
        assert!(unknown_code("").is_some());
        assert!(unknown_code("SYN002").is_some(), "front-end codes are not selectable");
    }

    #[test]
    fn suppression_codes_keep_their_positions() {
        let got = codes_at("NET002, grf04", 10);
        assert_eq!(got, vec![("NET002".to_string(), Span::new(10, 16)), ("GRF04".to_string(), Span::new(18, 23))]);
    }
}
