//! One remote SMTP host: its scripted behaviour and what it remembers — connection counts per
//! client, session transcripts, accepted messages. Shared by every session on the host.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use mxlab_net::Clock;
use mxlab_scenario::model::{SmtpHost, SmtpRule, Stage};

use crate::behaviour::{Context, Step, decide};

/// Who said what, when (story time since start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub at: Duration,
    /// `C` (client) or `S` (server); `*` for what happened without words (connect, close).
    pub who: char,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    pub host: String,
    pub client: String,
    pub lines: Vec<Line>,
}

/// A message the host accepted with 250.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub at: Duration,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

/// Bounds on what a host keeps, so a long `serve` cannot grow without limit.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub transcripts: usize,
    pub messages: usize,
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            transcripts: 1000,
            messages: 1000,
            max_message_bytes: 35 * 1024 * 1024,
        }
    }
}

/// Greylisting memory is bounded; past this many triplets the oldest are forgotten.
const GREYLIST_MAX: usize = 100_000;

#[derive(Default)]
struct State {
    connections: HashMap<IpAddr, u32>,
    /// When each (client, sender, recipient) was first seen, for greylisting.
    first_seen: HashMap<(IpAddr, String, String), Duration>,
    /// Sessions open now.
    open: u32,
    transcripts: VecDeque<Transcript>,
    messages: VecDeque<Captured>,
    next_queue_id: u64,
}

pub struct FakeSmtpHost {
    pub name: String,
    pub address: IpAddr,
    pub banner: String,
    pub extensions: Vec<String>,
    rules: Vec<SmtpRule>,
    pub limits: Limits,
    pub clock: Clock,
    state: Mutex<State>,
}

impl FakeSmtpHost {
    pub fn new(config: &SmtpHost, address: IpAddr, clock: Clock, limits: Limits) -> Self {
        let name = config.name.get_ref().trim_end_matches('.').to_string();
        FakeSmtpHost {
            banner: config
                .banner
                .clone()
                .unwrap_or_else(|| format!("{name} ESMTP mxlab")),
            extensions: config.extensions.clone().unwrap_or_else(|| {
                ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
                    .map(String::from)
                    .to_vec()
            }),
            name,
            address,
            rules: config.rules.clone(),
            limits,
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// A new connection from `client`: counts the attempt and decides the connect stage.
    /// Returns the attempt number with the step.
    pub fn connect(&self, client: IpAddr) -> (u32, Step) {
        let attempt = {
            let mut state = self.state.lock().expect("host state");
            let n = state.connections.entry(client).or_insert(0);
            *n += 1;
            *n
        };
        (
            attempt,
            self.decide(
                Stage::Connect,
                &Context {
                    attempt,
                    ..Context::default()
                },
            ),
        )
    }

    /// A session begins; returns the sessions now open, this one included.
    pub(crate) fn opened(&self) -> u32 {
        let mut state = self.state.lock().expect("host state");
        state.open += 1;
        state.open
    }

    pub(crate) fn closed(&self) {
        let mut state = self.state.lock().expect("host state");
        state.open = state.open.saturating_sub(1);
    }

    /// Story time since this triplet was first seen (zero the first time).
    pub(crate) fn seen(&self, client: IpAddr, from: &str, rcpt: &str) -> Duration {
        let now = self.clock.elapsed();
        let mut state = self.state.lock().expect("host state");
        if state.first_seen.len() >= GREYLIST_MAX {
            let oldest = state.first_seen.values().min().copied().unwrap_or_default();
            state.first_seen.retain(|_, t| *t > oldest);
        }
        let first = *state
            .first_seen
            .entry((client, from.to_ascii_lowercase(), rcpt.to_ascii_lowercase()))
            .or_insert(now);
        now.saturating_sub(first)
    }

    pub fn decide(&self, stage: Stage, ctx: &Context<'_>) -> Step {
        decide(&self.rules, stage, ctx)
    }

    pub(crate) fn record(&self, transcript: Transcript) {
        let mut state = self.state.lock().expect("host state");
        if state.transcripts.len() == self.limits.transcripts {
            state.transcripts.pop_front();
        }
        state.transcripts.push_back(transcript);
    }

    /// Keeps an accepted message; returns its queue id for the 250 reply.
    pub(crate) fn accept(&self, message: Captured) -> u64 {
        let mut state = self.state.lock().expect("host state");
        state.next_queue_id += 1;
        if state.messages.len() == self.limits.messages {
            state.messages.pop_front();
        }
        state.messages.push_back(message);
        state.next_queue_id
    }

    pub fn transcripts(&self) -> Vec<Transcript> {
        self.state
            .lock()
            .expect("host state")
            .transcripts
            .iter()
            .cloned()
            .collect()
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.state
            .lock()
            .expect("host state")
            .messages
            .iter()
            .cloned()
            .collect()
    }
}
