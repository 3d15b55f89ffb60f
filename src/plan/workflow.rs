//! The CI/CD workflow of the plan (GitHub Actions, rendered from `targets/github-actions/`).

use super::kubernetes::KubernetesPlan;
use super::{Settings, Stack};
use crate::model::ArchGraph;

#[derive(Debug, Clone)]
pub struct WorkflowPlan {
    /// Path under the output directory (`.github/workflows/deploy.yml`).
    pub file: String,
    pub content: String,
}

pub(super) fn plan(
    _graph: &ArchGraph,
    _settings: &Settings,
    _stacks: &[Stack],
    _k8s: &KubernetesPlan,
) -> Option<WorkflowPlan> {
    None
}
