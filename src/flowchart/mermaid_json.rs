//! The JSON that `tools/mermaid-oracle` prints for Mermaid's `FlowDB`, so archc and
//! Mermaid are scored by the same checker (`archc graph --format mermaid-json`).

use serde_json::{json, Map, Value};

use super::FlowDb;
use crate::syntax::preprocess::{ENTITY_CLOSE, ENTITY_OPEN, ENTITY_OPEN_NUMERIC};

fn decode(s: &str, decode: bool) -> String {
    if decode {
        s.replace(ENTITY_OPEN_NUMERIC, "&#").replace(ENTITY_OPEN, "&").replace(ENTITY_CLOSE, ";")
    } else {
        s.to_string()
    }
}

/// A number as JavaScript prints it (`60`, not `60.0`).
fn js_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}

/// FlowDB as the oracle's `snapshot()` shows it. `decode_entities` turns Mermaid's entity
/// placeholders back into `&name;` (what the full pipeline renders).
pub fn mermaid_json(db: &FlowDb, decode_entities: bool) -> Value {
    let d = |s: &str| decode(s, decode_entities);
    let vertices: Vec<Value> = db
        .vertices
        .values()
        .map(|v| {
            let mut m = Map::new();
            m.insert("id".into(), json!(v.id));
            m.insert("text".into(), json!(d(&v.text)));
            m.insert("type".into(), v.kind.as_ref().map_or(Value::Null, |k| json!(k)));
            m.insert("labelType".into(), json!(v.label_type));
            m.insert("styles".into(), json!(v.styles));
            m.insert("classes".into(), json!(v.classes));
            put(&mut m, "link", v.link.as_ref().map(|l| json!(l)));
            put(&mut m, "linkTarget", v.link_target.as_ref().map(|l| json!(l)));
            put(&mut m, "tooltip", db.tooltips.get(&v.id).map(|t| json!(d(t))));
            if !v.props.is_empty() {
                m.insert("props".into(), json!(v.props));
            }
            let a = v.asset();
            put(&mut m, "icon", a.icon.as_ref().map(|x| json!(x)));
            put(&mut m, "form", a.form.as_ref().map(|x| json!(x)));
            put(&mut m, "pos", a.pos.as_ref().map(|x| json!(x)));
            put(&mut m, "img", a.img.as_ref().map(|x| json!(x)));
            put(&mut m, "constraint", a.constraint.as_ref().map(|x| json!(x)));
            put(&mut m, "assetWidth", a.width.map(js_number));
            put(&mut m, "assetHeight", a.height.map(js_number));
            for (key, value) in &v.json_values {
                m.insert((*key).into(), value.clone());
            }
            Value::Object(m)
        })
        .collect();
    let edges: Vec<Value> = db
        .edges
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("id".into(), json!(e.id));
            if e.is_user_defined_id {
                m.insert("isUserDefinedId".into(), json!(true));
            }
            m.insert("start".into(), json!(e.start));
            m.insert("end".into(), json!(e.end));
            m.insert("type".into(), json!(e.kind));
            m.insert("stroke".into(), json!(e.stroke));
            put(&mut m, "length", e.length.map(|l| json!(l)));
            m.insert("text".into(), json!(d(&e.text)));
            m.insert("labelType".into(), json!(e.label_type));
            put(&mut m, "style", e.style.as_ref().filter(|s| !s.is_empty()).map(|s| json!(s)));
            m.insert("classes".into(), json!(e.classes));
            put(&mut m, "interpolate", e.interpolate.as_ref().map(|x| json!(x)));
            put(&mut m, "animate", e.animate.as_deref().cloned());
            put(&mut m, "animation", e.animation.as_deref().cloned());
            Value::Object(m)
        })
        .collect();
    let subgraphs: Vec<Value> = db
        .subgraphs
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("id".into(), json!(s.id));
            m.insert("title".into(), json!(d(&s.title)));
            m.insert("labelType".into(), json!(s.label_type));
            m.insert("nodes".into(), json!(s.nodes));
            put(&mut m, "dir", s.dir.as_ref().map(|x| json!(x)));
            m.insert("classes".into(), json!(s.classes));
            Value::Object(m)
        })
        .collect();
    let mut out = Map::new();
    out.insert("direction".into(), json!(db.direction));
    out.insert("vertices".into(), Value::Array(vertices));
    out.insert("edges".into(), Value::Array(edges));
    out.insert("subgraphs".into(), Value::Array(subgraphs));
    if !db.classes.is_empty() {
        let classes: Map<String, Value> = db
            .classes
            .iter()
            .map(|(k, c)| {
                let mut m = Map::new();
                m.insert("styles".into(), json!(c.styles));
                if !c.text_styles.is_empty() {
                    m.insert("textStyles".into(), json!(c.text_styles));
                }
                (k.clone(), Value::Object(m))
            })
            .collect();
        out.insert("classes".into(), Value::Object(classes));
    }
    put(&mut out, "linkStyleDefault", db.link_style_default.as_ref().filter(|s| !s.is_empty()).map(|s| json!(s)));
    put(&mut out, "linkInterpolateDefault", db.link_interpolate_default.as_ref().map(|s| json!(s)));
    put(&mut out, "accTitle", db.acc_title.as_ref().filter(|s| !s.is_empty()).map(|s| json!(d(s))));
    put(&mut out, "accDescr", db.acc_descr.as_ref().filter(|s| !s.is_empty()).map(|s| json!(d(s))));
    put(&mut out, "title", db.title.as_ref().filter(|s| !s.is_empty()).map(|s| json!(s)));
    Value::Object(out)
}

fn arrow_types(kind: &str, stroke: &str) -> (String, String) {
    if stroke == "invisible" || kind == "arrow_open" {
        return ("none".into(), "none".into());
    }
    match kind {
        "arrow_point" | "arrow_circle" | "arrow_cross" => ("none".into(), kind.into()),
        "double_arrow_point" | "double_arrow_circle" | "double_arrow_cross" => {
            let base = kind.trim_start_matches("double_").to_string();
            (base.clone(), base)
        }
        _ => ("none".into(), "arrow_point".into()),
    }
}

/// `FlowDB.getData()` as the oracle's `layoutSnapshot()` shows it.
pub fn layout_json(db: &FlowDb, curve_default: &str, decode_entities: bool) -> Value {
    let d = |s: &str| decode(s, decode_entities);
    let mut parent: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut groups: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for s in db.subgraphs.iter().rev() {
        if !s.nodes.is_empty() {
            groups.insert(&s.id);
        }
        for n in &s.nodes {
            parent.insert(n, &s.id);
        }
    }
    let mut nodes: Vec<Value> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for s in db.subgraphs.iter().rev() {
        let mut m = Map::new();
        m.insert("id".into(), json!(s.id));
        m.insert("shape".into(), json!("rect"));
        m.insert("label".into(), json!(d(&s.title)));
        m.insert("labelType".into(), json!(s.label_type));
        m.insert("isGroup".into(), json!(true));
        put(&mut m, "parentId", parent.get(s.id.as_str()).map(|p| json!(p)));
        put(&mut m, "dir", s.dir.as_ref().map(|x| json!(x)));
        nodes.push(Value::Object(m));
        seen.insert(&s.id);
    }
    for v in db.vertices.values() {
        if seen.contains(v.id.as_str()) {
            continue;
        }
        let is_group = groups.contains(v.id.as_str());
        let shape = if is_group {
            "rect".to_string()
        } else if v.asset().img.is_some() {
            "imageSquare".into()
        } else if v.asset().icon.is_some() {
            match v.asset().form.as_deref() {
                Some("circle") => "iconCircle".into(),
                Some("square") => "iconSquare".into(),
                Some("rounded") => "iconRounded".into(),
                _ => "icon".into(),
            }
        } else {
            match v.kind.as_deref() {
                None | Some("square") => "squareRect".into(),
                Some("round") => "roundedRect".into(),
                Some(other) => other.to_string(),
            }
        };
        let mut m = Map::new();
        m.insert("id".into(), json!(v.id));
        m.insert("shape".into(), json!(shape));
        let label =
            v.json_values.iter().find(|(k, _)| *k == "text").map_or_else(|| json!(d(&v.text)), |(_, x)| x.clone());
        m.insert("label".into(), label);
        m.insert("labelType".into(), json!(v.label_type));
        m.insert("isGroup".into(), json!(is_group));
        put(&mut m, "parentId", parent.get(v.id.as_str()).map(|p| json!(p)));
        nodes.push(Value::Object(m));
    }
    let edges: Vec<Value> = db
        .edges
        .iter()
        .map(|e| {
            let (start, end) = arrow_types(e.kind, e.stroke);
            let mut m = Map::new();
            m.insert("id".into(), json!(e.id));
            m.insert("start".into(), json!(e.start));
            m.insert("end".into(), json!(e.end));
            m.insert("type".into(), json!(e.kind));
            m.insert("label".into(), json!(d(&e.text)));
            m.insert("arrowTypeStart".into(), json!(start));
            m.insert("arrowTypeEnd".into(), json!(end));
            m.insert("thickness".into(), json!(e.stroke));
            m.insert("pattern".into(), json!(e.stroke));
            put(&mut m, "minlen", e.length.map(|l| json!(l)));
            put(&mut m, "animate", e.animate.as_deref().cloned());
            put(&mut m, "animation", e.animation.as_deref().cloned());
            let curve = e
                .interpolate
                .clone()
                .or_else(|| db.link_interpolate_default.clone())
                .unwrap_or_else(|| curve_default.to_string());
            m.insert("curve".into(), json!(curve));
            Value::Object(m)
        })
        .collect();
    json!({"nodes": nodes, "edges": edges})
}
