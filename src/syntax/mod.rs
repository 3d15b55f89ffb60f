//! Mermaid text → syntax tree: preprocessing ([`preprocess`]), the pest grammar
//! ([`parser`]) and lowering to [`ast`].

pub mod ast;
mod lower;
mod parser;
pub mod preprocess;

pub use parser::{parse_flowchart, pest_only, whole_span};
pub use preprocess::{preprocess, Mode, Preprocessed};

use crate::diagnostic::{codes, Diagnostic};
use crate::source::MappedText;

/// The Mermaid diagram keywords other than the flowchart's, for a clear refusal.
const OTHER_DIAGRAMS: &[&str] = &[
    "sequenceDiagram",
    "classDiagram",
    "classDiagram-v2",
    "stateDiagram",
    "stateDiagram-v2",
    "erDiagram",
    "journey",
    "gantt",
    "pie",
    "quadrantChart",
    "requirementDiagram",
    "gitGraph",
    "C4Context",
    "C4Container",
    "C4Component",
    "C4Dynamic",
    "C4Deployment",
    "mindmap",
    "timeline",
    "zenuml",
    "sankey-beta",
    "xychart-beta",
    "block-beta",
    "packet-beta",
    "kanban",
    "architecture-beta",
    "radar-beta",
    "treemap-beta",
    "info",
];

/// A parsed diagram and what preprocessing found.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub flowchart: ast::Flowchart,
    pub preprocessed: Preprocessed,
}

/// Preprocess and parse one diagram.
///
/// # Errors
/// The diagnostics that stop the parse (warnings that do not are in
/// `Parsed::preprocessed.warnings`).
pub fn parse(text: &MappedText, mode: Mode) -> Result<Parsed, Vec<Diagnostic>> {
    let preprocessed = preprocess(text, mode).map_err(|d| vec![d])?;
    if mode == Mode::Full {
        let first = preprocessed.text.as_str().split_whitespace().next().unwrap_or("");
        let is_flowchart = ["graph", "flowchart", "flowchart-elk"].iter().any(|k| {
            first
                .strip_prefix(k)
                .is_some_and(|rest| rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
        });
        if !is_flowchart {
            let at = preprocessed.text.as_str().len() - preprocessed.text.as_str().trim_start().len();
            let span = preprocessed.text.source_span(at..at + first.len());
            let what = if OTHER_DIAGRAMS.contains(&first) {
                format!("this is a Mermaid `{first}`, not a flowchart")
            } else if first.is_empty() {
                "the diagram is empty".to_string()
            } else {
                format!("`{first}` does not start a Mermaid flowchart")
            };
            let mut diagnostics = preprocessed.warnings.clone();
            diagnostics.push(
                Diagnostic::error(codes::NOT_A_FLOWCHART, what)
                    .with_primary(span, "a flowchart starts with `flowchart` or `graph`")
                    .with_help("start the diagram with `flowchart TB` (or `LR`, `BT`, `RL`)"),
            );
            return Err(diagnostics);
        }
    }
    match parse_flowchart(&preprocessed.text) {
        Ok(flowchart) => Ok(Parsed { flowchart, preprocessed }),
        Err(d) => {
            let mut diagnostics = preprocessed.warnings.clone();
            diagnostics.push(d);
            Err(diagnostics)
        }
    }
}
