use std::path::Path;

use super::LineIndex;

/// What the input file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Markdown with ```` ```mermaid ```` fences.
    Markdown,
    /// A bare Mermaid diagram (`.mmd`, `--input mermaid`).
    Mermaid,
}

impl InputKind {
    /// The kind a file name suggests: `.mmd`/`.mermaid` are diagrams, everything else Markdown.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("mmd" | "mermaid") => Self::Mermaid,
            _ => Self::Markdown,
        }
    }
}

/// One input file, its text and its line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as given, or `<stdin>`).
    pub name: String,
    pub text: String,
    pub index: LineIndex,
    pub kind: InputKind,
    /// The offset of the first byte that was not valid UTF-8, if any (the text then holds
    /// replacement characters from there on).
    pub invalid_utf8_at: Option<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>, kind: InputKind) -> Self {
        let text = text.into();
        let index = LineIndex::new(&text);
        Self { name: name.into(), text, index, kind, invalid_utf8_at: None }
    }

    /// A file from raw bytes; invalid UTF-8 is replaced and remembered, never a panic.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>, kind: InputKind) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::new(name, text, kind),
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let mut file = Self::new(name, text, kind);
                file.invalid_utf8_at = Some(at);
                file
            }
        }
    }

    pub fn line_col(&self, offset: usize) -> super::LineCol {
        self.index.line_col(&self.text, offset)
    }
}
