//! The typed architecture graph: components (with a kind, attributes, a container and a
//! span) joined by connections (with a meaning), on a petgraph `StableDiGraph`.

use std::collections::BTreeMap;

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

use super::catalog::Kind;
use crate::source::Span;

/// How sure archc is about a component's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Classification {
    /// Chosen from the label, id, shape and context.
    Inferred { score: i32 },
    /// Set in the configuration (`nodes: {id: {kind: ...}}`).
    Configured,
    /// No kind fits well enough; the closest ones, best first.
    Unknown { candidates: Vec<(&'static str, i32)> },
    /// Two kinds fit about equally.
    Ambiguous { candidates: Vec<(&'static str, i32)> },
    /// Named nothing itself: it is what the box around it (`from`) says a box in it is.
    Context { from: String },
}

/// The platform a diagram draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    /// AWS, or nothing yet (an empty diagram).
    #[default]
    Aws,
    Azure,
    Gcp,
    /// Kubernetes objects and no cloud.
    Kubernetes,
    /// No platform at all: an application's boxes and arrows.
    None,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
            Cloud::Kubernetes => "kubernetes",
            Cloud::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    /// The label as plain text.
    pub label: String,
    /// Its first line without parentheses or icons, and the rest (what classification reads).
    pub title: String,
    pub details: String,
    /// Its kind comes from a vendor's own name (`RDS`, `Key Vault`), not a generic one.
    pub vendor: bool,
    /// Its label names its kind (not only words, the id, the shape or the position).
    pub named: bool,
    /// Its title is a plural ("Private Subnets", "Lambda Functions").
    pub plural: bool,
    /// Its title names several kinds ("CloudFront + WAF").
    pub names_several: bool,
    /// A group of boxes of this kind ("Security Groups" around security groups).
    pub group_of: Option<&'static Kind>,
    pub kind: Option<&'static Kind>,
    pub classification: Classification,
    pub attributes: BTreeMap<String, String>,
    /// A subgraph (region, VPC, subnet, ...).
    pub container: bool,
    pub parent: Option<NodeIndex>,
    /// Where the node is defined (its label), or first written.
    pub span: Span,
    /// FlowDB's shape, if any.
    pub shape: Option<String>,
    /// Never given a label or shape: the id only appears in edges or bare.
    pub implicit: bool,
    /// The application profile of a workload (`mattermost`).
    pub app: Option<String>,
    /// A part drawn as a box of its own (a target group, a task definition): the component
    /// of its kind it belongs to, which has taken over its other arrows.
    pub part_of: Option<NodeIndex>,
}

impl Component {
    pub fn kind_id(&self) -> Option<&'static str> {
        self.kind.map(|k| k.def.id.as_str())
    }

    pub fn category(&self) -> Option<&'static str> {
        self.kind.map(|k| k.def.category.as_str())
    }

    pub fn is(&self, kind: &str) -> bool {
        self.kind_id() == Some(kind)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// Arrow style: what the line looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    Solid,
    Dotted,
    Invisible,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Solid => "solid",
            Style::Dotted => "dotted",
            Style::Invisible => "invisible",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Connection {
    /// Mermaid's edge id (`L_user_alb_0`).
    pub edge_id: String,
    pub label: String,
    pub style: Style,
    /// What the arrow says (`connects`, `calls-api`, `egress-route`, ...).
    pub meaning: &'static str,
    /// What the backends make of it (`security-group-rule`, `iam-permission`, ...).
    pub becomes: &'static str,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    /// What the label narrows the arrow to (`targets/catalog/connections.yaml` `label_access`).
    pub access: Access,
    /// A port written in the label (`5432`, `TCP/5432`, `:6379`, `port 8080`).
    pub label_port: Option<u16>,
    /// `a --> b` as written.
    pub span: Span,
}

/// What an arrow's label says it does with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Neither or both said: reads and writes.
    #[default]
    ReadWrite,
    Read,
    Write,
}

impl Access {
    /// From the label's words.
    pub fn of_label(label: &str, words: &super::catalog::LabelAccess) -> Access {
        let lower = label.to_lowercase();
        let tokens: Vec<&str> =
            lower.split(|c: char| !(c.is_alphanumeric() || c == '-')).filter(|t| !t.is_empty()).collect();
        let says = |list: &[String]| tokens.iter().any(|t| list.iter().any(|w| w == t));
        match (says(&words.read), says(&words.write)) {
            (true, false) => Access::Read,
            (false, true) => Access::Write,
            _ => Access::ReadWrite,
        }
    }
}

/// A port written in an arrow's label: the whole label (`5432`), after `:` or `/` (`:6379`,
/// `TCP/5432`), or after a word naming a port or protocol (`port 8080`, `HTTPS 443`).
pub fn label_port(label: &str) -> Option<u16> {
    const WORDS: &[&str] =
        &["port", "tcp", "udp", "http", "https", "grpc", "tls", "postgres", "postgresql", "mysql", "redis", "smtp"];
    let lower = label.trim().to_lowercase();
    let parse = |t: &str| t.parse::<u16>().ok().filter(|p| *p >= 10);
    if let Some(p) = parse(&lower) {
        return Some(p);
    }
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let before = &lower[..start];
        let after = &lower[i..];
        // `10.0.1.0/24` is a range and `v1.2` a version, not ports
        let in_number = before.ends_with('.') || after.starts_with(|c: char| c == '.' || c.is_alphanumeric());
        let cidr = before.ends_with('/') && before[..before.len() - 1].ends_with(|c: char| c.is_ascii_digit());
        let glued = (before.ends_with(':') || before.ends_with('/')) && !cidr;
        let word =
            before.trim_end_matches([' ', ':', '/', '=']).rsplit(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
        if !in_number && (glued || WORDS.contains(&word)) {
            if let Some(p) = parse(&lower[start..i]) {
                return Some(p);
            }
        }
    }
    None
}

/// The architecture: components and connections.
#[derive(Debug, Clone, Default)]
pub struct ArchGraph {
    pub graph: StableDiGraph<Component, Connection>,
    pub by_id: FxHashMap<String, NodeIndex>,
    /// Nodes in diagram order (containers first, outer before inner, then boxes).
    pub order: Vec<NodeIndex>,
    /// The platform the diagram draws.
    pub cloud: Cloud,
    /// How the diagram was written (definitions, declarations, dropped lines, statements).
    pub source: super::SourceFacts,
}

impl ArchGraph {
    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.by_id.get(id).copied()
    }

    pub fn component(&self, n: NodeIndex) -> &Component {
        &self.graph[n]
    }

    pub fn connection(&self, e: EdgeIndex) -> &Connection {
        &self.graph[e]
    }

    pub fn endpoints(&self, e: EdgeIndex) -> (NodeIndex, NodeIndex) {
        self.graph.edge_endpoints(e).unwrap_or_else(|| unreachable!("edge {e:?} exists"))
    }

    /// Components in diagram order.
    pub fn components(&self) -> impl Iterator<Item = (NodeIndex, &Component)> {
        self.order.iter().map(move |&n| (n, &self.graph[n]))
    }

    /// Connections in diagram order.
    pub fn connections(&self) -> impl Iterator<Item = (EdgeIndex, NodeIndex, NodeIndex, &Connection)> {
        let mut edges: Vec<EdgeIndex> = self.graph.edge_indices().collect();
        edges.sort_by_key(|e| (self.graph[*e].span.start, e.index()));
        edges.into_iter().map(move |e| {
            let (a, b) = self.endpoints(e);
            (e, a, b, &self.graph[e])
        })
    }

    /// The arrows out of `n`, but those to a part drawn as a box of its own (its owner took
    /// over what it does; `connections` has every arrow).
    pub fn outgoing(&self, n: NodeIndex) -> impl Iterator<Item = (EdgeIndex, NodeIndex)> + '_ {
        self.graph
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| self.graph[e.target()].part_of.is_none())
            .map(|e| (e.id(), e.target()))
    }

    /// The arrows into `n`, but those from a part drawn as a box of its own.
    pub fn incoming(&self, n: NodeIndex) -> impl Iterator<Item = (EdgeIndex, NodeIndex)> + '_ {
        self.graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| self.graph[e.source()].part_of.is_none())
            .map(|e| (e.id(), e.source()))
    }

    /// Containers around `n`, innermost first.
    pub fn ancestors(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        std::iter::successors(self.graph[n].parent, move |&p| self.graph[p].parent)
    }

    /// The innermost container around `n` that places it (a group places nothing).
    pub fn placing_parent(&self, n: NodeIndex) -> Option<NodeIndex> {
        self.ancestors(n).find(|&a| self.graph[a].category() != Some("group"))
    }

    /// Whether the diagram draws AWS (the rules about AWS networks apply).
    pub fn draws_aws(&self) -> bool {
        self.cloud == Cloud::Aws
    }

    /// The innermost container around `n` of `kind`.
    pub fn enclosing(&self, n: NodeIndex, kind: &str) -> Option<NodeIndex> {
        self.ancestors(n).find(|&a| self.graph[a].is(kind))
    }

    /// Direct members of a container.
    pub fn children(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.order.iter().copied().filter(move |&c| self.graph[c].parent == Some(n))
    }

    /// The tier (`public`, `app`, `data`) of the subnet `n` sits in.
    pub fn tier(&self, n: NodeIndex) -> Option<&str> {
        let subnet = if self.graph[n].is("aws.subnet") { Some(n) } else { self.enclosing(n, "aws.subnet") }?;
        self.graph[subnet].attr("tier")
    }

    /// Inside an AWS region (or cloud) box.
    pub fn in_cloud(&self, n: NodeIndex) -> bool {
        self.ancestors(n).any(|a| self.graph[a].category() == Some("region"))
    }

    pub fn in_vpc(&self, n: NodeIndex) -> bool {
        self.enclosing(n, "aws.vpc").is_some()
    }

    /// The region the diagram draws (the first region box with a region code).
    pub fn region(&self) -> Option<&str> {
        self.components().find_map(|(_, c)| c.attr("region").filter(|_| c.is("aws.region")))
    }

    /// Components of `kind`.
    /// The components of a kind, in diagram order; a part drawn as a box of its own (a target
    /// group, a task definition) is its owner's, not one more of the kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = NodeIndex> + 'a {
        self.components().filter(move |(_, c)| c.is(kind) && c.part_of.is_none()).map(|(n, _)| n)
    }

    /// The components of any of `kinds`, in diagram order (parts left out, as in `of_kind`).
    pub fn of_kinds<'a>(&'a self, kinds: &'a [&str]) -> impl Iterator<Item = NodeIndex> + 'a {
        self.components()
            .filter(move |(_, c)| c.part_of.is_none() && c.kind_id().is_some_and(|k| kinds.contains(&k)))
            .map(|(n, _)| n)
    }

    /// The typed graph as JSON (`archc graph --format json`).
    pub fn to_json(&self, line_col: &dyn Fn(usize) -> (usize, usize)) -> Value {
        let nodes: Vec<Value> = self
            .components()
            .map(|(_, c)| {
                let (line, column) = line_col(c.span.start);
                let classification = match &c.classification {
                    Classification::Inferred { score } => json!({"by": "inferred", "score": score}),
                    Classification::Configured => json!({"by": "configuration"}),
                    Classification::Unknown { candidates } => json!({"by": "unknown", "candidates": candidates}),
                    Classification::Ambiguous { candidates } => json!({"by": "ambiguous", "candidates": candidates}),
                    Classification::Context { from } => json!({"by": "context", "from": from}),
                };
                json!({
                    "id": c.id,
                    "label": c.label,
                    "kind": c.kind_id(),
                    "kind_name": c.kind.map(|k| k.def.name.as_str()),
                    "category": c.category(),
                    "container": c.container,
                    "parent": c.parent.map(|p| self.graph[p].id.as_str()),
                    "attributes": c.attributes,
                    "app": c.app,
                    "classification": classification,
                    "line": line,
                    "column": column,
                })
            })
            .collect();
        let edges: Vec<Value> = self
            .connections()
            .map(|(_, a, b, c)| {
                let (line, column) = line_col(c.span.start);
                json!({
                    "id": c.edge_id,
                    "from": self.graph[a].id,
                    "to": self.graph[b].id,
                    "label": c.label,
                    "style": c.style.as_str(),
                    "meaning": c.meaning,
                    "becomes": c.becomes,
                    "protocol": c.protocol,
                    "port": c.port,
                    "line": line,
                    "column": column,
                })
            })
            .collect();
        json!({"cloud": self.cloud.as_str(), "region": self.region(), "nodes": nodes, "edges": edges})
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn ports_are_read_where_a_label_writes_them() {
        for (label, port) in [
            ("5432", Some(5432)),
            ("TCP/5432", Some(5432)),
            ("HTTPS 443", Some(443)),
            ("port 8080", Some(8080)),
            ("redis :6379", Some(6379)),
            ("SQL (5432)", None),
            ("1 writer + 2 readers", None),
            ("v1.2", None),
            ("10.0.1.0/24", None),
            ("reads", None),
        ] {
            assert_eq!(label_port(label), port, "{label}");
        }
    }

    #[test]
    fn access_words_narrow_an_arrow() {
        let words = &crate::model::catalog().label_access;
        assert_eq!(Access::of_label("reads", words), Access::Read);
        assert_eq!(Access::of_label("Read-only", words), Access::Read);
        assert_eq!(Access::of_label("uploads files", words), Access::Write);
        assert_eq!(Access::of_label("read / write", words), Access::ReadWrite);
        assert_eq!(Access::of_label("", words), Access::ReadWrite);
        assert_eq!(Access::of_label("orders", words), Access::ReadWrite);
    }
}
