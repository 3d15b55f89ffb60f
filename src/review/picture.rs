//! The picture: a Mermaid flowchart of the new architecture, built from the typed graphs (never
//! by editing the source text), with added elements highlighted, removed ones dashed and changed
//! ones marked. GitHub renders it in the comment. A large diagram is drawn focused (only what
//! changed, with the containers around it), and left out when even that is too large for
//! GitHub's Mermaid (50,000 characters, 500 edges).

use std::collections::BTreeMap;

use serde::Serialize;

use super::graph::{self, Change, GraphDiff};
use crate::model::ArchGraph;

/// Largest picture (characters of Mermaid source) and edge count drawn.
pub const MAX_TEXT: usize = 30_000;
pub const MAX_EDGES: usize = 400;
/// Above this many boxes the picture shows only what changed.
const FULL_NODES: usize = 150;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The whole new architecture.
    Full,
    /// Only what changed, with the containers around it.
    Focused,
    /// Nothing changed in the graph.
    Unchanged,
    /// Too large, or a side has no graph.
    Omitted,
}

#[derive(Debug, Clone, Serialize)]
pub struct Picture {
    pub mode: Mode,
    /// The Mermaid source (no fence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mermaid: Option<String>,
    /// Boxes and arrows left out of a focused picture.
    pub omitted_nodes: usize,
    pub omitted_edges: usize,
}

struct PNode {
    label: String,
    container: bool,
    parent: Option<String>,
    shape: Option<String>,
    status: Option<Change>,
}

struct PEdge {
    from: String,
    to: String,
    label: String,
    dotted: bool,
    status: Option<Change>,
}

/// Mermaid text for a label: quoted, with `#`, `"` and backticks as entity codes.
fn label(text: &str) -> String {
    let t = text.replace('#', "#35;").replace('"', "#quot;").replace('`', "#96;").replace(['\n', '\r'], " ");
    format!("\"{t}\"")
}

fn marked(text: &str, status: Option<Change>) -> String {
    match status {
        Some(Change::Added) => format!("+ {text}"),
        Some(Change::Removed) => format!("− {text}"),
        Some(Change::Changed) => format!("~ {text}"),
        _ => text.to_string(),
    }
}

fn shape(node: &PNode, text: &str) -> String {
    let l = label(text);
    match node.shape.as_deref() {
        Some("cylinder") => format!("[({l})]"),
        Some("circle") => format!("(({l}))"),
        Some("round") => format!("({l})"),
        Some("stadium") => format!("([{l}])"),
        Some("subroutine") => format!("[[{l}]]"),
        _ => format!("[{l}]"),
    }
}

fn pnode(graph: &ArchGraph, id: &str, status: Option<Change>) -> Option<PNode> {
    let c = graph.component(graph.node(id)?);
    Some(PNode {
        label: c.label.clone(),
        container: c.container,
        parent: c.parent.map(|p| graph.component(p).id.clone()),
        shape: c.shape.clone(),
        status,
    })
}

/// Draw the picture.
pub fn draw(old: Option<&ArchGraph>, new: Option<&ArchGraph>, diff: &GraphDiff) -> Picture {
    let omitted = Picture { mode: Mode::Omitted, mermaid: None, omitted_nodes: 0, omitted_edges: 0 };
    let (Some(old), Some(new)) = (old, new) else { return omitted };
    if !diff.available {
        return omitted;
    }
    if !diff.is_semantic() {
        return Picture { mode: Mode::Unchanged, ..omitted };
    }
    let status: BTreeMap<&str, Change> =
        diff.nodes.iter().filter(|n| n.change != Change::Cosmetic).map(|n| (n.id.as_str(), n.change)).collect();
    let total_nodes = new.order.len() + diff.node_counts.removed;
    let total_edges = new.graph.edge_count() + diff.edge_counts.removed;

    if total_nodes <= FULL_NODES {
        // every box of the new graph, and the removed ones
        let mut nodes: BTreeMap<String, PNode> = new
            .components()
            .filter_map(|(_, c)| Some((c.id.clone(), pnode(new, &c.id, status.get(c.id.as_str()).copied())?)))
            .collect();
        for n in diff.nodes.iter().filter(|n| n.change == Change::Removed) {
            if let Some(v) = &n.old {
                let node = PNode {
                    label: v.label.clone(),
                    container: v.container,
                    parent: v.parent.clone(),
                    shape: v.shape.clone(),
                    status: Some(Change::Removed),
                };
                nodes.insert(n.id.clone(), node);
            }
        }
        detach_orphans(&mut nodes);
        // every arrow of the new graph, and the removed ones
        let edge_status: BTreeMap<(&str, &str, usize), Change> =
            diff.edges.iter().map(|e| ((e.from.as_str(), e.to.as_str(), e.index), e.change)).collect();
        let mut edges = Vec::new();
        for ((from, to), views) in graph::edges(new) {
            for (i, v) in views.into_iter().enumerate() {
                let s = edge_status.get(&(from.as_str(), to.as_str(), i)).copied().filter(|c| *c != Change::Cosmetic);
                edges.push(PEdge {
                    from: from.clone(),
                    to: to.clone(),
                    label: v.label,
                    dotted: v.style == "dotted",
                    status: s,
                });
            }
        }
        edges.extend(removed_edges(diff));
        edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        let text = render(&nodes, &edges);
        if text.len() <= MAX_TEXT && edges.len() <= MAX_EDGES {
            return Picture { mode: Mode::Full, mermaid: Some(text), omitted_nodes: 0, omitted_edges: 0 };
        }
    }

    // focused: what changed, the ends of changed arrows, and the containers around them
    let mut edges: Vec<PEdge> = diff
        .edges
        .iter()
        .filter(|e| e.change != Change::Cosmetic)
        .filter_map(|e| {
            let v = e.view()?;
            let dotted = e.change == Change::Removed || v.style == "dotted";
            Some(PEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                label: v.label.clone(),
                dotted,
                status: Some(e.change),
            })
        })
        .collect();
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    if edges.len() > MAX_EDGES {
        return Picture { mode: Mode::Omitted, mermaid: None, omitted_nodes: total_nodes, omitted_edges: total_edges };
    }
    let mut wanted: Vec<String> = status.keys().map(|k| k.to_string()).collect();
    for e in &edges {
        wanted.push(e.from.clone());
        wanted.push(e.to.clone());
    }
    let mut nodes: BTreeMap<String, PNode> = BTreeMap::new();
    while let Some(id) = wanted.pop() {
        if nodes.contains_key(&id) {
            continue;
        }
        let s = status.get(id.as_str()).copied();
        let node = if s == Some(Change::Removed) {
            pnode(old, &id, s)
        } else {
            pnode(new, &id, s).or_else(|| pnode(old, &id, s))
        };
        let Some(node) = node else { continue };
        if let Some(p) = &node.parent {
            wanted.push(p.clone());
        }
        nodes.insert(id, node);
    }
    detach_orphans(&mut nodes);
    let text = render(&nodes, &edges);
    if text.len() > MAX_TEXT {
        return Picture { mode: Mode::Omitted, mermaid: None, omitted_nodes: total_nodes, omitted_edges: total_edges };
    }
    Picture {
        mode: Mode::Focused,
        mermaid: Some(text),
        omitted_nodes: total_nodes.saturating_sub(nodes.len()),
        omitted_edges: total_edges.saturating_sub(edges.len()),
    }
}

/// Boxes whose container is not drawn are drawn at the top level.
fn detach_orphans(nodes: &mut BTreeMap<String, PNode>) {
    let orphans: Vec<String> = nodes
        .iter()
        .filter(|(_, n)| n.parent.as_ref().is_some_and(|p| !nodes.contains_key(p)))
        .map(|(k, _)| k.clone())
        .collect();
    for id in orphans {
        if let Some(n) = nodes.get_mut(&id) {
            n.parent = None;
        }
    }
}

fn removed_edges(diff: &GraphDiff) -> impl Iterator<Item = PEdge> + '_ {
    diff.edges.iter().filter(|e| e.change == Change::Removed).filter_map(|e| {
        let v = e.old.as_ref()?;
        Some(PEdge {
            from: e.from.clone(),
            to: e.to.clone(),
            label: v.label.clone(),
            dotted: true,
            status: Some(Change::Removed),
        })
    })
}

fn render(nodes: &BTreeMap<String, PNode>, edges: &[PEdge]) -> String {
    let ids: BTreeMap<&str, String> = nodes.keys().enumerate().map(|(i, k)| (k.as_str(), format!("n{i}"))).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for (id, n) in nodes {
        children.entry(n.parent.as_deref()).or_default().push(id.as_str());
    }
    let mut out = String::from("flowchart TB\n");
    out.push_str("  classDef added fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#0f5323\n");
    out.push_str(
        "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:6 4,color:#82071e\n",
    );
    out.push_str("  classDef changed fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#4d2d00\n");
    // containers as subgraphs, depth first (a container without members is a box)
    let mut stack: Vec<(&str, usize, bool)> =
        children.get(&None).into_iter().flatten().rev().map(|id| (*id, 1, false)).collect();
    while let Some((id, depth, closing)) = stack.pop() {
        let indent = "  ".repeat(depth);
        if closing {
            out.push_str(&format!("{indent}end\n"));
            continue;
        }
        let Some(n) = nodes.get(id) else { continue };
        let text = marked(if n.label.is_empty() { id } else { &n.label }, n.status);
        let members = children.get(&Some(id));
        if n.container && members.is_some() {
            out.push_str(&format!("{indent}subgraph {}[{}]\n", ids[id], label(&text)));
            stack.push((id, depth, true));
            for m in members.into_iter().flatten().rev() {
                stack.push((m, depth + 1, false));
            }
        } else {
            out.push_str(&format!("{indent}{}{}\n", ids[id], shape(n, &text)));
        }
    }
    let mut styles = Vec::new();
    let mut i = 0;
    for e in edges {
        let (Some(a), Some(b)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) else { continue };
        let arrow = match e.status {
            Some(Change::Added) => "==>",
            Some(Change::Removed) => "-.->",
            _ if e.dotted => "-.->",
            _ => "-->",
        };
        let text = match e.status {
            Some(Change::Changed) => marked(if e.label.is_empty() { "changed" } else { &e.label }, e.status),
            Some(Change::Added | Change::Removed) if !e.label.is_empty() => marked(&e.label, e.status),
            _ => e.label.clone(),
        };
        if text.is_empty() {
            out.push_str(&format!("  {a} {arrow} {b}\n"));
        } else {
            out.push_str(&format!("  {a} {arrow}|{}| {b}\n", label(&text)));
        }
        match e.status {
            Some(Change::Added) => styles.push(format!("  linkStyle {i} stroke:#1a7f37,stroke-width:3px\n")),
            Some(Change::Removed) => {
                styles.push(format!("  linkStyle {i} stroke:#cf222e,stroke-width:2px,stroke-dasharray:6 4\n"))
            }
            Some(Change::Changed) => styles.push(format!("  linkStyle {i} stroke:#9a6700,stroke-width:3px\n")),
            _ => {}
        }
        i += 1;
    }
    for s in styles {
        out.push_str(&s);
    }
    for class in [Change::Added, Change::Removed, Change::Changed] {
        let members: Vec<&str> =
            nodes.iter().filter(|(_, n)| n.status == Some(class)).map(|(id, _)| ids[id.as_str()].as_str()).collect();
        for chunk in members.chunks(50) {
            out.push_str(&format!("  class {} {}\n", chunk.join(","), class.as_str()));
        }
    }
    out
}
