//! RFC 3463 enhanced status codes: `class.subject.detail`.

use std::fmt;
use std::str::FromStr;

/// `4.4.7`, `5.7.500`: class 2, 4 or 5; subject and detail of one to three digits
/// (RFC 3463 §2 allows up to three, so `4.7.500` is as valid as `4.7.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnhancedStatus {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedStatus {
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedStatus {
            class,
            subject,
            detail,
        }
    }

    /// A word that is an enhanced status code, and nothing else.
    pub fn parse(word: &str) -> Option<Self> {
        let mut parts = word.split('.');
        let class = number(parts.next()?, 1)?;
        let subject = number(parts.next()?, 3)?;
        let detail = number(parts.next()?, 3)?;
        (parts.next().is_none() && matches!(class, 2 | 4 | 5))
            .then(|| EnhancedStatus::new(class as u8, subject, detail))
    }

    /// The same subject and detail in any class: `X.2.2` matches both 4.2.2 and 5.2.2.
    pub fn is(self, subject: u16, detail: u16) -> bool {
        self.subject == subject && self.detail == detail
    }
}

fn number(s: &str, max_digits: usize) -> Option<u16> {
    (!s.is_empty() && s.len() <= max_digits && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl FromStr for EnhancedStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EnhancedStatus::parse(s).ok_or_else(|| {
            format!("`{s}`: an enhanced status code is class.subject.detail, e.g. 4.4.7")
        })
    }
}

serde_as_text!(EnhancedStatus);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn three_digit_details_are_kept() {
        let s = EnhancedStatus::parse("4.7.500").unwrap();
        assert_eq!(s.detail, 500);
        assert_eq!(s.to_string(), "4.7.500");
    }

    #[test]
    fn not_a_status() {
        for w in [
            "4.7", "3.1.1", "4.7.1.2", "4.7.1000", "x.1.1", "4..1", "44.1.1",
        ] {
            assert_eq!(EnhancedStatus::parse(w), None, "{w}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(class in prop::sample::select(vec![2u8, 4, 5]), subject in 0u16..1000, detail in 0u16..1000) {
            let s = EnhancedStatus::new(class, subject, detail);
            prop_assert_eq!(EnhancedStatus::parse(&s.to_string()), Some(s));
        }
    }
}
