use crate::cli::CheckArgs;
use crate::diagnostic::{self, render, Format, Severity};
use crate::frontend;
use crate::syntax::Mode;

use super::{read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// `archc check FILE`
pub(crate) fn check(args: &CheckArgs) -> i32 {
    let file = match read_input(&args.input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILURE;
        }
    };
    let mut result = frontend::run(&file, args.input.diagram.as_deref(), Mode::Full);
    diagnostic::sort(&mut result.diagnostics);
    let output =
        render(args.format, &file, &result.diagnostics, args.format == Format::Human && stderr_is_terminal(), 100);
    match args.format {
        Format::Human => eprint!("{output}"),
        Format::Json | Format::Github => print!("{output}"),
    }
    let errors = result.diagnostics.iter().any(|d| d.severity == Severity::Error);
    let warnings = result.diagnostics.iter().any(|d| d.severity == Severity::Warning);
    if errors || (args.deny_warnings && warnings) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}
