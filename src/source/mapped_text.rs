use std::ops::Range;

use regex::Regex;

use super::Span;

/// Text derived from a source file, with a map from each of its byte offsets back to the
/// file. Mermaid's preprocessing (comment removal, directives, entity codes, ...) rewrites
/// the diagram before it is parsed; every rewrite here goes through [`MappedText::edit`],
/// so a position found by the parser can always be reported in the Markdown file.
#[derive(Debug, Clone, Default)]
pub struct MappedText {
    text: String,
    segments: Vec<Segment>,
}

/// A run of `text` that starts at `text_start`: either copied byte for byte from the
/// file at `source_start`, or a replacement standing for `source_start..source_end`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    text_start: usize,
    source_start: usize,
    source_end: usize,
    copied: bool,
}

/// One change: replace `range` (offsets into the current text) with `replacement`.
#[derive(Debug, Clone)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn delete(range: Range<usize>) -> Self {
        Self { range, replacement: String::new() }
    }
}

impl MappedText {
    /// `text`, copied from the file at `source_start`.
    pub fn new(text: impl Into<String>, source_start: usize) -> Self {
        let text = text.into();
        let segments =
            vec![Segment { text_start: 0, source_start, source_end: source_start + text.len(), copied: true }];
        Self { text, segments }
    }

    /// Concatenation of pieces, each copied from the file at its own offset.
    pub fn from_pieces<'a>(pieces: impl IntoIterator<Item = (&'a str, usize)>) -> Self {
        let mut out = Self::default();
        for (piece, source_start) in pieces {
            if piece.is_empty() {
                continue;
            }
            out.segments.push(Segment {
                text_start: out.text.len(),
                source_start,
                source_end: source_start + piece.len(),
                copied: true,
            });
            out.text.push_str(piece);
        }
        out
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn segment_at(&self, offset: usize) -> Option<&Segment> {
        let index = self.segments.partition_point(|s| s.text_start <= offset);
        index.checked_sub(1).map(|i| &self.segments[i])
    }

    /// The file offset of text offset `offset` (the position of a start).
    pub fn source_offset(&self, offset: usize) -> usize {
        match self.segment_at(offset) {
            Some(seg) if seg.copied => (seg.source_start + (offset - seg.text_start)).min(seg.source_end),
            Some(seg) => seg.source_start,
            None => self.segments.first().map_or(0, |s| s.source_start),
        }
    }

    /// The file offset of text offset `offset` taken as the end of a range.
    pub fn source_end_offset(&self, offset: usize) -> usize {
        if offset == 0 {
            return self.source_offset(0);
        }
        match self.segment_at(offset - 1) {
            Some(seg) if seg.copied => (seg.source_start + (offset - seg.text_start)).min(seg.source_end),
            Some(seg) => seg.source_end,
            None => 0,
        }
    }

    /// The file span of a text range.
    pub fn source_span(&self, range: Range<usize>) -> Span {
        let start = self.source_offset(range.start);
        let end = if range.end > range.start { self.source_end_offset(range.end) } else { start };
        Span::new(start, end)
    }

    /// A new text with the edits applied; edits must be sorted and must not overlap.
    pub fn edit(&self, edits: impl IntoIterator<Item = Edit>) -> MappedText {
        let mut out = MappedText { text: String::with_capacity(self.text.len()), segments: Vec::new() };
        let mut at = 0;
        for edit in edits {
            debug_assert!(edit.range.start >= at, "edits must be sorted and disjoint");
            out.push_copy(self, at..edit.range.start);
            if !edit.replacement.is_empty() {
                let span = self.source_span(edit.range.clone());
                out.segments.push(Segment {
                    text_start: out.text.len(),
                    source_start: span.start,
                    source_end: span.end,
                    copied: false,
                });
                out.text.push_str(&edit.replacement);
            }
            at = edit.range.end;
        }
        out.push_copy(self, at..self.text.len());
        out
    }

    /// Replace every match of `regex` by `replace(match)`.
    pub fn replace_all(&self, regex: &Regex, mut replace: impl FnMut(&regex::Captures<'_>) -> String) -> MappedText {
        let edits: Vec<Edit> = regex
            .captures_iter(&self.text)
            .filter_map(|caps| {
                let whole = caps.get(0)?;
                let replacement = replace(&caps);
                (replacement != whole.as_str()).then(|| Edit { range: whole.range(), replacement })
            })
            .collect();
        if edits.is_empty() {
            return self.clone();
        }
        self.edit(edits)
    }

    /// Append `text` (this text's own `range`), keeping its mapping.
    fn push_copy(&mut self, from: &MappedText, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let first = from.segments.partition_point(|s| s.text_start <= range.start).saturating_sub(1);
        for (i, seg) in from.segments.iter().enumerate().skip(first) {
            let seg_end = from.segments.get(i + 1).map_or(from.text.len(), |next| next.text_start);
            if seg.text_start >= range.end {
                break;
            }
            let start = seg.text_start.max(range.start);
            let end = seg_end.min(range.end);
            if start >= end {
                continue;
            }
            let segment = if seg.copied {
                let source_start = seg.source_start + (start - seg.text_start);
                Segment {
                    text_start: self.text.len(),
                    source_start,
                    source_end: source_start + (end - start),
                    copied: true,
                }
            } else {
                Segment { text_start: self.text.len(), ..*seg }
            };
            self.segments.push(segment);
            self.text.push_str(&from.text[start..end]);
        }
    }

    /// This text with `suffix` appended (mapped to the end of the text).
    pub fn with_suffix(&self, suffix: &str) -> MappedText {
        let end = self.len();
        self.edit([Edit { range: end..end, replacement: suffix.to_string() }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_positions_of_untouched_text() {
        let text = MappedText::new("a%%x\nbc", 100);
        let edited = text.edit([Edit::delete(1..5)]);
        assert_eq!(edited.as_str(), "abc");
        assert_eq!(edited.source_offset(1), 105);
        assert_eq!(edited.source_span(1..3), Span::new(105, 107));
    }

    #[test]
    fn replacements_map_to_what_they_replace() {
        let text = MappedText::new("x #quot; y", 10);
        let re = Regex::new("#quot;").unwrap();
        let edited = text.replace_all(&re, |_| "QQ".into());
        assert_eq!(edited.as_str(), "x QQ y");
        assert_eq!(edited.source_span(2..4), Span::new(12, 18));
        assert_eq!(edited.source_offset(5), 19);
    }

    #[test]
    fn edits_compose() {
        let text = MappedText::from_pieces([("ab", 0), ("cd", 10)]);
        let once = text.edit([Edit::delete(0..1)]);
        let twice = once.edit([Edit::delete(1..2)]);
        assert_eq!(twice.as_str(), "bd");
        assert_eq!(twice.source_offset(1), 11);
    }
}
