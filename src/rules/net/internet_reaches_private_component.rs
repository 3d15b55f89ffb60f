use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds an arrow from the internet (a user, a client) to anything but a load balancer,
    /// CloudFront or DNS.
    ///
    /// ## Why is this bad?
    /// Only an internet-facing load balancer in public subnets should take traffic from the
    /// internet; an arrow from a user straight to a database, a pod or a node says that
    /// component is exposed.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   user[User Browser] --> rds[(RDS PostgreSQL)]
    /// ```
    ///
    /// Use instead: `user --> alb[ALB] --> svc[Service] --> app[Pods] --> rds`.
    pub(crate) static RULE = {
        code: "NET006",
        name: "internet-reaches-private-component",
        severity: Error,
        check: check,
    }
}

/// NET006
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (e, a, b, conn) in ctx.graph.connections() {
        if conn.style != Style::Solid || ctx.c(a).category() != Some("actor") {
            continue;
        }
        // what the internet may reach: entry points (a load balancer, a CDN, DNS, an API,
        // the internet gateway), the public AWS APIs (S3, Cognito, ...), anything in a public
        // subnet; what it may not: a component in a private subnet, a database or cache
        let target = ctx.c(b);
        let private_tier =
            matches!(ctx.graph.tier(b), Some("app" | "data")) && ctx.graph.enclosing(b, "aws.subnet").is_some();
        let data_store = target.kind.is_some_and(|k| {
            matches!(k.category(), "database" | "cache") && k.def.access == Some(crate::model::catalog::Access::Network)
        });
        let entry = matches!(
            target.category(),
            Some("load-balancer" | "cdn" | "dns" | "api" | "actor" | "ci" | "group" | "annotation")
        ) || target.is("aws.internet-gateway");
        if target.kind.is_none() || entry || !(private_tier || data_store) {
            continue;
        }
        out.push(
            Violation::new(
                Handle::Edge(e),
                format!("the internet reaches {} directly", ctx.describe(b)),
                "only a load balancer in a public subnet should take internet traffic",
                format!("route `{}` through an internet-facing load balancer in the public subnets", ctx.c(a).id),
            )
            .with(Handle::Node(b), "not internet-facing"),
        );
    }
}
