use crate::model::source_facts::Definition;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

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

/// GRF001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let mut first: std::collections::HashMap<&str, &Definition> = std::collections::HashMap::new();
    for def in &ctx.graph.source.definitions {
        match first.get(def.id.as_str()) {
            Some(earlier) if earlier.text != def.text || earlier.shape != def.shape => {
                out.push(
                    Violation::new(
                        Handle::Span(def.span),
                        format!(
                            "node `{}` is defined twice; Mermaid keeps this definition and drops the first",
                            def.id
                        ),
                        "the definition Mermaid keeps",
                        format!("define `{}` once, or give the second box its own id", def.id),
                    )
                    .with(Handle::Span(earlier.span), "first defined here"),
                );
            }
            Some(_) => {}
            None => {
                first.insert(&def.id, def);
            }
        }
    }
}
