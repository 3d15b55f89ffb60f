//! archc on real diagrams: `fixtures/wild/`, Mermaid architecture diagrams from public
//! repositories (copied where the licence allows, written in their style otherwise), each
//! with the kinds an AWS engineer reads in it and the errors a reviewer would raise
//! (`<slug>.expect.yaml`). The test prints agreement per diagram and in total, and holds
//! archc to the bar: 95% of boxes get the expected kind, at most one false error per
//! ten diagrams, every Azure/GCP diagram gets its one finding and no AWS kind.

use std::collections::BTreeMap;

use archc::analysis::Options;
use archc::compilation;
use archc::diagnostic::Severity;
use archc::source::{InputKind, SourceFile};
use serde_yaml::Value;

use crate::test::root;

/// The kind names of the expected files that archc spells differently.
fn archc_kind(expected: &str) -> &str {
    match expected {
        "other" => "app.component",
        k => k,
    }
}

/// What archc made of one diagram.
pub(crate) struct Outcome {
    pub(crate) cloud: String,
    pub(crate) boxes: usize,
    pub(crate) agree: usize,
    pub(crate) mismatches: Vec<String>,
    pub(crate) false_errors: Vec<String>,
    pub(crate) missed: Vec<String>,
    pub(crate) other_cloud_finding: bool,
    pub(crate) aws_kinds: Vec<String>,
    pub(crate) parses: bool,
    pub(crate) mermaid_fails: bool,
}

pub(crate) fn diagrams() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("fixtures/wild"))
        .expect("fixtures/wild")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".expect.yaml").map(str::to_string))
        .collect();
    out.sort();
    out
}

pub(crate) fn run(slug: &str) -> Outcome {
    let dir = root().join("fixtures/wild");
    let text = std::fs::read_to_string(dir.join(format!("{slug}.md"))).expect("diagram");
    let expect: Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join(format!("{slug}.expect.yaml"))).expect("expect"))
            .expect("expect yaml");
    let cloud = expect["cloud"].as_str().unwrap_or("").to_string();
    let mermaid_fails = expect.get("mermaid").and_then(Value::as_str).is_some_and(|m| m.starts_with("fails"))
        || std::fs::read_to_string(dir.join(format!("{slug}.expect.yaml"))).is_ok_and(|t| t.contains("mermaid: fails"));
    let file = SourceFile::new(format!("fixtures/wild/{slug}.md"), text, InputKind::Markdown);
    let result = compilation::compile(file, None, &Options::default());
    let analysis = &result.analysis;
    let mut outcome = Outcome {
        cloud: cloud.clone(),
        boxes: 0,
        agree: 0,
        mismatches: Vec::new(),
        false_errors: Vec::new(),
        missed: Vec::new(),
        other_cloud_finding: false,
        aws_kinds: Vec::new(),
        parses: analysis.graph.is_some(),
        mermaid_fails,
    };
    let Some(graph) = &analysis.graph else { return outcome };
    let kinds = expect["kinds"].as_mapping().cloned().unwrap_or_default();
    for (id, want) in &kinds {
        let (Some(id), Some(want)) =
            (id.as_str().map(str::to_string).or_else(|| id.as_i64().map(|i| i.to_string())), want.as_str())
        else {
            continue;
        };
        outcome.boxes += 1;
        let got = graph.node(&id).and_then(|n| graph.component(n).kind_id()).unwrap_or("(none)");
        if got == archc_kind(want) {
            outcome.agree += 1;
        } else {
            let label = graph.node(&id).map(|n| graph.component(n).label.clone()).unwrap_or_default();
            outcome.mismatches.push(format!("{id} \"{label}\": want {want}, got {got}"));
        }
        if got.starts_with("aws.") {
            outcome.aws_kinds.push(format!("{id}={got}"));
        }
    }
    // errors: each expected finding's code accounts for one archc error of that code
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for f in expect["findings"].as_sequence().into_iter().flatten() {
        *expected.entry(f["code"].as_str().unwrap_or("OTHER").to_string()).or_default() += 1;
    }
    let file = &analysis.files[0];
    for d in &analysis.diagnostics {
        if d.code == "GRF009" {
            outcome.other_cloud_finding = true;
        }
        if d.severity != Severity::Error {
            continue;
        }
        match expected.get_mut(d.code) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                let line = file.line_col(d.primary_span().unwrap_or_default().start).line;
                outcome.false_errors.push(format!("{} line {line}: {}", d.code, d.message));
            }
        }
    }
    for (code, n) in expected {
        if code != "OTHER" && n > 0 {
            outcome.missed.push(format!("{code} x{n}"));
        }
    }
    outcome
}

/// The corpus totals, printed; the bars of the issue asserted.
#[test]
fn real_diagrams_are_understood() {
    let mut boxes = 0;
    let mut agree = 0;
    let mut false_errors = 0;
    let mut count = 0;
    let mut report = String::from("| diagram | cloud | kinds right | false errors |\n|---|---|---|---|\n");
    let mut problems = Vec::new();
    let mut other_cloud = (0, 0);
    for slug in diagrams() {
        let o = run(&slug);
        if o.mermaid_fails {
            assert!(!o.parses, "{slug}: Mermaid refuses this diagram, archc must too");
            continue;
        }
        assert!(o.parses, "{slug}: Mermaid parses this diagram, archc must too");
        count += 1;
        boxes += o.boxes;
        agree += o.agree;
        false_errors += o.false_errors.len();
        report.push_str(&format!("| {slug} | {} | {}/{} | {} |\n", o.cloud, o.agree, o.boxes, o.false_errors.len()));
        if o.cloud == "azure" || o.cloud == "gcp" {
            other_cloud.0 += 1;
            if o.other_cloud_finding && o.aws_kinds.is_empty() {
                other_cloud.1 += 1;
            } else {
                problems.push(format!(
                    "{slug}: {} cloud: finding {}, AWS kinds {:?}",
                    o.cloud, o.other_cloud_finding, o.aws_kinds
                ));
            }
        }
        for m in &o.mismatches {
            problems.push(format!("{slug}: {m}"));
        }
        for e in &o.false_errors {
            problems.push(format!("{slug}: false error {e}"));
        }
        for m in &o.missed {
            problems.push(format!("{slug}: missed {m}"));
        }
    }
    let share = agree as f64 * 100.0 / boxes.max(1) as f64;
    println!("{report}");
    println!("{}", problems.join("\n"));
    println!(
        "\nwild corpus: {count} diagrams, {agree}/{boxes} boxes with the expected kind ({share:.1}%), {false_errors} false errors, {}/{} Azure/GCP diagrams named as such",
        other_cloud.1, other_cloud.0
    );
    assert!(share >= 95.0, "{share:.1}% of boxes get the expected kind (at least 95%)");
    assert!(false_errors * 10 <= count, "{false_errors} false errors on {count} diagrams");
    assert_eq!(other_cloud.1, other_cloud.0, "every Azure/GCP diagram gets its finding and no AWS kind");
}
