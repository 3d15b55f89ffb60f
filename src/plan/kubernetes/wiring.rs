//! What the diagram draws around the workload: who reaches it, what it reaches, and through
//! which boxes. Everything the Kubernetes backend emits is derived from this.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::model::{ArchGraph, Style};

/// An arrow from the workload to a database or cache.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    pub(crate) node: NodeIndex,
    pub(crate) edge: EdgeIndex,
    pub(crate) port: u16,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Wiring {
    /// `k8s.service` boxes that select the workload.
    pub(crate) service: Option<NodeIndex>,
    /// Load balancers whose traffic reaches the workload (directly or through the Service).
    pub(crate) load_balancers: Vec<NodeIndex>,
    /// The `k8s.ingress` box, if drawn.
    pub(crate) ingress: Option<NodeIndex>,
    /// The `k8s.lb-controller` box, if drawn.
    pub(crate) controller: Option<NodeIndex>,
    pub(crate) databases: Vec<Dependency>,
    pub(crate) caches: Vec<Dependency>,
    /// S3 buckets the workload calls (the first is the file store).
    pub(crate) buckets: Vec<NodeIndex>,
    /// Every AWS API the workload calls (S3, Secrets Manager, ...).
    pub(crate) apis: Vec<NodeIndex>,
    /// The EFS file system reaching the workload (an arrow either way, or through a mount target).
    pub(crate) efs: Option<NodeIndex>,
    /// Whether the diagram draws VPC endpoints (AWS APIs then also answer inside the VPC).
    pub(crate) vpc_endpoints: bool,
}

impl Wiring {
    pub(crate) fn of(graph: &ArchGraph, workload: NodeIndex) -> Wiring {
        let solid = |e: EdgeIndex| graph.connection(e).style == Style::Solid;
        let mut w = Wiring { vpc_endpoints: graph.of_kind("aws.vpc-endpoint").next().is_some(), ..Wiring::default() };
        // into the workload
        for (e, from) in sorted(graph, graph.incoming(workload).collect()) {
            let c = graph.component(from);
            let conn = graph.connection(e);
            if !solid(e) {
                continue;
            }
            match c.kind_id() {
                Some("k8s.service") if w.service.is_none() => w.service = Some(from),
                Some("aws.efs-mount-target") if conn.meaning == "mounts" => {
                    w.efs = w.efs.or_else(|| file_system_of(graph, from));
                }
                Some("aws.efs") => w.efs = w.efs.or(Some(from)),
                _ if c.category() == Some("load-balancer") && conn.meaning == "traffic" => {
                    push_unique(&mut w.load_balancers, from);
                }
                _ => {}
            }
        }
        if let Some(svc) = w.service {
            for (e, from) in sorted(graph, graph.incoming(svc).collect()) {
                let c = graph.component(from);
                if solid(e) && c.category() == Some("load-balancer") && graph.connection(e).meaning == "traffic" {
                    push_unique(&mut w.load_balancers, from);
                }
            }
        }
        // out of the workload
        for (e, to) in sorted(graph, graph.outgoing(workload).collect()) {
            if !solid(e) {
                continue;
            }
            let c = graph.component(to);
            let conn = graph.connection(e);
            match (conn.meaning, c.category(), c.kind_id()) {
                ("connects", Some("database"), _) => {
                    w.databases.push(Dependency { node: to, edge: e, port: port_of(graph, e, to) });
                }
                ("connects", Some("cache"), _) => {
                    w.caches.push(Dependency { node: to, edge: e, port: port_of(graph, e, to) });
                }
                ("calls-api", _, kind) => {
                    if kind == Some("aws.s3") {
                        push_unique(&mut w.buckets, to);
                    }
                    push_unique(&mut w.apis, to);
                }
                ("mounts", _, Some("aws.efs")) => w.efs = w.efs.or(Some(to)),
                ("mounts", _, Some("aws.efs-mount-target")) => w.efs = w.efs.or_else(|| file_system_of(graph, to)),
                _ => {}
            }
        }
        w.ingress = graph.of_kind("k8s.ingress").next();
        w.controller = graph.of_kind("k8s.lb-controller").next();
        w
    }

    /// An ALB in front of the workload: it is made by an Ingress through the AWS Load
    /// Balancer Controller.
    pub(crate) fn alb(&self, graph: &ArchGraph) -> Option<NodeIndex> {
        self.load_balancers.iter().copied().find(|&n| graph.component(n).is("aws.alb"))
    }
}

/// Edges in diagram order (petgraph's adjacency order is the reverse of insertion).
fn sorted(graph: &ArchGraph, mut edges: Vec<(EdgeIndex, NodeIndex)>) -> Vec<(EdgeIndex, NodeIndex)> {
    edges.sort_by_key(|(e, _)| (graph.connection(*e).span.start, e.index()));
    edges
}

fn push_unique(list: &mut Vec<NodeIndex>, n: NodeIndex) {
    if !list.contains(&n) {
        list.push(n);
    }
}

/// The arrow's port, else the target kind's.
fn port_of(graph: &ArchGraph, e: EdgeIndex, to: NodeIndex) -> u16 {
    graph.connection(e).port.or_else(|| graph.component(to).kind.and_then(|k| k.def.port)).unwrap_or(0)
}

/// The file system a mount target belongs to: an `efs --> mount target` arrow, else the
/// diagram's only EFS.
fn file_system_of(graph: &ArchGraph, mount_target: NodeIndex) -> Option<NodeIndex> {
    graph.incoming(mount_target).map(|(_, from)| from).find(|&from| graph.component(from).is("aws.efs")).or_else(|| {
        let mut all = graph.of_kind("aws.efs");
        let first = all.next();
        first.filter(|_| all.next().is_none())
    })
}
