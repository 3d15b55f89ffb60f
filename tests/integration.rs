//! archc's integration tests, one binary (`cargo test --test integration`).

mod test;

mod cli;
mod conformance;
#[cfg(feature = "deploy")]
mod deploy;
mod emit_cloudformation;
mod emit_consistency;
mod emit_kubernetes;
mod judges;
mod mutation;
mod rules;
