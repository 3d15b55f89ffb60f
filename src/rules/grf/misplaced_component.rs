use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds a component drawn inside a box it cannot sit in: an internet gateway inside a
    /// subnet, a subnet outside a VPC, a database directly in a region.
    ///
    /// ## Why is this bad?
    /// Containment says where a resource lives (which VPC, which subnet tier); an impossible
    /// placement leaves archc without a valid network location for it.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   subgraph vpc[VPC]
    ///     subgraph pub[Public Subnets]
    ///       igw[Internet Gateway]
    ///     end
    ///   end
    /// ```
    ///
    /// Use instead: the internet gateway attaches to the VPC: draw it in the VPC box.
    pub(crate) static RULE = {
        code: "GRF008",
        name: "misplaced-component",
        severity: Error,
        check: check,
    }
}

/// GRF008
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    if !ctx.graph.draws_aws() {
        return;
    }
    for (n, c) in ctx.graph.components() {
        // the box that places it (groups place nothing); a box classified by what is around
        // it fits by construction
        let (Some(kind), Some(parent)) = (c.kind, ctx.graph.placing_parent(n)) else { continue };
        let Some(parent_kind) = ctx.c(parent).kind else { continue };
        if !matches!(
            c.classification,
            crate::model::Classification::Inferred { .. } | crate::model::Classification::Configured
        ) {
            continue;
        }
        // drawn straight in the region or the cloud (no VPC drawn around it) is a shorthand,
        // and a part of a resource drawn inside it is where it belongs
        // drawn in the VPC or an AZ without its subnet: archc places it in the subnets of its
        // tier, which is what such a drawing means
        let shorthand = matches!(parent_kind.def.id.as_str(), "aws.vpc" | "aws.availability-zone")
            && kind.def.inside.iter().any(|p| p == "aws.subnet");
        if kind.def.inside.is_empty()
            || kind.fits_in(parent_kind)
            || parent_kind.category() == "region"
            || std::ptr::eq(kind, parent_kind)
            || shorthand
        {
            continue;
        }
        let allowed: Vec<String> = kind.def.inside.iter().map(|p| format!("`{p}`")).collect();
        out.push(
            Violation::new(
                Handle::Node(n),
                format!("{} cannot sit inside {}", ctx.describe(n), ctx.describe(parent)),
                "misplaced",
                format!("draw `{}` inside {}", c.id, allowed.join(" or ")),
            )
            .with(Handle::Node(parent), "this container"),
        );
    }
}
