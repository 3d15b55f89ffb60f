//! No input crashes archc: thousands of deterministic mutations of real diagrams (corpus,
//! seed, fixtures), invalid UTF-8 and NUL bytes included, go through the whole front end.
//! Each must end in a model or in at least one error diagnostic with a code, a location
//! inside the file and a help line; none may panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use archc::source::{InputKind, SourceFile};
use archc::syntax::Mode;
use serde_json::Value;

use crate::test::{root, shared_or_vendored, Test};

/// splitmix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const PIECES: &[&[u8]] = &[
    b"[",
    b"]",
    b"(",
    b")",
    b"{",
    b"}",
    b"|",
    b"\"",
    b"`",
    b"-->",
    b"---",
    b"-.",
    b".->",
    b"==",
    b"==>",
    b"~~~",
    b"&",
    b" & ",
    b":::",
    b";",
    b"\n",
    b"\r",
    b"\r\n",
    b"%%",
    b"%%{init: {'theme':'dark'}}%%",
    b"}%%",
    b"@{",
    b"@{ shape: cyl }",
    b"e1@",
    b"subgraph ",
    b"subgraph x [T]\n",
    b"end",
    b"\nend\n",
    b"direction LR",
    b"style ",
    b"classDef c fill:#f00;",
    b"class a c",
    b"click a \"http://x\"",
    b"linkStyle 0 stroke:#f00",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    "\u{2028}".as_bytes(),
    "😀".as_bytes(),
    "東京".as_bytes(),
    b"#quot;",
    b"<b>",
    b"</b>",
    b"<script>",
    b"---\n",
    b"```",
    b"\n```\n",
    b"accTitle: t\n",
    b"accDescr {",
    b"flowchart LR\n",
    b"graph",
    b"x--",
    b"o--",
    b"((",
    b"))",
    b"[(",
    b"[/",
    b"\\]",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 => {
                let end = (at + 1 + rng.below(6)).min(out.len());
                out.drain(at.min(end)..end);
            }
            1 | 2 => {
                let piece = PIECES[rng.below(PIECES.len())];
                out.splice(at..at, piece.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(40)).min(out.len());
                let slice = out[at.min(end)..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, slice);
            }
            4 => out.truncate(at),
            5 => {
                let byte = [0xff, 0xfe, 0xc0, 0x80, 0x00, 0xed][rng.below(6)];
                out.insert(at, byte);
            }
            _ => {
                if at < out.len() {
                    out[at] = out[rng.below(out.len())];
                }
            }
        }
    }
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let corpus = shared_or_vendored("conformance/mermaid/flowchart-parser.jsonl", "mermaid/flowchart-parser.jsonl");
    for line in std::fs::read_to_string(corpus).expect("corpus").lines().step_by(3) {
        let v: Value = serde_json::from_str(line).expect("json");
        seeds.push(v["source"].as_str().expect("source").as_bytes().to_vec());
    }
    for path in [
        "examples/architecture.md",
        "fixtures/architectures/mattermost-restyled.md",
        "fixtures/syntax/unclosed-bracket.md",
    ] {
        seeds.push(std::fs::read(root().join(path)).expect("fixture"));
    }
    seeds
}

/// Run the front end and check the contract; `Err` describes a violation.
fn check_contract(name: &str, bytes: Vec<u8>, kind: InputKind) -> Result<(), String> {
    let len = bytes.len();
    let file = SourceFile::from_bytes(name, bytes, kind);
    let text_len = file.text.len();
    let result = catch_unwind(AssertUnwindSafe(|| archc::frontend::run(&file, None, Mode::Full))).map_err(|e| {
        format!("panic: {:?}", e.downcast_ref::<String>().cloned().or(e.downcast_ref::<&str>().map(|s| s.to_string())))
    })?;
    if result.diagram.is_none() && !result.has_errors() {
        return Err("no model and no error".into());
    }
    for d in &result.diagnostics {
        if d.code.len() != 6 || d.help.is_none() || d.labels.is_empty() {
            return Err(format!("incomplete diagnostic {d:?}"));
        }
        if d.labels.iter().any(|l| l.span.end > text_len.max(len)) {
            return Err(format!("span outside the file: {d:?}"));
        }
    }
    Ok(())
}

#[test]
fn mutated_inputs_never_crash_the_front_end() {
    let seeds = seeds();
    let mut rng = Rng(0x5EED_A4C8);
    let mut failures = Vec::new();
    let mut cases = 0;
    for round in 0..4 {
        for (i, seed) in seeds.iter().enumerate() {
            let mutated = mutate(&mut rng, seed);
            let kind = if round % 2 == 0 { InputKind::Mermaid } else { InputKind::Markdown };
            let bytes = if kind == InputKind::Markdown && !seed.starts_with(b"#") {
                [b"# t\n\n```mermaid\n".as_slice(), &mutated, b"\n```\n"].concat()
            } else {
                mutated
            };
            cases += 1;
            if let Err(e) = check_contract(&format!("case-{round}-{i}"), bytes.clone(), kind) {
                failures.push(format!("{e}\n  input: {:?}", String::from_utf8_lossy(&bytes)));
            }
        }
    }
    assert!(cases >= 1200, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} mutated inputs broke the contract:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

#[test]
fn mutated_seed_never_crashes() {
    let seed = std::fs::read(root().join("examples/architecture.md")).expect("seed");
    let mut rng = Rng(42);
    let mut failures = Vec::new();
    for i in 0..2500 {
        let bytes = mutate(&mut rng, &seed);
        if let Err(e) = check_contract(&format!("seed-{i}"), bytes.clone(), InputKind::Markdown) {
            failures.push(format!("{e}\n  input: {:?}", String::from_utf8_lossy(&bytes)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mutated seeds broke the contract:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

#[test]
fn deep_nesting_and_long_lines_are_diagnostics_not_crashes() {
    let deep = format!("flowchart TB\n{}a\n{}", "subgraph s\n".repeat(20_000), "end\n".repeat(20_000));
    check_contract("deep", deep.into_bytes(), InputKind::Mermaid).expect("deep nesting");
    let long = format!("flowchart LR\n{}\n", (0..20_000).map(|i| format!("n{i}")).collect::<Vec<_>>().join(" --> "));
    check_contract("long", long.into_bytes(), InputKind::Mermaid).expect("long chain");
    let brackets = format!("flowchart LR\na{}\n", "[(".repeat(10_000));
    check_contract("brackets", brackets.into_bytes(), InputKind::Mermaid).expect("brackets");
}

/// Inputs that broke the label sanitiser or the URL sanitiser while they were being written
/// (found by differential fuzzing against Mermaid): a panic slicing inside a character,
/// a stack overflow and quadratic time on deeply nested HTML in a label.
#[test]
fn sanitiser_stress_inputs_are_diagnostics_not_crashes() {
    let inputs = [
        "graph TD\nA\nclick A \"%\u{e9}%5\u{e9}\\\u{e9}\"\n".to_string(),
        format!("graph TD\nA[\"{}x\"]\n", "<div>".repeat(50_000)),
        format!("graph TD\nA[\"{}x\"]\n", "<table><tr><td>".repeat(20_000)),
        format!(
            "graph TD\nA[\"{}{}{}x\"]\n",
            "<svg>".repeat(20_000),
            "<template>".repeat(20_000),
            "<b><i>".repeat(20_000)
        ),
        format!(
            "graph TD\nA[\"{}{}\"]\n",
            (0..30_000).map(|i| format!("<b x={i}>")).collect::<String>(),
            "x</i>".repeat(1000)
        ),
    ];
    for (i, input) in inputs.into_iter().enumerate() {
        let started = std::time::Instant::now();
        check_contract(&format!("sanitiser-{i}"), input.into_bytes(), InputKind::Mermaid).expect("contract");
        assert!(started.elapsed().as_secs() < 20, "input {i} took {:?}", started.elapsed());
    }
}

#[test]
fn the_binary_exits_0_or_1_with_diagnostics() {
    let seed = std::fs::read(root().join("examples/architecture.md")).expect("seed");
    let mut rng = Rng(7);
    for _ in 0..60 {
        let bytes = mutate(&mut rng, &seed);
        let run = Test::new().args(["check", "--format", "json", "-"]).stdin(bytes).run();
        assert!(run.status == 0 || run.status == 1, "status {}: {}", run.status, run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).expect("json output");
        assert_eq!(run.status == 1, doc["errors"].as_u64() > Some(0), "{}", run.stdout);
    }
}
