//! The rule catalog: one rule per file, a stable code (`NET001`), a kebab name describing
//! the bad pattern, a default severity, and its documentation in the doc comment
//! (`## What it does`, `## Why is this bad?`, `## Example`). `archc explain CODE` prints it;
//! `archc rules` lists the catalog.
//!
//! Rules see the typed graph and report graph handles ([`Handle`]); [`RuleContext::span_of`]
//! turns them into positions, so a rule cannot report a wrong line.
//!
//! Families: `GRF` graph shape and classification, `NET` network paths, `SEC` exposure,
//! `K8S` Kubernetes, `APP` application profile conflicts. Codes never change and are never
//! reused.

mod app;
mod grf;
mod k8s;
mod net;
mod sec;
mod selection;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

pub use selection::{
    apply_file_ignores, check_suppressions, file_ignores, selectable_codes, unknown_code, Selection, Suppression,
};

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{AppProfile, ArchGraph, Catalog, Component};
use crate::source::Span;

/// A rule: its metadata, documentation and check.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The rule's documentation (Markdown).
    pub explanation: &'static str,
    /// Where the rule is defined (`src/rules/net/nat_gateway_in_private_subnet.rs`).
    pub location: &'static str,
    pub check: fn(&RuleContext<'_>, &mut Vec<Violation>),
}

impl Rule {
    /// `NET` of `NET001`.
    pub fn family(&self) -> &'static str {
        &self.code[..3]
    }

    /// The first line of `## What it does`.
    pub fn summary(&self) -> &'static str {
        self.explanation
            .split("## What it does")
            .nth(1)
            .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("")
    }

    /// `fixtures/rules/net/nat-gateway-in-private-subnet.md`
    pub fn fixture(&self) -> String {
        format!("fixtures/rules/{}/{}.md", self.family().to_lowercase(), self.name)
    }
}

/// `declare_rule! { /// docs ... pub(crate) static NAME = { code, name, severity, check } }`
macro_rules! declare_rule {
    ($(#[doc = $doc:literal])* $vis:vis static $ident:ident = { code: $code:literal, name: $name:literal, severity: $sev:ident, check: $check:path $(,)? }) => {
        $(#[doc = $doc])*
        $vis static $ident: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            name: $name,
            severity: $crate::diagnostic::Severity::$sev,
            explanation: concat!($($doc, "\n",)*),
            location: file!(),
            check: $check,
        };
    };
}
pub(crate) use declare_rule;

/// Every rule, in code order.
#[rustfmt::skip]
pub static RULES: &[&Rule] = &[
    &grf::duplicate_node_definition::RULE,
    &grf::edge_to_undeclared_node::RULE,
    &grf::orphan_node::RULE,
    &grf::unknown_component::RULE,
    &grf::ambiguous_component::RULE,
    &grf::component_outside_cloud::RULE,
    &grf::line_dropped_by_mermaid::RULE,
    &grf::misplaced_component::RULE,
    &grf::diagram_of_another_cloud::RULE,
    &net::nat_gateway_in_private_subnet::RULE,
    &net::data_store_in_public_subnet::RULE,
    &net::data_subnet_with_internet_route::RULE,
    &net::private_subnet_without_egress::RULE,
    &net::nat_gateway_without_internet_gateway::RULE,
    &net::internet_reaches_private_component::RULE,
    &net::data_store_reached_outside_app_tier::RULE,
    &net::load_balancer_outside_public_subnet::RULE,
    &sec::public_eks_endpoint::RULE,
    &k8s::clusterip_service_behind_alb::RULE,
    &app::cache_needs_enterprise_edition::RULE,
    &app::replicas_need_enterprise_edition::RULE,
    &app::second_file_store::RULE,
];

pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

/// What a rule points at.
#[derive(Debug, Clone, Copy)]
pub enum Handle {
    Node(NodeIndex),
    Edge(EdgeIndex),
    Span(Span),
}

/// One finding of a rule.
#[derive(Debug, Clone)]
pub struct Violation {
    pub primary: Handle,
    pub message: String,
    /// What is at the primary location.
    pub label: String,
    pub secondary: Vec<(Handle, String)>,
    pub help: String,
}

impl Violation {
    pub fn new(primary: Handle, message: impl Into<String>, label: impl Into<String>, help: impl Into<String>) -> Self {
        Self { primary, message: message.into(), label: label.into(), secondary: Vec::new(), help: help.into() }
    }

    pub fn with(mut self, handle: Handle, label: impl Into<String>) -> Self {
        self.secondary.push((handle, label.into()));
        self
    }
}

/// What rules see.
pub struct RuleContext<'a> {
    pub graph: &'a ArchGraph,
    pub config: &'a Config,
    pub catalog: &'static Catalog,
}

impl RuleContext<'_> {
    pub fn span_of(&self, handle: Handle) -> Span {
        match handle {
            Handle::Node(n) => self.graph.component(n).span,
            Handle::Edge(e) => self.graph.connection(e).span,
            Handle::Span(s) => s,
        }
    }

    pub fn c(&self, n: NodeIndex) -> &Component {
        self.graph.component(n)
    }

    /// `kind name `id`` for messages.
    pub fn describe(&self, n: NodeIndex) -> String {
        let c = self.graph.component(n);
        match c.kind {
            Some(k) => format!("{} `{}`", k.def.name, c.id),
            None => format!("`{}`", c.id),
        }
    }

    /// The application profile of a workload and the edition in effect.
    pub fn app(&self, n: NodeIndex) -> Option<(&'static AppProfile, &str)> {
        let profile = self.catalog.app(self.graph.component(n).app.as_deref()?)?;
        let edition = self.config.app.edition.as_deref().unwrap_or(profile.default_edition.as_str());
        Some((profile, edition))
    }
}

/// Run the enabled rules; diagnostics sorted by position.
pub fn run(ctx: &RuleContext<'_>, selection: &Selection) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES {
        let Some(severity) = selection.severity(rule) else { continue };
        let mut violations = Vec::new();
        (rule.check)(ctx, &mut violations);
        for v in violations {
            let mut d = Diagnostic::new(rule.code, severity, v.message)
                .with_primary(ctx.span_of(v.primary), v.label)
                .with_help(v.help);
            for (h, label) in v.secondary {
                d = d.with_label(ctx.span_of(h), label);
            }
            out.push(d);
        }
    }
    out
}

/// The README's rule table (`archc rules --format markdown`).
pub fn markdown_table() -> String {
    let mut s = String::from("| code | name | severity | what it finds |\n|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!("| {} | `{}` | {} | {} |\n", r.code, r.name, r.severity.as_str(), r.summary()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let re = regex::Regex::new(r"^[A-Z][A-Z0-9]{2}\d{3}$").expect("regex");
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(re.is_match(r.code), "{}", r.code);
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(seen.insert(r.name), "duplicate name {}", r.name);
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{} is not kebab-case", r.name);
        }
        // families stay together, codes ascend within a family
        let mut families: Vec<&str> = Vec::new();
        for pair in RULES.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.family() == b.family() {
                assert!(a.code < b.code, "{} before {}", a.code, b.code);
            } else {
                assert!(!families.contains(&b.family()), "family {} appears twice", b.family());
                families.push(a.family());
            }
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for r in RULES {
            for heading in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(r.explanation.contains(heading), "{} lacks `{heading}`", r.code);
            }
            assert!(r.explanation.contains("```mermaid"), "{}: the example is a mermaid block", r.code);
            assert!(!r.summary().is_empty(), "{}", r.code);
            let file = std::path::Path::new(r.location).file_stem().and_then(|s| s.to_str()).unwrap_or("");
            assert_eq!(file.replace('_', "-"), r.name, "{}: file and name agree", r.code);
        }
    }
}
