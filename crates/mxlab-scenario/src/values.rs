//! Small value types that scenario keys parse into, each validated while the file is read so
//! that a bad value is reported at its own line and column.

use std::fmt;
use std::str::FromStr;

use hickory_proto::rr::RecordType;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

macro_rules! deserialize_from_str {
    ($ty:ty) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A range of counts from 1: `"3"` (only the third), `"1-3"`, `"4-"` (the fourth on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountRange {
    pub first: u32,
    pub last: Option<u32>,
}

impl CountRange {
    pub fn contains(&self, n: u32) -> bool {
        n >= self.first && self.last.is_none_or(|last| n <= last)
    }
}

impl FromStr for CountRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("`{s}` is not a count range: write `3`, `1-3` or `4-` (counted from 1)");
        let number = |t: &str| t.trim().parse::<u32>().ok().filter(|n| *n >= 1);
        let range = match s.split_once('-') {
            None => {
                let n = number(s).ok_or_else(bad)?;
                CountRange {
                    first: n,
                    last: Some(n),
                }
            }
            Some((a, "")) => CountRange {
                first: number(a).ok_or_else(bad)?,
                last: None,
            },
            Some((a, b)) => CountRange {
                first: number(a).ok_or_else(bad)?,
                last: Some(number(b).ok_or_else(bad)?),
            },
        };
        if range.last.is_some_and(|last| last < range.first) {
            return Err(format!("`{s}`: the range ends before it starts"));
        }
        Ok(range)
    }
}
deserialize_from_str!(CountRange);

/// A DNS query type by its mnemonic (`MX`, `TXT`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QType(pub RecordType);

impl FromStr for QType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match RecordType::from_str(&s.to_ascii_uppercase()) {
            Ok(RecordType::Unknown(_)) | Err(_) => Err(format!(
                "`{s}` is not a DNS record type (e.g. MX, A, AAAA, TXT)"
            )),
            Ok(rtype) => Ok(QType(rtype)),
        }
    }
}
deserialize_from_str!(QType);

/// An RFC 3339 instant with its UTC offset kept, so reports speak the scenario's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub OffsetDateTime);

impl FromStr for Instant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            format!("`{s}` is not an RFC 3339 time (2024-05-08T20:40:00+01:00): {e}")
        })?;
        // Certificates and story offsets of up to a century must stay representable.
        if !(1970..=9000).contains(&t.year()) {
            return Err(format!(
                "`{s}`: a story starts between the years 1970 and 9000"
            ));
        }
        Ok(Instant(t))
    }
}
deserialize_from_str!(Instant);

/// An SMTP reply as a scenario writes it: `"451 4.4.7 Message delayed"`. Lines of a
/// multi-line reply are separated by `\n`; each line's text follows the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplySpec {
    pub code: u16,
    /// Enhanced status code (`4.4.7`), when the first line has one.
    pub enhanced: Option<(u8, u16, u16)>,
    /// The text of each line, without code or enhanced code.
    pub lines: Vec<String>,
}

impl ReplySpec {
    pub fn new(code: u16, enhanced: Option<(u8, u16, u16)>, text: &str) -> Self {
        ReplySpec {
            code,
            enhanced,
            lines: vec![text.to_string()],
        }
    }

    /// Wire form: `451-…\r\n451 …\r\n`, the enhanced code repeated on each line.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 == self.lines.len() { ' ' } else { '-' };
            out.push_str(&format!("{}{sep}", self.code));
            if let Some((a, b, c)) = self.enhanced {
                out.push_str(&format!("{a}.{b}.{c} "));
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out
    }

    /// One-line form for logs and DSNs: `451 4.4.7 Message delayed`.
    pub fn one_line(&self) -> String {
        let mut out = self.code.to_string();
        if let Some((a, b, c)) = self.enhanced {
            out.push_str(&format!(" {a}.{b}.{c}"));
        }
        for line in &self.lines {
            out.push(' ');
            out.push_str(line);
        }
        out
    }
}

fn parse_enhanced(word: &str) -> Option<(u8, u16, u16)> {
    let mut parts = word.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && matches!(class, 2 | 4 | 5) && subject < 1000 && detail < 1000)
        .then_some((class, subject, detail))
}

impl FromStr for ReplySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut code = None;
        let mut enhanced = None;
        let mut lines = Vec::new();
        for (i, raw) in s.lines().enumerate() {
            let (head, rest) = raw.split_at_checked(3).unwrap_or((raw, ""));
            let this: u16 = head
                .parse()
                .ok()
                .filter(|c| (200..=599).contains(c))
                .ok_or_else(|| {
                    format!("`{raw}`: a reply line starts with a code from 200 to 599")
                })?;
            if *code.get_or_insert(this) != this {
                return Err(format!(
                    "`{raw}`: every line of one reply has the same code"
                ));
            }
            if !(rest.is_empty() || rest.starts_with(' ')) {
                return Err(format!("`{raw}`: the code is followed by a space and text"));
            }
            let mut text = rest.trim_start();
            let first_word = text.split(' ').next().unwrap_or("");
            if let Some(esc) = parse_enhanced(first_word) {
                if i == 0 {
                    enhanced = Some(esc);
                }
                text = text[first_word.len()..].trim_start();
            }
            // The line as it goes on the wire, CRLF included: at most 512 octets (§4.5.3.1.5).
            if raw.len() + 2 > 512 {
                return Err("a reply line is at most 512 octets (RFC 5321 §4.5.3.1)".into());
            }
            lines.push(text.to_string());
        }
        let code = code.ok_or("an empty reply: write e.g. `451 4.4.7 Message delayed`")?;
        if let Some((class, _, _)) = enhanced
            && u16::from(class) != code / 100
        {
            return Err(format!(
                "`{s}`: the enhanced code's class differs from the reply code's"
            ));
        }
        Ok(ReplySpec {
            code,
            enhanced,
            lines,
        })
    }
}
deserialize_from_str!(ReplySpec);

impl fmt::Display for ReplySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// A compiled regular expression.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl FromStr for Pattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        regex::Regex::new(s).map(Pattern).map_err(|e| e.to_string())
    }
}
deserialize_from_str!(Pattern);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn count_ranges() {
        let r: CountRange = "1-3".parse().unwrap();
        assert!(r.contains(1) && r.contains(3) && !r.contains(4));
        let r: CountRange = "4-".parse().unwrap();
        assert!(!r.contains(3) && r.contains(4) && r.contains(1000));
        let r: CountRange = "2".parse().unwrap();
        assert!(r.contains(2) && !r.contains(1) && !r.contains(3));
        for bad in ["0", "3-1", "", "-", "a-b", "1-2-3"] {
            assert!(bad.parse::<CountRange>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn replies_parse_with_and_without_enhanced_codes() {
        let r: ReplySpec = "451 4.4.7 Message delayed".parse().unwrap();
        assert_eq!(r.code, 451);
        assert_eq!(r.enhanced, Some((4, 4, 7)));
        assert_eq!(r.to_wire(), "451 4.4.7 Message delayed\r\n");
        let r: ReplySpec = "421 Too busy".parse().unwrap();
        assert_eq!(r.enhanced, None);
        assert_eq!(r.one_line(), "421 Too busy");
        let r: ReplySpec = "550 5.7.1 first\n550 5.7.1 second".parse().unwrap();
        assert_eq!(r.to_wire(), "550-5.7.1 first\r\n550 5.7.1 second\r\n");
        for bad in [
            "",
            "45 x",
            "451x",
            "999 x",
            "451 5.4.7 class differs",
            "250 a\n251 b",
        ] {
            assert!(bad.parse::<ReplySpec>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reply_lines_are_at_most_512_octets_on_the_wire() {
        let fits = format!("451 4.4.7 {}", "x".repeat(500));
        assert_eq!(fits.len() + 2, 512);
        assert!(fits.parse::<ReplySpec>().is_ok());
        assert!(format!("{fits}x").parse::<ReplySpec>().is_err());
    }

    #[test]
    fn story_starts_stay_in_range() {
        assert!("2024-05-08T20:40:00+01:00".parse::<Instant>().is_ok());
        assert!("0005-01-01T00:00:00Z".parse::<Instant>().is_err());
        assert!("9999-12-30T00:00:00Z".parse::<Instant>().is_err());
    }

    #[test]
    fn qtypes() {
        assert_eq!("mx".parse::<QType>().unwrap().0, RecordType::MX);
        assert!("MXX".parse::<QType>().is_err());
    }

    proptest! {
        #[test]
        fn reply_parser_never_panics(text in "\\PC{0,80}") {
            let _ = text.parse::<ReplySpec>();
        }

        #[test]
        fn parsed_replies_round_trip(code in 200u16..600, text in "[a-zA-Z][a-zA-Z ]{0,40}") {
            let line = format!("{code} {}", text.trim_end());
            if let Ok(reply) = line.parse::<ReplySpec>() {
                prop_assert_eq!(reply.one_line().parse::<ReplySpec>().unwrap(), reply);
            }
        }
    }
}
