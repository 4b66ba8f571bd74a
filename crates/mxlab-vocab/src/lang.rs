//! The language a person reads: mxlab's reports, rules and lab texts, and the human part of
//! the notices the simulated Exchange writes. Machine fields (rule ids, statuses, JSON field
//! names, `message/delivery-status`) never change with it.

use std::fmt;
use std::str::FromStr;

/// English (the default) or Japanese.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// Every language, so a test can ask each text for all of them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The code written on the command line and in scenario files (`en`, `ja`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language a POSIX locale names (`ja_JP.UTF-8` → `ja`), for the one command that may
    /// take its default from the environment; anything else is English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language mxlab does not speak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLang(pub String);

impl fmt::Display for UnknownLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown language {:?} (expected en or ja)", self.0)
    }
}

impl std::error::Error for UnknownLang {}

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "en" => Ok(Lang::En),
            "ja" => Ok(Lang::Ja),
            _ => Err(UnknownLang(s.to_string())),
        }
    }
}

serde_as_text!(Lang);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(lang.as_str().parse::<Lang>(), Ok(lang));
        }
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(Lang::from_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
    }
}
