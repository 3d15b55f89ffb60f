use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd};

use super::{MappedText, Span};

/// A fenced code block of a Markdown file.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    /// 0-based position among all fenced blocks of the file.
    pub index: usize,
    /// The first word of the info string (`mermaid`, `yaml`, ...).
    pub lang: String,
    /// The whole info string (`yaml archc`).
    pub info: String,
    /// The block's content, mapped to file offsets.
    pub content: MappedText,
    /// The whole block, fences included.
    pub span: Span,
    /// The nearest heading above the block.
    pub heading: Option<String>,
}

impl CodeBlock {
    pub fn is_mermaid(&self) -> bool {
        self.lang == "mermaid"
    }

    /// `yaml archc` / `yml archc`: an archc configuration block.
    pub fn is_archc_config(&self) -> bool {
        let mut words = self.info.split_whitespace();
        matches!(words.next(), Some("yaml" | "yml")) && words.any(|w| w == "archc")
    }
}

/// The fenced blocks of a Markdown document, in order.
#[derive(Debug, Clone, Default)]
pub struct MarkdownDocument {
    pub blocks: Vec<CodeBlock>,
    /// The YAML front-matter (`---` ... `---` at the top), mapped to file offsets.
    pub front_matter: Option<MappedText>,
}

impl MarkdownDocument {
    pub fn mermaid_blocks(&self) -> impl Iterator<Item = &CodeBlock> {
        self.blocks.iter().filter(|b| b.is_mermaid())
    }
}

type OpenFence = (String, Span, Vec<(usize, usize)>);

/// Every fenced code block of `text` (a CommonMark parse, so fences inside other
/// constructs and indented code are told apart correctly).
pub fn extract_blocks(text: &str) -> MarkdownDocument {
    let mut blocks = Vec::new();
    let mut heading: Option<String> = None;
    let mut in_heading: Option<(HeadingLevel, String)> = None;
    // the open fence: info string, span, and (offset, length) of each text piece
    let mut current: Option<OpenFence> = None;
    let mut front_matter: Option<Vec<(usize, usize)>> = None;
    let mut in_front_matter = false;

    for (event, range) in Parser::new_ext(text, Options::ENABLE_YAML_STYLE_METADATA_BLOCKS).into_offset_iter() {
        match event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => {
                in_front_matter = true;
                front_matter = Some(Vec::new());
            }
            Event::End(TagEnd::MetadataBlock(_)) => in_front_matter = false,
            Event::Text(t) if in_front_matter => {
                let start =
                    if text.get(range.clone()) == Some(&*t) { range.start } else { range.end.saturating_sub(t.len()) };
                if let Some(pieces) = front_matter.as_mut() {
                    pieces.push((start, t.len()));
                }
            }
            Event::Start(Tag::Heading { level, .. }) => in_heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((_, title)) = in_heading.take() {
                    heading = Some(title.trim().to_string());
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some((info.to_string(), Span::new(range.start, range.end), Vec::new()));
            }
            Event::Text(t) | Event::Code(t) if current.is_none() => {
                if let Some((_, title)) = in_heading.as_mut() {
                    title.push_str(&t);
                }
            }
            Event::Text(t) => {
                if let Some((_, _, pieces)) = current.as_mut() {
                    // Text equal to its source range is copied; otherwise (container
                    // indentation removed) it is anchored at the end of its range.
                    let start = if text.get(range.clone()) == Some(&*t) {
                        range.start
                    } else {
                        range.end.saturating_sub(t.len())
                    };
                    pieces.push((start, t.len()));
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((info, span, pieces)) = current.take() {
                    let content = if pieces.is_empty() {
                        let body_start = text[span.start..span.end].find('\n').map_or(span.end, |i| span.start + i + 1);
                        MappedText::new("", body_start)
                    } else {
                        MappedText::from_pieces(
                            pieces.iter().map(|&(start, len)| (text.get(start..start + len).unwrap_or(""), start)),
                        )
                    };
                    let lang = info.split_whitespace().next().unwrap_or("").to_string();
                    blocks.push(CodeBlock {
                        index: blocks.len(),
                        lang,
                        info: info.trim().to_string(),
                        content,
                        span,
                        heading: heading.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    let front_matter = front_matter.map(|pieces| {
        MappedText::from_pieces(pieces.iter().map(|&(start, len)| (text.get(start..start + len).unwrap_or(""), start)))
    });
    MarkdownDocument { blocks, front_matter }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mermaid_fences_with_file_offsets() {
        let md = "# Title\n\ntext\n\n```mermaid\ngraph TD\nA-->B\n```\n\n## Config\n\n```yaml archc\nx: 1\n```\n";
        let doc = extract_blocks(md);
        assert_eq!(doc.blocks.len(), 2);
        let m = &doc.blocks[0];
        assert!(m.is_mermaid());
        assert_eq!(m.content.as_str(), "graph TD\nA-->B\n");
        assert_eq!(&md[m.content.source_offset(9)..m.content.source_offset(9) + 5], "A-->B");
        assert_eq!(m.heading.as_deref(), Some("Title"));
        assert!(doc.blocks[1].is_archc_config());
        assert_eq!(doc.blocks[1].heading.as_deref(), Some("Config"));
    }

    #[test]
    fn front_matter_is_kept_with_positions() {
        let md = "---\narchc:\n  availability_zones: 3\n---\n\n# Title\n";
        let doc = extract_blocks(md);
        let fm = doc.front_matter.expect("front matter");
        assert!(fm.as_str().contains("availability_zones: 3"));
        let at = fm.as_str().find("availability").expect("key");
        assert_eq!(&md[fm.source_offset(at)..][..12], "availability");
    }

    #[test]
    fn fences_in_lists_keep_their_positions() {
        let md = "- item\n\n  ```mermaid\n  graph TD\n  A-->B\n  ```\n";
        let doc = extract_blocks(md);
        let m = &doc.blocks[0];
        assert_eq!(m.content.as_str(), "graph TD\nA-->B\n");
        let at = m.content.source_offset(9);
        assert_eq!(&md[at..at + 5], "A-->B");
    }
}
