use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a NAT gateway drawn in a private (app or data) subnet.
    ///
    /// ## Why is this bad?
    /// A NAT gateway forwards private traffic to the internet gateway; it only works from a
    /// public subnet, whose route table sends `0.0.0.0/0` to the internet gateway. In a private
    /// subnet its own default route would point at itself.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   subgraph privApp[Private Subnets app]
    ///     nat[NAT Gateway]
    ///   end
    /// ```
    ///
    /// Use instead: draw the NAT gateway in the public subnets.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html>
    pub(crate) static RULE = {
        code: "NET001",
        name: "nat-gateway-in-private-subnet",
        severity: Error,
        check: check,
    }
}

/// NET001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for nat in ctx.graph.of_kind("aws.nat-gateway") {
        let Some(subnet) = ctx.graph.enclosing(nat, "aws.subnet") else { continue };
        let tier = ctx.c(subnet).attr("tier").unwrap_or("app");
        if tier == "public" {
            continue;
        }
        out.push(
            Violation::new(
                Handle::Node(nat),
                format!("NAT gateway `{}` is in {tier} subnet `{}`", ctx.c(nat).id, ctx.c(subnet).id),
                "a NAT gateway must sit in a public subnet",
                "move the NAT gateway into the public subnets (0.0.0.0/0 → internet gateway)",
            )
            .with(Handle::Node(subnet), format!("{tier} subnet: no route to an internet gateway")),
        );
    }
}
