//! Flowchart model + configuration → typed architecture graph.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef as _;

use super::catalog::{catalog, tokens, Catalog, ConnectionRule, Kind};
use super::classify::{attributes, classify, title_and_details, Evidence};
use super::graph::{ArchGraph, Classification, Cloud, Component, Connection, Style};
use super::source_facts::SourceFacts;
use crate::config::Config;
use crate::diagnostic::{codes, Diagnostic};
use crate::frontend::Diagram;

/// Build the graph. Problems with the configuration's `nodes:` section are returned as
/// diagnostics; classification problems stay in each component's [`Classification`] for
/// the rules to report.
pub fn build(diagram: &Diagram, source: &str, config: &Config) -> (ArchGraph, Vec<Diagnostic>) {
    let catalog = catalog();
    let db = &diagram.db;
    let mut g = ArchGraph {
        source: SourceFacts::gather(&diagram.parsed.flowchart.statements, &db.direction_lines, source),
        ..ArchGraph::default()
    };
    let mut diagnostics = Vec::new();

    // containers: subgraphs, outer first (FlowDB lists inner ones first)
    let mut parent_of: rustc_hash::FxHashMap<&str, &str> = rustc_hash::FxHashMap::default();
    for sg in db.subgraphs.iter().rev() {
        for member in &sg.nodes {
            parent_of.entry(member.as_str()).or_insert(sg.id.as_str());
        }
    }
    let mut containers: Vec<&crate::flowchart::Subgraph> = db.subgraphs.iter().rev().collect();
    // stable outer-before-inner order: sort by nesting depth, keep diagram order otherwise
    let depth = |id: &str| std::iter::successors(parent_of.get(id).copied(), |p| parent_of.get(p).copied()).count();
    containers.sort_by_key(|s| (depth(&s.id), s.span.start));
    for sg in containers {
        if g.by_id.contains_key(&sg.id) {
            continue;
        }
        let (title, details) = title_and_details(&lines(&sg.title));
        let plural = is_plural(&title);
        let component = Component {
            id: sg.id.clone(),
            label: plain(&sg.title),
            title,
            details,
            vendor: false,
            named: false,
            plural,
            names_several: false,
            group_of: None,
            kind: None,
            classification: Classification::Unknown { candidates: Vec::new() },
            attributes: Default::default(),
            container: true,
            parent: parent_of.get(sg.id.as_str()).and_then(|p| g.by_id.get(*p).copied()),
            span: sg.header_span,
            shape: None,
            implicit: false,
            app: None,
            part_of: None,
        };
        let n = g.graph.add_node(component);
        g.by_id.insert(sg.id.clone(), n);
        g.order.push(n);
    }
    for v in db.vertices.values() {
        if g.by_id.contains_key(&v.id) {
            continue;
        }
        let (title, details) = title_and_details(&lines(&v.text));
        let plural = is_plural(&title);
        let component = Component {
            id: v.id.clone(),
            label: plain(&v.text),
            title,
            details,
            vendor: false,
            named: false,
            plural,
            names_several: false,
            group_of: None,
            kind: None,
            classification: Classification::Unknown { candidates: Vec::new() },
            attributes: Default::default(),
            container: false,
            parent: parent_of.get(v.id.as_str()).and_then(|p| g.by_id.get(*p).copied()),
            span: v.definition_span.unwrap_or(v.span),
            shape: v.kind.clone(),
            implicit: v.definition_span.is_none(),
            app: None,
            part_of: None,
        };
        let n = g.graph.add_node(component);
        g.by_id.insert(v.id.clone(), n);
        g.order.push(n);
    }
    // connections (meanings come after classification)
    let mut pending = Vec::new();
    for e in &db.edges {
        let (Some(a), Some(b)) = (g.node(&e.start), g.node(&e.end)) else { continue };
        let style = match e.stroke {
            "dotted" => Style::Dotted,
            "invisible" => Style::Invisible,
            _ => Style::Solid,
        };
        let conn = Connection {
            edge_id: e.id.clone(),
            label: plain(&e.text),
            style,
            meaning: "unspecified",
            becomes: "none",
            protocol: None,
            port: None,
            access: super::graph::Access::of_label(&plain(&e.text), &catalog.label_access),
            label_port: super::graph::label_port(&plain(&e.text)),
            span: e.span,
        };
        pending.push(g.graph.add_edge(a, b, conn));
    }

    // classification: configured kinds first, then in order (containers outer first)
    for (id, node) in &config.nodes {
        let Some(n) = g.node(id) else {
            let ids: Vec<&str> = g.by_id.keys().map(String::as_str).collect();
            let help = match crate::config::did_you_mean(id, &ids) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`nodes:` keys are node ids of the diagram".to_string(),
            };
            diagnostics.push(
                Diagnostic::error(
                    codes::CONFIG_NAMES_UNKNOWN_NODE,
                    format!("the configuration names node `{id}`, which the diagram does not have"),
                )
                .with_primary(node.origin.span, "no such node")
                .with_help(help)
                .in_file(node.origin.file),
            );
            continue;
        };
        if let Some(kind_id) = &node.kind {
            match catalog.kind(kind_id) {
                Some(kind) => {
                    g.graph[n].kind = Some(kind);
                    g.graph[n].classification = Classification::Configured;
                }
                None => {
                    let ids: Vec<&str> = catalog.kinds.iter().map(|k| k.id()).collect();
                    let origin = config.origin(&format!("nodes.{id}.kind")).unwrap_or(node.origin);
                    diagnostics.push(
                        Diagnostic::error(codes::UNKNOWN_KIND, format!("`{kind_id}` is not a kind archc knows"))
                            .with_primary(origin.span, "unknown kind")
                            .with_help(match did_you_mean_kind(kind_id, &ids) {
                                Some(s) => format!("did you mean `{s}`? (`archc kinds` lists them)"),
                                None => "`archc kinds` lists the kinds".to_string(),
                            })
                            .in_file(origin.file),
                    );
                }
            }
        }
    }
    let order = g.order.clone();
    // pass 1: every box by its own evidence, containers outer first
    let mut data_store: rustc_hash::FxHashMap<NodeIndex, &'static Kind> = rustc_hash::FxHashMap::default();
    for &n in &order {
        if g.graph[n].kind.is_some() {
            continue;
        }
        let parent_kind = placing_parent(&g, n);
        let points_at_entry = g.outgoing(n).any(|(_, t)| {
            let c = &g.graph[t];
            tokens(&c.label).iter().any(|w| {
                ["alb", "load", "balancer", "lb", "cdn", "cloudfront", "dns", "elb", "nlb", "gateway", "api"]
                    .contains(&w.as_str())
            })
        });
        let decision = {
            let c = &g.graph[n];
            let ev = Evidence {
                title: &c.title,
                details: &c.details,
                id: &c.id,
                shape: c.shape.as_deref(),
                container: c.container,
                parent: parent_kind,
                top_level: c.parent.is_none(),
                points_at_entry,
            };
            classify(catalog, &ev)
        };
        if let Some(k) = decision.data_store {
            data_store.insert(n, k);
        }
        let c = &mut g.graph[n];
        c.kind = decision.kind;
        c.classification = decision.classification;
        c.vendor = decision.vendor;
        c.named = decision.named;
        c.names_several = decision.names_several;
        if let Some(service) = decision.service {
            c.attributes.insert("service".into(), service.to_string());
        }
    }
    // pass 2: which subgraphs only group. A subgraph that names nothing; one drawn around
    // others of its own kind when its title is a plural or only hints at the kind ("Private
    // Subnets" around three subnets, "CI/CD" around GitHub Actions); a resource drawn as a
    // subgraph around other kinds of things ("GitOps Control Plane" around Argo CD); a
    // service of another cloud around its parts ("Cloud Run" around two services)
    for &n in &order {
        let c = &g.graph[n];
        if !c.container || matches!(c.classification, Classification::Configured) {
            continue;
        }
        let own = |ch: NodeIndex| {
            let cc = &g.graph[ch];
            cc.kind.filter(|k| {
                matches!(cc.classification, Classification::Inferred { .. } | Classification::Configured)
                    && !matches!(k.category(), "group" | "annotation")
            })
        };
        let children: Vec<&'static Kind> = g.children(n).filter_map(own).collect();
        // a title that says "module", "layer", "monitoring" ... names a grouping
        let group_word = catalog.kind("group").is_some_and(|gk| {
            let words: Vec<String> = gk.def.words.iter().flat_map(|w| tokens(w)).collect();
            tokens(&c.title).iter().any(|t| words.contains(t))
        });
        // a subgraph that names two kinds about equally is the better one: only a box that
        // must be built exactly is worth asking about
        if let (None, Classification::Ambiguous { candidates }) = (c.kind, &c.classification) {
            if let Some(best) = candidates.first().and_then(|(id, _)| catalog.kind(id)) {
                let score = candidates[0].1;
                let c = &mut g.graph[n];
                c.kind = Some(best);
                c.classification = Classification::Inferred { score };
            }
        }
        let c = &g.graph[n];
        let (groups, of) = match c.kind {
            None => (true, None),
            Some(k)
                if k.category() != "group"
                    && (group_word || (c.names_several && conjoins(&c.title)))
                    && !children.is_empty() =>
            {
                let same = children.iter().any(|ck| std::ptr::eq(*ck, k));
                (true, same.then_some(k))
            }
            Some(k) if k.category() == "group" => (false, None),
            // people around people, CI steps around CI steps
            Some(k) if matches!(k.category(), "actor" | "annotation") => (!children.is_empty(), None),
            Some(k) if matches!(k.category(), "other-cloud" | "service") => {
                let def = service_def(catalog, c);
                let root = def.is_some_and(|d| d.service == "Azure" || d.service == "Google Cloud");
                let runs_things = def.is_some_and(|d| d.children.is_some());
                (!root && !runs_things && !children.is_empty(), Some(k))
            }
            Some(k) => {
                let same = children.iter().filter(|ck| std::ptr::eq(**ck, k)).count();
                // parts (an add-on, a process) do not make a resource a group, nor a data store
                // drawn inside it (GRF008 says where that belongs)
                let other = children
                    .iter()
                    .filter(|ck| {
                        !std::ptr::eq(**ck, k)
                            && !matches!(ck.category(), "service" | "application" | "database" | "cache")
                    })
                    .count();
                let collection = same > 0 && (c.plural || !c.named);
                let resource_around_others = !k.def.container && other >= 2 && other > same;
                (collection || resource_around_others, (same > 0).then_some(k))
            }
        };
        if groups {
            let c = &mut g.graph[n];
            c.group_of = of;
            c.kind = catalog.kind("group");
            c.classification = Classification::Inferred { score: 0 };
            c.vendor = false;
        }
    }
    // pass 3: a box that names nothing (or two things equally) is what the box around it says
    for &n in &order {
        let c = &g.graph[n];
        let ambiguous = matches!(c.classification, Classification::Ambiguous { .. });
        if c.kind.is_some() || !(ambiguous || matches!(c.classification, Classification::Unknown { .. })) {
            continue;
        }
        let context = by_context(catalog, &g, n);
        // an ambiguous box takes a context that names one of its candidates, or a part
        let settles = |k: &Kind| match &g.graph[n].classification {
            Classification::Ambiguous { candidates } => candidates.iter().any(|(id, _)| *id == k.def.id),
            _ => true,
        };
        if let Some((kind, from)) = context.filter(|(k, _)| !ambiguous || settles(k)) {
            let c = &mut g.graph[n];
            c.kind = Some(kind);
            c.classification = Classification::Context { from };
        }
    }
    // pass 4: the diagram's cloud; a generic name ("Postgres", "Load Balancer") names that
    // cloud's component, never an AWS kind by a lookalike word
    g.cloud = detect_cloud(&g);
    let other_cloud = match g.cloud {
        Cloud::Azure => catalog.kind("azure.service"),
        Cloud::Gcp => catalog.kind("gcp.service"),
        _ => None,
    };
    for &n in &order {
        let c = &g.graph[n];
        if matches!(c.classification, Classification::Configured) {
            continue;
        }
        let kind = c.kind;
        let is_aws = kind.is_some_and(|k| k.vendor == "aws");
        let fallback = kind.is_none_or(|k| k.def.id == "app.component") && c.kind.is_none_or(|_| !c.container);
        let says_aws = tokens(&c.label).iter().any(|t| t == "aws" || t == "amazon");
        let new_kind = match g.cloud {
            _ if data_store.contains_key(&n)
                && !c.vendor
                && (g.cloud == Cloud::Kubernetes || in_kubernetes(&g, n))
                && kind.is_some_and(|k| matches!(k.category(), "database" | "cache" | "kubernetes")) =>
            {
                // a database or cache drawn as a pod runs in the cluster
                catalog.kind("k8s.statefulset")
            }
            // "PostgreSQL container", "Redis on docker": a database someone runs in a container
            _ if data_store.contains_key(&n)
                && !c.vendor
                && !in_kubernetes(&g, n)
                && tokens(&c.title).iter().any(|t| matches!(t.as_str(), "container" | "docker" | "compose")) =>
            {
                catalog.kind("app.component")
            }
            // in another cloud's diagram every cloud component is that cloud's
            Cloud::Azure | Cloud::Gcp if (is_aws && !says_aws) || (fallback && !c.container) => other_cloud,
            Cloud::None if kind.is_some_and(|k| (k.vendor == "aws" || k.vendor == "k8s") && !c.vendor) => {
                catalog.kind("app.component")
            }
            Cloud::Kubernetes if is_aws && !c.vendor => {
                let meaning = kind.and_then(|k| k.def.kubernetes.as_deref()).and_then(|k| catalog.kind(k));
                meaning
                    .or_else(|| by_context(catalog, &g, n).map(|(k, _)| k).filter(|k| k.vendor != "aws"))
                    .or(catalog.kind("app.component"))
            }
            _ => continue,
        };
        if new_kind.is_some() {
            // a subgraph that turns out to be no component of this platform only groups
            let new_kind = if g.graph[n].container && new_kind.is_some_and(|k| k.def.id == "app.component") {
                catalog.kind("group")
            } else {
                new_kind
            };
            g.graph[n].kind = new_kind;
            if !matches!(g.graph[n].classification, Classification::Inferred { .. } | Classification::Context { .. }) {
                g.graph[n].classification = Classification::Inferred { score: 0 };
            }
        }
    }
    for &n in &order {
        if let Some(kind) = g.graph[n].kind {
            let service = g.graph[n].attributes.get("service").cloned();
            let mut attrs = attributes(kind, &g.graph[n].label);
            if let Some(s) = service {
                attrs.insert("service".into(), s);
            }
            if let Some(node) = config.nodes.get(&g.graph[n].id) {
                for (k, v) in &node.attributes {
                    attrs.insert(k.clone(), v.clone());
                }
            }
            // a subnet's tier written on a box around it ("Public Subnets - DMZ" around
            // "AZ-A: 10.0.0.0/24")
            if kind.def.id == "aws.subnet" && explicit_word(kind, "tier", &g.graph[n].label).is_none() {
                let inherited = g.ancestors(n).find_map(|a| explicit_word(kind, "tier", &g.graph[a].label));
                if let Some(tier) = inherited {
                    attrs.insert("tier".into(), tier);
                }
            }
            g.graph[n].attributes = attrs;
            if matches!(kind.category(), "kubernetes") {
                let label_tokens = tokens(&g.graph[n].label);
                let configured = g.graph[n].attributes.get("app").cloned();
                g.graph[n].app = configured.or_else(|| {
                    catalog
                        .apps
                        .iter()
                        .find(|a| a.matches.iter().any(|m| label_tokens.contains(m)))
                        .map(|a| a.id.clone())
                });
            }
        }
    }
    if let Some(region) = &config.region {
        let first = g.of_kind("aws.region").next();
        if let Some(n) = first {
            g.graph[n].attributes.insert("region".into(), region.clone());
        }
    }

    fold_parts(&mut g, &mut pending);

    // the first matching row of the arrow table depends only on the two kinds and the style:
    // looked up once per combination (a large diagram repeats a few combinations many times)
    let mut rows: std::collections::HashMap<RowKey<'_>, Option<&'static ConnectionRule>> =
        std::collections::HashMap::new();
    for e in pending {
        let (a, b) = g.endpoints(e);
        let (ka, kb) = (g.graph[a].kind, g.graph[b].kind);
        let style = g.graph[e].style;
        let key = (ka.map(|k| k.id()), kb.map(|k| k.id()), style);
        let row = *rows.entry(key).or_insert_with(|| match_connection(catalog, ka, kb, style));
        if let Some(row) = row {
            let port = match &row.port {
                Some(serde_yaml::Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
                Some(serde_yaml::Value::String(s)) if s == "target" => {
                    kb.and_then(|k| k.def.port).or_else(|| engine_port(&g.graph[b]))
                }
                Some(serde_yaml::Value::String(s)) if s == "app" => app_port(catalog, &g, b),
                _ => None,
            };
            let protocol = row.protocol.clone().or_else(|| kb.and_then(|k| k.def.protocol.clone()));
            let conn = &mut g.graph[e];
            conn.meaning = row.meaning.as_str();
            conn.becomes = row.becomes.as_str();
            conn.port = port;
            conn.protocol = protocol;
        }
    }
    (g, diagnostics)
}

/// Parts drawn as boxes of their own: a target group between a load balancer and its
/// targets, an ECS task definition beside its service. A box whose label marks it as a part
/// (the kind's `part` attribute) and that has exactly one arrow-neighbour of its own kind
/// that is not a part belongs to it: its other arrows become the owner's (an arrow the owner
/// already draws to the same box stays where it is). Runs before the arrows get their
/// meanings, which then read the owner's kind (the part's, too) and the owner's settings.
fn fold_parts(g: &mut ArchGraph, pending: &mut [EdgeIndex]) {
    let parts: Vec<NodeIndex> = g
        .order
        .iter()
        .copied()
        .filter(|&n| !g.graph[n].container && g.graph[n].attributes.contains_key("part"))
        .collect();
    for p in parts {
        let Some(kind) = g.graph[p].kind else { continue };
        let mut owners: Vec<NodeIndex> = g
            .graph
            .neighbors_undirected(p)
            .filter(|&o| {
                o != p
                    && g.graph[o].kind.is_some_and(|k| std::ptr::eq(k, kind))
                    && !g.graph[o].attributes.contains_key("part")
            })
            .collect();
        owners.sort_unstable();
        owners.dedup();
        let [owner] = owners[..] else { continue };
        g.graph[p].part_of = Some(owner);
        let mut edges: Vec<EdgeIndex> =
            g.graph.edges_directed(p, petgraph::Direction::Outgoing).map(|e| e.id()).collect();
        edges.extend(g.graph.edges_directed(p, petgraph::Direction::Incoming).map(|e| e.id()));
        for e in edges {
            let (a, b) = g.endpoints(e);
            if a == owner || b == owner {
                continue;
            }
            let (na, nb) = if a == p { (owner, b) } else { (a, owner) };
            let style = g.graph[e].style;
            if g.graph.edges_connecting(na, nb).any(|x| x.weight().style == style) {
                continue;
            }
            let Some(conn) = g.graph.remove_edge(e) else { continue };
            let moved = g.graph.add_edge(na, nb, conn);
            if let Some(slot) = pending.iter_mut().find(|x| **x == e) {
                *slot = moved;
            }
        }
    }
}

fn engine_port(c: &Component) -> Option<u16> {
    match c.attr("engine")? {
        "postgres" | "aurora-postgresql" => Some(5432),
        "mysql" | "mariadb" | "aurora-mysql" => Some(3306),
        "sqlserver" => Some(1433),
        "oracle" => Some(1521),
        "redis" | "valkey" => Some(6379),
        "memcached" => Some(11211),
        _ => None,
    }
}

fn app_port(catalog: &Catalog, g: &ArchGraph, n: NodeIndex) -> Option<u16> {
    let app_of = |n: NodeIndex| g.graph[n].app.as_deref().and_then(|a| catalog.app(a)).map(|a| a.port);
    app_of(n).or_else(|| g.outgoing(n).find_map(|(_, t)| app_of(t)))
}

/// An arrow's lookup key in the arrow table: the kinds at its ends and its style.
type RowKey<'a> = (Option<&'a str>, Option<&'a str>, Style);

fn pattern_matches(pattern: &str, kind: Option<&super::catalog::Kind>) -> bool {
    match pattern.strip_prefix('@') {
        Some("any") => true,
        Some(category) => kind.is_some_and(|k| k.category() == category),
        None => kind.is_some_and(|k| k.id() == pattern),
    }
}

fn match_connection(
    catalog: &'static Catalog,
    from: Option<&super::catalog::Kind>,
    to: Option<&super::catalog::Kind>,
    style: Style,
) -> Option<&'static ConnectionRule> {
    catalog.connections.iter().find(|row| {
        let style_ok = match row.style.as_str() {
            "any" => true,
            "solid" => style == Style::Solid,
            "dotted" => style == Style::Dotted,
            "invisible" => style == Style::Invisible,
            _ => false,
        };
        style_ok
            && row.from.items().iter().any(|p| pattern_matches(p, from))
            && row.to.items().iter().any(|p| pattern_matches(p, to))
    })
}

/// A label as plain text: entity placeholders and HTML entities decoded, tags removed.
pub fn plain(text: &str) -> String {
    use crate::syntax::preprocess::{ENTITY_CLOSE, ENTITY_OPEN, ENTITY_OPEN_NUMERIC};
    let decoded = text.replace(ENTITY_OPEN_NUMERIC, "&#").replace(ENTITY_OPEN, "&").replace(ENTITY_CLOSE, ";");
    let mut out = String::with_capacity(decoded.len());
    let mut in_tag = false;
    for c in decoded.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = crate::flowchart::html::decode_entities(&out);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The kind a mistyped `kind:` most plausibly meant: compared by the part after the
/// namespace (`aws.sqs` is not a typo of `aws.s3`: `sqs` and `s3` are two edits apart in
/// three letters), within the same namespace when one is written.
fn did_you_mean_kind<'a>(written: &str, kinds: &[&'a str]) -> Option<&'a str> {
    let (ns, name) = written.rsplit_once('.').unwrap_or(("", written));
    let same_ns: Vec<&'a str> =
        kinds.iter().copied().filter(|k| ns.is_empty() || k.starts_with(&format!("{ns}."))).collect();
    let names: Vec<&'a str> = same_ns.iter().map(|k| k.rsplit_once('.').map_or(*k, |(_, n)| n)).collect();
    let best = crate::config::did_you_mean(name, &names)?;
    same_ns.iter().copied().find(|k| k.rsplit_once('.').map_or(*k, |(_, n)| n) == best)
}

/// The value of a `words` attribute that `text` names outright (no default).
fn explicit_word(kind: &Kind, attribute: &str, text: &str) -> Option<String> {
    let words = kind.def.attributes.get(attribute)?.words.as_ref()?;
    crate::model::classify::word_value(words, &tokens(text)).cloned()
}

/// What the boxes around `n` say an unrecognised box in them is (and which box says so):
/// the kind's `children` rule, the kind a group gathers, an EC2 instance for a process drawn
/// in a subnet; `None` where archc must ask (GRF004).
fn by_context(catalog: &'static Catalog, g: &ArchGraph, n: NodeIndex) -> Option<(&'static Kind, String)> {
    let around = g.ancestors(n).find(|&a| {
        let c = &g.graph[a];
        c.kind.is_some_and(|k| k.category() != "group") || c.group_of.is_some()
    });
    let Some(a) = around else { return catalog.kind("app.component").map(|k| (k, String::new())) };
    let c = &g.graph[a];
    let from = c.id.clone();
    if let Some(k) = c.group_of {
        return Some((k, from));
    }
    let ak = c.kind?;
    let rule = service_def(catalog, c).and_then(|d| d.children.as_deref()).or(ak.def.children.as_deref());
    match rule {
        Some("unknown") => {
            // a process in a subnet runs on an instance; anything else archc must ask about
            let process = catalog.kind("app.component").is_some_and(|app| {
                let words: Vec<String> = app.def.words.iter().flat_map(|w| tokens(w)).collect();
                tokens(&g.graph[n].title).iter().any(|t| words.contains(t))
            });
            if process {
                catalog.kind("aws.ec2-instance").map(|k| (k, from))
            } else {
                None
            }
        }
        Some("same") => Some((ak, from)),
        Some(kind) => catalog.kind(kind).map(|k| (k, from)),
        None => catalog.kind("app.component").map(|k| (k, from)),
    }
}

/// Whether a title joins two things: "CloudFront + WAF", "DynamoDB and Mail".
fn conjoins(title: &str) -> bool {
    let lower = format!(" {} ", title.to_lowercase());
    [" + ", " & ", " and ", "+"].iter().any(|c| lower.contains(c))
}

/// Whether a title is a plural: its head noun (before a dash or colon) ends in a plural `s`.
fn is_plural(title: &str) -> bool {
    let head = title.split([':', '(']).next().unwrap_or(title);
    let head = head.split(" - ").next().unwrap_or(head);
    let Some(last) = head.split(|c: char| !c.is_alphanumeric()).rfind(|w| !w.is_empty()) else {
        return false;
    };
    let lower = last.to_lowercase();
    lower.len() > 4
        && lower.ends_with('s')
        && !lower.ends_with("ss")
        && !lower.ends_with("us")
        && !matches!(lower.as_str(), "kubernetes" | "analytics" | "insights" | "redis" | "aws" | "metrics" | "logs")
}

/// The kind of the nearest enclosing box that places things (a group places nothing).
fn placing_parent(g: &ArchGraph, n: NodeIndex) -> Option<&'static Kind> {
    g.ancestors(n).find_map(|a| g.graph[a].kind.filter(|k| k.category() != "group"))
}

/// Inside a Kubernetes cluster or namespace box (EKS, GKE, AKS or any cluster).
fn in_kubernetes(g: &ArchGraph, n: NodeIndex) -> bool {
    g.ancestors(n).any(|a| {
        let c = &g.graph[a];
        matches!(c.kind_id(), Some("aws.eks-cluster" | "k8s.cluster" | "k8s.namespace"))
            || service_def(catalog(), c).is_some_and(|d| d.children.as_deref() == Some("k8s.deployment"))
    })
}

/// The `services.yaml` entry a box names.
fn service_def(catalog: &'static Catalog, c: &Component) -> Option<&'static super::catalog::ServiceDef> {
    let name = c.attr("service")?;
    catalog.services.iter().find(|s| s.service == name)
}

/// Which cloud the diagram draws: the vendor whose own names its boxes use most (an AWS
/// region code counts for AWS); Kubernetes when it draws Kubernetes objects and no cloud;
/// none otherwise.
fn detect_cloud(g: &ArchGraph) -> Cloud {
    let (mut aws, mut azure, mut gcp, mut k8s) = (0, 0, 0, 0);
    for (_, c) in g.components() {
        let Some(kind) = c.kind else { continue };
        let named = c.vendor || c.attr("region").is_some();
        match kind.vendor {
            "aws" if named => aws += 1,
            "azure" => azure += 1,
            "gcp" => gcp += 1,
            "k8s" if c.vendor => k8s += 1,
            _ => {}
        }
        if matches!(kind.def.id.as_str(), "aws.region" | "aws.cloud" | "aws.account") {
            aws += 1;
        }
    }
    if azure.max(gcp) > aws {
        if azure >= gcp {
            Cloud::Azure
        } else {
            Cloud::Gcp
        }
    } else if aws > 0 {
        Cloud::Aws
    } else if k8s > 0 {
        Cloud::Kubernetes
    } else {
        Cloud::None
    }
}

/// The lines of a label: Mermaid breaks lines at `<br>` and at a written `\n`.
fn lines(text: &str) -> Vec<String> {
    use crate::syntax::preprocess::{ENTITY_CLOSE, ENTITY_OPEN, ENTITY_OPEN_NUMERIC};
    let decoded = text.replace(ENTITY_OPEN_NUMERIC, "&#").replace(ENTITY_OPEN, "&").replace(ENTITY_CLOSE, ";");
    let mut out = Vec::new();
    let mut rest = decoded.as_str();
    loop {
        let lower = rest.to_ascii_lowercase();
        let br = lower.find("<br");
        let nl = rest.find("\\n");
        let real = rest.find('\n');
        let cut =
            [br.map(|i| (i, lower[i..].find('>').map_or(3, |e| e + 1))), nl.map(|i| (i, 2)), real.map(|i| (i, 1))]
                .into_iter()
                .flatten()
                .min_by_key(|(i, _)| *i);
        match cut {
            Some((i, len)) => {
                out.push(plain(&rest[..i]));
                rest = &rest[i + len..];
            }
            None => {
                out.push(plain(rest));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::did_you_mean_kind;

    fn graph_of(mermaid: &str) -> super::ArchGraph {
        let text = format!("```mermaid\n{mermaid}\n```\n");
        let file = crate::source::SourceFile::new("t.md", &text, crate::source::InputKind::Markdown);
        let analysis = crate::analysis::analyze(file, None, &crate::analysis::Options::default());
        analysis.graph.unwrap_or_else(|| unreachable!("the diagram parses"))
    }

    #[test]
    fn a_target_group_and_a_task_definition_are_parts_and_services_stay_services() {
        let g = graph_of(
            "flowchart LR\n  subgraph aws[AWS eu-west-1]\n    subgraph vpc[VPC]\n      subgraph pub[Public Subnets]\n        alb[ALB]\n      end\n      subgraph priv[Private Subnets]\n        tg[Target Group]\n        api[ECS Service api]\n        task[Task Definition api]\n        worker[ECS Service worker]\n      end\n    end\n    q[SQS queue]\n  end\n  alb --> tg --> api\n  api --> task --> q\n  api --> worker",
        );
        let n = |id: &str| g.node(id).unwrap_or_else(|| unreachable!("{id} exists"));
        assert_eq!(g.component(n("tg")).part_of, Some(n("alb")));
        assert_eq!(g.component(n("task")).part_of, Some(n("api")));
        assert_eq!(g.component(n("worker")).part_of, None, "a service beside a service is not a part");
        assert_eq!(g.of_kind("aws.alb").collect::<Vec<_>>(), [n("alb")]);
        assert_eq!(g.of_kind("aws.ecs-service").collect::<Vec<_>>(), [n("api"), n("worker")]);
        // the owners took the parts' arrows; an owner's own arrows do not show its parts
        let targets = |from: &str| g.outgoing(n(from)).map(|(_, t)| g.component(t).id.clone()).collect::<Vec<_>>();
        assert!(targets("alb") == ["api"], "{:?}", targets("alb"));
        let mut from_api = targets("api");
        from_api.sort();
        assert_eq!(from_api, ["q", "worker"]);
        // every arrow is still there for the coverage and the rules
        assert_eq!(g.connections().count(), 5);
    }

    #[test]
    fn kind_suggestions_compare_the_service_name() {
        let kinds = ["aws.s3", "aws.rds", "aws.ecr", "k8s.service", "aws.elasticache"];
        assert_eq!(did_you_mean_kind("aws.sqs", &kinds), None);
        assert_eq!(did_you_mean_kind("aws.rdss", &kinds), Some("aws.rds"));
        assert_eq!(did_you_mean_kind("aws.elasticcache", &kinds), Some("aws.elasticache"));
        assert_eq!(did_you_mean_kind("rds", &kinds), Some("aws.rds"));
        assert_eq!(did_you_mean_kind("aws.servce", &kinds), None, "k8s.service is another namespace");
    }
}
