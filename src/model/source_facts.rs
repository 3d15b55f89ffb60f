//! What the rules need to know about how the diagram was written, gathered once from the
//! syntax tree while the model is built, so that rules read the typed graph only.

use std::collections::HashSet;

use crate::source::Span;
use crate::syntax::ast::Statement;

/// One shape definition of a node (`rds[(RDS PostgreSQL)]`): Mermaid keeps the last one.
#[derive(Debug, Clone)]
pub struct Definition {
    pub id: String,
    /// The label as written.
    pub text: String,
    /// The shape (FlowDB's type name).
    pub shape: String,
    pub span: Span,
}

/// How the diagram was written, beyond what the graph says.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    /// Every shape definition, in source order.
    pub definitions: Vec<Definition>,
    /// Ids declared by a statement of their own, a label or shape, shape data, a style or a
    /// subgraph id (what an arrow to a typo is not).
    pub declared: HashSet<String>,
    /// Lines Mermaid read as `direction X` although they are not written as one: (value, span).
    pub dropped_lines: Vec<(String, Span)>,
    /// The span of every statement, sorted (what an `archc: ignore` comment covers).
    pub statement_spans: Vec<Span>,
}

impl SourceFacts {
    /// Gather the facts from the syntax tree, FlowDB's direction lines and the text they index.
    pub fn gather(statements: &[Statement], direction_lines: &[(String, Span)], source: &str) -> SourceFacts {
        let mut facts = SourceFacts::default();
        walk(statements, &mut facts);
        spans(statements, &mut facts.statement_spans);
        facts.statement_spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        facts.dropped_lines = direction_lines
            .iter()
            .filter(|(_, span)| !source.get(span.start..span.end).unwrap_or("").trim_start().starts_with("direction"))
            .cloned()
            .collect();
        facts
    }
}

fn walk(statements: &[Statement], facts: &mut SourceFacts) {
    for s in statements {
        match s {
            Statement::Vertex(v) => {
                let standalone = v.links.is_empty();
                for group in &v.groups {
                    for (i, m) in group.members.iter().enumerate() {
                        let last = i + 1 == group.members.len();
                        if standalone
                            || m.vertex.shape.is_some()
                            || m.previous_shape_data.is_some()
                            || (last && group.shape_data.is_some())
                        {
                            facts.declared.insert(m.vertex.id.value.to_string());
                        }
                        if let Some(shape) = &m.vertex.shape {
                            facts.definitions.push(Definition {
                                id: m.vertex.id.value.to_string(),
                                text: shape.text.text.trim().to_string(),
                                shape: shape.kind.to_string(),
                                span: m.vertex.span,
                            });
                        }
                    }
                }
            }
            Statement::Subgraph(sg) => {
                if let Some(t) = &sg.id_text {
                    facts.declared.insert(t.text.trim().to_string());
                }
                walk(&sg.body, facts);
            }
            Statement::Style { id, .. } => {
                facts.declared.insert(id.value.to_string());
            }
            _ => {}
        }
    }
}

fn spans(statements: &[Statement], out: &mut Vec<Span>) {
    for s in statements {
        let span = match s {
            Statement::Vertex(v) => v.span,
            Statement::Style { span, .. } | Statement::ClassDef { span, .. } | Statement::Class { span, .. } => *span,
            Statement::LinkStyle(l) => l.span,
            Statement::Click(c) => c.span,
            Statement::Subgraph(sg) => {
                spans(&sg.body, out);
                sg.span
            }
            Statement::Direction { span, .. } | Statement::Semi(span) => *span,
            Statement::AccTitle(t) | Statement::AccDescr(t) => t.span,
        };
        out.push(span);
    }
}
