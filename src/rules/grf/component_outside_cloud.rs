use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a component that only exists inside an AWS region (a NAT gateway, a database,
    /// a node group) drawn outside every region box.
    ///
    /// ## Why is this bad?
    /// Such resources live in a VPC; drawn outside, the diagram does not say which network,
    /// subnets and region they belong to.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   rds[(RDS PostgreSQL)]
    ///   subgraph aws[AWS eu-north-1]
    ///     app[Mattermost Pods]
    ///   end
    ///   app --> rds
    /// ```
    ///
    /// Use instead: draw it inside the region, VPC and subnet it belongs to.
    pub(crate) static RULE = {
        code: "GRF006",
        name: "component-outside-cloud",
        severity: Error,
        check: check,
    }
}

/// GRF006
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    // a diagram need not draw its region; one that does puts what lives in a VPC inside it
    let draws_region = ctx.graph.components().any(|(_, c)| c.category() == Some("region"));
    if !ctx.graph.draws_aws() || !draws_region {
        return;
    }
    for (n, c) in ctx.graph.components() {
        let Some(kind) = c.kind else { continue };
        // what lives in a VPC, named as AWS's (a "PostgreSQL container" beside the cloud may
        // be anything's)
        let in_vpc_kind = kind.vendor == "aws" && kind.def.inside.iter().any(|p| p == "aws.vpc" || p == "aws.subnet");
        if !kind.def.needs_cloud || !in_vpc_kind || !c.vendor || ctx.graph.in_cloud(n) || kind.category() == "region" {
            continue;
        }
        if !matches!(
            c.classification,
            crate::model::Classification::Inferred { .. } | crate::model::Classification::Configured
        ) {
            continue;
        }
        out.push(Violation::new(
            Handle::Node(n),
            format!("{} is drawn outside any AWS region", ctx.describe(n)),
            "outside the cloud",
            format!("move `{}` into the region box (and the VPC/subnet it belongs to)", c.id),
        ));
    }
}
