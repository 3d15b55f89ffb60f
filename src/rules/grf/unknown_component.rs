use crate::model::Classification;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a box archc cannot identify from its label, id, shape and position.
    ///
    /// ## Why is this bad?
    /// archc compiles each box to the resources of its kind; guessing would compile the wrong
    /// infrastructure, so archc asks instead.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   app[Mattermost Pods] --> x[Frobnicator]
    /// ```
    ///
    /// Use instead: a label that names the component (`x[(RDS PostgreSQL)]`), or its kind in
    /// the configuration block: `nodes: {x: {kind: aws.rds}}`.
    pub(crate) static RULE = {
        code: "GRF004",
        name: "unknown-component",
        severity: Error,
        check: check,
    }
}

/// GRF004
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    // archc builds AWS and Kubernetes: in another cloud's diagram there is nothing to ask
    if !matches!(ctx.graph.cloud, crate::model::Cloud::Aws | crate::model::Cloud::Kubernetes) {
        return;
    }
    // a typo in an edge is GRF002's: one error, not two
    let typos: Vec<_> = super::edge_to_undeclared_node::typos(ctx).into_iter().map(|(n, _)| n).collect();
    for (n, c) in ctx.graph.components() {
        let Classification::Unknown { candidates } = &c.classification else { continue };
        if typos.contains(&n) {
            continue;
        }
        let closest = if candidates.is_empty() {
            "nothing in the label matches a kind archc knows".to_string()
        } else {
            format!(
                "closest kinds: {}",
                candidates.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            )
        };
        let help = match candidates.first() {
            Some((kind, _)) => format!(
                "name the component in its label, or set its kind in a ```yaml archc block: `nodes: {{{}: {{kind: {kind}}}}}` (`archc kinds` lists kinds)",
                c.id
            ),
            None => format!(
                "say in its label which AWS service or Kubernetes object it is (`archc kinds` lists what archc knows), or set its kind in a ```yaml archc block: `nodes: {{{0}: {{kind: ...}}}}`",
                c.id
            ),
        };
        out.push(Violation::new(
            Handle::Node(n),
            format!("archc cannot tell what `{}` (\"{}\") is", c.id, c.label),
            closest,
            help,
        ));
    }
}
