//! One SMTP session over any byte stream: reads commands with smtp-proto's receivers, asks the
//! host's behaviour what to do at each stage, and does it — reply, wait, stall or hang up.
//! The same driver runs over an in-memory pipe on the virtual clock and over TCP in real time.

use std::net::IpAddr;

use mxlab_net::BoxStream;
use mxlab_vocab::{DmarcDisposition, EnhancedStatus, Reply, ReverseDns, SpfResult, Stage};
use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{Error as ParseError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::behaviour::{Act, Context, Recipient, Step};
use crate::gates::{DmarcVerdict, DnsblVerdict};
use crate::host::{Captured, FakeSmtpHost, Line, Transcript};
use crate::sasl;

/// Lines kept of one session's transcript; the rest are counted, not kept.
const MAX_TRANSCRIPT_LINES: usize = 10_000;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets.
const MAX_COMMAND_LINE: usize = 512;

/// RFC 4954 §4: an AUTH command or response line is at most 12288 octets.
const MAX_AUTH_LINE: usize = 12_288;

enum Flow {
    Continue,
    Close,
}

struct Session<'h> {
    host: &'h FakeSmtpHost,
    /// Boxed, so STARTTLS can swap the plain stream for a TLS one.
    stream: BoxStream,
    client: IpAddr,
    attempt: u32,
    /// Sessions open at the host when this one began, itself included.
    concurrent: u32,
    /// Drop the connection once this much of the message has arrived.
    cut_after: Option<u64>,
    /// Read the message at most this many bytes per second.
    read_rate: Option<u64>,
    /// The name the client gave in EHLO/HELO.
    helo_name: String,
    /// Transcript lines past the limit.
    omitted: usize,
    /// The sender's SPF result, once MAIL FROM was evaluated.
    spf: Option<SpfResult>,
    /// What the host's blocklist zones say about the client, asked when it connected.
    dnsbl: Option<DnsblVerdict>,
    /// The client's reverse DNS, looked up when it connected.
    reverse_dns: Option<ReverseDns>,
    /// The message's DMARC disposition, at end-of-data.
    dmarc: Option<DmarcVerdict>,
    in_tls: bool,
    transcript: Transcript,
    buf: Vec<u8>,
    pos: usize,
    helo: bool,
    /// AUTH succeeded in this session (until STARTTLS starts it afresh).
    authenticated: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// Runs a session to its end. `attempt` is what [`FakeSmtpHost::connect`] counted.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    host: &FakeSmtpHost,
    stream: S,
    client: IpAddr,
    attempt: u32,
) {
    let concurrent = host.opened();
    let mut session = Session {
        host,
        stream: Box::new(stream),
        client,
        attempt,
        concurrent,
        cut_after: None,
        read_rate: None,
        helo_name: String::new(),
        omitted: 0,
        spf: None,
        dnsbl: None,
        reverse_dns: None,
        dmarc: None,
        in_tls: false,
        transcript: Transcript {
            host: host.name.clone(),
            client: client.to_string(),
            lines: Vec::new(),
        },
        buf: Vec::new(),
        pos: 0,
        helo: false,
        authenticated: false,
        mail_from: None,
        rcpt_to: Vec::new(),
    };
    session.note('*', format!("connection {attempt} from {client}"));
    session.look_up_client().await;
    session.serve().await;
    if session.omitted > 0 {
        let omitted = session.omitted;
        session.transcript.lines.push(Line {
            at: host.clock.elapsed(),
            who: '*',
            text: format!("… {omitted} more lines not kept"),
        });
    }
    session.note('*', "closed".into());
    let transcript = std::mem::take(&mut session.transcript);
    host.record(transcript);
    host.closed();
}

impl Session<'_> {
    /// What a receiver asks about a client before it greets: its blocklist zones and its
    /// reverse DNS, when the host looks at them.
    async fn look_up_client(&mut self) {
        if let Some(verdict) = self.host.dnsbl_verdict(self.client).await {
            self.note('*', verdict.note.clone());
            self.dnsbl = Some(verdict);
        }
        if let Some(verdict) = self.host.reverse_dns_verdict(self.client).await {
            self.note('*', verdict.note);
            self.reverse_dns = Some(verdict.result);
        }
    }

    fn note(&mut self, who: char, text: String) {
        // A sink keeps no transcripts, and one endless session cannot grow one without bound.
        if self.host.limits.transcripts == 0 {
            return;
        }
        if self.transcript.lines.len() >= MAX_TRANSCRIPT_LINES {
            self.omitted += 1;
            return;
        }
        self.transcript.lines.push(Line {
            at: self.host.clock.elapsed(),
            who,
            text,
        });
    }

    async fn send(&mut self, reply: &Reply) -> Flow {
        let wire = reply.to_wire();
        for line in wire.lines() {
            self.note('S', line.to_string());
        }
        match self.stream.write_all(wire.as_bytes()).await {
            Ok(()) => match self.stream.flush().await {
                Ok(()) => Flow::Continue,
                Err(_) => Flow::Close,
            },
            Err(_) => Flow::Close,
        }
    }

    /// Reads more input; false at end of stream or error.
    async fn fill(&mut self) -> bool {
        self.fill_within(Some(self.host.limits.idle)).await
    }

    /// Reads more input, giving up after `idle` of silence with a `421`.
    async fn fill_within(&mut self, idle: Option<std::time::Duration>) -> bool {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 4096];
        let read = match idle {
            Some(idle) => match self
                .host
                .clock
                .timeout(idle, self.stream.read(&mut chunk))
                .await
            {
                Some(r) => r,
                None => {
                    self.note('*', "client idle too long".into());
                    let bye = reply(
                        421,
                        (4, 4, 2),
                        &format!("{} Idle timeout, closing connection", self.host.name),
                    );
                    let _ = self.send(&bye).await;
                    return false;
                }
            },
            None => self.stream.read(&mut chunk).await,
        };
        match read {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Says nothing until the client gives up (however long that takes).
    async fn stall(&mut self) {
        self.note('*', "stalling".into());
        while self.fill_within(None).await {
            self.pos = self.buf.len();
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

    /// Decides and executes a stage that is about no recipient.
    async fn step(&mut self, stage: Stage, healthy: Reply) -> (Flow, bool) {
        let step = self.decide(stage, &[], None);
        self.act(step, healthy).await
    }

    /// Executes a decided step; `healthy` is the reply a healthy server gives.
    async fn act(&mut self, step: Step, healthy: Reply) -> (Flow, bool) {
        if !step.delay.is_zero() {
            self.host.clock.sleep(step.delay).await;
        }
        match step.act {
            Act::Accept | Act::Refuse | Act::Drop => (self.send(&healthy).await, true),
            Act::Reply(reply) => {
                let positive = reply.is_positive();
                let flow = self.send(&reply).await;
                // 421 means the server is closing the channel (RFC 5321 §3.8).
                if reply.code == 421 {
                    (Flow::Close, false)
                } else {
                    (flow, positive)
                }
            }
            Act::Stall => {
                self.stall().await;
                (Flow::Close, false)
            }
            Act::Close => {
                self.note('*', "server hangs up".into());
                (Flow::Close, false)
            }
            Act::CloseAfter(bytes) => {
                self.cut_after = Some(bytes);
                (self.send(&healthy).await, true)
            }
            Act::Throttle(rate) => {
                self.read_rate = Some(rate);
                (self.send(&healthy).await, true)
            }
        }
    }

    async fn serve(&mut self) {
        // A banner of several lines is a multi-line 220 (`220-…` then `220 …`).
        let banner = Reply {
            code: 220,
            status: None,
            lines: self.host.banner.lines().map(str::to_string).collect(),
        };
        let (flow, ok) = self.step(Stage::Banner, banner).await;
        if matches!(flow, Flow::Close) || !ok {
            return;
        }
        loop {
            match self.next_command().await {
                None => return,
                Some(Err(reply)) => {
                    if let Flow::Close = self.send(&reply).await {
                        return;
                    }
                }
                Some(Ok((request, line))) => {
                    // Credentials never reach a transcript.
                    let line = match &request {
                        Request::Auth {
                            initial_response, ..
                        } if !initial_response.is_empty() => {
                            line.replace(initial_response.as_str(), "(credentials)")
                        }
                        _ => line,
                    };
                    self.note('C', line);
                    if let Flow::Close = self.command(request).await {
                        return;
                    }
                }
            }
        }
    }

    /// The next command, or the reply for a line that is not one. `None` at end of stream.
    async fn next_command(&mut self) -> Option<Result<(Request<String>, String), Reply>> {
        let mut receiver = RequestReceiver::default();
        loop {
            if let Some(end) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let line_bytes = &self.buf[self.pos..self.pos + end + 1];
                let line = String::from_utf8_lossy(line_bytes).trim_end().to_string();
                self.pos += end + 1;
                if line_bytes.len() > MAX_COMMAND_LINE {
                    self.note(
                        'C',
                        format!(
                            "{}… ({} octets)",
                            line.chars().take(40).collect::<String>(),
                            line_bytes.len()
                        ),
                    );
                    return Some(Err(reply(500, (5, 5, 2), "Line too long")));
                }
                let mut iter = line_bytes.iter();
                return Some(match receiver.ingest(&mut iter) {
                    Ok(request) => Ok((request.into_owned(), line)),
                    Err(e) => {
                        self.note('C', line);
                        Err(parse_error_reply(&e))
                    }
                });
            }
            if self.buf.len() - self.pos > MAX_COMMAND_LINE {
                // Discard the overlong line up to its end, then say so once.
                self.discard_line().await?;
                self.note('C', "(overlong line)".into());
                return Some(Err(reply(500, (5, 5, 2), "Line too long")));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn command(&mut self, request: Request<String>) -> Flow {
        match request {
            Request::Ehlo { host } | Request::Helo { host } | Request::Lhlo { host } => {
                self.helo_name = host.clone();
                let mut extensions = self.host.extensions.clone();
                if self.host.offers_starttls() && !self.in_tls {
                    extensions.push("STARTTLS".into());
                }
                let mut greets =
                    Reply::new(250, None, &format!("{} greets {host}", self.host.name));
                greets.lines.extend(extensions);
                let (flow, ok) = self.step(Stage::Ehlo, greets).await;
                self.helo |= ok;
                self.reset();
                flow
            }
            Request::Mail { from } => {
                if !self.helo {
                    return self.send(&reply(503, (5, 5, 1), "Say EHLO first")).await;
                }
                if self.mail_from.is_some() {
                    return self
                        .send(&reply(503, (5, 5, 1), "Sender already given"))
                        .await;
                }
                self.spf = self
                    .host
                    .spf_result(self.client, &from.address, &self.helo_name)
                    .await;
                if let Some(result) = self.spf {
                    let note = format!("SPF {result} for <{}> from {}", from.address, self.client);
                    self.note('*', note);
                }
                let (flow, ok) = self
                    .step(Stage::Mail, reply(250, (2, 1, 0), "Sender OK"))
                    .await;
                if ok {
                    self.mail_from = Some(from.address);
                }
                flow
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    return self.send(&reply(503, (5, 5, 1), "Need MAIL first")).await;
                }
                let step = self.decide(Stage::Rcpt, std::slice::from_ref(&to.address), None);
                let (flow, ok) = self.act(step, reply(250, (2, 1, 5), "Recipient OK")).await;
                if ok {
                    self.rcpt_to.push(to.address);
                }
                flow
            }
            Request::Data => {
                if self.rcpt_to.is_empty() {
                    return self.send(&reply(503, (5, 5, 1), "Need RCPT first")).await;
                }
                let go_ahead = Reply::new(354, None, "Start mail input; end with <CRLF>.<CRLF>");
                let step = self.decide(Stage::Data, &self.rcpt_to, None);
                let (flow, ok) = self.act(step, go_ahead).await;
                if !ok || matches!(flow, Flow::Close) {
                    return flow;
                }
                self.data().await
            }
            Request::Rset => {
                self.reset();
                self.send(&reply(250, (2, 0, 0), "Reset")).await
            }
            Request::Noop { .. } => self.send(&reply(250, (2, 0, 0), "OK")).await,
            Request::Quit => {
                let _ = self.step(Stage::Quit, reply(221, (2, 0, 0), "Bye")).await;
                Flow::Close
            }
            Request::StartTls => self.starttls().await,
            Request::Bdat { .. } => {
                self.send(&reply(502, (5, 5, 1), "CHUNKING not offered"))
                    .await
            }
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, &initial_response).await,
            _ => {
                self.send(&reply(502, (5, 5, 1), "Command not implemented"))
                    .await
            }
        }
    }

    /// AUTH (RFC 4954), offered when the host lists an `AUTH …` extension: PLAIN and LOGIN
    /// with any well-formed credentials, unless a rule at stage `auth` says otherwise
    /// (`535 5.7.8`, a stall, …).
    async fn auth(&mut self, mechanism: u64, initial: &str) -> Flow {
        let offered = sasl::offered(&self.host.extensions);
        if offered.is_empty() {
            return self.send(&reply(502, (5, 5, 1), "AUTH not offered")).await;
        }
        if !self.helo {
            return self.send(&reply(503, (5, 5, 1), "Say EHLO first")).await;
        }
        if self.authenticated {
            return self
                .send(&reply(503, (5, 5, 1), "Already authenticated"))
                .await;
        }
        if self.mail_from.is_some() {
            let refused = reply(
                503,
                (5, 5, 1),
                "AUTH not permitted during a mail transaction",
            );
            return self.send(&refused).await;
        }
        let Some(mechanism) =
            sasl::Mechanism::from_proto(mechanism).filter(|m| offered.contains(m))
        else {
            let refused = reply(504, (5, 5, 4), "Unrecognized authentication type");
            return self.send(&refused).await;
        };
        let (mut exchange, mut next) = sasl::Exchange::start(mechanism, initial);
        // PLAIN asks at most once and LOGIN twice: the loop is bounded by the mechanism.
        for _ in 0..3 {
            match next {
                sasl::Next::Challenge(challenge) => {
                    if let Flow::Close = self.send(&challenge).await {
                        return Flow::Close;
                    }
                    let answer = match self.auth_line().await {
                        None => return Flow::Close,
                        Some(Err(too_long)) => return self.send(&too_long).await,
                        Some(Ok(answer)) => answer,
                    };
                    self.note(
                        'C',
                        if answer == "*" {
                            "*".into()
                        } else {
                            "(credentials)".into()
                        },
                    );
                    next = exchange.answer(&answer);
                }
                sasl::Next::Fail(refused) => return self.send(&refused).await,
                sasl::Next::Done { user } => {
                    self.note('*', format!("AUTH {mechanism:?} as {user}"));
                    let welcome = reply(235, (2, 7, 0), "Authentication successful");
                    let (flow, ok) = self.step(Stage::Auth, welcome).await;
                    self.authenticated = ok;
                    return flow;
                }
            }
        }
        self.send(&reply(501, (5, 5, 2), "Authentication exchange too long"))
            .await
    }

    /// One line of an AUTH exchange, without its line end; a `500 5.5.6` reply for one that
    /// is too long (RFC 4954 §4). `None` at end of stream.
    async fn auth_line(&mut self) -> Option<Result<String, Reply>> {
        loop {
            if let Some(end) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + end]);
                let line = line.trim_end_matches('\r').to_string();
                self.pos += end + 1;
                if end + 1 > MAX_AUTH_LINE {
                    return Some(Err(reply(
                        500,
                        (5, 5, 6),
                        "Authentication exchange line is too long",
                    )));
                }
                return Some(Ok(line));
            }
            if self.buf.len() - self.pos > MAX_AUTH_LINE {
                self.discard_line().await?;
                return Some(Err(reply(
                    500,
                    (5, 5, 6),
                    "Authentication exchange line is too long",
                )));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Drops input up to the end of the current line; `None` when the stream ends first.
    async fn discard_line(&mut self) -> Option<()> {
        self.pos = self.buf.len();
        loop {
            if !self.fill().await {
                return None;
            }
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                self.pos = end + 1;
                return Some(());
            }
            self.pos = self.buf.len();
        }
    }

    /// RFC 3207: 220, the handshake, and a fresh start — the client must EHLO again.
    async fn starttls(&mut self) -> Flow {
        let Some(config) = self.host.tls_config().filter(|_| !self.in_tls) else {
            return self.send(&reply(454, (4, 7, 0), "TLS not available")).await;
        };
        if self.decide(Stage::Starttls, &[], None).act == Act::Close {
            // `close` at STARTTLS: say yes, then hang up in the middle of the handshake.
            let _ = self.send(&ready_for_tls()).await;
            let mut hello = [0u8; 64];
            let _ = self.stream.read(&mut hello).await;
            self.note('*', "server aborts the TLS handshake".into());
            return Flow::Close;
        }
        let (flow, ok) = self.step(Stage::Starttls, ready_for_tls()).await;
        if !ok || matches!(flow, Flow::Close) {
            return flow;
        }
        // Anything the client pipelined behind STARTTLS is discarded (RFC 3207 §4.2).
        self.buf.clear();
        self.pos = 0;
        let plain = std::mem::replace(&mut self.stream, Box::new(tokio::io::duplex(1).0));
        match mxlab_tls::TlsAcceptor::from(config).accept(plain).await {
            Ok(tls) => {
                self.stream = Box::new(tls);
                self.in_tls = true;
                self.helo = false;
                self.authenticated = false;
                self.reset();
                self.note('*', "TLS established".into());
                Flow::Continue
            }
            Err(e) => {
                self.note('*', format!("TLS handshake failed: {e}"));
                Flow::Close
            }
        }
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.dmarc = None;
    }

    /// The host applies DMARC and its policy quarantines this message.
    fn quarantined(&self) -> bool {
        self.host.applies_dmarc()
            && self
                .dmarc
                .as_ref()
                .is_some_and(|v| v.disposition == DmarcDisposition::Quarantine)
    }

    /// The data phase, then the end-of-data stage.
    async fn data(&mut self) -> Flow {
        let mut receiver = DataReceiver::new();
        let mut message = Vec::new();
        let mut too_big = false;
        let max = self.host.limits.max_message_bytes;
        loop {
            let mut iter = self.buf[self.pos..].iter();
            let before = iter.len();
            let done = receiver.ingest(&mut iter, &mut message);
            let taken = before - iter.len();
            self.pos += taken;
            if let Some(rate) = self.read_rate {
                // A slow reader: each chunk costs story time in proportion to its size.
                self.host
                    .clock
                    .sleep(std::time::Duration::from_secs_f64(
                        taken as f64 / rate as f64,
                    ))
                    .await;
            }
            if message.len() > max {
                // Keep reading to the final dot, but keep none of it.
                too_big = true;
                message.clear();
            }
            if self.cut_after.is_some_and(|n| message.len() as u64 >= n) {
                self.note(
                    '*',
                    format!(
                        "server drops the connection after {} octets of DATA",
                        message.len()
                    ),
                );
                return Flow::Close;
            }
            if done {
                break;
            }
            if !self.fill().await {
                self.note('*', "client closed during DATA".into());
                return Flow::Close;
            }
        }
        self.note('C', format!("(message, {} octets) .", message.len()));
        if too_big {
            self.reset();
            return self
                .send(&reply(552, (5, 3, 4), "Message too big for system"))
                .await;
        }
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
            return self.send(&refused).await;
        }
        self.dmarc = self
            .host
            .dmarc_verdict(
                &message,
                self.mail_from.as_deref().unwrap_or_default(),
                &self.helo_name,
                self.spf,
            )
            .await;
        if let Some(verdict) = &self.dmarc {
            let note = verdict.note.clone();
            self.note('*', note);
        }
        let step = self.decide(Stage::EndOfData, &self.rcpt_to, Some(&message));
        if !step.delay.is_zero() {
            self.host.clock.sleep(step.delay).await;
        }
        let flow = match step.act {
            Act::Accept | Act::Refuse | Act::Drop | Act::Throttle(_) => {
                // Kept before the 250 goes out: an acknowledged message is never lost, and
                // one that could not be kept is refused for now, so the client keeps it.
                let kept = self
                    .host
                    .accept(Captured {
                        at: self.host.clock.elapsed(),
                        mail_from: self.mail_from.clone().unwrap_or_default(),
                        rcpt_to: self.rcpt_to.clone(),
                        data: message,
                    })
                    .await;
                match kept {
                    Ok(id) => {
                        if self.quarantined() {
                            let junk =
                                "DMARC quarantine: accepted into the recipients' junk folder";
                            self.note('*', junk.into());
                        }
                        let queued = reply(250, (2, 6, 0), &format!("Queued as {id:08X}"));
                        self.send(&queued).await
                    }
                    Err(e) => self.send(&reply(451, (4, 3, 0), &e.to_string())).await,
                }
            }
            Act::Reply(reply) => self.send(&reply).await,
            Act::Stall => {
                self.stall().await;
                Flow::Close
            }
            Act::Close | Act::CloseAfter(_) => {
                self.note('*', "server hangs up".into());
                Flow::Close
            }
        };
        self.reset();
        flow
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
