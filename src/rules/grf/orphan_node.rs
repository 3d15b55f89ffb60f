use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a box with no arrow in or out.
    ///
    /// ## Why is this bad?
    /// A component nothing talks to is either forgotten or connected by an arrow that was
    /// never drawn; archc derives security groups, routes and permissions from arrows, so an
    /// orphan gets none of them.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   app[Mattermost Pods] --> rds[(RDS PostgreSQL)]
    ///   cache[(ElastiCache Redis)]
    /// ```
    ///
    /// Use instead: draw the arrow (`app --> cache`) or remove the box.
    pub(crate) static RULE = {
        code: "GRF003",
        name: "orphan-node",
        severity: Warning,
        check: check,
    }
}

/// GRF003
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (n, c) in ctx.graph.components() {
        if c.container || ctx.graph.incoming(n).next().is_some() || ctx.graph.outgoing(n).next().is_some() {
            continue;
        }
        out.push(Violation::new(
            Handle::Node(n),
            format!("{} is not connected to anything", ctx.describe(n)),
            "no arrow in or out",
            "draw the arrows that reach this component, or remove it",
        ));
    }
}
