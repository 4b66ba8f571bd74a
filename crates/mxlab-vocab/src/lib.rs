//! The vocabulary every part of mxlab speaks, as types: an SMTP [`Reply`] with its RFC 3463
//! [`EnhancedStatus`], the SMTP [`Stage`], why a TLS handshake failed ([`TlsFailure`]), the
//! message tracking log's [`EventId`], the SPF [`SpfResult`] and the checker's [`RuleId`].
//!
//! These are standard vocabulary, not text: the fake servers, the sender and the checker all
//! use them instead of strings compared by string. What they are not is a way to read *human*
//! text — a vendor's wording, a notice's prose: the checker reads that with its own readers.
//!
//! This crate sits at the bottom of the graph and depends on nothing of mxlab's.

mod event;
mod reply;
mod rule_id;
mod spf;
mod stage;
mod status;
mod tls;

pub use event::EventId;
pub use reply::{Reply, ReplyError, ReplyParser};
pub use rule_id::RuleId;
pub use spf::SpfResult;
pub use stage::Stage;
pub use status::EnhancedStatus;
pub use tls::TlsFailure;
