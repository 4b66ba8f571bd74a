//! What the session core asks of its driver, and what the driver tells it back.

use std::time::Duration;

use mxlab_vocab::{Reply, Stage};

use crate::host::Captured;

/// One thing the driver must do, in the order the core emits them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this reply. The driver may gather several replies and write them at once: it
    /// writes what it gathered before it waits, reads, asks, stores, upgrades or closes.
    Reply { stage: Option<Stage>, reply: Reply },
    /// A transcript line: `C` (client), `S` (server) or `*` (what happened without words).
    Note(char, String),
    /// Wait this long on the story clock, then go on.
    Sleep(Duration),
    /// Read more input and hand it to [`Core::received`](super::Core::received), or tell the
    /// core the stream ended ([`Core::ended`](super::Core::ended)).
    Read(ReadMode),
    /// Ask the host's receiver policies; answer with the matching `Core::…_answered`.
    Lookup(Lookup),
    /// Keep this accepted message; answer with [`Core::stored`](super::Core::stored). The
    /// `250` that acknowledges it comes only after.
    Store(Captured),
    /// Start the TLS handshake as a server; answer with
    /// [`Core::tls_finished`](super::Core::tls_finished).
    StartTls,
    /// The client half-closed a stalled session: keep the connection open, silent, until the
    /// client closes it fully or the driver's own cap ends it; then close.
    Hold,
    /// Close the connection. Nothing comes after it.
    Close,
}

/// How a read may end besides with input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// A client silent for this long (story time) is timed out:
    /// [`Core::timed_out`](super::Core::timed_out).
    Within(Duration),
    /// The server is stalled: the client's own timeout decides, or the driver's real-time cap.
    Stalled,
}

/// A question for the host's receiver policies, which look things up in DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Before the banner: the client's blocklist listings and reverse DNS.
    Client,
    /// At MAIL: the sender's SPF result.
    Spf { mail_from: String, helo: String },
    /// At end-of-data: the message's DMARC disposition (the message is
    /// [`Core::message`](super::Core::message)).
    Dmarc {
        mail_from: String,
        helo: String,
        spf: Option<mxlab_vocab::SpfResult>,
    },
}
