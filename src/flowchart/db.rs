//! The flowchart model: what Mermaid's `FlowDB` holds after a parse (vertices, edges,
//! subgraphs, classes), built by replaying the syntax tree the way Mermaid's parser
//! actions call `FlowDB`, quirks included. Each element keeps its spans.

use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use serde_json::Value;

use super::html::sanitize;
use super::shapes::is_valid_shape;
use crate::diagnostic::{codes, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, Statement, Text, TextKind};

#[derive(Debug, Clone, Default)]
pub struct Vertex {
    pub id: String,
    pub text: String,
    /// FlowDB's `type` (`square`, `cylinder`, an `@{shape}` name); `None` for a bare id.
    pub kind: Option<String>,
    pub label_type: String,
    pub styles: Vec<String>,
    pub classes: Vec<String>,
    pub link: Option<String>,
    pub link_target: Option<String>,
    pub props: IndexMap<String, String>,
    pub icon: Option<String>,
    pub form: Option<String>,
    pub pos: Option<String>,
    pub img: Option<String>,
    pub constraint: Option<String>,
    pub asset_width: Option<f64>,
    pub asset_height: Option<f64>,
    /// Where the id is first written.
    pub span: Span,
    /// Where the label/shape in effect was written (the last definition wins).
    pub definition_span: Option<Span>,
    /// Every place the id is written as a node.
    pub mentions: Vec<Span>,
}

#[derive(Debug, Clone, Default)]
pub struct Edge {
    pub id: String,
    pub is_user_defined_id: bool,
    pub start: String,
    pub end: String,
    /// `arrow_point`, `arrow_open`, `double_arrow_point`, ... or `INVALID`.
    pub kind: String,
    /// `normal`, `thick`, `dotted`, `invisible` or `INVALID`.
    pub stroke: String,
    pub length: Option<u32>,
    pub text: String,
    pub label_type: String,
    pub style: Option<Vec<String>>,
    pub classes: Vec<String>,
    pub interpolate: Option<String>,
    pub animate: Option<Value>,
    pub animation: Option<Value>,
    /// `a --> b` as written (from the start node to the end node).
    pub span: Span,
    /// The link token itself.
    pub link_span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Subgraph {
    pub id: String,
    pub title: String,
    pub label_type: String,
    pub nodes: Vec<String>,
    pub dir: Option<String>,
    pub classes: Vec<String>,
    pub span: Span,
    pub header_span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct ClassDef {
    pub styles: Vec<String>,
    pub text_styles: Vec<String>,
    pub span: Span,
}

/// Everything a flowchart says, in Mermaid's terms.
#[derive(Debug, Clone, Default)]
pub struct FlowDb {
    pub direction: String,
    pub vertices: IndexMap<String, Vertex, FxBuildHasher>,
    pub edges: Vec<Edge>,
    pub classes: IndexMap<String, ClassDef>,
    pub subgraphs: Vec<Subgraph>,
    pub tooltips: IndexMap<String, String>,
    pub link_style_default: Option<Vec<String>>,
    pub link_interpolate_default: Option<String>,
    pub acc_title: Option<String>,
    pub acc_descr: Option<String>,
    /// Front-matter title.
    pub title: Option<String>,
    /// `direction X` statements, in order, with their spans (a direction token swallows
    /// the rest of its line, which [`FlowDb::direction_lines`] keeps for checks).
    pub direction_lines: Vec<(String, Span)>,
    subgraph_lookup: FxHashMap<String, usize>,
    /// Edge id → index into `edges`.
    edge_ids: FxHashMap<String, usize>,
    /// How many edges join each (start, end) pair of vertex indices.
    edge_pairs: FxHashMap<(usize, usize), usize>,
    /// The same for ends that are not vertices (an edge id used as an end).
    edge_pairs_by_name: FxHashMap<(String, String), usize>,
    /// Nodes some subgraph already holds.
    claimed: FxHashSet<String>,
    sub_count: usize,
    /// `flowchart.inheritDir` from the diagram's configuration.
    inherit_dir: bool,
}

/// An item of a `document` as Mermaid's parser collects it (subgraph membership).
enum Item {
    Name(String),
    Dir(&'static str),
}

impl FlowDb {
    pub fn subgraph(&self, id: &str) -> Option<&Subgraph> {
        self.subgraph_lookup.get(id).map(|&i| &self.subgraphs[i])
    }

    /// Build the model from a syntax tree. `config` is the diagram's Mermaid configuration.
    ///
    /// # Errors
    /// What Mermaid's `FlowDB` throws on (unknown shape, bad shape data, `linkStyle` out of
    /// range, a bare `subgraph`): Mermaid refuses such diagrams too.
    pub fn build(
        flowchart: &ast::Flowchart,
        config: &serde_json::Map<String, Value>,
        title: Option<String>,
    ) -> Result<FlowDb, Vec<Diagnostic>> {
        let mut db = FlowDb {
            inherit_dir: config
                .get("flowchart")
                .and_then(|f| f.get("inheritDir"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            title,
            ..FlowDb::default()
        };
        db.set_direction(flowchart.direction.as_ref().map_or("TB", |d| d.value.as_str()));
        let mut errors = Vec::new();
        db.run(&flowchart.statements, &mut errors);
        if errors.is_empty() {
            Ok(db)
        } else {
            Err(errors)
        }
    }

    fn set_direction(&mut self, dir: &str) {
        let d = dir.trim();
        self.direction = if d.contains('<') {
            "RL"
        } else if d.contains('^') {
            "BT"
        } else if d.contains('>') {
            "LR"
        } else if d.contains('v') || d == "TD" {
            "TB"
        } else {
            d
        }
        .to_string();
    }

    fn run(&mut self, statements: &[Statement], errors: &mut Vec<Diagnostic>) -> Vec<Item> {
        let mut items = Vec::new();
        for statement in statements {
            if !errors.is_empty() {
                break;
            }
            match statement {
                Statement::Vertex(v) => {
                    if let Err(e) = self.vertex_statement(v, &mut items) {
                        errors.push(e);
                    }
                }
                Statement::Style { id, styles, span } => {
                    let _ = span;
                    self.add_vertex(&id.value, id.span, None, Some(styles), None, None);
                }
                Statement::ClassDef { ids, styles, span } => self.add_class(&ids.value, styles, *span),
                Statement::Class { ids, class, .. } => self.set_class(&ids.value, &class.value),
                Statement::LinkStyle(ls) => {
                    if let Err(e) = self.link_style(ls) {
                        errors.push(e);
                    }
                }
                Statement::Click(click) => self.click(click),
                Statement::Subgraph(sg) => {
                    let body = self.run(&sg.body, errors);
                    if !errors.is_empty() {
                        break;
                    }
                    match self.add_subgraph(sg, body) {
                        Ok(id) => items.push(Item::Name(id)),
                        Err(e) => errors.push(e),
                    }
                }
                Statement::Direction { value, span } => {
                    self.direction_lines.push(((*value).to_string(), *span));
                    items.push(Item::Dir(value));
                }
                Statement::AccTitle(t) => {
                    self.acc_title = Some(sanitize(&t.value).trim_start().to_string());
                    items.push(Item::Name(t.value.clone()));
                }
                Statement::AccDescr(t) => {
                    self.acc_descr = Some(collapse_indentation(&sanitize(&t.value)));
                    items.push(Item::Name(t.value.clone()));
                }
                Statement::Semi(_) => items.push(Item::Name(";".into())),
            }
        }
        items
    }

    fn vertex_statement(&mut self, v: &ast::VertexStatement, items: &mut Vec<Item>) -> Result<(), Diagnostic> {
        let mut previous: Vec<(&str, Span)> = Vec::new();
        let mut ids: Vec<(&str, Span)> = Vec::new();
        let first_item = items.len();
        for (gi, group) in v.groups.iter().enumerate() {
            ids.clear();
            for member in &group.members {
                let vx = &member.vertex;
                let (text, kind, props) = match &vx.shape {
                    Some(shape) => (Some(&shape.text), Some(shape.kind), shape.props.clone()),
                    None => (None, None, None),
                };
                self.add_vertex_full(&vx.id.value, vx.id.span, text, kind, None, props, vx.span);
                if let Some(class) = &member.class {
                    self.set_class(&vx.id.value, &class.value);
                }
                if let (Some(data), Some(&(prev, _))) = (&member.previous_shape_data, ids.last()) {
                    self.add_shape_data(prev, data)?;
                }
                ids.push((&vx.id.value, vx.span));
            }
            if let (Some(data), Some(&(last, _))) = (&group.shape_data, ids.last()) {
                self.add_shape_data(last, data)?;
            }
            if gi > 0 {
                self.add_link(&previous, &ids, &v.links[gi - 1]);
            }
            // Mermaid lists a statement's nodes last group first: `a --> b` gives [b, a]
            items.splice(first_item..first_item, ids.iter().map(|&(id, _)| Item::Name(id.to_string())));
            std::mem::swap(&mut previous, &mut ids);
        }
        Ok(())
    }

    fn add_vertex(
        &mut self,
        id: &str,
        span: Span,
        text: Option<&Text>,
        styles: Option<&Vec<String>>,
        kind: Option<&str>,
        def: Option<Span>,
    ) {
        if id.trim().is_empty() || self.edge_ids.contains_key(id) {
            return;
        }
        let index = match self.vertices.get_index_of(id) {
            Some(i) => i,
            None => {
                let vertex = Vertex {
                    id: id.to_string(),
                    text: id.to_string(),
                    label_type: "text".into(),
                    span,
                    ..Vertex::default()
                };
                self.vertices.insert_full(id.to_string(), vertex).0
            }
        };
        let vertex = &mut self.vertices[index];
        vertex.mentions.push(span);
        if let Some(text) = text {
            let mut txt = sanitize(text.text.trim());
            if txt.len() >= 2 && txt.starts_with('"') && txt.ends_with('"') {
                txt = txt[1..txt.len() - 1].to_string();
            }
            vertex.label_type = text.kind.as_str().to_string();
            vertex.text = txt;
            vertex.definition_span = def;
        }
        if let Some(kind) = kind {
            vertex.kind = Some(kind.to_string());
        }
        if let Some(styles) = styles {
            vertex.styles.extend(styles.iter().cloned());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_vertex_full(
        &mut self,
        id: &str,
        id_span: Span,
        text: Option<&Text>,
        kind: Option<&'static str>,
        styles: Option<&Vec<String>>,
        props: Option<(String, String)>,
        whole: Span,
    ) {
        let def = text.map(|_| whole);
        self.add_vertex(id, id_span, text, styles, kind, def);
        if let (Some((k, v)), Some(vertex)) = (props, self.vertices.get_mut(id)) {
            vertex.props.insert(k, v);
        }
    }

    /// `addVertex(id, ..., shapeData)`: YAML metadata for a node (or for an edge id).
    fn add_shape_data(&mut self, id: &str, data: &ast::ShapeData) -> Result<(), Diagnostic> {
        let yaml = if data.raw.contains('\n') { format!("{}\n", data.raw) } else { format!("{{\n{}\n}}", data.raw) };
        let doc: Value = match serde_yaml::from_str::<serde_yaml::Value>(&yaml) {
            Ok(v) => serde_json::to_value(v).unwrap_or(Value::Null),
            Err(err) => {
                return Err(Diagnostic::error(
                    codes::INVALID_SHAPE_DATA,
                    format!("`@{{...}}` of `{id}` is not valid YAML: {err}"),
                )
                .with_primary(data.span, "this shape data")
                .with_help("write the shape data as YAML: `id@{ shape: cyl, label: \"Orders DB\" }`"));
            }
        };
        if let Some(edge) = self.edge_ids.get(id).map(|&i| &mut self.edges[i]) {
            if let Some(v) = doc.get("animate") {
                edge.animate = Some(v.clone());
            }
            if let Some(v) = doc.get("animation") {
                edge.animation = Some(v.clone());
            }
            if let Some(v) = doc.get("curve") {
                edge.interpolate = Some(json_text(v));
            }
            return Ok(());
        }
        if id.trim().is_empty() {
            return Ok(());
        }
        let vertex = self.vertices.entry(id.to_string()).or_insert_with(|| Vertex {
            id: id.to_string(),
            text: id.to_string(),
            label_type: "text".into(),
            span: data.span,
            ..Vertex::default()
        });
        if let Some(shape) = doc.get("shape").filter(|v| truthy(v)) {
            let shape = json_text(shape);
            if shape != shape.to_lowercase() || shape.contains('_') {
                return Err(unknown_shape(&shape, data.span, true));
            }
            if !is_valid_shape(&shape) {
                return Err(unknown_shape(&shape, data.span, false));
            }
            vertex.kind = Some(shape);
            vertex.definition_span = Some(data.span);
        }
        if let Some(label) = doc.get("label").filter(|v| truthy(v)) {
            vertex.text = json_text(label);
            vertex.label_type = match doc.get("labelType").map(json_text).as_deref() {
                Some(t @ ("markdown" | "string" | "text")) => t.to_string(),
                _ => "markdown".to_string(),
            };
            vertex.definition_span = Some(data.span);
        }
        let label_blank = doc.get("label").is_none_or(|l| json_text(l).trim().is_empty());
        if let Some(icon) = doc.get("icon").filter(|v| truthy(v)) {
            vertex.icon = Some(json_text(icon));
            if label_blank && vertex.text == id {
                vertex.text.clear();
            }
        }
        if let Some(v) = doc.get("form").filter(|v| truthy(v)) {
            vertex.form = Some(json_text(v));
        }
        if let Some(v) = doc.get("pos").filter(|v| truthy(v)) {
            vertex.pos = Some(json_text(v));
        }
        if let Some(img) = doc.get("img").filter(|v| truthy(v)) {
            vertex.img = Some(json_text(img));
            if label_blank && vertex.text == id {
                vertex.text.clear();
            }
        }
        if let Some(v) = doc.get("constraint").filter(|v| truthy(v)) {
            vertex.constraint = Some(json_text(v));
        }
        if let Some(v) = doc.get("w").filter(|v| truthy(v)) {
            vertex.asset_width = json_text(v).parse().ok();
        }
        if let Some(v) = doc.get("h").filter(|v| truthy(v)) {
            vertex.asset_height = json_text(v).parse().ok();
        }
        Ok(())
    }

    fn add_link(&mut self, starts: &[(&str, Span)], ends: &[(&str, Span)], link: &ast::Link) {
        let info = destruct_link(&link.token, link.start_token.as_deref());
        let id = link.id.as_ref().map(|i| i.value.clone());
        for (si, (start, start_span)) in starts.iter().enumerate() {
            for (ei, (end, end_span)) in ends.iter().enumerate() {
                let is_last_start = starts.last().is_some_and(|(s, _)| s == start) || si + 1 == starts.len();
                let is_first_end = ends.first().is_some_and(|(e, _)| e == end) || ei == 0;
                let (start, end): (&str, &str) = (start, end);
                let edge_id = if is_last_start && is_first_end { id.clone() } else { None };
                let span = start_span.cover(*end_span);
                self.add_single_link(start, end, &info, link, edge_id, span);
            }
        }
    }

    fn add_single_link(
        &mut self,
        start: &str,
        end: &str,
        info: &LinkInfo,
        link: &ast::Link,
        id: Option<String>,
        span: Span,
    ) {
        let mut edge = Edge {
            start: start.to_string(),
            end: end.to_string(),
            text: String::new(),
            label_type: "text".into(),
            interpolate: self.link_interpolate_default.clone(),
            span,
            link_span: link.span,
            ..Edge::default()
        };
        if let Some(text) = &link.text {
            let mut t = sanitize(text.text.trim());
            if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
                t = t[1..t.len() - 1].to_string();
            }
            edge.text = t;
            edge.label_type = text.kind.as_str().to_string();
        }
        edge.kind = info.kind.clone();
        edge.stroke = info.stroke.clone();
        edge.length = info.length.map(|l| l.min(10));
        let pair = match (self.vertices.get_index_of(start), self.vertices.get_index_of(end)) {
            (Some(s), Some(e)) => self.edge_pairs.entry((s, e)).or_insert(0),
            _ => self.edge_pairs_by_name.entry((edge.start.clone(), edge.end.clone())).or_insert(0),
        };
        match id {
            Some(id) if !self.edge_ids.contains_key(&id) => {
                edge.id = id;
                edge.is_user_defined_id = true;
            }
            _ => {
                let counter = if *pair == 0 { 0 } else { *pair + 1 };
                edge.id = format!("L_{}_{}_{}", edge.start, edge.end, counter);
            }
        }
        *pair += 1;
        self.edge_ids.entry(edge.id.clone()).or_insert(self.edges.len());
        self.edges.push(edge);
    }

    fn link_style(&mut self, ls: &ast::LinkStyle) -> Result<(), Diagnostic> {
        let positions: Vec<Option<(usize, Span)>> = match &ls.target {
            ast::LinkStyleTarget::Default => vec![None],
            ast::LinkStyleTarget::Indices(idx) => {
                idx.iter().map(|n| Some((n.value.parse().unwrap_or(usize::MAX), n.span))).collect()
            }
        };
        for (i, span) in positions.iter().flatten() {
            {
                if *i >= self.edges.len() {
                    let count = self.edges.len();
                    let valid = if count == 0 {
                        "the diagram has no edges yet".to_string()
                    } else {
                        format!("valid indices are 0 to {}", count - 1)
                    };
                    return Err(Diagnostic::error(
                        codes::LINK_STYLE_OUT_OF_RANGE,
                        format!("`linkStyle {i}` names an edge that does not exist ({valid})"),
                    )
                    .with_primary(*span, "no edge with this index")
                    .with_help("edges are numbered from 0 in the order they are written, up to this line"));
                }
            }
        }
        if let Some(interp) = &ls.interpolate {
            for pos in &positions {
                match pos {
                    None => self.link_interpolate_default = Some(interp.clone()),
                    Some((i, _)) => self.edges[*i].interpolate = Some(interp.clone()),
                }
            }
        }
        if ls.interpolate.is_some() && ls.styles.is_empty() {
            return Ok(());
        }
        for pos in &positions {
            match pos {
                None => self.link_style_default = Some(ls.styles.clone()),
                Some((i, _)) => {
                    let mut style = ls.styles.clone();
                    if !style.is_empty() && !style.iter().any(|s| s.starts_with("fill")) {
                        style.push("fill:none".into());
                    }
                    self.edges[*i].style = Some(style);
                }
            }
        }
        Ok(())
    }

    fn add_class(&mut self, ids: &str, styles: &[String], span: Span) {
        let joined =
            styles.join(",").replace("\\,", "\u{A7}\u{A7}\u{A7}").replace(',', ";").replace("\u{A7}\u{A7}\u{A7}", ",");
        let parts: Vec<&str> = joined.split(';').collect();
        for id in ids.split(',') {
            let class = self.classes.entry(id.to_string()).or_insert_with(|| ClassDef { span, ..ClassDef::default() });
            for s in &parts {
                if s.contains("color") {
                    class.text_styles.push(s.replacen("fill", "bgFill", 1));
                }
                class.styles.push((*s).to_string());
            }
        }
    }

    fn set_class(&mut self, ids: &str, class: &str) {
        for id in ids.split(',') {
            if let Some(v) = self.vertices.get_mut(id) {
                v.classes.push(class.to_string());
            }
            if let Some(&i) = self.edge_ids.get(id) {
                self.edges[i].classes.push(class.to_string());
            }
            if let Some(&i) = self.subgraph_lookup.get(id) {
                self.subgraphs[i].classes.push(class.to_string());
            }
        }
    }

    fn click(&mut self, click: &ast::Click) {
        let ids = &click.ids.value;
        match &click.action {
            // callbacks only run with `securityLevel: loose`; the class is added regardless
            ast::ClickAction::Callback { .. } => self.set_class(ids, "clickable"),
            ast::ClickAction::Link { url, target } => {
                for id in ids.split(',') {
                    if let Some(v) = self.vertices.get_mut(id) {
                        v.link = format_url(url);
                        v.link_target = target.clone();
                    }
                }
                self.set_class(ids, "clickable");
            }
        }
        if let Some(tip) = &click.tooltip {
            let tip = sanitize(tip);
            for id in ids.split(',') {
                self.tooltips.insert(id.to_string(), tip.clone());
            }
        }
    }

    fn add_subgraph(&mut self, sg: &ast::Subgraph, items: Vec<Item>) -> Result<String, Diagnostic> {
        let Some(id_text) = &sg.id_text else {
            return Err(Diagnostic::error(codes::SUBGRAPH_WITHOUT_ID, "`subgraph` without an id or a title")
                .with_primary(sg.header_span, "Mermaid cannot draw this subgraph")
                .with_help("name the subgraph: `subgraph vpc [VPC]`"));
        };
        let same = sg.title.is_none();
        let title_text: &Text = sg.title.as_ref().unwrap_or(id_text);
        let mut id = Some(id_text.text.trim().to_string());
        if same && title_text.text.chars().any(char::is_whitespace) {
            id = None;
        }
        let mut dir: Option<&'static str> = None;
        let mut nodes: Vec<String> = Vec::new();
        let mut seen = FxHashSet::default();
        for item in items {
            match item {
                Item::Dir(d) => dir = Some(d),
                Item::Name(n) => {
                    if !n.trim().is_empty() && seen.insert(n.clone()) {
                        nodes.push(n);
                    }
                }
            }
        }
        let dir = dir.map(str::to_string).or_else(|| self.inherit_dir.then(|| self.direction.clone()));
        let id = id.unwrap_or_else(|| format!("subGraph{}", self.sub_count));
        let title = sanitize(&title_text.text).trim().to_string();
        self.sub_count += 1;
        let label_type = match title_text.kind {
            TextKind::Text if !same => "text",
            TextKind::String => "string",
            TextKind::Markdown => "markdown",
            TextKind::Text => "text",
        };
        nodes.retain(|n| !self.claimed.contains(n));
        self.claimed.extend(nodes.iter().cloned());
        let subgraph = Subgraph {
            id: id.clone(),
            title,
            label_type: label_type.into(),
            nodes,
            dir,
            classes: Vec::new(),
            span: sg.span,
            header_span: sg.header_span,
        };
        self.subgraphs.push(subgraph);
        self.subgraph_lookup.insert(id.clone(), self.subgraphs.len() - 1);
        Ok(id)
    }
}

fn unknown_shape(shape: &str, span: Span, case: bool) -> Diagnostic {
    let suggestion = super::shapes::SHAPE_NAMES
        .iter()
        .map(|s| (strsim::jaro_winkler(&shape.to_lowercase().replace('_', "-"), s), *s))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8)
        .map(|(_, s)| s);
    let mermaid = if case {
        format!("No such shape: {shape}. Shape names should be lowercase.")
    } else {
        format!("No such shape: {shape}.")
    };
    let mut d = Diagnostic::error(codes::UNKNOWN_SHAPE, format!("no such shape: `{shape}`"))
        .with_mermaid(mermaid)
        .with_primary(span, if case { "shape names are lowercase, with `-`" } else { "not a Mermaid shape" });
    d = match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("use one of Mermaid's shape names, e.g. `rect`, `cyl`, `circle`, `diamond`"),
    };
    d
}

/// `setAccDescription`: a line break and the whitespace after it become one line break.
fn collapse_indentation(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\n' && chars.peek().is_some_and(|c| c.is_whitespace()) {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        }
    }
    out
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `formatUrl` under `securityLevel: strict` (`@braintree/sanitize-url`).
fn format_url(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let scheme: String =
        url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
    let scheme = scheme.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if scheme.starts_with("javascript:") || scheme.starts_with("data:") || scheme.starts_with("vbscript:") {
        return Some("about:blank".into());
    }
    Some(normalize_url(url))
}

/// `new URL(url).href` for the common case: scheme and host lower case, `/` as the path of
/// a bare `scheme://host`.
fn normalize_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    if !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return url.to_string();
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    let tail = if tail.starts_with('/') { tail.to_string() } else { format!("/{tail}") };
    format!("{}://{}{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), tail)
}

/// A link's type, stroke and length, as `FlowDB.destructLink` derives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub kind: String,
    pub stroke: String,
    pub length: Option<u32>,
}

fn destruct_end_link(token: &str) -> LinkInfo {
    let s = token.trim();
    let mut line: &str = s.get(..s.len().saturating_sub(1)).unwrap_or("");
    let mut kind = "arrow_open".to_string();
    let last = s.chars().last();
    let double = |first: char, line: &mut &str| {
        if s.starts_with(first) {
            *line = line.get(1..).unwrap_or("");
            true
        } else {
            false
        }
    };
    match last {
        Some('x') => kind = if double('x', &mut line) { "double_arrow_cross" } else { "arrow_cross" }.into(),
        Some('>') => kind = if double('<', &mut line) { "double_arrow_point" } else { "arrow_point" }.into(),
        Some('o') => kind = if double('o', &mut line) { "double_arrow_circle" } else { "arrow_circle" }.into(),
        _ => {}
    }
    let mut stroke = "normal";
    let mut length = line.chars().count() as i64 - 1;
    if line.starts_with('=') {
        stroke = "thick";
    }
    if line.starts_with('~') {
        stroke = "invisible";
    }
    let dots = line.chars().filter(|&c| c == '.').count();
    if dots > 0 {
        stroke = "dotted";
        length = dots as i64;
    }
    LinkInfo { kind, stroke: stroke.into(), length: Some(length.max(0) as u32) }
}

/// `FlowDB.destructLink(end, start)`.
pub fn destruct_link(token: &str, start: Option<&str>) -> LinkInfo {
    let info = destruct_end_link(token);
    let Some(start) = start else { return info };
    let mut s = start.trim();
    let mut kind = "arrow_open";
    match s.chars().next() {
        Some('<') => {
            kind = "arrow_point";
            s = &s[1..];
        }
        Some('x') => {
            kind = "arrow_cross";
            s = &s[1..];
        }
        Some('o') => {
            kind = "arrow_circle";
            s = &s[1..];
        }
        _ => {}
    }
    let mut stroke = "normal";
    if s.contains('=') {
        stroke = "thick";
    }
    if s.contains('.') {
        stroke = "dotted";
    }
    let invalid = || LinkInfo { kind: "INVALID".into(), stroke: "INVALID".into(), length: None };
    if stroke != info.stroke {
        return invalid();
    }
    let kind = if kind == "arrow_open" {
        info.kind.clone()
    } else if kind != info.kind {
        return invalid();
    } else {
        format!("double_{kind}")
    };
    let kind = if kind == "double_arrow" { "double_arrow_point".to_string() } else { kind };
    LinkInfo { kind, stroke: stroke.into(), length: info.length }
}

#[cfg(test)]
mod tests {
    use super::destruct_link;

    #[test]
    fn link_tokens() {
        let l = destruct_link("-->", None);
        assert_eq!((l.kind.as_str(), l.stroke.as_str(), l.length), ("arrow_point", "normal", Some(1)));
        let l = destruct_link(" -..-> ", None);
        assert_eq!((l.kind.as_str(), l.stroke.as_str(), l.length), ("arrow_point", "dotted", Some(2)));
        let l = destruct_link("<==>", None);
        assert_eq!((l.kind.as_str(), l.stroke.as_str(), l.length), ("double_arrow_point", "thick", Some(1)));
        let l = destruct_link("~~~~", None);
        assert_eq!((l.kind.as_str(), l.stroke.as_str(), l.length), ("arrow_open", "invisible", Some(2)));
        let l = destruct_link("--x", Some("o--"));
        assert_eq!(l.kind, "INVALID");
        let l = destruct_link(" .-> ", Some("-. "));
        assert_eq!((l.kind.as_str(), l.stroke.as_str(), l.length), ("arrow_point", "dotted", Some(1)));
    }
}
