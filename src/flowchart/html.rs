//! What Mermaid does to every label: `DOMPurify.sanitize` (twice, under the default
//! `securityLevel: strict`). Text without `<` comes back unchanged (DOMPurify's fast
//! path); otherwise the text is parsed as HTML, unsafe tags and attributes are dropped,
//! and the fragment is serialised again (`&` → `&amp;`, `<br/>` → `<br>`, ...).

const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];

/// Tags whose content DOMPurify drops with them.
const FORBID_CONTENTS: &[&str] = &[
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
    "xmp",
    "title",
    "object",
    "embed",
    "frame",
    "frameset",
    "select",
    "textarea",
    "math",
    "svg",
    "head",
];

const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blink",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "content",
    "data",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "main",
    "map",
    "mark",
    "marquee",
    "menu",
    "menuitem",
    "meter",
    "nav",
    "nobr",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "picture",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "section",
    "shadow",
    "small",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];

const ALLOWED_ATTRS: &[&str] = &[
    "accept",
    "action",
    "align",
    "alt",
    "autocomplete",
    "background",
    "bgcolor",
    "border",
    "cellpadding",
    "cellspacing",
    "checked",
    "cite",
    "class",
    "clear",
    "color",
    "cols",
    "colspan",
    "controls",
    "coords",
    "datetime",
    "default",
    "dir",
    "disabled",
    "download",
    "enctype",
    "face",
    "for",
    "headers",
    "height",
    "hidden",
    "high",
    "href",
    "hreflang",
    "id",
    "kind",
    "label",
    "lang",
    "list",
    "loop",
    "low",
    "max",
    "maxlength",
    "media",
    "method",
    "min",
    "multiple",
    "name",
    "noshade",
    "novalidate",
    "nowrap",
    "open",
    "optimum",
    "pattern",
    "placeholder",
    "poster",
    "preload",
    "pubdate",
    "radiogroup",
    "readonly",
    "rel",
    "required",
    "rev",
    "reversed",
    "role",
    "rows",
    "rowspan",
    "spellcheck",
    "scope",
    "selected",
    "shape",
    "size",
    "sizes",
    "span",
    "srclang",
    "start",
    "src",
    "srcset",
    "step",
    "style",
    "summary",
    "tabindex",
    "title",
    "type",
    "usemap",
    "valign",
    "value",
    "width",
    "xmlns",
];

/// Mermaid's `sanitizeText` under its default configuration.
pub fn sanitize(text: &str) -> String {
    if !text.contains('<') {
        return text.to_string();
    }
    let once = purify(text);
    if once.contains('<') {
        purify(&once)
    } else {
        once
    }
}

enum Token {
    Text(String),
    Start { name: String, attrs: Vec<(String, String)> },
    End(String),
}

fn purify(input: &str) -> String {
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut skip_until: Option<String> = None;
    for token in tokenize(input) {
        if let Some(tag) = &skip_until {
            if matches!(&token, Token::End(name) if name == tag) {
                skip_until = None;
            }
            continue;
        }
        match token {
            Token::Text(t) => escape_text(&t, &mut out),
            Token::Start { name, attrs } => {
                if FORBID_CONTENTS.contains(&name.as_str()) {
                    if !VOID.contains(&name.as_str()) {
                        skip_until = Some(name);
                    }
                    continue;
                }
                if !ALLOWED_TAGS.contains(&name.as_str()) {
                    continue;
                }
                out.push('<');
                out.push_str(&name);
                for (k, v) in attrs {
                    if !ALLOWED_ATTRS.contains(&k.as_str()) && !k.starts_with("data-") && !k.starts_with("aria-") {
                        continue;
                    }
                    let lower = v.trim().to_ascii_lowercase();
                    if matches!(k.as_str(), "href" | "src" | "action")
                        && (lower.starts_with("javascript:") || lower.starts_with("vbscript:"))
                    {
                        continue;
                    }
                    out.push(' ');
                    out.push_str(&k);
                    out.push_str("=\"");
                    out.push_str(&v.replace('&', "&amp;").replace('"', "&quot;").replace('\u{A0}', "&nbsp;"));
                    out.push('"');
                }
                out.push('>');
                if !VOID.contains(&name.as_str()) {
                    open.push(name);
                }
            }
            Token::End(name) => {
                if name == "br" {
                    out.push_str("<br>");
                } else if let Some(pos) = open.iter().rposition(|n| *n == name) {
                    while open.len() > pos {
                        if let Some(n) = open.pop() {
                            out.push_str(&format!("</{n}>"));
                        }
                    }
                }
            }
        }
    }
    while let Some(n) = open.pop() {
        out.push_str(&format!("</{n}>"));
    }
    out
}

fn escape_text(t: &str, out: &mut String) {
    for c in decode_entities(t).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{A0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// HTML character references in text (the common named ones and numeric ones).
pub fn decode_entities(t: &str) -> String {
    if !t.contains('&') {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1);
        let decoded = end.filter(|&e| rest[e..].starts_with(';')).and_then(|e| {
            let name = &rest[1..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{A0}'),
                "copy" => Some('©'),
                "reg" => Some('®'),
                "hellip" => Some('…'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hearts" => Some('♥'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((ch, e + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
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

fn tokenize(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut text = String::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < input.len() {
        if bytes[i] == b'<' {
            let next = bytes.get(i + 1).copied();
            let is_end = next == Some(b'/');
            let name_at = if is_end { i + 2 } else { i + 1 };
            if bytes.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
                // a tag: runs to the next `>` (outside quotes); without one it is dropped
                let Some(close) = find_tag_end(input, name_at) else { break };
                if !text.is_empty() {
                    tokens.push(Token::Text(std::mem::take(&mut text)));
                }
                let inner = &input[name_at..close];
                let name_end = inner.find(|c: char| c.is_whitespace() || c == '/' || c == '>').unwrap_or(inner.len());
                let name = inner[..name_end].to_ascii_lowercase();
                if is_end {
                    tokens.push(Token::End(name));
                } else {
                    tokens.push(Token::Start { name, attrs: parse_attrs(&inner[name_end..]) });
                }
                i = close + 1;
                continue;
            }
            if next == Some(b'!') || next == Some(b'?') || (is_end && bytes.get(i + 2).is_some()) {
                // comment or bogus comment: dropped up to `>` (`-->` for comments)
                let end = if input[i..].starts_with("<!--") {
                    input[i + 4..].find("-->").map(|e| i + 4 + e + 3)
                } else {
                    input[i..].find('>').map(|e| i + e + 1)
                };
                if !text.is_empty() {
                    tokens.push(Token::Text(std::mem::take(&mut text)));
                }
                match end {
                    Some(e) => {
                        i = e;
                        continue;
                    }
                    None => break,
                }
            }
        }
        let ch = input[i..].chars().next().unwrap_or('\u{FFFD}');
        text.push(ch);
        i += ch.len_utf8();
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    tokens
}

fn find_tag_end(input: &str, from: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (off, c) in input[from..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(from + off),
            _ => {}
        }
    }
    None
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| c.is_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            if let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &after[1..];
                let end = body.find(q).unwrap_or(body.len());
                value = decode_entities(&body[..end]);
                rest = body.get(end + 1..).unwrap_or("");
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                value = decode_entities(&after[..end]);
                rest = &after[end..];
            }
        }
        if !name.is_empty() && !attrs.iter().any(|(k, _): &(String, String)| *k == name) {
            attrs.push((name, value));
        }
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
    }
    attrs
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
}
