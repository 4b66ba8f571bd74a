//! The sending MTA: an Exchange-like transport queue on the story clock.
//!
//! - [`queue`]: the event loop — submit, attempt, notify, expire — and its [`queue::Output`].
//! - [`schedule`]: the retry model of docs/FACTS.md, as pure arithmetic.
//! - [`attempt`]: one delivery attempt (MX routing, connect, the session) and its failures.
//! - [`client`]: the SMTP client end, reading every reply with the vocabulary's wire parser.
//! - [`dsn`], [`message`], [`tracking`], [`format`]: what the queue writes.

pub mod attempt;
pub mod dsn;
mod encoded_word;
pub mod format;
pub mod message;
pub mod notice_text;
pub mod queue;
pub mod schedule;
pub mod tracking;

pub use queue::{MAX_QUEUE_EVENTS, Output, Recipient, RecipientState, Sim, TimelineEvent};
