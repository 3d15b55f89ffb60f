//! The graph diff: which boxes and arrows of the typed graph were added, removed or changed.
//! Nodes are matched by diagram id; arrows by their ends (and, for several arrows between the
//! same two boxes, by what they mean). A change is *cosmetic* when only what the drawing shows
//! changes (a label that keeps the kind and attributes, a shape, an arrow's label or line that
//! keeps its meaning): those never change the infrastructure.

use std::collections::BTreeMap;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde::Serialize;
use serde_json::{json, Value};

use crate::model::ArchGraph;

/// How an element changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    /// What it means changed (kind, container, attributes; an arrow's meaning).
    Changed,
    /// Only what the drawing shows changed.
    Cosmetic,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Cosmetic => "cosmetic",
        }
    }
}

/// A box as the review sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    pub id: String,
    pub label: String,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub container: bool,
    pub parent: Option<String>,
    /// The tier of the subnet it sits in (`public`, `app`, `data`).
    pub tier: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub app: Option<String>,
    pub shape: Option<String>,
}

/// An arrow as the review sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeView {
    pub from: String,
    pub to: String,
    pub label: String,
    pub style: String,
    pub meaning: String,
    pub becomes: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
}

/// One field that differs: its name, the old and the new value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeChange {
    pub id: String,
    pub change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<NodeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<NodeView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

impl NodeChange {
    /// The view of the box after the change (before it, for a removed box).
    pub fn view(&self) -> Option<&NodeView> {
        self.new.as_ref().or(self.old.as_ref())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeChange {
    pub from: String,
    pub to: String,
    /// Which arrow between `from` and `to` (0 unless there are several).
    pub index: usize,
    pub change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<EdgeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<EdgeView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

impl EdgeChange {
    pub fn view(&self) -> Option<&EdgeView> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// `a --> b` (with `#2` for the second arrow between the same boxes).
    pub fn name(&self) -> String {
        let arrow = match self.view().map(|v| v.style.as_str()) {
            Some("dotted") => "-.->",
            Some("invisible") => "~~~",
            _ => "-->",
        };
        if self.index == 0 {
            format!("{} {arrow} {}", self.from, self.to)
        } else {
            format!("{} {arrow} {} #{}", self.from, self.to, self.index + 1)
        }
    }
}

/// Counts of one element type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub cosmetic: usize,
    pub unchanged: usize,
}

impl Counts {
    fn count(&mut self, change: Change) {
        match change {
            Change::Added => self.added += 1,
            Change::Removed => self.removed += 1,
            Change::Changed => self.changed += 1,
            Change::Cosmetic => self.cosmetic += 1,
        }
    }

    /// Added, changed or removed (cosmetic edits do not count).
    pub fn semantic(&self) -> usize {
        self.added + self.changed + self.removed
    }
}

/// The graph diff. `available` is false when a side's diagram has no graph (it does not parse):
/// then nothing is listed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GraphDiff {
    pub available: bool,
    pub nodes: Vec<NodeChange>,
    pub edges: Vec<EdgeChange>,
    pub node_counts: Counts,
    pub edge_counts: Counts,
}

impl GraphDiff {
    /// Something the graph means changed.
    pub fn is_semantic(&self) -> bool {
        self.node_counts.semantic() + self.edge_counts.semantic() > 0
    }

    pub fn node(&self, id: &str) -> Option<&NodeChange> {
        self.nodes.binary_search_by(|n| n.id.as_str().cmp(id)).ok().map(|i| &self.nodes[i])
    }
}

/// A box as the review sees it.
fn view(graph: &ArchGraph, n: NodeIndex) -> NodeView {
    let c = graph.component(n);
    NodeView {
        id: c.id.clone(),
        label: c.label.clone(),
        kind: c.kind_id().map(str::to_string),
        category: c.category().map(str::to_string),
        container: c.container,
        parent: c.parent.map(|p| graph.component(p).id.clone()),
        tier: graph.tier(n).map(str::to_string),
        attributes: c.attributes.clone(),
        app: c.app.clone(),
        shape: c.shape.clone(),
    }
}

type Meaning<'a> =
    (Option<&'static str>, bool, Option<&'a str>, Option<&'a str>, &'a BTreeMap<String, String>, Option<&'a str>);

/// What a box means, borrowed (compared before anything is copied).
fn meaning(graph: &ArchGraph, n: NodeIndex) -> Meaning<'_> {
    let c = graph.component(n);
    (
        c.kind_id(),
        c.container,
        c.parent.map(|p| graph.component(p).id.as_str()),
        graph.tier(n),
        &c.attributes,
        c.app.as_deref(),
    )
}

/// How a box looks.
fn looks(graph: &ArchGraph, n: NodeIndex) -> (&str, Option<&str>) {
    let c = graph.component(n);
    (c.label.as_str(), c.shape.as_deref())
}

/// The boxes of a graph, by id.
pub fn nodes(graph: &ArchGraph) -> BTreeMap<String, NodeView> {
    graph.components().map(|(n, c)| (c.id.clone(), view(graph, n))).collect()
}

fn edge_view(graph: &ArchGraph, e: EdgeIndex) -> EdgeView {
    let (a, b) = graph.endpoints(e);
    let c = graph.connection(e);
    EdgeView {
        from: graph.component(a).id.clone(),
        to: graph.component(b).id.clone(),
        label: c.label.clone(),
        style: c.style.as_str().to_string(),
        meaning: c.meaning.to_string(),
        becomes: c.becomes.to_string(),
        protocol: c.protocol.clone(),
        port: c.port,
    }
}

/// What an arrow means (its line style is part of the meaning the catalog derives).
fn edge_meaning(graph: &ArchGraph, e: EdgeIndex) -> (&str, &str, Option<&str>, Option<u16>) {
    let c = graph.connection(e);
    (c.meaning, c.becomes, c.protocol.as_deref(), c.port)
}

fn edge_looks(graph: &ArchGraph, e: EdgeIndex) -> (&str, &str) {
    let c = graph.connection(e);
    (c.label.as_str(), c.style.as_str())
}

/// The arrows of a graph, grouped by (from, to), in diagram order.
fn edge_groups(graph: &ArchGraph) -> BTreeMap<(String, String), Vec<EdgeIndex>> {
    let mut out: BTreeMap<(String, String), Vec<EdgeIndex>> = BTreeMap::new();
    for (e, a, b, _) in graph.connections() {
        out.entry((graph.component(a).id.clone(), graph.component(b).id.clone())).or_default().push(e);
    }
    out
}

/// The arrows of a graph, grouped by (from, to) in diagram order.
pub fn edges(graph: &ArchGraph) -> BTreeMap<(String, String), Vec<EdgeView>> {
    edge_groups(graph).into_iter().map(|(k, es)| (k, es.into_iter().map(|e| edge_view(graph, e)).collect())).collect()
}

fn field(out: &mut Vec<FieldChange>, name: &str, old: Value, new: Value) {
    if old != new {
        out.push(FieldChange { field: name.to_string(), old, new });
    }
}

/// The fields of a box that differ: (semantic, cosmetic).
fn node_fields(a: &NodeView, b: &NodeView) -> (Vec<FieldChange>, Vec<FieldChange>) {
    let mut semantic = Vec::new();
    field(&mut semantic, "kind", json!(a.kind), json!(b.kind));
    field(&mut semantic, "container", json!(a.container), json!(b.container));
    field(&mut semantic, "parent", json!(a.parent), json!(b.parent));
    field(&mut semantic, "tier", json!(a.tier), json!(b.tier));
    let keys: std::collections::BTreeSet<&String> = a.attributes.keys().chain(b.attributes.keys()).collect();
    for k in keys {
        field(&mut semantic, &format!("attributes.{k}"), json!(a.attributes.get(k)), json!(b.attributes.get(k)));
    }
    field(&mut semantic, "app", json!(a.app), json!(b.app));
    let mut cosmetic = Vec::new();
    field(&mut cosmetic, "label", json!(a.label), json!(b.label));
    field(&mut cosmetic, "shape", json!(a.shape), json!(b.shape));
    (semantic, cosmetic)
}

fn edge_fields(a: &EdgeView, b: &EdgeView) -> (Vec<FieldChange>, Vec<FieldChange>) {
    let mut semantic = Vec::new();
    field(&mut semantic, "meaning", json!(a.meaning), json!(b.meaning));
    field(&mut semantic, "becomes", json!(a.becomes), json!(b.becomes));
    field(&mut semantic, "protocol", json!(a.protocol), json!(b.protocol));
    field(&mut semantic, "port", json!(a.port), json!(b.port));
    let mut cosmetic = Vec::new();
    field(&mut cosmetic, "label", json!(a.label), json!(b.label));
    field(&mut cosmetic, "style", json!(a.style), json!(b.style));
    (semantic, cosmetic)
}

fn classify(semantic: Vec<FieldChange>, cosmetic: Vec<FieldChange>) -> Option<(Change, Vec<FieldChange>)> {
    let change = if !semantic.is_empty() {
        Change::Changed
    } else if !cosmetic.is_empty() {
        Change::Cosmetic
    } else {
        return None;
    };
    let mut fields = semantic;
    fields.extend(cosmetic);
    Some((change, fields))
}

/// Compare two graphs (`None`: the side has no graph; the diff is then unavailable). Boxes
/// and arrows are compared in place; only what differs is copied into the diff.
pub fn diff(old: Option<&ArchGraph>, new: Option<&ArchGraph>) -> GraphDiff {
    let (Some(old), Some(new)) = (old, new) else { return GraphDiff::default() };
    let mut out = GraphDiff { available: true, ..GraphDiff::default() };

    for (n, c) in new.components() {
        let Some(m) = old.node(&c.id) else {
            out.nodes.push(NodeChange {
                id: c.id.clone(),
                change: Change::Added,
                old: None,
                new: Some(view(new, n)),
                fields: Vec::new(),
            });
            continue;
        };
        if meaning(old, m) == meaning(new, n) && looks(old, m) == looks(new, n) {
            out.node_counts.unchanged += 1;
            continue;
        }
        let (a, b) = (view(old, m), view(new, n));
        let (semantic, cosmetic) = node_fields(&a, &b);
        match classify(semantic, cosmetic) {
            Some((change, fields)) => {
                out.nodes.push(NodeChange { id: c.id.clone(), change, old: Some(a), new: Some(b), fields })
            }
            None => out.node_counts.unchanged += 1,
        }
    }
    for (m, c) in old.components() {
        if new.node(&c.id).is_none() {
            out.nodes.push(NodeChange {
                id: c.id.clone(),
                change: Change::Removed,
                old: Some(view(old, m)),
                new: None,
                fields: Vec::new(),
            });
        }
    }
    out.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    for n in &out.nodes {
        out.node_counts.count(n.change);
    }

    let mut old_groups = edge_groups(old);
    for ((from, to), bs) in edge_groups(new) {
        let mut as_ = old_groups.remove(&(from.clone(), to.clone())).unwrap_or_default();
        // each new arrow's partner: an old arrow that means the same, else the next unpaired one;
        // new arrows keep their position as index, removed ones come after them
        let mut partner: Vec<Option<EdgeIndex>> = Vec::with_capacity(bs.len());
        for &b in &bs {
            let m = edge_meaning(new, b);
            partner.push(as_.iter().position(|&a| edge_meaning(old, a) == m).map(|i| as_.remove(i)));
        }
        let mut rest = as_.into_iter();
        for p in partner.iter_mut().filter(|p| p.is_none()) {
            *p = rest.next();
        }
        let removed: Vec<EdgeIndex> = rest.collect();
        let pairs =
            bs.into_iter().zip(partner).map(|(b, a)| (a, Some(b))).chain(removed.into_iter().map(|a| (Some(a), None)));
        for (index, pair) in pairs.enumerate() {
            let change = match pair {
                (None, Some(b)) => EdgeChange {
                    from: from.clone(),
                    to: to.clone(),
                    index,
                    change: Change::Added,
                    old: None,
                    new: Some(edge_view(new, b)),
                    fields: Vec::new(),
                },
                (Some(a), None) => EdgeChange {
                    from: from.clone(),
                    to: to.clone(),
                    index,
                    change: Change::Removed,
                    old: Some(edge_view(old, a)),
                    new: None,
                    fields: Vec::new(),
                },
                (Some(a), Some(b)) => {
                    if edge_meaning(old, a) == edge_meaning(new, b) && edge_looks(old, a) == edge_looks(new, b) {
                        out.edge_counts.unchanged += 1;
                        continue;
                    }
                    let (va, vb) = (edge_view(old, a), edge_view(new, b));
                    let (semantic, cosmetic) = edge_fields(&va, &vb);
                    let Some((change, fields)) = classify(semantic, cosmetic) else {
                        out.edge_counts.unchanged += 1;
                        continue;
                    };
                    EdgeChange {
                        from: from.clone(),
                        to: to.clone(),
                        index,
                        change,
                        old: Some(va),
                        new: Some(vb),
                        fields,
                    }
                }
                (None, None) => continue,
            };
            out.edges.push(change);
        }
    }
    for ((from, to), as_) in old_groups {
        for (index, a) in as_.into_iter().enumerate() {
            out.edges.push(EdgeChange {
                from: from.clone(),
                to: to.clone(),
                index,
                change: Change::Removed,
                old: Some(edge_view(old, a)),
                new: None,
                fields: Vec::new(),
            });
        }
    }
    out.edges.sort_by(|a, b| (&a.from, &a.to, a.index).cmp(&(&b.from, &b.to, b.index)));
    for e in &out.edges {
        out.edge_counts.count(e.change);
    }
    out
}
