/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Maps byte offsets of one file to 1-based line:column (LF and CRLF line ends; a
/// leading byte-order mark is not counted as a column).
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        Self { line_starts }
    }

    /// The 0-based line that contains `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(usize::MAX)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Line and column of `offset` in `text` (the text this index was built from).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let prefix = &text[start..offset];
        let prefix = if line == 0 { prefix.strip_prefix('\u{feff}').unwrap_or(prefix) } else { prefix };
        LineCol { line: line + 1, column: prefix.chars().count() + 1 }
    }

    /// The text of the 0-based `line`, without its line end.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let start = self.line_starts.get(line).copied().unwrap_or(text.len()).min(text.len());
        let end = self.line_starts.get(line + 1).copied().unwrap_or(text.len()).min(text.len());
        text[start..end].trim_end_matches('\n').trim_end_matches('\r')
    }
}

pub(crate) fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "ab\r\nä€x\n\nz";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(index.line_col(text, 4), LineCol { line: 2, column: 1 });
        // "ä" is 2 bytes, "€" 3: "x" is the third character of line 2
        assert_eq!(index.line_col(text, 4 + 2 + 3), LineCol { line: 2, column: 3 });
        assert_eq!(index.line_col(text, text.len()), LineCol { line: 4, column: 2 });
        assert_eq!(index.line_text(text, 0), "ab");
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = "\u{feff}graph";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 3), LineCol { line: 1, column: 1 });
    }

    #[test]
    fn offsets_inside_a_character_round_down() {
        let text = "é";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 1), LineCol { line: 1, column: 1 });
    }
}
