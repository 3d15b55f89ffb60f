//! Analysis and planning as one step: what `check`, `plan` and `compile` all run, so that a
//! file `check` passes is a file `compile` compiles.

use crate::analysis::{self, Analysis, Options};
use crate::diagnostic;
use crate::plan::{self, Plan};
use crate::rules;
use crate::source::SourceFile;

/// An input analysed and, when it has no errors, planned.
#[derive(Debug)]
pub struct Compilation {
    /// Every diagnostic of every stage is in `analysis.diagnostics`, sorted.
    pub analysis: Analysis,
    /// The plan, when the analysis found no errors and the planner could build one.
    pub plan: Option<Plan>,
}

impl Compilation {
    pub fn errors(&self) -> usize {
        self.analysis.errors()
    }
}

/// Analyse `file` (with its `archc.yaml`), then plan it. The planner's findings go through
/// the same rule selection and in-file suppressions as the rules'.
pub fn compile(file: SourceFile, config_file: Option<SourceFile>, options: &Options) -> Compilation {
    let mut analysis = analysis::analyze(file, config_file, options);
    let built = match &analysis.graph {
        Some(graph) if analysis.errors() == 0 => plan::build(graph, &analysis.config),
        _ => return Compilation { analysis, plan: None },
    };
    let plan = match built {
        Ok(plan) => {
            let mut found = analysis.selection.apply(plan.findings.clone());
            rules::apply_file_ignores(&mut found, &analysis.suppressions);
            analysis.diagnostics.extend(found);
            Some(plan)
        }
        Err(fatal) => {
            analysis.diagnostics.extend(fatal);
            None
        }
    };
    diagnostic::sort(&mut analysis.diagnostics);
    let plan = plan.filter(|_| analysis.errors() == 0);
    Compilation { analysis, plan }
}
