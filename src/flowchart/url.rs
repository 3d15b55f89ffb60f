//! `click` link URLs as Mermaid stores them under `securityLevel: strict`:
//! `@braintree/sanitize-url` 7 (`sanitizeUrl`), ported from its JavaScript; for
//! `http:`/`https:` URLs it also serialises them through the WHATWG URL parser
//! (`new URL(url).toString()`), which is the `url` crate here.

const BLANK_URL: &str = "about:blank";

/// JavaScript's `String.prototype.trim` set (`\s` and the line terminators).
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// `ctrlCharactersRegex`: `[\u0000-\u001F\u007F-\u009F\u2000-\u200D\uFEFF]`.
fn is_ctrl(c: char) -> bool {
    matches!(c, '\u{00}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{2000}'..='\u{200D}' | '\u{FEFF}')
}

/// `decodeURIComponent`, or the input unchanged where that throws.
fn decode_uri_component(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) if s.as_bytes()[i + 1].is_ascii_hexdigit() && s.as_bytes()[i + 2].is_ascii_hexdigit() => {
                    out.push(b);
                    i += 3;
                }
                _ => return s.to_string(),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// `&#(\w+)(^\w|;)?` → `String.fromCharCode(dec)`.
fn decode_html_numeric(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("&#") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let word_len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        if word_len == 0 {
            out.push_str("&#");
            rest = after;
            continue;
        }
        let word = &after[..word_len];
        let code = js_number_to_u16(word);
        out.push(char::from_u32(u32::from(code)).unwrap_or('\u{FFFD}'));
        rest = &after[word_len..];
        rest = rest.strip_prefix(';').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// `ToUint16(Number(word))` for a `\w+` word.
fn js_number_to_u16(word: &str) -> u16 {
    let value = if let Some(h) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok().map(|n| (n % 65536) as f64)
    } else if let Some(o) = word.strip_prefix("0o").or_else(|| word.strip_prefix("0O")) {
        u128::from_str_radix(o, 8).ok().map(|n| (n % 65536) as f64)
    } else if let Some(b) = word.strip_prefix("0b").or_else(|| word.strip_prefix("0B")) {
        u128::from_str_radix(b, 2).ok().map(|n| (n % 65536) as f64)
    } else if word.bytes().all(|b| b.is_ascii_digit() || b == b'e' || b == b'E') {
        word.parse::<f64>().ok()
    } else {
        None
    };
    match value {
        Some(v) if v.is_finite() => (v.trunc().rem_euclid(65536.0)) as u16,
        _ => 0,
    }
}

/// `&(newline|tab);`, case-insensitive.
fn strip_html_ctrl_entities(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if lower[i..].starts_with("&newline;") {
            i += "&newline;".len();
        } else if lower[i..].starts_with("&tab;") {
            i += "&tab;".len();
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a `(\\|%5[cC])((%(6[eE]|72|74))|[nrt])` match at the start of `s`.
fn whitespace_escape_at(s: &str) -> Option<usize> {
    let head = if s.starts_with('\\') {
        1
    } else if s.get(..3).is_some_and(|h| h.eq_ignore_ascii_case("%5c")) {
        3
    } else {
        return None;
    };
    let rest = &s[head..];
    if rest.starts_with(['n', 'r', 't']) {
        return Some(head + 1);
    }
    let code = rest.get(..3)?;
    if code.eq_ignore_ascii_case("%6e") || code == "%72" || code == "%74" {
        return Some(head + 3);
    }
    None
}

fn strip_whitespace_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if let Some(len) = whitespace_escape_at(&s[i..]) {
            i += len;
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn needs_more_decoding(s: &str) -> bool {
    if s.chars().any(is_ctrl) {
        return true;
    }
    if s.match_indices("&#").any(|(i, _)| s[i + 2..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("&newline;") || lower.contains("&tab;") {
        return true;
    }
    (0..s.len()).any(|i| s.is_char_boundary(i) && whitespace_escape_at(&s[i..]).is_some())
}

/// Mermaid's `formatUrl` under `securityLevel: strict`: `None` for a blank URL.
pub(crate) fn format_url(link: &str) -> Option<String> {
    let url = js_trim(link);
    if url.is_empty() {
        return None;
    }
    Some(sanitize_url(url))
}

/// `sanitizeUrl` of `@braintree/sanitize-url` 7.1.
pub(crate) fn sanitize_url(url: &str) -> String {
    if url.is_empty() {
        return BLANK_URL.into();
    }
    let mut decoded = decode_uri_component(js_trim(url));
    for _ in 0..64 {
        let step = decode_html_numeric(&decoded.replace(is_ctrl, ""));
        let step = strip_html_ctrl_entities(&step).replace(is_ctrl, "");
        let step = strip_whitespace_escapes(&step);
        decoded = decode_uri_component(js_trim(&step));
        if !needs_more_decoding(&decoded) {
            break;
        }
    }
    if decoded.is_empty() {
        return BLANK_URL.into();
    }
    if decoded.starts_with(['.', '/']) {
        return decoded;
    }
    let trimmed = decoded.trim_start_matches(is_js_space);
    // `^.+(:|&colon;)` (flags `gim`): the first line with a `:` or `&colon;` after its first
    // character, up to the last one
    fn scheme_of(line: &str) -> Option<&str> {
        line.char_indices()
            .filter(|&(i, _)| i > 0)
            .filter_map(|(i, c)| {
                if c == ':' {
                    Some(i + 1)
                } else if line[i..].get(.."&colon;".len()).is_some_and(|s| s.eq_ignore_ascii_case("&colon;")) {
                    Some(i + "&colon;".len())
                } else {
                    None
                }
            })
            .next_back()
            .map(|end| &line[..end])
    }
    let Some(scheme) = trimmed.split(['\n', '\r', '\u{2028}', '\u{2029}']).find_map(scheme_of) else {
        return decoded;
    };
    let scheme = js_trim(scheme).to_lowercase();
    let letters = scheme.trim_start_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    if ["javascript", "data", "vbscript"].iter().any(|p| letters.starts_with(p)) {
        return BLANK_URL.into();
    }
    let back = trimmed.replace('\\', "/");
    if scheme == "mailto:" || scheme.contains("://") {
        return back;
    }
    if scheme == "http:" || scheme == "https:" {
        return whatwg_href(&back).unwrap_or_else(|| BLANK_URL.into());
    }
    back
}

/// `new URL(s).toString()` for an absolute `http:`/`https:` URL (the `url` crate is the
/// WHATWG URL parser, as Node's `URL` is); `None` where `URL.canParse` says no.
/// sanitize-url then assigns the lower-cased protocol and hostname back, which changes
/// nothing here: the parser has already lower-cased both (and mapped the host by UTS #46).
fn whatwg_href(s: &str) -> Option<String> {
    let url = url::Url::parse(s).ok()?;
    if !s.contains('^') {
        return Some(url.into());
    }
    Some(caret_in_path(s, &url).unwrap_or_else(|| url.into()))
}

/// The URL with `^` left as it is in the path. The URL standard added `^` to the path
/// percent-encode set in 2024 and the `url` crate follows it; the Node.js `URL` that
/// Mermaid's conformance results come from (and browsers' URL parsers) still write `^`.
/// The path is taken from a second parse where each `^` is a private-use character absent
/// from the input (nor percent-encoded in it), whose escapes then become `^` again.
fn caret_in_path(s: &str, url: &url::Url) -> Option<String> {
    use url::Position;
    let upper = s.to_ascii_uppercase();
    let (stand_in, escaped) = ('\u{E000}'..='\u{F8FF}').find_map(|c| {
        let mut buf = [0u8; 4];
        let escaped: String = c.encode_utf8(&mut buf).bytes().map(|b| format!("%{b:02X}")).collect();
        (!s.contains(c) && !upper.contains(&escaped)).then_some((c, escaped))
    })?;
    let marked = url::Url::parse(&s.replace('^', &stand_in.to_string())).ok()?;
    let path = marked[Position::BeforePath..Position::AfterPath].replace(&escaped, "^");
    Some(format!("{}{path}{}", &url[..Position::BeforePath], &url[Position::AfterPath..]))
}

#[cfg(test)]
mod tests {
    use super::sanitize_url;

    #[test]
    fn like_braintree_sanitize_url() {
        assert_eq!(sanitize_url("javascript:alert(1)"), "about:blank");
        assert_eq!(sanitize_url("  JaVaScRiPt:alert(1)"), "about:blank");
        assert_eq!(sanitize_url("java\nscript:alert(1)"), "about:blank");
        assert_eq!(sanitize_url("JAVASCRIPT&COLON;alert(1)"), "about:blank");
        assert_eq!(sanitize_url("https://Example.COM"), "https://example.com/");
        assert_eq!(sanitize_url("https:a.b"), "https://a.b/");
        assert_eq!(sanitize_url("https://me\nrmaid.js.org/#/x"), "https://mermaid.js.org/#/x");
        assert_eq!(sanitize_url("https://a.b:8080/x"), "https://a.b:8080/x");
        assert_eq!(sanitize_url("http://a.b/x y/../z?q=a b#f g"), "http://a.b/z?q=a%20b#f%20g");
        assert_eq!(sanitize_url("http://1.2.3"), "http://1.2.0.3/");
        assert_eq!(sanitize_url("http://256.1"), "about:blank");
        assert_eq!(sanitize_url("HTTP://A.B/%7e"), "http://a.b/~");
        assert_eq!(sanitize_url("notes://do-your-thing/id"), "notes://do-your-thing/id");
        assert_eq!(sanitize_url("mailto:user@user.user"), "mailto:user@user.user");
        assert_eq!(sanitize_url("#link-clicked"), "#link-clicked");
        assert_eq!(sanitize_url("/relative\\path"), "/relative\\path");
        assert_eq!(sanitize_url("http://0x7f.1"), "http://127.0.0.1/");
        assert_eq!(sanitize_url("http://"), "about:blank");
        assert_eq!(sanitize_url("http://münchen.de/"), "http://xn--mnchen-3ya.de/");
        assert_eq!(sanitize_url("http://bücher.東京.jp"), "http://xn--bcher-kva.xn--1lqs71d.jp/");
        // UTS #46 mapping, as Node's `URL` does it
        assert_eq!(sanitize_url("http://\u{FB02}.de/\u{2169}"), "http://fl.de/%E2%85%A9");
        assert_eq!(sanitize_url("HTTP://\u{2169}.com"), "http://x.com/");
        // `^` stays in paths (Node's `URL`), is encoded in user info; `%5E` stays as written
        assert_eq!(sanitize_url("http://u^@a.b/x^y?q^#f^"), "http://u%5E@a.b/x^y?q^#f^");
        assert_eq!(sanitize_url("http://a.b/%25255E^"), "http://a.b/%5E^");
        assert_eq!(sanitize_url("http://a.b/%25255e^x%25EE%2580%2580"), "http://a.b/%5e^x%EE%80%80");
    }
}
