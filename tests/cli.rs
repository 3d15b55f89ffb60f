//! The command line as a user meets it: exit codes, formats, positions, messages.

use serde_json::Value;

use crate::test::Test;

#[test]
fn seed_checks_without_errors() {
    let run = Test::new().args(["check", "examples/architecture.md"]).status(0);
    assert!(run.stderr.ends_with("examples/architecture.md: 3 warnings, 4 infos\n"), "{}", run.stderr);
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
    let run = Test::new()
        .args(["graph", "--format", "mermaid-json", "-"])
        .stdin("# x\n\n```mermaid\nflowchart LR\n  a --> b\n```\n")
        .status(0);
    assert!(run.stdout.contains("\"L_a_b_0\""));
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
    // naming no diagram is a usage error (status 2), as is a number past the last diagram
    let run = Test::new().args(["check", "--diagram", "Three", "-"]).stdin(md).status(2);
    assert!(run.stderr.contains("SYN012"), "{}", run.stderr);
    let run = Test::new().args(["check", "--diagram", "9", "-"]).stdin(md).status(2);
    assert!(run.stderr.contains("SYN012") && run.stderr.contains("#2 \"Two\""), "{}", run.stderr);
    // `--diagram N` counts diagrams, not every fenced block
    let with_yaml = md.replace("# Two\n", "# Two\n\n```yaml archc\nregion: eu-north-1\n```\n");
    let run = Test::new().args(["graph", "--format", "mermaid-json", "--diagram", "2", "-"]).stdin(with_yaml).status(0);
    assert!(run.stdout.contains("\"c\""), "{}", run.stdout);
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
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    let src = seed.replace("flowchart TB", "%%{init: {'theme': }}%%\nflowchart TB");
    let run = Test::new().args(["check", "-"]).stdin(src.clone()).status(0);
    assert!(run.stderr.contains("SYN011"), "{}", run.stderr);
    Test::new().args(["check", "--deny-warnings", "-"]).stdin(src).status(1);
}

#[test]
fn explain_prints_a_rules_documentation() {
    let run = Test::new().args(["explain", "NET001"]).status(0);
    assert!(run.stdout.starts_with("# nat-gateway-in-private-subnet (NET001)"), "{}", run.stdout);
    for heading in ["## What it does", "## Why is this bad?", "## Example", "```mermaid"] {
        assert!(run.stdout.contains(heading), "{heading}");
    }
    Test::new().args(["explain", "nat-gateway-in-private-subnet"]).status(0);
    Test::new().args(["explain", "SYN002"]).status(0);
    let run = Test::new().args(["explain", "XYZ999"]).status(2);
    assert!(run.stderr.contains("no rule or diagnostic code `XYZ999`"));
}

#[test]
fn rules_and_kinds_are_listed() {
    let run = Test::new().args(["rules"]).status(0);
    assert_eq!(run.stdout.lines().count(), archc::rules::RULES.len());
    let run = Test::new().args(["rules", "--format", "json"]).status(0);
    let list: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(archc::rules::RULES.len()));
    let run = Test::new().args(["kinds"]).status(0);
    assert!(run.stdout.contains("aws.nat-gateway"));
}

#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string(crate::test::root().join("README.md")).expect("README");
    let start = readme.find("<!-- rules:start -->").expect("rules:start marker") + "<!-- rules:start -->\n".len();
    let end = readme.find("<!-- rules:end -->").expect("rules:end marker");
    assert_eq!(
        &readme[start..end],
        archc::rules::markdown_table(),
        "run `archc rules --format markdown` and paste it into README.md"
    );
}

#[test]
fn rules_can_be_turned_off_and_downgraded_by_prefix() {
    let run = Test::new()
        .args([
            "check",
            "--ignore",
            "APP,K8S",
            "--ignore",
            "SEC001",
            "--ignore",
            "PLN003,PLN007",
            "examples/architecture.md",
        ])
        .status(0);
    assert_eq!(run.stderr, "");
    // the fixture's workload needs an image to plan (check runs the planner too)
    let fixture =
        std::fs::read_to_string(crate::test::root().join("fixtures/rules/net/nat-gateway-in-private-subnet.md"))
            .expect("fixture")
            + "\n```yaml archc\napp: {image: nginx:1.27, port: 8080, health_path: /}\n```\n";
    Test::new().args(["check", "--diagram", "1", "-"]).stdin(fixture.clone()).status(1);
    let run = Test::new().args(["check", "--diagram", "1", "--warn", "NET", "-"]).stdin(fixture.clone()).status(0);
    assert!(run.stderr.contains("NET001"));
    Test::new().args(["check", "--diagram", "1", "--warn", "NET", "--error", "NET001", "-"]).stdin(fixture).status(1);
}

#[test]
fn in_file_ignores() {
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    let one =
        seed.replace("        mm[Mattermost Pods]", "        %% archc: ignore APP002\n        mm[Mattermost Pods]");
    let run = Test::new().args(["check", "--format", "json", "-"]).stdin(one).status(0);
    assert!(!run.stdout.contains("APP002") && run.stdout.contains("APP001"), "{}", run.stdout);
    let all = format!("<!-- archc: ignore APP, SEC001 -->\n{seed}");
    let run = Test::new().args(["check", "--format", "json", "-"]).stdin(all).status(0);
    assert!(
        !run.stdout.contains("\"APP") && !run.stdout.contains("SEC001") && run.stdout.contains("K8S001"),
        "{}",
        run.stdout
    );
}

#[test]
fn configuration_mistakes_are_located_with_suggestions() {
    let run = Test::new().args(["check", "--format", "json", "fixtures/config/invalid-keys.md"]).status(1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let found: Vec<(String, u64, String)> = doc["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").into(),
                d["line"].as_u64().unwrap_or(0),
                d["help"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let has =
        |code: &str, line: u64, help: &str| found.iter().any(|(c, l, h)| c == code && *l == line && h.contains(help));
    assert!(has("CFG001", 30, "did you mean `availability_zones`?"), "{found:?}");
    assert!(has("CFG002", 31, "one of: `per-az`, `single`"), "{found:?}");
    assert!(has("CFG002", 33, "CIDR"), "{found:?}");
    assert!(has("CFG003", 35, "did you mean `rds`?"), "{found:?}");
    assert!(has("CFG004", 36, "did you mean `aws.rds`?"), "{found:?}");
}

#[test]
fn archc_yaml_beside_the_file_is_read() {
    let dir = crate::test::scratch("yaml-beside");
    std::fs::copy(crate::test::root().join("examples/architecture.md"), dir.join("architecture.md")).expect("copy");
    std::fs::write(
        dir.join("archc.yaml"),
        "app:\n  edition: enterprise\n  replicas: 2\neks:\n  public_access_cidr: [203.0.113.0/24]\n",
    )
    .expect("write");
    let run = Test::new()
        .args(["check", "--format", "json"])
        .args([dir.join("architecture.md").display().to_string()])
        .status(1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let codes: Vec<&str> =
        doc["diagnostics"].as_array().expect("list").iter().filter_map(|d| d["code"].as_str()).collect();
    // enterprise: no Redis or replica conflicts; the typo in archc.yaml is reported there
    assert!(!codes.contains(&"APP001") && !codes.contains(&"APP002"), "{codes:?}");
    let cfg = doc["diagnostics"].as_array().expect("list").iter().find(|d| d["code"] == "CFG001").expect("CFG001");
    assert!(cfg["file"].as_str().is_some_and(|f| f.ends_with("archc.yaml")), "{cfg}");
    assert_eq!(cfg["line"], 5);
    assert_eq!(cfg["help"], "did you mean `public_access_cidrs`?");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn typed_graph_of_the_seed() {
    let run = Test::new().args(["graph", "--format", "json", "examples/architecture.md"]).status(0);
    insta::assert_snapshot!(run.stdout);
}

/// Versions past (or near) the end of their standard support get PLN006 at the configuration
/// key that sets them; archc's defaults get none on the day its data was read.
#[test]
fn versions_out_of_standard_support_are_found_at_their_configuration_key() {
    let seed = std::fs::read_to_string(crate::test::root().join("examples/architecture.md")).expect("seed");
    let config = "\n```yaml archc\neks:\n  version: \"1.33\"\ndatabase:\n  engine_version: \"16.4\"\napp:\n  version: \"10.11.4\"\n```\n";
    let run = Test::new()
        .args(["check", "--format", "json", "-"])
        .env("ARCHC_TODAY", "2026-12-04")
        .stdin(format!("{seed}{config}"))
        .status(0);
    let found: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let pln006: Vec<&serde_json::Value> =
        found["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["code"] == "PLN006").collect();
    let messages: Vec<&str> = pln006.iter().filter_map(|d| d["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            "Kubernetes on Amazon EKS 1.33 left standard support on 2026-07-29",
            "Mattermost Server (Extended Support Releases) 10.11.4 left standard support on 2026-08-15",
        ],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("set `eks.version` to a version in standard support"), "{}", run.stdout);
    // within 60 days of the end: still a finding
    let soon = Test::new()
        .args(["check", "--format", "json", "-"])
        .env("ARCHC_TODAY", "2027-02-01")
        .stdin(seed.clone())
        .status(0);
    assert!(
        soon.stdout.contains("Kubernetes on Amazon EKS 1.35 leaves standard support on 2027-03-27"),
        "{}",
        soon.stdout
    );
    assert!(soon.stdout.contains("archc's version data"), "{}", soon.stdout);
    let today = Test::new()
        .args(["check", "--format", "json", "-"])
        .env("ARCHC_TODAY", "2026-12-04")
        .stdin(seed.clone())
        .status(0);
    assert!(!today.stdout.contains("PLN006"), "{}", today.stdout);
    // a version written in the label is the one built: checked too, at the box
    let written = Test::new()
        .args(["check", "--format", "json", "-"])
        .env("ARCHC_TODAY", "2026-12-04")
        .stdin(seed.replace("rds[(RDS PostgreSQL)]", "rds[(RDS PostgreSQL 13)]"))
        .status(0);
    let found: serde_json::Value = serde_json::from_str(&written.stdout).expect("json");
    let d = found["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "PLN006")
        .unwrap_or_else(|| panic!("no PLN006 for PostgreSQL 13:\n{}", written.stdout));
    assert_eq!(d["message"], "Amazon RDS for PostgreSQL 13 left standard support on 2026-02-28");
    assert_eq!(d["line"], 42, "at the box: {d}");
    assert!(d["help"].as_str().is_some_and(|h| h.contains("in the label")), "{d}");
}
