//! An SMTP reply (RFC 5321 §4.2): a three-digit code, an optional RFC 3463 enhanced status
//! code, and one or more lines of text. One parser for the wire, one for the one-line form
//! scenarios and notices use, one formatter for each.

use std::fmt;
use std::str::FromStr;

use crate::EnhancedStatus;

/// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets, CRLF included.
pub const MAX_LINE: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code of the first line, when it has one.
    pub status: Option<EnhancedStatus>,
    /// The text of each line, without code or enhanced status code.
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyError(pub String);

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReplyError {}

/// One line split into code, separator (`' '` last, `'-'` more to come), status and text.
fn split_line(raw: &str) -> Option<(u16, char, Option<EnhancedStatus>, &str)> {
    let head = raw.get(..3)?;
    let code: u16 = head
        .parse()
        .ok()
        .filter(|c| (200..=599).contains(c) && head.bytes().all(|b| b.is_ascii_digit()))?;
    let rest = &raw[3..];
    let (sep, text) = match rest.chars().next() {
        None => (' ', ""),
        Some(c @ (' ' | '-')) => (c, &rest[1..]),
        Some(_) => return None,
    };
    let first_word = text.split(' ').next().unwrap_or("");
    match EnhancedStatus::parse(first_word) {
        Some(status) => Some((
            code,
            sep,
            Some(status),
            text[first_word.len()..].trim_start(),
        )),
        None => Some((code, sep, None, text)),
    }
}

impl Reply {
    pub fn new(code: u16, status: Option<EnhancedStatus>, text: &str) -> Self {
        Reply {
            code,
            status,
            lines: vec![text.to_string()],
        }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// All the text, lines joined with a space.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// The first line's text.
    pub fn first_text(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or_default()
    }

    /// Wire form: `451-…\r\n451 …\r\n`, the enhanced code repeated on each line.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.push_str(&format!("{}{sep}", self.code));
            if let Some(s) = self.status {
                out.push_str(&format!("{s} "));
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        if self.lines.is_empty() {
            out.push_str(&format!("{}\r\n", self.code));
        }
        out
    }

    /// One-line form for logs and notices: `451 4.4.7 Message delayed`.
    pub fn one_line(&self) -> String {
        let mut out = self.code.to_string();
        if let Some(s) = self.status {
            out.push_str(&format!(" {s}"));
        }
        for line in self.lines.iter().filter(|l| !l.is_empty()) {
            out.push(' ');
            out.push_str(line);
        }
        out
    }

    /// The first line as sent, enhanced code included: `250 2.0.0 OK`.
    pub fn first_line(&self) -> String {
        Reply {
            lines: self.lines.iter().take(1).cloned().collect(),
            ..self.clone()
        }
        .one_line()
    }

    /// A whole reply as it came off the wire (CRLF or LF line ends).
    pub fn parse_wire(text: &str) -> Result<Reply, ReplyError> {
        let mut parser = ReplyParser::default();
        let mut reply = None;
        for line in text.split_inclusive('\n') {
            if reply.is_some() {
                return Err(ReplyError("text after the reply's last line".into()));
            }
            reply = parser.line(line)?;
        }
        reply.ok_or_else(|| ReplyError("the reply has no last line".into()))
    }
}

/// Reads a reply line by line (sans-IO): feed each line as it arrives; the last line
/// (`250 …` rather than `250-…`) yields the reply.
#[derive(Clone, Debug, Default)]
pub struct ReplyParser {
    code: Option<u16>,
    status: Option<EnhancedStatus>,
    lines: Vec<String>,
}

/// Lines one reply may have before the parser refuses it: memory stays bounded against a
/// server that never ends its reply.
pub const MAX_LINES: usize = 256;

impl ReplyParser {
    pub fn line(&mut self, raw: &str) -> Result<Option<Reply>, ReplyError> {
        let raw = raw.trim_end_matches(['\r', '\n']);
        if raw.len() + 2 > MAX_LINE * 2 {
            return Err(ReplyError("a reply line far over 512 octets".into()));
        }
        let (code, sep, status, text) = split_line(raw)
            .ok_or_else(|| ReplyError(format!("`{raw}` is not an SMTP reply line")))?;
        if *self.code.get_or_insert(code) != code {
            return Err(ReplyError(format!(
                "`{raw}`: every line of one reply has the same code"
            )));
        }
        if self.lines.is_empty() {
            self.status = status;
        }
        if self.lines.len() >= MAX_LINES {
            return Err(ReplyError("a reply of more than 256 lines".into()));
        }
        self.lines.push(text.to_string());
        Ok((sep == ' ').then(|| {
            let done = std::mem::take(self);
            Reply {
                code,
                status: done.status,
                lines: done.lines,
            }
        }))
    }
}

/// The one-line form scenarios write: `"451 4.4.7 Message delayed"`, lines of a multi-line
/// reply separated by `\n`, each starting with the code. Strict: the form is the author's.
impl FromStr for Reply {
    type Err = ReplyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // LF separates lines; anything else that controls a terminal or the wire (CR, NUL)
        // would let a scripted reply forge lines of its own.
        for (i, line) in s.split('\n').enumerate() {
            if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
                return Err(ReplyError(format!(
                    "line {} of the reply holds {}: a reply is text, its lines separated by `\\n` alone",
                    i + 1,
                    match c {
                        '\r' => "a CR".to_string(),
                        '\0' => "a NUL".to_string(),
                        other => format!("the control character {}", other.escape_default()),
                    }
                )));
            }
        }
        let mut code = None;
        let mut status = None;
        let mut lines = Vec::new();
        for (i, raw) in s.lines().enumerate() {
            let (this, sep, esc, text) = split_line(raw).ok_or_else(|| {
                ReplyError(format!(
                    "`{raw}`: a reply line starts with a code from 200 to 599, then a space and text"
                ))
            })?;
            if sep == '-' {
                return Err(ReplyError(format!(
                    "`{raw}`: the code is followed by a space and text"
                )));
            }
            if *code.get_or_insert(this) != this {
                return Err(ReplyError(format!(
                    "`{raw}`: every line of one reply has the same code"
                )));
            }
            if i == 0 {
                status = esc;
            }
            if raw.len() + 2 > MAX_LINE {
                return Err(ReplyError(
                    "a reply line is at most 512 octets (RFC 5321 §4.5.3.1)".into(),
                ));
            }
            lines.push(text.to_string());
        }
        let code = code.ok_or_else(|| {
            ReplyError("an empty reply: write e.g. `451 4.4.7 Message delayed`".into())
        })?;
        if let Some(s) = status
            && u16::from(s.class) != code / 100
        {
            return Err(ReplyError(format!(
                "`{s}`: the enhanced code's class differs from the reply code's"
            )));
        }
        Ok(Reply {
            code,
            status,
            lines,
        })
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

serde_as_text!(Reply);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_form() {
        let r: Reply = "451 4.7.500 Access denied, please try again later"
            .parse()
            .unwrap();
        assert_eq!(r.code, 451);
        assert_eq!(r.status, Some(EnhancedStatus::new(4, 7, 500)));
        assert_eq!(
            r.one_line(),
            "451 4.7.500 Access denied, please try again later"
        );
        assert_eq!(
            r.to_wire(),
            "451 4.7.500 Access denied, please try again later\r\n"
        );
    }

    #[test]
    fn multi_line_wire() {
        let r = Reply::parse_wire("250-mx1 hello\r\n250-PIPELINING\r\n250 STARTTLS\r\n").unwrap();
        assert_eq!(r.lines, ["mx1 hello", "PIPELINING", "STARTTLS"]);
        assert_eq!(r.status, None);
        assert_eq!(Reply::parse_wire(&r.to_wire()).unwrap(), r);
    }

    #[test]
    fn bad_replies() {
        for s in [
            "",
            "45 x",
            "600 x",
            "451-4.7.1 x",
            "451 5.7.1 class differs",
            "abc",
            "451x",
            "999 x",
            "250 a\n251 b",
            "A\u{11347}",
            "45\u{11347}",
            "451 4.7.1 a\r\n250 2.0.0 forged",
            "451 4.7.1 a\r250 forged",
            "451 4.7.1 nul\0",
            "451 4.7.1 ok\n451 4.7.1 esc\u{1b}[2J",
        ] {
            assert!(s.parse::<Reply>().is_err(), "{s}");
        }
        assert!(Reply::parse_wire("250-a\r\n").is_err());
        assert!(Reply::parse_wire("250-a\r\n251 b\r\n").is_err());
    }

    #[test]
    fn reply_lines_are_at_most_512_octets_on_the_wire() {
        let fits = format!("451 4.4.7 {}", "x".repeat(500));
        assert_eq!(fits.len() + 2, MAX_LINE);
        assert!(fits.parse::<Reply>().is_ok());
        assert!(format!("{fits}x").parse::<Reply>().is_err());
    }

    proptest! {
        #[test]
        fn one_line_round_trip(code in 200u16..600, text in "[a-zA-Z][a-zA-Z ]{0,40}") {
            let line = format!("{code} {}", text.trim_end());
            if let Ok(reply) = line.parse::<Reply>() {
                prop_assert_eq!(reply.one_line().parse::<Reply>().unwrap(), reply);
            }
        }

        #[test]
        fn wire_round_trip(code in 200u16..600, esc in proptest::option::of((0u16..1000, 0u16..1000)),
                           lines in prop::collection::vec("[ -~]{0,60}", 1..5)) {
            let lines: Vec<String> = lines.into_iter().map(|l| l.trim().to_string()).collect();
            let class = (code / 100) as u8;
            let status = esc.filter(|_| matches!(class, 2 | 4 | 5)).map(|(s, d)| EnhancedStatus::new(class, s, d));
            // A line whose text starts like a status would be read as one: not a round trip.
            prop_assume!(lines.iter().all(|l| EnhancedStatus::parse(l.split(' ').next().unwrap_or("")).is_none()));
            let r = Reply { code, status, lines };
            let back = Reply::parse_wire(&r.to_wire()).unwrap();
            prop_assert_eq!(back.code, r.code);
            prop_assert_eq!(back.status, r.status);
            prop_assert_eq!(back.lines, r.lines);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,80}") {
            let _ = s.parse::<Reply>();
            let _ = Reply::parse_wire(&s);
        }
    }
}
