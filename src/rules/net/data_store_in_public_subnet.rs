use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a database or cache drawn in a public subnet.
    ///
    /// ## Why is this bad?
    /// A public subnet routes to the internet gateway; a data store there is one security-group
    /// mistake away from the internet. RDS and ElastiCache belong in private data subnets with
    /// no default route (`PubliclyAccessible: false`).
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   subgraph pub[Public Subnets]
    ///     rds[(RDS PostgreSQL)]
    ///   end
    /// ```
    ///
    /// Use instead: draw it in the data subnets: `subgraph privData[Private Subnets data]`.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html>
    pub(crate) static RULE = {
        code: "NET002",
        name: "data-store-in-public-subnet",
        severity: Error,
        check: check,
    }
}

/// NET002
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (n, c) in ctx.graph.components() {
        if !matches!(c.category(), Some("database" | "cache")) || ctx.graph.tier(n) != Some("public") {
            continue;
        }
        let subnet = ctx.graph.enclosing(n, "aws.subnet");
        let mut v = Violation::new(
            Handle::Node(n),
            format!("{} is in a public subnet", ctx.describe(n)),
            "reachable from the internet gateway's subnets",
            "move it into private data subnets (no 0.0.0.0/0 route)",
        );
        if let Some(s) = subnet {
            v = v.with(Handle::Node(s), "public subnet");
        }
        out.push(v);
    }
}
