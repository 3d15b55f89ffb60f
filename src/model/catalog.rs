//! The kind catalog (`targets/catalog/kinds.yaml`), the connection table
//! (`targets/catalog/connections.yaml`) and the application profiles (`targets/apps/`),
//! embedded in the binary and read once.

use std::collections::HashMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;

/// How a caller reaches a kind: through a security-group rule, or an AWS API with IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Network,
    Api,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    pub pattern: Option<String>,
    pub score: Option<i32>,
    pub words: Option<IndexMap<String, Vec<String>>>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindDef {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub container: bool,
    #[serde(default)]
    pub names: Vec<String>,
    /// Names any vendor uses: strong evidence that says nothing about the cloud.
    #[serde(default)]
    pub generic: Vec<String>,
    /// Names that count only as the whole title.
    #[serde(default)]
    pub whole: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub shapes: Vec<String>,
    #[serde(default)]
    pub inside: Vec<String>,
    #[serde(default)]
    pub needs_cloud: bool,
    /// A resource of another service ("ALB Security Group" is a security group).
    #[serde(default)]
    pub part_of: bool,
    /// What an unrecognised box inside a box of this kind is: a kind id, `same`, `unknown`.
    pub children: Option<String>,
    pub service: Option<String>,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub access: Option<Access>,
    #[serde(default)]
    pub attributes: IndexMap<String, AttributeDef>,
    /// Why there is nothing to build for a box of this kind (a person, a box around the
    /// cloud); `None` for kinds that become resources.
    pub nothing_to_build: Option<String>,
    /// What to do when archc does not build a box of this kind.
    pub unbuilt_help: Option<String>,
    /// What a box of this kind named only generically is in a Kubernetes-only diagram.
    pub kubernetes: Option<String>,
}

/// A kind with its patterns compiled and its ids normalised.
#[derive(Debug)]
pub struct Kind {
    pub def: KindDef,
    /// Normalised ids.
    pub ids: Vec<String>,
    pub patterns: Vec<(String, Regex, i32)>,
    /// The vendor whose names tell a diagram's cloud (`aws`, `azure`, `gcp`, `k8s`), by id.
    pub vendor: &'static str,
}

impl Kind {
    pub fn id(&self) -> &str {
        &self.def.id
    }

    pub fn category(&self) -> &str {
        &self.def.category
    }

    /// Whether this kind may sit directly inside `parent`.
    pub fn fits_in(&self, parent: &Kind) -> bool {
        self.def.inside.iter().any(|p| match p.strip_prefix('@') {
            Some(category) => parent.def.category == category,
            None => *p == parent.def.id,
        })
    }
}

/// How strongly a phrase names a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// A word that suggests it.
    Word,
    /// A name any vendor uses.
    Generic,
    /// A name only as the whole title.
    Whole,
    /// The vendor's (or the object's) own name.
    Name,
}

/// A phrase of the catalog: the kind (and service) it names, its tokens and its strength.
#[derive(Debug)]
pub struct Phrase {
    pub kind: usize,
    pub tokens: Vec<String>,
    pub strength: Strength,
    /// The entry of `services.yaml` it comes from.
    pub service: Option<usize>,
    pub part_of: bool,
}

/// An entry of `targets/catalog/services.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    pub kind: String,
    pub service: String,
    pub names: Vec<String>,
    #[serde(default)]
    pub part_of: bool,
    /// What an unrecognised box inside it is (a GKE cluster runs Kubernetes workloads).
    pub children: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A row of the connection table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRule {
    pub from: OneOrMany,
    pub to: OneOrMany,
    pub style: String,
    pub meaning: String,
    pub becomes: String,
    pub protocol: Option<String>,
    pub port: Option<serde_yaml::Value>,
}

/// An application profile (`targets/apps/<id>.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct AppProfile {
    pub id: String,
    pub name: String,
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub editions: IndexMap<String, Edition>,
    pub default_edition: String,
    pub version: String,
    pub port: u16,
    #[serde(default)]
    pub extra_ports: IndexMap<String, u16>,
    pub health_path: String,
    pub user: u32,
    pub group: u32,
    pub file_store: FileStore,
    #[serde(default)]
    pub writable_paths: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Edition {
    pub image: String,
    pub max_replicas: u32,
    pub cache: bool,
    #[serde(default)]
    pub cluster_env: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FileStore {
    pub single: bool,
    pub s3_driver: String,
    #[serde(default)]
    pub shared_paths: Vec<String>,
}

#[derive(Deserialize)]
struct KindsFile {
    kinds: Vec<KindDef>,
}

#[derive(Deserialize)]
struct ServicesFile {
    services: Vec<ServiceDef>,
}

#[derive(Deserialize)]
struct ConnectionsFile {
    connections: Vec<ConnectionRule>,
    #[serde(default)]
    label_access: LabelAccess,
}

/// Words of an arrow's label that narrow a `calls-api` arrow to reading or to writing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelAccess {
    pub read: Vec<String>,
    pub write: Vec<String>,
}

/// Everything archc knows about kinds, connections and applications.
#[derive(Debug)]
pub struct Catalog {
    pub kinds: Vec<Kind>,
    by_id: HashMap<String, usize>,
    pub services: Vec<ServiceDef>,
    /// Every phrase of every kind and service.
    pub phrases: Vec<Phrase>,
    /// Phrases by their first token.
    pub by_first_token: HashMap<String, Vec<usize>>,
    /// Kinds by normalised id.
    pub by_node_id: HashMap<String, Vec<usize>>,
    /// Kinds by Mermaid shape.
    pub by_shape: HashMap<String, Vec<usize>>,
    /// (kind, pattern) of the label patterns that are evidence for a kind (a region code).
    pub scored_patterns: Vec<(usize, usize)>,
    pub connections: Vec<ConnectionRule>,
    pub label_access: LabelAccess,
    pub apps: Vec<AppProfile>,
}

const KINDS_YAML: &str = include_str!("../../targets/catalog/kinds.yaml");
const SERVICES_YAML: &str = include_str!("../../targets/catalog/services.yaml");
const CONNECTIONS_YAML: &str = include_str!("../../targets/catalog/connections.yaml");
const APPS_YAML: &[&str] = &[include_str!("../../targets/apps/mattermost.yaml")];

/// Words of a label or phrase: lower case, split at anything but letters and digits, a
/// plural `s` dropped (`Subnets` and `subnet` are the same word).
pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// A node id without separators, lower case (`priv_App` → `privapp`).
pub fn normalize_id(id: &str) -> String {
    id.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl Catalog {
    /// Parse the embedded catalog.
    ///
    /// # Errors
    /// The catalog files do not parse or a pattern does not compile (a test guards this).
    pub fn load() -> Result<Catalog, String> {
        let file: KindsFile =
            serde_yaml::from_str(KINDS_YAML).map_err(|e| format!("targets/catalog/kinds.yaml: {e}"))?;
        let mut kinds = Vec::new();
        for def in file.kinds {
            let mut patterns = Vec::new();
            for (name, attr) in &def.attributes {
                if let Some(p) = &attr.pattern {
                    let re = Regex::new(&format!("(?i-u){p}"))
                        .map_err(|e| format!("kind {}: attribute {name}: {e}", def.id))?;
                    patterns.push((name.clone(), re, attr.score.unwrap_or(0)));
                }
            }
            let ids = def.ids.iter().map(|i| normalize_id(i)).collect();
            let vendor = match def.id.split('.').next() {
                Some("aws") => "aws",
                Some("azure") => "azure",
                Some("gcp") => "gcp",
                Some("k8s") => "k8s",
                _ => "",
            };
            kinds.push(Kind { def, ids, patterns, vendor });
        }
        let by_id: HashMap<String, usize> = kinds.iter().enumerate().map(|(i, k)| (k.def.id.clone(), i)).collect();
        let services: ServicesFile =
            serde_yaml::from_str(SERVICES_YAML).map_err(|e| format!("targets/catalog/services.yaml: {e}"))?;
        let mut phrases = Vec::new();
        for (i, k) in kinds.iter().enumerate() {
            let lists = [
                (&k.def.names, Strength::Name),
                (&k.def.generic, Strength::Generic),
                (&k.def.whole, Strength::Whole),
                (&k.def.words, Strength::Word),
            ];
            for (list, strength) in lists {
                for phrase in list {
                    let tokens = tokens(phrase);
                    if !tokens.is_empty() {
                        phrases.push(Phrase { kind: i, tokens, strength, service: None, part_of: k.def.part_of });
                    }
                }
            }
        }
        for (s, def) in services.services.iter().enumerate() {
            let kind = *by_id.get(&def.kind).ok_or_else(|| format!("services.yaml: no kind {}", def.kind))?;
            for name in &def.names {
                let tokens = tokens(name);
                if !tokens.is_empty() {
                    phrases.push(Phrase {
                        kind,
                        tokens,
                        strength: Strength::Name,
                        service: Some(s),
                        part_of: def.part_of,
                    });
                }
            }
        }
        let mut by_first_token: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in phrases.iter().enumerate() {
            by_first_token.entry(p.tokens[0].clone()).or_default().push(i);
        }
        let mut by_node_id: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_shape: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in kinds.iter().enumerate() {
            for id in &k.ids {
                by_node_id.entry(id.clone()).or_default().push(i);
            }
            for shape in &k.def.shapes {
                by_shape.entry(shape.clone()).or_default().push(i);
            }
        }
        let connections: ConnectionsFile =
            serde_yaml::from_str(CONNECTIONS_YAML).map_err(|e| format!("targets/catalog/connections.yaml: {e}"))?;
        let apps = APPS_YAML
            .iter()
            .map(|y| serde_yaml::from_str::<AppProfile>(y).map_err(|e| format!("targets/apps: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let scored_patterns = kinds
            .iter()
            .enumerate()
            .flat_map(|(k, kind)| {
                kind.patterns.iter().enumerate().filter(|(_, (_, _, s))| *s != 0).map(move |(p, _)| (k, p))
            })
            .collect();
        Ok(Catalog {
            scored_patterns,
            kinds,
            by_id,
            services: services.services,
            phrases,
            by_first_token,
            by_node_id,
            by_shape,
            connections: connections.connections,
            label_access: connections.label_access,
            apps,
        })
    }

    pub fn kind(&self, id: &str) -> Option<&Kind> {
        self.by_id.get(id).map(|&i| &self.kinds[i])
    }

    pub fn kind_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn app(&self, id: &str) -> Option<&AppProfile> {
        self.apps.iter().find(|a| a.id == id)
    }
}

/// The catalog, loaded on first use.
///
/// # Panics
/// When the embedded catalog is invalid, which `tests` rule out for every build.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::load() {
        Ok(c) => c,
        // embedded at build time and loaded by the unit tests: not reachable by any input
        #[allow(clippy::panic)]
        Err(e) => panic!("archc's embedded catalog is invalid: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_is_consistent() {
        let c = Catalog::load().expect("catalog");
        assert!(c.kinds.len() >= 35);
        let mut seen = std::collections::HashSet::new();
        for k in &c.kinds {
            assert!(seen.insert(k.id().to_string()), "duplicate kind {}", k.id());
            for parent in &k.def.inside {
                match parent.strip_prefix('@') {
                    Some(cat) => {
                        assert!(c.kinds.iter().any(|x| x.def.category == cat), "{}: no category {cat}", k.id())
                    }
                    None => assert!(c.kind(parent).is_some(), "{}: no kind {parent}", k.id()),
                }
            }
        }
        for row in &c.connections {
            for p in row.from.items().into_iter().chain(row.to.items()) {
                match p.strip_prefix('@') {
                    Some("any") => {}
                    Some(cat) => {
                        assert!(c.kinds.iter().any(|x| x.def.category == cat), "connections: no category {cat}")
                    }
                    None => assert!(c.kind(p).is_some(), "connections: no kind {p}"),
                }
            }
        }
        assert!(c.app("mattermost").is_some());
    }

    #[test]
    fn tokens_fold_case_and_plurals() {
        assert_eq!(tokens("Private Subnets (app)"), ["private", "subnet", "app"]);
        assert_eq!(tokens("CI/CD"), ["ci", "cd"]);
        assert_eq!(normalize_id("priv_App-2"), "privapp2");
    }
}
