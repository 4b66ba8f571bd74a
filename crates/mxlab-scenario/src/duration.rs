//! Durations as scenario files write them: `3m`, `4h`, `2d`, `1h30m`, `21s`, `500ms`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written in the scenario's compact notation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

impl Dur {
    pub const ZERO: Dur = Dur(Duration::ZERO);

    pub fn from_secs(secs: u64) -> Self {
        Dur(Duration::from_secs(secs))
    }

    pub fn from_mins(mins: u64) -> Self {
        Dur(Duration::from_secs(mins * 60))
    }

    pub fn from_hours(hours: u64) -> Self {
        Dur(Duration::from_secs(hours * 3600))
    }

    pub fn get(self) -> Duration {
        self.0
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurError(pub String);

impl fmt::Display for DurError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Dur {
    type Err = DurError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(DurError(
                "empty duration; write e.g. `30s`, `5m`, `4h`, `2d`".into(),
            ));
        }
        if text == "0" {
            return Ok(Dur::ZERO);
        }
        let mut total_ms: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(DurError(format!(
                    "`{text}` is not a duration: expected a number before the unit"
                )));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| DurError(format!("`{text}`: number too large")))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let ms_per_unit: u64 = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "" => {
                    return Err(DurError(format!(
                        "`{text}` needs a unit: ms, s, m, h or d (e.g. `{number}s`)"
                    )));
                }
                other => {
                    return Err(DurError(format!(
                        "`{text}`: unknown unit `{other}` (use ms, s, m, h or d)"
                    )));
                }
            };
            total_ms = number
                .checked_mul(ms_per_unit)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(|| DurError(format!("`{text}`: duration too large")))?;
        }
        if total_ms > MAX_MS {
            return Err(DurError(format!(
                "`{text}`: durations are at most 100 years (36500d)"
            )));
        }
        Ok(Dur(Duration::from_millis(total_ms)))
    }
}

/// A story is days long; a century leaves room and keeps every date in range.
const MAX_MS: u64 = 36_500 * 86_400_000;

impl fmt::Display for Dur {
    /// Writes the shortest form that parses back to the same value (`4h3m`, `21s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        if ms > 0 {
            write!(f, "{ms}ms")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_units_scenarios_use() {
        assert_eq!("3m".parse::<Dur>().unwrap(), Dur::from_mins(3));
        assert_eq!("4h".parse::<Dur>().unwrap(), Dur::from_hours(4));
        assert_eq!("2d".parse::<Dur>().unwrap(), Dur::from_hours(48));
        assert_eq!("1h30m".parse::<Dur>().unwrap(), Dur::from_mins(90));
        assert_eq!(
            "500ms".parse::<Dur>().unwrap(),
            Dur(Duration::from_millis(500))
        );
        assert_eq!("0".parse::<Dur>().unwrap(), Dur::ZERO);
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "-5m",
            "5 m",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<Dur>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Dur::from_mins(243).to_string(), "4h3m");
        assert_eq!(Dur::from_secs(21).to_string(), "21s");
        assert_eq!(Dur::ZERO.to_string(), "0s");
    }

    proptest! {
        #[test]
        fn display_round_trips(ms in 0u64..MAX_MS) {
            let d = Dur(Duration::from_millis(ms));
            prop_assert_eq!(d.to_string().parse::<Dur>().unwrap(), d);
        }

        #[test]
        fn never_panics(text in ".{0,24}") {
            let _ = text.parse::<Dur>();
        }
    }
}
