//! archc's front end against Mermaid itself: the parser corpus scored by Mermaid's own
//! checker, and every other diagram compared with what the real Mermaid parser answered.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use archc::syntax::Mode;
use serde_json::Value;

use crate::test::{root, shared_or_vendored};

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn source_of(case: &Value) -> &str {
    case["source"].as_str().expect("source")
}

/// Differences from Mermaid 11.14.0 that archc makes on purpose (README "Mermaid
/// compatibility"): the shapes Mermaid 12 added.
const INTENDED: &[&str] = &["datastore", "data-store"];

fn intended_difference(source: &str) -> bool {
    INTENDED.iter().any(|s| source.contains(&format!("shape: {s}")))
}

/// The keys of the oracle's JSON that describe the graph.
const KEYS: &[&str] = &[
    "ok",
    "direction",
    "vertices",
    "edges",
    "subgraphs",
    "classes",
    "linkStyleDefault",
    "linkInterpolateDefault",
    "accTitle",
    "accDescr",
    "layout",
];

/// Compare archc with Mermaid's recorded answers; returns the ids that differ.
fn compare(inputs: &[Value], answers: &[Value], mode: Mode) -> Vec<String> {
    let by_id: BTreeMap<String, &Value> = answers.iter().map(|a| (a["id"].to_string(), a)).collect();
    let mut bad = Vec::new();
    for case in inputs {
        let id = case["id"].to_string();
        let mermaid = by_id.get(&id).unwrap_or_else(|| panic!("no answer for {id}"));
        let archc = archc::oracle_result(source_of(case), mode, true);
        let same = if mermaid["ok"] == Value::Bool(false) {
            archc["ok"] == Value::Bool(false)
        } else {
            KEYS.iter().all(|k| archc.get(*k) == mermaid.get(*k))
        };
        if same == intended_difference(source_of(case)) {
            bad.push(format!("{id}: {}\n  mermaid: {}\n  archc:   {}", source_of(case).escape_debug(), mermaid, archc));
        }
    }
    bad
}

#[test]
fn parser_corpus_scored_by_mermaids_checker() {
    let corpus = shared_or_vendored("conformance/mermaid/flowchart-parser.jsonl", "mermaid/flowchart-parser.jsonl");
    let cases = read_jsonl(&corpus);
    assert_eq!(cases.len(), 946);
    let dir = crate::test::scratch("corpus");
    let results = dir.join("results.jsonl");
    let mut out = String::new();
    for case in &cases {
        let mut r = archc::oracle_result(source_of(case), Mode::Raw, true);
        r["id"] = case["id"].clone();
        out.push_str(&r.to_string());
        out.push('\n');
    }
    std::fs::write(&results, out).expect("write results");
    let checker = root().join("tests/conformance/check_corpus.py");
    let output =
        Command::new("python3").arg(checker).arg(&corpus).arg(&results).output().expect("python3 runs check_corpus.py");
    let report = String::from_utf8_lossy(&output.stdout);
    let summary = report.lines().last().unwrap_or_default().to_string();
    let passed: usize = summary.split('/').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    // at least 99% is the bar; every case passes today, and a regression must show
    assert_eq!(passed, 946, "check_corpus.py: {summary}\n{report}");
}

#[test]
fn rendering_corpus_matches_mermaid() {
    let inputs = read_jsonl(&shared_or_vendored(
        "conformance/mermaid/flowchart-rendering.jsonl",
        "mermaid/flowchart-rendering.jsonl",
    ));
    assert_eq!(inputs.len(), 342);
    let answers = read_jsonl(&root().join("tests/conformance/oracle/rendering.full.out.jsonl"));
    let bad = compare(&inputs, &answers, Mode::Full);
    assert!(bad.is_empty(), "{} differences:\n{}", bad.len(), bad.join("\n"));
    // and all of them parse (the one Mermaid 11 refuses uses a Mermaid 12 shape)
    for case in &inputs {
        assert_eq!(archc::oracle_result(source_of(case), Mode::Full, false)["ok"], true, "{}", case["id"]);
    }
}

#[test]
fn syntax_probes_match_mermaid() {
    let inputs = read_jsonl(&root().join("tests/conformance/oracle/syntax-probes.jsonl"));
    for (mode, answers) in [(Mode::Raw, "syntax-probes.raw.out.jsonl"), (Mode::Full, "syntax-probes.full.out.jsonl")] {
        let answers = read_jsonl(&root().join("tests/conformance/oracle").join(answers));
        let bad = compare(&inputs, &answers, mode);
        assert!(bad.is_empty(), "{mode:?}: {} differences:\n{}", bad.len(), bad.join("\n"));
    }
}

#[test]
fn tricky_cases_match_mermaid() {
    let inputs = read_jsonl(&root().join("tests/conformance/oracle/tricky.jsonl"));
    for (mode, answers) in [(Mode::Raw, "tricky.raw.out.jsonl"), (Mode::Full, "tricky.full.out.jsonl")] {
        let answers = read_jsonl(&root().join("tests/conformance/oracle").join(answers));
        let bad = compare(&inputs, &answers, mode);
        assert!(bad.is_empty(), "{mode:?}: {} differences:\n{}", bad.len(), bad.join("\n"));
    }
}

/// Minimal repros of the differences differential fuzzing found (each fixed), with
/// Mermaid's answers in raw and full mode.
#[test]
fn fuzzing_regressions_match_mermaid() {
    let inputs = read_jsonl(&root().join("tests/conformance/oracle/regressions.jsonl"));
    assert!(inputs.len() >= 17);
    for (mode, answers) in [(Mode::Raw, "regressions.raw.out.jsonl"), (Mode::Full, "regressions.full.out.jsonl")] {
        let answers = read_jsonl(&root().join("tests/conformance/oracle").join(answers));
        let bad = compare(&inputs, &answers, mode);
        assert!(bad.is_empty(), "{mode:?}: {} differences:\n{}", bad.len(), bad.join("\n"));
    }
}

fn graph_of(path: &Path) -> Value {
    let file = archc::source::SourceFile::new(
        path.display().to_string(),
        std::fs::read_to_string(path).expect("read"),
        archc::source::InputKind::Markdown,
    );
    let result = archc::frontend::run(&file, None, Mode::Full);
    let diagram = result.diagram.expect("a diagram");
    let mut v = archc::flowchart::mermaid_json(&diagram.db, true);
    v["layout"] = archc::flowchart::layout_json(&diagram.db, "basis", true);
    v["config"] = Value::Object(diagram.parsed.preprocessed.config.clone());
    v
}

#[test]
fn seed_graph_is_mermaids() {
    let mermaid: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/conformance/oracle/architecture.out.json")).expect("read"),
    )
    .expect("json");
    let mermaid = &mermaid["results"][0];
    let archc = graph_of(&root().join("examples/architecture.md"));
    for key in ["direction", "vertices", "edges", "subgraphs", "classes", "layout", "config"] {
        assert_eq!(archc[key], mermaid[key], "{key}");
    }
    assert_eq!(
        (archc["vertices"].as_array().map(Vec::len), archc["edges"].as_array().map(Vec::len)),
        (Some(17), Some(19))
    );
    assert_eq!(archc["subgraphs"].as_array().map(Vec::len), Some(5));
}

#[test]
fn oracle_example_seed_is_mermaids() {
    let mermaid: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/conformance/oracle/seed.out.json")).expect("read"),
    )
    .expect("json");
    let mermaid = &mermaid["results"][0];
    let archc = graph_of(&root().join("tests/conformance/oracle/seed.md"));
    for key in ["direction", "vertices", "edges", "subgraphs", "classes", "layout", "config"] {
        assert_eq!(archc[key], mermaid[key], "{key}");
    }
}
