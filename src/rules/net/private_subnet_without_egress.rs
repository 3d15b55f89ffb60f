use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds EKS nodes in private subnets with neither a NAT gateway path nor a VPC endpoint.
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
    /// Use instead: `ng --> nat --> igw` with the NAT gateway in a public subnet, or VPC
    /// endpoints for ECR, S3 and STS.
    pub(crate) static RULE = {
        code: "NET004",
        name: "private-subnet-without-egress",
        severity: Error,
        check: check,
    }
}

/// NET004
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let has_endpoint = ctx.graph.components().any(|(_, c)| c.is("aws.vpc-endpoint"));
    for (n, c) in ctx.graph.components() {
        if !matches!(c.kind_id(), Some("aws.eks-nodegroup" | "aws.fargate-profile"))
            || ctx.graph.tier(n) == Some("public")
        {
            continue;
        }
        let subnet = ctx.graph.enclosing(n, "aws.subnet");
        let reaches = |from: petgraph::stable_graph::NodeIndex| {
            ctx.graph.outgoing(from).any(|(e, t)| {
                ctx.graph.connection(e).style == Style::Solid
                    && matches!(ctx.c(t).kind_id(), Some("aws.nat-gateway" | "aws.vpc-endpoint"))
            })
        };
        if reaches(n) || subnet.is_some_and(reaches) || has_endpoint {
            continue;
        }
        let ecr = ctx.graph.of_kind("aws.ecr").next();
        let mut v = Violation::new(
            Handle::Node(n),
            format!("{} has no way out of its private subnet", ctx.describe(n)),
            "no NAT gateway path and no VPC endpoint",
            format!("draw `{} --> nat` with a NAT gateway in a public subnet (and `nat --> igw`), or add VPC endpoints for ECR, S3 and STS", c.id),
        );
        if let Some(ecr) = ecr {
            v = v.with(Handle::Node(ecr), "images are pulled from here");
        }
        out.push(v);
    }
}
