use crate::rules::{declare_rule, Handle, RuleContext, Violation};
use crate::source::Span;
use crate::syntax::ast::{Statement, VertexShape};

declare_rule! {
    /// ## What it does
    /// Finds a node defined twice with different labels or shapes.
    ///
    /// ## Why is this bad?
    /// Mermaid keeps the last definition and silently drops the first, so the drawing and the
    /// text disagree about what the box is, and archc classifies it from the last one only.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   db[(RDS PostgreSQL)]
    ///   db[(ElastiCache Redis)]
    /// ```
    ///
    /// Use instead: one definition per node id.
    pub(crate) static RULE = {
        code: "GRF001",
        name: "duplicate-node-definition",
        severity: Warning,
        check: check,
    }
}

fn collect<'a>(statements: &'a [Statement], out: &mut Vec<(&'a str, &'a VertexShape, Span)>) {
    for s in statements {
        match s {
            Statement::Vertex(v) => {
                for group in &v.groups {
                    for m in &group.members {
                        if let Some(shape) = &m.vertex.shape {
                            out.push((&m.vertex.id.value, shape, m.vertex.span));
                        }
                    }
                }
            }
            Statement::Subgraph(sg) => collect(&sg.body, out),
            _ => {}
        }
    }
}

/// GRF001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let mut defs = Vec::new();
    collect(&ctx.diagram.parsed.flowchart.statements, &mut defs);
    let mut first: std::collections::HashMap<&str, (&VertexShape, Span)> = std::collections::HashMap::new();
    for (id, shape, span) in defs {
        match first.get(id) {
            Some((earlier, earlier_span))
                if earlier.text.text.trim() != shape.text.text.trim() || earlier.kind != shape.kind =>
            {
                out.push(
                    Violation::new(
                        Handle::Span(span),
                        format!("node `{id}` is defined twice; Mermaid keeps this definition and drops the first"),
                        "the definition Mermaid keeps",
                        format!("define `{id}` once, or give the second box its own id"),
                    )
                    .with(Handle::Span(*earlier_span), "first defined here"),
                );
            }
            Some(_) => {}
            None => {
                first.insert(id, (shape, span));
            }
        }
    }
}
