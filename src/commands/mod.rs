//! One module per subcommand; each returns the process exit code.

mod check;
mod compile;
pub(crate) mod debug;
mod deploy;
mod docs;
mod graph;

pub(crate) use check::check;
pub(crate) use compile::{compile, plan};
pub(crate) use debug::debug;
pub(crate) use deploy::{deploy, destroy};
pub(crate) use docs::{explain, kinds, rules};
pub(crate) use graph::graph;

use std::io::Read;

use crate::cli::{InputArgs, InputFormat};
use crate::source::{InputKind, SourceFile};

/// Exit status: success, diagnostics with errors, usage or I/O failure.
pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_ERRORS: i32 = 1;
pub(crate) const EXIT_FAILURE: i32 = 2;

/// Read the input file (or standard input).
///
/// # Errors
/// The file cannot be read; the message names it.
pub(crate) fn read_input(args: &InputArgs) -> Result<SourceFile, String> {
    let is_stdin = args.file.as_os_str() == "-";
    let kind = match args.input {
        Some(InputFormat::Markdown) => InputKind::Markdown,
        Some(InputFormat::Mermaid) => InputKind::Mermaid,
        None if is_stdin => InputKind::Markdown,
        None => InputKind::from_path(&args.file),
    };
    let (name, bytes) = if is_stdin {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("cannot read standard input: {e}"))?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes = std::fs::read(&args.file).map_err(|e| format!("cannot read `{}`: {e}", args.file.display()))?;
        (args.file.display().to_string(), bytes)
    };
    Ok(SourceFile::from_bytes(name, bytes, kind))
}

pub(crate) fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
