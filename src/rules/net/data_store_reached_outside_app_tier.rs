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
    if !ctx.graph.draws_aws() {
        return;
    }
    for (e, a, b, conn) in ctx.graph.connections() {
        // data stores behind a network (RDS, ElastiCache), not the API ones (DynamoDB)
        let network_store = ctx.c(b).kind.is_some_and(|k| {
            matches!(k.category(), "database" | "cache") && k.def.access == Some(crate::model::catalog::Access::Network)
        });
        if conn.style != Style::Solid || !network_store {
            continue;
        }
        let from = ctx.c(a);
        // the internet is NET006's; unknown boxes are GRF004's; what reaches the store from
        // the edge of the network is this rule's: a load balancer, a CDN, an API, a public box
        let Some(category) = from.category() else { continue };
        let edge = matches!(category, "load-balancer" | "cdn" | "dns" | "api")
            || (ctx.graph.tier(a) == Some("public") && ctx.graph.enclosing(a, "aws.subnet").is_some());
        if category == "actor" || !edge {
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
