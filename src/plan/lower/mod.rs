//! One lowering per kind (or family of kinds), as the rules are one per file: each turns the
//! boxes of its kinds, and the arrows that concern them, into resources of the stacks.
//! [`LOWERINGS`] is the registry, in the order the lowerings run (what a lowering reads of
//! another's resources runs after it). Every kind of the catalog is lowered here, by the
//! Kubernetes stage ([`crate::plan::kubernetes::KINDS`]), reported as not built
//! ([`REPORTED`]), or has nothing to build by its catalog entry; a test holds the catalog to
//! it.

mod access;
mod api;
mod bucket;
mod cache;
pub(super) mod ci;
mod compute;
mod database;
mod ec2;
mod ecs;
mod edge;
pub(super) mod eks;
mod endpoints;
mod fargate;
mod file_system;
mod function;
mod key;
mod load_balancer;
mod messaging;
pub(super) mod network;
mod operations;
mod rotation_restart;
mod secret;
pub(crate) mod secret_sync;
mod store;
mod table;
mod user_pool;
mod workload_role;

pub use endpoints::{drawn_endpoint_services, endpoint_services};
pub(crate) use network::drawn_subnets;

use super::Lowering;

/// A lowering: the kinds it builds and the function that builds them.
pub(crate) struct Lowerer {
    /// Its name (documentation and tests).
    pub(crate) name: &'static str,
    /// The kinds whose boxes it turns into resources (empty for a lowering that finishes
    /// what others started, such as the data stack's key).
    pub(crate) kinds: &'static [&'static str],
    pub(crate) lower: fn(&mut Lowering<'_>),
}

/// Every lowering, in the order they run: the network first, the cluster on it, the data
/// stores the workloads reach, their roles, the data stack's key, then CI.
pub(crate) static LOWERINGS: &[&Lowerer] = &[
    &network::LOWERER,
    &operations::FLOW_LOGS,
    &endpoints::LOWERER,
    &eks::LOWERER,
    &fargate::LOWERER,
    &database::LOWERER,
    &cache::LOWERER,
    &bucket::LOWERER,
    &file_system::LOWERER,
    &secret::LOWERER,
    &table::LOWERER,
    &key::LOWERER,
    &user_pool::LOWERER,
    &workload_role::LOWERER,
    &secret_sync::LOWERER,
    &store::DATA_KEY,
    &messaging::LOWERER,
    &function::LOWERER,
    &messaging::EVENTS,
    &api::LOWERER,
    &function::LOGS,
    &load_balancer::LOWERER,
    &ecs::LOWERER,
    &ec2::LOWERER,
    &edge::LOWERER,
    &operations::ALARMS,
    &ci::LOWERER,
];

/// Kinds archc recognises and does not build yet, with what a user should know: each box
/// of them gets a located warning (`PLN003`).
pub(crate) static REPORTED: &[(&str, &str)] = &[
    ("aws.service", "an AWS service archc names but does not model"),
    ("aws.security-group", "archc derives security groups from the arrows, not from drawn ones"),
    ("aws.route-table", "archc derives route tables from the subnets' tiers"),
    ("ci.other", "archc emits workflows for GitHub Actions only"),
];

/// How archc builds a kind: the lowering that does, the Kubernetes stage, or why it does not.
pub fn built_by(kind: &str) -> Option<String> {
    if let Some(l) = LOWERINGS.iter().find(|l| l.kinds.contains(&kind)) {
        if crate::plan::kubernetes::FRONTS.contains(&kind) {
            return Some(format!(
                "the `{}` lowering (in front of ECS and EC2), the Kubernetes stage's Ingress (in front of Kubernetes)",
                l.name
            ));
        }
        return Some(format!("the `{}` lowering", l.name));
    }
    if crate::plan::kubernetes::KINDS.contains(&kind) {
        return Some("the Kubernetes stage".to_string());
    }
    REPORTED.iter().find(|(k, _)| *k == kind).map(|(_, why)| format!("not built: {why}"))
}

/// Run every lowering, in order.
pub(super) fn run(l: &mut Lowering<'_>) {
    for lowerer in LOWERINGS {
        (lowerer.lower)(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog;

    /// Every kind of the catalog: built by a lowering or the Kubernetes stage, reported as not
    /// built, or nothing to build by its catalog entry; and no kind claimed twice.
    #[test]
    fn every_kind_is_lowered_reported_or_has_nothing_to_build() {
        let mut claimed: Vec<&str> = LOWERINGS.iter().flat_map(|l| l.kinds.iter().copied()).collect();
        claimed.extend(crate::plan::kubernetes::KINDS);
        claimed.extend(REPORTED.iter().map(|(k, _)| *k));
        let mut sorted = claimed.clone();
        sorted.sort_unstable();
        let before = sorted.len();
        sorted.dedup();
        assert_eq!(before, sorted.len(), "a kind is claimed twice: {claimed:?}");
        for kind in &catalog().kinds {
            let id = kind.id();
            let has = claimed.contains(&id);
            let nothing = kind.def.nothing_to_build.is_some();
            assert!(
                has ^ nothing,
                "kind `{id}`: lowered or reported ({has}) or nothing to build ({nothing}), exactly one"
            );
        }
        for id in &claimed {
            assert!(catalog().kind(id).is_some(), "the registry names `{id}`, which the catalog does not have");
        }
    }
}
