//! Mermaid's flowchart semantics: the model `FlowDB` builds ([`FlowDb`]), label
//! sanitising ([`html`]), the shape list, and the oracle-compatible JSON view.

mod db;
pub mod html;
mod mermaid_json;
pub mod shapes;
mod url;

pub use db::{destruct_link, ClassDef, Edge, FlowDb, LinkInfo, Subgraph, Vertex};
pub use mermaid_json::{layout_json, mermaid_json};

/// Graphviz view of the flowchart (subgraphs as clusters).
pub fn dot(db: &FlowDb) -> String {
    fn q(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
    let mut out = String::from("digraph flowchart {\n");
    let dir = match db.direction.as_str() {
        "LR" => "LR",
        "RL" => "RL",
        "BT" => "BT",
        _ => "TB",
    };
    out.push_str(&format!("  rankdir={dir};\n"));
    let mut placed = std::collections::HashSet::new();
    fn cluster(
        db: &FlowDb,
        sg: &Subgraph,
        depth: usize,
        out: &mut String,
        placed: &mut std::collections::HashSet<String>,
    ) {
        let pad = "  ".repeat(depth);
        out.push_str(&format!(
            "{pad}subgraph {} {{\n{pad}  label={};\n",
            q(&format!("cluster_{}", sg.id)),
            q(&sg.title)
        ));
        for n in &sg.nodes {
            if let Some(inner) = db.subgraph(n) {
                cluster(db, inner, depth + 1, out, placed);
            } else if let Some(v) = db.vertices.get(n.as_str()) {
                out.push_str(&format!("{pad}  {} [label={}];\n", q(&v.id), q(&v.text)));
                placed.insert(v.id.clone());
            }
        }
        out.push_str(&format!("{pad}}}\n"));
    }
    let nested: std::collections::HashSet<&str> =
        db.subgraphs.iter().flat_map(|s| s.nodes.iter().map(String::as_str)).collect();
    for sg in db.subgraphs.iter().filter(|s| !nested.contains(s.id.as_str())) {
        cluster(db, sg, 1, &mut out, &mut placed);
    }
    for v in db.vertices.values().filter(|v| !placed.contains(&v.id)) {
        out.push_str(&format!("  {} [label={}];\n", q(&v.id), q(&v.text)));
    }
    for e in &db.edges {
        let style = match e.stroke {
            "dotted" => " style=dashed",
            "thick" => " penwidth=2",
            "invisible" => " style=invis",
            _ => "",
        };
        out.push_str(&format!("  {} -> {} [label={}{style}];\n", q(&e.start), q(&e.end), q(&e.text)));
    }
    out.push_str("}\n");
    out
}
