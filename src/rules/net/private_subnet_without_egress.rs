use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds EKS nodes in private subnets without a NAT gateway path.
    ///
    /// ## Why is this bad?
    /// Nodes pull images from ECR (and layers from S3), reach the EKS API, STS and the load
    /// balancer and EFS APIs. Without a NAT gateway or VPC endpoints they cannot join the
    /// cluster or start a single pod.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   subgraph privApp[Private Subnets app]
    ///     ng[Managed Node Group]
    ///   end
    ///   ecr[(Amazon ECR)]
    /// ```
    ///
    /// Use instead: `ng --> nat --> igw` with the NAT gateway in a public subnet.
    ///
    /// VPC endpoints drawn instead of a NAT gateway do not satisfy this rule yet: archc does
    /// not build them, and a rule accepts only what the output really contains.
    pub(crate) static RULE = {
        code: "NET004",
        name: "private-subnet-without-egress",
        severity: Error,
        check: check,
    }
}

/// NET004
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (n, c) in ctx.graph.components() {
        if !matches!(c.kind_id(), Some("aws.eks-nodegroup" | "aws.fargate-profile"))
            || ctx.graph.tier(n) == Some("public")
        {
            continue;
        }
        let subnet = ctx.graph.enclosing(n, "aws.subnet");
        let reaches = |from: petgraph::stable_graph::NodeIndex| {
            ctx.graph
                .outgoing(from)
                .any(|(e, t)| ctx.graph.connection(e).style == Style::Solid && ctx.c(t).is("aws.nat-gateway"))
        };
        if reaches(n) || subnet.is_some_and(reaches) {
            continue;
        }
        let ecr = ctx.graph.of_kind("aws.ecr").next();
        let nat = ctx.graph.of_kind("aws.nat-gateway").next().map(|n| ctx.c(n).id.as_str());
        let igw = ctx.graph.of_kind("aws.internet-gateway").next().map_or("igw", |n| ctx.c(n).id.as_str());
        let help = match nat {
            Some(nat) => {
                format!("draw `{} --> {nat}` (the NAT gateway in a public subnet, with `{nat} --> {igw}`)", c.id)
            }
            None => format!("draw a NAT gateway in a public subnet and the path `{} --> nat --> {igw}`", c.id),
        };
        let mut v = Violation::new(
            Handle::Node(n),
            format!("{} has no way out of its private subnet", ctx.describe(n)),
            "no NAT gateway path",
            help,
        );
        if let Some(ecr) = ecr {
            v = v.with(Handle::Node(ecr), "images are pulled from here");
        }
        out.push(v);
    }
}
