//! Pest pairs → [`ast`](super::ast). The only module that sees `pest::iterators::Pair`;
//! the grammar's invariants are checked here, by `expect_*`.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::parser::Rule;
use crate::source::{MappedText, Span};

/// Lowers the pairs of one diagram; spans are mapped to the file through `text`.
pub(crate) struct Lowerer<'t> {
    text: &'t MappedText,
}

/// Take the next child, which the grammar guarantees to be `rule`.
fn expect_child<'i>(pairs: &mut Pairs<'i, Rule>, rule: Rule) -> Pair<'i, Rule> {
    match pairs.next() {
        Some(pair) if pair.as_rule() == rule => pair,
        other => unreachable!("grammar invariant: expected {rule:?}, found {:?}", other.map(|p| p.as_rule())),
    }
}

impl<'t> Lowerer<'t> {
    pub(crate) fn new(text: &'t MappedText) -> Self {
        Self { text }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        self.text.source_span(s.start()..s.end())
    }

    fn spanned(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().to_string(), self.span(pair))
    }

    pub(crate) fn lower_flowchart(&self, flowchart: Pair<'_, Rule>) -> Flowchart {
        let mut inner = flowchart.into_inner();
        let header = expect_child(&mut inner, Rule::header);
        let document = expect_child(&mut inner, Rule::document);
        let mut keyword = None;
        let mut direction = None;
        for part in header.into_inner() {
            match part.as_rule() {
                Rule::header_keyword => keyword = Some(self.spanned(&part)),
                Rule::header_dir => {
                    let raw = part.as_str();
                    let trimmed = raw.trim_start_matches(|c: char| c.is_whitespace());
                    let offset = raw.len() - trimmed.len();
                    let span = self.span(&part);
                    direction = Some(Spanned::new(trimmed.to_string(), Span::new(span.start + offset, span.end)));
                }
                Rule::header_nodir => {}
                rule => unreachable!("grammar invariant: {rule:?} in header"),
            }
        }
        let keyword = keyword.unwrap_or_else(|| unreachable!("grammar invariant: header without keyword"));
        Flowchart { keyword, direction, statements: self.lower_document(document) }
    }

    fn lower_document(&self, document: Pair<'_, Rule>) -> Vec<Statement> {
        let lines = document.into_inner();
        let mut statements = Vec::with_capacity(lines.len());
        for line in lines {
            match line.as_rule() {
                Rule::statement => statements.push(self.lower_statement(line)),
                Rule::empty_statement => statements.push(Statement::Semi(self.span(&line))),
                rule => unreachable!("grammar invariant: {rule:?} in document"),
            }
        }
        statements
    }

    fn lower_statement(&self, statement: Pair<'_, Rule>) -> Statement {
        let mut inner = statement.into_inner();
        let Some(first) = inner.next() else { unreachable!("grammar invariant: empty statement") };
        match first.as_rule() {
            Rule::acc_title => Statement::AccTitle(self.lower_acc(first)),
            Rule::acc_descr => Statement::AccDescr(self.lower_acc(first)),
            Rule::acc_descr_multiline => {
                // without its `}` the value runs to the end of the input, where the lexer's
                // `[^\}]*` matches once more, empty: the description ends up empty
                let closed = first.as_str().ends_with('}');
                let mut value = self.lower_acc(first);
                if !closed {
                    value.value.clear();
                }
                Statement::AccDescr(value)
            }
            Rule::style_statement => {
                let span = self.span(&first);
                let mut parts = first.into_inner();
                let id = self.spanned(&parts.next().unwrap_or_else(|| unreachable!("style id")));
                let styles = parts.next().map(|p| self.lower_styles(p)).unwrap_or_default();
                Statement::Style { id, styles, span }
            }
            Rule::class_def_statement => {
                let span = self.span(&first);
                let mut parts = first.into_inner();
                let ids = self.spanned(&parts.next().unwrap_or_else(|| unreachable!("classDef ids")));
                let styles = parts.next().map(|p| self.lower_styles(p)).unwrap_or_default();
                Statement::ClassDef { ids, styles, span }
            }
            Rule::class_statement => {
                let span = self.span(&first);
                let mut parts = first.into_inner();
                let ids = self.spanned(&parts.next().unwrap_or_else(|| unreachable!("class ids")));
                let class = self.spanned(&parts.next().unwrap_or_else(|| unreachable!("class name")));
                Statement::Class { ids, class, span }
            }
            Rule::link_style_statement => Statement::LinkStyle(self.lower_link_style(first)),
            Rule::click_statement => Statement::Click(Box::new(self.lower_click(first))),
            Rule::subgraph => Statement::Subgraph(Box::new(self.lower_subgraph(first))),
            Rule::direction => {
                let span = self.span(&first);
                let which = first.into_inner().next().map(|p| p.as_rule());
                let value = match which {
                    Some(Rule::dir_tb) => "TB",
                    Some(Rule::dir_bt) => "BT",
                    Some(Rule::dir_rl) => "RL",
                    Some(Rule::dir_lr) => "LR",
                    Some(Rule::dir_td) => "TD",
                    other => unreachable!("grammar invariant: direction {other:?}"),
                };
                Statement::Direction { value, span }
            }
            Rule::vertex_statement => Statement::Vertex(self.lower_vertex_statement(first)),
            rule => unreachable!("grammar invariant: statement {rule:?}"),
        }
    }

    fn lower_acc(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let value = pair
            .into_inner()
            .find(|p| matches!(p.as_rule(), Rule::acc_value | Rule::acc_multiline_value))
            .unwrap_or_else(|| unreachable!("grammar invariant: acc value"));
        Spanned::new(value.as_str().trim().to_string(), self.span(&value))
    }

    fn lower_styles(&self, styles: Pair<'_, Rule>) -> Vec<String> {
        styles.into_inner().filter(|p| p.as_rule() == Rule::style_value).map(|p| p.as_str().to_string()).collect()
    }

    fn lower_link_style(&self, pair: Pair<'_, Rule>) -> LinkStyle {
        let span = self.span(&pair);
        let mut target = LinkStyleTarget::Default;
        let mut interpolate = None;
        let mut styles = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::link_style_target => {
                    let Some(t) = part.into_inner().next() else { unreachable!("link style target") };
                    target = match t.as_rule() {
                        Rule::kw_default_tok => LinkStyleTarget::Default,
                        Rule::num_list => LinkStyleTarget::Indices(
                            t.into_inner().filter(|n| n.as_rule() == Rule::num).map(|n| self.spanned(&n)).collect(),
                        ),
                        rule => unreachable!("grammar invariant: link style target {rule:?}"),
                    };
                }
                Rule::interpolate => {
                    interpolate =
                        part.into_inner().find(|p| p.as_rule() == Rule::alpha_num).map(|p| p.as_str().to_string());
                }
                Rule::styles => styles = self.lower_styles(part),
                rule => unreachable!("grammar invariant: linkStyle {rule:?}"),
            }
        }
        LinkStyle { target, interpolate, styles, span }
    }

    fn lower_click(&self, pair: Pair<'_, Rule>) -> Click {
        let span = self.span(&pair);
        let mut ids = None;
        let mut action = None;
        let mut tooltip = None;
        let mut target = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::click_id => ids = Some(self.spanned(&part)),
                Rule::callback => {
                    let mut name = String::new();
                    let mut args = None;
                    for p in part.into_inner() {
                        match p.as_rule() {
                            Rule::callback_name => name = p.as_str().to_string(),
                            Rule::callback_args => args = Some(p.as_str().to_string()),
                            _ => {}
                        }
                    }
                    action = Some(ClickAction::Callback { name, args });
                }
                Rule::alpha_num => action = Some(ClickAction::Callback { name: part.as_str().to_string(), args: None }),
                Rule::href | Rule::string => {
                    let body = string_body(part);
                    action = Some(ClickAction::Link { url: body, target: None });
                }
                Rule::tooltip => tooltip = Some(string_body(part)),
                Rule::link_target => target = Some(part.as_str().to_string()),
                rule => unreachable!("grammar invariant: click {rule:?}"),
            }
        }
        if let (Some(ClickAction::Link { target: t, .. }), Some(new)) = (action.as_mut(), target) {
            *t = Some(new);
        }
        Click {
            ids: ids.unwrap_or_else(|| unreachable!("grammar invariant: click id")),
            action: action.unwrap_or_else(|| unreachable!("grammar invariant: click action")),
            tooltip,
            span,
        }
    }

    fn lower_subgraph(&self, pair: Pair<'_, Rule>) -> Subgraph {
        let span = self.span(&pair);
        let mut id_text = None;
        let mut title = None;
        let mut body = Vec::new();
        let mut header_end = span.start;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::subgraph_title => {
                    header_end = header_end.max(self.span(&part).end);
                    id_text = Some(self.lower_title(part));
                }
                Rule::subgraph_bracket_title => {
                    header_end = header_end.max(self.span(&part).end);
                    let text = part.into_inner().find(|p| p.as_rule() == Rule::text);
                    title = text.map(|t| self.lower_text(t));
                }
                Rule::document => body = self.lower_document(part),
                Rule::subgraph_end => {}
                rule => unreachable!("grammar invariant: subgraph {rule:?}"),
            }
        }
        let header_span = Span::new(span.start, header_end.max(span.start + "subgraph".len()));
        Subgraph { id_text, title, body, header_span, span }
    }

    /// `textNoTags`: a string (type `text`!), a markdown string, or tokens.
    fn lower_title(&self, pair: Pair<'_, Rule>) -> Text {
        let span = self.span(&pair);
        let mut text = String::new();
        let mut kind = TextKind::Text;
        for (i, part) in pair.into_inner().enumerate() {
            match part.as_rule() {
                Rule::md_string => {
                    if i == 0 {
                        kind = TextKind::Markdown;
                    }
                    push_string_body(part, &mut text);
                }
                Rule::string => push_string_body(part, &mut text),
                Rule::title_keyword => {
                    let s = part.as_str();
                    match s.strip_prefix("click") {
                        Some(rest) => text.push_str(rest.trim()),
                        None => text.push_str(s),
                    }
                }
                _ => text.push_str(part.as_str()),
            }
        }
        Text { text, kind, span }
    }

    /// `text`, `trap_text`, `ellipse_text`, edge texts: a string or markdown string first
    /// (which sets the label type), then plain pieces, concatenated.
    fn lower_text(&self, pair: Pair<'_, Rule>) -> Text {
        let span = self.span(&pair);
        let mut text = String::new();
        let mut kind = TextKind::Text;
        for (i, part) in pair.into_inner().enumerate() {
            match part.as_rule() {
                Rule::md_string => {
                    if i == 0 {
                        kind = TextKind::Markdown;
                    }
                    push_string_body(part, &mut text);
                }
                Rule::string => {
                    if i == 0 {
                        kind = TextKind::String;
                    }
                    push_string_body(part, &mut text);
                }
                _ => text.push_str(part.as_str()),
            }
        }
        Text { text, kind, span }
    }

    /// The flat pairs of a vertex statement: per vertex `id_string`, its shape, `:::` class;
    /// `amp` joins the next vertex to the group; `link` starts the next group. Shape data
    /// followed by an `amp` belongs to the vertex before the `&` (applied when the next
    /// member is parsed); otherwise it ends its group.
    fn lower_vertex_statement(&self, pair: Pair<'_, Rule>) -> VertexStatement {
        let span = self.span(&pair);
        let mut groups: Vec<NodeGroup> = Vec::with_capacity(2);
        let mut links = Vec::with_capacity(1);
        let mut pending: Option<ShapeData> = None;
        let mut amp = false;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::id_string => {
                    let id = self.spanned(&part);
                    let vertex = Vertex { span: id.span, id, shape: None };
                    if amp {
                        let member = GroupMember { vertex, class: None, previous_shape_data: pending.take() };
                        if let Some(group) = groups.last_mut() {
                            group.members.push(member);
                        }
                        amp = false;
                    } else {
                        let member = GroupMember { vertex, class: None, previous_shape_data: None };
                        groups.push(NodeGroup { members: vec![member], shape_data: None });
                    }
                }
                Rule::style_sep => {}
                Rule::class_name => {
                    if let Some(member) = groups.last_mut().and_then(|g| g.members.last_mut()) {
                        member.class = Some(self.spanned(&part));
                    }
                }
                Rule::shape_data => pending = Some(self.lower_shape_data(part)),
                Rule::amp => amp = true,
                Rule::link => {
                    if let (Some(data), Some(group)) = (pending.take(), groups.last_mut()) {
                        group.shape_data = Some(data);
                    }
                    links.push(self.lower_link(part));
                }
                _ => {
                    let end = self.span(&part).end;
                    let shape = self.lower_shape(part);
                    if let Some(member) = groups.last_mut().and_then(|g| g.members.last_mut()) {
                        member.vertex.span = Span::new(member.vertex.span.start, end);
                        member.vertex.shape = Some(Box::new(shape));
                    }
                }
            }
        }
        if let (Some(data), Some(group)) = (pending.take(), groups.last_mut()) {
            group.shape_data = Some(data);
        }
        VertexStatement { groups, links, span }
    }

    fn lower_shape(&self, shape: Pair<'_, Rule>) -> VertexShape {
        let kind = match shape.as_rule() {
            Rule::shape_ellipse => "ellipse",
            Rule::shape_stadium => "stadium",
            Rule::shape_doublecircle => "doublecircle",
            Rule::shape_circle => "circle",
            Rule::shape_round => "round",
            Rule::shape_subroutine => "subroutine",
            Rule::shape_props => "rect",
            Rule::shape_cylinder => "cylinder",
            Rule::shape_slash | Rule::shape_backslash => {
                // the closing token decides: `\]` (and its kin) or `/]`
                let inverted = shape.clone().into_inner().last().is_some_and(|p| p.as_rule() == Rule::inv_trap_end);
                match (shape.as_rule(), inverted) {
                    (Rule::shape_slash, false) => "trapezoid",
                    (Rule::shape_slash, true) => "lean_right",
                    (_, false) => "lean_left",
                    (_, true) => "inv_trapezoid",
                }
            }
            Rule::shape_square => "square",
            Rule::shape_hexagon => "hexagon",
            Rule::shape_diamond => "diamond",
            Rule::shape_odd => "odd",
            rule => unreachable!("grammar invariant: shape {rule:?}"),
        };
        let mut text = None;
        let mut props_parts = Vec::new();
        for part in shape.into_inner() {
            match part.as_rule() {
                Rule::text | Rule::trap_text | Rule::ellipse_text => text = Some(self.lower_text(part)),
                Rule::node_string => props_parts.push(part.as_str().to_string()),
                _ => {}
            }
        }
        let props = (props_parts.len() == 2).then(|| (props_parts[0].clone(), props_parts[1].clone()));
        VertexShape { kind, text: text.unwrap_or_else(|| unreachable!("grammar invariant: shape without text")), props }
    }

    fn lower_shape_data(&self, pair: Pair<'_, Rule>) -> ShapeData {
        let span = self.span(&pair);
        let mut raw = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::shape_data_chars => raw.push_str(part.as_str()),
                Rule::shape_data_string => {
                    raw.push('"');
                    if let Some(body) = part.into_inner().next() {
                        raw.push_str(&break_quoted_lines(body.as_str()));
                    }
                    raw.push('"');
                }
                rule => unreachable!("grammar invariant: shape data {rule:?}"),
            }
        }
        ShapeData { raw, span }
    }

    fn lower_link(&self, pair: Pair<'_, Rule>) -> Link {
        let span = self.span(&pair);
        let mut id = None;
        let mut token = String::new();
        let mut start_token = None;
        let mut text = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::link_id_tok => {
                    let s = part.as_str();
                    let sp = self.span(&part);
                    id = Some(Spanned::new(s.replacen('@', "", 1), sp));
                }
                Rule::link_normal | Rule::link_thick | Rule::link_dotted | Rule::link_invisible => {
                    token = part.as_str().to_string();
                }
                Rule::close_normal | Rule::close_thick | Rule::close_dotted => token = part.as_str().to_string(),
                Rule::start_normal | Rule::start_thick | Rule::start_dotted => {
                    start_token = Some(part.as_str().to_string())
                }
                Rule::arrow_text => {
                    let t = part.into_inner().find(|p| p.as_rule() == Rule::text);
                    text = t.map(|t| self.lower_text(t));
                }
                Rule::edge_text_normal | Rule::edge_text_thick | Rule::edge_text_dotted => {
                    text = Some(self.lower_text(part))
                }
                rule => unreachable!("grammar invariant: link {rule:?}"),
            }
        }
        Link { id, token, start_token, text, span }
    }
}

/// The body of a `string`/`md_string`/`href`/`tooltip` pair.
fn string_body(pair: Pair<'_, Rule>) -> String {
    let mut out = String::new();
    push_string_body(pair, &mut out);
    out
}

/// Append the body of a `string`/`md_string`/`href`/`tooltip` pair to `out`.
fn push_string_body(pair: Pair<'_, Rule>, out: &mut String) {
    match pair.as_rule() {
        Rule::string_body | Rule::md_body => out.push_str(pair.as_str()),
        _ => pair.into_inner().for_each(|p| push_string_body(p, out)),
    }
}

/// In quoted shape data, a line break and the indentation after it become `<br/>`.
fn break_quoted_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            out.push_str("<br/>");
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}
