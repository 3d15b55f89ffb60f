//! The whole front end on arbitrary bytes, as Markdown and as a bare diagram:
//! it must return a model or diagnostics, never panic.
//!
//! `cargo fuzz run frontend` (from the project root; cargo-fuzz uses nightly features,
//! `RUSTC_BOOTSTRAP=1` lets the stable toolchain build it).

#![no_main]

use archc::source::{InputKind, SourceFile};
use archc::syntax::Mode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in [InputKind::Markdown, InputKind::Mermaid] {
        let file = SourceFile::from_bytes("fuzz", data.to_vec(), kind);
        let result = archc::frontend::run(&file, None, Mode::Full);
        assert!(result.diagram.is_some() || result.has_errors());
        let raw = archc::frontend::run(&file, None, Mode::Raw);
        assert!(raw.diagram.is_some() || raw.has_errors());
    }
});
