use crate::model::Cloud;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Reports, once, a diagram whose components are Azure's or Google Cloud's.
    ///
    /// ## Why is this bad?
    /// archc compiles AWS (and Kubernetes). It recognises Azure and Google Cloud services so
    /// that none of them becomes an AWS resource by a lookalike word ("Key Vault" is not
    /// Secrets Manager, "Cloud SQL" is not RDS), and builds nothing from them: the whole
    /// diagram is documentation as far as archc is concerned.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart LR
    ///   user[Users] --> agw[Application Gateway] --> aks[AKS cluster]
    ///   aks --> kv[Key Vault]
    ///   aks --> sql[(Azure SQL Database)]
    /// ```
    ///
    /// Use instead: draw the AWS architecture you want archc to build, or keep the diagram as
    /// documentation and do not compile it.
    pub(crate) static RULE = {
        code: "GRF009",
        name: "diagram-of-another-cloud",
        severity: Warning,
        check: check,
    }
}

/// GRF009
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    let (cloud, kind) = match ctx.graph.cloud {
        Cloud::Azure => ("Azure", "azure.service"),
        Cloud::Gcp => ("Google Cloud", "gcp.service"),
        _ => return,
    };
    let mut boxes: Vec<_> = ctx.graph.of_kind(kind).collect();
    // boxes before the subgraphs around them, each in diagram order
    boxes.sort_by_key(|&n| (ctx.c(n).container, ctx.c(n).span.start));
    let Some(&first) = boxes.first() else { return };
    let mut names: Vec<String> = Vec::new();
    for &n in &boxes {
        let c = ctx.c(n);
        let name = c.attr("service").map_or_else(|| c.title.clone(), str::to_string);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let shown = names.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
    let more = if names.len() > 4 { ", …" } else { "" };
    out.push(Violation::new(
        Handle::Node(first),
        format!("this diagram draws {cloud}: {shown}{more}; archc compiles AWS and builds nothing from it"),
        format!("{cloud}, one of {} boxes", boxes.len()),
        "keep it as documentation, or draw the AWS architecture archc should build",
    ));
}
