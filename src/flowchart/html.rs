//! What Mermaid does to every label: `DOMPurify.sanitize` (twice, under the default
//! `securityLevel: strict`; the second time with `FORBID_TAGS: ['style']`). Text without
//! `<` comes back unchanged (DOMPurify's fast path); otherwise the text is parsed by
//! html5ever as `DOMParser` parses a document (scripting disabled, as jsdom's parse5 does in
//! the oracle), unsafe elements and attributes are dropped from the body as DOMPurify 3
//! drops them, and the body is serialised again by html5ever's `innerHTML` serialiser
//! (`&` → `&amp;`, `<br/>` → `<br>`, ...).
//!
//! What is written here: DOMPurify's policy, a small arena tree for html5ever to build (with
//! the one place where jsdom's tree differs from the standard's, see
//! `Dom::append_before_sibling`), and a nesting limit that keeps absurdly deep labels
//! linear (see `MAX_DEPTH`).
//!
//! html5ever is held at 0.36: its tree builder and serialiser follow the same rules as
//! parse5 7, which jsdom 26 and so Mermaid's own test environment use; later releases parse
//! `<select>` by the 2025 rules and escape `<`/`>` in attribute values, which jsdom does not.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io;
use std::rc::Rc;
use std::sync::LazyLock;

use html5ever::serialize::{serialize, Serialize, SerializeOpts, Serializer, TraversalScope};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::{RawKind, State};
use html5ever::tokenizer::{
    BufferQueue, EndTag, Tag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeBuilder, TreeBuilderOpts, TreeSink};
use html5ever::{local_name, ns, Attribute, LocalName, QualName};

// ---------------------------------------------------------------------------------------
// DOMPurify's allow-lists (3.x defaults)
// ---------------------------------------------------------------------------------------

const HTML_TAGS: &str = "a abbr acronym address area article aside audio b bdi bdo big blink blockquote body br button canvas caption center cite code col colgroup content data datalist dd decorator del details dfn dialog dir div dl dt element em fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i img input ins kbd label legend li main map mark marquee menu menuitem meter nav nobr ol optgroup option output p picture pre progress q rp rt ruby s samp search section select shadow slot small source spacer span strike strong style sub summary sup table tbody td template textarea tfoot th thead time tr track tt u ul var video wbr";
const SVG_TAGS: &str = "svg a altglyph altglyphdef altglyphitem animatecolor animatemotion animatetransform circle clippath defs desc ellipse filter font g glyph glyphref hkern image line lineargradient marker mask metadata mpath path pattern polygon polyline radialgradient rect stop style switch symbol text textpath title tref tspan view vkern feblend fecolormatrix fecomponenttransfer fecomposite feconvolvematrix fediffuselighting fedisplacementmap fedistantlight fedropshadow feflood fefunca fefuncb fefuncg fefuncr fegaussianblur feimage femerge femergenode femorphology feoffset fepointlight fespecularlighting fespotlight fetile feturbulence";
/// SVG element names DOMPurify knows but does not allow (`svgDisallowed`).
const SVG_DISALLOWED: &str = "animate color-profile cursor discard font-face font-face-format font-face-name font-face-src font-face-uri foreignobject hatch hatchpath mesh meshgradient meshpatch meshrow missing-glyph script set solidcolor unknown use";
const MATHML_TAGS: &str = "math menclose merror mfenced mfrac mglyph mi mlabeledtr mmultiscripts mn mo mover mpadded mphantom mroot mrow ms mspace msqrt mstyle msub msup msubsup mtable mtd mtext mtr munder munderover mprescripts";
const MATHML_DISALLOWED: &str = "maction maligngroup malignmark mlongdiv mscarries mscarry msgroup mstack msline msrow semantics annotation annotation-xml mprescripts none";
const HTML_ATTRS: &str = "accept action align alt autocapitalize autocomplete autopictureinpicture autoplay background bgcolor border capture cellpadding cellspacing checked cite class clear color cols colspan command commandfor controls controlslist coords crossorigin datetime decoding default dir disabled disablepictureinpicture disableremoteplayback download draggable enctype enterkeyhint exportparts face for headers height hidden high href hreflang id inert inputmode integrity ismap kind label lang list loading loop low max maxlength media method min minlength multiple muted name nonce noshade novalidate nowrap open optimum part pattern placeholder playsinline popover popovertarget popovertargetaction poster preload pubdate radiogroup readonly rel required rev reversed role rows rowspan spellcheck scope selected shape size sizes slot span srclang start src srcset step style summary tabindex title translate type usemap valign value width wrap xmlns";
const SVG_ATTRS: &str = "accent-height accumulate additive alignment-baseline amplitude ascent attributename attributetype azimuth basefrequency baseline-shift begin bias by class clip clippathunits clip-path clip-rule color color-interpolation color-interpolation-filters color-profile color-rendering cx cy d dx dy diffuseconstant direction display divisor dominant-baseline dur edgemode elevation end exponent fill fill-opacity fill-rule filter filterunits flood-color flood-opacity font-family font-size font-size-adjust font-stretch font-style font-variant font-weight fx fy g1 g2 glyph-name glyphref gradientunits gradienttransform height href id image-rendering in in2 intercept k k1 k2 k3 k4 kerning keypoints keysplines keytimes lang lengthadjust letter-spacing kernelmatrix kernelunitlength lighting-color local marker-end marker-mid marker-start markerheight markerunits markerwidth maskcontentunits maskunits max mask mask-type media method mode min name numoctaves offset operator opacity order orient orientation origin overflow paint-order path pathlength patterncontentunits patterntransform patternunits pointer-events points preservealpha preserveaspectratio primitiveunits r rx ry radius refx refy repeatcount repeatdur restart result rotate scale seed shape-rendering slope specularconstant specularexponent spreadmethod startoffset stddeviation stitchtiles stop-color stop-opacity stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity stroke stroke-width style surfacescale systemlanguage tabindex tablevalues targetx targety transform transform-origin text-anchor text-decoration text-orientation text-rendering textlength type u1 u2 unicode values vector-effect viewbox visibility version vert-adv-y vert-origin-x vert-origin-y width word-spacing wrap writing-mode xchannelselector ychannelselector x x1 x2 xmlns y y1 y2 z zoomandpan";
const MATHML_ATTRS: &str = "accent accentunder align bevelled close columnalign columnlines columnspacing columnspan denomalign depth dir display displaystyle encoding fence frame height href id largeop length linethickness lquote lspace mathbackground mathcolor mathsize mathvariant maxsize minsize movablelimits notation numalign open rowalign rowlines rowspacing rowspan rspace rquote scriptlevel scriptminsize scriptsizemultiplier selection separator separators stretchy subscriptshift supscriptshift symmetric voffset width xmlns";
const XML_ATTRS: &str = "xlink:href xml:id xlink:title xml:space xmlns:xlink";
/// Removed elements whose content goes with them.
const FORBID_CONTENTS: &str = "annotation-xml audio colgroup desc foreignobject head iframe math mi mn mo ms mtext noembed noframes noscript plaintext script selectedcontent style svg template thead title video xmp";
const URI_SAFE_ATTRS: &str = "alt class for id label name pattern placeholder role summary title value style xmlns";
const DATA_URI_TAGS: &str = "audio video img source image track";
/// Elements whose text DOMPurify refuses to see markup in.
const LITERAL_TEXT: &str = "style script xmp iframe noembed noframes plaintext noscript";

struct Sets {
    allowed_tags: HashSet<&'static str>,
    svg_tags: HashSet<&'static str>,
    mathml_tags: HashSet<&'static str>,
    allowed_attrs: HashSet<&'static str>,
    forbid_contents: HashSet<&'static str>,
    uri_safe: HashSet<&'static str>,
    data_uri_tags: HashSet<&'static str>,
}

static SETS: LazyLock<Sets> = LazyLock::new(|| {
    let set = |lists: &[&'static str]| lists.iter().flat_map(|l| l.split(' ')).collect::<HashSet<&'static str>>();
    Sets {
        allowed_tags: set(&[HTML_TAGS, SVG_TAGS, MATHML_TAGS]),
        svg_tags: set(&[SVG_TAGS, SVG_DISALLOWED]),
        mathml_tags: set(&[MATHML_TAGS, MATHML_DISALLOWED]),
        allowed_attrs: set(&[HTML_ATTRS, SVG_ATTRS, MATHML_ATTRS, XML_ATTRS]),
        forbid_contents: set(&[FORBID_CONTENTS]),
        uri_safe: set(&[URI_SAFE_ATTRS]),
        data_uri_tags: set(&[DATA_URI_TAGS]),
    }
});

fn is_one_of(name: &str, list: &str) -> bool {
    list.split(' ').any(|n| n == name)
}

/// Mermaid's `sanitizeText` under its default configuration.
pub fn sanitize(text: &str) -> String {
    if !text.contains('<') {
        return text.to_string();
    }
    let once = purify(text, false);
    if once.contains('<') {
        purify(&once, true)
    } else {
        once
    }
}

/// One `DOMPurify.sanitize` call: `body.innerHTML` of the sanitised document.
fn purify(input: &str, forbid_style: bool) -> String {
    let mut dom = parse_document(input);
    // DOMPurify answers '' when `getElementsByTagName('body')` finds none (a frameset)
    let Some(body) = dom.body() else { return String::new() };
    let leading = input.len() - input.trim_start_matches(['\r', '\n', '\t', ' ']).len();
    if leading > 0 {
        let text = dom.add(Kind::Text(StrTendril::from(&input[..leading])));
        dom.insert_before(body, text, dom.nodes[body].first);
    }
    sanitize_tree(&mut dom, body, forbid_style);
    inner_html(&dom, body)
}

// ---------------------------------------------------------------------------------------
// The tree html5ever builds
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Html,
    Svg,
    MathMl,
}

#[derive(Debug)]
enum Kind {
    Document,
    /// A template's contents (a document fragment, not the template's children).
    Fragment,
    Element {
        name: Rc<QualName>,
        attrs: Vec<Attribute>,
        /// The contents fragment of a `<template>`.
        contents: Option<usize>,
        /// A MathML `annotation-xml` whose `encoding` makes it an HTML integration point.
        integration_point: bool,
    },
    Text(StrTendril),
    Comment,
}

/// A node of the arena: parent and sibling links instead of child vectors, so that every
/// insertion and removal the tree builder and DOMPurify make is O(1).
#[derive(Debug)]
struct Node {
    kind: Kind,
    parent: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    prev: Option<usize>,
    next: Option<usize>,
    /// Depth below the document when inserted (the nesting limit's measure).
    depth: usize,
}

/// The document: nodes in an arena (no recursive drop, however deep the label nests).
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn add(&mut self, kind: Kind) -> usize {
        self.nodes.push(Node { kind, parent: None, first: None, last: None, prev: None, next: None, depth: 0 });
        self.nodes.len() - 1
    }

    fn element(&self, n: usize) -> Option<(&QualName, &[Attribute])> {
        match &self.nodes[n].kind {
            Kind::Element { name, attrs, .. } => Some((name, attrs)),
            _ => None,
        }
    }

    fn ns(name: &QualName) -> Option<Ns> {
        match name.ns {
            ns!(html) => Some(Ns::Html),
            ns!(svg) => Some(Ns::Svg),
            ns!(mathml) => Some(Ns::MathMl),
            _ => None,
        }
    }

    /// The `<body>` that `getElementsByTagName('body')[0]` finds: the HTML parser only
    /// ever puts one there, as a child of `<html>`.
    fn body(&self) -> Option<usize> {
        let html = self.children(0).find(|&c| self.element(c).is_some())?;
        self.children(html).find(|&c| self.element(c).is_some_and(|(name, _)| name.local == local_name!("body")))
    }

    fn children(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.nodes[n].first, |&c| self.nodes[c].next)
    }

    fn detach(&mut self, n: usize) {
        let Node { parent, prev, next, .. } = self.nodes[n];
        let Some(parent) = parent else { return };
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.nodes[parent].first = next,
        }
        match next {
            Some(x) => self.nodes[x].prev = prev,
            None => self.nodes[parent].last = prev,
        }
        let node = &mut self.nodes[n];
        node.parent = None;
        node.prev = None;
        node.next = None;
    }

    /// Insert `n` into `parent` before `before` (at the end for `None`).
    fn insert_before(&mut self, parent: usize, n: usize, before: Option<usize>) {
        self.detach(n);
        let prev = match before {
            Some(b) => self.nodes[b].prev,
            None => self.nodes[parent].last,
        };
        match prev {
            Some(p) => self.nodes[p].next = Some(n),
            None => self.nodes[parent].first = Some(n),
        }
        match before {
            Some(b) => self.nodes[b].prev = Some(n),
            None => self.nodes[parent].last = Some(n),
        }
        let depth = self.nodes[parent].depth + 1;
        let node = &mut self.nodes[n];
        node.parent = Some(parent);
        node.prev = prev;
        node.next = before;
        node.depth = depth;
        if let Kind::Element { contents: Some(c), .. } = node.kind {
            self.nodes[c].depth = depth + 1;
        }
    }

    /// `textContent` of an element without element children: its text children.
    fn flat_text(&self, n: usize) -> String {
        let mut out = String::new();
        for c in self.children(n) {
            if let Kind::Text(t) = &self.nodes[c].kind {
                out.push_str(t);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Parsing: html5ever's tokenizer and tree builder into the arena
// ---------------------------------------------------------------------------------------

/// The deepest nesting of elements kept, counted from `<html>` (the number Chromium's parser
/// has). A start tag inside an element at that depth is ignored, its text kept (Chromium
/// makes such elements siblings instead; jsdom has no limit). Without a limit the tree
/// builder's scope checks walk the whole stack of open elements for every tag: quadratic
/// time on a label of 50,000 nested `<div>`s.
const MAX_DEPTH: usize = 512;

/// A node handle: the element's name travels with it, so that the tree builder's many
/// name look-ups ([`TreeSink::elem_name`]) need no borrow of the arena.
#[derive(Clone, Debug)]
struct Handle {
    id: usize,
    name: Rc<QualName>,
}

/// The tree sink html5ever builds into.
struct Dom {
    tree: RefCell<Tree>,
    /// The name handed out for nodes that are not elements (never asked for by the builder).
    no_name: Rc<QualName>,
    /// The last element inserted while the current token was processed.
    last_inserted: Cell<Option<usize>>,
}

impl Dom {
    fn handle(&self, id: usize) -> Handle {
        let name = match &self.tree.borrow().nodes[id].kind {
            Kind::Element { name, .. } => Rc::clone(name),
            _ => Rc::clone(&self.no_name),
        };
        Handle { id, name }
    }

    fn insert(&self, parent: usize, child: NodeOrText<Handle>, before: Option<usize>) {
        let mut tree = self.tree.borrow_mut();
        match child {
            NodeOrText::AppendNode(h) => {
                tree.insert_before(parent, h.id, before);
                if matches!(tree.nodes[h.id].kind, Kind::Element { .. }) {
                    self.last_inserted.set(Some(h.id));
                }
            }
            NodeOrText::AppendText(text) => {
                let prev = match before {
                    Some(b) => tree.nodes[b].prev,
                    None => tree.nodes[parent].last,
                };
                if let Some(Kind::Text(t)) = prev.map(|p| &mut tree.nodes[p].kind) {
                    t.push_tendril(&text);
                    return;
                }
                let node = tree.add(Kind::Text(text));
                tree.insert_before(parent, node, before);
            }
        }
    }
}

impl TreeSink for Dom {
    type Handle = Handle;
    type Output = Tree;
    type ElemName<'a> = &'a QualName;

    fn finish(self) -> Tree {
        self.tree.into_inner()
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.handle(0)
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> &'a QualName {
        &target.name
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let mut tree = self.tree.borrow_mut();
        let contents = flags.template.then(|| tree.add(Kind::Fragment));
        let name = Rc::new(name);
        let id = tree.add(Kind::Element {
            name: Rc::clone(&name),
            attrs,
            contents,
            integration_point: flags.mathml_annotation_xml_integration_point,
        });
        Handle { id, name }
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        let id = self.tree.borrow_mut().add(Kind::Comment);
        self.handle(id)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        self.create_comment(StrTendril::new())
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        self.insert(parent.id, child, None);
    }

    fn append_based_on_parent_node(&self, element: &Handle, prev_element: &Handle, child: NodeOrText<Handle>) {
        let has_parent = self.tree.borrow().nodes[element.id].parent.is_some();
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _name: StrTendril, _public_id: StrTendril, _system_id: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        let contents = match self.tree.borrow().nodes[target.id].kind {
            Kind::Element { contents, .. } => contents,
            _ => None,
        };
        // the builder asks only for templates' contents; anything else answers itself
        self.handle(contents.unwrap_or(target.id))
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    /// Foster parenting (content misplaced in a table goes before the table). Text is the
    /// exception, as jsdom builds it: merged into a text node just before the table, and
    /// otherwise appended at the end of the table's parent, after the table
    /// (`insertTextBefore` calls `_append(node, reference)`, which ignores the reference).
    fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
        let Some(parent) = self.tree.borrow().nodes[sibling.id].parent else { return };
        match child {
            NodeOrText::AppendText(text) => {
                let mut tree = self.tree.borrow_mut();
                if let Some(prev) = tree.nodes[sibling.id].prev {
                    if let Kind::Text(t) = &mut tree.nodes[prev].kind {
                        t.push_tendril(&text);
                        return;
                    }
                }
                drop(tree);
                self.insert(parent, NodeOrText::AppendText(text), None);
            }
            node => self.insert(parent, node, Some(sibling.id)),
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        let mut tree = self.tree.borrow_mut();
        if let Kind::Element { attrs: existing, .. } = &mut tree.nodes[target.id].kind {
            for attr in attrs {
                if !existing.iter().any(|a| a.name == attr.name) {
                    existing.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.tree.borrow_mut().detach(target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let mut tree = self.tree.borrow_mut();
        while let Some(child) = tree.nodes[node.id].first {
            tree.insert_before(new_parent.id, child, None);
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        matches!(self.tree.borrow().nodes[handle.id].kind, Kind::Element { integration_point: true, .. })
    }

    /// jsdom (parse5 7) has no declarative shadow DOM: `<template shadowrootmode>` stays a
    /// template.
    fn allow_declarative_shadow_roots(&self, _intended_parent: &Handle) -> bool {
        false
    }
}

/// The tree builder behind [`MAX_DEPTH`]. After a start tag it looks at the element the
/// builder opened for it: at the limit, the start tags that follow are dropped until an end
/// tag (which may close it); past the limit (a tag that opened several elements, such as a
/// `<td>` with its implied `<tbody>` and `<tr>`), the builder gets the element's end tag.
struct DepthLimit {
    builder: TreeBuilder<Handle, Dom>,
    /// The current node is at the limit: start tags are dropped.
    at_limit: Cell<bool>,
}

impl TokenSink for DepthLimit {
    type Handle = Handle;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<Handle> {
        let TagToken(tag) = &token else {
            return self.builder.process_token(token, line_number);
        };
        if tag.kind == EndTag {
            self.at_limit.set(false);
            return self.builder.process_token(token, line_number);
        }
        if self.at_limit.get() {
            return TokenSinkResult::Continue;
        }
        let (name, self_closing) = (tag.name.clone(), tag.self_closing);
        let dom = &self.builder.sink;
        dom.last_inserted.set(None);
        let result = self.builder.process_token(token, line_number);
        let Some(id) = dom.last_inserted.get() else { return result };
        let (depth, opened) = {
            let tree = dom.tree.borrow();
            // the tag's own element, left open: HTML but not void (the builder ignores `/>`
            // on HTML elements), or foreign without `/>`
            let opened = tree.element(id).is_some_and(|(el, _)| {
                el.local.eq_ignore_ascii_case(&name)
                    && if el.ns == ns!(html) { !is_one_of(&el.local, VOID) } else { !self_closing }
            });
            (tree.nodes[id].depth, opened)
        };
        if !opened {
            return result;
        }
        // raw text (`<style>`, `<textarea>`, ...) ends with its own end tag
        if depth > MAX_DEPTH && matches!(result, TokenSinkResult::Continue) {
            let end = Tag { kind: EndTag, name, self_closing: false, attrs: Vec::new() };
            // an end tag never asks the tokenizer for anything
            let _ = self.builder.process_token(TagToken(end), line_number);
            self.at_limit.set(depth > MAX_DEPTH + 1);
        } else {
            self.at_limit.set(depth >= MAX_DEPTH);
        }
        result
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder.adjusted_current_node_present_but_not_in_html_namespace()
    }
}

const VOID: &str = "area base basefont bgsound br col embed frame hr img input keygen link meta param source track wbr";

/// Parse `input` as `DOMParser.parseFromString(input, 'text/html')` does in jsdom.
fn parse_document(input: &str) -> Tree {
    let mut tree = Tree { nodes: Vec::new() };
    tree.add(Kind::Document);
    let dom = Dom {
        tree: RefCell::new(tree),
        no_name: Rc::new(QualName::new(None, ns!(), LocalName::from(""))),
        last_inserted: Cell::new(None),
    };
    let opts = TreeBuilderOpts { scripting_enabled: false, ..TreeBuilderOpts::default() };
    let sink = DepthLimit { builder: TreeBuilder::new(dom, opts), at_limit: Cell::new(false) };
    // a byte order mark is text to `DOMParser` (it gets a string, not bytes)
    let tokenizer = Tokenizer::new(sink, TokenizerOpts { discard_bom: false, ..TokenizerOpts::default() });
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(input));
    // `Script` only pauses for a `</script>` (nothing runs here): go on until the end
    while let html5ever::TokenizerResult::Script(_) = tokenizer.feed(&queue) {}
    tokenizer.end();
    tokenizer.sink.builder.sink.finish()
}

/// HTML character references in text (all of HTML's named references, numeric ones, and the
/// legacy ones without `;`), decoded as the tokenizer decodes text content (RCDATA, where
/// `<` is only text); CRs become line feeds as in any HTML text.
pub fn decode_entities(t: &str) -> String {
    if !t.contains(['&', '\r', '\0']) {
        return t.to_string();
    }
    struct Text(RefCell<String>);
    impl TokenSink for Text {
        type Handle = ();
        fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
            match token {
                Token::CharacterTokens(t) => self.0.borrow_mut().push_str(&t),
                Token::NullCharacterToken => self.0.borrow_mut().push('\0'),
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let opts = TokenizerOpts {
        discard_bom: false,
        initial_state: Some(State::RawData(RawKind::Rcdata)),
        ..Default::default()
    };
    let tokenizer = Tokenizer::new(Text(RefCell::new(String::with_capacity(t.len()))), opts);
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(t));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.0.into_inner()
}

// ---------------------------------------------------------------------------------------
// DOMPurify
// ---------------------------------------------------------------------------------------

/// `/<[/\w!]/` (DOMPurify resets the global regex's `lastIndex` before each test).
fn markup_probe(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1] == b'/' || w[1] == b'!' || w[1] == b'_' || w[1].is_ascii_alphanumeric()))
}

/// DOMPurify's walk: a `NodeIterator` over `root` in document order, each node checked
/// before its descendants; a removed element's children move to its place (unless its
/// content goes with it) and are visited next. Template contents get a walk of their own.
fn sanitize_tree(tree: &mut Tree, root: usize, forbid_style: bool) {
    let mut roots = vec![root];
    while let Some(root) = roots.pop() {
        let mut current = tree.nodes[root].first;
        while let Some(n) = current {
            let keep = check_node(tree, n, forbid_style);
            current = match keep {
                Verdict::Keep => {
                    if let Some((name, _)) = tree.element(n) {
                        let name = str::to_ascii_lowercase(&name.local);
                        sanitize_attrs(tree, n, &name);
                    }
                    if let Kind::Element { contents: Some(c), .. } = tree.nodes[n].kind {
                        roots.push(c);
                    }
                    tree.nodes[n].first.or_else(|| following(tree, n, root))
                }
                Verdict::Remove => {
                    let next = following(tree, n, root);
                    tree.detach(n);
                    next
                }
                Verdict::Unwrap => {
                    let next = tree.nodes[n].first.or_else(|| following(tree, n, root));
                    if let Some(parent) = tree.nodes[n].parent {
                        let after = tree.nodes[n].next;
                        while let Some(c) = tree.nodes[n].first {
                            tree.insert_before(parent, c, after);
                        }
                    }
                    tree.detach(n);
                    next
                }
            };
        }
    }
}

/// The node after `n`'s subtree in document order, within `root`.
fn following(tree: &Tree, mut n: usize, root: usize) -> Option<usize> {
    loop {
        if n == root {
            return None;
        }
        if let Some(next) = tree.nodes[n].next {
            return Some(next);
        }
        n = tree.nodes[n].parent?;
    }
}

enum Verdict {
    Keep,
    /// Removed with its content.
    Remove,
    /// Removed, its children kept in its place.
    Unwrap,
}

/// DOMPurify's `_sanitizeElements` for one node.
fn check_node(tree: &Tree, n: usize, forbid_style: bool) -> Verdict {
    let (name, ns) = match &tree.nodes[n].kind {
        Kind::Text(_) => return Verdict::Keep,
        Kind::Element { name, .. } => (str::to_ascii_lowercase(&name.local), Tree::ns(name)),
        Kind::Document | Kind::Fragment | Kind::Comment => return Verdict::Remove,
    };
    let has_element_child = tree.children(n).any(|c| tree.element(c).is_some());
    if !has_element_child && tree.nodes[n].first.is_some() {
        // markup-bearing text (mXSS probes): `textContent` and `innerHTML` are flat here
        let text = tree.flat_text(n);
        if markup_probe(&text) && markup_probe(&inner_html(tree, n)) {
            return Verdict::Remove;
        }
    }
    if ns == Some(Ns::Html) && is_one_of(&name, LITERAL_TEXT) && (has_element_child || markup_probe(&tree.flat_text(n)))
    {
        return Verdict::Remove;
    }
    let sets = &*SETS;
    let allowed = sets.allowed_tags.contains(name.as_str()) && !(forbid_style && name == "style");
    if !allowed {
        return if sets.forbid_contents.contains(name.as_str()) { Verdict::Remove } else { Verdict::Unwrap };
    }
    let Some(ns) = ns else { return Verdict::Remove };
    if !valid_namespace(tree, n, &name, ns) {
        return Verdict::Remove;
    }
    if matches!(name.as_str(), "noscript" | "noembed" | "noframes") {
        let lower = inner_html(tree, n).to_ascii_lowercase();
        if lower.contains("</noscript") || lower.contains("</noembed") || lower.contains("</noframes") {
            return Verdict::Remove;
        }
    }
    Verdict::Keep
}

/// DOMPurify's `_checkValidNamespace`.
fn valid_namespace(tree: &Tree, n: usize, name: &str, ns: Ns) -> bool {
    let sets = &*SETS;
    let parent = tree.nodes[n].parent.and_then(|p| tree.element(p));
    let (parent_ns, parent_name) = match parent {
        Some((name, _)) => (Tree::ns(name).unwrap_or(Ns::Html), str::to_ascii_lowercase(&name.local)),
        None => (Ns::Html, "template".to_string()),
    };
    let common_svg_html = matches!(name, "title" | "style" | "font" | "a" | "script");
    let text_point = matches!(parent_name.as_str(), "mi" | "mo" | "mn" | "ms" | "mtext");
    match ns {
        Ns::Svg => match parent_ns {
            Ns::Html => name == "svg",
            Ns::MathMl => name == "svg" && (parent_name == "annotation-xml" || text_point),
            Ns::Svg => sets.svg_tags.contains(name),
        },
        Ns::MathMl => match parent_ns {
            Ns::Html => name == "math",
            Ns::Svg => name == "math" && parent_name == "annotation-xml",
            Ns::MathMl => sets.mathml_tags.contains(name),
        },
        Ns::Html => {
            if parent_ns == Ns::Svg && parent_name != "annotation-xml" {
                return false;
            }
            if parent_ns == Ns::MathMl && !text_point {
                return false;
            }
            !sets.mathml_tags.contains(name) && (common_svg_html || !sets.svg_tags.contains(name))
        }
    }
}

fn is_attr_whitespace(c: char) -> bool {
    matches!(c, '\u{00}'..='\u{20}' | '\u{A0}' | '\u{1680}' | '\u{180E}' | '\u{2000}'..='\u{2029}' | '\u{205F}' | '\u{3000}')
}

/// `IS_ALLOWED_URI`: `^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))`, case-insensitive.
fn is_allowed_uri(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    for scheme in ["ftp:", "ftps:", "http:", "https:", "mailto:", "tel:", "callto:", "sms:", "cid:", "xmpp:", "matrix:"]
    {
        if lower.starts_with(scheme) {
            return true;
        }
    }
    let Some(first) = lower.chars().next() else { return false };
    if !first.is_ascii_lowercase() {
        return true;
    }
    let run = lower.chars().take_while(|c| c.is_ascii_lowercase() || matches!(c, '+' | '.' | '-')).count();
    match lower[run..].chars().next() {
        None => true,
        Some(':') => false,
        Some(_) => true,
    }
}

fn is_data_attr(name: &str) -> bool {
    name.strip_prefix("data-").is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| {
                c == '-' || c == '.' || c == '_' || c.is_ascii_alphanumeric() || ('\u{B7}'..='\u{FFFF}').contains(&c)
            })
    })
}

fn is_aria_attr(name: &str) -> bool {
    name.strip_prefix("aria-")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == '-' || c == '_' || c.is_ascii_alphanumeric()))
}

fn attr_breakout(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.contains("-->")
        || lower.contains("--!>")
        || lower.contains("]>")
        || ["style", "script", "title", "xmp", "textarea", "noscript", "iframe", "noembed", "noframes"]
            .iter()
            .any(|t| lower.contains(&format!("</{t}")))
}

/// An attribute's qualified name, as DOM's `attr.name` gives it (`xlink:href`; html5ever
/// gives `xmlns` itself an empty prefix).
fn qualified(name: &QualName) -> String {
    match &name.prefix {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", name.local),
        _ => name.local.to_string(),
    }
}

fn plain_attr(name: &str, value: String) -> Attribute {
    Attribute { name: QualName::new(None, ns!(), LocalName::from(name)), value: StrTendril::from(value) }
}

/// DOMPurify's `_sanitizeAttributes`, with Mermaid's hook for links' `target`.
fn sanitize_attrs(tree: &mut Tree, n: usize, tag: &str) {
    let sets = &*SETS;
    let Kind::Element { attrs, .. } = &mut tree.nodes[n].kind else { return };
    // Mermaid's hook keeps `target` on links (as `data-temp-href-target` meanwhile)
    if tag == "a" {
        if let Some(t) = attrs.iter().find(|a| qualified(&a.name) == "target").map(|a| a.value.to_string()) {
            attrs.push(plain_attr("data-temp-href-target", t));
        }
    }
    let mut kept: Vec<Attribute> = Vec::new();
    // DOMPurify writes back an empty `is` for a removed one (removing it cannot undo the
    // custom element it made); set after the other attributes, it ends up last
    let mut emptied_is = false;
    for attr in attrs.drain(..) {
        let name = qualified(&attr.name);
        let lc = name.to_ascii_lowercase();
        let value =
            if lc == "value" { attr.value.to_string() } else { attr.value.trim_matches(is_js_trim).to_string() };
        // (`/>` in a value is allowed: `ALLOW_SELF_CLOSE_IN_ATTR` is on by default)
        let valid = if attr_breakout(&value)
            || (lc == "attributename" && value.contains("href"))
            || lc == "patchsrc"
            || (lc == "for" && tag != "label" && tag != "output")
        {
            false
        } else if is_data_attr(&lc) || is_aria_attr(&lc) {
            true
        } else if !sets.allowed_attrs.contains(lc.as_str()) {
            false
        } else if sets.uri_safe.contains(lc.as_str()) {
            true
        } else {
            let compact: String = value.chars().filter(|&c| !is_attr_whitespace(c)).collect();
            is_allowed_uri(&compact)
                || (matches!(lc.as_str(), "src" | "xlink:href" | "href")
                    && tag != "script"
                    && value.starts_with("data:")
                    && sets.data_uri_tags.contains(tag))
                || value.is_empty()
        };
        if valid {
            kept.push(Attribute { name: attr.name, value: StrTendril::from(value) });
        } else if name == "is" {
            emptied_is = true;
        }
    }
    if emptied_is {
        kept.push(plain_attr("is", String::new()));
    }
    // the hook restores `target` from the temporary attribute, if that one survived
    let is = |a: &Attribute, name: &str| a.name.prefix.is_none() && &*a.name.local == name;
    let target = kept.iter().find(|a| is(a, "data-temp-href-target")).map(|a| a.value.to_string());
    if let Some(t) = target {
        kept.retain(|a| !is(a, "data-temp-href-target") && !is(a, "target"));
        let blank = t == "_blank";
        kept.push(plain_attr("target", t));
        if blank {
            match kept.iter_mut().find(|a| is(a, "rel")) {
                Some(rel) => rel.value = StrTendril::from("noopener"),
                None => kept.push(plain_attr("rel", "noopener".into())),
            }
        }
    }
    *attrs = kept;
}

/// JavaScript's `String.prototype.trim` set.
fn is_js_trim(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

// ---------------------------------------------------------------------------------------
// Serialisation (`innerHTML`)
// ---------------------------------------------------------------------------------------

/// The children of one node, for html5ever's serialiser; walked without recursion (labels
/// may nest deeply), a template's contents standing for its children.
struct Children<'a> {
    tree: &'a Tree,
    node: usize,
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, serializer: &mut S, _scope: TraversalScope) -> io::Result<()> {
        enum Step {
            Open(usize),
            Close(usize),
        }
        let tree = self.tree;
        let children_of = |n: usize| match tree.nodes[n].kind {
            Kind::Element { contents: Some(c), .. } => c,
            _ => n,
        };
        let mut steps: Vec<Step> = Vec::new();
        let push_children = |steps: &mut Vec<Step>, n: usize| {
            let start = steps.len();
            steps.extend(tree.children(children_of(n)).map(Step::Open));
            steps[start..].reverse();
        };
        push_children(&mut steps, self.node);
        while let Some(step) = steps.pop() {
            match step {
                Step::Close(n) => {
                    if let Some((name, _)) = tree.element(n) {
                        serializer.end_elem(name.clone())?;
                    }
                }
                Step::Open(n) => match &tree.nodes[n].kind {
                    Kind::Element { name, attrs, .. } => {
                        serializer.start_elem((**name).clone(), attrs.iter().map(|a| (&a.name, &a.value[..])))?;
                        steps.push(Step::Close(n));
                        push_children(&mut steps, n);
                    }
                    Kind::Text(t) => serializer.write_text(t)?,
                    Kind::Comment => serializer.write_comment("")?,
                    Kind::Document | Kind::Fragment => {}
                },
            }
        }
        Ok(())
    }
}

/// `innerHTML` of `n`.
fn inner_html(tree: &Tree, n: usize) -> String {
    let scope = TraversalScope::ChildrenOnly(tree.element(n).map(|(name, _)| name.clone()));
    let opts = SerializeOpts { traversal_scope: scope.clone(), ..SerializeOpts::default() };
    let mut out = Vec::new();
    // writing into a Vec cannot fail
    let _ = serialize(&mut out, &Children { tree, node: n }, opts);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::{decode_entities, sanitize};

    #[test]
    fn text_without_tags_is_untouched() {
        assert_eq!(sanitize("A & B > C"), "A & B > C");
    }

    #[test]
    fn html_is_normalised_like_dompurify() {
        assert_eq!(sanitize("A & B<br/>x < y > z"), "A &amp; B<br>x &lt; y &gt; z");
        assert_eq!(sanitize("<b>bold</b> <script>x</script>t"), "<b>bold</b> t");
        assert_eq!(sanitize("a &amp; b <b>c"), "a &amp; b <b>c</b>");
        assert_eq!(sanitize("a<br/>b &quot;q&quot; &foo; &#65;"), "a<br>b \"q\" &amp;foo; A");
    }

    #[test]
    fn html_parser_rules() {
        assert_eq!(sanitize("<table><tr><td>x</td></tr></table>"), "<table><tbody><tr><td>x</td></tr></tbody></table>");
        assert_eq!(sanitize("a<td>b"), "ab");
        assert_eq!(sanitize("<q><h1></q>>"), "<q><h1>&gt;</h1></q>");
        assert_eq!(sanitize("<b>a<i>b</b>c</i>"), "<b>a<i>b</i></b><i>c</i>");
        assert_eq!(sanitize("<image src=x>"), "<img src=\"x\">");
        assert_eq!(sanitize("<a href='s://x' target=_blank>l</a>"), "<a rel=\"noopener\" target=\"_blank\">l</a>");
        assert_eq!(sanitize("<svg></svg>"), "<svg></svg>");
        assert_eq!(sanitize("<hr is=x-y title='a/>b'>"), "<hr title=\"a/>b\" is=\"\">");
        assert_eq!(
            sanitize("<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='x'><a xlink:href='#x'>l</a></svg>"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"x\"><a xlink:href=\"#x\">l</a></svg>"
        );
    }

    #[test]
    fn deep_nesting_is_limited() {
        // 510 levels under <html><body>; the start tags inside the deepest are ignored
        let nested = |n: usize, inner: &str| format!("{}{inner}{}", "<div>".repeat(n), "</div>".repeat(n));
        assert_eq!(sanitize(&format!("{}x", "<div>".repeat(2000))), nested(510, "x"));
        assert_eq!(sanitize(&format!("{}x", "<div/>".repeat(2000))), nested(510, "x"));
        assert_eq!(sanitize(&nested(600, "<b>x</b>")), nested(510, "x"));
        // elements past the limit (a cell and its implied row) are closed at once; DOMPurify's
        // second parse then drops their tags at the limit
        let deep = format!("{}<table><td>x", "<div>".repeat(508));
        assert_eq!(sanitize(&deep), nested(508, "<table><tbody></tbody></table>x"));
    }

    #[test]
    fn entities_decode_as_html_text() {
        assert_eq!(
            decode_entities("a &amp; b &lt;c&gt; &#65;&#x42; &copy &hellip; &alpha; &foo;"),
            "a & b <c> AB © … α &foo;"
        );
        assert_eq!(decode_entities("no references"), "no references");
    }
}
