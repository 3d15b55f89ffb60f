use crate::analysis::{self, Analysis, Options};
use crate::cli::{CompileArgs, InputArgs, ListFormat, PlanArgs, RuleArgs};
use crate::diagnostic::{self, render, Format};
use crate::{emit, plan};

use super::{read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Analyse and plan; diagnostics go to stderr. `Err` is the exit code.
pub(super) fn analyse_and_plan(input: &InputArgs, rules: &RuleArgs) -> Result<(Analysis, plan::Plan), i32> {
    let file = match read_input(input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_FAILURE);
        }
    };
    let options = Options {
        diagram: input.diagram.clone(),
        ignore: rules.ignore.clone(),
        warn: rules.warn.clone(),
        error: rules.error.clone(),
        no_rules: false,
    };
    let mut result = analysis::analyze(file, analysis::config_file_for(&input.file), &options);
    if result.errors() > 0 {
        eprint!("{}", render(Format::Human, &result.files, &result.diagnostics, stderr_is_terminal(), 100));
        return Err(EXIT_ERRORS);
    }
    let plan = match plan::build(&result) {
        Ok(p) => p,
        Err(d) => {
            result.diagnostics.extend(d);
            diagnostic::sort(&mut result.diagnostics);
            eprint!("{}", render(Format::Human, &result.files, &result.diagnostics, stderr_is_terminal(), 100));
            return Err(EXIT_ERRORS);
        }
    };
    result.diagnostics.extend(plan.findings.iter().cloned());
    diagnostic::sort(&mut result.diagnostics);
    if !result.diagnostics.is_empty() {
        eprint!("{}", render(Format::Human, &result.files, &result.diagnostics, stderr_is_terminal(), 100));
    }
    if result.errors() > 0 {
        return Err(EXIT_ERRORS);
    }
    Ok((result, plan))
}

fn table(analysis: &Analysis, plan: &plan::Plan) -> String {
    let Some(graph) = &analysis.graph else { return String::new() };
    let mut out = String::from("| node | kind | becomes |\n|---|---|---|\n");
    for c in plan.components(graph) {
        let resources: Vec<String> = c.resources.iter().map(|(stack, id, ty)| format!("{stack}/{id} ({ty})")).collect();
        let becomes = if resources.is_empty() { "-".to_string() } else { resources.join("<br>") };
        out.push_str(&format!("| `{}` | `{}` | {becomes} |\n", c.node, c.kind));
    }
    out
}

/// `archc compile FILE -o DIR`
pub(crate) fn compile(args: &CompileArgs) -> i32 {
    let (analysis, plan) = match analyse_and_plan(&args.input, &args.rules) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(graph) = &analysis.graph else { return EXIT_ERRORS };
    let components = plan.components(graph);
    let files = emit::files(&plan, &components);
    if let Err(e) = emit::write_atomically(&args.out, &files) {
        eprintln!("error: {e}");
        return EXIT_FAILURE;
    }
    if args.summary {
        print!("{}", table(&analysis, &plan));
    }
    let stacks: Vec<&str> = plan.stacks.iter().map(|s| s.id.as_str()).collect();
    eprintln!(
        "wrote {} files to {} (stacks: {}; {} Kubernetes objects{})",
        files.len(),
        args.out.display(),
        stacks.join(", "),
        plan.kubernetes.objects.len(),
        if plan.workflow.is_some() { "; a CI workflow" } else { "" }
    );
    EXIT_OK
}

/// `archc plan FILE`
pub(crate) fn plan(args: &PlanArgs) -> i32 {
    let (analysis, plan) = match analyse_and_plan(&args.input, &args.rules) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(graph) = &analysis.graph else { return EXIT_ERRORS };
    match args.format {
        ListFormat::Json => {
            let components = plan.components(graph);
            let files = emit::files(&plan, &components);
            print!("{}", files.get("plan.json").cloned().unwrap_or_default());
        }
        ListFormat::Markdown | ListFormat::Text => print!("{}", table(&analysis, &plan)),
    }
    EXIT_OK
}
