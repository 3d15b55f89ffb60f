use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::{self, Analysis, Options};
use crate::cli::{CompileArgs, InputArgs, ListFormat, PlanArgs, RuleArgs};
use crate::compilation;
use crate::diagnostic::{render, Format};
use crate::emit::{self, WriteOptions};
use crate::plan::coverage::{EdgeStatus, NodeStatus};
use crate::{model, plan};

use super::{check_rule_args, err, out, read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Analyse and plan; diagnostics go to stderr. `Err` is the exit code.
pub(super) fn analyse_and_plan(input: &InputArgs, rules: &RuleArgs) -> Result<(Analysis, plan::Plan), i32> {
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
    if args.check {
        return check_output(&args.out, &files);
    }
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
        match (plan.workflow.is_some(), plan.review_workflow.is_some()) {
            (true, true) => "; CI and pull-request review workflows",
            (true, false) => "; a CI workflow",
            (false, true) => "; a pull-request review workflow",
            (false, false) => "",
        }
    ));
    EXIT_OK
}

/// The file compile writes into the output directory to record what it wrote. It counts when
/// `emit::files` produces it; otherwise it is left out of the comparison on both sides.
const MANIFEST: &str = ".archc-output";
/// Files whose differences `compile --check` prints, and lines per file.
const CHECK_FILES: usize = 5;
const CHECK_LINES: usize = 20;

/// Every file under `dir` (relative paths with `/`), hidden ones included.
fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_tree(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.insert(rel.join("/"), std::fs::read(&path)?);
        }
    }
    Ok(())
}

/// `archc compile --check -o DIR`: compare DIR with `files`, write nothing.
fn check_output(out: &Path, files: &BTreeMap<String, String>) -> i32 {
    let mut present = BTreeMap::new();
    if out.exists() {
        if !out.is_dir() {
            eprintln!("error: `{}` exists and is not a directory", out.display());
            return EXIT_FAILURE;
        }
        if let Err(e) = read_tree(out, out, &mut present) {
            eprintln!("error: cannot read `{}`: {e}", out.display());
            return EXIT_FAILURE;
        }
    }
    if !files.contains_key(MANIFEST) {
        present.remove(MANIFEST);
    }
    let mut report = Vec::new();
    for (path, want) in files {
        match present.remove(path) {
            None => report.push(("missing", path.clone(), None)),
            Some(have) if have != want.as_bytes() => {
                let have = String::from_utf8_lossy(&have).into_owned();
                let diff =
                    crate::review::files::unified(&have, want, &format!("{}/{path}", out.display()), "compile now");
                report.push(("changed", path.clone(), Some(diff)));
            }
            Some(_) => {}
        }
    }
    report.extend(present.into_keys().map(|path| ("extra", path, None)));
    if report.is_empty() {
        eprintln!("{} is up to date ({} files)", out.display(), files.len());
        return EXIT_OK;
    }
    report.sort_by(|a, b| a.1.cmp(&b.1));
    println!("{} is not what `archc compile` would write ({} files differ):", out.display(), report.len());
    for (what, path, _) in &report {
        println!("  {what:<8} {path}");
    }
    for (_, _, diff) in report.iter().filter(|r| r.2.is_some()).take(CHECK_FILES) {
        let lines: Vec<&str> = diff.as_deref().unwrap_or_default().lines().collect();
        println!();
        for l in lines.iter().take(CHECK_LINES) {
            println!("{l}");
        }
        if lines.len() > CHECK_LINES {
            println!("... {} more lines", lines.len() - CHECK_LINES);
        }
    }
    eprintln!("run `archc compile` without --check to update {}", out.display());
    EXIT_ERRORS
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
