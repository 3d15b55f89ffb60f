//! The rule catalog against its fixtures: every rule has `fixtures/rules/<family>/<name>.md`
//! with a failing diagram (`## Fails`) and a passing one (`## Passes`). `%% expect: CODE`
//! on its own line says the next statement's line gets that diagnostic; the set of
//! (code, line) archc reports must equal the set of markers, block by block. The rendered
//! output is snapshotted on top, so a snapshot update cannot hide a lost diagnostic.

use std::collections::BTreeSet;

use archc::analysis::{self, Options};
use archc::diagnostic::{render, Format};
use archc::rules::RULES;
use archc::source::{extract_blocks, InputKind, SourceFile};

use crate::test::root;

/// (code, line) markers of one block: `%% expect: A, B` applies to the next line that is not
/// a marker.
fn markers(block_text: &str, first_line: usize) -> BTreeSet<(String, usize)> {
    let mut out = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    for (i, line) in block_text.lines().enumerate() {
        let t = line.trim();
        if let Some(codes) = t.strip_prefix("%%").map(str::trim).and_then(|r| r.strip_prefix("expect:")) {
            pending.extend(codes.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        for code in pending.drain(..) {
            out.insert((code, first_line + i));
        }
    }
    out
}

/// Check every mermaid block of a fixture; returns the rendered diagnostics.
fn check_fixture(rel: &str) -> Result<String, String> {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
    let doc = extract_blocks(&text);
    let mut rendered = String::new();
    let mut problems = Vec::new();
    let blocks: Vec<_> = doc.blocks.iter().filter(|b| b.is_mermaid()).collect();
    if blocks.is_empty() {
        return Err(format!("{rel}: no mermaid block"));
    }
    for (number, block) in blocks.into_iter().enumerate() {
        let file = SourceFile::new(rel, text.clone(), InputKind::Markdown);
        let first_line = file.line_col(block.content.source_offset(0)).line;
        let expected = markers(block.content.as_str(), first_line);
        let options = Options { diagram: Some((number + 1).to_string()), ..Options::default() };
        let result = analysis::analyze(file, None, &options);
        let got: BTreeSet<(String, usize)> = result
            .diagnostics
            .iter()
            .map(|d| {
                (
                    d.code.to_string(),
                    result.files[usize::from(d.file)].line_col(d.primary_span().unwrap_or_default().start).line,
                )
            })
            .collect();
        if got != expected {
            problems.push(format!(
                "{rel} block #{} ({}):\n  expected {expected:?}\n  got      {got:?}\n{}",
                block.index + 1,
                block.heading.as_deref().unwrap_or(""),
                render(Format::Human, &result.files, &result.diagnostics, false, 100)
            ));
        }
        rendered.push_str(&format!("## block {} ({})\n", block.index + 1, block.heading.as_deref().unwrap_or("")));
        rendered.push_str(&render(Format::Human, &result.files, &result.diagnostics, false, 100));
    }
    if problems.is_empty() {
        Ok(rendered)
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let mut problems = Vec::new();
    for rule in RULES {
        let rel = rule.fixture();
        let text = match std::fs::read_to_string(root().join(&rel)) {
            Ok(t) => t,
            Err(_) => {
                problems.push(format!("{}: missing {rel}", rule.code));
                continue;
            }
        };
        if !text.contains("## Fails") || !text.contains("## Passes") {
            problems.push(format!("{rel}: needs `## Fails` and `## Passes` sections"));
        }
        let doc = extract_blocks(&text);
        let fails = doc.blocks.iter().filter(|b| b.is_mermaid() && b.heading.as_deref() == Some("Fails")).count();
        let passes = doc.blocks.iter().filter(|b| b.is_mermaid() && b.heading.as_deref() == Some("Passes")).count();
        if fails == 0 || passes == 0 {
            problems.push(format!("{rel}: a mermaid block under each of `## Fails` and `## Passes`"));
        }
        let expects_rule = text.lines().any(|l| l.trim().starts_with("%% expect:") && l.contains(rule.code));
        if !expects_rule {
            problems.push(format!("{rel}: the failing diagram must expect {}", rule.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rule_fixtures_report_exactly_what_they_expect() {
    let mut problems = Vec::new();
    for rule in RULES {
        match check_fixture(&rule.fixture()) {
            Ok(rendered) => insta::assert_snapshot!(format!("rule-{}", rule.code), rendered),
            Err(e) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn seed_variants_are_refused_at_the_offending_line() {
    let dir = root().join("fixtures/seed-variants");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/seed-variants")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let mut problems = Vec::new();
    for name in names {
        let rel = format!("fixtures/seed-variants/{}", name.to_string_lossy());
        let run = crate::test::Test::new().args(["check", "--format", "json", &rel]).run();
        if run.status != 1 {
            problems.push(format!("{rel}: exit {} (expected 1)", run.status));
        }
        match check_fixture(&rel) {
            Ok(rendered) => insta::assert_snapshot!(format!("seed-variant-{}", name.to_string_lossy()), rendered),
            Err(e) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn architectures_report_exactly_what_they_expect() {
    for rel in ["fixtures/architectures/mattermost-restyled.md", "fixtures/architectures/gitea-us-west-2.md"] {
        match check_fixture(rel) {
            Ok(rendered) => {
                insta::assert_snapshot!(format!("architecture-{}", rel.rsplit('/').next().unwrap_or(rel)), rendered)
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// The seed has no errors; its diagnostics are exactly the conflicts the reference spec
/// lists (section 0, C1..C5), each with a help line.
#[test]
fn seed_reports_exactly_the_reference_conflicts() {
    let run = crate::test::Test::new().args(["check", "--format", "json", "examples/architecture.md"]).status(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let got: BTreeSet<(String, u64, String)> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64, String)> = [
        ("SEC001", 22, "warning"), // C5 public EKS API endpoint
        ("K8S001", 36, "info"),    // C1 ClusterIP Service behind the ALB
        ("APP002", 37, "warning"), // C3 several Mattermost pods
        ("APP001", 60, "warning"), // C2 Redis with Team Edition
        ("APP003", 62, "info"),    // C4 S3 and EFS as file stores
        ("PLN007", 37, "info"),    // no mail server configured: email is off
        ("PLN003", 43, "info"),    // C2 again: the cache Team Edition cannot use is not built
    ]
    .into_iter()
    .map(|(c, l, s)| (c.to_string(), l, s.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(doc["errors"], 0);
    assert!(doc["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .all(|d| d["help"].as_str().is_some_and(|h| !h.is_empty())));
}
