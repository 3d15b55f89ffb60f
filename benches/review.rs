#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // benchmark harness: a failure is a bug to see at once
//! `archc diff` in memory: a fixture pair of the seed, and the generated 10k-node diagram
//! (`benches/gen-flowchart.py --nodes 10000 --edges 20000 --subgraphs 50 --seed 1`) against a
//! mutated copy. `cargo bench --bench review`.
//!
//! `*_whole` compiles both sides (analysis, plan, emit) and reviews them, as the command does;
//! `*_compare` reviews and renders two sides compiled once (the review stage alone).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use archc::analysis::Options;
use archc::review::{self, markdown, Side};
use archc::source::{InputKind, SourceFile};

fn main() {
    divan::main();
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The same change as the integration test's: every 50th arrow line dropped, every 97th plain
/// box relabelled, 200 boxes and 400 arrows added.
fn mutate(text: &str) -> String {
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
    for i in 0..200 {
        out.push_str(&format!("  added{i}[new service {i}]\n  added{i} --> n{}\n  n{} --> added{i}\n", i * 7, i * 11));
    }
    out.push_str(&text[fence + 1..]);
    out
}

fn big() -> &'static (String, String) {
    static BIG: OnceLock<(String, String)> = OnceLock::new();
    BIG.get_or_init(|| {
        let out: PathBuf = root().join("target/bench-inputs/flow-10000-20000-50.md");
        if !out.exists() {
            std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
            let ok = Command::new("python3")
                .arg(root().join("benches/gen-flowchart.py"))
                .args(["--nodes", "10000", "--edges", "20000", "--subgraphs", "50", "--seed", "1", "--markdown", "-o"])
                .arg(&out)
                .status()
                .expect("python3")
                .success();
            assert!(ok, "gen-flowchart.py failed");
        }
        let old = std::fs::read_to_string(out).expect("generated diagram");
        let new = mutate(&old);
        (old, new)
    })
}

fn pair() -> &'static (String, String) {
    static PAIR: OnceLock<(String, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("fixture");
        (read("fixtures/review/engine-change/old.md"), read("fixtures/review/engine-change/new.md"))
    })
}

fn compile(name: &str, text: &str) -> Side {
    Side::compile(SourceFile::new(name, text, InputKind::Markdown), None, &Options::default())
}

fn whole(texts: &(String, String)) -> String {
    let (old, new) = (compile("old.md", &texts.0), compile("new.md", &texts.1));
    markdown::render(&review::review(&old, &new))
}

/// The seed's engine change: both sides compiled, reviewed, rendered.
#[divan::bench(sample_count = 50)]
fn seed_pair_whole() {
    let comment = whole(pair());
    assert!(comment.contains("data/Rds"));
    divan::black_box(comment);
}

/// The review stage alone on the seed pair.
#[divan::bench(sample_count = 100)]
fn seed_pair_compare(bencher: divan::Bencher) {
    let (old, new) = (compile("old.md", &pair().0), compile("new.md", &pair().1));
    bencher.bench(|| divan::black_box(markdown::render(&review::review(&old, &new))));
}

/// 10k nodes / 20k edges against a mutated copy: both sides analysed, reviewed, rendered.
#[divan::bench(sample_count = 10)]
fn ten_k_whole() {
    let comment = whole(big());
    assert!(comment.len() <= markdown::LIMIT, "{} bytes", comment.len());
    divan::black_box(comment);
}

/// The review stage alone on the 10k pair (graph diff, findings, picture, Markdown).
#[divan::bench(sample_count = 10)]
fn ten_k_compare(bencher: divan::Bencher) {
    let (old, new) = (compile("old.md", &big().0), compile("new.md", &big().1));
    bencher.bench(|| divan::black_box(markdown::render(&review::review(&old, &new))));
}
