#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // benchmark harness: a failure is a bug to see at once
//! archc compile of the seed, whole process: median under 20 ms.
//!
//! `cargo bench --bench compile`: `library` times the library path of `archc compile`
//! (Markdown → analysis with rules → plan → every output file, in memory) on the seed,
//! `plan_and_emit` the backends alone; `process` runs the `archc` binary as a user does (`archc compile examples/architecture.md
//! -o DIR`: start-up, reading, compiling and writing the output directory atomically).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use archc::analysis::{self, Options};
use archc::source::{InputKind, SourceFile};

fn main() {
    divan::main();
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn seed() -> &'static str {
    static SEED: OnceLock<String> = OnceLock::new();
    SEED.get_or_init(|| std::fs::read_to_string(root().join("examples/architecture.md")).expect("seed"))
}

/// analyze → plan → emit, in memory.
#[divan::bench(sample_count = 100)]
fn library() {
    let file = SourceFile::new("examples/architecture.md", seed(), InputKind::Markdown);
    let analysis = analysis::analyze(file, None, &Options::default());
    assert_eq!(analysis.errors(), 0);
    let plan = archc::plan::build(analysis.graph.as_ref().expect("a graph"), &analysis.config).expect("the seed plans");
    let graph = analysis.graph.as_ref().expect("graph");
    let files = archc::emit::files(&plan, &plan.components(graph));
    assert!(files.contains_key("cloudformation/data.yaml"));
    divan::black_box(files);
}

/// The backends alone: plan → every output file, from an analysis made once.
#[divan::bench(sample_count = 100)]
fn plan_and_emit(bencher: divan::Bencher) {
    let file = SourceFile::new("examples/architecture.md", seed(), InputKind::Markdown);
    let analysis = analysis::analyze(file, None, &Options::default());
    bencher.bench(|| {
        let plan =
            archc::plan::build(analysis.graph.as_ref().expect("a graph"), &analysis.config).expect("the seed plans");
        let graph = analysis.graph.as_ref().expect("graph");
        divan::black_box(archc::emit::files(&plan, &plan.components(graph)))
    });
}

/// The `archc` binary, start to finish, writing the output directory.
#[divan::bench(sample_count = 50)]
fn process(bencher: divan::Bencher) {
    let out: PathBuf = std::env::temp_dir().join(format!("archc-bench-compile-{}", std::process::id()));
    bencher.bench(|| {
        let status = Command::new(env!("CARGO_BIN_EXE_archc"))
            .current_dir(root())
            .args(["compile", "examples/architecture.md", "-o"])
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("archc runs");
        assert!(status.success());
    });
    let _ = std::fs::remove_dir_all(&out);
}
