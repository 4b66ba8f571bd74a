//! The fake remote SMTP server.
//!
//! - [`behaviour`]: pure decisions — stage + attempt + recipient → reply, delay, stall, hang up.
//! - [`session`]: one SMTP session over any byte stream, executing those decisions.
//! - [`host`]: a host's shared memory: attempt counts, transcripts, accepted messages.
//! - [`store`]: where accepted mail goes — a bounded ring in memory, a Maildir, or nowhere.
//! - [`listen`]: the TCP listener for `serve`.
//! - [`sasl`]: AUTH PLAIN and LOGIN (RFC 4954) as pure steps.
//! - [`spf`]: the seam through which the host learns a sender's SPF result.
//! - [`gates`]: the seam for the other receiver policies — DNS blocklists, reverse DNS, DMARC.

pub mod behaviour;
pub mod gates;
pub mod host;
pub mod listen;
pub mod sasl;
pub mod session;
pub mod spf;
pub mod store;

pub use host::{Captured, FakeSmtpHost, Limits, Transcript};
pub use store::{Capture, Maildir, StoreError};
