use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds an arrow into a database or cache from something that is not an application
    /// workload in the private app tier.
    ///
    /// ## Why is this bad?
    /// archc opens a data store's port only to the app tier's security group; an arrow from a
    /// load balancer, a public subnet or a CI system asks for a path that should not exist.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   alb[ALB] --> rds[(RDS PostgreSQL)]
    /// ```
    ///
    /// Use instead: let the application in the app subnets reach the database.
    pub(crate) static RULE = {
        code: "NET007",
        name: "data-store-reached-outside-app-tier",
        severity: Error,
        check: check,
    }
}

/// NET007
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (e, a, b, conn) in ctx.graph.connections() {
        if conn.style != Style::Solid || !matches!(ctx.c(b).category(), Some("database" | "cache")) {
            continue;
        }
        let from = ctx.c(a);
        // the internet is NET006's; unknown boxes are GRF004's
        if from.kind.is_none() || from.category() == Some("actor") {
            continue;
        }
        let workload = matches!(from.category(), Some("kubernetes" | "compute"));
        if workload && ctx.graph.tier(a) != Some("public") && ctx.graph.tier(a) != Some("data") {
            continue;
        }
        out.push(Violation::new(
            Handle::Edge(e),
            format!("{} is reached from {}", ctx.describe(b), ctx.describe(a)),
            "only the app tier should reach a data store",
            "connect the data store only from application workloads in the private app subnets",
        ));
    }
}
