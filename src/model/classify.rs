//! Which kind a box is: label words, id, shape and context together, scored against the
//! catalog (the weights are documented at the top of `targets/catalog/kinds.yaml`).

use std::collections::BTreeMap;

use super::catalog::{normalize_id, tokens, Catalog, Kind};
use super::graph::Classification;

/// The evidence about one box.
pub struct Evidence<'a> {
    pub label: &'a str,
    pub id: &'a str,
    pub shape: Option<&'a str>,
    pub container: bool,
    /// The kind of the container it sits in, if classified.
    pub parent: Option<&'a Kind>,
    /// Drawn outside every box.
    pub top_level: bool,
    /// It has an arrow to a load balancer, CDN or DNS name.
    pub points_at_entry: bool,
}

/// Minimum score to accept a kind, and the lead it needs over the next one.
const THRESHOLD: i32 = 6;
const MARGIN: i32 = 3;

fn find_phrase(haystack: &[String], phrase: &[String]) -> Option<usize> {
    if phrase.is_empty() || phrase.len() > haystack.len() {
        return None;
    }
    haystack.windows(phrase.len()).position(|w| w == phrase)
}

/// How well `kind` fits the evidence.
#[derive(Debug, Clone, Copy)]
struct Score {
    total: i32,
    /// The label or the id names it (not only the shape or the position).
    named: bool,
    /// The box sits where this kind can sit.
    placed: bool,
}

/// Score of `kind` for the evidence.
fn score(kind: &Kind, ev: &Evidence<'_>, label_tokens: &[String], id_norm: &str, id_tokens: &[String]) -> Score {
    if kind.def.container != ev.container {
        return Score { total: i32::MIN, named: false, placed: false };
    }
    // label phrases: the best match counts fully, other matches on other words add half
    let mut matches: Vec<(i32, usize, usize)> = kind
        .phrases
        .iter()
        .filter_map(|(phrase, s)| find_phrase(label_tokens, phrase).map(|at| (*s, at, at + phrase.len())))
        .collect();
    matches.sort_by(|a, b| b.0.cmp(&a.0).then((a.2 - a.1).cmp(&(b.2 - b.1)).reverse()));
    let mut used = vec![false; label_tokens.len()];
    let mut total = 0;
    for (i, (s, from, to)) in matches.iter().enumerate() {
        if used[*from..*to].iter().any(|u| *u) {
            continue;
        }
        used[*from..*to].iter_mut().for_each(|u| *u = true);
        total += if i == 0 { *s } else { *s / 2 };
    }
    for (_, re, s) in &kind.patterns {
        if *s > 0 && re.is_match(ev.label) {
            total += s;
        }
    }
    // the id
    if kind.ids.iter().any(|i| i == id_norm) {
        total += 8;
    } else if id_tokens
        .iter()
        .any(|t| kind.ids.contains(t) || kind.phrases.iter().any(|(p, s)| *s >= 10 && p.len() == 1 && p[0] == *t))
    {
        total += 5;
    }
    let named = total > 0;
    // the shape
    if ev.shape.is_some_and(|s| kind.def.shapes.iter().any(|k| k == s)) {
        total += 2;
    }
    // the container it sits in
    let mut placed = true;
    match ev.parent {
        Some(parent) if kind.fits_in(parent) => total += 3,
        Some(_) if !kind.def.inside.is_empty() => {
            total -= 4;
            placed = false;
        }
        Some(_) => {}
        None if kind.def.needs_cloud => total -= 3,
        None => {}
    }
    if kind.def.id == "actor.user" && ev.top_level && ev.points_at_entry {
        total += 6;
    }
    Score { total, named, placed }
}

/// Split an id into words: at separators, case changes and digits (`privApp` → priv, app).
fn id_words(id: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in id.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The kind of a box, or why there is none.
pub fn classify(catalog: &'static Catalog, ev: &Evidence<'_>) -> (Option<&'static Kind>, Classification) {
    let label_tokens = tokens(ev.label);
    let id_norm = normalize_id(ev.id);
    let id_tokens = id_words(ev.id);
    let all: Vec<(&'static Kind, Score)> =
        catalog.kinds.iter().map(|k| (k, score(k, ev, &label_tokens, &id_norm, &id_tokens))).collect();
    let mut scored: Vec<(&'static Kind, i32)> =
        all.iter().filter(|(_, s)| s.total > 0).map(|(k, s)| (*k, s.total)).collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.def.id.cmp(&b.0.def.id)));
    // what to suggest: kinds the label or id names and that may sit where the box is drawn,
    // never a kind that only the shape or the position hints at
    let plausible = |k: &Kind| all.iter().any(|(x, s)| std::ptr::eq(*x, k) && s.named && s.placed);
    let candidates = |n: usize| {
        scored.iter().filter(|(k, _)| plausible(k)).take(n).map(|(k, s)| (k.def.id.as_str(), *s)).collect::<Vec<_>>()
    };
    match scored.as_slice() {
        [] => (None, Classification::Unknown { candidates: Vec::new() }),
        [(best, s), ..] if *s < THRESHOLD => {
            let _ = best;
            (None, Classification::Unknown { candidates: candidates(3) })
        }
        [(best, s), (_, second), ..] if s - second < MARGIN => {
            let _ = best;
            let top = scored.iter().take(3).map(|(k, s)| (k.def.id.as_str(), *s)).collect();
            (None, Classification::Ambiguous { candidates: top })
        }
        [(best, s), ..] => (Some(*best), Classification::Inferred { score: *s }),
    }
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
            let found = words.iter().find_map(|(value, ws)| {
                ws.iter().any(|w| find_phrase(&label_tokens, &tokens(w)).is_some()).then_some(value)
            });
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
        let ev = Evidence {
            label,
            id,
            shape,
            container,
            parent: parent.and_then(|p| c.kind(p)),
            top_level: parent.is_none(),
            points_at_entry: false,
        };
        classify(c, &ev).0.map(|k| k.def.id.as_str())
    }

    /// A table of (label, id, shape, container kind, expected kind): the seed's boxes and the
    /// other words people use for the same things.
    #[test]
    fn classification_table() {
        // (label, id, shape, container kind, expected kind)
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
            ("Fargate profile", "fp", None, Some("aws.subnet"), Some("aws.fargate-profile")),
            ("Kafka StatefulSet", "kafka", None, Some("aws.subnet"), Some("k8s.statefulset")),
            ("Nightly CronJob", "backup", None, Some("aws.subnet"), Some("k8s.cronjob")),
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
            let container = parent.is_none()
                && want.is_some_and(|w| catalog().kind(w).is_some_and(|k| k.def.container))
                || want.is_some_and(|w| catalog().kind(w).is_some_and(|k| k.def.container));
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
        let vpc = c.kind("aws.vpc").expect("vpc");
        assert_eq!(attributes(vpc, "VPC 10.20.0.0/16")["cidr"], "10.20.0.0/16");
        let region = c.kind("aws.region").expect("region");
        assert_eq!(attributes(region, "AWS eu-north-1")["region"], "eu-north-1");
    }
}
