//! The command line as a user meets it: exit codes, formats, positions, messages.

use serde_json::Value;

use crate::test::Test;

#[test]
fn seed_checks_clean() {
    let run = Test::new().args(["check", "examples/architecture.md"]).status(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn restyled_seed_parses() {
    Test::new().args(["check", "fixtures/architectures/mattermost-restyled.md"]).status(0);
}

#[test]
fn unclosed_bracket_is_reported_at_its_line_with_a_snippet_and_a_hint() {
    let run = Test::new().args(["check", "fixtures/syntax/unclosed-bracket.md"]).status(1);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn unclosed_bracket_as_json() {
    let run = Test::new().args(["check", "--format", "json", "fixtures/syntax/unclosed-bracket.md"]).status(1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "SYN002");
    assert_eq!(d["line"], 28);
    assert_eq!(d["column"], 12);
    assert!(d["help"].as_str().is_some_and(|h| h.contains("close the label")));
}

#[test]
fn github_annotations() {
    let run = Test::new().args(["check", "--format", "github", "fixtures/syntax/unclosed-bracket.md"]).status(1);
    assert!(
        run.stdout.starts_with("::error file=fixtures/syntax/unclosed-bracket.md,line=28,col=12,"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("title=SYN002::"));
}

#[test]
fn graph_mermaid_json_of_the_seed() {
    let run = Test::new().args(["graph", "--format", "mermaid-json", "examples/architecture.md"]).status(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["vertices"].as_array().map(Vec::len), Some(17));
    assert_eq!(doc["edges"].as_array().map(Vec::len), Some(19));
    assert_eq!(doc["subgraphs"].as_array().map(Vec::len), Some(5));
}

#[test]
fn graph_dot() {
    let run = Test::new().args(["graph", "--format", "dot", "examples/architecture.md"]).status(0);
    assert!(run.stdout.starts_with("digraph flowchart {"));
    assert!(run.stdout.contains("\"user\" -> \"alb\""));
}

#[test]
fn mermaid_from_stdin() {
    let run = Test::new()
        .args(["graph", "--format", "mermaid-json", "--input", "mermaid", "-"])
        .stdin("flowchart LR\n  a --> b\n")
        .status(0);
    assert!(run.stdout.contains("\"L_a_b_0\""));
}

#[test]
fn markdown_from_stdin() {
    Test::new().args(["check", "-"]).stdin("# x\n\n```mermaid\nflowchart LR\n  a --> b\n```\n").status(0);
}

#[test]
fn usage_errors_exit_2() {
    Test::new().args(["check"]).status(2);
    Test::new().args(["frobnicate"]).status(2);
    let run = Test::new().args(["check", "no/such/file.md"]).status(2);
    assert!(run.stderr.contains("cannot read `no/such/file.md`"));
}

#[test]
fn several_flowcharts_need_a_choice() {
    let md = "# One\n\n```mermaid\nflowchart LR\n  a --> b\n```\n\n# Two\n\n```mermaid\nflowchart LR\n  c --> d\n```\n";
    let run = Test::new().args(["check", "-"]).stdin(md).status(1);
    assert!(run.stderr.contains("SYN004"), "{}", run.stderr);
    assert!(run.stderr.contains("#1 \"One\""), "{}", run.stderr);
    let run = Test::new().args(["graph", "--format", "mermaid-json", "--diagram", "Two", "-"]).stdin(md).status(0);
    assert!(run.stdout.contains("\"c\""));
    let run = Test::new().args(["graph", "--format", "mermaid-json", "--diagram", "1", "-"]).stdin(md).status(0);
    assert!(run.stdout.contains("\"a\""));
    let run = Test::new().args(["check", "--diagram", "Three", "-"]).stdin(md).status(1);
    assert!(run.stderr.contains("SYN012"), "{}", run.stderr);
}

#[test]
fn a_sequence_diagram_is_not_a_flowchart() {
    let run = Test::new().args(["check", "--input", "mermaid", "-"]).stdin("sequenceDiagram\n  A->>B: hi\n").status(1);
    assert!(run.stderr.contains("SYN005"), "{}", run.stderr);
}

#[test]
fn markdown_without_a_diagram() {
    let run = Test::new().args(["check", "-"]).stdin("# nothing here\n").status(1);
    assert!(run.stderr.contains("SYN003"));
}

#[test]
fn invalid_utf8_is_a_diagnostic() {
    let mut bytes = b"```mermaid\nflowchart LR\n  a[caf".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b"] --> b\n```\n");
    let run = Test::new().args(["check", "--format", "json", "-"]).stdin(bytes).status(1);
    assert!(run.stdout.contains("\"SYN001\""), "{}", run.stdout);
    assert!(run.stdout.contains("\"line\": 3"), "{}", run.stdout);
}

#[test]
fn unknown_shape_suggests_the_closest() {
    let run = Test::new()
        .args(["check", "--input", "mermaid", "-"])
        .stdin("flowchart LR\n  a@{ shape: cylindr }\n")
        .status(1);
    assert!(run.stderr.contains("SYN006"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `cylinder`?"), "{}", run.stderr);
}

#[test]
fn link_style_out_of_range() {
    let run = Test::new()
        .args(["check", "--input", "mermaid", "-"])
        .stdin("flowchart LR\n  a --> b\n  linkStyle 3 stroke:#f00\n")
        .status(1);
    assert!(run.stderr.contains("SYN008"), "{}", run.stderr);
    assert!(run.stderr.contains(":3:13"), "{}", run.stderr);
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let src = "flowchart LR\n%%{init: {'theme': }}%%\n  a --> b\n";
    let run = Test::new().args(["check", "--input", "mermaid", "-"]).stdin(src).status(0);
    assert!(run.stderr.contains("SYN011"), "{}", run.stderr);
    Test::new().args(["check", "--deny-warnings", "--input", "mermaid", "-"]).stdin(src).status(1);
}
