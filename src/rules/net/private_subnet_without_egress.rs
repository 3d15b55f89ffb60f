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
    /// Use instead: `ng --> nat --> igw` with the NAT gateway in a public subnet, or VPC
    /// endpoints in the VPC instead of the NAT gateway: ECR (API and DKR) and the S3 gateway
    /// endpoint at least, for the image pulls (`vpce[Interface endpoints: ECR API, ECR DKR]`,
    /// `s3ep[VPC Endpoint S3]`, or one `VPC endpoints` box that names no service). archc
    /// builds them and adds what the nodes' agents need besides (STS, EC2, CloudWatch Logs,
    /// Elastic Load Balancing, EFS; see README "Edge and endpoints").
    pub(crate) static RULE = {
        code: "NET004",
        name: "private-subnet-without-egress",
        severity: Error,
        check: check,
    }
}

/// NET004
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (n, c) in ctx.graph.components() {
        // nodes drawn in a private subnet of a VPC whose way out the drawing shows (an
        // internet gateway); a drawing without one says nothing about egress
        let Some(subnet) = ctx.graph.enclosing(n, "aws.subnet") else { continue };
        if !matches!(c.kind_id(), Some("aws.eks-nodegroup" | "aws.fargate-profile"))
            || ctx.graph.tier(n) == Some("public")
        {
            continue;
        }
        let vpc = ctx.graph.enclosing(n, "aws.vpc");
        let in_vpc = |k: &str| ctx.graph.of_kind(k).any(|x| ctx.graph.enclosing(x, "aws.vpc") == vpc);
        if !in_vpc("aws.internet-gateway") {
            continue;
        }
        // a NAT gateway in a public subnet of the VPC is the private subnets' way out (archc
        // routes the app subnets through it, arrow or not)
        let public_nat = ctx
            .graph
            .of_kind("aws.nat-gateway")
            .any(|x| ctx.graph.enclosing(x, "aws.vpc") == vpc && ctx.graph.tier(x) == Some("public"));
        // or an arrow to a NAT gateway (a misplaced one is NET001's)
        let reaches = |from: petgraph::stable_graph::NodeIndex| {
            ctx.graph.outgoing(from).any(|(e, t)| {
                ctx.graph.connection(e).style == crate::model::Style::Solid && ctx.c(t).is("aws.nat-gateway")
            })
        };
        if public_nat || reaches(n) || reaches(subnet) {
            continue;
        }
        // VPC endpoints instead of a NAT gateway: enough when the image pulls go through them
        let endpoints: Vec<_> = ctx
            .graph
            .of_kind("aws.vpc-endpoint")
            .filter(|&x| ctx.graph.enclosing(x, "aws.vpc").is_none_or(|v| Some(v) == vpc))
            .collect();
        if !endpoints.is_empty() {
            let (services, generic) = crate::plan::drawn_endpoint_services(ctx.graph, &endpoints);
            let missing: Vec<&str> =
                ["ecr.api", "ecr.dkr", "s3"].into_iter().filter(|s| !generic && !services.contains(s)).collect();
            if missing.is_empty() {
                continue;
            }
            let names: Vec<String> = endpoints.iter().map(|&x| format!("`{}`", ctx.c(x).id)).collect();
            let mut v = Violation::new(
                Handle::Node(n),
                format!(
                    "{} has no NAT gateway and the VPC endpoints {} lack {}: it cannot pull images",
                    ctx.describe(n),
                    names.join(", "),
                    missing.join(", ")
                ),
                "no way to pull images",
                "name the missing services in an endpoint's label (`Interface endpoints: ECR API, ECR DKR`, `VPC Endpoint S3 gateway`), or draw a NAT gateway in a public subnet",
            );
            for &x in &endpoints {
                v = v.with(Handle::Node(x), "endpoints drawn");
            }
            out.push(v);
            continue;
        }
        let ecr = ctx.graph.of_kind("aws.ecr").next();
        let misplaced = ctx.graph.of_kind("aws.nat-gateway").find(|&x| ctx.graph.enclosing(x, "aws.vpc") == vpc);
        let igw = ctx.graph.of_kind("aws.internet-gateway").next().map_or("igw", |n| ctx.c(n).id.as_str());
        let help = match misplaced {
            Some(nat) => format!(
                "move NAT gateway `{}` into a public subnet: the app subnets' default route goes through it",
                ctx.c(nat).id
            ),
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
