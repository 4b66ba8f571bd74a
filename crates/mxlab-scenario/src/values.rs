//! Small value types that scenario keys parse into, each validated while the file is read so
//! that a bad value is reported at its own line and column.

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
}
