//! The vocabulary every part of mxlab speaks, as types: an SMTP [`Reply`] with its RFC 3463
//! [`EnhancedStatus`], the SMTP [`Stage`], why a TLS handshake failed ([`TlsFailure`]), the
//! message tracking log's [`EventId`], the SPF [`SpfResult`], what a receiver concludes about
//! its client and sender ([`DnsblResult`], [`ReverseDns`], [`DmarcDisposition`]), the
//! checker's [`RuleId`], the bounce [`Reason`], and the [`Lang`] a person reads.
//!
//! These are standard vocabulary, not text: the fake servers, the sender and the checker all
//! use them instead of strings compared by string. What they are not is a way to read *human*
//! text — a vendor's wording, a notice's prose: the checker reads that with its own readers.
//!
//! This crate sits at the bottom of the graph and depends on nothing of mxlab's.

/// Serde through the text form: a type written and read as its `Display` / `FromStr` string,
/// so JSON and TOML carry `"4.4.7"` and `"dns.mx.missing"`, not structures.
macro_rules! serde_as_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

mod event;
mod lang;
mod reason;
mod receiver;
mod reply;
mod rule_id;
mod spf;
mod stage;
mod status;
mod tls;

pub use event::EventId;
pub use lang::{Lang, UnknownLang};
pub use reason::Reason;
pub use receiver::{DmarcDisposition, DnsblResult, ReverseDns};
pub use reply::{Reply, ReplyError, ReplyParser};
pub use rule_id::RuleId;
pub use spf::SpfResult;
pub use stage::Stage;
pub use status::EnhancedStatus;
pub use tls::TlsFailure;
