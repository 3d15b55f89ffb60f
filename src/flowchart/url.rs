//! `click` link URLs as Mermaid stores them under `securityLevel: strict`:
//! `@braintree/sanitize-url` 7 (`sanitizeUrl`), which for `http:`/`https:` URLs also
//! serialises them through the WHATWG URL parser (`new URL(url).toString()`).

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
    // `^.+(:|&colon;)` (flags `gm`): the first line with a `:` or `&colon;` after its first
    // character, up to the last one
    fn scheme_of(line: &str) -> Option<&str> {
        line.char_indices()
            .filter(|&(i, _)| i > 0)
            .filter_map(|(i, c)| {
                if c == ':' {
                    Some(i + 1)
                } else if line[i..].starts_with("&colon;") {
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

/// `new URL(s).toString()` for an absolute `http:`/`https:` URL; `None` where the URL
/// parser fails. Hosts are ASCII-lower-cased; IDNA and IPv6 are not normalised.
fn whatwg_href(s: &str) -> Option<String> {
    let s = s.trim_matches(|c: char| c <= ' ');
    let s: String = s.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let colon = s.find(':')?;
    let scheme = s[..colon].to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let rest = s[colon + 1..].trim_start_matches(['/', '\\']);
    let auth_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => (&hostport[..=end], hostport[end + 1..].strip_prefix(':')),
            None => return None,
        }
    } else {
        match hostport.rfind(':') {
            Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
            None => (hostport, None),
        }
    };
    let host = parse_host(host)?;
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = p.trim_start_matches('0').parse().unwrap_or(0);
            if n > 65535 {
                return None;
            }
            let n = n.to_string();
            (n != default_port).then_some(n)
        }
        Some(_) => return None,
    };
    let mut out = format!("{scheme}://");
    if let Some(info) = userinfo {
        let (user, pass) = info.split_once(':').map_or((info, None), |(u, p)| (u, Some(p)));
        let user = percent_encode(user, USERINFO);
        let pass = pass.map(|p| percent_encode(p, USERINFO)).unwrap_or_default();
        if !user.is_empty() || !pass.is_empty() {
            out.push_str(&user);
            if !pass.is_empty() {
                out.push(':');
                out.push_str(&pass);
            }
            out.push('@');
        }
    }
    out.push_str(&host);
    if let Some(p) = port {
        out.push(':');
        out.push_str(&p);
    }
    let (before_fragment, fragment) = match tail.find('#') {
        Some(h) => (&tail[..h], Some(&tail[h + 1..])),
        None => (tail, None),
    };
    let (path, query) = match before_fragment.find('?') {
        Some(q) => (&before_fragment[..q], Some(&before_fragment[q + 1..])),
        None => (before_fragment, None),
    };
    out.push_str(&normalize_path(path));
    if let Some(q) = query {
        out.push('?');
        out.push_str(&percent_encode(q, QUERY));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(&percent_encode(f, FRAGMENT));
    }
    Some(out)
}

const FRAGMENT: &str = " \"<>`";
const QUERY: &str = " \"#<>'";
const PATH: &str = " \"#<>?`{}";
const USERINFO: &str = " \"#<>?`{}/:;=@[\\]^|";

fn percent_encode(s: &str, set: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c < ' ' || c as u32 > 0x7E || set.contains(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn normalize_path(path: &str) -> String {
    let mut segments: Vec<String> = Vec::new();
    let parts: Vec<&str> = if path.is_empty() { vec![""] } else { path[1..].split(['/', '\\']).collect() };
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let lower = part.to_ascii_lowercase();
        let is_dot = matches!(lower.as_str(), "." | "%2e");
        let is_dotdot = matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e");
        if is_dotdot {
            segments.pop();
            if i == last {
                segments.push(String::new());
            }
        } else if is_dot {
            if i == last {
                segments.push(String::new());
            }
        } else {
            segments.push(percent_encode(part, PATH));
        }
    }
    let mut out = String::new();
    for seg in &segments {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The host of a special URL: percent-decoded, lower-cased, IPv4 numbers normalised.
fn parse_host(host: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    if host.starts_with('[') {
        return Some(host.to_ascii_lowercase());
    }
    let decoded = decode_uri_component(host);
    let lower = decoded.to_lowercase();
    if lower.chars().any(|c| {
        c <= ' ' || matches!(c, '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|' | '\u{7F}')
    }) {
        return None;
    }
    let lower = if lower.is_ascii() {
        lower
    } else {
        // domain to ASCII: Unicode labels as punycode (without UTS #46's full mapping)
        if lower.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        lower
            .split('.')
            .map(|l| if l.is_ascii() { l.to_string() } else { format!("xn--{}", punycode(l)) })
            .collect::<Vec<_>>()
            .join(".")
    };
    let labels: Vec<&str> = lower.split('.').collect();
    let last = match labels.as_slice() {
        [.., l, ""] if labels.len() > 1 => *l,
        [.., l] => *l,
        [] => "",
    };
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last.strip_prefix("0x").is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if numeric {
        return parse_ipv4(&lower);
    }
    Some(lower)
}

/// RFC 3492 punycode of one label.
fn punycode(label: &str) -> String {
    const BASE: u32 = 36;
    let digit = |d: u32| -> char {
        let d = d as u8;
        char::from(if d < 26 { b'a' + d } else { b'0' + (d - 26) })
    };
    let adapt = |mut delta: u32, points: u32, first: bool| {
        delta /= if first { 700 } else { 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - 1) * 26) / 2 {
            delta /= BASE - 1;
            k += BASE;
        }
        k + (BASE * delta) / (delta + 38)
    };
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias, mut handled) = (128u32, 0u32, 72u32, basic);
    while (handled as usize) < input.len() {
        let m = input.iter().copied().filter(|&c| c >= n).min().unwrap_or(n);
        delta = delta.saturating_add((m - n).saturating_mul(handled + 1));
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.saturating_add(1);
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        1
                    } else if k >= bias + 26 {
                        26
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.saturating_add(1);
        n += 1;
    }
    out
}

fn parse_ipv4(host: &str) -> Option<String> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.last() == Some(&"") && parts.len() > 1 {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for p in &parts {
        if p.is_empty() {
            return None;
        }
        let n = if let Some(h) = p.strip_prefix("0x") {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        numbers.push(n);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut ip = *last;
    for (i, n) in init.iter().enumerate() {
        ip += n * 256u64.pow(3 - i as u32);
    }
    Some(format!("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255))
}

#[cfg(test)]
mod tests {
    use super::sanitize_url;

    #[test]
    fn like_braintree_sanitize_url() {
        assert_eq!(sanitize_url("javascript:alert(1)"), "about:blank");
        assert_eq!(sanitize_url("  JaVaScRiPt:alert(1)"), "about:blank");
        assert_eq!(sanitize_url("java\nscript:alert(1)"), "about:blank");
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
    }
}
