//! What Mermaid does to every label: `DOMPurify.sanitize` (twice, under the default
//! `securityLevel: strict`; the second time with `FORBID_TAGS: ['style']`). Text without
//! `<` comes back unchanged (DOMPurify's fast path); otherwise the text is parsed the way
//! an HTML parser builds a document body (a model of the HTML5 tokenizer and tree builder:
//! implied and ignored tags, tables, formatting elements, raw-text elements, SVG and
//! MathML), unsafe elements and attributes are dropped as DOMPurify 3 drops them, and the
//! body is serialised again (`&` → `&amp;`, `<br/>` → `<br>`, ...).

use std::collections::HashSet;
use std::sync::LazyLock;

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

fn purify(input: &str, forbid_style: bool) -> String {
    let leading = input.len() - input.trim_start_matches(['\r', '\n', '\t', ' ']).len();
    let mut tree = parse_document(input);
    let Some(body) = tree.body else { return String::new() };
    if leading > 0 {
        let t = tree.add(Kind::Text(input[..leading].to_string()));
        tree.insert_at(body, 0, t);
    }
    let children = std::mem::take(&mut tree.nodes[body].children);
    let kept = sanitize_nodes(&mut tree, children, body, forbid_style);
    tree.nodes[body].children = kept;
    let mut out = String::new();
    serialize_children(&tree, body, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// DOM
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Html,
    Svg,
    MathMl,
}

#[derive(Debug, Clone)]
enum Kind {
    Root,
    Element { name: String, ns: Ns, attrs: Vec<(String, String)> },
    Text(String),
    Comment(String),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    parent: Option<usize>,
    children: Vec<usize>,
}

#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
    body: Option<usize>,
}

impl Tree {
    fn add(&mut self, kind: Kind) -> usize {
        self.nodes.push(Node { kind, parent: None, children: Vec::new() });
        self.nodes.len() - 1
    }

    fn name(&self, n: usize) -> &str {
        match &self.nodes[n].kind {
            Kind::Element { name, .. } => name,
            _ => "",
        }
    }

    fn ns(&self, n: usize) -> Ns {
        match &self.nodes[n].kind {
            Kind::Element { ns, .. } => *ns,
            _ => Ns::Html,
        }
    }

    fn is_html(&self, n: usize, name: &str) -> bool {
        self.ns(n) == Ns::Html && self.name(n) == name
    }

    fn detach(&mut self, n: usize) {
        if let Some(p) = self.nodes[n].parent.take() {
            self.nodes[p].children.retain(|&c| c != n);
        }
    }

    fn insert_at(&mut self, parent: usize, index: usize, n: usize) {
        self.detach(n);
        let index = index.min(self.nodes[parent].children.len());
        self.nodes[parent].children.insert(index, n);
        self.nodes[n].parent = Some(parent);
    }

    fn append(&mut self, parent: usize, n: usize) {
        let len = self.nodes[parent].children.len();
        self.insert_at(parent, len, n);
    }

    /// Insert text at `index` of `parent`, merging with a text node just before it.
    fn insert_text(&mut self, parent: usize, index: usize, text: &str) {
        if index > 0 {
            let prev = self.nodes[parent].children[index - 1];
            if let Kind::Text(t) = &mut self.nodes[prev].kind {
                t.push_str(text);
                return;
            }
        }
        let t = self.add(Kind::Text(text.to_string()));
        self.insert_at(parent, index, t);
    }

    /// `textContent` of an element without element children: its text children.
    fn flat_text(&self, n: usize) -> String {
        let mut out = String::new();
        for &c in &self.nodes[n].children {
            if let Kind::Text(t) = &self.nodes[c].kind {
                out.push_str(t);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Token {
    Start { name: String, attrs: Vec<(String, String)>, self_closing: bool },
    End { name: String },
    Text(String),
    Comment(String),
}

struct Tokenizer<'a> {
    s: &'a str,
    i: usize,
    /// Inside a raw-text element: its name and whether character references count.
    raw: Option<(String, bool)>,
    plaintext: bool,
}

fn is_html_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0C}' | '\r' | ' ')
}

impl<'a> Tokenizer<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            if self.i >= self.s.len() {
                return None;
            }
            if self.plaintext {
                let t = self.rest().to_string();
                self.i = self.s.len();
                return Some(Token::Text(t));
            }
            if let Some((name, rcdata)) = self.raw.clone() {
                let rest = self.rest();
                let mut end = rest.len();
                let mut from = 0;
                while let Some(p) = rest[from..].find("</") {
                    let at = from + p;
                    let after = &rest[at + 2..];
                    if after.len() >= name.len()
                        && after.is_char_boundary(name.len())
                        && after[..name.len()].eq_ignore_ascii_case(&name)
                        && after[name.len()..].starts_with(|c: char| is_html_space(c) || c == '/' || c == '>')
                    {
                        end = at;
                        break;
                    }
                    from = at + 2;
                }
                self.raw = None;
                let text = &rest[..end];
                self.i += end;
                if !text.is_empty() {
                    let text = if rcdata { decode_refs(text, false) } else { text.to_string() };
                    return Some(Token::Text(text));
                }
                continue;
            }
            let rest = self.rest();
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                self.i += end;
                return Some(Token::Text(decode_refs(&rest[..end], false)));
            }
            let next = rest[1..].chars().next();
            match next {
                Some(c) if c.is_ascii_alphabetic() => {
                    self.i += 1;
                    return self.tag(false);
                }
                Some('/') => {
                    let after = rest[2..].chars().next();
                    match after {
                        Some(c) if c.is_ascii_alphabetic() => {
                            self.i += 2;
                            return self.tag(true);
                        }
                        Some('>') => {
                            self.i += 3;
                            continue;
                        }
                        None => {
                            self.i = self.s.len();
                            return Some(Token::Text("</".into()));
                        }
                        Some(_) => return Some(self.bogus_comment(2)),
                    }
                }
                Some('!') => {
                    if let Some(body) = rest.strip_prefix("<!--") {
                        let (len, data) = if body.starts_with('>') {
                            (5, "")
                        } else if body.starts_with("->") {
                            (6, "")
                        } else {
                            let close = ["-->", "--!>"]
                                .iter()
                                .filter_map(|e| body.find(e).map(|p| (p, p + e.len())))
                                .min()
                                .unwrap_or((body.len(), body.len()));
                            (4 + close.1, &body[..close.0])
                        };
                        self.i += len;
                        return Some(Token::Comment(data.to_string()));
                    }
                    if rest.len() >= 9 && rest.is_char_boundary(9) && rest[2..9].eq_ignore_ascii_case("doctype") {
                        self.bogus_comment(2);
                        continue;
                    }
                    return Some(self.bogus_comment(2));
                }
                Some('?') => return Some(self.bogus_comment(1)),
                _ => {
                    self.i += 1;
                    return Some(Token::Text("<".into()));
                }
            }
        }
    }

    fn bogus_comment(&mut self, skip: usize) -> Token {
        let rest = &self.s[self.i + skip..];
        let end = rest.find('>').unwrap_or(rest.len());
        self.i += skip + (end + 1).min(rest.len());
        Token::Comment(rest[..end].replace('\0', "\u{FFFD}"))
    }

    /// A tag after `<` / `</`; `None` (and the rest of the input dropped) at end of input.
    fn tag(&mut self, end: bool) -> Option<Token> {
        let s = self.s;
        let mut i = self.i;
        let name_len = s[i..].find(|c: char| is_html_space(c) || c == '/' || c == '>').unwrap_or(s.len() - i);
        let name = s[i..i + name_len].to_ascii_lowercase().replace('\0', "\u{FFFD}");
        i += name_len;
        let mut attrs: Vec<(String, String)> = Vec::new();
        let mut self_closing = false;
        let skip_space = |i: &mut usize| {
            while let Some(c) = s[*i..].chars().next().filter(|&c| is_html_space(c)) {
                *i += c.len_utf8();
            }
        };
        loop {
            skip_space(&mut i);
            let Some(c) = s[i..].chars().next() else {
                self.i = s.len();
                return None;
            };
            if c == '>' {
                i += 1;
                break;
            }
            if c == '/' {
                i += 1;
                if s[i..].starts_with('>') {
                    self_closing = true;
                    i += 1;
                    break;
                }
                continue;
            }
            // attribute name (a leading `=` belongs to it)
            let start = i;
            i += c.len_utf8();
            while let Some(c) =
                s[i..].chars().next().filter(|&c| !(is_html_space(c) || c == '/' || c == '>' || c == '='))
            {
                i += c.len_utf8();
            }
            let attr_name = s[start..i].to_ascii_lowercase();
            skip_space(&mut i);
            let mut value = String::new();
            if s[i..].starts_with('=') {
                i += 1;
                skip_space(&mut i);
                match s[i..].chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        i += 1;
                        let Some(close) = s[i..].find(q) else {
                            self.i = s.len();
                            return None;
                        };
                        value = decode_refs(&s[i..i + close], true);
                        i += close + 1;
                    }
                    Some('>') | None => {}
                    Some(_) => {
                        let len = s[i..].find(|c: char| is_html_space(c) || c == '>').unwrap_or(s.len() - i);
                        value = decode_refs(&s[i..i + len], true);
                        i += len;
                    }
                }
            }
            if !attrs.iter().any(|(k, _)| *k == attr_name) {
                attrs.push((attr_name, value));
            }
        }
        self.i = i;
        Some(if end { Token::End { name } } else { Token::Start { name, attrs, self_closing } })
    }
}

// ---------------------------------------------------------------------------------------
// Character references
// ---------------------------------------------------------------------------------------

/// Named references archc knows, and whether they may appear without `;` (legacy).
const NAMED: &[(&str, &str, bool)] = &[
    ("amp", "&", true),
    ("lt", "<", true),
    ("gt", ">", true),
    ("quot", "\"", true),
    ("apos", "'", false),
    ("nbsp", "\u{A0}", true),
    ("copy", "©", true),
    ("reg", "®", true),
    ("deg", "°", true),
    ("times", "×", true),
    ("divide", "÷", true),
    ("plusmn", "±", true),
    ("middot", "·", true),
    ("para", "¶", true),
    ("sect", "§", true),
    ("laquo", "«", true),
    ("raquo", "»", true),
    ("cent", "¢", true),
    ("pound", "£", true),
    ("yen", "¥", true),
    ("micro", "µ", true),
    ("euro", "€", false),
    ("trade", "™", false),
    ("hellip", "…", false),
    ("ndash", "–", false),
    ("mdash", "—", false),
    ("lsquo", "‘", false),
    ("rsquo", "’", false),
    ("ldquo", "“", false),
    ("rdquo", "”", false),
    ("bull", "•", false),
    ("hearts", "♥", false),
    ("larr", "←", false),
    ("rarr", "→", false),
    ("uarr", "↑", false),
    ("darr", "↓", false),
    ("harr", "↔", false),
    ("le", "≤", false),
    ("ge", "≥", false),
    ("ne", "≠", false),
    ("infin", "∞", false),
    ("check", "✓", false),
    ("colon", ":", false),
    ("semi", ";", false),
    ("comma", ",", false),
    ("period", ".", false),
    ("excl", "!", false),
    ("num", "#", false),
    ("lpar", "(", false),
    ("rpar", ")", false),
    ("lsqb", "[", false),
    ("rsqb", "]", false),
    ("lbrace", "{", false),
    ("rbrace", "}", false),
    ("vert", "|", false),
    ("equals", "=", false),
    ("Tab", "\t", false),
    ("NewLine", "\n", false),
];

/// Windows-1252 for numeric references 0x80..0x9F.
const C1: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D,
    0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,
    0x017E, 0x0178,
];

/// HTML character references in text (`in_attr`: the attribute-value rules).
fn decode_refs(t: &str, in_attr: bool) -> String {
    if !t.contains('&') {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match decode_one(rest, in_attr) {
            Some((s, len)) => {
                out.push_str(&s);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The reference at the start of `s` (which starts with `&`): its text and length.
fn decode_one(s: &str, in_attr: bool) -> Option<(String, usize)> {
    let body = &s[1..];
    if let Some(num) = body.strip_prefix('#') {
        let (hex, digits_at) = match num.chars().next() {
            Some('x' | 'X') => (true, 1),
            _ => (false, 0),
        };
        let digits = &num[digits_at..];
        let len = digits.bytes().take_while(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() }).count();
        if len == 0 {
            return None;
        }
        let value = u32::from_str_radix(&digits[..len.min(8)], if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let value = if len > 8 { u32::MAX } else { value };
        let c = match value {
            0 => '\u{FFFD}',
            0x80..=0x9F => char::from_u32(C1[(value - 0x80) as usize]).unwrap_or('\u{FFFD}'),
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        let mut total = 2 + digits_at + len;
        if digits[len..].starts_with(';') {
            total += 1;
        }
        return Some((c.to_string(), total));
    }
    let name_len = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let name = &body[..name_len];
    if body[name_len..].starts_with(';') {
        if let Some((_, v, _)) = NAMED.iter().find(|(n, _, _)| *n == name) {
            return Some(((*v).to_string(), name_len + 2));
        }
    }
    // legacy references without `;`: the longest known prefix
    let (n, v, _) =
        NAMED.iter().filter(|(n, _, legacy)| *legacy && name.starts_with(n)).max_by_key(|(n, _, _)| n.len())?;
    let after = &body[n.len()..];
    if in_attr && after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '=') {
        return None;
    }
    Some(((*v).to_string(), n.len() + 1))
}

/// HTML character references in text (the common named ones and numeric ones).
pub fn decode_entities(t: &str) -> String {
    decode_refs(t, false)
}

// ---------------------------------------------------------------------------------------
// Tree builder
// ---------------------------------------------------------------------------------------

/// The deepest nesting the tree builder keeps (Chromium's parser limit).
const MAX_DEPTH: usize = 512;

const SPECIAL: &str = "address applet area article aside base basefont bgsound blockquote body br button caption center col colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes noscript object ol p param plaintext pre script search section select source style summary table tbody td template textarea tfoot th thead title tr track ul wbr xmp";
const FORMATTING: &str = "a b big code em font i nobr s small strike strong tt u";
const VOID: &str = "area base basefont bgsound br col embed frame hr img input keygen link meta param source track wbr";
const IMPLIED_END: &str = "dd dt li optgroup option p rb rp rt rtc";
const CLOSES_P: &str = "address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer header hgroup main menu nav ol p search section summary ul";
const HEADINGS: &str = "h1 h2 h3 h4 h5 h6";
const HEAD_TAGS: &str = "base basefont bgsound link meta noframes script style template title";
const TABLE_PARTS: &str = "caption col colgroup frame head tbody td tfoot th thead tr";
const BREAKOUT: &str = "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var";

const SVG_TAG_CASE: &[&str] = &[
    "altGlyph",
    "altGlyphDef",
    "altGlyphItem",
    "animateColor",
    "animateMotion",
    "animateTransform",
    "clipPath",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "foreignObject",
    "glyphRef",
    "linearGradient",
    "radialGradient",
    "textPath",
];
const SVG_ATTR_CASE: &[&str] = &[
    "attributeName",
    "attributeType",
    "baseFrequency",
    "baseProfile",
    "calcMode",
    "clipPathUnits",
    "diffuseConstant",
    "edgeMode",
    "filterUnits",
    "glyphRef",
    "gradientTransform",
    "gradientUnits",
    "kernelMatrix",
    "kernelUnitLength",
    "keyPoints",
    "keySplines",
    "keyTimes",
    "lengthAdjust",
    "limitingConeAngle",
    "markerHeight",
    "markerUnits",
    "markerWidth",
    "maskContentUnits",
    "maskUnits",
    "numOctaves",
    "pathLength",
    "patternContentUnits",
    "patternTransform",
    "patternUnits",
    "pointsAtX",
    "pointsAtY",
    "pointsAtZ",
    "preserveAlpha",
    "preserveAspectRatio",
    "primitiveUnits",
    "refX",
    "refY",
    "repeatCount",
    "repeatDur",
    "requiredExtensions",
    "requiredFeatures",
    "specularConstant",
    "specularExponent",
    "spreadMethod",
    "startOffset",
    "stdDeviation",
    "stitchTiles",
    "surfaceScale",
    "systemLanguage",
    "tableValues",
    "targetX",
    "targetY",
    "textLength",
    "viewBox",
    "viewTarget",
    "xChannelSelector",
    "yChannelSelector",
    "zoomAndPan",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Body,
    Table,
    TableBody,
    Row,
    Cell,
    Caption,
    ColumnGroup,
    Select,
    Template,
}

struct Builder {
    tree: Tree,
    html: usize,
    stack: Vec<usize>,
    /// Active formatting elements (`None` is a marker), with the token that made each.
    afe: Vec<Option<(usize, Token)>>,
    in_body: bool,
    form: Option<usize>,
    /// Skip a line feed at the start of the next text (after `<pre>`, `<textarea>`).
    skip_newline: bool,
    /// A frameset document has no body.
    frameset: bool,
    /// Foster parenting: insert what a table cannot hold before the table.
    foster: bool,
    /// The stack of template insertion modes.
    template_modes: Vec<Mode>,
}

fn parse_document(input: &str) -> Tree {
    let mut tree = Tree::default();
    let root = tree.add(Kind::Root);
    let html = tree.add(Kind::Element { name: "html".into(), ns: Ns::Html, attrs: Vec::new() });
    tree.append(root, html);
    let mut b = Builder {
        tree,
        html,
        stack: vec![html],
        afe: Vec::new(),
        in_body: false,
        form: None,
        skip_newline: false,
        frameset: false,
        foster: false,
        template_modes: Vec::new(),
    };
    let mut tok = Tokenizer { s: input, i: 0, raw: None, plaintext: false };
    let mut guard = 0usize;
    while let Some(token) = tok.next_token() {
        guard += 1;
        if guard > 100_000 {
            break;
        }
        b.token(token, &mut tok);
    }
    if !b.frameset {
        b.ensure_body();
    }
    b.tree
}

impl Builder {
    fn current(&self) -> usize {
        *self.stack.last().unwrap_or(&self.html)
    }

    fn ensure_body(&mut self) {
        if self.tree.body.is_none() {
            let body = self.tree.add(Kind::Element { name: "body".into(), ns: Ns::Html, attrs: Vec::new() });
            self.tree.append(self.html, body);
            self.tree.body = Some(body);
            self.stack = vec![self.html, body];
        }
        self.in_body = true;
    }

    fn mode(&self) -> Mode {
        for (i, &n) in self.stack.iter().enumerate().rev() {
            let last = i == 0;
            if self.tree.ns(n) != Ns::Html {
                continue;
            }
            match self.tree.name(n) {
                "select" => return Mode::Select,
                "td" | "th" if !last => return Mode::Cell,
                "tr" => return Mode::Row,
                "tbody" | "thead" | "tfoot" => return Mode::TableBody,
                "caption" => return Mode::Caption,
                "colgroup" => return Mode::ColumnGroup,
                "table" => return Mode::Table,
                "template" => return self.template_modes.last().copied().unwrap_or(Mode::Template),
                "body" | "html" => return Mode::Body,
                _ => {}
            }
        }
        Mode::Body
    }

    fn token(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        if self.frameset {
            return;
        }
        if let Token::Comment(c) = &token {
            if self.in_body {
                let el = self.tree.add(Kind::Comment(c.clone()));
                let cur = self.current();
                self.tree.append(cur, el);
            }
            return;
        }
        if !self.in_body {
            match &token {
                Token::Text(t) => {
                    let t = t.trim_start_matches(is_html_space);
                    if t.is_empty() {
                        return;
                    }
                    self.ensure_body();
                    self.token(Token::Text(t.to_string()), tok);
                    return;
                }
                Token::Start { name, .. } if name == "html" || name == "head" => return,
                Token::Start { name, .. } if name == "template" => {
                    // into <head>, with everything up to its end tag
                    let mut depth = 1;
                    while depth > 0 {
                        match tok.next_token() {
                            None => break,
                            Some(Token::Start { name, .. }) => {
                                if name == "template" {
                                    depth += 1;
                                } else {
                                    self.skip_raw(&name, tok);
                                }
                            }
                            Some(Token::End { name }) if name == "template" => depth -= 1,
                            Some(_) => {}
                        }
                    }
                    return;
                }
                Token::Start { name, .. } if is_one_of(name, HEAD_TAGS) || name == "noscript" => {
                    // into <head>: parsed, and gone from the body
                    self.skip_raw(name, tok);
                    return;
                }
                Token::Start { name, .. } if name == "frameset" => {
                    self.frameset = true;
                    return;
                }
                Token::End { name } if name != "br" => return,
                _ => self.ensure_body(),
            }
        }
        // foreign content
        let cur = self.current();
        if self.tree.ns(cur) != Ns::Html && !self.html_rules_in_foreign(cur, &token) {
            self.foreign(token, tok);
            return;
        }
        self.dispatch(token, tok);
    }

    fn dispatch(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        match self.mode() {
            Mode::Body | Mode::Cell | Mode::Caption => self.in_body(token, tok),
            Mode::Select => self.in_select(token, tok),
            Mode::Table | Mode::TableBody | Mode::Row | Mode::ColumnGroup => self.in_table(token, tok),
            Mode::Template => self.in_template(token, tok),
        }
    }

    fn in_template(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        let switch = |b: &mut Self, mode: Mode| {
            if let Some(m) = b.template_modes.last_mut() {
                *m = mode;
            }
        };
        match &token {
            Token::Text(_) | Token::Comment(_) => self.in_body(token, tok),
            Token::Start { name, .. } => match name.as_str() {
                n if is_one_of(n, HEAD_TAGS) => self.in_body(token, tok),
                "caption" | "colgroup" | "tbody" | "tfoot" | "thead" => {
                    switch(self, Mode::Table);
                    self.dispatch(token, tok);
                }
                "col" => {
                    switch(self, Mode::ColumnGroup);
                    self.dispatch(token, tok);
                }
                "tr" => {
                    switch(self, Mode::TableBody);
                    self.dispatch(token, tok);
                }
                "td" | "th" => {
                    switch(self, Mode::Row);
                    self.dispatch(token, tok);
                }
                _ => {
                    switch(self, Mode::Body);
                    self.dispatch(token, tok);
                }
            },
            Token::End { name } if name == "template" => self.in_body(token, tok),
            Token::End { .. } => {}
        }
    }

    fn end_template(&mut self) {
        if !self.stack.iter().any(|&n| self.tree.is_html(n, "template")) {
            return;
        }
        while self.stack.len() > 2 {
            let c = self.current();
            let name = self.tree.name(c);
            if self.tree.ns(c) == Ns::Html
                && (is_one_of(name, IMPLIED_END)
                    || matches!(name, "caption" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"))
            {
                self.stack.pop();
            } else {
                break;
            }
        }
        self.pop_until(&["template"]);
        self.clear_afe_to_marker();
        self.template_modes.pop();
    }

    /// Whether a token in foreign content is handled by the HTML rules.
    fn html_rules_in_foreign(&self, cur: usize, token: &Token) -> bool {
        let name = self.tree.name(cur);
        let ns = self.tree.ns(cur);
        let text_point = ns == Ns::MathMl && matches!(name, "mi" | "mo" | "mn" | "ms" | "mtext");
        let html_point = ns == Ns::Svg && matches!(name, "foreignObject" | "desc" | "title");
        match token {
            Token::Start { name: t, .. } => {
                (text_point && t != "mglyph" && t != "malignmark")
                    || html_point
                    || (ns == Ns::MathMl && name == "annotation-xml" && t == "svg")
            }
            Token::Text(_) => text_point || html_point,
            Token::End { .. } | Token::Comment(_) => false,
        }
    }

    /// Consume a head element's content (raw text) without building it.
    fn skip_raw(&mut self, name: &str, tok: &mut Tokenizer<'_>) {
        let rcdata = name == "title" || name == "textarea";
        if name == "plaintext" {
            tok.plaintext = true;
            tok.next_token();
            return;
        }
        if matches!(name, "title" | "style" | "script" | "noframes" | "textarea" | "xmp" | "iframe" | "noembed") {
            tok.raw = Some((name.to_string(), rcdata));
            if let Some(Token::Text(_)) = tok.next_token() {
                // the text, then the end tag (if any) is an end tag ignored before the body
            }
        }
    }

    fn foreign(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        match token {
            Token::Comment(_) => {}
            Token::Text(t) => {
                let t = t.replace('\0', "\u{FFFD}");
                self.insert_text(&t);
            }
            Token::Start { name, attrs, self_closing } => {
                let breakout = is_one_of(&name, BREAKOUT)
                    || (name == "font" && attrs.iter().any(|(k, _)| matches!(k.as_str(), "color" | "face" | "size")));
                if breakout {
                    self.pop_to_html();
                    self.token(Token::Start { name, attrs, self_closing }, tok);
                    return;
                }
                let ns = self.tree.ns(self.current());
                self.insert_foreign(name, attrs, ns, self_closing);
            }
            Token::End { name } if name == "br" || name == "p" => {
                self.pop_to_html();
                self.dispatch(Token::End { name }, tok);
            }
            Token::End { name } => {
                let mut idx = self.stack.len() - 1;
                loop {
                    if idx <= 1 {
                        return;
                    }
                    let n = self.stack[idx];
                    if self.tree.name(n).to_ascii_lowercase() == name {
                        self.stack.truncate(idx);
                        return;
                    }
                    idx -= 1;
                    if self.tree.ns(self.stack[idx]) == Ns::Html {
                        break;
                    }
                }
                match self.mode() {
                    Mode::Body | Mode::Cell | Mode::Caption => self.in_body(Token::End { name }, tok),
                    Mode::Select => self.in_select(Token::End { name }, tok),
                    _ => self.in_table(Token::End { name }, tok),
                }
            }
        }
    }

    /// Pop foreign elements until an HTML element or an integration point is current.
    fn pop_to_html(&mut self) {
        while self.stack.len() > 2 {
            let c = self.current();
            let ns = self.tree.ns(c);
            let n = self.tree.name(c);
            if ns == Ns::Html
                || (ns == Ns::MathMl && matches!(n, "mi" | "mo" | "mn" | "ms" | "mtext"))
                || (ns == Ns::Svg && matches!(n, "foreignObject" | "desc" | "title"))
            {
                break;
            }
            self.stack.pop();
        }
    }

    fn insert_foreign(&mut self, name: String, attrs: Vec<(String, String)>, ns: Ns, self_closing: bool) {
        let name = if ns == Ns::Svg {
            SVG_TAG_CASE.iter().find(|n| n.eq_ignore_ascii_case(&name)).map_or(name, |n| (*n).to_string())
        } else {
            name
        };
        let attrs = if ns == Ns::Svg {
            attrs
                .into_iter()
                .map(|(k, v)| {
                    (SVG_ATTR_CASE.iter().find(|n| n.eq_ignore_ascii_case(&k)).map_or(k, |n| (*n).to_string()), v)
                })
                .collect()
        } else {
            attrs
        };
        self.limit_depth();
        let el = self.tree.add(Kind::Element { name, ns, attrs });
        self.insert_node(el);
        if !self_closing {
            self.stack.push(el);
        }
    }

    /// The appropriate place for inserting a node: the current node, or before the table
    /// when the current node is part of a table (foster parenting).
    fn insertion_point(&self) -> (usize, usize) {
        let target = self.current();
        if self.foster
            && self.tree.ns(target) == Ns::Html
            && matches!(self.tree.name(target), "table" | "tbody" | "tfoot" | "thead" | "tr")
        {
            let last_template = self.stack.iter().rposition(|&n| self.tree.is_html(n, "template"));
            let last_table = self.stack.iter().rposition(|&n| self.tree.is_html(n, "table"));
            if let Some(t) = last_template.filter(|&t| last_table.is_none_or(|tb| t > tb)) {
                let template = self.stack[t];
                return (template, self.tree.nodes[template].children.len());
            }
            if let Some(pos) = last_table {
                let table = self.stack[pos];
                if let Some(parent) = self.tree.nodes[table].parent {
                    let index = self.tree.nodes[parent].children.iter().position(|&c| c == table).unwrap_or(0);
                    return (parent, index);
                }
                let above = self.stack[pos.saturating_sub(1)];
                return (above, self.tree.nodes[above].children.len());
            }
        }
        (target, self.tree.nodes[target].children.len())
    }

    fn insert_node(&mut self, n: usize) {
        let (parent, index) = self.insertion_point();
        self.tree.insert_at(parent, index, n);
    }

    fn insert_text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let (parent, index) = self.insertion_point();
        let fostered = index < self.tree.nodes[parent].children.len();
        if fostered {
            // jsdom merges fostered text into a text node just before the table, and
            // otherwise appends it to the table's parent (after the table)
            let before_is_text =
                index > 0 && matches!(self.tree.nodes[self.tree.nodes[parent].children[index - 1]].kind, Kind::Text(_));
            if !before_is_text {
                let end = self.tree.nodes[parent].children.len();
                self.tree.insert_text(parent, end, t);
                return;
            }
        }
        self.tree.insert_text(parent, index, t);
    }

    fn insert_element(&mut self, name: &str, attrs: Vec<(String, String)>) -> usize {
        self.limit_depth();
        let el = self.tree.add(Kind::Element { name: name.to_string(), ns: Ns::Html, attrs });
        self.insert_node(el);
        if !is_one_of(name, VOID) {
            self.stack.push(el);
        }
        el
    }

    /// Past `MAX_DEPTH` open elements a new element becomes a sibling of the current one (as
    /// in Chromium's parser): the tree builder's stack walks stay short on absurd labels.
    fn limit_depth(&mut self) {
        if self.stack.len() >= MAX_DEPTH {
            self.stack.pop();
        }
    }

    fn in_scope_with(&self, target: &str, extra: &[&str]) -> bool {
        for &n in self.stack.iter().rev() {
            let name = self.tree.name(n);
            let ns = self.tree.ns(n);
            if ns == Ns::Html && name == target {
                return true;
            }
            let boundary = match ns {
                Ns::Html => {
                    matches!(
                        name,
                        "applet" | "caption" | "html" | "table" | "td" | "th" | "marquee" | "object" | "template"
                    ) || extra.contains(&name)
                }
                Ns::MathMl => matches!(name, "mi" | "mo" | "mn" | "ms" | "mtext" | "annotation-xml"),
                Ns::Svg => matches!(name, "foreignObject" | "desc" | "title"),
            };
            if boundary {
                return false;
            }
        }
        false
    }

    fn in_scope(&self, target: &str) -> bool {
        self.in_scope_with(target, &[])
    }

    fn in_table_scope(&self, target: &str) -> bool {
        for &n in self.stack.iter().rev() {
            if self.tree.is_html(n, target) {
                return true;
            }
            if self.tree.ns(n) == Ns::Html && matches!(self.tree.name(n), "html" | "table" | "template") {
                return false;
            }
        }
        false
    }

    fn generate_implied_end_tags(&mut self, except: &str) {
        while self.stack.len() > 2 {
            let c = self.current();
            let name = self.tree.name(c);
            if self.tree.ns(c) == Ns::Html && name != except && is_one_of(name, IMPLIED_END) {
                self.stack.pop();
            } else {
                break;
            }
        }
    }

    fn pop_until(&mut self, names: &[&str]) {
        while self.stack.len() > 2 {
            let c = self.stack.pop().unwrap_or(self.html);
            if self.tree.ns(c) == Ns::Html && names.contains(&self.tree.name(c)) {
                break;
            }
        }
    }

    fn close_p(&mut self) {
        if self.in_scope_with("p", &["button"]) {
            self.generate_implied_end_tags("p");
            self.pop_until(&["p"]);
        }
    }

    fn clear_afe_to_marker(&mut self) {
        while let Some(e) = self.afe.pop() {
            if e.is_none() {
                break;
            }
        }
    }

    fn reconstruct_afe(&mut self) {
        let Some(Some((last, _))) = self.afe.last() else { return };
        if self.stack.contains(last) {
            return;
        }
        let mut i = self.afe.len() - 1;
        while i > 0 {
            match &self.afe[i - 1] {
                None => break,
                Some((n, _)) if self.stack.contains(n) => break,
                _ => i -= 1,
            }
        }
        for j in i..self.afe.len() {
            let Some((_, token)) = self.afe[j].clone() else { continue };
            if let Token::Start { name, attrs, .. } = &token {
                let el = self.insert_element(name, attrs.clone());
                self.afe[j] = Some((el, token));
            }
        }
    }

    fn push_afe(&mut self, el: usize, token: Token) {
        // a bound on the list (entries past it are forgotten, oldest first)
        let since_marker = self.afe.iter().rev().take_while(|e| e.is_some()).count();
        if since_marker >= MAX_DEPTH {
            let first = self.afe.len() - since_marker;
            self.afe.remove(first);
        }
        // Noah's Ark: at most three equal elements after the last marker
        let (name, attrs) = match &token {
            Token::Start { name, attrs, .. } => (name.clone(), attrs.clone()),
            _ => return,
        };
        let mut same: Vec<usize> = Vec::new();
        for (i, e) in self.afe.iter().enumerate().rev() {
            match e {
                None => break,
                Some((_, Token::Start { name: n, attrs: a, .. })) if *n == name && *a == attrs => same.push(i),
                _ => {}
            }
        }
        if same.len() >= 3 {
            if let Some(&earliest) = same.last() {
                self.afe.remove(earliest);
            }
        }
        self.afe.push(Some((el, token)));
    }

    /// The adoption agency algorithm; `false`: act as "any other end tag".
    fn adoption_agency(&mut self, subject: &str) -> bool {
        let cur = self.current();
        if self.tree.is_html(cur, subject) && !self.afe.iter().flatten().any(|(n, _)| *n == cur) {
            self.stack.pop();
            return true;
        }
        for _ in 0..8 {
            let Some(fe_pos) = self
                .afe
                .iter()
                .rposition(|e| e.is_none() || e.as_ref().is_some_and(|(n, _)| self.tree.name(*n) == subject))
                .filter(|&p| self.afe[p].is_some())
            else {
                return false;
            };
            let Some((fe, fe_token)) = self.afe[fe_pos].clone() else { return false };
            let Some(fe_stack) = self.stack.iter().position(|&n| n == fe) else {
                self.afe.remove(fe_pos);
                return true;
            };
            if !self.in_scope(subject) {
                return true;
            }
            let furthest = self.stack[fe_stack + 1..]
                .iter()
                .position(|&n| {
                    let name = self.tree.name(n);
                    match self.tree.ns(n) {
                        Ns::Html => is_one_of(name, SPECIAL),
                        Ns::MathMl => matches!(name, "mi" | "mo" | "mn" | "ms" | "mtext" | "annotation-xml"),
                        Ns::Svg => matches!(name, "foreignObject" | "desc" | "title"),
                    }
                })
                .map(|p| p + fe_stack + 1);
            let Some(fb_stack) = furthest else {
                self.stack.truncate(fe_stack);
                self.afe.remove(fe_pos);
                return true;
            };
            let furthest_block = self.stack[fb_stack];
            let common_ancestor = self.stack[fe_stack - 1];
            let mut bookmark = fe_pos;
            let mut node_stack = fb_stack;
            let mut last_node = furthest_block;
            let mut inner = 0;
            loop {
                inner += 1;
                node_stack -= 1;
                let node = self.stack[node_stack];
                if node == fe {
                    break;
                }
                let afe_pos = self.afe.iter().position(|e| e.as_ref().is_some_and(|(n, _)| *n == node));
                if inner > 3 {
                    if let Some(p) = afe_pos {
                        self.afe.remove(p);
                        if p < bookmark {
                            bookmark -= 1;
                        }
                        self.stack.remove(node_stack);
                        continue;
                    }
                }
                let Some(p) = afe_pos else {
                    self.stack.remove(node_stack);
                    continue;
                };
                let Some((_, token)) = self.afe[p].clone() else { continue };
                let Token::Start { name, attrs, .. } = &token else { continue };
                let new = self.tree.add(Kind::Element { name: name.clone(), ns: Ns::Html, attrs: attrs.clone() });
                self.afe[p] = Some((new, token));
                self.stack[node_stack] = new;
                if last_node == furthest_block {
                    bookmark = p + 1;
                }
                self.tree.append(new, last_node);
                last_node = new;
            }
            // insert last_node at the appropriate place with common_ancestor as target
            let foster = self.tree.ns(common_ancestor) == Ns::Html
                && matches!(self.tree.name(common_ancestor), "table" | "tbody" | "tfoot" | "thead" | "tr");
            if foster {
                if let Some(table) = self.stack.iter().rev().find(|&&n| self.tree.is_html(n, "table")).copied() {
                    if let Some(parent) = self.tree.nodes[table].parent {
                        let index = self.tree.nodes[parent].children.iter().position(|&c| c == table).unwrap_or(0);
                        self.tree.insert_at(parent, index, last_node);
                    }
                }
            } else {
                self.tree.append(common_ancestor, last_node);
            }
            let Token::Start { name, attrs, .. } = &fe_token else { return true };
            let new = self.tree.add(Kind::Element { name: name.clone(), ns: Ns::Html, attrs: attrs.clone() });
            let children = std::mem::take(&mut self.tree.nodes[furthest_block].children);
            for c in children {
                self.tree.nodes[c].parent = None;
                self.tree.append(new, c);
            }
            self.tree.append(furthest_block, new);
            let fe_pos_now = self.afe.iter().position(|e| e.as_ref().is_some_and(|(n, _)| *n == fe));
            if let Some(p) = fe_pos_now {
                self.afe.remove(p);
                if p < bookmark {
                    bookmark -= 1;
                }
            }
            self.afe.insert(bookmark.min(self.afe.len()), Some((new, fe_token.clone())));
            if let Some(p) = self.stack.iter().position(|&n| n == fe) {
                self.stack.remove(p);
            }
            if let Some(p) = self.stack.iter().position(|&n| n == furthest_block) {
                self.stack.insert(p + 1, new);
            }
        }
        true
    }

    fn any_other_end_tag(&mut self, name: &str) {
        for idx in (1..self.stack.len()).rev() {
            let n = self.stack[idx];
            if self.tree.is_html(n, name) {
                self.generate_implied_end_tags(name);
                self.stack.truncate(idx);
                return;
            }
            let node_name = self.tree.name(n);
            let special = match self.tree.ns(n) {
                Ns::Html => is_one_of(node_name, SPECIAL),
                Ns::MathMl => matches!(node_name, "mi" | "mo" | "mn" | "ms" | "mtext" | "annotation-xml"),
                Ns::Svg => matches!(node_name, "foreignObject" | "desc" | "title"),
            };
            if special {
                return;
            }
        }
    }

    fn start_raw(&mut self, name: &str, attrs: Vec<(String, String)>, rcdata: bool, tok: &mut Tokenizer<'_>) {
        let el = self.insert_element(name, attrs);
        tok.raw = Some((name.to_string(), rcdata));
        // the raw text and its end tag come next
        if let Some(Token::Text(t)) = tok.clone_peek() {
            tok.next_token();
            let t = if name == "textarea" { t.strip_prefix('\n').map(str::to_string).unwrap_or(t) } else { t };
            self.tree.insert_text(el, self.tree.nodes[el].children.len(), &t);
        }
        tok.raw = None;
        // the matching end tag pops the element (or the input ends)
        let save = tok.i;
        match tok.next_token() {
            Some(Token::End { name: end }) if end == name => {
                if let Some(p) = self.stack.iter().rposition(|&n| n == el) {
                    self.stack.truncate(p);
                }
            }
            _ => {
                tok.i = save;
                if let Some(p) = self.stack.iter().rposition(|&n| n == el) {
                    self.stack.truncate(p);
                }
            }
        }
    }

    fn in_body(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        match token {
            Token::Comment(_) => {}
            Token::Text(t) => {
                let mut t = t.replace('\0', "");
                if self.skip_newline {
                    self.skip_newline = false;
                    if let Some(rest) = t.strip_prefix('\n') {
                        t = rest.to_string();
                    }
                }
                if t.is_empty() {
                    return;
                }
                self.reconstruct_afe();
                self.insert_text(&t);
            }
            Token::Start { name, attrs, self_closing } => {
                self.skip_newline = false;
                let mode = self.mode();
                let n = name.as_str();
                match n {
                    "html" | "body" | "frameset" => {}
                    _ if is_one_of(n, HEAD_TAGS) => match n {
                        "title" => self.start_raw(n, attrs, true, tok),
                        "style" | "noframes" | "script" => self.start_raw(n, attrs, false, tok),
                        _ => {
                            self.insert_element(n, attrs);
                            if n == "template" {
                                self.afe.push(None);
                                self.template_modes.push(Mode::Template);
                            }
                        }
                    },
                    "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
                        if mode == Mode::Cell || mode == Mode::Caption =>
                    {
                        if mode == Mode::Cell {
                            if self.in_table_scope("td") || self.in_table_scope("th") {
                                self.close_cell();
                                self.token(Token::Start { name, attrs, self_closing }, tok);
                            }
                        } else if self.in_table_scope("caption") {
                            self.generate_implied_end_tags("");
                            self.pop_until(&["caption"]);
                            self.clear_afe_to_marker();
                            self.token(Token::Start { name, attrs, self_closing }, tok);
                        }
                    }
                    _ if is_one_of(n, TABLE_PARTS) => {}
                    _ if is_one_of(n, CLOSES_P) => {
                        self.close_p();
                        self.insert_element(n, attrs);
                    }
                    _ if is_one_of(n, HEADINGS) => {
                        self.close_p();
                        let c = self.current();
                        if self.tree.ns(c) == Ns::Html && is_one_of(self.tree.name(c), HEADINGS) {
                            self.stack.pop();
                        }
                        self.insert_element(n, attrs);
                    }
                    "pre" | "listing" => {
                        self.close_p();
                        self.insert_element(n, attrs);
                        self.skip_newline = true;
                    }
                    "form" => {
                        let in_template = self.stack.iter().any(|&e| self.tree.is_html(e, "template"));
                        if self.form.is_none() || in_template {
                            self.close_p();
                            let el = self.insert_element(n, attrs);
                            if !in_template {
                                self.form = Some(el);
                            }
                        }
                    }
                    "li" | "dd" | "dt" => {
                        let closers: &[&str] = if n == "li" { &["li"] } else { &["dd", "dt"] };
                        for idx in (1..self.stack.len()).rev() {
                            let node = self.stack[idx];
                            let nn = self.tree.name(node).to_string();
                            let nn = nn.as_str();
                            if self.tree.ns(node) == Ns::Html && closers.contains(&nn) {
                                self.generate_implied_end_tags(nn);
                                self.stack.truncate(idx);
                                break;
                            }
                            if self.tree.ns(node) == Ns::Html
                                && is_one_of(nn, SPECIAL)
                                && !matches!(nn, "address" | "div" | "p")
                            {
                                break;
                            }
                        }
                        self.close_p();
                        self.insert_element(n, attrs);
                    }
                    "plaintext" => {
                        self.close_p();
                        self.insert_element(n, attrs);
                        tok.plaintext = true;
                    }
                    "button" => {
                        if self.in_scope("button") {
                            self.generate_implied_end_tags("");
                            self.pop_until(&["button"]);
                        }
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                    }
                    "a" => {
                        let active_a = self
                            .afe
                            .iter()
                            .rev()
                            .take_while(|e| e.is_some())
                            .flatten()
                            .find(|(el, _)| self.tree.name(*el) == "a")
                            .map(|(el, _)| *el);
                        if let Some(a) = active_a {
                            self.adoption_agency("a");
                            self.afe.retain(|e| e.as_ref().is_none_or(|(el, _)| *el != a));
                            self.stack.retain(|&el| el != a);
                        }
                        self.reconstruct_afe();
                        let token = Token::Start { name: name.clone(), attrs: attrs.clone(), self_closing };
                        let el = self.insert_element(n, attrs);
                        self.push_afe(el, token);
                    }
                    "nobr" => {
                        self.reconstruct_afe();
                        if self.in_scope("nobr") {
                            self.adoption_agency("nobr");
                            self.reconstruct_afe();
                        }
                        let token = Token::Start { name: name.clone(), attrs: attrs.clone(), self_closing };
                        let el = self.insert_element(n, attrs);
                        self.push_afe(el, token);
                    }
                    _ if is_one_of(n, FORMATTING) => {
                        self.reconstruct_afe();
                        let token = Token::Start { name: name.clone(), attrs: attrs.clone(), self_closing };
                        let el = self.insert_element(n, attrs);
                        self.push_afe(el, token);
                    }
                    "applet" | "marquee" | "object" => {
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                        self.afe.push(None);
                    }
                    "table" => {
                        // DOMParser documents are in quirks mode: `<table>` does not close a `<p>`
                        self.insert_element(n, attrs);
                    }
                    "area" | "br" | "embed" | "img" | "keygen" | "wbr" | "input" => {
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                    }
                    "image" => {
                        self.reconstruct_afe();
                        self.insert_element("img", attrs);
                    }
                    "param" | "source" | "track" => {
                        self.insert_element(n, attrs);
                    }
                    "hr" => {
                        self.close_p();
                        self.insert_element(n, attrs);
                    }
                    "textarea" => {
                        self.start_raw(n, attrs, true, tok);
                    }
                    "xmp" => {
                        self.close_p();
                        self.reconstruct_afe();
                        self.start_raw(n, attrs, false, tok);
                    }
                    "iframe" | "noembed" => {
                        self.start_raw(n, attrs, false, tok);
                    }
                    "select" => {
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                    }
                    "optgroup" | "option" => {
                        if self.tree.is_html(self.current(), "option") {
                            self.stack.pop();
                        }
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                    }
                    "rb" | "rtc" | "rp" | "rt" => {
                        if self.in_scope("ruby") {
                            self.generate_implied_end_tags(if n == "rp" || n == "rt" { "rtc" } else { "" });
                        }
                        self.insert_element(n, attrs);
                    }
                    "math" | "svg" => {
                        self.reconstruct_afe();
                        let ns = if n == "svg" { Ns::Svg } else { Ns::MathMl };
                        self.insert_foreign(name, attrs, ns, self_closing);
                    }
                    _ => {
                        self.reconstruct_afe();
                        self.insert_element(n, attrs);
                    }
                }
            }
            Token::End { name } => {
                let n = name.as_str();
                let mode = self.mode();
                match n {
                    "body" | "html" => {}
                    "template" => self.end_template(),
                    "td" | "th" if mode == Mode::Cell => {
                        if self.in_table_scope(n) {
                            self.generate_implied_end_tags("");
                            self.pop_until(&[n]);
                            self.clear_afe_to_marker();
                        }
                    }
                    "table" | "tbody" | "tfoot" | "thead" | "tr" if mode == Mode::Cell => {
                        if self.in_table_scope(n) {
                            self.close_cell();
                            self.token(Token::End { name }, tok);
                        }
                    }
                    "caption" | "table" if mode == Mode::Caption => {
                        if self.in_table_scope("caption") {
                            self.generate_implied_end_tags("");
                            self.pop_until(&["caption"]);
                            self.clear_afe_to_marker();
                            if n == "table" {
                                self.token(Token::End { name }, tok);
                            }
                        }
                    }
                    "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
                        if mode == Mode::Cell || mode == Mode::Caption => {}
                    "p" => {
                        if !self.in_scope_with("p", &["button"]) {
                            self.insert_element("p", Vec::new());
                        }
                        self.close_p();
                    }
                    "li" => {
                        if self.in_scope_with("li", &["ol", "ul"]) {
                            self.generate_implied_end_tags("li");
                            self.pop_until(&["li"]);
                        }
                    }
                    "dd" | "dt" => {
                        if self.in_scope(n) {
                            self.generate_implied_end_tags(n);
                            self.pop_until(&[n]);
                        }
                    }
                    _ if is_one_of(n, HEADINGS) => {
                        if HEADINGS.split(' ').any(|h| self.in_scope(h)) {
                            self.generate_implied_end_tags("");
                            self.pop_until(&["h1", "h2", "h3", "h4", "h5", "h6"]);
                        }
                    }
                    "form" if self.stack.iter().any(|&e| self.tree.is_html(e, "template")) => {
                        if self.in_scope("form") {
                            self.generate_implied_end_tags("");
                            self.pop_until(&["form"]);
                        }
                    }
                    "form" => {
                        let form = self.form.take();
                        if let Some(f) = form.filter(|_| self.in_scope("form")) {
                            self.generate_implied_end_tags("");
                            self.stack.retain(|&x| x != f);
                        }
                    }
                    "br" => {
                        self.reconstruct_afe();
                        self.insert_element("br", Vec::new());
                    }
                    "applet" | "marquee" | "object" => {
                        if self.in_scope(n) {
                            self.generate_implied_end_tags("");
                            self.pop_until(&[n]);
                            self.clear_afe_to_marker();
                        }
                    }
                    _ if is_one_of(n, CLOSES_P) || matches!(n, "button" | "listing" | "pre" | "select") => {
                        if self.in_scope(n) {
                            self.generate_implied_end_tags("");
                            self.pop_until(&[n]);
                        }
                    }
                    _ if is_one_of(n, FORMATTING) => {
                        if !self.adoption_agency(n) {
                            self.any_other_end_tag(n);
                        }
                    }
                    _ => self.any_other_end_tag(n),
                }
            }
        }
    }

    fn close_cell(&mut self) {
        self.generate_implied_end_tags("");
        self.pop_until(&["td", "th"]);
        self.clear_afe_to_marker();
    }

    fn clear_to(&mut self, names: &[&str]) {
        while self.stack.len() > 2 {
            let c = self.current();
            if self.tree.ns(c) == Ns::Html && (names.contains(&self.tree.name(c)) || self.tree.name(c) == "html") {
                break;
            }
            self.stack.pop();
        }
    }

    fn in_table(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        let mode = self.mode();
        let cur = self.current();
        let cur_is_table_part = self.tree.ns(cur) == Ns::Html
            && matches!(self.tree.name(cur), "table" | "tbody" | "tfoot" | "thead" | "tr");
        match token {
            Token::Comment(_) => {}
            Token::Text(t) => {
                if mode == Mode::ColumnGroup {
                    let ws: String = t.chars().take_while(|&c| is_html_space(c)).collect();
                    self.insert_text(&ws);
                    let rest = &t[ws.len()..];
                    if !rest.is_empty() {
                        self.stack.pop();
                        self.token(Token::Text(rest.to_string()), tok);
                    }
                    return;
                }
                let t = t.replace('\0', "");
                if cur_is_table_part && !t.chars().all(is_html_space) {
                    // foster parenting
                    self.foster = true;
                    self.reconstruct_afe();
                    self.insert_text(&t);
                    self.foster = false;
                } else if cur_is_table_part {
                    let (parent, index) = (cur, self.tree.nodes[cur].children.len());
                    self.tree.insert_text(parent, index, &t);
                } else {
                    self.in_body(Token::Text(t), tok);
                }
            }
            Token::Start { name, attrs, self_closing } => {
                let n = name.as_str();
                if mode == Mode::ColumnGroup {
                    match n {
                        "col" => {
                            self.insert_element(n, attrs);
                        }
                        "html" => {}
                        _ => {
                            self.stack.pop();
                            self.token(Token::Start { name, attrs, self_closing }, tok);
                        }
                    }
                    return;
                }
                match (mode, n) {
                    (Mode::Row, "td" | "th") => {
                        self.clear_to(&["tr", "template"]);
                        self.insert_element(n, attrs);
                        self.afe.push(None);
                    }
                    (Mode::Row, "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" | "tr") => {
                        if self.in_table_scope("tr") {
                            self.clear_to(&["tr", "template"]);
                            self.stack.pop();
                            self.token(Token::Start { name, attrs, self_closing }, tok);
                        }
                    }
                    (Mode::TableBody, "tr") => {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.insert_element(n, attrs);
                    }
                    (Mode::TableBody, "th" | "td") => {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.insert_element("tr", Vec::new());
                        self.token(Token::Start { name, attrs, self_closing }, tok);
                    }
                    (Mode::TableBody, "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead") => {
                        if ["tbody", "thead", "tfoot"].iter().any(|t| self.in_table_scope(t)) {
                            self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                            self.stack.pop();
                            self.token(Token::Start { name, attrs, self_closing }, tok);
                        }
                    }
                    (_, "caption") => {
                        self.clear_to(&["table", "template"]);
                        self.afe.push(None);
                        self.insert_element(n, attrs);
                    }
                    (_, "colgroup") => {
                        self.clear_to(&["table", "template"]);
                        self.insert_element(n, attrs);
                    }
                    (_, "col") => {
                        self.clear_to(&["table", "template"]);
                        self.insert_element("colgroup", Vec::new());
                        self.token(Token::Start { name, attrs, self_closing }, tok);
                    }
                    (_, "tbody" | "tfoot" | "thead") => {
                        self.clear_to(&["table", "template"]);
                        self.insert_element(n, attrs);
                    }
                    (_, "td" | "th" | "tr") => {
                        self.clear_to(&["table", "template"]);
                        self.insert_element("tbody", Vec::new());
                        self.token(Token::Start { name, attrs, self_closing }, tok);
                    }
                    (_, "table") => {
                        if self.in_table_scope("table") {
                            self.pop_until(&["table"]);
                            self.token(Token::Start { name, attrs, self_closing }, tok);
                        }
                    }
                    (_, "style" | "script" | "template") => {
                        self.in_body(Token::Start { name, attrs, self_closing }, tok);
                    }
                    (_, "input") if attrs.iter().any(|(k, v)| k == "type" && v.eq_ignore_ascii_case("hidden")) => {
                        let el = self.tree.add(Kind::Element { name: name.clone(), ns: Ns::Html, attrs });
                        self.tree.append(cur, el);
                    }
                    (_, "form") => {
                        if self.form.is_none() {
                            let el = self.tree.add(Kind::Element { name: name.clone(), ns: Ns::Html, attrs });
                            self.tree.append(cur, el);
                            self.form = Some(el);
                        }
                    }
                    _ => {
                        self.foster = true;
                        self.in_body(Token::Start { name, attrs, self_closing }, tok);
                        self.foster = false;
                    }
                }
            }
            Token::End { name } => {
                let n = name.as_str();
                match (mode, n) {
                    (Mode::ColumnGroup, "colgroup") => {
                        self.stack.pop();
                    }
                    (Mode::ColumnGroup, "col") => {}
                    (Mode::ColumnGroup, _) => {
                        self.stack.pop();
                        self.token(Token::End { name }, tok);
                    }
                    (Mode::Row, "tr") => {
                        if self.in_table_scope("tr") {
                            self.clear_to(&["tr", "template"]);
                            self.stack.pop();
                        }
                    }
                    (Mode::Row, "table") => {
                        if self.in_table_scope("tr") {
                            self.clear_to(&["tr", "template"]);
                            self.stack.pop();
                            self.token(Token::End { name }, tok);
                        }
                    }
                    (Mode::Row, "tbody" | "tfoot" | "thead") => {
                        if self.in_table_scope(n) && self.in_table_scope("tr") {
                            self.clear_to(&["tr", "template"]);
                            self.stack.pop();
                            self.token(Token::End { name }, tok);
                        }
                    }
                    (Mode::TableBody, "tbody" | "tfoot" | "thead") => {
                        if self.in_table_scope(n) {
                            self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                            self.stack.pop();
                        }
                    }
                    (Mode::TableBody, "table") => {
                        if ["tbody", "thead", "tfoot"].iter().any(|t| self.in_table_scope(t)) {
                            self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                            self.stack.pop();
                            self.token(Token::End { name }, tok);
                        }
                    }
                    (_, "table") => {
                        if self.in_table_scope("table") {
                            self.pop_until(&["table"]);
                        }
                    }
                    (
                        _,
                        "body" | "caption" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th" | "thead"
                        | "tr",
                    ) => {}
                    _ => {
                        self.foster = true;
                        self.in_body(Token::End { name }, tok);
                        self.foster = false;
                    }
                }
            }
        }
    }

    fn in_select(&mut self, token: Token, tok: &mut Tokenizer<'_>) {
        match token {
            Token::Comment(_) => {}
            Token::Text(t) => {
                let t = t.replace('\0', "");
                self.insert_text(&t);
            }
            Token::Start { name, attrs, self_closing } => match name.as_str() {
                "option" => {
                    if self.tree.is_html(self.current(), "option") {
                        self.stack.pop();
                    }
                    self.insert_element(&name, attrs);
                }
                "optgroup" => {
                    if self.tree.is_html(self.current(), "option") {
                        self.stack.pop();
                    }
                    if self.tree.is_html(self.current(), "optgroup") {
                        self.stack.pop();
                    }
                    self.insert_element(&name, attrs);
                }
                "hr" => {
                    if self.tree.is_html(self.current(), "option") {
                        self.stack.pop();
                    }
                    if self.tree.is_html(self.current(), "optgroup") {
                        self.stack.pop();
                    }
                    self.insert_element(&name, attrs);
                }
                "select" => {
                    self.pop_until(&["select"]);
                }
                "input" | "keygen" | "textarea" if self.stack.iter().any(|&n| self.tree.is_html(n, "select")) => {
                    self.pop_until(&["select"]);
                    self.token(Token::Start { name, attrs, self_closing }, tok);
                }
                "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    if self.stack.iter().any(|&n| self.tree.is_html(n, "table")) =>
                {
                    self.pop_until(&["select"]);
                    self.token(Token::Start { name, attrs, self_closing }, tok);
                }
                "script" | "template" => self.in_body(Token::Start { name, attrs, self_closing }, tok),
                _ => {}
            },
            Token::End { name } => match name.as_str() {
                "optgroup" => {
                    let cur = self.current();
                    let below = self.stack.len().checked_sub(2).map(|i| self.stack[i]);
                    if self.tree.is_html(cur, "option") && below.is_some_and(|b| self.tree.is_html(b, "optgroup")) {
                        self.stack.pop();
                    }
                    if self.tree.is_html(self.current(), "optgroup") {
                        self.stack.pop();
                    }
                }
                "option" if self.tree.is_html(self.current(), "option") => {
                    self.stack.pop();
                }
                "select" => self.pop_until(&["select"]),
                "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    if self.stack.iter().any(|&n| self.tree.is_html(n, "table")) && self.in_table_scope(&name) =>
                {
                    self.pop_until(&["select"]);
                    self.token(Token::End { name }, tok);
                }
                _ => {}
            },
        }
    }
}

impl Tokenizer<'_> {
    /// The next token without consuming it.
    fn clone_peek(&mut self) -> Option<Token> {
        let (i, raw, plaintext) = (self.i, self.raw.clone(), self.plaintext);
        let t = self.next_token();
        self.i = i;
        self.raw = raw;
        self.plaintext = plaintext;
        t
    }
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

/// DOMPurify's walk over the body's children (iterative: labels may nest deeply).
fn sanitize_nodes(tree: &mut Tree, nodes: Vec<usize>, parent: usize, forbid_style: bool) -> Vec<usize> {
    let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
    let top = sanitize_list(tree, nodes, parent, forbid_style, &mut work);
    while let Some((element, children)) = work.pop() {
        let kept = sanitize_list(tree, children, element, forbid_style, &mut work);
        for &c in &kept {
            tree.nodes[c].parent = Some(element);
        }
        tree.nodes[element].children = kept;
    }
    top
}

/// Sanitise one list of siblings under `parent`: the kept nodes; the children of kept
/// elements are queued on `work`.
fn sanitize_list(
    tree: &mut Tree,
    nodes: Vec<usize>,
    parent: usize,
    forbid_style: bool,
    work: &mut Vec<(usize, Vec<usize>)>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut queue: std::collections::VecDeque<usize> = nodes.into();
    while let Some(n) = queue.pop_front() {
        let (name, ns) = match &tree.nodes[n].kind {
            Kind::Text(_) => {
                out.push(n);
                continue;
            }
            Kind::Root | Kind::Comment(_) => continue,
            Kind::Element { name, ns, .. } => (name.to_ascii_lowercase(), *ns),
        };
        let has_element_child =
            tree.nodes[n].children.iter().any(|&c| matches!(tree.nodes[c].kind, Kind::Element { .. }));
        if !has_element_child && !tree.nodes[n].children.is_empty() {
            // markup-bearing text (mXSS probes): `textContent` and `innerHTML` are flat here
            let text = tree.flat_text(n);
            if markup_probe(&text) {
                let mut inner = String::new();
                serialize_children(tree, n, &mut inner);
                if markup_probe(&inner) {
                    continue;
                }
            }
        }
        if ns == Ns::Html && is_one_of(&name, LITERAL_TEXT) && (has_element_child || markup_probe(&tree.flat_text(n))) {
            continue;
        }
        let sets = &*SETS;
        let allowed = sets.allowed_tags.contains(name.as_str()) && !(forbid_style && name == "style");
        if !allowed {
            if !sets.forbid_contents.contains(name.as_str()) {
                let children = std::mem::take(&mut tree.nodes[n].children);
                for (i, c) in children.into_iter().enumerate() {
                    tree.nodes[c].parent = Some(parent);
                    queue.insert(i, c);
                }
            }
            continue;
        }
        if !valid_namespace(tree, n, parent, &name, ns) {
            continue;
        }
        if matches!(name.as_str(), "noscript" | "noembed" | "noframes") && {
            let mut inner = String::new();
            serialize_children(tree, n, &mut inner);
            let lower = inner.to_ascii_lowercase();
            lower.contains("</noscript") || lower.contains("</noembed") || lower.contains("</noframes")
        } {
            continue;
        }
        sanitize_attrs(tree, n, &name);
        let children = std::mem::take(&mut tree.nodes[n].children);
        work.push((n, children));
        out.push(n);
    }
    out
}

/// DOMPurify's `_checkValidNamespace`.
fn valid_namespace(tree: &Tree, _n: usize, parent: usize, name: &str, ns: Ns) -> bool {
    let sets = &*SETS;
    let (parent_ns, parent_name) = match &tree.nodes[parent].kind {
        Kind::Element { name, ns, .. } => (*ns, name.to_ascii_lowercase()),
        _ => (Ns::Html, "template".to_string()),
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

fn sanitize_attrs(tree: &mut Tree, n: usize, tag: &str) {
    let sets = &*SETS;
    let Kind::Element { attrs, .. } = &mut tree.nodes[n].kind else { return };
    // Mermaid's hook keeps `target` on links (as `data-temp-href-target` meanwhile)
    if tag == "a" {
        if let Some(t) = attrs.iter().find(|(k, _)| k == "target").map(|(_, v)| v.clone()) {
            attrs.push(("data-temp-href-target".into(), t));
        }
    }
    let mut kept: Vec<(String, String)> = Vec::new();
    for (name, value) in attrs.drain(..) {
        let lc = name.to_ascii_lowercase();
        let value = if lc == "value" { value } else { value.trim_matches(is_js_trim).to_string() };
        if attr_breakout(&value) || (lc == "attributename" && value.contains("href")) {
            continue;
        }
        if value.contains("/>") {
            continue;
        }
        if lc == "patchsrc" || (lc == "for" && tag != "label" && tag != "output") {
            continue;
        }
        let valid = if is_data_attr(&lc) || is_aria_attr(&lc) {
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
            kept.push((name, value));
        }
    }
    // the hook restores `target` from the temporary attribute, if that one survived
    let target = kept.iter().find(|(k, _)| k == "data-temp-href-target").map(|(_, v)| v.clone());
    if let Some(t) = target {
        kept.retain(|(k, _)| k != "data-temp-href-target" && k != "target");
        let blank = t == "_blank";
        kept.push(("target".into(), t));
        if blank {
            match kept.iter_mut().find(|(k, _)| k == "rel") {
                Some(rel) => rel.1 = "noopener".into(),
                None => kept.push(("rel".into(), "noopener".into())),
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

/// `innerHTML` of `n` (iterative: labels may nest deeply).
fn serialize_children(tree: &Tree, n: usize, out: &mut String) {
    enum Step {
        Open(usize),
        Close(usize),
    }
    let mut stack: Vec<Step> = tree.nodes[n].children.iter().rev().map(|&c| Step::Open(c)).collect();
    while let Some(step) = stack.pop() {
        let c = match step {
            Step::Close(c) => {
                if let Kind::Element { name, .. } = &tree.nodes[c].kind {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
                continue;
            }
            Step::Open(c) => c,
        };
        match &tree.nodes[c].kind {
            Kind::Text(t) => {
                let raw_parent = tree.nodes[c].parent.is_some_and(|p| match &tree.nodes[p].kind {
                    Kind::Element { name, ns: Ns::Html, .. } => matches!(
                        name.as_str(),
                        "style" | "script" | "xmp" | "iframe" | "noembed" | "noframes" | "plaintext"
                    ),
                    _ => false,
                });
                if raw_parent {
                    out.push_str(t);
                } else {
                    for ch in t.chars() {
                        match ch {
                            '&' => out.push_str("&amp;"),
                            '<' => out.push_str("&lt;"),
                            '>' => out.push_str("&gt;"),
                            '\u{A0}' => out.push_str("&nbsp;"),
                            ch => out.push(ch),
                        }
                    }
                }
            }
            Kind::Element { name, ns, attrs } => {
                out.push('<');
                out.push_str(name);
                for (k, v) in attrs {
                    out.push(' ');
                    out.push_str(k);
                    out.push_str("=\"");
                    for ch in v.chars() {
                        match ch {
                            '&' => out.push_str("&amp;"),
                            '"' => out.push_str("&quot;"),
                            '\u{A0}' => out.push_str("&nbsp;"),
                            ch => out.push(ch),
                        }
                    }
                    out.push('"');
                }
                out.push('>');
                if *ns == Ns::Html && is_one_of(name, VOID) {
                    continue;
                }
                stack.push(Step::Close(c));
                stack.extend(tree.nodes[c].children.iter().rev().map(|&k| Step::Open(k)));
            }
            Kind::Comment(text) => {
                out.push_str("<!--");
                out.push_str(text);
                out.push_str("-->");
            }
            Kind::Root => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

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
    }
}
