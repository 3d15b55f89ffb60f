//! The flowchart model: what Mermaid's `FlowDB` holds after a parse (vertices, edges,
//! subgraphs, classes), built by replaying the syntax tree the way Mermaid's parser
//! actions call `FlowDB`, quirks included. Each element keeps its spans.

use indexmap::IndexMap;
/// foldhash, not FxHash: on generated ids such as `n12345` FxHash spreads poorly, lookups
/// compared more keys, and building the model of 10k nodes took 1.7x as long (`cargo bench
/// --bench parse -- model_only`).
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
type FastSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;
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
    /// `text`, `string` or `markdown`.
    pub label_type: &'static str,
    pub styles: Vec<String>,
    pub classes: Vec<String>,
    pub link: Option<String>,
    pub link_target: Option<String>,
    pub props: IndexMap<String, String>,
    /// `icon`, `img` and their placement from `@{ ... }` (rare: boxed, so that a vertex
    /// stays small in diagrams of 100k nodes).
    pub asset: Option<Box<Asset>>,
    /// Values from `@{ ... }` that are not strings (`label: 1`), which Mermaid keeps as
    /// they are: FlowDB key (`text`, `icon`, ...) → value. For the oracle JSON view.
    pub json_values: Vec<(&'static str, Value)>,
    /// Where the id is first written.
    pub span: Span,
    /// Where the label/shape in effect was written (the last definition wins).
    pub definition_span: Option<Span>,
    /// Every place the id is written as a node.
    pub mentions: Vec<Span>,
}

/// A vertex's icon or image (`@{ icon: ..., form: ..., pos: ..., img: ..., w: ..., h: ... }`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Asset {
    pub icon: Option<String>,
    pub form: Option<String>,
    pub pos: Option<String>,
    pub img: Option<String>,
    pub constraint: Option<String>,
    pub width: Option<f64>,
    pub height: Option<f64>,
}

static NO_ASSET: Asset =
    Asset { icon: None, form: None, pos: None, img: None, constraint: None, width: None, height: None };

impl Vertex {
    /// The vertex's icon or image settings (all `None` when it has none).
    pub fn asset(&self) -> &Asset {
        self.asset.as_deref().unwrap_or(&NO_ASSET)
    }

    fn asset_mut(&mut self) -> &mut Asset {
        self.asset.get_or_insert_with(Box::default)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Edge {
    pub id: String,
    pub is_user_defined_id: bool,
    pub start: String,
    pub end: String,
    /// `arrow_point`, `arrow_open`, `double_arrow_point`, ... or `INVALID`.
    pub kind: &'static str,
    /// `normal`, `thick`, `dotted`, `invisible` or `INVALID`.
    pub stroke: &'static str,
    pub length: Option<u32>,
    pub text: String,
    pub label_type: &'static str,
    pub style: Option<Vec<String>>,
    pub classes: Vec<String>,
    pub interpolate: Option<String>,
    /// Rare: boxed, so that an edge stays small.
    pub animate: Option<Box<Value>>,
    pub animation: Option<Box<Value>>,
    /// `a --> b` as written (from the start node to the end node).
    pub span: Span,
    /// The link token itself.
    pub link_span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Subgraph {
    pub id: String,
    pub title: String,
    pub label_type: &'static str,
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
    pub vertices: IndexMap<compact_str::CompactString, Vertex, foldhash::fast::FixedState>,
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
    subgraph_lookup: FastMap<String, usize>,
    /// Edge id → index into `edges`.
    edge_ids: FastMap<String, usize>,
    /// The same for generated ids (`L_a_b_0`), built when one is first looked up: most
    /// diagrams never do, and it would hold every edge.
    auto_edge_ids: Option<FastMap<String, usize>>,
    /// How many edges join each (start, end) pair of vertex indices.
    edge_pairs: FastMap<u64, usize>,
    /// The same for ends that are not vertices (an edge id used as an end).
    edge_pairs_by_name: FastMap<(String, String), usize>,
    /// Nodes some subgraph already holds.
    claimed: FastSet<String>,
    sub_count: usize,
    /// `flowchart.inheritDir` from the diagram's configuration.
    inherit_dir: bool,
    /// How many subgraphs the statements being run are nested in.
    depth: usize,
}

/// An item of a `document` as Mermaid's parser collects it (subgraph membership).
enum Item<'a> {
    Name(std::borrow::Cow<'a, str>),
    Dir(&'static str),
}

impl Vertex {
    fn set_json_value(&mut self, key: &'static str, value: Option<Value>) {
        self.json_values.retain(|(k, _)| *k != key);
        if let Some(value) = value {
            self.json_values.push((key, value));
        }
    }
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
        db.reserve(&flowchart.statements);
        let mut errors = Vec::new();
        db.run(&flowchart.statements, &mut errors);
        if errors.is_empty() {
            Ok(db)
        } else {
            Err(errors)
        }
    }

    /// Room for the vertices and edges the statements can make (fewer reallocations of
    /// large entries); vertices are counted as half the mentions.
    fn reserve(&mut self, statements: &[Statement]) {
        fn count(statements: &[Statement], mentions: &mut usize, edges: &mut usize) {
            for statement in statements {
                match statement {
                    Statement::Vertex(v) => {
                        *mentions += v.groups.iter().map(|g| g.members.len()).sum::<usize>();
                        *edges += v.groups.windows(2).map(|w| w[0].members.len() * w[1].members.len()).sum::<usize>();
                    }
                    Statement::Subgraph(sg) => count(&sg.body, mentions, edges),
                    _ => {}
                }
            }
        }
        let (mut mentions, mut edges) = (0, 0);
        count(statements, &mut mentions, &mut edges);
        self.vertices.reserve(mentions / 4);
        self.edges.reserve(edges);
        self.edge_pairs.reserve(edges);
    }

    /// The edge an id names (user-defined ids first, which win over generated ones).
    fn edge_index(&mut self, id: &str) -> Option<usize> {
        if let Some(&i) = self.edge_ids.get(id) {
            return Some(i);
        }
        if !id.starts_with("L_") {
            return None;
        }
        let edges = &self.edges;
        let auto = self.auto_edge_ids.get_or_insert_with(|| {
            let mut map = FastMap::default();
            for (i, e) in edges.iter().enumerate().filter(|(_, e)| !e.is_user_defined_id) {
                map.entry(e.id.clone()).or_insert(i);
            }
            map
        });
        auto.get(id).copied()
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

    fn run<'a>(&mut self, statements: &'a [Statement], errors: &mut Vec<Diagnostic>) -> Vec<Item<'a>> {
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
                    self.depth += 1;
                    let body = self.run(&sg.body, errors);
                    self.depth -= 1;
                    if !errors.is_empty() {
                        break;
                    }
                    match self.add_subgraph(sg, body) {
                        Ok(id) => items.push(Item::Name(id.into())),
                        Err(e) => errors.push(e),
                    }
                }
                Statement::Direction { value, span } => {
                    self.direction_lines.push(((*value).to_string(), *span));
                    items.push(Item::Dir(value));
                }
                Statement::AccTitle(t) => {
                    self.acc_title = Some(sanitize(&t.value).trim_start().to_string());
                    items.push(Item::Name(t.value.as_str().into()));
                }
                Statement::AccDescr(t) => {
                    self.acc_descr = Some(collapse_indentation(&sanitize(&t.value)));
                    items.push(Item::Name(t.value.as_str().into()));
                }
                Statement::Semi(_) => items.push(Item::Name(";".into())),
            }
        }
        items
    }

    fn vertex_statement<'a>(
        &mut self,
        v: &'a ast::VertexStatement,
        items: &mut Vec<Item<'a>>,
    ) -> Result<(), Diagnostic> {
        // (id, span, vertex index)
        let mut previous: Vec<(&str, Span, Option<usize>)> = Vec::new();
        let mut ids: Vec<(&str, Span, Option<usize>)> = Vec::new();
        let first_item = items.len();
        for (gi, group) in v.groups.iter().enumerate() {
            ids.clear();
            for member in &group.members {
                let vx = &member.vertex;
                let (text, kind, props) = match &vx.shape {
                    Some(shape) => (Some(&shape.text), Some(shape.kind), shape.props.clone()),
                    None => (None, None, None),
                };
                let index = self.add_vertex_full(&vx.id.value, vx.id.span, text, kind, None, props, vx.span);
                if let Some(class) = &member.class {
                    self.set_class(&vx.id.value, &class.value);
                }
                if let (Some(data), Some(&(prev, _, _))) = (&member.previous_shape_data, ids.last()) {
                    self.add_shape_data(prev, data)?;
                }
                ids.push((&vx.id.value, vx.span, index));
            }
            if let (Some(data), Some(&(last, _, _))) = (&group.shape_data, ids.last()) {
                self.add_shape_data(last, data)?;
            }
            if gi > 0 {
                self.add_link(&previous, &ids, &v.links[gi - 1]);
            }
            // Mermaid lists a statement's nodes last group first: `a --> b` gives [b, a]
            // (outside subgraphs nobody reads them)
            if self.depth > 0 {
                items.splice(first_item..first_item, ids.iter().map(|&(id, _, _)| Item::Name(id.into())));
            }
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
    ) -> Option<usize> {
        if id.trim().is_empty() || self.edge_index(id).is_some() {
            return None;
        }
        let index = match self.vertices.get_index_of(id) {
            Some(i) => i,
            None => {
                let vertex = Vertex {
                    id: id.to_string(),
                    // a label given now replaces the id at once
                    text: if text.is_some() { String::new() } else { id.to_string() },
                    label_type: "text",
                    span,
                    ..Vertex::default()
                };
                self.vertices.insert_full(id.into(), vertex).0
            }
        };
        let vertex = &mut self.vertices[index];
        vertex.mentions.push(span);
        if let Some(text) = text {
            let trimmed = js_trim(&text.text);
            if trimmed.contains('<') {
                let mut txt = sanitize(trimmed);
                if txt.len() >= 2 && txt.starts_with('"') && txt.ends_with('"') {
                    txt = txt[1..txt.len() - 1].to_string();
                }
                vertex.text = txt;
            } else {
                // `sanitize` returns such text unchanged: reuse the buffer
                let unquoted = match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                    Some(inner) if trimmed.len() >= 2 => inner,
                    _ => trimmed,
                };
                vertex.text.clear();
                vertex.text.push_str(unquoted);
            }
            vertex.label_type = text.kind.as_str();
            if !vertex.json_values.is_empty() {
                vertex.set_json_value("text", None);
            }
            vertex.definition_span = def;
        }
        if let Some(kind) = kind {
            if vertex.kind.as_deref() != Some(kind) {
                vertex.kind = Some(kind.to_string());
            }
        }
        if let Some(styles) = styles {
            vertex.styles.extend(styles.iter().cloned());
        }
        Some(index)
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
    ) -> Option<usize> {
        let def = text.map(|_| whole);
        let index = self.add_vertex(id, id_span, text, styles, kind, def);
        if let (Some((k, v)), Some(vertex)) = (props, index.and_then(|i| self.vertices.get_index_mut(i))) {
            vertex.1.props.insert(k, v);
        }
        index
    }

    /// `addVertex(id, ..., shapeData)`: YAML metadata for a node (or for an edge id).
    fn add_shape_data(&mut self, id: &str, data: &ast::ShapeData) -> Result<(), Diagnostic> {
        let yaml = if data.raw.contains('\n') { format!("{}\n", data.raw) } else { format!("{{\n{}\n}}", data.raw) };
        let doc: Value = match crate::syntax::preprocess::parse_yaml(&yaml) {
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
        if let Some(edge) = self.edge_index(id).map(|i| &mut self.edges[i]) {
            if let Some(v) = doc.get("animate") {
                edge.animate = Some(Box::new(v.clone()));
            }
            if let Some(v) = doc.get("animation") {
                edge.animation = Some(Box::new(v.clone()));
            }
            if let Some(v) = doc.get("curve") {
                edge.interpolate = Some(json_text(v));
            }
            return Ok(());
        }
        if id.trim().is_empty() {
            return Ok(());
        }
        let vertex = self.vertices.entry(id.into()).or_insert_with(|| Vertex {
            id: id.to_string(),
            text: id.to_string(),
            label_type: "text",
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
        let label = doc.get("label");
        if let Some(label) = label.filter(|v| truthy(v)) {
            vertex.text = json_text(label);
            vertex.set_json_value("text", (!label.is_string()).then(|| label.clone()));
            vertex.label_type = match doc.get("labelType").map(json_text).as_deref() {
                Some("string") => "string",
                Some("text") => "text",
                _ => "markdown",
            };
            vertex.definition_span = Some(data.span);
        }
        let icon = doc.get("icon").filter(|v| truthy(v));
        let img = doc.get("img").filter(|v| truthy(v));
        if (icon.is_some() || img.is_some()) && label.is_some_and(|l| !l.is_null() && !l.is_string()) {
            // `doc.label?.trim()` on a number, a list or a map
            return Err(Diagnostic::error(
                codes::INVALID_SHAPE_DATA,
                format!("the `label` of `{id}` must be text when `icon` or `img` is given"),
            )
            .with_mermaid("doc.label?.trim is not a function")
            .with_primary(data.span, "this shape data")
            .with_help("quote the label: `label: \"1\"`"));
        }
        let label_blank = label.and_then(Value::as_str).is_none_or(|l| l.trim().is_empty());
        let text_is_id = |v: &Vertex| v.text == id && !v.json_values.iter().any(|(k, _)| *k == "text");
        if let Some(icon) = icon {
            vertex.asset_mut().icon = Some(json_text(icon));
            vertex.set_json_value("icon", (!icon.is_string()).then(|| icon.clone()));
            if label_blank && text_is_id(vertex) {
                vertex.text.clear();
            }
        }
        if let Some(v) = doc.get("form").filter(|v| truthy(v)) {
            vertex.asset_mut().form = Some(json_text(v));
            vertex.set_json_value("form", (!v.is_string()).then(|| v.clone()));
        }
        if let Some(v) = doc.get("pos").filter(|v| truthy(v)) {
            vertex.asset_mut().pos = Some(json_text(v));
            vertex.set_json_value("pos", (!v.is_string()).then(|| v.clone()));
        }
        if let Some(img) = img {
            vertex.asset_mut().img = Some(json_text(img));
            vertex.set_json_value("img", (!img.is_string()).then(|| img.clone()));
            if label_blank && text_is_id(vertex) {
                vertex.text.clear();
            }
        }
        if let Some(v) = doc.get("constraint").filter(|v| truthy(v)) {
            vertex.asset_mut().constraint = Some(json_text(v));
            vertex.set_json_value("constraint", (!v.is_string()).then(|| v.clone()));
        }
        if let Some(v) = doc.get("w").filter(|v| truthy(v)) {
            vertex.asset_mut().width = Some(js_to_number(v));
        }
        if let Some(v) = doc.get("h").filter(|v| truthy(v)) {
            vertex.asset_mut().height = Some(js_to_number(v));
        }
        Ok(())
    }

    fn add_link(
        &mut self,
        starts: &[(&str, Span, Option<usize>)],
        ends: &[(&str, Span, Option<usize>)],
        link: &ast::Link,
    ) {
        let info = destruct(&link.token, link.start_token.as_deref());
        let id = link.id.as_ref().map(|i| i.value.clone());
        for (si, &(start, start_span, start_index)) in starts.iter().enumerate() {
            for (ei, &(end, end_span, end_index)) in ends.iter().enumerate() {
                let is_last_start = starts.last().is_some_and(|(s, _, _)| *s == start) || si + 1 == starts.len();
                let is_first_end = ends.first().is_some_and(|(e, _, _)| *e == end) || ei == 0;
                let edge_id = if is_last_start && is_first_end { id.clone() } else { None };
                let span = start_span.cover(end_span);
                let indices = (start_index, end_index);
                self.add_single_link(start, end, indices, &info, link, edge_id, span);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_single_link(
        &mut self,
        start: &str,
        end: &str,
        indices: (Option<usize>, Option<usize>),
        info: &LinkKind,
        link: &ast::Link,
        id: Option<String>,
        span: Span,
    ) {
        let mut edge = Edge {
            start: start.to_string(),
            end: end.to_string(),
            text: String::new(),
            label_type: "text",
            interpolate: self.link_interpolate_default.clone(),
            span,
            link_span: link.span,
            ..Edge::default()
        };
        if let Some(text) = &link.text {
            let mut t = sanitize(js_trim(&text.text));
            if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
                t = t[1..t.len() - 1].to_string();
            }
            edge.text = t;
            edge.label_type = text.kind.as_str();
        }
        edge.kind = info.kind;
        edge.stroke = info.stroke;
        edge.length = info.length.map(|l| l.min(10));
        let start_index = indices.0.or_else(|| self.vertices.get_index_of(start));
        let end_index = indices.1.or_else(|| self.vertices.get_index_of(end));
        let pair = match (start_index, end_index) {
            (Some(s), Some(e)) => self.edge_pairs.entry(((s as u64) << 32) | e as u64).or_insert(0),
            _ => self.edge_pairs_by_name.entry((edge.start.clone(), edge.end.clone())).or_insert(0),
        };
        let existing = *pair;
        *pair += 1;
        match id {
            Some(id) if self.edge_index(&id).is_none() => {
                edge.id = id;
                edge.is_user_defined_id = true;
            }
            _ => {
                let counter = if existing == 0 { 0 } else { existing + 1 };
                edge.id = format!("L_{}_{}_{}", edge.start, edge.end, counter);
            }
        }
        let index = self.edges.len();
        if edge.is_user_defined_id {
            self.edge_ids.entry(edge.id.clone()).or_insert(index);
        } else if let Some(auto) = &mut self.auto_edge_ids {
            auto.entry(edge.id.clone()).or_insert(index);
        }
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
            if let Some(i) = self.edge_index(id) {
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
                        v.link = super::url::format_url(url);
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

    fn add_subgraph(&mut self, sg: &ast::Subgraph, items: Vec<Item<'_>>) -> Result<String, Diagnostic> {
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
        let mut seen = FastSet::default();
        for item in items {
            match item {
                Item::Dir(d) => dir = Some(d),
                Item::Name(n) => {
                    if !n.trim().is_empty() && seen.insert(n.clone()) {
                        nodes.push(n.into_owned());
                    }
                }
            }
        }
        let dir = dir.map(str::to_string).or_else(|| self.inherit_dir.then(|| self.direction.clone()));
        let id = id.unwrap_or_else(|| format!("subGraph{}", self.sub_count));
        let title = js_trim(&sanitize(&title_text.text)).to_string();
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
            label_type,
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

/// JavaScript's `Number(v)` (`NaN` for what does not convert).
fn js_to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => {
            let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
            if t.is_empty() {
                return 0.0;
            }
            let radix =
                |p: &str, r: u32| t.strip_prefix(p).map(|d| u64::from_str_radix(d, r).map_or(f64::NAN, |n| n as f64));
            if let Some(n) = radix("0x", 16)
                .or_else(|| radix("0X", 16))
                .or_else(|| radix("0o", 8))
                .or_else(|| radix("0O", 8))
                .or_else(|| radix("0b", 2))
                .or_else(|| radix("0B", 2))
            {
                return n;
            }
            match t.trim_start_matches(['+', '-']) {
                "Infinity" => {
                    if t.starts_with('-') {
                        f64::NEG_INFINITY
                    } else {
                        f64::INFINITY
                    }
                }
                u if u.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) => {
                    t.parse().unwrap_or(f64::NAN)
                }
                _ => f64::NAN,
            }
        }
        Value::Array(a) => match a.as_slice() {
            [] => 0.0,
            [one] if !one.is_array() && !one.is_object() => js_to_number(one),
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN,
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A link's type, stroke and length, as `FlowDB.destructLink` derives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub kind: String,
    pub stroke: String,
    pub length: Option<u32>,
}

/// `destructLink` with static names (no allocation per link).
#[derive(Debug, Clone, Copy)]
struct LinkKind {
    kind: &'static str,
    stroke: &'static str,
    length: Option<u32>,
}

fn destruct_end_link(token: &str) -> LinkKind {
    let s = token.trim();
    let mut line: &str = s.get(..s.len().saturating_sub(1)).unwrap_or("");
    let mut kind = "arrow_open";
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
        Some('x') => kind = if double('x', &mut line) { "double_arrow_cross" } else { "arrow_cross" },
        Some('>') => kind = if double('<', &mut line) { "double_arrow_point" } else { "arrow_point" },
        Some('o') => kind = if double('o', &mut line) { "double_arrow_circle" } else { "arrow_circle" },
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
    LinkKind { kind, stroke, length: Some(length.max(0) as u32) }
}

fn destruct(token: &str, start: Option<&str>) -> LinkKind {
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
    let invalid = LinkKind { kind: "INVALID", stroke: "INVALID", length: None };
    if stroke != info.stroke {
        return invalid;
    }
    let kind = match kind {
        "arrow_open" => info.kind,
        k if k != info.kind => return invalid,
        "arrow_point" => "double_arrow_point",
        "arrow_cross" => "double_arrow_cross",
        _ => "double_arrow_circle",
    };
    LinkKind { kind, stroke, length: info.length }
}

/// `FlowDB.destructLink(end, start)`.
pub fn destruct_link(token: &str, start: Option<&str>) -> LinkInfo {
    let k = destruct(token, start);
    LinkInfo { kind: k.kind.to_string(), stroke: k.stroke.to_string(), length: k.length }
}

/// JavaScript's `String.prototype.trim`: white space and line terminators, U+FEFF (which
/// Rust's `trim` keeps) but not U+0085 (which Rust's `trim` removes).
fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
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
