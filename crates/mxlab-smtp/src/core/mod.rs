//! The SMTP session as a pure state machine: bytes in; replies, waits, lookups, stores, TLS
//! upgrades and closes out, as [`Output`]s in order. It reads no clock and touches no socket
//! (its host's decisions are pure, and greylisting memory is the host's); a driver
//! ([`crate::session`]) does what the outputs say and reports back. Every limit of a session
//! — line lengths, recipients, message size, the budget for bodies — is applied here.
//!
//! Use: call [`Core::poll`] until it returns [`Output::Read`], a lookup, a store, a TLS
//! upgrade or a close; carry that out; report with the matching method; poll again.

mod body;
pub mod offline;
mod output;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use mxlab_vocab::{DmarcDisposition, EnhancedStatus, Reply, ReverseDns, SpfResult, Stage};
use smtp_proto::request::receiver::RequestReceiver;
use smtp_proto::{Error as ParseError, Request};

pub use body::Overflow;
pub use output::{Lookup, Output, ReadMode};

use crate::behaviour::{Act, Context, Recipient, Step};
use crate::gates::{DmarcVerdict, DnsblVerdict, ReverseDnsVerdict};
use crate::host::{Captured, FakeSmtpHost};
use crate::sasl;
use body::Body;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets.
const MAX_COMMAND_LINE: usize = 512;

/// MAIL FROM may be longer by what its extensions' parameters add: SIZE (RFC 1870 §5, 26
/// octets), BODY (RFC 6152, 16), SMTPUTF8 (RFC 6531, 10) and AUTH= (RFC 4954 §5, 500).
const MAX_MAIL_LINE: usize = MAX_COMMAND_LINE + 26 + 16 + 10 + 500;

/// RFC 4954 §4: an AUTH command or response line is at most 12288 octets.
const MAX_AUTH_LINE: usize = 12_288;

/// What the core is doing between polls.
enum Phase {
    /// Connected; the client checks come first, then the banner.
    Start,
    /// Waiting for the answer to a lookup, a store or a TLS handshake.
    Waiting(Wait),
    /// Reading commands.
    Commands,
    /// Inside an AUTH exchange: the next line is the client's answer.
    Auth(sasl::Exchange),
    /// Reading the message.
    Data(Box<Body>),
    /// Saying nothing; input is read and forgotten.
    Stalled,
    /// STARTTLS was refused mid-handshake: read the client's hello, then hang up.
    AbortingTls,
    /// Discarding an overlong line up to its end, then answering `reply`.
    Discarding(Reply),
    /// Nothing more: the driver closes.
    Closed,
}

enum Wait {
    Client,
    Spf { from: String },
    Dmarc(Vec<u8>),
    Store,
    Tls,
}

pub struct Core<'h> {
    host: &'h FakeSmtpHost,
    client: IpAddr,
    attempt: u32,
    /// Sessions open at the host when this one began, itself included.
    concurrent: u32,
    phase: Phase,
    out: VecDeque<Output>,
    /// Input not yet consumed.
    input: Vec<u8>,
    /// Set when the client has closed its side.
    ended: bool,
    helo: bool,
    helo_name: String,
    in_tls: bool,
    authenticated: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    spf: Option<SpfResult>,
    dnsbl: Option<DnsblVerdict>,
    reverse_dns: Option<ReverseDns>,
    dmarc: Option<DmarcVerdict>,
    /// Drop the connection once this much of the message has arrived.
    cut_after: Option<u64>,
    /// Read the message at most this many bytes per second.
    read_rate: Option<u64>,
    /// The message being checked and stored: its share of the budget, given back once it is
    /// stored or refused.
    held: Option<Box<Body>>,
}

impl<'h> Core<'h> {
    /// A session from `client`, the host's `attempt`-th from it, with `concurrent` sessions
    /// open at the host (this one included).
    pub fn new(host: &'h FakeSmtpHost, client: IpAddr, attempt: u32, concurrent: u32) -> Self {
        let mut core = Core {
            host,
            client,
            attempt,
            concurrent,
            phase: Phase::Start,
            out: VecDeque::new(),
            input: Vec::new(),
            ended: false,
            helo: false,
            helo_name: String::new(),
            in_tls: false,
            authenticated: false,
            mail_from: None,
            rcpt_to: Vec::new(),
            spf: None,
            dnsbl: None,
            reverse_dns: None,
            dmarc: None,
            cut_after: None,
            read_rate: None,
            held: None,
        };
        core.note('*', format!("connection {attempt} from {client}"));
        core
    }

    /// The next thing to do. After [`Output::Close`] it returns `None`.
    pub fn poll(&mut self) -> Option<Output> {
        loop {
            if let Some(output) = self.out.pop_front() {
                return Some(output);
            }
            if matches!(self.phase, Phase::Closed | Phase::Waiting(_)) {
                return None;
            }
            // Every step either queues an output or moves to another phase.
            self.advance();
        }
    }

    /// Input from the client.
    pub fn received(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// The client closed its side (or the connection broke).
    pub fn ended(&mut self) {
        self.ended = true;
    }

    /// The client was silent for the whole [`ReadMode::Within`].
    pub fn timed_out(&mut self) {
        self.note('*', "client idle too long".into());
        let name = self.host.name.clone();
        self.close_with(reply(
            421,
            (4, 4, 2),
            &format!("{name} Idle timeout, closing connection"),
        ));
    }

    /// The client's blocklist listings and reverse DNS ([`Lookup::Client`]).
    pub fn client_answered(
        &mut self,
        dnsbl: Option<DnsblVerdict>,
        reverse_dns: Option<ReverseDnsVerdict>,
    ) {
        if !matches!(self.phase, Phase::Waiting(Wait::Client)) {
            return;
        }
        if let Some(verdict) = dnsbl {
            self.note('*', verdict.note.clone());
            self.dnsbl = Some(verdict);
        }
        if let Some(verdict) = reverse_dns {
            self.note('*', verdict.note);
            self.reverse_dns = Some(verdict.result);
        }
        self.phase = Phase::Commands;
        self.banner();
    }

    /// The sender's SPF result ([`Lookup::Spf`]).
    pub fn spf_answered(&mut self, result: Option<SpfResult>) {
        let Phase::Waiting(Wait::Spf { from }) =
            std::mem::replace(&mut self.phase, Phase::Commands)
        else {
            return;
        };
        self.spf = result;
        if let Some(result) = result {
            self.note(
                '*',
                format!("SPF {result} for <{from}> from {}", self.client),
            );
        }
        let step = self.decide(Stage::Mail, &[], None);
        if self.act(Stage::Mail, step, reply(250, (2, 1, 0), "Sender OK")) {
            self.mail_from = Some(from);
        }
    }

    /// The message's DMARC disposition ([`Lookup::Dmarc`]).
    pub fn dmarc_answered(&mut self, verdict: Option<DmarcVerdict>) {
        let Phase::Waiting(Wait::Dmarc(message)) =
            std::mem::replace(&mut self.phase, Phase::Commands)
        else {
            return;
        };
        if let Some(verdict) = &verdict {
            self.note('*', verdict.note.clone());
        }
        self.dmarc = verdict;
        self.end_of_data(message);
    }

    /// The message of [`Output::Store`] was kept (its queue id) or could not be.
    pub fn stored(&mut self, result: Result<u64, String>) {
        if !matches!(self.phase, Phase::Waiting(Wait::Store)) {
            return;
        }
        self.phase = Phase::Commands;
        match result {
            Ok(id) => {
                if self.quarantined() {
                    let junk = "DMARC quarantine: accepted into the recipients' junk folder";
                    self.note('*', junk.into());
                }
                self.send(
                    Stage::EndOfData,
                    reply(250, (2, 6, 0), &format!("Queued as {id:08X}")),
                );
            }
            Err(e) => self.send(Stage::EndOfData, reply(451, (4, 3, 0), &e)),
        }
        self.reset();
    }

    /// The TLS handshake of [`Output::StartTls`] ended.
    pub fn tls_finished(&mut self, result: Result<(), String>) {
        if !matches!(self.phase, Phase::Waiting(Wait::Tls)) {
            return;
        }
        match result {
            Ok(()) => {
                self.phase = Phase::Commands;
                self.in_tls = true;
                self.helo = false;
                self.authenticated = false;
                self.reset();
                self.note('*', "TLS established".into());
            }
            Err(e) => {
                self.note('*', format!("TLS handshake failed: {e}"));
                self.close();
            }
        }
    }

    /// The message received, while a DMARC lookup asks about it.
    pub fn message(&self) -> &[u8] {
        match &self.phase {
            Phase::Waiting(Wait::Dmarc(message)) => message,
            _ => &[],
        }
    }

    /// One step forward from the current phase.
    fn advance(&mut self) {
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Start => {
                self.phase = Phase::Waiting(Wait::Client);
                self.out.push_back(Output::Lookup(Lookup::Client));
            }
            Phase::Commands => {
                self.phase = Phase::Commands;
                self.next_command();
            }
            Phase::Auth(exchange) => self.auth_line(exchange),
            Phase::Data(body) => self.data(body),
            Phase::Stalled => {
                self.phase = Phase::Stalled;
                self.input.clear();
                if self.ended {
                    self.out.push_back(Output::Hold);
                    self.close();
                } else {
                    self.out.push_back(Output::Read(ReadMode::Stalled));
                }
            }
            Phase::AbortingTls => {
                if self.input.is_empty() && !self.ended {
                    self.phase = Phase::AbortingTls;
                    self.read();
                } else {
                    self.note('*', "server aborts the TLS handshake".into());
                    self.close();
                }
            }
            Phase::Discarding(answer) => {
                if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                    self.input.drain(..=end);
                    self.phase = Phase::Commands;
                    self.send(None, answer);
                } else {
                    self.input.clear();
                    self.phase = Phase::Discarding(answer);
                    self.more_or_close();
                }
            }
            phase @ (Phase::Waiting(_) | Phase::Closed) => self.phase = phase,
        }
    }

    /// Asks for more input, or closes when there will be none.
    fn more_or_close(&mut self) {
        if self.ended {
            self.close();
        } else {
            self.read();
        }
    }

    fn read(&mut self) {
        let idle = self.host.limits.idle;
        self.out.push_back(Output::Read(ReadMode::Within(idle)));
    }

    fn note(&mut self, who: char, text: String) {
        self.out.push_back(Output::Note(who, text));
    }

    fn send(&mut self, stage: impl Into<Option<Stage>>, reply: Reply) {
        self.out.push_back(Output::Reply {
            stage: stage.into(),
            reply,
        });
    }

    fn close(&mut self) {
        if !self.out.contains(&Output::Close) {
            self.out.push_back(Output::Close);
        }
        self.phase = Phase::Closed;
        self.input.clear();
    }

    fn close_with(&mut self, reply: Reply) {
        self.send(None, reply);
        self.close();
    }

    fn banner(&mut self) {
        // A banner of several lines is a multi-line 220 (`220-…` then `220 …`).
        let banner = Reply {
            code: 220,
            status: None,
            lines: self.host.banner.lines().map(str::to_string).collect(),
        };
        let step = self.decide(Stage::Banner, &[], None);
        if !self.act(Stage::Banner, step, banner) && !matches!(self.phase, Phase::Stalled) {
            self.close();
        }
    }

    /// What the host decides at `stage`. `recipients` are those the stage is about: at RCPT
    /// the one given, at DATA and end-of-data every one accepted in this transaction.
    fn decide(&self, stage: Stage, recipients: &[String], message: Option<&[u8]>) -> Step {
        let recipients: Vec<Recipient<'_>> = recipients
            .iter()
            .map(|address| Recipient {
                address,
                since_first_seen: self
                    .mail_from
                    .as_deref()
                    .and_then(|from| self.host.seen(self.client, from, address)),
            })
            .collect();
        self.host.decide(
            stage,
            &Context {
                attempt: self.attempt,
                recipients: &recipients,
                concurrent: self.concurrent,
                message,
                spf: self.spf,
                client: Some(self.client),
                dnsbl: self.dnsbl.as_ref(),
                reverse_dns: self.reverse_dns,
                dmarc: self.dmarc.as_ref(),
            },
        )
    }

    /// Carries out a decided step; `healthy` is what a healthy server says. True when the
    /// client may go on as if the stage succeeded.
    fn act(&mut self, stage: Stage, step: Step, healthy: Reply) -> bool {
        if !step.delay.is_zero() {
            self.out.push_back(Output::Sleep(step.delay));
        }
        match step.act {
            Act::Accept | Act::Refuse | Act::Drop => {
                self.send(stage, healthy);
                true
            }
            Act::Reply(reply) => {
                let positive = reply.is_positive();
                // 421 means the server is closing the channel (RFC 5321 §3.8).
                let closing = reply.code == 421;
                self.send(stage, reply);
                if closing {
                    self.close();
                }
                positive && !closing
            }
            Act::Stall => {
                self.stall();
                false
            }
            Act::Close | Act::CloseAfter(_) if stage == Stage::Starttls => {
                // Say yes, then hang up in the middle of the handshake.
                self.send(stage, ready_for_tls());
                self.phase = Phase::AbortingTls;
                false
            }
            Act::Close => {
                self.note('*', "server hangs up".into());
                self.close();
                false
            }
            Act::CloseAfter(bytes) => {
                self.cut_after = Some(bytes);
                self.send(stage, healthy);
                true
            }
            Act::Throttle(rate) => {
                self.read_rate = Some(rate);
                self.send(stage, healthy);
                true
            }
        }
    }

    fn stall(&mut self) {
        self.note('*', "stalling".into());
        self.phase = Phase::Stalled;
    }

    /// Parses the next command line, if a whole one has arrived.
    fn next_command(&mut self) {
        let Some(end) = self.input.iter().position(|&b| b == b'\n') else {
            if self.input.len() > MAX_MAIL_LINE {
                self.note('C', "(overlong line)".into());
                self.input.clear();
                self.phase = Phase::Discarding(reply(500, (5, 5, 2), "Line too long"));
                return;
            }
            return self.more_or_close();
        };
        let line_bytes: Vec<u8> = self.input.drain(..=end).collect();
        let line = String::from_utf8_lossy(&line_bytes).trim_end().to_string();
        let limit = if line_bytes.len() >= 4 && line_bytes[..4].eq_ignore_ascii_case(b"MAIL") {
            MAX_MAIL_LINE
        } else {
            MAX_COMMAND_LINE
        };
        if line_bytes.len() > limit {
            let head: String = line.chars().take(40).collect();
            self.note('C', format!("{head}… ({} octets)", line_bytes.len()));
            return self.send(None, reply(500, (5, 5, 2), "Line too long"));
        }
        let mut iter = line_bytes.iter();
        match RequestReceiver::default().ingest(&mut iter) {
            Ok(request) => {
                let request = request.into_owned();
                self.note('C', transcript_line(&request, line));
                self.command(request);
            }
            Err(e) => {
                self.note('C', line);
                self.send(None, parse_error_reply(&e));
            }
        }
    }

    fn command(&mut self, request: Request<String>) {
        match request {
            Request::Ehlo { host } | Request::Lhlo { host } => self.ehlo(host, true),
            // RFC 5321 §4.1.1.1: HELO is answered with one line, no service extensions.
            Request::Helo { host } => self.ehlo(host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to.address),
            Request::Data => self.data_command(),
            Request::Rset => {
                self.reset();
                self.send(None, reply(250, (2, 0, 0), "Reset"));
            }
            Request::Noop { .. } => self.send(None, reply(250, (2, 0, 0), "OK")),
            Request::Quit => {
                let step = self.decide(Stage::Quit, &[], None);
                self.act(Stage::Quit, step, reply(221, (2, 0, 0), "Bye"));
                if !matches!(self.phase, Phase::Stalled) {
                    self.close();
                }
            }
            Request::StartTls => self.starttls(),
            Request::Bdat { .. } => self.send(None, reply(502, (5, 5, 1), "CHUNKING not offered")),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, &initial_response),
            _ => self.send(None, reply(502, (5, 5, 1), "Command not implemented")),
        }
    }

    fn ehlo(&mut self, name: String, extended: bool) {
        let mut greets = Reply::new(250, None, &format!("{} greets {name}", self.host.name));
        if extended {
            greets.lines.extend(self.host.extensions.iter().cloned());
            if self.host.offers_starttls() && !self.in_tls {
                greets.lines.push("STARTTLS".into());
            }
        }
        self.helo_name = name;
        let step = self.decide(Stage::Ehlo, &[], None);
        self.helo |= self.act(Stage::Ehlo, step, greets);
        self.reset();
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) {
        if !self.helo {
            return self.send(Stage::Mail, reply(503, (5, 5, 1), "Say EHLO first"));
        }
        if self.mail_from.is_some() {
            return self.send(Stage::Mail, reply(503, (5, 5, 1), "Sender already given"));
        }
        // RFC 1870 §6.3: a declared size over the limit is refused before any data.
        if from.size > self.host.limits.max_message_bytes {
            let refused = "Message size exceeds fixed maximum message size";
            return self.send(Stage::Mail, reply(552, (5, 3, 4), refused));
        }
        self.phase = Phase::Waiting(Wait::Spf {
            from: from.address.clone(),
        });
        self.out.push_back(Output::Lookup(Lookup::Spf {
            mail_from: from.address,
            helo: self.helo_name.clone(),
        }));
    }

    fn rcpt(&mut self, to: String) {
        if self.mail_from.is_none() {
            return self.send(Stage::Rcpt, reply(503, (5, 5, 1), "Need MAIL first"));
        }
        // RFC 5321 §4.5.3.1.8: past the server's limit, 452 and the client sends the rest in
        // another transaction.
        if self.rcpt_to.len() >= self.host.limits.max_recipients {
            return self.send(Stage::Rcpt, reply(452, (4, 5, 3), "Too many recipients"));
        }
        let step = self.decide(Stage::Rcpt, std::slice::from_ref(&to), None);
        if self.act(Stage::Rcpt, step, reply(250, (2, 1, 5), "Recipient OK")) {
            self.rcpt_to.push(to);
        }
    }

    fn data_command(&mut self) {
        if self.rcpt_to.is_empty() {
            return self.send(Stage::Data, reply(503, (5, 5, 1), "Need RCPT first"));
        }
        let go_ahead = Reply::new(354, None, "Start mail input; end with <CRLF>.<CRLF>");
        let step = self.decide(Stage::Data, &self.rcpt_to, None);
        if self.act(Stage::Data, step, go_ahead) && matches!(self.phase, Phase::Commands) {
            let body = Body::new(self.host.limits.max_message_bytes, self.host.budget());
            self.phase = Phase::Data(Box::new(body));
        }
    }

    /// Reads the message up to the final dot.
    fn data(&mut self, mut body: Box<Body>) {
        let (taken, done) = body.ingest(&self.input);
        self.input.drain(..taken);
        if let Some(rate) = self.read_rate.filter(|&r| r > 0 && taken > 0) {
            // A slow reader: each chunk costs story time in proportion to its size.
            let cost = Duration::from_secs_f64(taken as f64 / rate as f64);
            self.out.push_back(Output::Sleep(cost));
        }
        if self.cut_after.is_some_and(|n| body.seen() >= n) {
            let seen = body.seen();
            self.note(
                '*',
                format!("server drops the connection after {seen} octets of DATA"),
            );
            return self.close();
        }
        if !done {
            if self.ended {
                self.note('*', "client closed during DATA".into());
                return self.close();
            }
            self.phase = Phase::Data(body);
            // A queued sleep goes first; the read comes when the driver polls again.
            if self.out.is_empty() {
                self.read();
            }
            return;
        }
        self.phase = Phase::Commands;
        self.note('C', format!("(message, {} octets) .", body.bytes().len()));
        match body.overflow() {
            Some(Overflow::TooBig) => {
                self.reset();
                return self.send(
                    Stage::EndOfData,
                    reply(552, (5, 3, 4), "Message too big for system"),
                );
            }
            Some(Overflow::NoRoom) => {
                self.reset();
                let busy = "Insufficient system storage, try again later";
                return self.send(Stage::EndOfData, reply(452, (4, 3, 1), busy));
            }
            None => {}
        }
        let message = body.take();
        self.held = Some(body);
        // RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
        if message
            .split(|&b| b == b'\n')
            .any(|line| line.len() + 1 > 1000)
        {
            self.reset();
            let refused = reply(
                500,
                (5, 5, 2),
                "Line too long: at most 1000 octets per line",
            );
            return self.send(Stage::EndOfData, refused);
        }
        self.phase = Phase::Waiting(Wait::Dmarc(message));
        self.out.push_back(Output::Lookup(Lookup::Dmarc {
            mail_from: self.mail_from.clone().unwrap_or_default(),
            helo: self.helo_name.clone(),
            spf: self.spf,
        }));
    }

    /// The end-of-data stage, once DMARC has been asked.
    fn end_of_data(&mut self, message: Vec<u8>) {
        let step = self.decide(Stage::EndOfData, &self.rcpt_to, Some(&message));
        if !step.delay.is_zero() {
            self.out.push_back(Output::Sleep(step.delay));
        }
        match step.act {
            Act::Accept | Act::Refuse | Act::Drop | Act::Throttle(_) => {
                // Kept before the 250 goes out: an acknowledged message is never lost, and
                // one that could not be kept is refused for now, so the client keeps it.
                self.phase = Phase::Waiting(Wait::Store);
                self.out.push_back(Output::Store(Captured {
                    at: Duration::ZERO,
                    mail_from: self.mail_from.clone().unwrap_or_default(),
                    rcpt_to: self.rcpt_to.clone(),
                    data: message,
                    helo: self.helo_name.clone(),
                    client: self.client.to_string(),
                    tls: self.in_tls,
                    received: String::new(),
                }));
                return;
            }
            Act::Reply(reply) => {
                let closing = reply.code == 421;
                self.send(Stage::EndOfData, reply);
                if closing {
                    self.close();
                }
            }
            Act::Stall => self.stall(),
            Act::Close | Act::CloseAfter(_) => {
                self.note('*', "server hangs up".into());
                self.close();
            }
        }
        self.reset();
    }

    /// RFC 3207: 220, the handshake, and a fresh start — the client must EHLO again.
    fn starttls(&mut self) {
        if self.in_tls || !self.host.can_starttls() {
            return self.send(Stage::Starttls, reply(454, (4, 7, 0), "TLS not available"));
        }
        let step = self.decide(Stage::Starttls, &[], None);
        if self.act(Stage::Starttls, step, ready_for_tls()) && matches!(self.phase, Phase::Commands)
        {
            // Anything the client pipelined behind STARTTLS is discarded (RFC 3207 §4.2).
            self.input.clear();
            self.phase = Phase::Waiting(Wait::Tls);
            self.out.push_back(Output::StartTls);
        }
    }

    /// AUTH (RFC 4954), offered when the host lists an `AUTH …` extension: PLAIN and LOGIN
    /// with any well-formed credentials, unless a rule at stage `auth` says otherwise.
    fn auth(&mut self, mechanism: u64, initial: &str) {
        let offered = sasl::offered(&self.host.extensions);
        let refusal = if offered.is_empty() {
            Some(reply(502, (5, 5, 1), "AUTH not offered"))
        } else if !self.helo {
            Some(reply(503, (5, 5, 1), "Say EHLO first"))
        } else if self.authenticated {
            Some(reply(503, (5, 5, 1), "Already authenticated"))
        } else if self.mail_from.is_some() {
            let during = "AUTH not permitted during a mail transaction";
            Some(reply(503, (5, 5, 1), during))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return self.send(Stage::Auth, refusal);
        }
        let Some(mechanism) =
            sasl::Mechanism::from_proto(mechanism).filter(|m| offered.contains(m))
        else {
            return self.send(
                Stage::Auth,
                reply(504, (5, 5, 4), "Unrecognized authentication type"),
            );
        };
        let (exchange, next) = sasl::Exchange::start(mechanism, initial);
        self.auth_next(exchange, next);
    }

    fn auth_next(&mut self, exchange: sasl::Exchange, next: sasl::Next) {
        match next {
            sasl::Next::Challenge(challenge) => {
                self.send(Stage::Auth, challenge);
                self.phase = Phase::Auth(exchange);
            }
            sasl::Next::Fail(refused) => self.send(Stage::Auth, refused),
            sasl::Next::Done { user } => {
                self.note('*', format!("AUTH {:?} as {user}", exchange.mechanism()));
                let welcome = reply(235, (2, 7, 0), "Authentication successful");
                let step = self.decide(Stage::Auth, &[], None);
                self.authenticated = self.act(Stage::Auth, step, welcome);
            }
        }
    }

    /// The client's answer to an AUTH challenge.
    fn auth_line(&mut self, mut exchange: sasl::Exchange) {
        let Some(end) = self.input.iter().position(|&b| b == b'\n') else {
            if self.input.len() > MAX_AUTH_LINE {
                self.input.clear();
                let too_long = reply(500, (5, 5, 6), "Authentication exchange line is too long");
                self.phase = Phase::Discarding(too_long);
                return;
            }
            self.phase = Phase::Auth(exchange);
            return self.more_or_close();
        };
        self.phase = Phase::Commands;
        let line_bytes: Vec<u8> = self.input.drain(..=end).collect();
        if line_bytes.len() > MAX_AUTH_LINE {
            let too_long = reply(500, (5, 5, 6), "Authentication exchange line is too long");
            return self.send(Stage::Auth, too_long);
        }
        let answer = String::from_utf8_lossy(&line_bytes);
        let answer = answer.trim_end_matches(['\r', '\n']);
        // Credentials never reach a transcript.
        self.note(
            'C',
            if answer == "*" { "*" } else { "(credentials)" }.into(),
        );
        let next = exchange.answer(answer);
        self.auth_next(exchange, next);
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.dmarc = None;
        self.held = None;
    }

    /// The host applies DMARC and its policy quarantines this message.
    fn quarantined(&self) -> bool {
        self.host.applies_dmarc()
            && self
                .dmarc
                .as_ref()
                .is_some_and(|v| v.disposition == DmarcDisposition::Quarantine)
    }
}

/// The command as a transcript shows it: credentials never reach one.
fn transcript_line(request: &Request<String>, line: String) -> String {
    match request {
        Request::Auth {
            initial_response, ..
        } if !initial_response.is_empty() => {
            line.replace(initial_response.as_str(), "(credentials)")
        }
        _ => line,
    }
}

/// A reply with an enhanced status code, as this server words its own.
fn reply(code: u16, (class, subject, detail): (u8, u16, u16), text: &str) -> Reply {
    Reply::new(
        code,
        Some(EnhancedStatus::new(class, subject, detail)),
        text,
    )
}

fn ready_for_tls() -> Reply {
    reply(220, (2, 0, 0), "Ready to start TLS")
}

fn parse_error_reply(error: &ParseError) -> Reply {
    match error {
        ParseError::UnknownCommand => reply(500, (5, 5, 1), "Command unrecognized"),
        ParseError::InvalidSenderAddress => reply(501, (5, 1, 7), "Bad sender address syntax"),
        ParseError::InvalidRecipientAddress => {
            reply(501, (5, 1, 3), "Bad recipient address syntax")
        }
        ParseError::ResponseTooLong => reply(500, (5, 5, 2), "Line too long"),
        _ => reply(501, (5, 5, 4), "Syntax error in parameters or arguments"),
    }
}

#[cfg(test)]
mod tests;
