//! archc's integration tests, one binary (`cargo test --test integration`).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // test code: a failure is the point

mod test;

mod cli;
mod conformance;
#[cfg(feature = "deploy")]
mod deploy;
mod edge;
mod emit_aurora;
mod emit_cloudformation;
mod emit_consistency;
mod emit_ecs_ec2;
mod emit_kubernetes;
mod emit_operations;
mod emit_serverless;
mod judges;
mod mutation;
mod review;
mod rules;
mod trust;
mod wild;
