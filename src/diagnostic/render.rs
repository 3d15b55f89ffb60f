use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::json;

use super::{Diagnostic, Severity};
use crate::source::SourceFile;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style text with a source snippet.
    Human,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// Render `diagnostics`; each points into `files[diagnostic.file]` (the input file first).
/// `color` only applies to the human format; `width` bounds its line length.
pub fn render(format: Format, files: &[SourceFile], diagnostics: &[Diagnostic], color: bool, width: usize) -> String {
    match format {
        Format::Human => render_human(files, diagnostics, color, width),
        Format::Json => render_json(files, diagnostics),
        Format::Github => render_github(files, diagnostics),
    }
}

fn file_of<'a>(files: &'a [SourceFile], d: &Diagnostic) -> &'a SourceFile {
    files.get(usize::from(d.file)).or(files.first()).unwrap_or_else(|| unreachable!("render needs the input file"))
}

/// Human output shows at most this many diagnostics with snippets (JSON shows all).
const HUMAN_LIMIT: usize = 200;

fn counts(diagnostics: &[Diagnostic]) -> (usize, usize, usize) {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    let infos = diagnostics.len() - errors - warnings;
    (errors, warnings, infos)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn render_human(files: &[SourceFile], diagnostics: &[Diagnostic], color: bool, width: usize) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let sources: Vec<NamedSource<String>> =
        files.iter().map(|f| NamedSource::new(f.name.clone(), f.text.clone())).collect();
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(HUMAN_LIMIT) {
        let file = file_of(files, diagnostic);
        let report = Report { diagnostic, source: &sources[usize::from(diagnostic.file).min(sources.len() - 1)], file };
        // Rendering into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    if diagnostics.len() > HUMAN_LIMIT {
        out.push_str(&format!("... and {} more (`--format json` prints them all)\n", diagnostics.len() - HUMAN_LIMIT));
    }
    let file = &files[0];
    let (errors, warnings, infos) = counts(diagnostics);
    if !diagnostics.is_empty() {
        let mut parts = Vec::new();
        if errors > 0 {
            parts.push(plural(errors, "error"));
        }
        if warnings > 0 {
            parts.push(plural(warnings, "warning"));
        }
        if infos > 0 {
            parts.push(plural(infos, "info"));
        }
        out.push_str(&format!("{}: {}\n", file.name, parts.join(", ")));
    }
    out
}

fn render_json(files: &[SourceFile], diagnostics: &[Diagnostic]) -> String {
    let items: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let file = file_of(files, d);
            let span = d.primary_span().unwrap_or_default();
            let start = file.line_col(span.start);
            let end = file.line_col(span.end);
            let labels: Vec<_> = d
                .labels
                .iter()
                .map(|l| {
                    let s = file.line_col(l.span.start);
                    json!({"line": s.line, "column": s.column, "message": l.message, "primary": l.primary})
                })
                .collect();
            json!({
                "code": d.code,
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": file.name,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "offset": span.start,
                "length": span.len(),
                "help": d.help,
                "labels": labels,
                "mermaid": d.mermaid,
            })
        })
        .collect();
    let (errors, warnings, infos) = counts(diagnostics);
    let doc = json!({"diagnostics": items, "errors": errors, "warnings": warnings, "infos": infos});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Workflow commands: values escape `%`, CR and LF; properties also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn render_github(files: &[SourceFile], diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let file = file_of(files, d);
        let span = d.primary_span().unwrap_or_default();
        let start = file.line_col(span.start);
        let end = file.line_col(span.end);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&file.name),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(d.code),
            escape_data(&message)
        ));
    }
    out
}

/// A [`Diagnostic`] seen through miette.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a NamedSource<String>,
    file: &'a SourceFile,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report").field("code", &self.diagnostic.code).finish()
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.file.text.len();
        let labels = self.diagnostic.labels.iter().map(move |l| {
            let start = l.span.start.min(len);
            let end = l.span.end.min(len).max(start);
            let span = SourceSpan::new(start.into(), end - start);
            let text = (!l.message.is_empty()).then(|| l.message.clone());
            if l.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        });
        Some(Box::new(labels))
    }
}
