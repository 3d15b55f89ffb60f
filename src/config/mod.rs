//! archc's configuration: what a drawing cannot say (AZ count, domain, certificate,
//! GitHub repository, sizes, per-node kinds and settings).
//!
//! Sources, later ones overriding earlier ones key by key: `archc.yaml` beside the input,
//! the Markdown file's front-matter (its `archc:` key), and ```` ```yaml archc ```` blocks.
//! Every key is checked against [`schema`]; an unknown key is an error with a did-you-mean,
//! located in the file where it is written.

mod schema;

use std::collections::BTreeMap;

use marked_yaml::{LoaderOptions, Node};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use schema::{Field, Ty, SCHEMA};

use crate::diagnostic::{codes, Diagnostic};
use crate::source::{MappedText, Span};
use crate::syntax::preprocess::merge;

/// Where a configuration value was written: a file (0 = the input file, 1 = `archc.yaml`)
/// and a span in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: u8,
    pub span: Span,
}

/// One configuration source: YAML text and the map from its offsets to a file.
pub struct ConfigSource<'a> {
    pub file: u8,
    pub text: &'a MappedText,
    /// The key under which archc's settings sit (`archc` in front-matter), or `None` when the
    /// whole document is archc's.
    pub key: Option<&'static str>,
}

/// `route53:`: the hosted zone of `domain`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Route53Config {
    pub hosted_zone_id: Option<String>,
}

/// `alarms:`: where CloudWatch alarms notify.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AlarmsConfig {
    /// An address subscribed to the alarm topic (it confirms the subscription by email).
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EksConfig {
    pub version: Option<String>,
    pub public_access_cidrs: Vec<String>,
    pub node_instance_types: Vec<String>,
    pub node_min: Option<u32>,
    pub node_max: Option<u32>,
    pub node_desired: Option<u32>,
    pub node_disk_gib: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GithubConfig {
    pub repository: Option<String>,
    pub branch: Option<String>,
    pub environment: Option<String>,
    pub oidc_provider: Option<String>,
    pub review: ReviewConfig,
}

/// The pull-request review workflow (`archc-review`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReviewConfig {
    /// Architecture files the review covers (git pathspec globs).
    pub paths: Vec<String>,
    /// The git repository the workflow installs archc from.
    pub archc_repository: Option<String>,
    /// The archc commit it installs.
    pub archc_rev: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    pub instance_class: Option<String>,
    pub allocated_storage_gib: Option<u32>,
    pub engine_version: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
    /// The application's own database user (PostgreSQL), owner of its database.
    pub app_user: Option<String>,
    pub backup_retention_days: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    pub node_type: Option<String>,
    pub transit_encryption: Option<String>,
    /// Build the cache even when nothing drawn to it can use it.
    pub build: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    pub image: Option<String>,
    pub port: Option<u16>,
    pub health_path: Option<String>,
    pub edition: Option<String>,
    pub version: Option<String>,
    pub replicas: Option<u32>,
    pub namespace: Option<String>,
    pub image_repository: Option<String>,
    pub ingress_class: Option<String>,
    pub ingress_namespace: Option<String>,
    /// Outgoing email (`app.smtp`); without it the application sends none.
    pub smtp: Option<SmtpConfig>,
    /// The image the database secret sync runs (any image with `python3`).
    pub secret_sync_image: Option<String>,
}

/// `app.smtp`: the mail server the application sends through.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RulesConfig {
    pub ignore: Vec<String>,
    pub warn: Vec<String>,
    pub error: Vec<String>,
}

/// Per-node settings: `kind` and the kind's attributes.
#[derive(Debug, Clone, Default)]
pub struct NodeConfig {
    pub kind: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// The node's settings as written (typed: lists, maps, numbers).
    pub settings: Map<String, Value>,
    pub origin: Origin,
}

/// What runs in a workload box, from its `nodes.<id>` settings (each overrides `app:`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkloadConfig {
    pub image: Option<String>,
    pub port: Option<u16>,
    pub health_path: Option<String>,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub replicas: Option<u32>,
    /// CPU: Kubernetes quantities (`250m`, `1`) or ECS units (`256`).
    pub cpu: Option<String>,
    /// Memory: Kubernetes quantities (`512Mi`) or ECS MiB (`512`).
    pub memory: Option<String>,
    /// A cron schedule (CronJobs, scheduled functions, ECS scheduled tasks).
    pub schedule: Option<String>,
    /// EC2 instances: the user data script the launch template runs at boot.
    pub user_data: Option<String>,
    /// EC2 instances: the instance type (`t3.small`).
    pub instance_type: Option<String>,
}

impl NodeConfig {
    /// The workload settings of this node.
    pub fn workload(&self) -> WorkloadConfig {
        serde_json::from_value(Value::Object(self.settings.clone())).unwrap_or_default()
    }
}

/// The merged configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub name: Option<String>,
    pub region: Option<String>,
    pub availability_zones: Option<u32>,
    pub nat_gateways: Option<String>,
    pub vpc_cidr: Option<String>,
    pub domain: Option<String>,
    pub certificate_arn: Option<String>,
    pub route53: Route53Config,
    pub alarms: AlarmsConfig,
    pub eks: EksConfig,
    pub github: GithubConfig,
    pub database: DatabaseConfig,
    pub cache: CacheConfig,
    pub app: AppConfig,
    pub rules: RulesConfig,
    #[serde(skip)]
    pub nodes: BTreeMap<String, NodeConfig>,
    /// Where each key path (`eks.version`, `nodes.rds.kind`) was written.
    #[serde(skip)]
    pub origins: BTreeMap<String, Origin>,
}

impl Config {
    pub fn origin(&self, path: &str) -> Option<Origin> {
        self.origins.get(path).copied()
    }
}

/// Read, check and merge the configuration sources.
pub fn load(sources: &[ConfigSource<'_>]) -> (Config, Vec<Diagnostic>) {
    let mut merged = Map::new();
    let mut origins = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for source in sources {
        let text = source.text.as_str();
        if text.trim().is_empty() {
            continue;
        }
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        let node = match marked_yaml::parse_yaml_with_options(0, text, options) {
            Ok(n) => n,
            Err(e) => {
                let at = error_marker(&e).map_or(0, |m| char_to_byte(text, m.character()));
                diagnostics.push(
                    Diagnostic::error(codes::INVALID_CONFIG, format!("the archc configuration is not valid YAML: {e}"))
                        .with_primary(source.text.source_span(at..at + 1), "here")
                        .with_help("archc's configuration is a YAML mapping: `availability_zones: 2`")
                        .in_file(source.file),
                );
                continue;
            }
        };
        let node = match source.key {
            Some(key) => match node.as_mapping().and_then(|m| m.get(key)) {
                Some(n) => n.clone(),
                None => continue,
            },
            None => node,
        };
        let locate = |n: &Node| -> Origin {
            let span = n.span();
            let start = span.start().map_or(0, |m| char_to_byte(text, m.character()));
            let end = span.end().map_or(start, |m| char_to_byte(text, m.character())).max(start);
            let end = if end == start { start + scalar_len(n) } else { end };
            Origin { file: source.file, span: source.text.source_span(start..end.min(text.len())) }
        };
        let mut checker = Checker { diagnostics: &mut diagnostics, origins: &mut origins, locate: &locate };
        if let Some(Value::Object(map)) = checker.check(&node, &Ty::Map(SCHEMA), "") {
            merge(&mut merged, map);
        }
    }
    let nodes_value = merged.remove("nodes");
    let mut config: Config = serde_json::from_value(Value::Object(merged)).unwrap_or_default();
    if let Some(Value::Object(nodes)) = nodes_value {
        for (id, settings) in nodes {
            let mut node = NodeConfig {
                origin: origins.get(&format!("nodes.{id}")).copied().unwrap_or_default(),
                ..NodeConfig::default()
            };
            if let Value::Object(settings) = settings {
                node.settings = settings.clone();
                for (k, v) in settings {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if k == "kind" {
                        node.kind = Some(v);
                    } else {
                        node.attributes.insert(k, v);
                    }
                }
            }
            config.nodes.insert(id, node);
        }
    }
    config.origins = origins;
    (config, diagnostics)
}

fn error_marker(e: &marked_yaml::LoadError) -> Option<marked_yaml::Marker> {
    use marked_yaml::LoadError as E;
    match e {
        E::TopLevelMustBeMapping(m)
        | E::TopLevelMustBeSequence(m)
        | E::UnexpectedAnchor(m)
        | E::MappingKeyMustBeScalar(m)
        | E::UnexpectedTag(m)
        | E::ScanError(m, _) => Some(*m),
        E::DuplicateKey(d) => d.key.span().start().copied(),
    }
}

fn scalar_len(n: &Node) -> usize {
    n.as_scalar().map_or(1, |s| s.as_str().len().max(1))
}

fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(b, _)| b)
}

struct Checker<'a, 'b> {
    diagnostics: &'a mut Vec<Diagnostic>,
    origins: &'a mut BTreeMap<String, Origin>,
    locate: &'b dyn Fn(&Node) -> Origin,
}

impl Checker<'_, '_> {
    fn error(&mut self, node: &Node, message: String, label: &str, help: String) {
        let origin = (self.locate)(node);
        self.diagnostics.push(
            Diagnostic::error(codes::INVALID_CONFIG, message)
                .with_primary(origin.span, label)
                .with_help(help)
                .in_file(origin.file),
        );
    }

    /// Check `node` against `ty`; the JSON value when it is valid.
    fn check(&mut self, node: &Node, ty: &Ty, path: &str) -> Option<Value> {
        self.origins.insert(path.to_string(), (self.locate)(node));
        match ty {
            Ty::Map(fields) => {
                let Some(map) = node.as_mapping() else {
                    self.error(
                        node,
                        format!("`{}` must be a mapping", display_path(path)),
                        "not a mapping",
                        "write `key: value` lines".into(),
                    );
                    return None;
                };
                let mut out = Map::new();
                for (key, value) in map.iter() {
                    let name = key.as_str();
                    let child = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
                    match fields.iter().find(|f| f.name == name) {
                        Some(field) => {
                            if let Some(v) = self.check(value, &field.ty, &child) {
                                out.insert(name.to_string(), v);
                            }
                        }
                        None => {
                            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                            let help = match did_you_mean(name, &names) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!(
                                    "known keys here: {}",
                                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                                ),
                            };
                            let origin = (self.locate)(&Node::Scalar(key.clone()));
                            self.diagnostics.push(
                                Diagnostic::error(
                                    codes::UNKNOWN_CONFIG_KEY,
                                    format!("unknown configuration key `{}`", display_path(&child)),
                                )
                                .with_primary(origin.span, "not a key archc knows")
                                .with_help(help)
                                .in_file(origin.file),
                            );
                        }
                    }
                }
                Some(Value::Object(out))
            }
            Ty::Nodes(node_ty) => {
                let Some(map) = node.as_mapping() else {
                    self.error(
                        node,
                        "`nodes` must map node ids to settings".into(),
                        "not a mapping",
                        "write `nodes: {rds: {kind: aws.rds}}`".into(),
                    );
                    return None;
                };
                let mut out = Map::new();
                for (key, value) in map.iter() {
                    let child = format!("{path}.{}", key.as_str());
                    if let Some(v) = self.check(value, node_ty, &child) {
                        out.insert(key.as_str().to_string(), v);
                    }
                }
                Some(Value::Object(out))
            }
            Ty::Str => self.scalar(node, path, "a string").map(Value::String),
            Ty::Bool => {
                let s = self.scalar(node, path, "true or false")?;
                match s.as_str() {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => {
                        self.error(
                            node,
                            format!("`{}` must be true or false", display_path(path)),
                            "not a boolean",
                            "write `true` or `false`".into(),
                        );
                        None
                    }
                }
            }
            Ty::Int { min, max } => {
                let s = self.scalar(node, path, "a number")?;
                match s.parse::<i64>() {
                    Ok(n) if n >= *min && n <= *max => Some(Value::from(n)),
                    _ => {
                        self.error(
                            node,
                            format!("`{}` must be a whole number from {min} to {max}, not `{s}`", display_path(path)),
                            "out of range",
                            format!("write a number from {min} to {max}"),
                        );
                        None
                    }
                }
            }
            Ty::Enum(values) => {
                let s = self.scalar(node, path, "a string")?;
                if values.contains(&s.as_str()) {
                    Some(Value::String(s))
                } else {
                    let help = match did_you_mean(&s, values) {
                        Some(v) => format!("did you mean `{v}`?"),
                        None => format!(
                            "one of: {}",
                            values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.error(
                        node,
                        format!("`{s}` is not a valid `{}`", display_path(path)),
                        "not one of the allowed values",
                        help,
                    );
                    None
                }
            }
            Ty::Pattern(what, re) => {
                let s = self.scalar(node, path, what)?;
                if regex::Regex::new(re).is_ok_and(|r| r.is_match(&s)) {
                    Some(Value::String(s))
                } else {
                    self.error(node, format!("`{s}` is not {what}"), "invalid value", format!("write {what}"));
                    None
                }
            }
            Ty::List(item) => {
                let items: Vec<Node> = match node {
                    Node::Sequence(seq) => seq.iter().cloned().collect(),
                    Node::Scalar(_) => vec![node.clone()],
                    Node::Mapping(_) => {
                        self.error(
                            node,
                            format!("`{}` must be a list", display_path(path)),
                            "not a list",
                            "write `[a, b]`".into(),
                        );
                        return None;
                    }
                };
                let values: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| self.check(n, item, &format!("{path}[{i}]")))
                    .collect();
                Some(Value::Array(values))
            }
            Ty::Any => Some(to_json(node)),
        }
    }

    fn scalar(&mut self, node: &Node, path: &str, what: &str) -> Option<String> {
        match node.as_scalar() {
            Some(s) => Some(s.as_str().to_string()),
            None => {
                self.error(
                    node,
                    format!("`{}` must be {what}", display_path(path)),
                    "not a single value",
                    format!("write {what}"),
                );
                None
            }
        }
    }
}

fn to_json(node: &Node) -> Value {
    match node {
        Node::Scalar(s) => Value::String(s.as_str().to_string()),
        Node::Sequence(seq) => Value::Array(seq.iter().map(to_json).collect()),
        Node::Mapping(m) => Value::Object(m.iter().map(|(k, v)| (k.as_str().to_string(), to_json(v))).collect()),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "configuration"
    } else {
        path
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo: a few edits
/// away (transpositions count once), or similar by Jaro-Winkler.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .filter_map(|c| {
            let lc = c.to_lowercase();
            let edits = strsim::damerau_levenshtein(&word, &lc);
            let jw = strsim::jaro_winkler(&word, &lc);
            let close = edits <= (word.chars().count().max(lc.chars().count()) / 3).max(1) || jw >= 0.85;
            close.then_some((edits, std::cmp::Reverse((jw * 1000.0) as u32), *c))
        })
        .min()
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(yaml: &str) -> (Config, Vec<Diagnostic>) {
        let text = MappedText::new(yaml, 0);
        load(&[ConfigSource { file: 0, text: &text, key: None }])
    }

    #[test]
    fn valid_configuration() {
        let (c, d) = load_str("availability_zones: 3\neks:\n  public_access_cidrs: [203.0.113.0/24]\nnodes:\n  db: {kind: aws.rds, engine: mysql}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.availability_zones, Some(3));
        assert_eq!(c.eks.public_access_cidrs, ["203.0.113.0/24"]);
        assert_eq!(c.nodes["db"].kind.as_deref(), Some("aws.rds"));
        assert_eq!(c.nodes["db"].attributes["engine"], "mysql");
    }

    #[test]
    fn unknown_keys_are_located_with_a_suggestion() {
        let yaml = "availabilty_zones: 3\n";
        let (_, d) = load_str(yaml);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, codes::UNKNOWN_CONFIG_KEY);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `availability_zones`?"));
        assert_eq!(d[0].primary_span(), Some(Span::new(0, 17)));
    }

    #[test]
    fn bad_values() {
        let (_, d) = load_str("availability_zones: 9\nnat_gateways: one\n");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.code == codes::INVALID_CONFIG));
    }
}
