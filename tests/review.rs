//! `archc diff`, `archc review` and `archc compile --check`: the review of a diagram change
//! as a pull request sees it. Fixture pairs live in `fixtures/review/<case>/{old,new}.md`; each
//! comment is snapshotted whole (the summary is what a reviewer reads first).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use archc::analysis::{self, Options};
use archc::review::{self, markdown, Side};
use archc::source::{InputKind, SourceFile};

use crate::test::{root, scratch, Test};

/// The fixture pairs, sorted.
fn pairs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("fixtures/review"))
        .expect("fixtures/review")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("old.md").exists() && e.path().join("new.md").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn pair(case: &str) -> (String, String) {
    (format!("fixtures/review/{case}/old.md"), format!("fixtures/review/{case}/new.md"))
}

/// A side compiled in memory, as `archc diff` does.
fn side(path: &str) -> Side {
    let file = SourceFile::from_bytes(path, std::fs::read(root().join(path)).expect("fixture"), InputKind::Markdown);
    Side::compile(file, analysis::config_file_for(&root().join(path)), &Options::default())
}

/// The summary: everything before the picture and the details.
fn summary(comment: &str) -> &str {
    let end = ["\n### Picture", "\n<details>"].iter().filter_map(|m| comment.find(m)).min().unwrap_or(comment.len());
    &comment[..end]
}

#[test]
fn every_fixture_pair_is_snapshotted() {
    let cases = pairs();
    assert!(cases.len() >= 5, "{cases:?}");
    for case in cases {
        let (old, new) = pair(&case);
        let run = Test::new().args(["diff", &old, &new]).status(0);
        assert!(run.stdout.len() <= markdown::LIMIT, "{case}: {} bytes", run.stdout.len());
        insta::assert_snapshot!(format!("review-{case}"), run.stdout);
    }
}

#[test]
fn exit_code_says_whether_the_infrastructure_changes() {
    for case in pairs() {
        let (old, new) = pair(&case);
        let want = if case == "restyle" { 0 } else { 1 };
        let run = Test::new().args(["diff", "--exit-code", &old, &new]).status(want);
        assert_eq!(run.stdout.contains("**No infrastructure change.**"), want == 0, "{case}");
    }
}

#[test]
fn the_seed_against_itself_and_a_restyled_copy_changes_nothing() {
    for other in ["examples/architecture.md", "fixtures/architectures/mattermost-restyled.md"] {
        let run = Test::new().args(["diff", "--exit-code", "examples/architecture.md", other]).status(0);
        assert!(summary(&run.stdout).contains("**No infrastructure change.**"), "{other}:\n{}", run.stdout);
        assert!(!run.stdout.contains("### Danger flags"), "{}", run.stdout);
        assert!(!run.stdout.contains("```mermaid"), "no picture without a change:\n{}", run.stdout);
        let json: Value = serde_json::from_str(
            &Test::new().args(["diff", "--format", "json", "examples/architecture.md", other]).status(0).stdout,
        )
        .expect("json");
        assert_eq!(json["infrastructure_changed"], false);
        assert_eq!(json["graph"]["node_counts"]["added"], 0);
        assert!(json["stacks"].as_array().is_some_and(|s| s.iter().all(|s| s["status"] == "unchanged")));
    }
}

#[test]
fn a_restyle_lists_only_cosmetic_edits() {
    let (old, new) = pair("restyle");
    let json: Value =
        serde_json::from_str(&Test::new().args(["diff", "--format", "json", &old, &new]).status(0).stdout)
            .expect("json");
    assert_eq!(json["graph"]["node_counts"]["changed"], 0);
    assert_eq!(json["graph"]["edge_counts"]["changed"], 0);
    assert!(json["graph"]["node_counts"]["cosmetic"].as_u64().is_some_and(|n| n >= 3));
    for n in json["graph"]["nodes"].as_array().into_iter().flatten() {
        assert_eq!(n["change"], "cosmetic", "{n}");
    }
}

#[test]
fn a_removed_store_is_a_stateful_deletion() {
    let (old, new) = pair("store-removed");
    let json: Value =
        serde_json::from_str(&Test::new().args(["diff", "--format", "json", &old, &new]).status(0).stdout)
            .expect("json");
    let data = json["stacks"].as_array().and_then(|s| s.iter().find(|s| s["stack"] == "data")).expect("data stack");
    let cache = data["resources"].as_array().and_then(|r| r.iter().find(|r| r["logical"] == "Cache")).expect("Cache");
    assert_eq!(cache["action"], "remove");
    assert_eq!(cache["policy"], "Snapshot");
    assert!(json["dangers"].as_array().is_some_and(|d| d
        .iter()
        .any(|d| d["rule"] == "stateful-deletion" && d["subject"] == "data/Cache" && d["level"] == "danger")));
}

#[test]
fn a_database_dragged_into_public_subnets_is_reviewed_without_compiling() {
    let (old, new) = pair("tier-moved");
    let run = Test::new().args(["diff", "--format", "json", &old, &new]).status(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["new"]["compiles"], false);
    assert!(json["stacks"].is_null(), "no resource diff for a side that does not compile");
    assert_eq!(json["infrastructure_changed"], true);
    let rds = json["graph"]["nodes"].as_array().and_then(|n| n.iter().find(|n| n["id"] == "rds")).expect("rds");
    assert_eq!(rds["change"], "changed");
    assert!(json["dangers"].as_array().is_some_and(|d| d
        .iter()
        .any(|d| d["rule"] == "internet-exposure" && d["source"] == "drawing" && d["subject"] == "node rds")));
    assert!(json["findings"]["introduced"].as_array().is_some_and(|f| f.iter().any(|f| f["code"] == "NET002")));
    let md = Test::new().args(["diff", &old, &new]).status(0).stdout;
    assert!(summary(&md).contains("no resource diff is available"), "{md}");
}

#[test]
fn an_engine_or_cidr_change_forces_replacement() {
    let (old, new) = pair("engine-change");
    let json: Value =
        serde_json::from_str(&Test::new().args(["diff", "--format", "json", &old, &new]).status(0).stdout)
            .expect("json");
    assert!(json["dangers"].as_array().is_some_and(|d| d.iter().any(|d| d["rule"] == "stateful-replacement"
        && d["subject"] == "data/Rds"
        && d["message"].as_str().is_some_and(|m| m.contains("`Engine`")))));

    let (old, new) = pair("cidr-change");
    let json: Value =
        serde_json::from_str(&Test::new().args(["diff", "--format", "json", &old, &new]).status(0).stdout)
            .expect("json");
    let stack =
        |id: &str| json["stacks"].as_array().and_then(|s| s.iter().find(|s| s["stack"] == id)).cloned().expect("stack");
    let action = |id: &str, logical: &str| {
        stack(id)["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["logical"] == logical))
            .map(|r| r["action"].clone())
    };
    assert_eq!(action("network", "PrivDataSubnet1"), Some("replace".into()));
    // knock-on: the node group reads the replaced subnets through the network stack's outputs
    assert_eq!(action("cluster", "Ng"), Some("replace".into()));
    assert_eq!(action("data", "Efsmt1"), Some("replace".into()));
    // the subnet group takes new subnet ids in place
    assert_eq!(action("data", "RdsSubnetGroup"), Some("update".into()));
}

#[test]
fn a_node_added_with_arrows_widens_iam() {
    let (old, new) = pair("node-added");
    let json: Value =
        serde_json::from_str(&Test::new().args(["diff", "--format", "json", &old, &new]).status(0).stdout)
            .expect("json");
    assert_eq!(json["graph"]["node_counts"]["added"], 1);
    assert_eq!(json["graph"]["edge_counts"]["added"], 2);
    assert!(json["dangers"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["rule"] == "iam-widening" && d["subject"] == "data/MmRole")));
}

#[test]
fn the_review_is_deterministic() {
    for case in pairs() {
        let (old, new) = pair(&case);
        for format in ["markdown", "json"] {
            let a = Test::new().args(["diff", "--format", format, &old, &new]).run().stdout;
            let b = Test::new().args(["diff", "--format", format, &old, &new]).run().stdout;
            assert_eq!(a, b, "{case} {format}");
        }
    }
}

#[test]
fn the_picture_is_mermaid_archc_itself_reads() {
    for case in pairs() {
        let (old, new) = pair(&case);
        let review = review::review(&side(&old), &side(&new));
        let Some(mermaid) = &review.picture.mermaid else { continue };
        let file = SourceFile::new("picture.mmd", mermaid.clone(), InputKind::Mermaid);
        let front = archc::frontend::run(&file, None, archc::syntax::Mode::Full);
        assert!(!front.has_errors(), "{case}: {:?}\n{mermaid}", front.diagnostics);
    }
}

#[test]
fn details_are_cut_with_a_note_and_the_summary_never() {
    let (old, new) = pair("cidr-change");
    let review = review::review(&side(&old), &side(&new));
    let full = markdown::render(&review);
    let small = markdown::render_within(&review, 12_000);
    assert!(small.len() <= 12_000, "{}", small.len());
    assert_eq!(summary(&small), summary(&full), "the summary is never cut");
    assert!(small.contains("**Cut to fit GitHub's comment limit**"), "{small}");
    assert!(!full.contains("**Cut to fit"), "the whole review fits in 65,536");
    // every <details> that is opened is closed, and every fence too
    assert_eq!(small.matches("<details>").count(), small.matches("</details>").count());
    assert_eq!(small.matches("```").count() % 2, 0);
}

/// A deterministic change of the generated 10k diagram: every 50th arrow line dropped, every
/// 97th box relabelled, 1000 boxes and 2000 arrows added.
pub(crate) fn mutate(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 20_000);
    let fence = text.rfind("\n```").unwrap_or(text.len());
    for (i, line) in text[..fence].lines().enumerate() {
        if line.contains("-->") && i % 50 == 0 {
            continue;
        }
        let plain_box = line.trim_start().strip_prefix('n').is_some_and(|rest| {
            rest.split_once('[').is_some_and(|(id, label)| {
                id.chars().all(|c| c.is_ascii_digit())
                    && label.strip_suffix(']').is_some_and(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == ' '))
            })
        });
        if i % 97 == 0 && plain_box {
            out.push_str(&line.replacen('[', "[renamed ", 1));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    // enough that the details cannot all fit a comment (the generated diagram does not
    // compile, so the review lists the drawing's changes, not resources)
    for i in 0..1000 {
        out.push_str(&format!(
            "  added{i}[new service {i}]\n  added{i} --> n{}\n  n{} --> added{i}\n",
            (i * 7) % 10_000,
            (i * 11) % 10_000
        ));
    }
    out.push_str(&text[fence + 1..]);
    out
}

/// The generated 10k-node diagram (`benches/gen-flowchart.py`) and a mutated copy.
fn big_pair() -> (PathBuf, PathBuf) {
    let dir = scratch("review-10k");
    let old = dir.join("old.md");
    let ok = Command::new("python3")
        .arg(root().join("benches/gen-flowchart.py"))
        .args(["--nodes", "10000", "--edges", "20000", "--subgraphs", "50", "--seed", "1", "--markdown", "-o"])
        .arg(&old)
        .status()
        .expect("python3 runs")
        .success();
    assert!(ok, "gen-flowchart.py failed");
    let new = dir.join("new.md");
    std::fs::write(&new, mutate(&std::fs::read_to_string(&old).expect("generated"))).expect("write");
    (old, new)
}

#[test]
fn the_review_of_a_10k_node_change_stays_within_the_comment_limit() {
    let (old, new) = big_pair();
    let (old, new) = (old.display().to_string(), new.display().to_string());
    let run = Test::new().args(["diff", "--exit-code", &old, &new]).status(1);
    assert!(run.stdout.len() <= markdown::LIMIT, "{} bytes", run.stdout.len());
    let s = summary(&run.stdout);
    assert!(!s.contains("does not parse"), "the mutation keeps the diagram valid:\n{s}");
    assert!(s.contains("| diagram boxes | 1000 |"), "{s}");
    assert!(run.stdout.contains("**Cut to fit GitHub's comment limit**"), "a change this large is cut");
    assert_eq!(run.stdout.matches("<details>").count(), run.stdout.matches("</details>").count());
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=archc", "-c", "user.email=archc@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn review_compares_with_the_file_at_a_git_revision() {
    let dir = scratch("review-git");
    git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.join("docs")).expect("mkdir");
    let (old, new) = pair("store-removed");
    std::fs::copy(root().join(&old), dir.join("docs/architecture.md")).expect("copy");
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "architecture"]);
    std::fs::copy(root().join(&new), dir.join("docs/architecture.md")).expect("copy");
    let file = dir.join("docs/architecture.md").display().to_string();

    let run = Test::new().args(["review", &file, "--base", "main", "--exit-code"]).status(1);
    assert!(run.stdout.contains("data/Cache"), "{}", run.stdout);
    assert!(run.stdout.starts_with(&markdown::marker(&file)), "{}", run.stdout);
    // the same as `archc diff` of the two files
    let diff = Test::new().args(["diff", "--format", "json", &old, &new]).status(0);
    let review = Test::new().args(["review", &file, "--base", "main", "--format", "json"]).status(0);
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).expect("json");
        v["old"]["name"] = Value::Null;
        v["new"]["name"] = Value::Null;
        v
    };
    assert_eq!(strip(&diff.stdout)["dangers"], strip(&review.stdout)["dangers"]);
    assert_eq!(strip(&diff.stdout)["stacks"], strip(&review.stdout)["stacks"]);

    // unchanged since HEAD
    git(&dir, &["commit", "-q", "-am", "no cache"]);
    let run = Test::new().args(["review", &file, "--exit-code"]).status(0);
    assert!(run.stdout.contains("**No infrastructure change.**"), "{}", run.stdout);

    // a file the base does not have: everything is added
    std::fs::copy(root().join(&old), dir.join("docs/second.md")).expect("copy");
    let second = dir.join("docs/second.md").display().to_string();
    let run = Test::new().args(["review", &second, "--format", "json"]).status(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["old"]["present"], false);
    assert!(json["stacks"].as_array().is_some_and(|s| s.iter().all(|s| s["status"] == "added")));

    // usage and I/O errors
    let run = Test::new().args(["review", &file, "--base", "no-such-branch"]).status(2);
    assert!(run.stderr.contains("names no commit"), "{}", run.stderr);
    Test::new().args(["review", &file, "--base=--output=x"]).status(2);
    Test::new().args(["review", "no/such/file.md"]).status(2);
}

#[test]
fn diff_usage_errors_exit_2() {
    Test::new().args(["diff", "examples/architecture.md"]).status(2);
    Test::new().args(["diff", "no/such.md", "examples/architecture.md"]).status(2);
    Test::new().args(["diff", "--format", "yaml", "examples/architecture.md", "examples/architecture.md"]).status(2);
}

#[test]
fn compile_check_compares_and_never_writes() {
    let dir = scratch("compile-check");
    let out = dir.join("out");
    let out_s = out.display().to_string();
    // nothing there yet: everything is missing, nothing is written
    let run = Test::new().args(["compile", "--check", "examples/architecture.md", "-o", &out_s]).status(1);
    assert!(run.stdout.contains("missing  plan.json"), "{}", run.stdout);
    assert!(!out.exists(), "--check wrote the output directory");

    Test::new().args(["compile", "examples/architecture.md", "-o", &out_s]).status(0);
    let run = Test::new().args(["compile", "--check", "examples/architecture.md", "-o", &out_s]).status(0);
    assert!(run.stderr.contains("is up to date"), "{}", run.stderr);
    // a restyled diagram compiles to the same files
    Test::new().args(["compile", "--check", "fixtures/architectures/mattermost-restyled.md", "-o", &out_s]).status(0);

    // a stale file, a missing one and a stray one
    let data = out.join("cloudformation/data.yaml");
    let before = std::fs::read_to_string(&data).expect("data.yaml");
    std::fs::write(&data, before.replace("MultiAZ: true", "MultiAZ: false")).expect("write");
    std::fs::remove_file(out.join("Dockerfile")).expect("rm");
    std::fs::write(out.join("stray.txt"), "x").expect("write");
    let run = Test::new().args(["compile", "--check", "examples/architecture.md", "-o", &out_s]).status(1);
    assert!(run.stdout.contains("(3 files differ)"), "{}", run.stdout);
    for line in [
        "changed  cloudformation/data.yaml",
        "missing  Dockerfile",
        "extra    stray.txt",
        "-      MultiAZ: false",
        "+      MultiAZ: true",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    assert_eq!(std::fs::read_to_string(&data).expect("data.yaml"), before.replace("MultiAZ: true", "MultiAZ: false"));

    // another diagram: the check fails on the changed stacks
    // (the stray file out of the way, the edit replaced: archc replaces only its own output)
    std::fs::remove_file(out.join("stray.txt")).expect("rm");
    Test::new().args(["compile", "examples/architecture.md", "--force", "-o", &out_s]).status(0);
    let (_, new) = pair("engine-change");
    let run = Test::new().args(["compile", "--check", &new, "-o", &out_s]).status(1);
    assert!(run.stdout.contains("changed  cloudformation/data.yaml"), "{}", run.stdout);

    // an output path that is a file
    let run = Test::new()
        .args(["compile", "--check", "examples/architecture.md", "-o"])
        .args([data.display().to_string()])
        .status(2);
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);
    // a diagram with errors does not compile, checked or not
    let (_, moved) = pair("tier-moved");
    Test::new().args(["compile", "--check", &moved, "-o", &out_s]).status(1);
}

/// Diagrams that together make archc emit every resource type and property it can: the seed,
/// the architecture fixtures, the review fixtures and variants of the seed.
fn emitting_diagrams() -> Vec<(String, String)> {
    let seed = std::fs::read_to_string(root().join("examples/architecture.md")).expect("seed");
    let mut out = vec![("seed".to_string(), seed.clone())];
    for dir in ["fixtures/architectures", "fixtures/review"] {
        let mut paths: Vec<PathBuf> = walk(&root().join(dir));
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).expect("fixture");
            out.push((p.display().to_string(), text));
        }
    }
    let variants: &[(&str, &[(&str, &str)])] = &[
        (
            "aurora",
            &[
                ("rds[(RDS PostgreSQL)]", "aurora[(Amazon Aurora PostgreSQL)]"),
                ("mm --> rds", "mm --> aurora"),
                ("class rds,", "class aurora,"),
            ],
        ),
        ("mariadb", &[("rds[(RDS PostgreSQL)]", "rds[(RDS MariaDB)]")]),
        ("valkey", &[("cache[(ElastiCache Redis)]", "cache[(ElastiCache Valkey)]")]),
        (
            "secret",
            &[
                ("  efs[(Amazon EFS)]\n", "  efs[(Amazon EFS)]\n  secrets[AWS Secrets Manager secret]\n"),
                ("  mm --> efs\n", "  mm --> efs\n  mm --> secrets\n"),
            ],
        ),
    ];
    for (name, edits) in variants {
        let mut text = seed.clone();
        for (a, b) in *edits {
            assert!(text.contains(a), "variant {name}: `{a}` is not in the seed");
            text = text.replace(a, b);
        }
        out.push((format!("seed variant {name}"), text));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_property_archc_emits_has_an_update_rule() {
    let table = review::replacement::table();
    let mut stateful_seen = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    let mut compiled = 0;
    for (name, text) in emitting_diagrams() {
        let s = Side::compile(SourceFile::new(name.clone(), text, InputKind::Markdown), None, &Options::default());
        let Some(plan) = &s.plan else {
            assert!(name.contains("tier-moved"), "{name} does not compile: {:?}", s.diagnostics());
            continue;
        };
        compiled += 1;
        for stack in &plan.stacks {
            for (logical, r) in &stack.resources {
                let Some(rules) = table.types.get(&r.ty) else {
                    missing.push(format!("{}: type {} ({logical})", name, r.ty));
                    continue;
                };
                if rules.stateful {
                    stateful_seen.insert(r.ty.clone());
                }
                for key in r.properties.as_object().into_iter().flatten().map(|(k, _)| k).filter(|k| *k != "//") {
                    if table.rule(&r.ty, &[key.as_str()]).is_none() {
                        missing.push(format!("{}: {}.{key} ({logical})", name, r.ty));
                    }
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "classify these in targets/cloudformation/replacement.yaml:\n{}", missing.join("\n"));
    assert!(compiled >= 10, "{compiled} diagrams compiled");
    for ty in [
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::EFS::FileSystem",
        "AWS::S3::Bucket",
    ] {
        assert!(stateful_seen.contains(ty), "no diagram emits {ty}: {stateful_seen:?}");
    }
}

#[test]
fn the_review_workflow_is_least_privilege_pinned_and_injection_free() {
    let dir = scratch("review-workflow");
    let seed = std::fs::read_to_string(root().join("examples/architecture.md")).expect("seed");
    let configured = format!(
        "{seed}\n```yaml archc\ngithub:\n  review:\n    paths: [docs/architecture.md]\n    archc_repository: https://github.com/example/archc\n    archc_rev: 0123456789abcdef0123456789abcdef01234567\n```\n"
    );
    for (name, text) in [("default", seed), ("configured", configured)] {
        let out = dir.join(name);
        Test::new().args(["compile", "-", "-o"]).args([out.display().to_string()]).stdin(text).status(0);
        let path = out.join(".github/workflows/archc-review.yml");
        let wf: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).expect("archc-review.yml")).expect("yaml");
        assert_eq!(
            wf["on"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["pull_request".to_string()])
        );
        assert_eq!(wf["permissions"], serde_json::json!({"contents": "read"}));
        let job = &wf["jobs"]["review"];
        assert_eq!(job["permissions"], serde_json::json!({"contents": "read", "pull-requests": "write"}));
        for step in job["steps"].as_array().expect("steps") {
            if let Some(uses) = step["uses"].as_str() {
                let sha = uses.split_once('@').map(|(_, s)| s).unwrap_or_default();
                assert!(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{uses} is not pinned by SHA");
            }
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "an expression interpolated into a script: {run}");
            }
        }
        let env = &job["env"];
        match name {
            "default" => {
                assert_eq!(env["ARCHC_GIT"], "${{ vars.ARCHC_GIT }}");
                assert_eq!(wf["on"]["pull_request"]["paths"][0], "**/architecture.md");
            }
            _ => {
                assert_eq!(env["ARCHC_GIT"], "https://github.com/example/archc");
                assert_eq!(env["ARCHC_REV"], "0123456789abcdef0123456789abcdef01234567");
                assert_eq!(env["REVIEW_PATHS"], "docs/architecture.md");
            }
        }
    }
    // no GitHub Actions in the diagram, no review workflow
    let gitea = dir.join("gitea");
    Test::new()
        .args(["compile", "fixtures/architectures/gitea-us-west-2.md", "-o"])
        .args([gitea.display().to_string()])
        .status(0);
    assert!(!gitea.join(".github/workflows/archc-review.yml").exists());
}

/// The workflow's review step, run for real with bash, git and this archc: it finds the
/// architecture files by the configured globs, reviews each against the base and records
/// which ones change (what the comment step reads).
#[test]
fn the_review_workflow_step_runs_archc_review_on_each_architecture_file() {
    let dir = scratch("review-workflow-step");
    let out = dir.join("out");
    Test::new().args(["compile", "examples/architecture.md", "-o"]).args([out.display().to_string()]).status(0);
    let wf: Value = serde_yaml::from_str(
        &std::fs::read_to_string(out.join(".github/workflows/archc-review.yml")).expect("archc-review.yml"),
    )
    .expect("yaml");
    let steps = wf["jobs"]["review"]["steps"].as_array().expect("steps");
    let step = steps.iter().find(|s| s["name"] == "Review each architecture file").expect("the review step");
    let script = step["run"].as_str().expect("run");

    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join("docs")).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let (old_store, new_store) = pair("store-removed");
    let (old_style, new_style) = pair("restyle");
    std::fs::copy(root().join(&old_store), repo.join("docs/architecture.md")).expect("copy");
    std::fs::copy(root().join(&old_style), repo.join("architecture.md")).expect("copy");
    std::fs::write(repo.join("README.md"), "not an architecture\n").expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = Command::new("git").arg("-C").arg(&repo).args(["rev-parse", "HEAD"]).output().expect("git");
    let base = String::from_utf8_lossy(&base.stdout).trim().to_string();
    std::fs::copy(root().join(&new_store), repo.join("docs/architecture.md")).expect("copy");
    std::fs::copy(root().join(&new_style), repo.join("architecture.md")).expect("copy");
    git(&repo, &["commit", "-q", "-am", "change"]);

    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_archc"));
    let path = format!("{}:{}", bin.parent().expect("bin dir").display(), std::env::var("PATH").unwrap_or_default());
    let status = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(&repo)
        .env("PATH", path)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_STEP_SUMMARY", temp.join("summary.md"))
        .env("BASE_SHA", &base)
        .env("REVIEW_PATHS", "**/architecture.md")
        .status()
        .expect("bash runs");
    assert!(status.success(), "the review step failed");
    let index = std::fs::read_to_string(temp.join("archc-review/index")).expect("index");
    assert_eq!(index, "1\tno\tarchitecture.md\n2\tyes\tdocs/architecture.md\n");
    let second = std::fs::read_to_string(temp.join("archc-review/2.md")).expect("review");
    assert!(second.starts_with(&markdown::marker("docs/architecture.md")), "{second}");
    assert!(second.contains("data/Cache"), "{second}");
    let summary = std::fs::read_to_string(temp.join("summary.md")).expect("summary");
    assert!(summary.contains("**No infrastructure change.**") && summary.contains("data/Cache"));
}

#[test]
fn review_outside_a_git_repository_says_so() {
    let dir = scratch("review-no-git");
    std::fs::copy(root().join("examples/architecture.md"), dir.join("architecture.md")).expect("copy");
    let file = dir.join("architecture.md").display().to_string();
    let run = Test::new().args(["review", &file]).status(2);
    assert!(
        run.stderr.contains("is not in a git repository") || run.stderr.contains("names no commit"),
        "{}",
        run.stderr
    );
}
