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
    for (n, c) in ctx.graph.components() {
        let (Some(kind), Some(parent)) = (c.kind, c.parent) else { continue };
        let Some(parent_kind) = ctx.c(parent).kind else { continue };
        if kind.def.inside.is_empty() || kind.fits_in(parent_kind) {
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
