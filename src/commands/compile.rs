use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::{self, Analysis, Options};
use crate::cli::{CompileArgs, InputArgs, ListFormat, PlanArgs, RuleArgs};
use crate::diagnostic::{self, render, Format};
use crate::{emit, plan};

use super::{read_input, stderr_is_terminal, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Analyse and plan; diagnostics go to stderr. `Err` is the exit code.
fn analyse_and_plan(input: &InputArgs, rules: &RuleArgs) -> Result<(Analysis, plan::Plan), i32> {
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
    if args.check {
        return check_output(&args.out, &files);
    }
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
        match (plan.workflow.is_some(), plan.review_workflow.is_some()) {
            (true, true) => "; CI and pull-request review workflows",
            (true, false) => "; a CI workflow",
            (false, true) => "; a pull-request review workflow",
            (false, false) => "",
        }
    );
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
