//! The bounce-reason vocabulary operators know from Sisimai: one word for why a notice's
//! recipient fared as it did, coarser than a cause (`blocked` says the sending IP was refused,
//! not which list or why). `mxlab explain` reports it beside the cause.

use std::fmt;
use std::str::FromStr;

macro_rules! reasons {
    ($($variant:ident => $word:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $($variant,)*
        }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $word,)*
                }
            }
        }
    };
}

reasons! {
    UserUnknown => "userunknown",
    MailboxFull => "mailboxfull",
    HostUnknown => "hostunknown",
    Expired => "expired",
    Blocked => "blocked",
    Rejected => "rejected",
    PolicyViolation => "policyviolation",
    SpamDetected => "spamdetected",
    SecurityError => "securityerror",
    AuthFailure => "authfailure",
    RequirePtr => "requireptr",
    BadReputation => "badreputation",
    RateLimited => "ratelimited",
    Speeding => "speeding",
    TooManyConn => "toomanyconn",
    NetworkError => "networkerror",
    SystemError => "systemerror",
    NotAccept => "notaccept",
    NoRelaying => "norelaying",
    MesgTooBig => "mesgtoobig",
    ExceedLimit => "exceedlimit",
    ContentError => "contenterror",
    SyntaxError => "syntaxerror",
    Suspend => "suspend",
    Filtered => "filtered",
    FailedStartTls => "failedstarttls",
    VirusDetected => "virusdetected",
    MailerError => "mailererror",
    HasMoved => "hasmoved",
    NotCompliantRfc => "notcompliantrfc",
    SystemFull => "systemfull",
    OnHold => "onhold",
    Vacation => "vacation",
    Delivered => "delivered",
    Feedback => "feedback",
    Undefined => "undefined",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not a bounce reason"))
    }
}

serde_as_text!(Reason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_unique_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.as_str()), "{r} twice");
            assert_eq!(r.as_str().parse::<Reason>(), Ok(*r));
        }
        assert_eq!(Reason::ALL.len(), 36);
        assert!("mailbox-full".parse::<Reason>().is_err());
    }
}
