//! What archc must never do: delete what it did not write, drop part of the picture without a
//! word, or crash on a closed stream. And what `check` promises: a file it passes compiles.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::test::{root, scratch, Test};

const SEED: &str = "examples/architecture.md";

fn seed_path() -> String {
    root().join(SEED).display().to_string()
}

/// Every file under `dir` with its content, relative paths.
fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if e.file_type().expect("type").is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").display().to_string();
                out.push((rel, std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// `compile` into `out` must be refused with status 2, say why, and change nothing in `dir`.
#[track_caller]
fn refused(out: &str, cwd: &Path, watch: &Path, why: &str) -> String {
    let before = snapshot_dir(watch);
    let run = Test::new().current_dir(cwd).args(["compile", &seed_path(), "-o", out]).status(2);
    assert!(run.stderr.contains(why), "expected `{why}` in:\n{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(snapshot_dir(watch), before, "compile -o {out} changed files it was refused");
    run.stderr
}

#[test]
fn a_directory_with_a_foreign_file_is_refused() {
    let dir = scratch("trust-foreign");
    std::fs::create_dir_all(dir.join("docs")).expect("mkdir");
    std::fs::write(dir.join("docs/keep.txt"), "mine").expect("write");
    refused("docs", &dir, &dir, "archc did not write it");
    assert_eq!(std::fs::read_to_string(dir.join("docs/keep.txt")).expect("kept"), "mine");
}

#[test]
fn the_current_directory_and_its_parents_are_refused() {
    let dir = scratch("trust-cwd");
    let inner = dir.join("project");
    std::fs::create_dir_all(&inner).expect("mkdir");
    std::fs::write(inner.join("notes.md"), "mine").expect("write");
    refused(".", &inner, &dir, "it is the current directory");
    refused(&inner.display().to_string(), &inner, &dir, "it is the current directory");
    refused("..", &inner, &dir, "it contains the current directory");
    // even an empty current directory: compile would replace the directory the shell is in
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    refused(".", &empty, &dir, "it is the current directory");
}

#[test]
fn a_git_checkout_is_refused() {
    let dir = scratch("trust-git");
    let checkout = dir.join("repo");
    std::fs::create_dir_all(checkout.join(".git/objects")).expect("mkdir");
    std::fs::write(checkout.join(".git/HEAD"), "ref: refs/heads/main\n").expect("write");
    std::fs::write(checkout.join("README.md"), "# repo\n").expect("write");
    refused(&checkout.display().to_string(), &dir, &dir, "it is a git checkout");
}

#[test]
fn the_inputs_own_directory_and_its_parents_are_refused() {
    let dir = scratch("trust-input");
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::copy(root().join(SEED), project.join("architecture.md")).expect("copy");
    for out in [project.clone(), dir.clone()] {
        let before = snapshot_dir(&dir);
        let run = Test::new()
            .current_dir(root())
            .args(["compile", &project.join("architecture.md").display().to_string(), "-o"])
            .args([out.display().to_string()])
            .status(2);
        assert!(run.stderr.contains("it contains the input file"), "{}", run.stderr);
        assert_eq!(snapshot_dir(&dir), before);
    }
}

#[test]
fn home_and_root_are_refused() {
    let dir = scratch("trust-home");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(home.join(".profile"), "mine").expect("write");
    let run = Test::new()
        .current_dir(&dir)
        .env("HOME", &home)
        .args(["compile", &seed_path(), "-o", &home.display().to_string()])
        .status(2);
    assert!(run.stderr.contains("it is the home directory"), "{}", run.stderr);
    assert!(home.join(".profile").exists());
    let run = Test::new().current_dir(&dir).args(["compile", &seed_path(), "-o", "/"]).status(2);
    assert!(run.stderr.contains("root directory"), "{}", run.stderr);
}

#[test]
fn a_previous_output_is_replaced_and_an_edited_one_needs_force() {
    let dir = scratch("trust-replace");
    let out = dir.join("out");
    let out_s = out.display().to_string();
    Test::new().current_dir(&dir).args(["compile", &seed_path(), "-o", &out_s]).status(0);
    let manifest = std::fs::read_to_string(out.join(".archc-output")).expect("manifest");
    let listed: BTreeSet<String> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_string()))
        .collect();
    let written: BTreeSet<String> =
        snapshot_dir(&out).into_iter().map(|(p, _)| p).filter(|p| p != ".archc-output").collect();
    assert_eq!(listed, written, "the manifest lists exactly the files written");
    let first = snapshot_dir(&out);
    // a previous output: replaced, byte for byte the same
    Test::new().current_dir(&dir).args(["compile", &seed_path(), "-o", &out_s]).status(0);
    assert_eq!(snapshot_dir(&out), first);
    // an edit is refused without --force ...
    let edited = out.join("cloudformation/network.yaml");
    std::fs::write(&edited, "# my change\n").expect("edit");
    let stderr = refused(&out_s, &dir, &dir, "were edited since");
    assert!(stderr.contains("cloudformation/network.yaml") && stderr.contains("--force"), "{stderr}");
    // ... and replaced with it
    Test::new().current_dir(&dir).args(["compile", &seed_path(), "-o", &out_s, "--force"]).status(0);
    assert_eq!(snapshot_dir(&out), first);
    // --force never covers a file archc did not write
    std::fs::write(out.join("kubernetes/extra.yaml"), "kind: Secret\n").expect("write");
    let run = Test::new().current_dir(&dir).args(["compile", &seed_path(), "-o", &out_s, "--force"]).status(2);
    assert!(run.stderr.contains("kubernetes/extra.yaml"), "{}", run.stderr);
    assert!(out.join("kubernetes/extra.yaml").exists());
    // nothing is left beside the output
    let beside: Vec<String> =
        std::fs::read_dir(&dir).expect("dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(beside, ["out"], "no temporary directories left behind");
}

/// `check` runs everything `compile` would refuse: the same errors, on every fixture.
#[test]
fn check_and_compile_agree_on_every_fixture() {
    let mut files = Vec::new();
    let mut stack = vec![root().join("fixtures")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("fixtures").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") && !p.ends_with("README.md") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut compared = 0;
    let dir = scratch("trust-agree");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("fixture");
        let diagrams = archc::source::extract_blocks(&text).blocks.iter().filter(|b| b.is_mermaid()).count();
        for n in 1..=diagrams.max(1) {
            let rel = file.strip_prefix(root()).expect("inside").display().to_string();
            let diagram = n.to_string();
            let check = Test::new().args(["check", "--format", "json", "--diagram", &diagram, &rel]).run();
            let out = dir.join(format!("o{compared}"));
            let compile = Test::new()
                .args(["compile", "--diagram", &diagram, &rel, "-o"])
                .args([out.display().to_string()])
                .run();
            let doc: Value = serde_json::from_str(&check.stdout).unwrap_or(Value::Null);
            let mut check_errors: Vec<String> = doc["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["severity"] == "error")
                .map(|d| d["code"].as_str().unwrap_or("").to_string())
                .collect();
            check_errors.sort();
            let compile_errors = human_errors(&compile.stderr);
            assert_eq!(
                check.status, compile.status,
                "{rel} #{n}: check exits {} but compile {}\n{}",
                check.status, compile.status, compile.stderr
            );
            // the same errors (check's positions are tested elsewhere; the human renderer
            // shows a snippet's first line, not always the primary one)
            assert_eq!(check_errors, compile_errors, "{rel} #{n}: the same errors\n{}", compile.stderr);
            compared += 1;
        }
    }
    assert!(compared >= 40, "only {compared} diagrams compared");
}

/// The codes of the errors (`×`) in the human renderer's output, sorted.
fn human_errors(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut code: Option<&str> = None;
    for line in stderr.lines() {
        let t = line.trim();
        if t.len() == 6
            && t.chars().take(3).all(|c| c.is_ascii_uppercase())
            && t[3..].chars().all(|c| c.is_ascii_digit())
        {
            code = Some(t);
            continue;
        }
        if let (Some(c), true) = (code, t.starts_with('×')) {
            out.push(c.to_string());
            code = None;
        }
    }
    out.sort();
    out
}

/// Every command writes into a closed pipe as `git log | head` does: quietly, status 0.
#[test]
fn every_command_survives_a_closed_stdout() {
    let dir = scratch("trust-pipe");
    let out = dir.join("out").display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", "--format", "json", SEED],
        vec!["check", "--format", "github", SEED],
        vec!["graph", "--format", "json", SEED],
        vec!["graph", "--format", "mermaid-json", "--layout", SEED],
        vec!["graph", "--format", "dot", SEED],
        vec!["plan", SEED],
        vec!["plan", "--format", "json", SEED],
        vec!["compile", "--summary", SEED, "-o", &out],
        vec!["rules"],
        vec!["rules", "--format", "json"],
        vec!["kinds"],
        vec!["explain", "NET001"],
        vec!["--help"],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_archc"))
            .args(&args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("archc starts");
        drop(child.stdout.take()); // the reader is gone before archc writes
        let mut stderr = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read");
        let status = child.wait().expect("wait");
        assert!(!stderr.contains("panicked"), "archc {args:?} panicked on a closed pipe:\n{stderr}");
        assert_eq!(status.code(), Some(0), "archc {args:?}: {stderr}");
    }
    // and a closed standard error
    let status = Command::new(env!("CARGO_BIN_EXE_archc"))
        .args(["check", SEED])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            drop(c.stderr.take());
            c.wait()
        })
        .expect("archc runs");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn unknown_rule_codes_are_errors_with_a_suggestion() {
    let run = Test::new().args(["check", "--ignore", "BOGUS1", SEED]).status(2);
    assert!(run.stderr.contains("--ignore BOGUS1") && run.stderr.contains("archc rules"), "{}", run.stderr);
    let run = Test::new().args(["compile", "--warn", "GRF04", SEED, "-o", "/nonexistent"]).status(2);
    assert!(run.stderr.contains("did you mean `GRF004`"), "{}", run.stderr);
    let seed = std::fs::read_to_string(root().join(SEED)).expect("seed");
    // in the file: a suppression comment and the configuration, each located
    let text = seed.replace("  user --> alb --> svc --> mm", "  %% archc: ignore GRF04\n  user --> alb --> svc --> mm")
        + "\n```yaml archc\nrules:\n  ignore: [NET099]\n```\n";
    let run = Test::new().args(["check", "--format", "json", "-"]).stdin(text.clone()).status(1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    let cfg: Vec<&Value> =
        doc["diagnostics"].as_array().expect("list").iter().filter(|d| d["code"] == "CFG005").collect();
    assert_eq!(cfg.len(), 2, "{}", run.stdout);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).expect("line") + 1;
    assert!(
        cfg.iter()
            .any(|d| d["line"] == line_of("archc: ignore GRF04")
                && d["message"].as_str().unwrap_or("").contains("GRF004"))
    );
    assert!(cfg.iter().any(|d| d["line"] == line_of("ignore: [NET099]")));
}

#[test]
fn suggestions_are_plausible_and_name_the_diagrams_ids() {
    // a box in a subnet that names nothing gets no random kind to try
    let run = Test::new()
        .args(["check", "--input", "mermaid", "-"])
        .stdin("flowchart TB\n  subgraph vpc[VPC]\n    subgraph app[Private subnets]\n      frob[(Frobnicator)]\n    end\n  end\n")
        .status(1);
    assert!(run.stderr.contains("GRF004"), "{}", run.stderr);
    assert!(!run.stderr.contains("kind: aws."), "no made-up suggestion:\n{}", run.stderr);
    // a kind that is a different service is not "did you mean" another one
    let seed = std::fs::read_to_string(root().join(SEED)).expect("seed");
    let run = Test::new()
        .args(["check", "-"])
        .stdin(format!("{seed}\n```yaml archc\nnodes:\n  s3: {{kind: aws.kinesis}}\n  ecr: {{kind: aws.ecrr}}\n```\n"))
        .status(1);
    assert!(run.stderr.contains("did you mean `aws.ecr`"), "{}", run.stderr);
    let kinesis = run.stderr.split("aws.kinesis").nth(1).unwrap_or("");
    assert!(!kinesis.contains("did you mean"), "Kinesis is no typo of a kind archc has:\n{}", run.stderr);
    // NET004 names the diagram's own NAT gateway (drawn in a private subnet, it is no way out)
    let natgw = seed
        .replace("        nat[NAT Gateway]\n", "")
        .replace("        efsmt[EFS Mount Targets]", "        efsmt[EFS Mount Targets]\n        natgw[NAT Gateway]")
        .replace("ng --> nat --> igw", "natgw --> igw")
        .replace("nat --> ecr", "natgw --> ecr")
        .replace("nat --> s3", "natgw --> s3");
    let run = Test::new().args(["check", "-"]).stdin(natgw).status(1);
    assert!(run.stderr.contains("NET004") && run.stderr.contains("move NAT gateway `natgw`"), "{}", run.stderr);
}

/// A fixture with a box of every kind `archc kinds` lists compiles with resources for every
/// kind that is not a group, actor or annotation (nothing to build by its catalog entry): each
/// such node has a resource or object in `plan.json`'s components, or, for the kinds archc
/// still reports as not built, a PLN003 at its line.
#[test]
fn every_kind_is_built_or_reported_at_its_line() {
    const FIXTURE: &str = "fixtures/coverage/every-kind.md";
    /// The kinds the lowering registry still reports (`REPORTED` in `src/plan/lower/mod.rs`).
    const REPORTED: &[&str] = &["aws.service", "aws.security-group", "aws.route-table", "ci.other"];
    let kinds: Value =
        serde_json::from_str(&Test::new().args(["kinds", "--format", "json"]).status(0).stdout).expect("json");
    let graph: Value =
        serde_json::from_str(&Test::new().args(["graph", "--format", "json", FIXTURE]).status(0).stdout).expect("json");
    let drawn: BTreeSet<&str> =
        graph["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["kind"].as_str()).collect();
    let mut nothing_to_build = BTreeSet::new();
    for k in kinds.as_array().expect("kinds") {
        let id = k["id"].as_str().expect("id");
        assert!(drawn.contains(id), "{FIXTURE} draws no `{id}`");
        if !k["nothing_to_build"].is_null() {
            nothing_to_build.insert(id);
        }
        let reported = k["built_by"].as_str().unwrap_or("").starts_with("not built");
        assert_eq!(reported, REPORTED.contains(&id), "`{id}`: {}", k["built_by"]);
    }
    let check = Test::new().args(["check", "--format", "json", FIXTURE]).run();
    let doc: Value = serde_json::from_str(&check.stdout).expect("json");
    let findings: BTreeSet<(u64, String)> = doc["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| (d["line"].as_u64().unwrap_or(0), d["code"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(doc["errors"], 0, "{}", check.stdout);
    let node_lines: std::collections::BTreeMap<&str, u64> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["id"].as_str().unwrap_or(""), n["line"].as_u64().unwrap_or(0)))
        .collect();
    // compile says the same, and writes plan.json
    let out = scratch("trust-every-kind").join("out");
    let compile = Test::new().args(["compile", FIXTURE, "-o"]).args([out.display().to_string()]).status(0);
    for (_, code) in findings.iter().filter(|(_, c)| c.starts_with("PLN")) {
        assert!(compile.stderr.contains(code.as_str()));
    }
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).expect("plan.json")).expect("json");
    let components = plan["components"].as_array().expect("components");
    let mut missing = Vec::new();
    let mut built = 0;
    for c in components {
        let (node, kind) = (c["node"].as_str().expect("node"), c["kind"].as_str().expect("kind"));
        let resources = c["resources"].as_array().expect("resources");
        if nothing_to_build.contains(kind) {
            continue;
        }
        if !resources.is_empty() {
            built += 1;
            continue;
        }
        let line = node_lines[node];
        if REPORTED.contains(&kind) && findings.contains(&(line, "PLN003".to_string())) {
            continue;
        }
        missing.push(format!("`{node}` ({kind}, line {line})"));
    }
    assert!(missing.is_empty(), "no resource or object, and no PLN003 at the line of a reported kind: {missing:?}");
    assert_eq!(components.len(), node_lines.len(), "one component per node");
    assert!(built >= 45, "only {built} nodes built");
    // where some are built: the ECS cluster and service, the Auto Scaling group and the
    // instance outside it in the app stack; the NLB in front of the StatefulSet is its
    // Service of type LoadBalancer; the namespace box is the Namespace object
    let resources_of = |node: &str| -> Vec<String> {
        let c = components.iter().find(|c| c["node"] == node).unwrap_or_else(|| panic!("no {node}"));
        c["resources"].as_array().expect("list").iter().map(|r| format!("{} {}", r["in"], r["id"])).collect()
    };
    for node in ["ecsc", "ecssvc", "asg", "bastion"] {
        assert!(resources_of(node).iter().any(|r| r.starts_with("\"app\"")), "`{node}`: {:?}", resources_of(node));
    }
    assert!(
        resources_of("nlb").contains(&"\"kubernetes\" \"Service/kafka-nlb\"".to_string()),
        "{:?}",
        resources_of("nlb")
    );
    assert!(resources_of("ns").contains(&"\"kubernetes\" \"Namespace/shop\"".to_string()), "{:?}", resources_of("ns"));
}

/// Every `archc` command and flag the README and the generated READMEs mention exists.
#[test]
fn every_command_and_flag_mentioned_exists() {
    let out = scratch("trust-mentions").join("out");
    Test::new().args(["compile", SEED, "-o"]).args([out.display().to_string()]).status(0);
    let mut texts = vec![("README.md".to_string(), std::fs::read_to_string(root().join("README.md")).expect("README"))];
    for f in ["cloudformation/README.md", "kubernetes/README.md"] {
        texts.push((f.to_string(), std::fs::read_to_string(out.join(f)).expect("generated README")));
    }
    // `archc ...` in code spans, and command lines of fenced code blocks
    let mut checked = 0;
    for (name, text) in &texts {
        let mut mentions: Vec<String> = Vec::new();
        let mut fenced = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if fenced {
                if line.trim_start().starts_with("archc ") {
                    mentions.push(line.trim().to_string());
                }
                continue;
            }
            mentions.extend(
                line.split('`').skip(1).step_by(2).filter(|span| span.starts_with("archc ")).map(str::to_string),
            );
        }
        for mention in mentions {
            let mut words = mention.split_whitespace().skip(1);
            let Some(command) = words.next() else { continue };
            if command.starts_with('-') || command.contains(['|', '[']) {
                continue;
            }
            let help = Test::new().args([command, "--help"]).run();
            assert_eq!(
                help.status, 0,
                "{name} mentions `{mention}`: `archc {command}` does not exist:\n{}",
                help.stderr
            );
            for flag in words.filter(|f| f.starts_with("--")) {
                let flag = flag.split(['=', '|', ']']).next().unwrap_or(flag);
                assert!(
                    help.stdout.contains(flag),
                    "{name} mentions `{mention}`: `archc {command} --help` does not list `{flag}`"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} mentions found");
}
