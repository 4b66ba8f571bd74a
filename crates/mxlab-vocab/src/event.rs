//! Event ids of Exchange's message tracking log (`EventId` in Get-MessageTrackingLog).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventId {
    Receive,
    Submit,
    Send,
    Deliver,
    Defer,
    Dsn,
    Fail,
    HaRedirect,
    HaReceive,
    HaDiscard,
    HaRedirectFail,
    Expand,
    Redirect,
    Resubmit,
    Transfer,
    Drop,
    Poison,
}

impl EventId {
    const NAMES: [(EventId, &'static str); 17] = [
        (EventId::Receive, "RECEIVE"),
        (EventId::Submit, "SUBMIT"),
        (EventId::Send, "SEND"),
        (EventId::Deliver, "DELIVER"),
        (EventId::Defer, "DEFER"),
        (EventId::Dsn, "DSN"),
        (EventId::Fail, "FAIL"),
        (EventId::HaRedirect, "HAREDIRECT"),
        (EventId::HaReceive, "HARECEIVE"),
        (EventId::HaDiscard, "HADISCARD"),
        (EventId::HaRedirectFail, "HAREDIRECTFAIL"),
        (EventId::Expand, "EXPAND"),
        (EventId::Redirect, "REDIRECT"),
        (EventId::Resubmit, "RESUBMIT"),
        (EventId::Transfer, "TRANSFER"),
        (EventId::Drop, "DROP"),
        (EventId::Poison, "POISONMESSAGE"),
    ];

    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map(|(_, n)| *n)
            .unwrap_or("UNKNOWN")
    }

    /// A delivery attempt's outcome: SEND (or DELIVER), DEFER or FAIL.
    pub fn is_attempt(self) -> bool {
        matches!(
            self,
            EventId::Send | EventId::Deliver | EventId::Defer | EventId::Fail
        )
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s.trim()))
            .map(|(e, _)| *e)
            .ok_or_else(|| format!("`{s}` is not a message tracking event id"))
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
