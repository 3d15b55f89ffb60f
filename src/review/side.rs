//! One side of a review: an input compiled in memory (analysis, plan, every emitted file),
//! or as far as it gets. Nothing is written.

use std::collections::BTreeMap;

use crate::analysis::{Analysis, Options};
use crate::compilation;
use crate::diagnostic::{Diagnostic, Severity};
use crate::emit;
use crate::model::ArchGraph;
use crate::plan::Plan;
use crate::source::SourceFile;

/// An input, compiled as far as it goes.
#[derive(Debug)]
pub struct Side {
    /// The name shown in the review (the path as given).
    pub name: String,
    /// The file exists on this side (a file added by the change has no old side).
    pub present: bool,
    pub analysis: Analysis,
    /// The plan, when the input compiles (no errors, as `archc compile` requires).
    pub plan: Option<Plan>,
    /// Every file `archc compile` would write (empty when it does not compile).
    pub files: BTreeMap<String, String>,
}

impl Side {
    /// A side without the file: it compiles to nothing.
    pub fn absent(name: impl Into<String>) -> Side {
        Side { name: name.into(), present: false, analysis: Analysis::default(), plan: None, files: BTreeMap::new() }
    }

    /// Analyse, plan and emit `file` (with its `archc.yaml`) in memory, as `compile` would
    /// (the same findings, the same selection and suppressions).
    pub fn compile(file: SourceFile, config: Option<SourceFile>, options: &Options) -> Side {
        let name = file.name.clone();
        let compilation::Compilation { analysis, plan } = compilation::compile(file, config, options);
        let files = match (&plan, &analysis.graph) {
            (Some(plan), Some(graph)) => emit::files(plan, &plan.components(graph)),
            _ => BTreeMap::new(),
        };
        Side { name, present: true, analysis, plan, files }
    }

    /// It compiles (or is absent, which compiles to nothing): its resources can be compared.
    pub fn has_output(&self) -> bool {
        !self.present || self.plan.is_some()
    }

    pub fn compiles(&self) -> bool {
        self.plan.is_some()
    }

    /// The typed graph; an absent side has an empty one, a diagram that does not parse none.
    pub fn graph(&self) -> Option<&ArchGraph> {
        static EMPTY: std::sync::OnceLock<ArchGraph> = std::sync::OnceLock::new();
        if self.present {
            self.analysis.graph.as_ref()
        } else {
            Some(EMPTY.get_or_init(ArchGraph::default))
        }
    }

    /// The input's text (empty for an absent side).
    pub fn text(&self) -> &str {
        self.analysis.files.first().map_or("", |f| f.text.as_str())
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.analysis.diagnostics
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.analysis.diagnostics.iter().filter(|d| d.severity == severity).count()
    }

    /// Line and column (1-based) of a diagnostic's primary span, in the file it points into.
    pub fn location(&self, d: &Diagnostic) -> Option<(usize, usize)> {
        let file = self.analysis.files.get(usize::from(d.file))?;
        let span = d.primary_span()?;
        let lc = file.line_col(span.start);
        Some((lc.line, lc.column))
    }
}
