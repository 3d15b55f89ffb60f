//! `APP`: conflicts between the drawing and the application's profile
//! (`targets/apps/<app>.yaml`), such as Mattermost's edition rules.

pub(crate) mod cache_needs_enterprise_edition;
pub(crate) mod replicas_need_enterprise_edition;
pub(crate) mod second_file_store;
