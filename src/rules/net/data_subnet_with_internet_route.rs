use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds an arrow from the data subnets (or something in them) to a NAT or internet
    /// gateway.
    ///
    /// ## Why is this bad?
    /// Data subnets hold databases and caches; a default route out of them lets a compromised
    /// data store reach the internet and makes the tier no longer isolated.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   subgraph privData[Private Subnets data]
    ///     rds[(RDS PostgreSQL)]
    ///   end
    ///   rds --> nat[NAT Gateway]
    /// ```
    ///
    /// Use instead: no route from the data tier; reach AWS APIs through VPC endpoints if needed.
    pub(crate) static RULE = {
        code: "NET003",
        name: "data-subnet-with-internet-route",
        severity: Error,
        check: check,
    }
}

/// NET003
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (e, a, b, conn) in ctx.graph.connections() {
        if conn.style != Style::Solid || !matches!(ctx.c(b).kind_id(), Some("aws.nat-gateway" | "aws.internet-gateway"))
        {
            continue;
        }
        if ctx.graph.tier(a) != Some("data") {
            continue;
        }
        out.push(Violation::new(
            Handle::Edge(e),
            format!("the data tier routes to the internet: `{}` → {}", ctx.c(a).id, ctx.describe(b)),
            "a default route out of the data subnets",
            "remove this route; data subnets keep only the local route",
        ));
    }
}
