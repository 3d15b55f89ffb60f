use crate::analysis::{self, Options};
use crate::cli::CheckArgs;
use crate::diagnostic::{render, Format};

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
    let options = Options {
        diagram: args.input.diagram.clone(),
        ignore: args.rules.ignore.clone(),
        warn: args.rules.warn.clone(),
        error: args.rules.error.clone(),
        no_rules: false,
    };
    let config_file = analysis::config_file_for(&args.input.file);
    let result = analysis::analyze(file, config_file, &options);
    let color = args.format == Format::Human && stderr_is_terminal();
    let output = render(args.format, &result.files, &result.diagnostics, color, 100);
    match args.format {
        Format::Human => eprint!("{output}"),
        Format::Json | Format::Github => print!("{output}"),
    }
    if result.errors() > 0 || (args.deny_warnings && result.warnings() > 0) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}
