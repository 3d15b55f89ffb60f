//! Flowchart model + configuration → typed architecture graph.

use petgraph::stable_graph::NodeIndex;

use super::catalog::{catalog, tokens, Catalog, ConnectionRule};
use super::classify::{attributes, classify, Evidence};
use super::graph::{ArchGraph, Classification, Component, Connection, Style};
use crate::config::Config;
use crate::diagnostic::{codes, Diagnostic};
use crate::flowchart::FlowDb;

/// Build the graph. Problems with the configuration's `nodes:` section are returned as
/// diagnostics; classification problems stay in each component's [`Classification`] for
/// the rules to report.
pub fn build(db: &FlowDb, config: &Config) -> (ArchGraph, Vec<Diagnostic>) {
    let catalog = catalog();
    let mut g = ArchGraph::default();
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
        let component = Component {
            id: sg.id.clone(),
            label: plain(&sg.title),
            kind: None,
            classification: Classification::Unknown { candidates: Vec::new() },
            attributes: Default::default(),
            container: true,
            parent: parent_of.get(sg.id.as_str()).and_then(|p| g.by_id.get(*p).copied()),
            span: sg.header_span,
            shape: None,
            implicit: false,
            app: None,
        };
        let n = g.graph.add_node(component);
        g.by_id.insert(sg.id.clone(), n);
        g.order.push(n);
    }
    for v in db.vertices.values() {
        if g.by_id.contains_key(&v.id) {
            continue;
        }
        let component = Component {
            id: v.id.clone(),
            label: plain(&v.text),
            kind: None,
            classification: Classification::Unknown { candidates: Vec::new() },
            attributes: Default::default(),
            container: false,
            parent: parent_of.get(v.id.as_str()).and_then(|p| g.by_id.get(*p).copied()),
            span: v.definition_span.unwrap_or(v.span),
            shape: v.kind.clone(),
            implicit: v.definition_span.is_none(),
            app: None,
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
    for n in order {
        if g.graph[n].kind.is_none() {
            let parent_kind = g.graph[n].parent.and_then(|p| g.graph[p].kind);
            let points_at_entry = g.outgoing(n).any(|(_, t)| {
                let c = &g.graph[t];
                tokens(&c.label).iter().any(|w| {
                    ["alb", "load", "balancer", "lb", "cdn", "cloudfront", "dns", "elb", "nlb"].contains(&w.as_str())
                })
            });
            let (kind, classification) = {
                let c = &g.graph[n];
                let ev = Evidence {
                    label: &c.label,
                    id: &c.id,
                    shape: c.shape.as_deref(),
                    container: c.container,
                    parent: parent_kind,
                    top_level: c.parent.is_none(),
                    points_at_entry,
                };
                classify(catalog, &ev)
            };
            g.graph[n].kind = kind;
            g.graph[n].classification = classification;
        }
        if let Some(kind) = g.graph[n].kind {
            let mut attrs = attributes(kind, &g.graph[n].label);
            if let Some(node) = config.nodes.get(&g.graph[n].id) {
                for (k, v) in &node.attributes {
                    attrs.insert(k.clone(), v.clone());
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

    for e in pending {
        let (a, b) = g.endpoints(e);
        let (ka, kb) = (g.graph[a].kind, g.graph[b].kind);
        let style = g.graph[e].style;
        if let Some(row) = match_connection(catalog, ka, kb, style) {
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

#[cfg(test)]
mod tests {
    use super::did_you_mean_kind;

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
