//! The fake remote SMTP server.
//!
//! - [`behaviour`]: pure decisions — stage + attempt + recipient → reply, delay, stall, hang up.
//! - [`core`]: the SMTP session as a pure state machine (sans-IO): bytes in, replies, waits,
//!   lookups, stores, TLS upgrades and closes out; every per-session limit.
//! - [`session`]: the driver that carries out the core's outputs over any byte stream.
//! - [`budget`]: memory every host of a world shares, bounded in total.
//! - [`host`]: a host's shared memory: attempt counts, transcripts, accepted messages.
//! - [`store`]: where accepted mail goes — a bounded ring in memory, a Maildir, or nowhere.
//! - [`listen`]: the TCP listener for `serve`.
//! - [`sasl`]: AUTH PLAIN and LOGIN (RFC 4954) as pure steps.
//! - [`spf`]: the seam through which the host learns a sender's SPF result.
//! - [`gates`]: the seam for the other receiver policies — DNS blocklists, reverse DNS, DMARC.

pub mod behaviour;
pub mod budget;
pub mod core;
pub mod gates;
pub mod host;
pub mod listen;
pub mod sasl;
pub mod session;
pub mod spf;
pub mod store;

pub use budget::Budget;
pub use host::{Admission, Captured, FakeSmtpHost, Limits, Transcript};
pub use store::{Capture, Maildir, StoreError};
