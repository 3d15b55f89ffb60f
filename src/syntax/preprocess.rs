//! Mermaid's preprocessing (`preprocessDiagram` and `Diagram.fromText` in Mermaid 11):
//! line ends, front-matter, `%%{init}%%` directives, `%%` comment lines, entity codes.
//! Every rewrite keeps the map back to the file.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::diagnostic::{codes, Diagnostic};
use crate::source::{Edit, MappedText, Span};

/// Whether to run Mermaid's whole pipeline or hand the text to the grammar as it is
/// (what Mermaid's parser unit tests do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    #[default]
    Full,
    Raw,
}

/// The diagram text the grammar sees, and what preprocessing took out of it.
#[derive(Debug, Clone)]
pub struct Preprocessed {
    pub text: MappedText,
    /// Front-matter `config` merged with `%%{init: ...}%%` directives.
    pub config: Map<String, Value>,
    /// Front-matter `title`.
    pub title: Option<String>,
    /// The front-matter block, if any (file span).
    pub front_matter: Option<Span>,
    /// The whole front-matter document (for archc's own keys).
    pub front_matter_yaml: Option<serde_yaml::Value>,
    /// Problems that do not stop the parse (an ignored directive).
    pub warnings: Vec<Diagnostic>,
}

static FRONT_MATTER: LazyLock<Regex> =
    LazyLock::new(|| crate::constant_regex(r"(?s)\A-{3}\s*[\n\r](.*?)[\n\r]-{3}\s*[\n\r]+"));
static TAG: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r#"<([A-Za-z0-9_]+)([^>]*)>"#));
static TAG_ATTR: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r#"="([^"]*)""#));
static COMMENT_LINE: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r"(?m)^\s*%%[^{\n][^\n]*\n?"));
static STYLE_SEMI: LazyLock<Regex> =
    LazyLock::new(|| crate::constant_regex("style[^\n\r\u{2028}\u{2029}]*:\\S*#[^\n\r\u{2028}\u{2029}]*;"));
static CLASSDEF_SEMI: LazyLock<Regex> =
    LazyLock::new(|| crate::constant_regex("classDef[^\n\r\u{2028}\u{2029}]*:\\S*#[^\n\r\u{2028}\u{2029}]*;"));
static ENTITY: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r"#[A-Za-z0-9_]+;"));
static BRACE_NEWLINE: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r"\}\s*\n"));
static THEME_VALUE: LazyLock<Regex> = LazyLock::new(|| crate::constant_regex(r##"^[\d "#%(),.;A-Za-z]+$"##));

/// The placeholders Mermaid puts in place of entity codes (`#quot;` → `ﬂ°quot¶ß`).
pub const ENTITY_OPEN: &str = "\u{FB02}\u{B0}";
pub const ENTITY_OPEN_NUMERIC: &str = "\u{FB02}\u{B0}\u{B0}";
pub const ENTITY_CLOSE: &str = "\u{B6}\u{DF}";

/// Run Mermaid's preprocessing over a diagram.
///
/// # Errors
/// A front-matter block that is not valid YAML (Mermaid refuses the diagram too).
pub fn preprocess(input: &MappedText, mode: Mode) -> Result<Preprocessed, Diagnostic> {
    let mut out = Preprocessed {
        text: input.clone(),
        config: Map::new(),
        title: None,
        front_matter: None,
        front_matter_yaml: None,
        warnings: Vec::new(),
    };
    if mode == Mode::Raw {
        return Ok(out);
    }
    // 1. line ends and `attr="v"` inside tags
    let mut text = normalize_line_ends(input);
    text = text.replace_all(&TAG, |caps| {
        let attrs = TAG_ATTR.replace_all(&caps[2], "='$1'");
        format!("<{}{}>", &caps[1], attrs)
    });
    // 2. front-matter
    if let Some(caps) = FRONT_MATTER.captures(text.as_str()) {
        let (whole, body) = (caps.get(0).map_or(0..0, |m| m.range()), caps.get(1).map_or(0..0, |m| m.range()));
        let span = text.source_span(whole.clone());
        out.front_matter = Some(span);
        match parse_yaml(&text.as_str()[body.clone()]) {
            Ok(doc) => {
                if let Some(map) = doc.as_mapping() {
                    if let Some(title) = map.get("title") {
                        out.title = Some(yaml_scalar_string(title));
                    }
                    if let Some(Ok(Value::Object(config))) = map.get("config").map(serde_json::to_value) {
                        out.config = config;
                    }
                }
                out.front_matter_yaml = Some(doc);
            }
            Err(err) => {
                return Err(Diagnostic::error(
                    codes::INVALID_FRONT_MATTER,
                    format!("front-matter is not valid YAML: {err}"),
                )
                .with_primary(text.source_span(body), "in this block")
                .with_help("fix the YAML between the `---` lines, or remove the block"));
            }
        }
        text = text.edit([Edit::delete(whole)]);
    }
    // 3. directives
    let directives = find_directives(text.as_str());
    for directive in &directives {
        if !matches!(directive.kind.as_str(), "init" | "initialize") {
            continue;
        }
        let Some(args) = &directive.args else { continue };
        let json = args.trim().replace('\'', "\"");
        match serde_json::from_str::<Value>(&json) {
            Ok(Value::Object(mut map)) => {
                sanitize_directive(&mut map);
                if let Some(config) = map.remove("config") {
                    map.insert("flowchart".into(), config);
                }
                merge(&mut out.config, map);
            }
            Ok(_) => {}
            Err(err) => out.warnings.push(
                Diagnostic::warning(
                    codes::INVALID_DIRECTIVE,
                    format!("`%%{{{}}}%%` directive is not valid JSON: {err}", directive.kind),
                )
                .with_primary(text.source_span(directive.range.clone()), "Mermaid ignores this directive")
                .with_help("write the directive's object as JSON (single quotes are fine)"),
            ),
        }
    }
    text = text.edit(directives.into_iter().map(|d| Edit::delete(d.range)));
    // 4. comment lines, then leading whitespace
    text = text.replace_all(&COMMENT_LINE, |_| String::new());
    let leading = text.as_str().len() - text.as_str().trim_start().len();
    if leading > 0 {
        text = text.edit([Edit::delete(0..leading)]);
    }
    // 5. entity codes (`Diagram.fromText`)
    text = drop_last_char(&text, &STYLE_SEMI);
    text = drop_last_char(&text, &CLASSDEF_SEMI);
    text = text.replace_all(&ENTITY, |caps| {
        let inner = &caps[0][1..caps[0].len() - 1];
        if inner.bytes().all(|b| b.is_ascii_digit()) {
            format!("{ENTITY_OPEN_NUMERIC}{inner}{ENTITY_CLOSE}")
        } else {
            format!("{ENTITY_OPEN}{inner}{ENTITY_CLOSE}")
        }
    });
    text = text.with_suffix("\n");
    // 6. the flowchart parser's own wrapper: `}` + whitespace + newline → `}\n`
    let edits: Vec<Edit> = BRACE_NEWLINE
        .find_iter(text.as_str())
        .filter(|m| m.len() > 2)
        .map(|m| Edit::delete(m.start() + 1..m.end() - 1))
        .collect();
    if !edits.is_empty() {
        text = text.edit(edits);
    }
    out.text = text;
    Ok(out)
}

/// YAML as js-yaml reads it: U+0085, U+2028 and U+2029 are ordinary characters (YAML 1.2),
/// not the line breaks of YAML 1.1 that serde_yaml's parser sees in them.
///
/// # Errors
/// The YAML error.
pub(crate) fn parse_yaml(text: &str) -> Result<serde_yaml::Value, serde_yaml::Error> {
    const SWAP: [(char, char); 3] = [('\u{85}', '\u{F0085}'), ('\u{2028}', '\u{F2028}'), ('\u{2029}', '\u{F2029}')];
    if !text.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return serde_yaml::from_str(text);
    }
    fn restore(v: &mut serde_yaml::Value) {
        match v {
            serde_yaml::Value::String(s) => {
                for (c, p) in SWAP {
                    *s = s.replace(p, &c.to_string());
                }
            }
            serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(restore),
            serde_yaml::Value::Mapping(map) => {
                let entries: Vec<_> = std::mem::take(map).into_iter().collect();
                for (mut k, mut v) in entries {
                    restore(&mut k);
                    restore(&mut v);
                    map.insert(k, v);
                }
            }
            serde_yaml::Value::Tagged(t) => restore(&mut t.value),
            _ => {}
        }
    }
    let mut swapped = text.to_string();
    for (c, p) in SWAP {
        swapped = swapped.replace(c, &p.to_string());
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(&swapped)?;
    restore(&mut value);
    Ok(value)
}

fn normalize_line_ends(input: &MappedText) -> MappedText {
    let s = input.as_str();
    let edits: Vec<Edit> = s
        .match_indices('\r')
        .map(|(i, _)| {
            if s.as_bytes().get(i + 1) == Some(&b'\n') {
                Edit::delete(i..i + 1)
            } else {
                Edit { range: i..i + 1, replacement: "\n".into() }
            }
        })
        .collect();
    if edits.is_empty() {
        input.clone()
    } else {
        input.edit(edits)
    }
}

fn drop_last_char(text: &MappedText, regex: &Regex) -> MappedText {
    let edits: Vec<Edit> = regex.find_iter(text.as_str()).map(|m| Edit::delete(m.end() - 1..m.end())).collect();
    if edits.is_empty() {
        text.clone()
    } else {
        text.edit(edits)
    }
}

fn yaml_scalar_string(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// One `%%{type: args}%%` directive.
#[derive(Debug, Clone)]
pub struct Directive {
    pub range: std::ops::Range<usize>,
    pub kind: String,
    pub args: Option<String>,
}

/// JavaScript's `\s`.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Mermaid's `directiveRegex`, written out: `%%{` type [`:`] args [`}%%`].
pub fn find_directives(text: &str) -> Vec<Directive> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find("%%{") {
        let start = from + rel;
        let mut i = start + 3;
        // JavaScript's `\s`
        let skip_ws = |mut i: usize| {
            while let Some(c) = text[i..].chars().next().filter(|&c| is_js_space(c)) {
                i += c.len_utf8();
            }
            i
        };
        i = skip_ws(i);
        let word_start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        if i == word_start {
            from = start + 1;
            continue;
        }
        let kind = text[word_start..i].to_string();
        let after_word = i;
        let j = skip_ws(i);
        if bytes.get(j) == Some(&b':') {
            i = j + 1;
        } else {
            i = after_word;
        }
        i = skip_ws(i);
        // args: a word, or everything up to `}%%`
        let args_start = i;
        let mut k = i;
        while k < bytes.len() && is_word(bytes[k]) {
            k += 1;
        }
        // `((?!}%%).|\r?\n)*`: JavaScript's `.` stops at `\r`, U+2028 and U+2029
        let args_end = if k > args_start {
            k
        } else {
            let mut e = i;
            while e < text.len() && !text[e..].starts_with("}%%") {
                let c = text[e..].chars().next().unwrap_or('\n');
                if matches!(c, '\r' | '\u{2028}' | '\u{2029}') && !text[e..].starts_with("\r\n") {
                    break;
                }
                e += if text[e..].starts_with("\r\n") { 2 } else { c.len_utf8() };
            }
            e
        };
        let args = (args_end > args_start).then(|| text[args_start..args_end].to_string());
        let mut end = skip_ws(args_end);
        if text[end..].starts_with("}%%") {
            end += 3;
        } else {
            end = args_end;
        }
        found.push(Directive { range: start..end, kind, args });
        from = end.max(start + 1);
    }
    found
}

/// Mermaid's `sanitizeDirective`: drop dangerous keys and theme values with characters
/// outside `[0-9 "#%(),.;A-Za-z]`.
fn sanitize_directive(map: &mut Map<String, Value>) {
    map.retain(|k, v| !(k.starts_with("__") || k.contains("proto") || k.contains("constr") || v.is_null()));
    for (_, v) in map.iter_mut() {
        if let Value::Object(inner) = v {
            sanitize_directive(inner);
        }
    }
    if let Some(Value::Object(theme)) = map.get_mut("themeVariables") {
        for (_, v) in theme.iter_mut() {
            if let Value::String(s) = v {
                if !THEME_VALUE.is_match(s) {
                    *s = String::new();
                }
            }
        }
    }
}

/// Deep-merge `from` into `into` (objects merge key by key, anything else replaces), as
/// Mermaid merges directive and front-matter configuration.
pub(crate) fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> Preprocessed {
        preprocess(&MappedText::new(s, 0), Mode::Full).expect("preprocess")
    }

    #[test]
    fn comments_directives_and_front_matter_go_away() {
        let p = full(
            "---\ntitle: T\nconfig:\n  theme: dark\n---\n%%{init: {'theme':'base'}}%%\n%% note\ngraph TD\nA-->B\n",
        );
        assert_eq!(p.text.as_str(), "graph TD\nA-->B\n\n");
        assert_eq!(p.title.as_deref(), Some("T"));
        assert_eq!(p.config["theme"], "base");
    }

    #[test]
    fn positions_survive_preprocessing() {
        let src = "%% c\ngraph TD\nA-->B\n";
        let p = full(src);
        let at = p.text.as_str().find("A-->B").expect("edge");
        assert_eq!(&src[p.text.source_offset(at)..][..5], "A-->B");
    }

    #[test]
    fn entity_codes_and_style_semicolons() {
        let p = full("graph TD\nA[\"#quot;x#quot;\"]\nstyle A fill:#f00;\n");
        assert!(p.text.as_str().contains("\u{FB02}\u{B0}quot\u{B6}\u{DF}x"));
        assert!(p.text.as_str().contains("style A fill:#f00\n"));
    }

    #[test]
    fn multi_line_directive_with_unsafe_theme_value() {
        let p = full("%%{init: {'themeVariables':{\n 'fontFamily':'Segoe UI, sans-serif',\n 'primaryColor':'#FF9900'}}}%%\nflowchart TB\n");
        assert_eq!(p.config["themeVariables"]["fontFamily"], "");
        assert_eq!(p.config["themeVariables"]["primaryColor"], "#FF9900");
    }
}
