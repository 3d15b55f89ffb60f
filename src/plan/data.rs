//! The data stack (see `../../../shared/reference/mattermost-on-eks.md`).

use super::Lowering;

pub(super) fn lower(_l: &mut Lowering<'_>) {}
