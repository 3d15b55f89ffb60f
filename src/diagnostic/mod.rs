//! One diagnostic type for the whole program: a stable code, a severity, a message, spans
//! in the input file and a help line saying what to do.

pub mod codes;
mod render;

use serde::Serialize;

pub use codes::{SyntaxCode, SYNTAX_CODES};
pub use render::{render, Format};

use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(Self::Error),
            "warning" | "warn" => Some(Self::Warning),
            "info" => Some(Self::Info),
            _ => None,
        }
    }
}

/// A span with a short text saying what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// What Mermaid itself says about the same input, when it refuses it too (shown in
    /// JSON output; lets a user match archc's diagnostic with Mermaid's error).
    pub mermaid: Option<String>,
    /// The file the labels point into: 0 is the input file, 1 its `archc.yaml`.
    pub file: u8,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self { code, severity, message: message.into(), labels: Vec::new(), help: None, mermaid: None, file: 0 }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    /// The primary location and what is there.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.insert(0, Label { span, message: message.into(), primary: true });
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn in_file(mut self, file: u8) -> Self {
        self.file = file;
        self
    }

    pub fn with_mermaid(mut self, text: impl Into<String>) -> Self {
        self.mermaid = Some(text.into());
        self
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or(self.labels.first()).map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A mistake in how archc was called (`--diagram` naming nothing), not in the input: the
    /// command exits with status 2.
    pub fn is_usage_error(&self) -> bool {
        self.code == codes::UNKNOWN_DIAGRAM
    }
}

/// Sort by position, then code, so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let pa = a.primary_span().map(|s| (s.start, s.end));
        let pb = b.primary_span().map(|s| (s.start, s.end));
        a.file.cmp(&b.file).then(pa.cmp(&pb)).then(a.code.cmp(b.code)).then(a.message.cmp(&b.message))
    });
}
