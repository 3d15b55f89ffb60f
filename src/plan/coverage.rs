//! What became of every node and arrow of the diagram: nothing drawn is silently dropped.
//!
//! After planning, each node of the typed graph has resources or Kubernetes objects, shapes
//! the output without a resource of its own (a region box sets the region), is something
//! there is nothing to build for by its kind (a person, a box around the cloud), or gets a
//! located finding saying that archc does not build it (`PLN003`). Each arrow likewise became
//! something (a security-group rule, an IAM statement, a route, an environment variable, ...)
//! or gets a finding (`PLN004`). This is derived from the plan itself, never from a list kept
//! by hand.

use std::collections::BTreeMap;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::Plan;
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::{ArchGraph, Style};

/// What a node became.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeStatus {
    /// Resources or objects: `stack/LogicalId (Type)`, `kubernetes/Kind/name`, files.
    Built(Vec<String>),
    /// Shapes the output without a resource of its own (how).
    Shapes(String),
    /// Its kind has nothing to build (why).
    NothingToBuild(String),
    /// Unclassified: the rules already refuse it.
    Unknown,
    /// archc recognises it and does not build it: a finding says so.
    NotBuilt,
}

/// What an arrow became.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeStatus {
    Built(Vec<String>),
    /// Nothing to build (why): layout, or between boxes that have nothing to build.
    NothingToBuild(String),
    /// It touches a node that is not built (or not classified): that node's finding covers it.
    CoveredBy(String),
    NotBuilt,
}

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub nodes: Vec<(NodeIndex, NodeStatus)>,
    pub edges: Vec<(EdgeIndex, EdgeStatus)>,
}

impl Coverage {
    pub(super) fn of(
        graph: &ArchGraph,
        plan: &Plan,
        built_edges: &BTreeMap<EdgeIndex, Vec<String>>,
        used_nodes: &BTreeMap<NodeIndex, String>,
    ) -> Coverage {
        let mut built: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for stack in &plan.stacks {
            for (logical, r) in &stack.resources {
                if let Some(node) = &r.node {
                    built.entry(node.as_str()).or_default().push(format!("{}/{logical} ({})", stack.id.as_str(), r.ty));
                }
            }
        }
        for o in &plan.kubernetes.objects {
            if let Some(node) = &o.node {
                built.entry(node.as_str()).or_default().push(format!("kubernetes/{}/{}", o.kind, o.name));
            }
        }
        for wf in plan.workflow.iter().chain(&plan.review_workflow) {
            if let Some(node) = &wf.node {
                built.entry(node.as_str()).or_default().push(wf.file.clone());
            }
        }
        let nodes: Vec<(NodeIndex, NodeStatus)> = graph
            .components()
            .map(|(n, c)| {
                let status = match (c.kind, built.get(c.id.as_str()), used_nodes.get(&n)) {
                    (None, _, _) => NodeStatus::Unknown,
                    (Some(_), Some(list), _) => NodeStatus::Built(list.clone()),
                    (Some(_), None, Some(how)) => NodeStatus::Shapes(how.clone()),
                    (Some(k), None, None) => match &k.def.nothing_to_build {
                        Some(why) => NodeStatus::NothingToBuild(why.clone()),
                        None => NodeStatus::NotBuilt,
                    },
                };
                (n, status)
            })
            .collect();
        let index: std::collections::HashMap<NodeIndex, usize> =
            nodes.iter().enumerate().map(|(i, (n, _))| (*n, i)).collect();
        let status_of = |n: NodeIndex| index.get(&n).map(|&i| &nodes[i].1);
        let edges = graph
            .connections()
            .map(|(e, a, b, c)| {
                let (sa, sb) = (status_of(a), status_of(b));
                let uncovered = [(a, sa), (b, sb)]
                    .into_iter()
                    .find(|(_, s)| matches!(s, Some(NodeStatus::NotBuilt | NodeStatus::Unknown)))
                    .map(|(n, _)| graph.component(n).id.clone());
                let nothing = |s: Option<&NodeStatus>| matches!(s, Some(NodeStatus::NothingToBuild(_)));
                let status = if c.style == Style::Invisible {
                    EdgeStatus::NothingToBuild("an invisible link: layout only".into())
                } else if let Some(list) = built_edges.get(&e) {
                    EdgeStatus::Built(list.clone())
                } else if let Some(node) = uncovered {
                    EdgeStatus::CoveredBy(node)
                } else if nothing(sa) && nothing(sb) {
                    EdgeStatus::NothingToBuild("between boxes that have nothing to build".into())
                } else {
                    EdgeStatus::NotBuilt
                };
                (e, status)
            })
            .collect();
        Coverage { nodes, edges }
    }

    /// The findings: a node or arrow that is not built, at its line (unless an earlier
    /// finding of the planner, in `reported`, already says so there).
    pub(super) fn findings(&self, graph: &ArchGraph, reported: &[Diagnostic]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let already = |span| reported.iter().any(|d| d.primary_span() == Some(span));
        for (n, status) in &self.nodes {
            if *status != NodeStatus::NotBuilt {
                continue;
            }
            let c = graph.component(*n);
            if already(c.span) {
                continue;
            }
            let Some(kind) = c.kind else { continue };
            let help = kind.def.unbuilt_help.clone().unwrap_or_else(|| {
                "create it outside archc (the box stays as documentation), or remove it; `--ignore PLN003` accepts the gap".into()
            });
            let mut d = Diagnostic::new(
                codes::PLAN_UNSUPPORTED,
                Severity::Warning,
                format!("archc does not build {} `{}`: nothing in the output creates it", kind.def.name, c.id),
            )
            .with_primary(c.span, format!("{}: not built", kind.def.name))
            .with_help(help);
            for (e, other) in graph.outgoing(*n).chain(graph.incoming(*n)).take(3) {
                let _ = other;
                d = d.with_label(graph.connection(e).span, "this arrow becomes nothing either");
            }
            out.push(d);
        }
        for (e, status) in &self.edges {
            if *status != EdgeStatus::NotBuilt {
                continue;
            }
            let (a, b) = graph.endpoints(*e);
            let conn = graph.connection(*e);
            if already(conn.span) {
                continue;
            }
            let arrow = format!("{} {} {}", graph.component(a).id, arrow_text(conn.style), graph.component(b).id);
            let meaning = if conn.meaning == "unspecified" {
                "archc knows no meaning for an arrow between these kinds".to_string()
            } else {
                format!("it means `{}`, which nothing in the output expresses", conn.meaning)
            };
            out.push(
                Diagnostic::new(
                    codes::PLAN_ARROW_NOT_BUILT,
                    Severity::Warning,
                    format!("the arrow `{arrow}` becomes nothing: {meaning}"),
                )
                .with_primary(conn.span, "not built")
                .with_help(
                    "archc builds arrows into security-group rules, IAM permissions, routes and configuration; redraw the arrow between the boxes that talk, or keep it as documentation (`--ignore PLN004`)",
                ),
            );
        }
        out
    }

    pub fn node(&self, n: NodeIndex) -> Option<&NodeStatus> {
        self.nodes.iter().find(|(x, _)| *x == n).map(|(_, s)| s)
    }

    /// (built, shapes or nothing to build, reported) node counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for (_, s) in &self.nodes {
            match s {
                NodeStatus::Built(_) => c.0 += 1,
                NodeStatus::Shapes(_) | NodeStatus::NothingToBuild(_) => c.1 += 1,
                NodeStatus::NotBuilt | NodeStatus::Unknown => c.2 += 1,
            }
        }
        c
    }
}

fn arrow_text(style: Style) -> &'static str {
    match style {
        Style::Solid => "-->",
        Style::Dotted => "-.->",
        Style::Invisible => "~~~",
    }
}
