//! The pest parser generated from `grammar/mermaid.pest`, and its errors as diagnostics.

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser as _;

use super::ast::Flowchart;
use super::lower::Lowerer;
use crate::diagnostic::{codes, Diagnostic};
use crate::source::{MappedText, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/mermaid.pest"]
pub(crate) struct MermaidParser;

/// Parse a preprocessed diagram.
///
/// # Errors
/// The first place where the text stops being Mermaid flowchart syntax, as a `SYN002`
/// diagnostic located in the file.
pub fn parse_flowchart(text: &MappedText) -> Result<Flowchart, Diagnostic> {
    match MermaidParser::parse(Rule::flowchart, text.as_str()) {
        Ok(mut pairs) => {
            let Some(pair) = pairs.next() else { unreachable!("grammar invariant: flowchart pair") };
            Ok(Lowerer::new(text).lower_flowchart(pair))
        }
        Err(err) => Err(syntax_error(text, &err)),
    }
}

/// What a rule is called in an "expected ..." list, if it is worth naming.
fn human_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::sqe => "`]`",
        Rule::pe => "`)`",
        Rule::pipe_close => "`|`",
        Rule::ellipse_end => "`-)`",
        Rule::trap_end => "`\\]`",
        Rule::inv_trap_end => "`/]`",
        Rule::header_nodir => "a line break",
        Rule::id_string | Rule::node_string | Rule::class_name => "a node id",
        Rule::link | Rule::link_normal | Rule::link_thick | Rule::link_dotted | Rule::link_invisible => {
            "a link (`-->`)"
        }
        Rule::close_normal => "the end of the link (`-->`)",
        Rule::close_thick => "the end of the link (`==>`)",
        Rule::close_dotted => "the end of the link (`-.->`)",
        Rule::text | Rule::text_chars | Rule::string | Rule::md_string => "label text",
        Rule::statement | Rule::vertex_statement => "a statement",
        Rule::header_keyword => "`flowchart` or `graph`",
        Rule::header_dir => "a direction (`TB`, `TD`, `BT`, `LR`, `RL`)",
        Rule::subgraph_end => "`end`",
        Rule::styles | Rule::style_value => "a style (`fill:#f9f`)",
        Rule::amp => "`&`",
        Rule::shape_data => "`@{ ... }`",
        Rule::num | Rule::num_list => "an edge index",
        Rule::EOI => "end of the diagram",
        _ => return None,
    })
}

/// The name Mermaid's parser gives a token it expected.
fn jison_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::sqe => "SQE",
        Rule::pe => "PE",
        Rule::pipe_close => "PIPE",
        Rule::ellipse_end => "-)",
        Rule::trap_end => "TRAPEND",
        Rule::inv_trap_end => "INVTRAPEND",
        Rule::text_chars | Rule::trap_chars | Rule::ellipse_char => "TEXT",
        Rule::amp => "AMP",
        Rule::num => "NUM",
        Rule::node_string => "NODE_STRING",
        Rule::link_normal | Rule::link_thick | Rule::link_dotted | Rule::link_invisible => "LINK",
        Rule::EOI => "EOF",
        _ => return None,
    })
}

/// The token Mermaid's lexer produces at `at` inside a label (what "got '...'" names).
fn jison_token_at(text: &str, at: usize) -> &'static str {
    let rest = &text[at..];
    let table: &[(&str, &str)] = &[
        ("\"`", "MD_STR"),
        ("\"", "STR"),
        ("(-", "(-"),
        ("])", "STADIUMEND"),
        ("([", "STADIUMSTART"),
        ("]]", "SUBROUTINEEND"),
        ("[[", "SUBROUTINESTART"),
        (")]", "CYLINDEREND"),
        ("[(", "CYLINDERSTART"),
        (")))", "DOUBLECIRCLEEND"),
        ("(((", "DOUBLECIRCLESTART"),
        ("[/", "TRAPSTART"),
        ("[\\", "INVTRAPSTART"),
        ("|", "PIPE"),
        (")", "PE"),
        ("(", "PS"),
        ("]", "SQE"),
        ("[", "SQS"),
        ("}", "DIAMOND_STOP"),
        ("{", "DIAMOND_START"),
        ("\n", "NEWLINE"),
        (";", "SEMI"),
    ];
    if rest.is_empty() {
        return "EOF";
    }
    table.iter().find(|(p, _)| rest.starts_with(p)).map_or("TEXT", |(_, t)| t)
}

fn describe_found(text: &str, at: usize) -> String {
    match text[at..].chars().next() {
        None => "end of the diagram".to_string(),
        Some('\n') => "a line break".to_string(),
        Some('\r') => "a carriage return".to_string(),
        Some(c) if c.is_whitespace() => "a space".to_string(),
        Some('\0') => "a NUL character".to_string(),
        Some(c) if !(c.is_alphanumeric() || c == '_') => format!("`{c}`"),
        Some(_) => {
            let token: String =
                text[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').take(24).collect();
            format!("`{token}`")
        }
    }
}

/// The last bracket opened before `at` on its statement and not closed, if any.
fn unclosed_opener(text: &str, at: usize) -> Option<(usize, char)> {
    let mut depth: Vec<(usize, char)> = Vec::new();
    let mut in_string = false;
    // a statement starts after the last line break that is not inside a label
    for (i, c) in text[..at].char_indices() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '[' | '(' | '{' => depth.push((i, c)),
            ']' | ')' | '}' => {
                depth.pop();
            }
            '\n' | ';' if depth.is_empty() => {}
            _ => {}
        }
    }
    depth.pop()
}

fn closer(open: char) -> char {
    match open {
        '[' => ']',
        '(' => ')',
        _ => '}',
    }
}

fn syntax_error(text: &MappedText, err: &pest::error::Error<Rule>) -> Diagnostic {
    let at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
    .min(text.len());
    let s = text.as_str();
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let mut expected: Vec<&str> = positives.iter().filter_map(|r| human_name(*r)).collect();
    let mut jison: Vec<&str> = positives.iter().filter_map(|r| jison_name(*r)).collect();
    jison.sort_unstable();
    jison.dedup();
    let mermaid = format!(
        "Parse error: Expecting {}, got '{}'",
        jison.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", "),
        jison_token_at(text.as_str(), at)
    );
    expected.sort_unstable();
    expected.dedup();
    let found = describe_found(s, at);
    let end = s[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let here = text.source_span(at..end);
    let mut message = format!("unexpected {found}");
    if !expected.is_empty() {
        message.push_str(&format!(", expected {}", join_or(&expected)));
    }

    if let Some((open_at, open)) = unclosed_opener(s, at) {
        let open_span = text.source_span(open_at..open_at + 1);
        return Diagnostic::error(codes::SYNTAX_ERROR, format!("unclosed `{open}` in the diagram"))
            .with_primary(open_span, format!("this `{open}` is never closed"))
            .with_label(here, format!("parsing stopped here: {message}"))
            .with_help(format!(
                "close the label with `{}`; a label that contains brackets, `|` or quotes must be written in quotes: `id[\"a (b) c\"]`",
                closer(open)
            ))
            .with_mermaid(mermaid);
    }
    let help = if s[at..].starts_with(['(', ')', '[', ']', '{', '}', '|']) {
        "brackets, parentheses and `|` inside a label need quotes: `id[\"a (b)\"]`"
    } else if s[..at].trim_end().ends_with(|c: char| !c.is_whitespace()) && s[at..].starts_with(' ') {
        "write one statement per line, or separate statements with `;`"
    } else {
        "check the flowchart syntax at this point (https://mermaid.js.org/syntax/flowchart.html)"
    };
    Diagnostic::error(codes::SYNTAX_ERROR, message)
        .with_primary(here, "the diagram stops parsing here")
        .with_help(help)
        .with_mermaid(mermaid)
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The file span of a whole diagram text (for diagnostics about a block as a whole).
pub fn whole_span(text: &MappedText) -> Span {
    text.source_span(0..text.len())
}

/// The pest parse alone (for benchmarks): the number of top-level pairs.
#[doc(hidden)]
pub fn pest_only(text: &str) -> usize {
    MermaidParser::parse(Rule::flowchart, text).map_or(0, |p| p.count())
}
