//! Load errors that point at the file, line and column of the problem.

use std::fmt;

/// A scenario that cannot be loaded. Displayed as `file:line:col: message`, the form editors
/// and terminals turn into a jump-to-location link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 when the problem has no single place (an unreadable file).
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl LoadError {
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        LoadError::new(file, 0, 0, message)
    }

    /// An error at a byte offset of the file's text.
    pub fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, col) = line_col(text, offset);
        LoadError::new(file, line, col, message)
    }

    /// An error at a line and column; the message is made readable ([`readable`]).
    pub fn new(file: &str, line: usize, col: usize, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_string(),
            line,
            col,
            message: readable(&message.into()),
        }
    }
}

/// Longest value quoted in a message, in characters; the rest is cut.
const MAX_QUOTED: usize = 60;
/// Longest message, in characters.
const MAX_MESSAGE: usize = 400;

/// A message a person can read on one terminal line or two: values quoted in backticks are
/// cut to [`MAX_QUOTED`] characters, control characters are shown escaped (`\r`, `\0`), and
/// the whole is cut to [`MAX_MESSAGE`]. A file's content never reaches the terminal raw.
pub fn readable(message: &str) -> String {
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let quoted = i % 2 == 1;
        let count = part.chars().count();
        for (n, c) in part.chars().enumerate() {
            if quoted && n == MAX_QUOTED - 1 && count > MAX_QUOTED {
                out.push_str(&format!("… ({count} characters)"));
                break;
            }
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
    }
    let count = out.chars().count();
    if count > MAX_MESSAGE {
        let mut cut: String = out.chars().take(MAX_MESSAGE - 1).collect();
        cut.push('…');
        return cut;
    }
    out
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let offset = (0..=offset)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 8), (2, 3));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn long_values_are_cut_and_control_characters_shown() {
        let long = "k".repeat(3_000_000);
        let m = readable(&format!("unknown field `{long}`, expected one of `a`, `b`"));
        assert!(m.len() < 200, "{m}");
        assert!(
            m.contains("(3000000 characters)`, expected one of `a`, `b`"),
            "{m}"
        );
        assert_eq!(readable("`a\r\nb\0`"), "`a\\r\\nb\\u{0}`");
        assert!(readable(&"x".repeat(5000)).chars().count() <= MAX_MESSAGE);
    }
}
