//! Which kind a box is: the service names in its label (title first, details less), its id,
//! shape and the box it sits in, scored against the catalog (`targets/catalog/kinds.yaml`
//! documents the weights; `services.yaml` adds the services archc names but does not model).
//!
//! Names are looked up through an index by first token, so a label costs a few hash look-ups
//! whatever the size of the catalog.

use std::collections::BTreeMap;

use super::catalog::{normalize_id, tokens, Catalog, Kind, Strength};
use super::graph::Classification;

/// The evidence about one box.
pub struct Evidence<'a> {
    /// The label's first line, without what is in parentheses or an icon.
    pub title: &'a str,
    /// The other lines, the parentheses, the icon's name.
    pub details: &'a str,
    pub id: &'a str,
    pub shape: Option<&'a str>,
    pub container: bool,
    /// The kind of the nearest enclosing box that places things (not a group), if classified.
    pub parent: Option<&'a Kind>,
    /// Drawn outside every box.
    pub top_level: bool,
    /// It has an arrow to a load balancer, CDN or DNS name.
    pub points_at_entry: bool,
}

/// Minimum score to accept a kind, and the lead it needs over the next one.
const THRESHOLD: i32 = 6;
const MARGIN: i32 = 3;

/// Tokens that do not keep a name from being the whole title: numbers, single letters
/// (`Subnet A`, `AZ 1`), and a few fillers.
fn ignorable(t: &str) -> bool {
    t.chars().all(|c| c.is_ascii_digit())
        || t.chars().count() == 1
        || matches!(
            t,
            "the" | "a" | "an" | "of" | "for" | "and" | "with" | "to" | "via" | "on" | "in" | "x" | "aws" | "amazon"
        )
        || (t.len() <= 4 && t.starts_with('v') && t[1..].chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `DynamoDBOrders` → dynamo, db, orders; `S3Invoices` → s3, invoices: words inside a
/// camel-case token, for names written without spaces.
fn camel_tokens(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                spaced.push(' ');
            }
        }
        spaced.push(c);
    }
    tokens(&spaced)
}

/// One phrase found in a token sequence.
#[derive(Debug, Clone, Copy)]
struct Found {
    phrase: usize,
    start: usize,
    end: usize,
}

fn find_all(catalog: &Catalog, toks: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for start in 0..toks.len() {
        let Some(list) = catalog.by_first_token.get(&toks[start]) else { continue };
        for &p in list {
            let phrase = &catalog.phrases[p].tokens;
            let end = start + phrase.len();
            if end <= toks.len() && toks[start..end] == phrase[..] {
                out.push(Found { phrase: p, start, end });
            }
        }
    }
    out
}

/// What one kind has going for it.
#[derive(Debug, Clone, Default)]
struct Tally {
    total: i32,
    /// Named by the label or the id (not only by its shape or position).
    named: bool,
    /// Named by a vendor-specific name (`rds`, `key vault`), not only a generic one.
    vendor: bool,
    /// Named by a name in the label (not by words, the id or the shape).
    strong: bool,
    placed: bool,
    /// The service entry that named it.
    service: Option<usize>,
}

/// The kind of a box and how it was decided.
#[derive(Debug, Clone)]
pub struct Decision {
    pub kind: Option<&'static Kind>,
    pub classification: Classification,
    /// Named by a vendor-specific name (what tells the diagram's cloud).
    pub vendor: bool,
    /// Named by a name (not only by words, the id, shape or position).
    pub named: bool,
    /// The title names several kinds ("CloudFront + WAF", "DynamoDB and Mail").
    pub names_several: bool,
    /// The service the label names (`Amazon Kinesis`), for kinds that cover several.
    pub service: Option<&'static str>,
    /// Evidence for a database or cache by a generic name (`postgres`, `redis`).
    pub data_store: Option<&'static Kind>,
}

/// Score the phrases of `toks` into `tallies`. `weight` 2 is the title, 1 the details.
fn score_phrases(catalog: &'static Catalog, toks: &[String], weight: i32, tallies: &mut BTreeMap<usize, Tally>) {
    score_phrases_across(catalog, toks, weight, None, tallies);
}

/// [`score_phrases`], keeping only the phrases that cross token `boundary` when it is given
/// (a name broken over two lines).
fn score_phrases_across(
    catalog: &'static Catalog,
    toks: &[String],
    weight: i32,
    boundary: Option<usize>,
    tallies: &mut BTreeMap<usize, Tally>,
) {
    if toks.is_empty() {
        return;
    }
    let mut found = find_all(catalog, toks);
    if let Some(b) = boundary {
        let crossing: Vec<usize> =
            found.iter().filter(|f| f.start < b && f.end > b).map(|f| catalog.phrases[f.phrase].kind).collect();
        // the kinds a broken name names, with everything else they match
        found.retain(|f| crossing.contains(&catalog.phrases[f.phrase].kind));
    }
    let meaningful: Vec<usize> = (0..toks.len()).filter(|&i| !ignorable(&toks[i])).collect();
    // "Redis or Postgres" names alternatives: neither is the subject
    let alternatives = toks.iter().any(|t| t == "or" || t == "vs");
    let first_name_start =
        found.iter().filter(|f| catalog.phrases[f.phrase].strength != Strength::Word).map(|f| f.start).min();
    // per kind: the best phrase counts fully, others on other tokens half
    let mut per_kind: BTreeMap<usize, Vec<(i32, Found)>> = BTreeMap::new();
    for f in &found {
        let p = &catalog.phrases[f.phrase];
        let n = p.tokens.len() as i32;
        let whole = if meaningful.is_empty() {
            f.start == 0 && f.end == toks.len()
        } else {
            meaningful.iter().all(|&i| i >= f.start && i < f.end)
        };
        let base = match p.strength {
            Strength::Name | Strength::Generic => 10 + 5 * (n - 1) + if whole { 4 } else { 0 },
            Strength::Whole if whole => 10 + 5 * (n - 1) + 4,
            Strength::Whole => continue,
            Strength::Word if weight == 2 => 4 + 2 * (n - 1),
            Strength::Word => continue,
        };
        let mut s = if weight == 2 { base } else { base / 2 };
        if weight == 2 && p.strength != Strength::Word {
            // the first name of the title is its subject ("Lambda Function - Private Subnet")
            if Some(f.start) == first_name_start && !alternatives {
                s += 4;
            }
            // a resource of the service named just before it ("ALB Security Group")
            if p.part_of
                && found.iter().any(|o| {
                    let other = &catalog.phrases[o.phrase];
                    o.end == f.start && other.kind != p.kind && other.strength != Strength::Word
                })
            {
                s += 8;
            }
        }
        per_kind.entry(p.kind).or_default().push((s, *f));
    }
    for (kind, mut list) in per_kind {
        list.sort_by(|a, b| b.0.cmp(&a.0).then((a.1.end - a.1.start).cmp(&(b.1.end - b.1.start)).reverse()));
        let mut used = vec![false; toks.len()];
        let mut add = 0;
        let mut first = true;
        let t = tallies.entry(kind).or_default();
        for (s, f) in list {
            if used[f.start..f.end].iter().any(|u| *u) {
                continue;
            }
            used[f.start..f.end].iter_mut().for_each(|u| *u = true);
            let p = &catalog.phrases[f.phrase];
            if p.strength != Strength::Word {
                t.named = true;
                t.strong = true;
                if p.strength == Strength::Name {
                    t.vendor = true;
                }
                if t.service.is_none() {
                    t.service = p.service;
                }
            }
            add += if first { s } else { s / 2 };
            first = false;
            if weight == 1 {
                break; // in the details only the best name counts
            }
        }
        t.total += add;
    }
}

/// Split an id into words: at separators, case changes and digits (`privApp` → priv, app).
fn id_words(id: &str) -> Vec<String> {
    camel_tokens(&id.replace(['_', '-', '.'], " "))
}

/// The kind of a box, or why there is none.
pub fn classify(catalog: &'static Catalog, ev: &Evidence<'_>) -> Decision {
    let mut tallies: BTreeMap<usize, Tally> = BTreeMap::new();
    // the title, as written and with camel-case words apart; the better reading counts
    let title = tokens(ev.title);
    let camel = camel_tokens(ev.title);
    let mut plain_t = BTreeMap::new();
    score_phrases(catalog, &title, 2, &mut plain_t);
    if camel != title {
        let mut camel_t = BTreeMap::new();
        score_phrases(catalog, &camel, 2, &mut camel_t);
        for (k, t) in camel_t {
            let e = plain_t.entry(k).or_insert_with(Tally::default);
            if t.total > e.total {
                *e = t;
            }
        }
    }
    // a name broken over two lines ("S3 Gateway<br>Endpoint"): the title with its next line
    let continuation = |l: &&str| {
        let t = tokens(l);
        !t.is_empty() && t.len() <= 2 && !l.chars().any(|c| c.is_ascii_digit())
    };
    if let Some(next) = ev.details.lines().next().filter(continuation) {
        let joined = tokens(&format!("{} {next}", ev.title));
        let mut joined_t = BTreeMap::new();
        // a next line that is wholly the name of a part of a service ("CloudWatch Logs<br>
        // Interface Endpoint"): the title names that service, as on one line
        let next_tokens = tokens(next);
        let names_part = next_tokens.len() >= 2
            && find_all(catalog, &next_tokens).iter().any(|f| {
                let p = &catalog.phrases[f.phrase];
                p.part_of && p.strength != Strength::Word && f.start == 0 && f.end == next_tokens.len()
            });
        let boundary = if names_part { None } else { Some(title.len()) };
        score_phrases_across(catalog, &joined, 2, boundary, &mut joined_t);
        for (k, t) in joined_t {
            let e = plain_t.entry(k).or_insert_with(Tally::default);
            if t.total > e.total {
                *e = t;
            }
        }
    }
    let title_strong = plain_t.values().filter(|t| t.strong).count();
    tallies.extend(plain_t);
    let mut details_t = BTreeMap::new();
    score_phrases(catalog, &tokens(ev.details), 1, &mut details_t);
    for (k, t) in details_t {
        let e = tallies.entry(k).or_default();
        e.total += t.total;
        e.named |= t.named;
        e.strong |= t.strong;
        e.vendor |= t.vendor;
        if e.service.is_none() {
            e.service = t.service;
        }
    }
    // label patterns that name a kind (a region code) or speak against one (a subnet's range
    // on an AZ box)
    for &(k, p) in &catalog.scored_patterns {
        let kind = &catalog.kinds[k];
        let (name, re, score) = &kind.patterns[p];
        let in_title = re.is_match(ev.title);
        if !in_title && !re.is_match(ev.details) {
            continue;
        }
        let t = tallies.entry(k).or_default();
        if *score < 0 {
            t.total += score;
            continue;
        }
        // in the title fully, in the details half ("AWS Account (us-east-1)"); a region code
        // on a box is where it runs, on a subgraph what it is
        let full = if in_title { *score } else { score / 2 };
        t.total += if ev.container || !kind.def.container { full } else { full / 3 };
        t.named = true;
        t.strong = true;
        // a region code or a pod name tells the platform; an address range does not
        t.vendor |= matches!(name.as_str(), "region" | "zone" | "pod");
    }
    // the id: it decides when the title names nothing, and only confirms when it does
    let title_names = tallies.values().any(|t| t.strong);
    let (exact, word) = if title_names { (4, 2) } else { (8, 5) };
    let id_norm = normalize_id(ev.id);
    if let Some(kinds) = catalog.by_node_id.get(&id_norm) {
        for &k in kinds {
            let t = tallies.entry(k).or_default();
            t.total += exact;
            t.named = true;
        }
    } else {
        let words = id_words(ev.id);
        let whole_name = find_all(catalog, &words);
        let mut seen = Vec::new();
        for f in whole_name {
            let p = &catalog.phrases[f.phrase];
            if p.strength == Strength::Word || seen.contains(&p.kind) {
                continue;
            }
            seen.push(p.kind);
            let t = tallies.entry(p.kind).or_default();
            t.total += if f.start == 0 && f.end == words.len() { exact } else { word };
            t.named = true;
            if t.service.is_none() {
                t.service = p.service;
            }
        }
        for w in &words {
            if let Some(kinds) = catalog.by_node_id.get(w) {
                for &k in kinds {
                    if !seen.contains(&k) {
                        seen.push(k);
                        let t = tallies.entry(k).or_default();
                        t.total += word;
                        t.named = true;
                    }
                }
            }
        }
    }
    // the shape
    if let Some(kinds) = ev.shape.and_then(|s| catalog.by_shape.get(s)) {
        for &k in kinds {
            tallies.entry(k).or_default().total += 2;
        }
    }
    // how it is drawn and where
    for (&k, t) in tallies.iter_mut() {
        let kind = &catalog.kinds[k];
        t.placed = true;
        if kind.def.container != ev.container && kind.def.category != "group" {
            t.total -= 3;
        }
        match ev.parent {
            Some(parent) if kind.fits_in(parent) => t.total += 3,
            Some(parent) if std::ptr::eq(parent, kind) => {
                // one of a collection ("VPC Endpoints"), or a part of the resource around it
                t.total += if parent.def.children.as_deref() == Some("same") { 7 } else { 3 };
            }
            Some(_) if !kind.def.inside.is_empty() => {
                t.total -= 4;
                t.placed = false;
            }
            _ => {}
        }
        if kind.def.id == "actor.user" && ev.top_level && ev.points_at_entry {
            t.total += 6;
        }
    }
    let mut scored: Vec<(usize, &Tally)> = tallies.iter().filter(|(_, t)| t.total > 0).map(|(k, t)| (*k, t)).collect();
    scored.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(catalog.kinds[a.0].def.id.cmp(&catalog.kinds[b.0].def.id)));
    let data_store = scored
        .iter()
        .find(|(k, t)| t.named && matches!(catalog.kinds[*k].category(), "database" | "cache"))
        .map(|(k, _)| &catalog.kinds[*k]);
    // what to suggest: kinds the label or id names and that may sit where the box is drawn,
    // never a kind that only the shape or the position hints at
    let candidates = |n: usize| {
        scored
            .iter()
            .filter(|(_, t)| t.named && t.placed)
            .take(n)
            .map(|(k, t)| (catalog.kinds[*k].def.id.as_str(), t.total))
            .collect::<Vec<_>>()
    };
    let names_several = title_strong > 1;
    let none = |classification| Decision {
        kind: None,
        classification,
        vendor: false,
        named: false,
        names_several,
        service: None,
        data_store,
    };
    match scored.as_slice() {
        [] => none(Classification::Unknown { candidates: Vec::new() }),
        // words alone decide nothing ("Background Worker" is not a node group)
        [(_, t), ..] if t.total < THRESHOLD || !t.named => none(Classification::Unknown { candidates: candidates(3) }),
        [(_, t), (_, second), ..] if t.total - second.total < MARGIN => {
            let top = scored.iter().take(3).map(|(k, t)| (catalog.kinds[*k].def.id.as_str(), t.total)).collect();
            none(Classification::Ambiguous { candidates: top })
        }
        [(k, t), ..] => Decision {
            kind: Some(&catalog.kinds[*k]),
            classification: Classification::Inferred { score: t.total },
            vendor: t.vendor,
            named: t.strong,
            names_several,
            service: t.service.map(|s| catalog.services[s].service.as_str()),
            data_store,
        },
    }
}

/// The value of a `words` attribute that `toks` name: the first value (in catalog order)
/// one of whose words is in them; words written with a trailing `?` are weak and count only
/// when no value is named by a strong word ("Private Subnet - Web tier" is private: `web?`
/// names the public tier only when nothing else names a tier).
pub(crate) fn word_value<'a>(
    words: &'a indexmap::IndexMap<String, Vec<String>>,
    toks: &[String],
) -> Option<&'a String> {
    let named = |weak: bool| {
        words.iter().find_map(|(value, ws)| {
            ws.iter()
                .filter(|w| w.ends_with('?') == weak)
                .any(|w| {
                    let phrase = tokens(w.trim_end_matches('?'));
                    !phrase.is_empty() && toks.windows(phrase.len()).any(|win| win == phrase.as_slice())
                })
                .then_some(value)
        })
    };
    named(false).or_else(|| named(true))
}

/// The attributes `kind` reads from a label (`engine: postgres`, `tier: data`, a CIDR).
pub fn attributes(kind: &Kind, label: &str) -> BTreeMap<String, String> {
    let label_tokens = tokens(label);
    let mut out = BTreeMap::new();
    for (name, def) in &kind.def.attributes {
        if let Some(pattern) = kind.patterns.iter().find(|(n, _, _)| n == name) {
            if let Some(value) = pattern.1.captures(label).and_then(|c| c.get(1)) {
                out.insert(name.clone(), value.as_str().to_lowercase());
            }
            continue;
        }
        if let Some(words) = &def.words {
            let found = word_value(words, &label_tokens);
            match (found, &def.default) {
                (Some(v), _) => {
                    out.insert(name.clone(), v.clone());
                }
                (None, Some(d)) => {
                    out.insert(name.clone(), d.clone());
                }
                (None, None) => {}
            }
        }
    }
    out
}

/// The title and the details of a label: the first line without parentheses and icons, and
/// the rest. Lines are split at `<br>` and at a written `\n` (Mermaid shows both as breaks).
pub fn title_and_details(raw_lines: &[String]) -> (String, String) {
    let mut lines = raw_lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let mut details: Vec<String> = lines.map(str::to_string).collect();
    let mut title = String::new();
    let mut depth = 0usize;
    let mut inner = String::new();
    for c in first.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                inner.push(' ');
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                inner.push(' ');
            }
            _ if depth > 0 => inner.push(c),
            _ => title.push(c),
        }
    }
    // `fa:fa-user customer`: the icon is a detail
    let mut words: Vec<&str> = Vec::new();
    for w in title.split_whitespace() {
        match w.split_once(":fa-").or_else(|| w.strip_prefix("fa-").map(|r| ("", r))) {
            Some((_, icon)) if w.starts_with("fa") => details.push(icon.replace('-', " ")),
            _ => words.push(w),
        }
    }
    let title = words.join(" ");
    if !inner.trim().is_empty() {
        details.insert(0, inner.trim().to_string());
    }
    if tokens(&title).is_empty() && !details.is_empty() {
        // a label that is all parentheses or icon: its details are its title
        return (details.remove(0), details.join("\n"));
    }
    (title, details.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::catalog;

    fn kind_of(
        label: &str,
        id: &str,
        shape: Option<&str>,
        parent: Option<&str>,
        container: bool,
    ) -> Option<&'static str> {
        let c = catalog();
        let lines: Vec<String> = label.split("<br>").map(str::to_string).collect();
        let (title, details) = title_and_details(&lines);
        let ev = Evidence {
            title: &title,
            details: &details,
            id,
            shape,
            container,
            parent: parent.and_then(|p| c.kind(p)),
            top_level: parent.is_none(),
            points_at_entry: false,
        };
        classify(c, &ev).kind.map(|k| k.def.id.as_str())
    }

    /// (label, id, shape, container kind, expected kind): the seed's boxes, other words
    /// people use for the same things, and labels of real diagrams that used to mislead.
    #[test]
    fn classification_table() {
        type Case = (&'static str, &'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);
        let cases: &[Case] = &[
            ("User Browser", "user", Some("square"), None, Some("actor.user")),
            ("GitHub Actions CI/CD", "gha", Some("square"), None, Some("ci.github-actions")),
            ("Amazon ECR", "ecr", Some("cylinder"), None, Some("aws.ecr")),
            ("Amazon S3 File Storage", "s3", Some("cylinder"), None, Some("aws.s3")),
            ("Amazon EFS", "efs", Some("cylinder"), None, Some("aws.efs")),
            (
                "EKS Control Plane Public API",
                "ekscp",
                Some("square"),
                Some("aws.region"),
                Some("aws.eks-control-plane"),
            ),
            ("Internet Gateway", "igw", Some("square"), Some("aws.vpc"), Some("aws.internet-gateway")),
            ("ALB Ingress", "alb", Some("square"), Some("aws.subnet"), Some("aws.alb")),
            ("NAT Gateway", "nat", Some("square"), Some("aws.subnet"), Some("aws.nat-gateway")),
            ("Managed Node Group EC2 Workers", "ng", Some("square"), Some("aws.subnet"), Some("aws.eks-nodegroup")),
            ("AWS Load Balancer Controller", "lbc", Some("square"), Some("aws.subnet"), Some("k8s.lb-controller")),
            ("Kubernetes Ingress Resource", "ing", Some("square"), Some("aws.subnet"), Some("k8s.ingress")),
            ("Service ClusterIP", "svc", Some("square"), Some("aws.subnet"), Some("k8s.service")),
            ("Mattermost Pods", "mm", Some("square"), Some("aws.subnet"), Some("k8s.deployment")),
            // an id names the kind when the label is a placeholder; "replica" is only a word
            ("...", "ALB_Replica", Some("square"), Some("aws.subnet"), Some("aws.alb")),
            ("RDS Proxy endpoint", "ProxyA", Some("square"), Some("aws.subnet"), Some("aws.service")),
            // the service's API a pipeline calls is not a cluster
            ("ECS API", "ECSAPI", Some("square"), None, Some("aws.service")),
            ("EFS Mount Targets", "efsmt", Some("square"), Some("aws.subnet"), Some("aws.efs-mount-target")),
            ("RDS PostgreSQL", "rds", Some("cylinder"), Some("aws.subnet"), Some("aws.rds")),
            ("ElastiCache Redis", "cache", Some("cylinder"), Some("aws.subnet"), Some("aws.elasticache")),
            // other words
            ("Postgres (RDS)", "db", Some("cylinder"), Some("aws.subnet"), Some("aws.rds")),
            ("ALB", "lb", None, Some("aws.subnet"), Some("aws.alb")),
            ("Kubernetes API", "api", None, Some("aws.region"), Some("aws.eks-control-plane")),
            ("Worker nodes", "workers", None, Some("aws.subnet"), Some("aws.eks-nodegroup")),
            ("NAT GW", "natgw", None, Some("aws.subnet"), Some("aws.nat-gateway")),
            ("Redis cache", "redis", Some("cylinder"), Some("aws.subnet"), Some("aws.elasticache")),
            ("uploads bucket", "uploads", None, None, Some("aws.s3")),
            ("Aurora PostgreSQL", "aurora", Some("cylinder"), Some("aws.subnet"), Some("aws.aurora")),
            ("S3 gateway endpoint", "s3ep", None, Some("aws.subnet"), Some("aws.vpc-endpoint")),
            ("Secrets Manager", "secrets", None, None, Some("aws.secrets-manager")),
            ("Route 53", "dns", None, None, Some("aws.route53")),
            ("ACM certificate", "cert", None, None, Some("aws.acm-certificate")),
            ("CloudFront", "cdn", None, None, Some("aws.cloudfront")),
            ("Network Load Balancer", "nlb", None, Some("aws.subnet"), Some("aws.nlb")),
            ("Fargate profile", "fp", None, Some("aws.eks-cluster"), Some("aws.fargate-profile")),
            ("Kafka StatefulSet", "kafka", None, Some("aws.subnet"), Some("k8s.statefulset")),
            ("Nightly CronJob", "backup", None, Some("aws.subnet"), Some("k8s.cronjob")),
            // labels of real diagrams that a word used to mislead
            ("ALB Security Group<br>Inbound: 80, 443", "albsg", None, Some("aws.vpc"), Some("aws.security-group")),
            ("Public Route Table<br>0.0.0.0/0 → IGW", "rtpub", None, Some("aws.vpc"), Some("aws.route-table")),
            ("CloudWatch Logs", "logs", None, None, Some("aws.cloudwatch")),
            // a service's endpoint named over two lines
            ("CloudWatch Logs<br>Interface Endpoint", "LogsEP", None, Some("aws.vpc"), Some("aws.vpc-endpoint")),
            ("SSM / SSMMessages<br>Interface Endpoints", "SSMEP", None, Some("aws.vpc"), Some("aws.vpc-endpoint")),
            ("EC2 Auto Scaling<br>SG", "asg", None, Some("aws.vpc"), Some("aws.autoscaling-group")),
            ("⚡ Lambda Function (User Service)", "fn", None, None, Some("aws.lambda")),
            ("Cognito (User Management)", "auth", None, None, Some("aws.cognito")),
            ("API Gateway", "API", None, None, Some("aws.api-gateway")),
            ("EC2 Instances", "web", None, Some("aws.subnet"), Some("aws.ec2-instance")),
            ("Worker StatefulSet", "w", None, Some("k8s.namespace"), Some("k8s.statefulset")),
            ("ECS Fargate Tasks", "tasks", None, Some("aws.subnet"), Some("aws.ecs-service")),
            ("DynamoDBOrders", "DynamoDBOrders", None, None, Some("aws.dynamodb")),
            ("SQSBillingDLQ", "SQSBillingDLQ", None, None, Some("aws.sqs")),
            ("fa:fa-user customer", "customer", None, None, Some("actor.user")),
            ("Lambda Function - Private Subnet", "fn2", None, Some("aws.vpc"), Some("aws.lambda")),
            ("Kinesis Data Streams", "k", None, None, Some("aws.service")),
            ("Key Vault", "kv", None, None, Some("azure.service")),
            ("Cloud SQL", "sql", None, None, Some("gcp.service")),
            // containers
            ("AWS eu-north-1", "aws", None, None, Some("aws.region")),
            ("AWS us-west-2", "cloud", None, None, Some("aws.region")),
            ("VPC", "vpc", None, Some("aws.region"), Some("aws.vpc")),
            ("VPC 10.20.0.0/16", "net", None, Some("aws.region"), Some("aws.vpc")),
            ("Public Subnets", "pub", None, Some("aws.vpc"), Some("aws.subnet")),
            ("Private Subnets data", "privData", None, Some("aws.vpc"), Some("aws.subnet")),
            // nothing to go on
            ("Frobnicator", "frob", None, None, None),
        ];
        for &(label, id, shape, parent, want) in cases {
            let container = want.is_some_and(|w| catalog().kind(w).is_some_and(|k| k.def.container));
            assert_eq!(kind_of(label, id, shape, parent, container), want, "{label:?} ({id})");
        }
    }

    #[test]
    fn attributes_come_from_labels() {
        let c = catalog();
        let rds = c.kind("aws.rds").expect("rds");
        assert_eq!(attributes(rds, "RDS MySQL")["engine"], "mysql");
        assert_eq!(attributes(rds, "RDS")["engine"], "postgres");
        let subnet = c.kind("aws.subnet").expect("subnet");
        assert_eq!(attributes(subnet, "Private Subnets data")["tier"], "data");
        assert_eq!(attributes(subnet, "Private Subnets app")["tier"], "app");
        assert_eq!(attributes(subnet, "Public Subnets")["tier"], "public");
        // private and public win over the tier words
        assert_eq!(attributes(subnet, "Private Subnet - Web tier")["tier"], "app");
        assert_eq!(attributes(subnet, "Web tier subnet")["tier"], "public");
        assert_eq!(attributes(subnet, "Public Subnet - App tier")["tier"], "public");
        let vpc = c.kind("aws.vpc").expect("vpc");
        assert_eq!(attributes(vpc, "VPC 10.20.0.0/16")["cidr"], "10.20.0.0/16");
        let region = c.kind("aws.region").expect("region");
        assert_eq!(attributes(region, "AWS eu-north-1")["region"], "eu-north-1");
    }

    #[test]
    fn camel_case_names_split() {
        assert_eq!(camel_tokens("DynamoDBOrders"), ["dynamo", "db", "order"]);
        assert_eq!(camel_tokens("S3Invoices"), ["s3", "invoice"]);
        assert_eq!(camel_tokens("LambdaBilling"), ["lambda", "billing"]);
    }

    #[test]
    fn titles_leave_parentheses_and_icons_to_the_details() {
        let lines = |s: &str| vec![s.to_string()];
        assert_eq!(
            title_and_details(&lines("Cognito (User Management)")),
            ("Cognito".into(), "User Management".into())
        );
        assert_eq!(title_and_details(&["a (b)".into(), "c".into()]).1, "b\nc");
        assert_eq!(title_and_details(&lines("fa:fa-user customer")).0, "customer");
        assert_eq!(title_and_details(&lines("(RDS)")).0, "RDS");
    }
}
