use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds an internet-facing load balancer (one the internet points at) that is not in
    /// public subnets, or whose public subnets are drawn in a single availability zone.
    ///
    /// ## Why is this bad?
    /// An internet-facing ALB needs two or more public subnets in distinct AZs (tagged
    /// `kubernetes.io/role/elb` for the AWS Load Balancer Controller); in private subnets it
    /// has no route from the internet.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   user[User Browser] --> alb[ALB]
    ///   subgraph privApp[Private Subnets app]
    ///     alb
    ///   end
    /// ```
    ///
    /// Use instead: draw the ALB in the public subnets.
    ///
    /// ## References
    /// - <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/>
    pub(crate) static RULE = {
        code: "NET008",
        name: "load-balancer-outside-public-subnet",
        severity: Error,
        check: check,
    }
}

/// NET008
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (n, c) in ctx.graph.components() {
        // a load balancer drawn in no subnet leaves its placement to archc (public subnets)
        if c.category() != Some("load-balancer") || ctx.graph.enclosing(n, "aws.subnet").is_none() {
            continue;
        }
        let internet_facing = ctx.graph.incoming(n).any(|(e, s)| {
            ctx.graph.connection(e).style == Style::Solid
                && matches!(ctx.c(s).category(), Some("actor" | "cdn" | "dns"))
        });
        if !internet_facing {
            continue;
        }
        match ctx.graph.tier(n) {
            Some("public") => {
                let azs: std::collections::BTreeSet<_> = ctx
                    .graph
                    .of_kind("aws.availability-zone")
                    .filter(|az| {
                        ctx.graph.components().any(|(m, mc)| {
                            mc.is("aws.subnet")
                                && mc.attr("tier") == Some("public")
                                && ctx.graph.ancestors(m).any(|x| x == *az)
                        })
                    })
                    .collect();
                if azs.len() == 1 {
                    let az = azs.into_iter().next().unwrap_or(n);
                    out.push(
                        Violation::new(
                            Handle::Node(n),
                            format!("internet-facing {} has public subnets in one availability zone", ctx.describe(n)),
                            "needs public subnets in 2 or more AZs",
                            "draw public subnets in a second availability zone (or leave AZs out of the drawing and set `availability_zones`)",
                        )
                        .with(Handle::Node(az), "the only AZ with public subnets"),
                    );
                }
            }
            tier => out.push(Violation::new(
                Handle::Node(n),
                format!("internet-facing {} is not in a public subnet", ctx.describe(n)),
                match tier {
                    Some(t) => format!("in a {t} subnet"),
                    None => "in no subnet".to_string(),
                },
                "draw the load balancer inside the public subnets",
            )),
        }
    }
}
