//! Turning rules off and changing their severity, by code or prefix (`NET`, `NET002`):
//! command-line `--ignore/--warn/--error`, the configuration's `rules:`, and comments in the
//! file (`%% archc: ignore NET002` before a statement, `<!-- archc: ignore NET -->` for the
//! whole file).

use regex::Regex;
use std::sync::LazyLock;

use super::Rule;
use crate::diagnostic::{Diagnostic, Severity};
use crate::frontend::Diagram;
use crate::source::Span;
use crate::syntax::ast::Statement;

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

    /// The severity `rule` runs at, or `None` when it is off. The longest matching prefix
    /// decides.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        let mut best: Option<(usize, Option<Severity>)> = None;
        for (prefix, action) in &self.entries {
            if rule.code.starts_with(prefix.as_str()) && best.is_none_or(|(len, _)| prefix.len() >= len) {
                best = Some((prefix.len(), *action));
            }
        }
        match best {
            Some((_, action)) => action,
            None => Some(rule.severity),
        }
    }
}

static MERMAID_IGNORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*%%[ \t]*archc:[ \t]*ignore[ \t]+([A-Za-z0-9, \t]+?)[ \t]*\r?$").expect("regex")
});
static HTML_IGNORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<!--\s*archc:\s*ignore\s+([A-Za-z0-9,\s]+?)\s*-->").expect("regex"));

fn codes(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_ascii_uppercase).collect()
}

fn statement_spans(statements: &[Statement], out: &mut Vec<Span>) {
    for s in statements {
        let span = match s {
            Statement::Vertex(v) => v.span,
            Statement::Style { span, .. } | Statement::ClassDef { span, .. } | Statement::Class { span, .. } => *span,
            Statement::LinkStyle(l) => l.span,
            Statement::Click(c) => c.span,
            Statement::Subgraph(sg) => {
                statement_spans(&sg.body, out);
                sg.span
            }
            Statement::Direction { span, .. } | Statement::Semi(span) => *span,
            Statement::AccTitle(t) | Statement::AccDescr(t) => t.span,
        };
        out.push(span);
    }
}

/// The in-file ignores: (covered span, codes).
pub fn file_ignores(source: &str, diagram: &Diagram) -> Vec<(Span, Vec<String>)> {
    let mut out = Vec::new();
    for caps in HTML_IGNORE.captures_iter(source) {
        out.push((Span::new(0, source.len()), codes(&caps[1])));
    }
    let block = diagram.block.as_ref().map(|b| &b.content);
    let original = block.map(|t| t.as_str()).unwrap_or(source);
    let mut spans = Vec::new();
    statement_spans(&diagram.parsed.flowchart.statements, &mut spans);
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    for caps in MERMAID_IGNORE.captures_iter(original) {
        let Some(m) = caps.get(0) else { continue };
        let end = block.map_or(m.end(), |t| t.source_offset(m.end()));
        if let Some(next) = spans.iter().find(|s| s.start >= end) {
            out.push((*next, codes(&caps[1])));
        }
    }
    out
}

/// Drop diagnostics covered by an in-file ignore (never `SYN`/`CFG` ones).
pub fn apply_file_ignores(diagnostics: &mut Vec<Diagnostic>, ignores: &[(Span, Vec<String>)]) {
    diagnostics.retain(|d| {
        if d.code.starts_with("SYN") || d.code.starts_with("CFG") || d.file != 0 {
            return true;
        }
        let Some(at) = d.primary_span() else { return true };
        !ignores.iter().any(|(span, codes)| {
            at.start >= span.start && at.start <= span.end && codes.iter().any(|c| d.code.starts_with(c.as_str()))
        })
    });
}
