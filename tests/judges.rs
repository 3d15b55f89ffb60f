//! The tools archc's users already trust, run for real on the compiled seed and every
//! architecture fixture: cfn-lint, checkov (CloudFormation, Kubernetes, GitHub Actions),
//! kubernetes-validate --strict, actionlint. They are installed by `scripts/install-tools`
//! (which `scripts/test` runs); a missing judge fails the test, it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::test::{root, Test};

/// The Kubernetes version archc targets (and validates against).
pub(crate) const KUBERNETES_VERSION: &str = "1.35.0";

/// The architectures that must compile clean.
pub(crate) fn architectures() -> Vec<String> {
    let mut list = vec!["examples/architecture.md".to_string()];
    let mut more: Vec<String> = std::fs::read_dir(root().join("fixtures/architectures"))
        .expect("fixtures/architectures")
        .filter_map(Result::ok)
        .map(|e| format!("fixtures/architectures/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".md"))
        .collect();
    more.sort();
    list.extend(more);
    list
}

/// A judge's executable, from `scripts/install-tools`' venv.
pub(crate) fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("ARCHC_TOOLS_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(".cache/archc-tools/venv/bin")
    });
    let path = dir.join(name);
    assert!(
        path.exists(),
        "judge `{name}` is not installed at {}: run `scripts/install-tools` (scripts/test does)",
        path.display()
    );
    path
}

/// Compile every architecture once per test run into `<tmp>/<name>/`.
pub(crate) fn compiled() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = crate::test::scratch("judges");
        for arch in architectures() {
            let name = Path::new(&arch).file_stem().expect("name").to_string_lossy().into_owned();
            let out = dir.join(&name);
            Test::new().args(["compile", &arch, "-o"]).args([out.display().to_string()]).status(0);
        }
        dir
    })
}

pub(crate) fn files_under(dir: &Path, sub: &str, ext: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for arch in entries.filter_map(Result::ok) {
        let d = arch.path().join(sub);
        let Ok(files) = std::fs::read_dir(&d) else { continue };
        for f in files.filter_map(Result::ok) {
            let p = f.path();
            if p.extension().and_then(|e| e.to_str()).is_some_and(|e| ext.contains(&e)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// cfn-lint on `templates` for `regions` (comma-separated), informational checks included:
/// fails the test on any finding.
pub(crate) fn assert_cfn_lint_clean(regions: &str, templates: &[PathBuf]) {
    let (code, out, err) = run(Command::new(tool("cfn-lint"))
        .args(["--regions", regions, "--format", "parseable", "--include-checks", "I", "--"])
        .args(templates));
    assert!(code == 0 && out.is_empty() && err.is_empty(), "cfn-lint:\n{out}{err}");
}

/// checkov's CloudFormation checks on `target` (`-d` a directory, `-f` a file): fails the test
/// on a failed check; returns the report.
pub(crate) fn assert_checkov_clean(flag: &str, target: &Path) -> Value {
    let (_, out, _) = run(Command::new(tool("checkov")).arg(flag).arg(target).args([
        "--framework",
        "cloudformation",
        "--compact",
        "-o",
        "json",
        "--skip-download",
        "--quiet",
    ]));
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("checkov output ({e})"));
    assert_eq!(report["summary"]["failed"], 0, "checkov: {}", report["results"]["failed_checks"]);
    report
}

pub(crate) fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each template with the region it is deployed to: the stack's fixed region in `plan.json`
/// (the certificate stack's us-east-1), else the architecture's.
fn templates_by_region() -> std::collections::BTreeMap<String, Vec<PathBuf>> {
    templates_by_region_in(compiled())
}

/// [`templates_by_region`] for the architectures compiled under `compiled` (`<compiled>/<name>/`).
pub(crate) fn templates_by_region_in(compiled: &Path) -> std::collections::BTreeMap<String, Vec<PathBuf>> {
    let mut out: std::collections::BTreeMap<String, Vec<PathBuf>> = std::collections::BTreeMap::new();
    for template in files_under(compiled, "cloudformation", &["yaml"]) {
        let dir = template.parent().and_then(Path::parent).expect("<arch>/cloudformation/<stack>.yaml");
        let plan: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).expect("plan.json")).expect("json");
        let stem = template.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let stack = plan["stacks"].as_array().into_iter().flatten().find(|s| s["id"] == stem);
        let region = stack
            .and_then(|s| s["region"].as_str())
            .or_else(|| plan["region"].as_str())
            .unwrap_or("eu-north-1")
            .to_string();
        out.entry(region).or_default().push(template);
    }
    out
}

#[test]
fn cfn_lint_is_clean() {
    let groups = templates_by_region();
    assert!(!groups.is_empty(), "no templates compiled");
    assert!(groups.contains_key("us-east-1"), "a certificate stack is linted in us-east-1");
    for (region, templates) in groups {
        let (status, stdout, stderr) = run(Command::new(tool("cfn-lint"))
            .args(["--regions", &region, "--format", "parseable", "--"])
            .args(&templates));
        assert_eq!((status, stdout.as_str()), (0, ""), "cfn-lint ({region}) found problems:\n{stdout}{stderr}");
    }
}

#[test]
fn checkov_finds_nothing() {
    let (status, stdout, stderr) = run(Command::new(tool("checkov")).args(["-d"]).arg(compiled()).args([
        "--framework",
        "cloudformation",
        "kubernetes",
        "github_actions",
        "--compact",
        "-o",
        "json",
        "--skip-download",
    ]));
    let doc: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("checkov output is not JSON ({e}): {stdout}{stderr}"));
    let reports = match doc {
        Value::Array(list) => list,
        other => vec![other],
    };
    let mut failed = Vec::new();
    let mut passed = 0;
    for report in &reports {
        passed += report["summary"]["passed"].as_u64().unwrap_or(0);
        for f in report["results"]["failed_checks"].as_array().into_iter().flatten() {
            failed.push(format!(
                "{} {} {} ({})",
                f["check_type"].as_str().unwrap_or(""),
                f["check_id"],
                f["resource"],
                f["file_path"]
            ));
        }
        assert_eq!(
            report["summary"]["parsing_errors"].as_u64().unwrap_or(0),
            0,
            "checkov could not parse a file: {report}"
        );
    }
    assert!(failed.is_empty(), "checkov: {} failed checks (status {status}):\n{}", failed.len(), failed.join("\n"));
    assert!(passed > 0, "checkov checked nothing");
}

#[test]
fn kubernetes_validate_strict_is_clean() {
    let manifests = files_under(compiled(), "kubernetes", &["yaml"]);
    if manifests.is_empty() {
        return;
    }
    let (status, stdout, stderr) =
        run(Command::new(tool("kubernetes-validate")).args(["--strict", "-k", KUBERNETES_VERSION]).args(&manifests));
    let text = format!("{stdout}{stderr}");
    assert_eq!(status, 0, "kubernetes-validate failed:\n{text}");
    // an unknown kind is only a warning to kubernetes-validate; archc treats it as an error
    assert!(!text.contains("WARN") && !text.contains("ERROR"), "kubernetes-validate:\n{text}");
}

#[test]
fn actionlint_is_clean() {
    let workflows = files_under(compiled(), ".github/workflows", &["yml", "yaml"]);
    if workflows.is_empty() {
        return;
    }
    let shellcheck_dir = tool("shellcheck").parent().map(Path::to_path_buf).unwrap_or_default();
    let path = format!("{}:{}", shellcheck_dir.display(), std::env::var("PATH").unwrap_or_default());
    let (status, stdout, stderr) =
        run(Command::new(tool("actionlint")).env("PATH", path).arg("-no-color").args(&workflows));
    assert_eq!(status, 0, "actionlint:\n{stdout}{stderr}");
}
