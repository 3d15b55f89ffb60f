use crate::model::Classification;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a box whose label fits two kinds about equally well.
    ///
    /// ## Why is this bad?
    /// archc would have to guess which resources to create; a silent guess is worse than a
    /// question.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   x[Redis or Postgres]
    /// ```
    ///
    /// Use instead: one component per box, or `nodes: {x: {kind: aws.elasticache}}`.
    pub(crate) static RULE = {
        code: "GRF005",
        name: "ambiguous-component",
        severity: Error,
        check: check,
    }
}

/// GRF005
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    // archc builds AWS and Kubernetes: in another cloud's diagram there is nothing to ask
    if !matches!(ctx.graph.cloud, crate::model::Cloud::Aws | crate::model::Cloud::Kubernetes) {
        return;
    }
    for (n, c) in ctx.graph.components() {
        let Classification::Ambiguous { candidates } = &c.classification else { continue };
        let names: Vec<String> = candidates.iter().take(2).map(|(k, _)| format!("`{k}`")).collect();
        out.push(Violation::new(
            Handle::Node(n),
            format!("`{}` (\"{}\") could be {}", c.id, c.label, names.join(" or ")),
            "ambiguous",
            format!(
                "make the label specific, or set the kind: `nodes: {{{}: {{kind: {}}}}}`",
                c.id,
                candidates.first().map_or("", |(k, _)| *k)
            ),
        ));
    }
}
