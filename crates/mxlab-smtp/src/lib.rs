//! The fake remote SMTP server.
//!
//! - [`behaviour`]: pure decisions — stage + attempt + recipient → reply, delay, stall, hang up.
//! - [`session`]: one SMTP session over any byte stream, executing those decisions.
//! - [`host`]: a host's shared memory: attempt counts, transcripts, accepted messages.
//! - [`listen`]: the TCP listener for `serve`.

pub mod behaviour;
pub mod host;
pub mod listen;
pub mod session;

pub use host::{Captured, FakeSmtpHost, Limits, Transcript};
