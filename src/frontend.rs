//! The front end as one step: a file → the chosen diagram → syntax tree → flowchart model,
//! with every diagnostic found on the way.

use crate::diagnostic::{codes, Diagnostic};
use crate::flowchart::FlowDb;
use crate::source::{extract_blocks, CodeBlock, InputKind, MappedText, SourceFile, Span};
use crate::syntax::{self, Mode, Parsed};

/// The diagram archc works on, parsed and modelled.
#[derive(Debug, Clone)]
pub struct Diagram {
    /// The fenced block it came from (`None` for a bare `.mmd` file).
    pub block: Option<CodeBlock>,
    pub parsed: Parsed,
    pub db: FlowDb,
    /// The other fenced blocks of the Markdown file (configuration lives there).
    pub other_blocks: Vec<CodeBlock>,
    /// The Markdown file's front-matter.
    pub front_matter: Option<MappedText>,
}

/// What the front end produced.
#[derive(Debug, Clone, Default)]
pub struct FrontEnd {
    pub diagram: Option<Diagram>,
    pub diagnostics: Vec<Diagnostic>,
}

impl FrontEnd {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

fn first_word(block: &CodeBlock) -> String {
    let text = block.content.as_str();
    // skip front-matter, directives and comments the cheap way: the first line that is
    // not one of them
    let mut in_front_matter = false;
    let mut in_directive = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if i == 0 && t == "---" {
            in_front_matter = true;
            continue;
        }
        if in_front_matter {
            if t == "---" {
                in_front_matter = false;
            }
            continue;
        }
        if in_directive {
            if t.contains("}%%") {
                in_directive = false;
            }
            continue;
        }
        if t.starts_with("%%{") {
            in_directive = !t.contains("}%%");
            continue;
        }
        if t.is_empty() || t.starts_with("%%") {
            continue;
        }
        return t.split_whitespace().next().unwrap_or("").to_string();
    }
    String::new()
}

fn is_flowchart_block(block: &CodeBlock) -> bool {
    let w = first_word(block);
    ["graph", "flowchart", "flowchart-elk"]
        .iter()
        .any(|k| w.strip_prefix(k).is_some_and(|rest| rest.is_empty() || rest.starts_with(';')))
}

/// `#2 "Heading" (line 40)`: how a diagram is named in messages (`number` counts diagrams).
fn describe(number: usize, block: &CodeBlock, file: &SourceFile) -> String {
    let line = file.line_col(block.span.start).line;
    match &block.heading {
        Some(h) => format!("#{number} \"{h}\" (line {line})"),
        None => format!("#{number} (line {line})"),
    }
}

/// Choose the diagram: `selector` is a 1-based diagram number (counting the ```mermaid
/// blocks only) or (part of) the heading above the block.
fn select<'a>(file: &SourceFile, blocks: &'a [CodeBlock], selector: Option<&str>) -> Result<&'a CodeBlock, Diagnostic> {
    let mermaid: Vec<&CodeBlock> = blocks.iter().filter(|b| b.is_mermaid()).collect();
    let number_of = |b: &CodeBlock| mermaid.iter().position(|m| m.index == b.index).map_or(0, |p| p + 1);
    if let Some(sel) = selector {
        let by_number =
            sel.trim().parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|n| mermaid.get(n).copied());
        let by_heading = || {
            let want = sel.to_lowercase();
            let exact: Vec<&&CodeBlock> =
                mermaid.iter().filter(|b| b.heading.as_deref().is_some_and(|h| h.to_lowercase() == want)).collect();
            if exact.len() == 1 {
                return Some(*exact[0]);
            }
            let partial: Vec<&&CodeBlock> = mermaid
                .iter()
                .filter(|b| b.heading.as_deref().is_some_and(|h| h.to_lowercase().contains(&want)))
                .collect();
            (partial.len() == 1).then(|| *partial[0])
        };
        return by_number.or_else(by_heading).ok_or_else(|| {
            let list: Vec<String> = mermaid.iter().map(|b| describe(number_of(b), b, file)).collect();
            Diagnostic::error(codes::UNKNOWN_DIAGRAM, format!("`--diagram {sel}` names no diagram of this file"))
                .with_primary(Span::empty(0), "in this file")
                .with_help(if list.is_empty() {
                    "the file has no ```mermaid blocks".to_string()
                } else {
                    format!("choose one of: {}", list.join(", "))
                })
        });
    }
    let flowcharts: Vec<&CodeBlock> = mermaid.iter().copied().filter(|b| is_flowchart_block(b)).collect();
    match (flowcharts.as_slice(), mermaid.as_slice()) {
        ([one], _) => Ok(one),
        ([], [one]) => Ok(one),
        ([], []) => Err(Diagnostic::error(codes::NO_DIAGRAM, "no ```mermaid block in this Markdown file")
            .with_primary(Span::empty(0), "expected a fenced ```mermaid block with a flowchart")
            .with_help("add a fenced block that starts with ```mermaid and `flowchart TB`, or pass a `.mmd` file")),
        ([], several) | (several, _) => {
            let list: Vec<String> = several.iter().map(|b| describe(number_of(b), b, file)).collect();
            Err(Diagnostic::error(
                codes::AMBIGUOUS_DIAGRAM,
                format!("{} Mermaid flowcharts in this file; which one is the architecture?", several.len()),
            )
            .with_primary(several[1].span, "a second flowchart")
            .with_label(several[0].span, "the first")
            .with_help(format!("choose one with `--diagram N` or `--diagram \"heading\"`: {}", list.join(", "))))
        }
    }
}

/// Run the front end on `file`.
pub fn run(file: &SourceFile, selector: Option<&str>, mode: Mode) -> FrontEnd {
    let mut out = FrontEnd::default();
    if let Some(at) = file.invalid_utf8_at {
        out.diagnostics.push(
            Diagnostic::error(codes::INVALID_UTF8, "the file is not valid UTF-8")
                .with_primary(Span::new(at, at + 1), "invalid byte sequence here")
                .with_help("save the file as UTF-8"),
        );
        return out;
    }
    let mut front_matter = None;
    let (text, block, other_blocks) = match file.kind {
        InputKind::Mermaid => (MappedText::new(file.text.clone(), 0), None, Vec::new()),
        InputKind::Markdown => {
            let doc = extract_blocks(&file.text);
            front_matter = doc.front_matter.clone();
            match select(file, &doc.blocks, selector) {
                Ok(block) => {
                    let others = doc.blocks.iter().filter(|b| b.index != block.index).cloned().collect();
                    (block.content.clone(), Some(block.clone()), others)
                }
                Err(d) => {
                    out.diagnostics.push(d);
                    return out;
                }
            }
        }
    };
    let parsed = match syntax::parse(&text, mode) {
        Ok(parsed) => parsed,
        Err(diagnostics) => {
            out.diagnostics.extend(diagnostics);
            return out;
        }
    };
    out.diagnostics.extend(parsed.preprocessed.warnings.iter().cloned());
    match FlowDb::build(&parsed.flowchart, &parsed.preprocessed.config, parsed.preprocessed.title.clone()) {
        Ok(db) => out.diagram = Some(Diagram { block, parsed, db, other_blocks, front_matter }),
        Err(diagnostics) => out.diagnostics.extend(diagnostics),
    }
    out
}
