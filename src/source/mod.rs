//! Input files: reading, line:column positions, Markdown extraction and text that keeps
//! track of where each byte came from.

mod line_index;
pub mod mapped_text;
mod markdown;
mod source_file;
mod span;

pub use line_index::{LineCol, LineIndex};
pub use mapped_text::{Edit, MappedText};
pub use markdown::{extract_blocks, CodeBlock, MarkdownDocument};
pub use source_file::{InputKind, SourceFile};
pub use span::Span;
