//! The syntax tree of one flowchart. Every node, edge, label and subgraph carries the span
//! of the Markdown file it was written at.

use crate::source::Span;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

/// How a label was written: plain, `"quoted"`, or "`markdown`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Text,
    String,
    Markdown,
}

impl TextKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TextKind::Text => "text",
            TextKind::String => "string",
            TextKind::Markdown => "markdown",
        }
    }
}

/// A label as the grammar produced it (not yet trimmed or sanitised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub kind: TextKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Flowchart {
    /// `graph`, `flowchart` or `flowchart-elk`.
    pub keyword: Spanned<String>,
    /// The header's direction as written (`TD`, `>`, ...), if any.
    pub direction: Option<Spanned<String>>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
pub enum Statement {
    Vertex(VertexStatement),
    Style {
        id: Spanned<String>,
        styles: Vec<String>,
        span: Span,
    },
    ClassDef {
        ids: Spanned<String>,
        styles: Vec<String>,
        span: Span,
    },
    Class {
        ids: Spanned<String>,
        class: Spanned<String>,
        span: Span,
    },
    LinkStyle(LinkStyle),
    /// Boxed, as the subgraph: the rare large variants keep `Statement` small.
    Click(Box<Click>),
    Subgraph(Box<Subgraph>),
    /// A `direction X` token: the whole rest of a line that contains `direction X`.
    Direction {
        value: &'static str,
        span: Span,
    },
    AccTitle(Spanned<String>),
    AccDescr(Spanned<String>),
    /// A lone `;`.
    Semi(Span),
}

/// `a --> b -- t --> c & d`: node groups joined by links.
#[derive(Debug, Clone)]
pub struct VertexStatement {
    pub groups: Vec<NodeGroup>,
    /// `links[i]` joins `groups[i]` to `groups[i + 1]`.
    pub links: Vec<Link>,
    pub span: Span,
}

/// Vertices joined by `&`; shape data written after the group applies to its last member.
#[derive(Debug, Clone)]
pub struct NodeGroup {
    pub members: Vec<GroupMember>,
    pub shape_data: Option<ShapeData>,
}

#[derive(Debug, Clone)]
pub struct GroupMember {
    pub vertex: Vertex,
    /// `:::class`
    pub class: Option<Spanned<String>>,
    /// Shape data written before the `&` that precedes this member; Mermaid applies it to
    /// the previous member once this one is parsed.
    pub previous_shape_data: Option<ShapeData>,
}

#[derive(Debug, Clone)]
pub struct Vertex {
    pub id: Spanned<String>,
    /// Boxed: most vertices are bare ids.
    pub shape: Option<Box<VertexShape>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct VertexShape {
    /// FlowDB's `type`: `square`, `round`, `cylinder`, ...
    pub kind: &'static str,
    pub text: Text,
    /// `id[|key:value|text]`
    pub props: Option<(String, String)>,
}

/// `@{ ... }` as Mermaid's lexer assembles it (YAML, quoted line breaks as `<br/>`).
#[derive(Debug, Clone)]
pub struct ShapeData {
    pub raw: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Link {
    /// `e1@`
    pub id: Option<Spanned<String>>,
    /// The closing link token (`-->`, `-.->`, ...), whitespace included.
    pub token: String,
    /// The opening token of a link with text (`--`, `==`, `-.`).
    pub start_token: Option<String>,
    pub text: Option<Text>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum LinkStyleTarget {
    Default,
    Indices(Vec<Spanned<String>>),
}

#[derive(Debug, Clone)]
pub struct LinkStyle {
    pub target: LinkStyleTarget,
    pub interpolate: Option<String>,
    pub styles: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ClickAction {
    /// `click id callback` / `click id call callback(args)`
    Callback { name: String, args: Option<String> },
    /// `click id "url"` / `click id href "url"`
    Link { url: String, target: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Click {
    pub ids: Spanned<String>,
    pub action: ClickAction,
    pub tooltip: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Subgraph {
    /// The text after `subgraph` (`textNoTags`), if any.
    pub id_text: Option<Text>,
    /// The bracketed title `[...]`, if any.
    pub title: Option<Text>,
    pub body: Vec<Statement>,
    /// The `subgraph ...` line.
    pub header_span: Span,
    pub span: Span,
}
