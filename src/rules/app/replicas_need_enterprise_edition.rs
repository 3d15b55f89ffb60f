use std::sync::LazyLock;

use regex::Regex;

use crate::rules::{declare_rule, Handle, RuleContext, Violation};

/// A label that draws several instances.
static PLURAL: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r"(?i)\b(pods|replicas|instances|servers)\b"));

declare_rule! {
    /// ## What it does
    /// Reports several replicas of an application whose edition runs only one (Mattermost
    /// Team Edition drawn as "Pods", or `app.replicas` above the edition's limit).
    ///
    /// ## Why is this bad?
    /// Mattermost's high-availability clustering is Enterprise-only; several Team Edition
    /// pods would not share state. archc emits one replica, and then no
    /// PodDisruptionBudget or HorizontalPodAutoscaler.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   mm[Mattermost Pods]
    /// ```
    ///
    /// Use instead: `app.edition: enterprise` with `app.replicas: 2` (archc adds the cluster
    /// settings, a PDB and spreads pods over zones), or draw `Mattermost Pod`.
    ///
    /// ## References
    /// - <https://docs.mattermost.com/scale/high-availability-cluster-based-deployment.html>
    pub(crate) static RULE = {
        code: "APP002",
        name: "replicas-need-enterprise-edition",
        severity: Warning,
        check: check,
    }
}

/// APP002
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (n, c) in ctx.graph.components() {
        let Some((profile, edition)) = ctx.app(n) else { continue };
        let Some(ed) = profile.editions.get(edition) else { continue };
        let configured = ctx.config.app.replicas;
        let wants_several = configured.map_or_else(|| PLURAL.is_match(&c.label), |r| r > ed.max_replicas);
        if !wants_several || ed.max_replicas > 1 && configured.is_none_or(|r| r <= ed.max_replicas) {
            continue;
        }
        let what = match configured {
            Some(r) => format!("`app.replicas: {r}`"),
            None => format!("the diagram draws several {} pods", profile.name),
        };
        out.push(Violation::new(
            Handle::Node(n),
            format!("{what}, but {} {edition} edition runs {} replica; archc emits replicas: {}", profile.name, ed.max_replicas, ed.max_replicas),
            format!("{edition} edition: {} replica, no clustering", ed.max_replicas),
            "set `app.edition: enterprise` and `app.replicas: 2` for a cluster (archc then adds cluster settings and a PodDisruptionBudget)",
        ));
    }
}
