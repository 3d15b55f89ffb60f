use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a line that Mermaid silently drops because it contains `direction TB` (or
    /// `BT`, `LR`, `RL`, `TD`) somewhere other than at its start.
    ///
    /// ## Why is this bad?
    /// Mermaid's lexer reads any line containing `direction XX` as a direction statement:
    /// the nodes and edges written on it vanish from the diagram without an error.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   a[set direction LR here] --> b
    /// ```
    ///
    /// Use instead: reword the label (`a[set the direction to LR]`), or quote it.
    pub(crate) static RULE = {
        code: "GRF007",
        name: "line-dropped-by-mermaid",
        severity: Warning,
        check: check,
    }
}

/// GRF007
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (value, span) in &ctx.graph.source.dropped_lines {
        out.push(Violation::new(
            Handle::Span(*span),
            format!("Mermaid reads this whole line as `direction {value}` and drops what is on it"),
            "this line is not in the diagram",
            "reword the text so it does not contain `direction` followed by TB, BT, LR, RL or TD",
        ));
    }
}
