use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a NAT gateway with no arrow to an internet gateway, outside the public subnets.
    /// A NAT gateway in a public subnet needs no drawn internet gateway: archc builds the one
    /// the public subnets imply (a `PLN007` info at the VPC says so).
    ///
    /// ## Why is this bad?
    /// A NAT gateway reaches the internet through its public subnet's route to an internet
    /// gateway; without one, everything routed to it is dropped.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   ng[Managed Node Group] --> nat[NAT Gateway]
    /// ```
    ///
    /// Use instead: `nat --> igw[Internet Gateway]`, the internet gateway in the VPC.
    pub(crate) static RULE = {
        code: "NET005",
        name: "nat-gateway-without-internet-gateway",
        severity: Error,
        check: check,
    }
}

/// NET005
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for nat in ctx.graph.of_kind("aws.nat-gateway") {
        // any arrow to an internet gateway, or one in the NAT's VPC: the public subnet's
        // default route reaches it whether or not the drawing draws that arrow
        let reaches_igw = ctx
            .graph
            .outgoing(nat)
            .any(|(e, t)| ctx.graph.connection(e).style != Style::Invisible && ctx.c(t).is("aws.internet-gateway"));
        let vpc = ctx.graph.enclosing(nat, "aws.vpc");
        let igw_in_vpc =
            ctx.graph.of_kind("aws.internet-gateway").any(|igw| ctx.graph.enclosing(igw, "aws.vpc") == vpc);
        // a public subnet implies its internet gateway, which the network lowering builds
        let in_public_subnet = ctx.graph.tier(nat) == Some("public");
        if reaches_igw || igw_in_vpc || in_public_subnet {
            continue;
        }
        let igw = ctx.graph.of_kind("aws.internet-gateway").next();
        let help = match igw {
            Some(igw) => format!("draw `{} --> {}`", ctx.c(nat).id, ctx.c(igw).id),
            None => format!("add an internet gateway to the VPC and draw `{} --> igw`", ctx.c(nat).id),
        };
        out.push(Violation::new(
            Handle::Node(nat),
            format!("NAT gateway `{}` does not reach an internet gateway", ctx.c(nat).id),
            "no arrow to an internet gateway",
            help,
        ));
    }
}
