use crate::analysis::{self, Analysis, Options};
use crate::cli::{CompileArgs, InputArgs, ListFormat, PlanArgs, RuleArgs};
use crate::compilation;
use crate::diagnostic::{render, Format};
use crate::emit::{self, WriteOptions};
use crate::plan::coverage::{EdgeStatus, NodeStatus};
use crate::{model, plan};

use super::{check_rule_args, err, out, read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Analyse and plan; diagnostics go to stderr. `Err` is the exit code.
fn analyse_and_plan(input: &InputArgs, rules: &RuleArgs) -> Result<(Analysis, plan::Plan), i32> {
    check_rule_args(rules)?;
    let file = match read_input(input) {
        Ok(f) => f,
        Err(e) => {
            err(&format!("error: {e}\n"));
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
    let result = compilation::compile(file, analysis::config_file_for(&input.file), &options);
    let analysis = result.analysis;
    if !analysis.diagnostics.is_empty() {
        err(&render(Format::Human, &analysis.files, &analysis.diagnostics, stderr_is_terminal(), 100));
    }
    if analysis.diagnostics.iter().any(|d| d.is_usage_error()) {
        return Err(EXIT_FAILURE);
    }
    match result.plan {
        Some(plan) if analysis.errors() == 0 => Ok((analysis, plan)),
        _ => Err(EXIT_ERRORS),
    }
}

/// `| node | kind | becomes |`: what every box became (the coverage), then every arrow.
fn table(analysis: &Analysis, plan: &plan::Plan) -> String {
    let Some(graph) = &analysis.graph else { return String::new() };
    let mut s = String::from("| node | kind | becomes |\n|---|---|---|\n");
    for (n, status) in &plan.coverage.nodes {
        let c = graph.component(*n);
        let becomes = match status {
            NodeStatus::Built(list) => list.join("<br>"),
            NodeStatus::Shapes(how) => format!("(shapes the output: {how})"),
            NodeStatus::NothingToBuild(why) => format!("(nothing to build: {why})"),
            NodeStatus::Unknown => "(not classified)".to_string(),
            NodeStatus::NotBuilt => "**not built** (PLN003)".to_string(),
        };
        s.push_str(&format!("| `{}` | `{}` | {becomes} |\n", c.id, c.kind_id().unwrap_or("?")));
    }
    s.push_str("\n| arrow | meaning | becomes |\n|---|---|---|\n");
    for (e, status) in &plan.coverage.edges {
        let (a, b) = graph.endpoints(*e);
        let conn = graph.connection(*e);
        let arrow = match conn.style {
            model::Style::Solid => "-->",
            model::Style::Dotted => "-.->",
            model::Style::Invisible => "~~~",
        };
        let becomes = match status {
            EdgeStatus::Built(list) => list.join("<br>"),
            EdgeStatus::NothingToBuild(why) => format!("(nothing to build: {why})"),
            EdgeStatus::CoveredBy(node) => format!("(not built: see `{node}`)"),
            EdgeStatus::NotBuilt => "**not built** (PLN004)".to_string(),
        };
        s.push_str(&format!(
            "| `{} {arrow} {}` | {} | {becomes} |\n",
            graph.component(a).id,
            graph.component(b).id,
            conn.meaning
        ));
    }
    let (built, nothing, reported) = plan.coverage.counts();
    let edges_built = plan.coverage.edges.iter().filter(|(_, s)| matches!(s, EdgeStatus::Built(_))).count();
    let edges_reported = plan
        .coverage
        .edges
        .iter()
        .filter(|(_, s)| matches!(s, EdgeStatus::NotBuilt | EdgeStatus::CoveredBy(_)))
        .count();
    s.push_str(&format!(
        "\nnodes: {built} built, {nothing} with nothing to build, {reported} reported as not built; arrows: {edges_built} built, {} with nothing to build, {edges_reported} reported\n",
        plan.coverage.edges.len() - edges_built - edges_reported
    ));
    s
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
    let is_stdin = args.input.file.as_os_str() == "-";
    let options = WriteOptions { input: (!is_stdin).then(|| args.input.file.clone()), force: args.force };
    if let Err(e) = emit::write_atomically(&args.out, &files, &options) {
        err(&format!("error: {e}\n"));
        if let Some(help) = e.help() {
            err(&format!("  help: {help}\n"));
        }
        err("nothing was written\n");
        return EXIT_FAILURE;
    }
    if args.summary {
        if let Err(code) = out(&table(&analysis, &plan)) {
            return code;
        }
    }
    let stacks: Vec<&str> = plan.stacks.iter().map(|s| s.id.as_str()).collect();
    err(&format!(
        "wrote {} files to {} (stacks: {}; {} Kubernetes objects{})\n",
        files.len() + 1,
        args.out.display(),
        stacks.join(", "),
        plan.kubernetes.objects.len(),
        if plan.workflow.is_some() { "; a CI workflow" } else { "" }
    ));
    EXIT_OK
}

/// `archc plan FILE`
pub(crate) fn plan(args: &PlanArgs) -> i32 {
    let (analysis, plan) = match analyse_and_plan(&args.input, &args.rules) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(graph) = &analysis.graph else { return EXIT_ERRORS };
    let text = match args.format {
        ListFormat::Json => {
            let components = plan.components(graph);
            let files = emit::files(&plan, &components);
            files.get("plan.json").cloned().unwrap_or_default()
        }
        ListFormat::Markdown | ListFormat::Text => table(&analysis, &plan),
    };
    match out(&text) {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}
