#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // benchmark harness: a failure is a bug to see at once
//! Front-end benchmarks: the seed, and generated diagrams of 10k and 100k nodes
//! (`benches/gen-flowchart.py`, a copy of `../shared/tools/gen-flowchart.py`).
//!
//! `cargo bench --bench parse` (divan prints median, mean, fastest and slowest).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use archc::source::{InputKind, MappedText, SourceFile};
use archc::syntax::{self, Mode};

/// The allocator the `archc` binary uses (many small strings: mimalloc keeps them close).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// A generated Markdown diagram, made once per size under target/.
fn generated(nodes: usize, edges: usize, subgraphs: usize) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out: PathBuf = dir.join("target").join("bench-inputs").join(format!("flow-{nodes}-{edges}-{subgraphs}.md"));
    if !out.exists() {
        std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
        let status = Command::new("python3")
            .arg(dir.join("benches/gen-flowchart.py"))
            .args(["--nodes", &nodes.to_string(), "--edges", &edges.to_string(), "--subgraphs", &subgraphs.to_string()])
            .args(["--seed", "1", "--markdown", "-o"])
            .arg(&out)
            .status()
            .expect("python3 runs gen-flowchart.py");
        assert!(status.success(), "gen-flowchart.py failed");
    }
    std::fs::read_to_string(out).expect("read generated diagram")
}

fn seed() -> &'static String {
    static SEED: OnceLock<String> = OnceLock::new();
    SEED.get_or_init(|| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/architecture.md")).expect("seed")
    })
}

fn small() -> &'static String {
    static S: OnceLock<String> = OnceLock::new();
    S.get_or_init(|| generated(10_000, 20_000, 50))
}

fn large() -> &'static String {
    static L: OnceLock<String> = OnceLock::new();
    L.get_or_init(|| generated(100_000, 200_000, 500))
}

/// The first mermaid block of a Markdown document (extracted with the Markdown front end).
fn block_of(text: &str) -> MappedText {
    let doc = archc::source::extract_blocks(text);
    let block = doc.mermaid_blocks().next().expect("a mermaid block").content.clone();
    block
}

fn frontend(text: &str) {
    let file = SourceFile::new("bench.md", text, InputKind::Markdown);
    let result = archc::frontend::run(&file, None, Mode::Full);
    assert!(result.diagram.is_some(), "{:?}", result.diagnostics.first());
    divan::black_box(result);
}

/// Markdown extraction, preprocessing, grammar and FlowDB model.
#[divan::bench(args = ["seed", "10k", "100k"], sample_count = 10)]
fn front_end(which: &str) {
    let text = match which {
        "seed" => seed(),
        "10k" => small(),
        _ => large(),
    };
    frontend(text);
}

/// The grammar and lowering alone (preprocessed text, no FlowDB).
#[divan::bench(args = ["seed", "10k", "100k"], sample_count = 10)]
fn grammar_only(bencher: divan::Bencher, which: &str) {
    let text = match which {
        "seed" => seed(),
        "10k" => small(),
        _ => large(),
    };
    let pre = syntax::preprocess(&block_of(text), Mode::Full).expect("preprocess");
    bencher.bench(|| divan::black_box(syntax::parse_flowchart(&pre.text).expect("parse")));
}

/// pest alone (no lowering).
#[divan::bench(args = ["10k"], sample_count = 10)]
fn pest_only(bencher: divan::Bencher, which: &str) {
    let text = match which {
        "seed" => seed(),
        _ => small(),
    };
    let pre = syntax::preprocess(&block_of(text), Mode::Full).expect("preprocess");
    bencher.bench(|| divan::black_box(syntax::pest_only(pre.text.as_str())));
}

/// FlowDB model alone (from a parsed syntax tree).
#[divan::bench(args = ["10k", "100k"], sample_count = 10)]
fn model_only(bencher: divan::Bencher, which: &str) {
    let text = match which {
        "seed" => seed(),
        "10k" => small(),
        _ => large(),
    };
    let parsed = syntax::parse(&block_of(text), Mode::Full).expect("parse");
    bencher.bench(|| {
        divan::black_box(archc::flowchart::FlowDb::build(&parsed.flowchart, &parsed.preprocessed.config, None))
    });
}

/// Markdown extraction and preprocessing alone.
#[divan::bench(args = ["10k"], sample_count = 10)]
fn markdown_and_preprocess(which: &str) {
    let text = match which {
        "seed" => seed(),
        _ => small(),
    };
    divan::black_box(syntax::preprocess(&block_of(text), Mode::Full).expect("preprocess"));
}
