use crate::analysis::{self, Options};
use crate::cli::CheckArgs;
use crate::compilation;
use crate::diagnostic::{render, Format};

use super::{check_rule_args, err, out, read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// `archc check FILE`: everything `compile` would refuse, without writing anything.
pub(crate) fn check(args: &CheckArgs) -> i32 {
    if let Err(code) = check_rule_args(&args.rules) {
        return code;
    }
    let file = match read_input(&args.input) {
        Ok(f) => f,
        Err(e) => {
            err(&format!("error: {e}\n"));
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
    let result = compilation::compile(file, config_file, &options).analysis;
    let color = args.format == Format::Human && stderr_is_terminal();
    let output = render(args.format, &result.files, &result.diagnostics, color, 100);
    match args.format {
        Format::Human => err(&output),
        Format::Json | Format::Github => {
            if let Err(code) = out(&output) {
                return code;
            }
        }
    }
    if result.diagnostics.iter().any(|d| d.is_usage_error()) {
        EXIT_FAILURE
    } else if result.errors() > 0 || (args.deny_warnings && result.warnings() > 0) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}
