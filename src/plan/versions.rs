//! Versions as data (`targets/versions/versions.yaml`): what archc builds by default and when
//! each version's standard support ends, and the findings (`PLN006`) for a version that is past,
//! or within [`WARN_DAYS`] of, that date. "Today" is the machine's date, or `ARCHC_TODAY`
//! (`YYYY-MM-DD`) so that a test or a reproducible build can fix it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use petgraph::stable_graph::NodeIndex;
use serde::Deserialize;

use crate::config::Config;
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::ArchGraph;
use crate::plan::Settings;

/// A finding this many days before the end of standard support.
pub const WARN_DAYS: i64 = 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    products: BTreeMap<String, Product>,
}

/// One product: its default version and the versions archc knows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    pub default: String,
    pub versions: Vec<Version>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// A prefix of the versions it covers (`1.35`, `17`, `11.7`).
    pub version: String,
    #[serde(default)]
    pub released: Option<Date>,
    #[serde(default)]
    pub standard_support_end: Option<Date>,
}

/// A calendar date (`2027-03-27`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    pub fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// `ARCHC_TODAY` when set (and valid), else the system clock's date (UTC).
    pub fn today() -> Date {
        if let Some(d) = std::env::var("ARCHC_TODAY").ok().as_deref().and_then(Date::parse) {
            return d;
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Date::from_days(secs.div_euclid(86_400))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a date (YYYY-MM-DD): {s}")))
    }
}

const TEXT: &str = include_str!("../../targets/versions/versions.yaml");

fn load() -> Result<File, String> {
    let f: File = serde_yaml::from_str(TEXT).map_err(|e| format!("targets/versions/versions.yaml: {e}"))?;
    for (id, p) in &f.products {
        if find(p, &p.default).is_none() {
            return Err(format!("targets/versions/versions.yaml: the default of `{id}` is not one of its versions"));
        }
    }
    Ok(f)
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| match load() {
        Ok(f) => f,
        // embedded at build time and loaded by the unit tests: not reachable by any input
        Err(e) => unreachable!("{e}"),
    })
}

/// A product of the versions file (`kubernetes`, `postgres`, `mattermost`).
pub fn product(id: &str) -> Option<&'static Product> {
    file().products.get(id)
}

/// The version archc builds for `product` when nothing is configured.
pub fn default(id: &str) -> Option<&'static str> {
    product(id).map(|p| p.default.as_str())
}

/// The entry that covers `version` (the longest prefix at a `.` boundary).
fn find<'p>(p: &'p Product, version: &str) -> Option<&'p Version> {
    p.versions
        .iter()
        .filter(|v| version == v.version || version.starts_with(&format!("{}.", v.version)))
        .max_by_key(|v| v.version.len())
}

/// Where a version stands on `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// In standard support for more than [`WARN_DAYS`] (or without a known end).
    Standard,
    /// Standard support ends on this date, within [`WARN_DAYS`].
    EndsSoon(Date),
    /// Standard support ended on this date.
    Ended(Date),
    /// archc has no data for this version.
    Unknown,
}

/// The support of `version` of `product` on `today`.
pub fn support(id: &str, version: &str, today: Date) -> Support {
    let Some(v) = product(id).and_then(|p| find(p, version)) else { return Support::Unknown };
    match v.standard_support_end {
        Some(end) if end <= today => Support::Ended(end),
        Some(end) if end.days() - today.days() <= WARN_DAYS => Support::EndsSoon(end),
        _ => Support::Standard,
    }
}

/// The product of a database engine (`postgres`, `aurora-postgresql`, ...), when archc has
/// support dates for it.
pub fn engine_product(engine: &str) -> Option<&'static str> {
    file().products.get_key_value(engine).map(|(k, _)| k.as_str())
}

/// One version the output uses and where it was decided.
struct Used<'a> {
    product: &'a str,
    version: String,
    /// The configuration key that sets it, when configured.
    key: Option<&'static str>,
    /// The box it is for.
    node: Option<NodeIndex>,
    /// Where the version comes from.
    origin: Origin,
}

/// Where a version the output uses comes from.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Config,
    /// Written in the box's label (`PostgreSQL 13`).
    Label,
    Default,
}

/// The engine version a database box's label states, as the database lowering builds it:
/// PostgreSQL's major (`16`), MySQL's and MariaDB's with their minor (`8.0`); Aurora MySQL's
/// labels name MySQL versions, not its own, so none.
pub fn written_engine_version(engine: &str, written: Option<&str>) -> Option<String> {
    let w = written?;
    match engine {
        "aurora-mysql" => None,
        "mysql" | "mariadb" if !w.contains('.') => None,
        _ => Some(w.to_string()),
    }
}

/// `PLN006` for every version the output uses that is out of (or about to leave) standard
/// support on `today`: at the configuration key that sets it, else at the box.
/// `cluster`: whether the output has an EKS cluster.
pub fn findings(
    graph: &ArchGraph,
    settings: &Settings,
    config: &Config,
    cluster: bool,
    today: Date,
) -> Vec<Diagnostic> {
    let mut used: Vec<Used<'_>> = Vec::new();
    if cluster {
        let node = ["aws.eks-cluster", "aws.eks-control-plane", "aws.eks-nodegroup"]
            .iter()
            .find_map(|k| graph.of_kind(k).next());
        used.push(Used {
            product: "kubernetes",
            version: settings.kubernetes_version.clone(),
            key: config.eks.version.as_ref().map(|_| "eks.version"),
            node,
            origin: if config.eks.version.is_some() { Origin::Config } else { Origin::Default },
        });
    }
    for kind in ["aws.rds", "aws.aurora"] {
        for n in graph.of_kind(kind) {
            let default_engine = if kind == "aws.aurora" { "aurora-postgresql" } else { "postgres" };
            let engine = graph.component(n).attr("engine").unwrap_or(default_engine);
            let Some(product) = engine_product(engine) else { continue };
            let written = written_engine_version(engine, graph.component(n).attr("version"));
            let (version, key, origin) = match (&settings.db_engine_version, written) {
                (Some(v), _) => (v.clone(), Some("database.engine_version"), Origin::Config),
                (None, Some(w)) => (w, None, Origin::Label),
                (None, None) => (default(product).unwrap_or_default().to_string(), None, Origin::Default),
            };
            used.push(Used { product, version, key, node: Some(n), origin });
        }
    }
    if let Some(app) = &settings.app {
        if let Some(product) = app.profile.and_then(|p| engine_product(&p.id)) {
            used.push(Used {
                product,
                version: app.version.clone(),
                key: config.app.version.as_ref().map(|_| "app.version"),
                node: graph.node(&app.node),
                origin: if config.app.version.is_some() { Origin::Config } else { Origin::Default },
            });
        }
    }
    let mut out = Vec::new();
    for u in used {
        let Some(p) = product(u.product) else { continue };
        let (what, severity) = match support(u.product, &u.version, today) {
            Support::Ended(end) => (format!("left standard support on {end}"), Severity::Warning),
            Support::EndsSoon(end) => (format!("leaves standard support on {end}"), Severity::Warning),
            Support::Standard | Support::Unknown => continue,
        };
        let mut d = Diagnostic::new(codes::PLAN_VERSION_SUPPORT, severity, format!("{} {} {what}", p.name, u.version));
        let origin = u.key.and_then(|k| config.origin(k));
        if let Some(o) = origin {
            d = d.with_primary(o.span, "this version").in_file(o.file);
        } else if let Some(n) = u.node {
            let what = if u.origin == Origin::Label {
                "the version written in the label".to_string()
            } else {
                format!("archc's default {} version", p.name)
            };
            d = d.with_primary(graph.component(n).span, what);
        }
        let help = match (u.key, u.origin) {
            (Some(k), _) => format!("set `{k}` to a version in standard support (archc's default is {})", p.default),
            (None, Origin::Label) => format!(
                "write a version in standard support in the label, or leave it out for archc's default ({})",
                p.default
            ),
            (None, _) => format!(
                "archc's version data (targets/versions/versions.yaml) is out of date: update archc, or pin a newer {} version in the configuration",
                p.name
            ),
        };
        out.push(d.with_help(help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn the_file_loads_and_every_default_is_in_standard_support_on_the_date_it_was_read() {
        let f = load().unwrap();
        for id in f.products.keys() {
            let v = default(id).unwrap();
            assert_eq!(support(id, v, d("2026-12-04")), Support::Standard, "{id} {v}");
        }
    }

    #[test]
    fn dates_round_trip_and_count_days() {
        for s in ["1970-01-01", "2000-02-29", "2026-12-04", "2027-03-27", "2100-03-01"] {
            assert_eq!(Date::from_days(d(s).days()).to_string(), s);
        }
        assert_eq!(d("1970-01-02").days(), 1);
        assert_eq!(d("2027-03-27").days() - d("2026-12-04").days(), 113);
        assert!(Date::parse("2026-13-01").is_none());
    }

    #[test]
    fn support_is_judged_by_the_longest_prefix() {
        let today = d("2026-12-04");
        assert_eq!(support("kubernetes", "1.33", today), Support::Ended(d("2026-07-29")));
        assert_eq!(support("kubernetes", "1.34", today), Support::Ended(d("2026-12-02")));
        assert_eq!(support("kubernetes", "1.35", today), Support::Standard);
        assert_eq!(support("kubernetes", "1.35", d("2027-02-01")), Support::EndsSoon(d("2027-03-27")));
        assert_eq!(support("postgres", "16.10", today), Support::Standard);
        assert_eq!(support("postgres", "13.4", today), Support::Ended(d("2026-02-28")));
        assert_eq!(support("mattermost", "10.11.4", today), Support::Ended(d("2026-08-15")));
        assert_eq!(support("mattermost", "1.3", today), Support::Unknown);
        assert_eq!(support("kubernetes", "1.3", today), Support::Unknown, "1.3 is not 1.35");
    }
}
