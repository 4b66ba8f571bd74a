//! A driver with no I/O at all, for fuzzing and property tests: the input arrives in chunks,
//! lookups find nothing, stores succeed, TLS fails, sleeps take no time.

use super::{Core, Lookup, Output};

/// What one offline run produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Every reply, as its wire text.
    pub replies: Vec<String>,
    /// The messages stored.
    pub stored: Vec<Vec<u8>>,
    /// Whether the core closed the session (rather than waiting for more input).
    pub closed: bool,
}

/// Runs `core` over `input`, `chunk` octets per read (at least one), to its end.
pub fn replay(core: &mut Core<'_>, input: &[u8], chunk: usize) -> Replayed {
    let mut out = Replayed::default();
    let mut rest = input;
    let mut queue_id = 0;
    while let Some(output) = core.poll() {
        match output {
            Output::Reply { reply, .. } => out.replies.push(reply.to_wire()),
            Output::Note(..) | Output::Sleep(_) | Output::Hold => {}
            Output::Read(_) if rest.is_empty() => core.ended(),
            Output::Read(_) => {
                let (now, later) = rest.split_at(chunk.max(1).min(rest.len()));
                core.received(now);
                rest = later;
            }
            Output::Lookup(Lookup::Client) => core.client_answered(None, None),
            Output::Lookup(Lookup::Spf { .. }) => core.spf_answered(None),
            Output::Lookup(Lookup::Dmarc { .. }) => core.dmarc_answered(None),
            Output::Store(message) => {
                out.stored.push(message.data);
                queue_id += 1;
                core.stored(Ok(queue_id));
            }
            Output::StartTls => core.tls_finished(Err("no TLS offline".into())),
            Output::Close => out.closed = true,
        }
    }
    out
}
