//! archc: a topology compiler. A Mermaid flowchart of a cloud architecture, written in
//! Markdown, is parsed, understood, checked and compiled to infrastructure.
//!
//! Stages, one way through: [`source`] (files, Markdown, positions) → [`syntax`]
//! (preprocessing, pest grammar, syntax tree) → [`flowchart`] (Mermaid's graph semantics)
//! → later stages. [`frontend`] runs the first three as one step.

pub mod analysis;
pub mod cli;
mod commands;
pub mod config;
pub mod diagnostic;
pub mod emit;
pub mod flowchart;
pub mod frontend;
pub mod model;
pub mod plan;
pub mod rules;
pub mod source;
pub mod syntax;

pub use commands::debug::oracle_result;

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
        cli::Command::Deploy(args) => commands::deploy(args),
        cli::Command::Destroy(args) => commands::destroy(args),
        cli::Command::Explain { code } => commands::explain(code),
        cli::Command::Rules { format } => commands::rules(*format),
        cli::Command::Kinds { format } => commands::kinds(*format),
        cli::Command::Debug { command } => commands::debug(command),
    }
}
