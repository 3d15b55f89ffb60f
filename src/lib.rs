//! archc: a topology compiler. A Mermaid flowchart of a cloud architecture, written in
//! Markdown, is parsed, understood, checked and compiled to infrastructure.
//!
//! Stages, one way through: [`source`] (files, Markdown, positions) → [`syntax`]
//! (preprocessing, pest grammar, syntax tree) → [`flowchart`] (Mermaid's graph semantics)
//! → [`model`] and [`rules`] ([`analysis`]) → [`plan`] → [`emit`] → [`review`] (two
//! compilations compared). [`frontend`] runs the first three as one step.

pub mod analysis;
pub mod cli;
mod commands;
pub mod compilation;
pub mod config;
pub mod diagnostic;
pub mod emit;
pub mod flowchart;
pub mod frontend;
pub mod model;
pub mod plan;
pub mod review;
pub mod rules;
pub mod source;
pub mod syntax;
pub mod yaml;

pub use commands::debug::oracle_result;

/// A regular expression from a constant pattern of archc's own source. Every such pattern is
/// compiled by the test suite (each `LazyLock` is forced by a test that uses it), so this
/// cannot fail on any input.
#[allow(clippy::expect_used)]
pub(crate) fn constant_regex(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("archc's constant regular expressions compile")
}

use clap::Parser as _;

/// Run archc with these arguments; returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let arguments = match cli::Arguments::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { commands::EXIT_FAILURE } else { commands::EXIT_OK };
        }
    };
    match &arguments.command {
        cli::Command::Check(args) => commands::check(args),
        cli::Command::Graph(args) => commands::graph(args),
        cli::Command::Compile(args) => commands::compile(args),
        cli::Command::Plan(args) => commands::plan(args),
        cli::Command::Diff(args) => commands::diff(args),
        cli::Command::Review(args) => commands::review(args),
        cli::Command::Deploy(args) => commands::deploy(args),
        cli::Command::Destroy(args) => commands::destroy(args),
        cli::Command::Explain { code } => commands::explain(code),
        cli::Command::Rules { format } => commands::rules(*format),
        cli::Command::Kinds { format } => commands::kinds(*format),
        cli::Command::Debug { command } => commands::debug(command),
    }
}
