use crate::analysis::{self, Options};
use crate::cli::{GraphArgs, GraphFormat};
use crate::diagnostic::{self, render, Format};
use crate::flowchart::{layout_json, mermaid_json};
use crate::frontend;
use crate::syntax::Mode;

use super::{err, out, read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// `archc graph FILE`
pub(crate) fn graph(args: &GraphArgs) -> i32 {
    let file = match read_input(&args.input) {
        Ok(f) => f,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return EXIT_FAILURE;
        }
    };
    if args.format == GraphFormat::Json {
        let options = Options { diagram: args.input.diagram.clone(), no_rules: true, ..Options::default() };
        let result = analysis::analyze(file, analysis::config_file_for(&args.input.file), &options);
        let errors: Vec<_> = result.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        if !errors.is_empty() {
            err(&render(Format::Human, &result.files, &errors, stderr_is_terminal(), 100));
            return if errors.iter().any(|d| d.is_usage_error()) { EXIT_FAILURE } else { EXIT_ERRORS };
        }
        let Some(graph) = &result.graph else { return EXIT_ERRORS };
        let main = &result.files[0];
        let json = graph.to_json(&|offset| {
            let lc = main.line_col(offset);
            (lc.line, lc.column)
        });
        return match out(&format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default())) {
            Ok(()) => EXIT_OK,
            Err(code) => code,
        };
    }
    let mut result = frontend::run(&file, args.input.diagram.as_deref(), args.mode);
    diagnostic::sort(&mut result.diagnostics);
    let files = [file];
    if !result.diagnostics.is_empty() {
        err(&render(Format::Human, &files, &result.diagnostics, stderr_is_terminal(), 100));
    }
    if result.diagnostics.iter().any(|d| d.is_usage_error()) {
        return EXIT_FAILURE;
    }
    let Some(diagram) = result.diagram.filter(|_| !result.diagnostics.iter().any(|d| d.is_error())) else {
        return EXIT_ERRORS;
    };
    let decode = args.mode == Mode::Full;
    let text = match args.format {
        GraphFormat::MermaidJson => {
            let mut value = mermaid_json(&diagram.db, decode);
            if let Some(map) = value.as_object_mut() {
                map.insert("ok".into(), true.into());
                if !diagram.parsed.preprocessed.config.is_empty() {
                    map.insert("config".into(), diagram.parsed.preprocessed.config.clone().into());
                }
                if args.layout {
                    map.insert("layout".into(), layout_json(&diagram.db, curve(&diagram), decode));
                }
            }
            serde_json::to_string_pretty(&value).unwrap_or_default()
        }
        GraphFormat::Dot => crate::flowchart::dot(&diagram.db),
        GraphFormat::Json => return EXIT_FAILURE, // handled above
    };
    match out(&format!("{text}\n")) {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}

pub(crate) fn curve(diagram: &frontend::Diagram) -> &str {
    diagram
        .parsed
        .preprocessed
        .config
        .get("flowchart")
        .and_then(|f| f.get("curve"))
        .and_then(|c| c.as_str())
        .unwrap_or("basis")
}
