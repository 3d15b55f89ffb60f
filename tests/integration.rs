//! archc's integration tests, one binary (`cargo test --test integration`).

mod test;

mod cli;
mod conformance;
mod mutation;
mod rules;
