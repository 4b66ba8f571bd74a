//! The driver of one SMTP session: does what the [`Core`] asks — writes its replies, one
//! write per group, reads with its timeouts, asks the host's policies, stores messages,
//! upgrades to TLS — and keeps the transcript. The same driver runs over an in-memory pipe on
//! the virtual clock and over TCP in real time; every wait it makes is bounded on the story
//! clock, except a stall, which only the client (or, over TCP, a real-time cap) ends.

use std::net::IpAddr;
use std::time::Duration;

use mxlab_net::BoxStream;
use mxlab_vocab::{Reply, Stage};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::core::{Core, Lookup, Output, ReadMode};
use crate::host::{FakeSmtpHost, Line, Transcript};

/// Lines kept of one session's transcript; the rest are counted, not kept.
const MAX_TRANSCRIPT_LINES: usize = 10_000;

/// Input read at a time.
const READ_CHUNK: usize = 4096;

/// How a TCP session's silence ends when the story keeps it silent: the client going away
/// entirely, or a cap in real time.
pub struct Hold {
    /// True once the client has closed its connection entirely (not only its sending side).
    pub gone: Box<dyn FnMut() -> bool + Send>,
    /// The longest a silent session is kept, in real time.
    pub cap: Duration,
}

/// Runs a session to its end. `attempt` is what [`FakeSmtpHost::connect`] counted.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    host: &FakeSmtpHost,
    stream: S,
    client: IpAddr,
    attempt: u32,
) {
    run_with(host, Box::new(stream), client, attempt, None).await;
}

/// [`run`], with what ends a stall over TCP.
pub async fn run_with(
    host: &FakeSmtpHost,
    stream: BoxStream,
    client: IpAddr,
    attempt: u32,
    hold: Option<Hold>,
) {
    let concurrent = host.opened();
    let mut core = Core::new(host, client, attempt, concurrent);
    let mut driver = Driver {
        host,
        stream,
        client,
        attempt,
        pending: Vec::new(),
        transcript: Transcript {
            host: host.name.clone(),
            client: client.to_string(),
            lines: Vec::new(),
        },
        transcript_bytes: 0,
        omitted: 0,
        command: None,
        hold,
        stalled_until: None,
        broken: false,
    };
    driver.drive(&mut core).await;
    driver.finish().await;
    host.closed();
}

struct Driver<'h> {
    host: &'h FakeSmtpHost,
    /// Boxed, so STARTTLS can swap the plain stream for a TLS one.
    stream: BoxStream,
    client: IpAddr,
    /// This client's connection count at the host.
    attempt: u32,
    /// Replies gathered for one write.
    pending: Vec<u8>,
    transcript: Transcript,
    transcript_bytes: usize,
    /// Transcript lines past the limits.
    omitted: usize,
    /// The client's last command, for the log line of its reply.
    command: Option<String>,
    hold: Option<Hold>,
    /// When a stall's real-time cap runs out.
    stalled_until: Option<tokio::time::Instant>,
    /// A read failed (the client reset the connection, say): unlike a half-close, nothing is
    /// left to hold open.
    broken: bool,
}

impl Driver<'_> {
    async fn drive(&mut self, core: &mut Core<'_>) {
        while let Some(output) = core.poll() {
            match output {
                Output::Reply { stage, reply } => self.gather(stage, &reply),
                Output::Note(who, text) => {
                    if who == 'C' {
                        self.command = Some(text.clone());
                    }
                    self.note(who, text);
                }
                Output::Sleep(story) => {
                    if !self.flush().await {
                        return;
                    }
                    self.host.clock.sleep(story).await;
                }
                Output::Read(mode) => {
                    if !self.flush().await {
                        return;
                    }
                    self.read(core, mode).await;
                }
                Output::Lookup(lookup) => {
                    if !self.flush().await {
                        return;
                    }
                    self.look_up(core, lookup).await;
                }
                Output::Store(mut message) => {
                    if !self.flush().await {
                        return;
                    }
                    message.at = self.host.clock.elapsed();
                    let kept = self.host.accept(message).await;
                    core.stored(kept.map_err(|e| e.to_string()));
                }
                Output::StartTls => {
                    if !self.flush().await {
                        return;
                    }
                    let result = self.start_tls().await;
                    core.tls_finished(result);
                }
                Output::Hold => {
                    let _ = self.flush().await;
                    self.hold_silently().await;
                }
                Output::Close => {
                    let _ = self.flush().await;
                    return;
                }
            }
        }
    }

    /// A reply joins the next write, and the transcript and the log now.
    fn gather(&mut self, stage: Option<Stage>, reply: &Reply) {
        let wire = reply.to_wire();
        for line in wire.lines() {
            self.note('S', line.to_string());
        }
        tracing::info!(
            target: "mxlab::smtp",
            client = %self.client,
            host = %self.host.name,
            attempt = self.attempt,
            stage = %stage.map_or("-", Stage::as_str),
            command = self.command.as_deref().unwrap_or("-"),
            reply = %first_line(&wire),
        );
        self.command = None;
        self.pending.extend_from_slice(wire.as_bytes());
    }

    /// Writes the gathered replies at once; false when the client cannot be written to
    /// within the idle limit.
    async fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let pending = std::mem::take(&mut self.pending);
        let write = async {
            self.stream.write_all(&pending).await?;
            self.stream.flush().await
        };
        match self.host.clock.timeout(self.host.limits.idle, write).await {
            Some(Ok(())) => true,
            Some(Err(_)) => false,
            None => {
                self.note('*', "client does not read: write timed out".into());
                false
            }
        }
    }

    async fn read(&mut self, core: &mut Core<'_>, mode: ReadMode) {
        let mut chunk = [0u8; READ_CHUNK];
        let read = match mode {
            ReadMode::Within(idle) => {
                match self
                    .host
                    .clock
                    .timeout(idle, self.stream.read(&mut chunk))
                    .await
                {
                    Some(read) => read,
                    None => return core.timed_out(),
                }
            }
            ReadMode::Stalled => match self.stall_deadline() {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                        Ok(read) => read,
                        Err(_) => {
                            self.note('*', "silent connection held to its limit".into());
                            return core.ended();
                        }
                    }
                }
                None => self.stream.read(&mut chunk).await,
            },
        };
        match read {
            Ok(0) => core.ended(),
            // A TLS client that shut its sending side without close_notify: a half-close.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => core.ended(),
            Err(_) => {
                self.broken = true;
                core.ended();
            }
            Ok(n) => core.received(&chunk[..n]),
        }
    }

    /// When a stall ends at the latest, over TCP: the cap, counted from the stall's start.
    fn stall_deadline(&mut self) -> Option<tokio::time::Instant> {
        let cap = self.hold.as_ref()?.cap;
        Some(*self.stalled_until.get_or_insert_with(|| {
            // A cap too far to represent is no cap: a year will do.
            let now = tokio::time::Instant::now();
            now.checked_add(cap)
                .unwrap_or(now + Duration::from_secs(365 * 24 * 3600))
        }))
    }

    /// The client half-closed a stalled session (as Exim does after the final dot): a stuck
    /// server would not notice, so the connection stays open until the client has gone
    /// entirely or the cap runs out. In memory, where a client's end of stream is its going
    /// away, there is nothing to wait for, nor over a connection already broken.
    async fn hold_silently(&mut self) {
        if self.broken {
            return;
        }
        let Some(deadline) = self.stall_deadline() else {
            return;
        };
        let Some(hold) = self.hold.as_mut() else {
            return;
        };
        while tokio::time::Instant::now() < deadline && !(hold.gone)() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn look_up(&mut self, core: &mut Core<'_>, lookup: Lookup) {
        let host = self.host;
        match lookup {
            Lookup::Client => {
                let dnsbl = host.dnsbl_verdict(self.client).await;
                let reverse_dns = host.reverse_dns_verdict(self.client).await;
                core.client_answered(dnsbl, reverse_dns);
            }
            Lookup::Spf { mail_from, helo } => {
                let result = host.spf_result(self.client, &mail_from, &helo).await;
                core.spf_answered(result);
            }
            Lookup::Dmarc {
                mail_from,
                helo,
                spf,
            } => {
                let verdict = host
                    .dmarc_verdict(core.message(), &mail_from, &helo, spf)
                    .await;
                core.dmarc_answered(verdict);
            }
        }
    }

    /// The server side of the TLS handshake, within the idle limit.
    async fn start_tls(&mut self) -> Result<(), String> {
        let config = self.host.tls_config().ok_or("TLS not configured")?;
        let plain = std::mem::replace(&mut self.stream, Box::new(tokio::io::duplex(1).0));
        let handshake = mxlab_tls::TlsAcceptor::from(config).accept(plain);
        match self
            .host
            .clock
            .timeout(self.host.limits.idle, handshake)
            .await
        {
            Some(Ok(tls)) => {
                self.stream = Box::new(tls);
                Ok(())
            }
            Some(Err(e)) => Err(e.to_string()),
            None => Err("timed out".into()),
        }
    }

    fn note(&mut self, who: char, text: String) {
        // A sink keeps no transcripts, and one endless session cannot grow one without bound.
        if self.host.limits.transcripts == 0 {
            return;
        }
        if self.transcript.lines.len() >= MAX_TRANSCRIPT_LINES
            || self.transcript_bytes + text.len() > self.host.limits.session_transcript_bytes
        {
            self.omitted += 1;
            return;
        }
        self.transcript_bytes += text.len();
        self.transcript.lines.push(Line {
            at: self.host.clock.elapsed(),
            who,
            text,
        });
    }

    /// Closes the transcript and gives it to the host (and to its directory, if it has one).
    async fn finish(&mut self) {
        if self.omitted > 0 {
            let omitted = self.omitted;
            self.transcript.lines.push(Line {
                at: self.host.clock.elapsed(),
                who: '*',
                text: format!("… {omitted} more lines not kept"),
            });
        }
        self.note('*', "closed".into());
        let transcript = std::mem::take(&mut self.transcript);
        // A host that keeps no transcripts (a sink) writes none either: it has no lines.
        let dir = self.host.transcript_dir();
        if let Some(dir) = dir.filter(|_| self.host.limits.transcripts > 0) {
            let (path, text) = transcript_file(self.host, dir, &transcript);
            let written = tokio::task::spawn_blocking(move || std::fs::write(&path, text)).await;
            if let Ok(Err(e)) = written {
                tracing::warn!(host = %self.host.name, "cannot write a transcript: {e}");
            }
        }
        self.host.record(transcript);
    }
}

/// A reply's first line as a log shows it: `250 mx1 greets c`, not `250-mx1 greets c`.
fn first_line(wire: &str) -> String {
    let line = wire.lines().next().unwrap_or_default();
    match line.as_bytes().get(3) {
        Some(b'-') => format!("{} {}", &line[..3], &line[4..]),
        _ => line.to_string(),
    }
}

/// A transcript as a file: named by real time, process and a counter (unique in the
/// directory), then host and client; one line per line, dated on the story clock.
fn transcript_file(
    host: &FakeSmtpHost,
    dir: &std::path::Path,
    transcript: &Transcript,
) -> (std::path::PathBuf, String) {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let client = transcript.client.replace(':', "_");
    let name = format!(
        "{secs}.{}.{n}.{}.{client}.txt",
        std::process::id(),
        host.name
    );
    let mut text = String::new();
    for line in &transcript.lines {
        let at = host
            .clock
            .at(line.at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        text.push_str(&format!("{at} {} {}\n", line.who, line.text));
    }
    (dir.join(name), text)
}
