#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // benchmark harness: a failure is a bug to see at once
//! `archc check` against parsing alone, on the seed and the generated 10k-node diagram
//! (issue: check stays within 2x of the parse). `cargo bench --bench check`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use archc::analysis::{self, Options};
use archc::source::{InputKind, SourceFile};
use archc::syntax::Mode;

fn main() {
    divan::main();
}

fn input(which: &str) -> &'static str {
    static SEED: OnceLock<String> = OnceLock::new();
    static BIG: OnceLock<String> = OnceLock::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match which {
        "seed" => SEED.get_or_init(|| std::fs::read_to_string(dir.join("examples/architecture.md")).expect("seed")),
        _ => BIG.get_or_init(|| {
            let out: PathBuf = dir.join("target/bench-inputs/flow-10000-20000-50.md");
            if !out.exists() {
                std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
                let ok = Command::new("python3")
                    .arg(dir.join("benches/gen-flowchart.py"))
                    .args([
                        "--nodes",
                        "10000",
                        "--edges",
                        "20000",
                        "--subgraphs",
                        "50",
                        "--seed",
                        "1",
                        "--markdown",
                        "-o",
                    ])
                    .arg(&out)
                    .status()
                    .expect("python3")
                    .success();
                assert!(ok, "gen-flowchart.py failed");
            }
            std::fs::read_to_string(out).expect("generated diagram")
        }),
    }
}

/// Parse only: Markdown, preprocessing, grammar and FlowDB model.
#[divan::bench(args = ["seed", "10k"], sample_count = 10)]
fn parse(which: &str) {
    let file = SourceFile::new("bench.md", input(which), InputKind::Markdown);
    divan::black_box(archc::frontend::run(&file, None, Mode::Full));
}

/// The whole check, as `archc check` runs it: parse, configuration, typed graph,
/// classification, every rule, and the planner with its coverage of every box and arrow.
#[divan::bench(args = ["seed", "10k"], sample_count = 10)]
fn check(which: &str) {
    let file = SourceFile::new("bench.md", input(which), InputKind::Markdown);
    divan::black_box(archc::compilation::compile(file, None, &Options::default()));
}

/// The analysis alone (no planner): what `check` was before it became the full gate.
#[divan::bench(args = ["seed", "10k"], sample_count = 10)]
fn analysis_only(which: &str) {
    let file = SourceFile::new("bench.md", input(which), InputKind::Markdown);
    divan::black_box(analysis::analyze(file, None, &Options::default()));
}
