//! CloudFormation's update behaviour for each property archc emits, kept as data in
//! `targets/cloudformation/replacement.yaml` (from the template reference's "Update requires:"
//! and the registry schemas' create-only properties).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const TABLE: &str = include_str!("../../targets/cloudformation/replacement.yaml");

/// What an update of a property does to its resource. Ordered from harmless to replacement;
/// `Unknown` (a property the table does not classify) counts as worse than an interruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Update {
    NoInterruption,
    SomeInterruptions,
    Unknown,
    Replacement,
}

impl Update {
    pub fn as_str(self) -> &'static str {
        match self {
            Update::NoInterruption => "no interruption",
            Update::SomeInterruptions => "some interruptions",
            Update::Unknown => "update behaviour unknown",
            Update::Replacement => "replacement",
        }
    }
}

/// One property's behaviour, with a note when the sources disagree or it depends on values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub update: Update,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RuleDef {
    Plain(Update),
    Noted { update: Update, note: Option<String> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeDef {
    #[serde(default)]
    stateful: bool,
    what: Option<String>,
    properties: BTreeMap<String, RuleDef>,
}

/// The rules of one resource type.
#[derive(Debug, Clone, Default)]
pub struct TypeRules {
    /// A replacement or deletion loses data.
    pub stateful: bool,
    /// What is lost, in words (`a database instance (its data)`).
    pub what: Option<String>,
    /// Property path (`CidrBlock`, `AccessConfig.BootstrapClusterCreatorAdminPermissions`) → rule.
    pub properties: BTreeMap<String, Rule>,
}

/// The whole table, by resource type.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub types: BTreeMap<String, TypeRules>,
}

impl Table {
    /// Parse a table.
    ///
    /// # Errors
    /// The YAML does not have the table's shape.
    pub fn parse(text: &str) -> Result<Table, String> {
        let defs: BTreeMap<String, TypeDef> =
            serde_yaml::from_str(text).map_err(|e| format!("targets/cloudformation/replacement.yaml: {e}"))?;
        let types = defs
            .into_iter()
            .map(|(ty, def)| {
                let properties = def
                    .properties
                    .into_iter()
                    .map(|(name, rule)| {
                        let rule = match rule {
                            RuleDef::Plain(update) => Rule { update, note: None },
                            RuleDef::Noted { update, note } => Rule { update, note },
                        };
                        (name, rule)
                    })
                    .collect();
                (ty, TypeRules { stateful: def.stateful, what: def.what, properties })
            })
            .collect();
        Ok(Table { types })
    }

    /// The rule for a property at `path` (property names, outermost first; list indices left
    /// out): the longest classified prefix of the path.
    pub fn rule(&self, ty: &str, path: &[&str]) -> Option<&Rule> {
        let rules = self.types.get(ty)?;
        (1..=path.len()).rev().find_map(|n| rules.properties.get(&path[..n].join(".")))
    }

    /// The update behaviour of a property (`Unknown` when the table does not say).
    pub fn update(&self, ty: &str, path: &[&str]) -> Update {
        self.rule(ty, path).map_or(Update::Unknown, |r| r.update)
    }

    pub fn stateful(&self, ty: &str) -> bool {
        self.types.get(ty).is_some_and(|t| t.stateful)
    }

    pub fn what(&self, ty: &str) -> Option<&str> {
        self.types.get(ty).and_then(|t| t.what.as_deref())
    }
}

/// archc's table (`targets/cloudformation/replacement.yaml`, embedded).
// embedded at build time and parsed by the unit tests: not reachable by any input
#[allow(clippy::panic)]
pub fn table() -> &'static Table {
    static TABLE_: OnceLock<Table> = OnceLock::new();
    TABLE_.get_or_init(|| {
        Table::parse(TABLE).unwrap_or_else(|e| panic!("archc's embedded replacement table is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses() {
        let t = table();
        assert_eq!(t.update("AWS::EC2::Subnet", &["CidrBlock"]), Update::Replacement);
        assert_eq!(t.update("AWS::RDS::DBInstance", &["EngineVersion"]), Update::SomeInterruptions);
        assert_eq!(t.update("AWS::RDS::DBInstance", &["Engine"]), Update::Replacement);
        assert!(t.rule("AWS::RDS::DBInstance", &["Engine"]).and_then(|r| r.note.as_deref()).is_some());
        assert!(t.stateful("AWS::ElastiCache::ReplicationGroup"));
        assert!(!t.stateful("AWS::EC2::Subnet"));
        assert_eq!(t.update("AWS::Nope::Nope", &["X"]), Update::Unknown);
    }

    #[test]
    fn a_nested_path_overrides_its_property() {
        let t = table();
        assert_eq!(t.update("AWS::EKS::Cluster", &["AccessConfig", "AuthenticationMode"]), Update::NoInterruption);
        assert_eq!(
            t.update("AWS::EKS::Cluster", &["AccessConfig", "BootstrapClusterCreatorAdminPermissions"]),
            Update::Replacement
        );
    }

    #[test]
    fn every_stateful_type_says_what_it_loses() {
        for (ty, rules) in &table().types {
            if rules.stateful {
                assert!(rules.what.is_some(), "{ty}: `what` is missing");
            }
        }
    }
}
