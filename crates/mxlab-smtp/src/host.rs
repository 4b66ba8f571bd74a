//! One remote SMTP host: its scripted behaviour and what it remembers — connection counts per
//! client, session transcripts, accepted messages. Shared by every session on the host.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mxlab_net::Clock;
use mxlab_scenario::model::{Certificate, Gate, SmtpHost, SmtpRule, Tls};
use mxlab_vocab::{Reply, SpfResult, Stage};

use crate::behaviour::{
    Act, Context, Step, decide, scripted, strict_dmarc, strict_dnsbl, strict_reverse_dns,
    strict_spf,
};
use crate::budget::Budget;
use crate::gates::{DmarcVerdict, DnsblVerdict, Gates, ReverseDnsVerdict};
use crate::spf::SpfCheck;
use crate::store::{Capture, Ring, StoreError};

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
    /// The name the client gave in EHLO or HELO.
    pub helo: String,
    /// The client's address.
    pub client: String,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// The `Received:` header this host adds in front of the message when it stores it
    /// (RFC 5321 §4.4), written when the message is accepted; empty before.
    pub received: String,
}

/// Bounds on what a host keeps and on what one client may ask of it, so a long `serve` — or
/// a hostile client — cannot grow it without limit or lock others out.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Session transcripts kept (the latest); 0 keeps none.
    pub transcripts: usize,
    /// The total size of the transcripts kept; the oldest go first.
    pub transcript_bytes: usize,
    /// One session's transcript: past this many octets, lines are counted, not kept.
    pub session_transcript_bytes: usize,
    /// Captured messages kept in memory (the latest); 0 keeps none.
    pub messages: usize,
    /// The total size of the captured messages kept in memory, envelopes included.
    pub captured_bytes: usize,
    /// The largest message accepted (`552 5.3.4` above it; advertised as `SIZE`).
    pub max_message_bytes: usize,
    /// Recipients in one transaction; the next is told `452 4.5.3` (RFC 5321 §4.5.3.1.8
    /// requires at least 100).
    pub max_recipients: usize,
    /// Sessions open at once on this host; past it a new client is told `421` at once.
    pub sessions: usize,
    /// Sessions open at once from one client address.
    pub sessions_per_client: usize,
    /// A client silent this long (story time) is told `421` and disconnected (RFC 5321
    /// §4.5.3.2.7: at least 5 minutes). Also the bound on a TLS handshake and on a write.
    pub idle: Duration,
    /// A connection the story keeps silent (`drop`, `stall`) is held this long at most, in
    /// real time, whatever the story clock says.
    pub hold: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            transcripts: 1000,
            transcript_bytes: 16 * 1024 * 1024,
            session_transcript_bytes: 64 * 1024,
            messages: 1000,
            captured_bytes: 64 * 1024 * 1024,
            idle: Duration::from_secs(300),
            max_message_bytes: 35 * 1024 * 1024,
            max_recipients: 100,
            sessions: 1024,
            sessions_per_client: 128,
            hold: Duration::from_secs(600),
        }
    }
}

/// Connection counts are kept for at most this many client addresses (loopback alone has 16
/// million).
const CLIENTS_MAX: usize = 100_000;

/// Greylisting memory is bounded; past this many triplets the oldest are forgotten.
const GREYLIST_MAX: usize = 100_000;

#[derive(Default)]
struct State {
    connections: HashMap<IpAddr, u32>,
    /// Sessions open now per client address (absent at zero).
    open_from: HashMap<IpAddr, usize>,
    /// The octets of the transcripts kept.
    transcript_bytes: usize,
    /// When each (client, sender, recipient) was first seen, for greylisting.
    first_seen: HashMap<(IpAddr, String, String), Duration>,
    /// Sessions open now.
    open: u32,
    transcripts: VecDeque<Transcript>,
    messages: Ring,
    next_queue_id: u64,
}

pub struct FakeSmtpHost {
    pub name: String,
    pub address: IpAddr,
    pub banner: String,
    pub extensions: Vec<String>,
    rules: Vec<SmtpRule>,
    spf_policy: Gate,
    spf_check: OnceLock<Arc<dyn SpfCheck>>,
    /// Blocklist zones asked about each client.
    dnsbl: Vec<String>,
    reverse_dns: Gate,
    dmarc: Gate,
    gates: OnceLock<Arc<dyn Gates>>,
    /// What the scenario asks of STARTTLS; the configuration itself comes from whoever holds
    /// the scenario's CA.
    tls_wanted: Option<Tls>,
    tls: OnceLock<Arc<rustls::ServerConfig>>,
    pub limits: Limits,
    pub clock: Clock,
    /// Where accepted messages go besides the queue id.
    capture: Capture,
    /// Memory shared with the world's other hosts.
    budget: Arc<Budget>,
    /// Where each finished session's transcript is also written, as a file.
    transcript_dir: Option<std::path::PathBuf>,
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
            // SIZE (RFC 1870) tells a client the limit before it sends a byte of the message.
            extensions: config.extensions.clone().unwrap_or_else(|| {
                vec![
                    "PIPELINING".into(),
                    format!("SIZE {}", limits.max_message_bytes),
                    "8BITMIME".into(),
                    "ENHANCEDSTATUSCODES".into(),
                    "SMTPUTF8".into(),
                ]
            }),
            name,
            address,
            rules: config.rules.clone(),
            spf_policy: config.spf,
            spf_check: OnceLock::new(),
            dnsbl: config
                .dnsbl
                .iter()
                .map(|z| {
                    z.get_ref()
                        .trim()
                        .trim_end_matches('.')
                        .to_ascii_lowercase()
                })
                .collect(),
            reverse_dns: config.reverse_dns,
            dmarc: config.dmarc,
            gates: OnceLock::new(),
            tls_wanted: config.tls.as_ref().map(|t| t.get_ref().clone()),
            tls: OnceLock::new(),
            limits,
            clock,
            capture: Capture::Memory,
            budget: Arc::new(Budget::default()),
            transcript_dir: None,
            state: Mutex::new(State::default()),
        }
    }

    /// The same host keeping accepted mail as `capture` says. A sink keeps no transcripts
    /// either: it exists for load tests, where both would only cost time and memory.
    pub fn with_capture(mut self, capture: Capture) -> Self {
        if let Capture::Sink = capture {
            self.limits.transcripts = 0;
            self.limits.messages = 0;
        }
        self.capture = capture;
        self
    }

    /// The same host sharing `budget` with the other hosts of its world.
    pub fn with_budget(mut self, budget: Arc<Budget>) -> Self {
        self.budget = budget;
        self
    }

    /// The same host writing each finished session's transcript into `dir` as well.
    pub fn with_transcript_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.transcript_dir = dir;
        self
    }

    pub(crate) fn transcript_dir(&self) -> Option<&std::path::Path> {
        self.transcript_dir.as_deref()
    }

    pub(crate) fn budget(&self) -> Arc<Budget> {
        self.budget.clone()
    }

    /// Takes a session slot for `client`; `None` when the host or this client already has as
    /// many sessions as its limits allow. The slot is given back when the guard drops.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Option<Admission> {
        let mut state = self.state.lock().expect("host state");
        let from = state.open_from.get(&client).copied().unwrap_or(0);
        let open: usize = state.open_from.values().sum();
        if open >= self.limits.sessions || from >= self.limits.sessions_per_client {
            return None;
        }
        state.open_from.insert(client, from + 1);
        Some(Admission {
            host: self.clone(),
            client,
        })
    }

    /// A new connection from `client`: counts the attempt and decides the connect stage.
    /// Returns the attempt number with the step.
    pub fn connect(&self, client: IpAddr) -> (u32, Step) {
        let attempt = {
            let mut state = self.state.lock().expect("host state");
            if state.connections.len() >= CLIENTS_MAX && !state.connections.contains_key(&client) {
                // Make room by forgetting some other client: its next connection counts
                // from 1 again, which only a story scripted on attempt numbers can notice.
                if let Some(other) = state.connections.keys().next().copied() {
                    state.connections.remove(&other);
                }
            }
            let n = state.connections.entry(client).or_insert(0);
            *n = n.saturating_add(1);
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

    /// What every connection meets at `connect`, when that does not depend on the attempt
    /// ([`crate::behaviour::connect_always`]).
    pub fn connect_always(&self) -> Option<Step> {
        crate::behaviour::connect_always(&self.rules)
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

    /// Story time since this triplet was first seen (zero the first time); `None` when no
    /// rule greylists, so nothing is remembered for nothing.
    pub(crate) fn seen(&self, client: IpAddr, from: &str, rcpt: &str) -> Option<Duration> {
        if !self.rules.iter().any(|r| r.within.is_some()) {
            return None;
        }
        let now = self.clock.elapsed();
        let key = (client, from.to_ascii_lowercase(), rcpt.to_ascii_lowercase());
        let mut state = self.state.lock().expect("host state");
        if let Some(first) = state.first_seen.get(&key) {
            return Some(now.saturating_sub(*first));
        }
        if state.first_seen.len() >= GREYLIST_MAX {
            // Forget the oldest triplet to make room (a scan, but only when a new one comes in
            // and the memory is full).
            if let Some(oldest) = state
                .first_seen
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            {
                state.first_seen.remove(&oldest);
            }
        }
        state.first_seen.insert(key, now);
        Some(Duration::ZERO)
    }

    /// The scripted step; failing that, what the host's receiver policies say (SPF at MAIL;
    /// blocklists, then reverse DNS at RCPT; DMARC at end-of-data); failing that, a healthy
    /// server's.
    pub fn decide(&self, stage: Stage, ctx: &Context<'_>) -> Step {
        if let Some(step) = scripted(&self.rules, stage, ctx) {
            return step;
        }
        if let Some(reply) = self.policy_reply(stage, ctx) {
            return Step {
                delay: Duration::ZERO,
                act: Act::Reply(reply),
            };
        }
        decide(&[], stage, ctx)
    }

    fn policy_reply(&self, stage: Stage, ctx: &Context<'_>) -> Option<Reply> {
        match stage {
            Stage::Mail if self.spf_policy == Gate::Strict => ctx.spf.and_then(strict_spf),
            Stage::Rcpt => {
                let client = ctx.client?;
                let listed = ctx
                    .dnsbl
                    .and_then(|v| v.listing.as_ref())
                    .map(|l| strict_dnsbl(client, l));
                listed.or_else(|| {
                    (self.reverse_dns == Gate::Strict)
                        .then_some(ctx.reverse_dns?)
                        .and_then(|r| strict_reverse_dns(client, r))
                })
            }
            Stage::EndOfData if self.dmarc == Gate::Strict => ctx.dmarc.and_then(strict_dmarc),
            _ => None,
        }
    }

    /// The certificate this host should present, if it speaks TLS at all.
    pub fn tls_certificate(&self) -> Option<Certificate> {
        self.tls_wanted.as_ref().map(|t| t.certificate)
    }

    /// Gives the host its TLS configuration (set once, by whoever holds the CA).
    pub fn set_tls(&self, config: Arc<rustls::ServerConfig>) {
        let _ = self.tls.set(config);
    }

    pub(crate) fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.get().cloned()
    }

    /// Whether STARTTLS can be carried out (a configuration was given).
    pub(crate) fn can_starttls(&self) -> bool {
        self.tls.get().is_some()
    }

    /// Whether EHLO lists STARTTLS.
    pub fn offers_starttls(&self) -> bool {
        self.tls.get().is_some()
            && self
                .tls_wanted
                .as_ref()
                .is_some_and(|t| t.offered.unwrap_or(true))
    }

    /// Lets the host evaluate SPF (set once, by whoever built the world).
    pub fn set_spf_check(&self, check: Arc<dyn SpfCheck>) {
        let _ = self.spf_check.set(check);
    }

    /// Lets the host apply its other receiver policies (set once, by whoever built the world).
    pub fn set_gates(&self, gates: Arc<dyn Gates>) {
        let _ = self.gates.set(gates);
    }

    /// What the host's blocklist zones say about `client`, when it has any.
    pub(crate) async fn dnsbl_verdict(&self, client: IpAddr) -> Option<DnsblVerdict> {
        if self.dnsbl.is_empty() {
            return None;
        }
        Some(self.gates.get()?.dnsbl(client, &self.dnsbl).await)
    }

    /// The client's reverse DNS, when the host looks at it at all.
    pub(crate) async fn reverse_dns_verdict(&self, client: IpAddr) -> Option<ReverseDnsVerdict> {
        let wanted =
            self.reverse_dns == Gate::Strict || self.rules.iter().any(|r| r.reverse_dns.is_some());
        match self.gates.get() {
            Some(gates) if wanted => Some(gates.reverse_dns(client).await),
            _ => None,
        }
    }

    /// `dmarc = "strict"`: the policy decides by default.
    pub(crate) fn applies_dmarc(&self) -> bool {
        self.dmarc == Gate::Strict
    }

    fn wants_dmarc(&self) -> bool {
        self.dmarc == Gate::Strict || self.rules.iter().any(|r| r.dmarc.is_some())
    }

    /// The message's DMARC disposition, when the host looks at DMARC at all.
    pub(crate) async fn dmarc_verdict(
        &self,
        message: &[u8],
        mail_from: &str,
        helo: &str,
        spf: Option<SpfResult>,
    ) -> Option<DmarcVerdict> {
        match self.gates.get() {
            Some(gates) if self.wants_dmarc() => Some(
                gates
                    .dmarc(message, mail_from, helo, spf.unwrap_or(SpfResult::None))
                    .await,
            ),
            _ => None,
        }
    }

    /// The sender's SPF result, when this host looks at SPF at all.
    pub(crate) async fn spf_result(
        &self,
        client: IpAddr,
        mail_from: &str,
        helo: &str,
    ) -> Option<SpfResult> {
        // DMARC needs SPF's result too.
        let wanted = self.spf_policy == Gate::Strict
            || self.rules.iter().any(|r| r.spf.is_some())
            || self.wants_dmarc();
        match self.spf_check.get() {
            Some(check) if wanted => Some(check.check(client, mail_from, helo).await),
            _ => None,
        }
    }

    /// Keeps a finished session's transcript, the oldest making room, within this host's
    /// bounds and the world's budget; one that cannot fit is not kept.
    pub(crate) fn record(&self, transcript: Transcript) {
        if self.limits.transcripts == 0 {
            return;
        }
        let size = transcript_size(&transcript);
        let mut state = self.state.lock().expect("host state");
        while !state.transcripts.is_empty()
            && (state.transcripts.len() >= self.limits.transcripts
                || state.transcript_bytes + size > self.limits.transcript_bytes
                || self.budget.transcripts.used() + size > self.budget.transcripts.max())
        {
            if let Some(old) = state.transcripts.pop_front() {
                let freed = transcript_size(&old);
                state.transcript_bytes -= freed;
                self.budget.transcripts.release(freed);
            }
        }
        if state.transcript_bytes + size > self.limits.transcript_bytes
            || !self.budget.transcripts.reserve(size)
        {
            return;
        }
        state.transcript_bytes += size;
        state.transcripts.push_back(transcript);
    }

    /// Keeps an accepted message as the host's [`Capture`] says; returns its queue id for the
    /// 250 reply. Called before the 250 goes out: when the message cannot be kept, the error
    /// is answered `451 4.3.0` and the client keeps the message.
    pub(crate) async fn accept(&self, mut message: Captured) -> Result<u64, StoreError> {
        let id = {
            let mut state = self.state.lock().expect("host state");
            state.next_queue_id += 1;
            state.next_queue_id
        };
        message.received = self.received(&message, id);
        let message = match &self.capture {
            Capture::Sink => None,
            Capture::Memory => Some(message),
            Capture::Maildir(maildir) => {
                let maildir = maildir.clone();
                // Named by the real time, as a Maildir's readers expect; the story's time is
                // in the message's own headers.
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let host = self.name.clone();
                // Writing and fsyncing blocks: off the runtime's threads, so the other
                // sessions go on meanwhile.
                let delivered = tokio::task::spawn_blocking(move || {
                    maildir.deliver(&message, stamp, &host).map(|_| message)
                })
                .await
                .map_err(|e| StoreError(std::io::Error::other(e)))?;
                Some(delivered.map_err(|e| {
                    tracing::warn!(host = %self.name, "cannot store a message: {e}");
                    StoreError(e)
                })?)
            }
        };
        if let Some(message) = message {
            let mut state = self.state.lock().expect("host state");
            state
                .messages
                .push(message, self.limits.messages, self.limits.captured_bytes);
        }
        Ok(id)
    }

    /// The trace header for an accepted message (RFC 5321 §4.4), dated on the story clock.
    fn received(&self, message: &Captured, id: u64) -> String {
        let date = self
            .clock
            .at(message.at)
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default();
        let with = if message.tls { "ESMTPS" } else { "ESMTP" };
        let helo: String = message
            .helo
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(255)
            .collect();
        format!(
            "Received: from {helo} ([{}])\r\n\tby {} (mxlab) with {with} id {id:08X};\r\n\t{date}\r\n",
            message.client, self.name
        )
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

/// What a transcript holds in memory, near enough: its text and a line's overhead.
pub(crate) fn transcript_size(transcript: &Transcript) -> usize {
    transcript
        .lines
        .iter()
        .map(|l| l.text.len() + std::mem::size_of::<Line>())
        .sum::<usize>()
        + transcript.host.len()
        + transcript.client.len()
}

/// A session slot on a host, held for the session's life.
pub struct Admission {
    host: Arc<FakeSmtpHost>,
    client: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut state = self.host.state.lock().expect("host state");
        if let Some(n) = state.open_from.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                state.open_from.remove(&self.client);
            }
        }
    }
}
