//! The seven results of RFC 7208 §2.6 and the qualifiers that produce four of them (§4.6.2).

use serde::Serialize;

/// The results themselves are shared vocabulary: the fake receivers and the checker speak them too.
pub use mxlab_vocab::SpfResult;

/// The prefix of a directive (§4.6.2); `+` when absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn from_char(c: char) -> Option<Qualifier> {
        Some(match c {
            '+' => Qualifier::Pass,
            '-' => Qualifier::Fail,
            '~' => Qualifier::SoftFail,
            '?' => Qualifier::Neutral,
            _ => return None,
        })
    }

    pub fn result(self) -> SpfResult {
        match self {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}
