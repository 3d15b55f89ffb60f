use std::collections::HashMap;

use petgraph::stable_graph::NodeIndex;

use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Finds an arrow to (or from) an id that no statement declares, when the id is a near
    /// miss of a declared one.
    ///
    /// ## Why is this bad?
    /// Mermaid creates a new, empty box for any unknown id, so a typo in an edge silently adds
    /// a component and loses the connection the arrow was meant to draw.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   app[Mattermost Pods]
    ///   rds[(RDS PostgreSQL)]
    ///   app --> rsd
    /// ```
    ///
    /// Use instead: `app --> rds`.
    pub(crate) static RULE = {
        code: "GRF002",
        name: "edge-to-undeclared-node",
        severity: Error,
        check: check,
    }
}

/// Every string `s` becomes by deleting up to two characters (a symmetric-delete index:
/// two ids within edit distance 2 share an entry).
fn deletions(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.to_lowercase().chars().collect();
    let mut out = vec![chars.iter().collect::<String>()];
    for i in 0..chars.len() {
        let one: Vec<char> = chars.iter().enumerate().filter(|(k, _)| *k != i).map(|(_, c)| *c).collect();
        for j in 0..one.len() {
            out.push(one.iter().enumerate().filter(|(k, _)| *k != j).map(|(_, c)| *c).collect());
        }
        out.push(one.into_iter().collect());
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Undeclared ids that are near misses of declared ones, with the closest declared id.
pub(crate) fn typos(ctx: &RuleContext<'_>) -> Vec<(NodeIndex, String)> {
    let declared_ids = &ctx.graph.source.declared;
    let undeclared: Vec<_> =
        ctx.graph.components().filter(|(_, c)| !c.container && !declared_ids.contains(c.id.as_str())).collect();
    if undeclared.is_empty() {
        return Vec::new();
    }
    let mut index: HashMap<String, Vec<&str>> = HashMap::new();
    for id in declared_ids {
        if id.chars().count() <= 24 {
            for d in deletions(id) {
                index.entry(d).or_default().push(id);
            }
        }
    }
    let mut out = Vec::new();
    for (n, c) in undeclared {
        if c.id.chars().count() > 24 {
            continue;
        }
        let mut candidates: Vec<&str> =
            deletions(&c.id).iter().filter_map(|d| index.get(d)).flatten().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        let best = candidates
            .into_iter()
            .map(|d| (strsim::damerau_levenshtein(&c.id.to_lowercase(), &d.to_lowercase()), d))
            // two edits in a short id make another word, not a typo (`BTP` is not `IDP`)
            .filter(|(dist, d)| *dist <= 2 && *dist < d.chars().count().max(2) && (*dist == 1 || d.chars().count() > 4))
            .min();
        if let Some((_, suggestion)) = best {
            out.push((n, suggestion.to_string()));
        }
    }
    out
}

/// GRF002
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (n, suggestion) in typos(ctx) {
        let c = ctx.c(n);
        let mut edges: Vec<_> = ctx.graph.incoming(n).chain(ctx.graph.outgoing(n)).map(|(e, _)| e).collect();
        edges.sort_by_key(|e| ctx.graph.connection(*e).span.start);
        let primary = edges.first().map_or(Handle::Node(n), |e| Handle::Edge(*e));
        out.push(Violation::new(
            primary,
            format!("edge to undeclared node `{}`", c.id),
            format!("`{}` is not declared anywhere", c.id),
            format!("did you mean `{suggestion}`?"),
        ));
    }
}
