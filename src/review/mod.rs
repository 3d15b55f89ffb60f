//! Reviews: what a change of the diagram does, as one deterministic artefact for a pull request.
//! The stage after plan and emit: both sides are compiled in memory ([`Side`]), then compared
//! as typed graphs ([`graph`]), as resource plans stack by stack with CloudFormation's update
//! behaviour ([`resources`], [`replacement`]), as emitted files ([`files`]), and by their
//! findings ([`findings`]); [`danger`] raises what a reviewer must not miss; [`picture`] draws
//! the new architecture; [`markdown`] renders a pull-request comment within GitHub's size limit,
//! and the JSON form is the [`Review`] itself.
//!
//! A side that does not compile is still reviewed: the graph diff and its findings show what
//! changed, and the review says that no resource diff is available for it.

pub mod danger;
pub mod files;
pub mod findings;
pub mod graph;
pub mod markdown;
pub mod picture;
pub mod replacement;
pub mod resources;
mod side;
pub mod text;

use serde::Serialize;

pub use side::Side;

use crate::diagnostic::Severity;
use crate::plan::Stack;

/// The version of the JSON form.
pub const FORMAT: &str = "archc-review/1";

/// What the review says about one side.
#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    pub name: String,
    /// The file exists on this side.
    pub present: bool,
    /// The diagram parses (there is a typed graph).
    pub parses: bool,
    /// It compiles (no errors): its resources can be compared.
    pub compiles: bool,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl SideInfo {
    fn of(side: &Side) -> SideInfo {
        SideInfo {
            name: side.name.clone(),
            present: side.present,
            parses: side.graph().is_some(),
            compiles: side.compiles(),
            errors: side.count(Severity::Error),
            warnings: side.count(Severity::Warning),
            infos: side.count(Severity::Info),
        }
    }

    /// It has resources to compare (it compiles, or it is absent and compiles to nothing).
    pub fn has_output(&self) -> bool {
        !self.present || self.compiles
    }
}

/// What `infrastructure_changed` is judged from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Both sides compile: the resources, Kubernetes objects and emitted files.
    Resources,
    /// A side does not compile: the typed graphs (and whether each side compiles).
    Diagram,
    /// A side does not even parse: only whether the inputs differ.
    Text,
}

/// A review of the change from `old` to `new`.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub format: &'static str,
    pub old: SideInfo,
    pub new: SideInfo,
    /// The infrastructure changes: when both sides compile, a resource, Kubernetes object,
    /// workflow or other emitted file differs (`plan.json` alone does not count); when a side
    /// does not compile, the graph's meaning changes or one side stops (or starts) compiling;
    /// when a side does not parse, the inputs differ (archc cannot tell more).
    pub infrastructure_changed: bool,
    pub basis: Basis,
    pub graph: graph::GraphDiff,
    /// Per stack; `None` when a side does not compile.
    pub stacks: Option<Vec<resources::StackDiff>>,
    /// The emitted files; `None` when a side does not compile.
    pub files: Option<files::FilesDiff>,
    pub dangers: Vec<danger::Danger>,
    pub findings: findings::FindingsDiff,
    /// Errors that keep a side from compiling (up to 20 per side): `(side, finding)`.
    pub blocking: Vec<(String, findings::Finding)>,
    pub picture: picture::Picture,
}

fn blocking(side: &Side, label: &str, out: &mut Vec<(String, findings::Finding)>) {
    if !side.present || side.compiles() {
        return;
    }
    for d in side.diagnostics().iter().filter(|d| d.is_error()).take(20) {
        let at = side.location(d);
        out.push((
            label.to_string(),
            findings::Finding {
                severity: d.severity,
                code: d.code.to_string(),
                message: d.message.clone(),
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
            },
        ));
    }
}

/// Review the change from `old` to `new`.
pub fn review(old: &Side, new: &Side) -> Review {
    let graph = graph::diff(old.graph(), new.graph());
    let empty: &[Stack] = &[];
    let old_stacks = old.plan.as_ref().map_or(empty, |p| p.stacks.as_slice());
    let new_stacks = new.plan.as_ref().map_or(empty, |p| p.stacks.as_slice());
    let (stacks, files) = if old.has_output() && new.has_output() {
        let stacks = resources::diff(old_stacks, new_stacks);
        let mut files = files::diff(&old.files, &new.files);
        let changed: std::collections::BTreeSet<String> =
            stacks.iter().flat_map(|s| s.outputs_changed.iter().cloned()).collect();
        files::deploy_time(&mut files, &new.files, &changed);
        (Some(stacks), Some(files))
    } else {
        (None, None)
    };
    let dangers = danger::find(&graph, stacks.as_deref().map(|s| (s, old_stacks, new_stacks)), files.as_ref());
    let (infrastructure_changed, basis) = match (&stacks, &files) {
        (Some(s), Some(f)) => {
            (s.iter().any(resources::StackDiff::is_changed) || f.is_infrastructure_change(), Basis::Resources)
        }
        _ if graph.available => {
            (graph.is_semantic() || old.compiles() != new.compiles() || old.present != new.present, Basis::Diagram)
        }
        _ => (old.present != new.present || old.text() != new.text(), Basis::Text),
    };
    let mut blocked = Vec::new();
    blocking(old, "old", &mut blocked);
    blocking(new, "new", &mut blocked);
    Review {
        format: FORMAT,
        old: SideInfo::of(old),
        new: SideInfo::of(new),
        infrastructure_changed,
        basis,
        picture: picture::draw(old.graph(), new.graph(), &graph),
        graph,
        stacks,
        files,
        dangers,
        findings: findings::diff(old, new),
        blocking: blocked,
    }
}

impl Review {
    /// The JSON form (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
