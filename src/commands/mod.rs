//! One module per subcommand; each returns the process exit code.

mod check;
mod compile;
pub(crate) mod debug;
mod deploy;
mod docs;
mod graph;
mod review;

pub(crate) use check::check;
pub(crate) use compile::{compile, plan};
pub(crate) use debug::debug;
pub(crate) use deploy::{deploy, destroy};
pub(crate) use docs::{explain, kinds, rules};
pub(crate) use graph::graph;
pub(crate) use review::{diff, review};

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

/// Print `text` to standard output. A closed pipe (`archc graph x | head`) ends the command
/// quietly with status 0, as `git log | head` does; `Err` is the exit code to return.
pub(crate) fn out(text: &str) -> Result<(), i32> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(EXIT_OK),
        Err(_) => Err(EXIT_FAILURE),
    }
}

/// Print `text` to standard error; a closed standard error is not worth failing for.
pub(crate) fn err(text: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush());
}

/// `--ignore/--warn/--error` codes that name no rule: a usage error (status 2).
pub(crate) fn check_rule_args(rules: &crate::cli::RuleArgs) -> Result<(), i32> {
    let mut ok = true;
    for (flag, codes) in [("--ignore", &rules.ignore), ("--warn", &rules.warn), ("--error", &rules.error)] {
        for code in codes {
            if let Some(why) = crate::rules::unknown_code(code) {
                err(&format!(
                    "error: {flag} {code}: {why}
"
                ));
                ok = false;
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(EXIT_FAILURE)
    }
}

pub(crate) fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
