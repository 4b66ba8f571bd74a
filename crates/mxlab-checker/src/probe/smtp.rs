//! The checker's own SMTP probe, as an administrator runs `swaks`: connect, read the banner,
//! EHLO, MAIL, RCPT (and postmaster when the recipient is refused, to tell a mailbox from a
//! domain problem), DATA with a short test message, QUIT — with the per-stage timeouts of
//! RFC 5321 §4.5.3.2, so a stall is named by the stage it happens at.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mxlab_net::smtp_client::{Broken, Client};
use mxlab_net::{Clock, Network};
use mxlab_vocab::{Reply, TlsFailure};

use super::{Mode, ProbeEnv};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Reply(Reply),
    /// The TLS handshake failed.
    TlsFailed(TlsFailure),
    /// The TLS handshake succeeded and the certificate verified.
    TlsEstablished,
    Timeout,
    /// The server closed the connection.
    Closed,
}

impl Outcome {
    pub fn positive(&self) -> bool {
        match self {
            Outcome::Reply(r) => r.is_positive(),
            Outcome::TlsEstablished => true,
            _ => false,
        }
    }

    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Outcome::Reply(r) => Some(r),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Outcome::Reply(r) => r.first_line(),
            Outcome::TlsEstablished => "certificate verified, TLS established".into(),
            Outcome::Timeout => "no reply (timed out)".into(),
            Outcome::Closed => "connection closed by the server".into(),
            Outcome::TlsFailed(why) => format!("TLS negotiation failed: {why}"),
        }
    }
}

impl From<Result<Reply, Broken>> for Outcome {
    fn from(r: Result<Reply, Broken>) -> Self {
        match r {
            Ok(reply) => Outcome::Reply(reply),
            Err(Broken::TimedOut) => Outcome::Timeout,
            Err(Broken::SocketError) => Outcome::Closed,
        }
    }
}

/// The steps of the probe's conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Ehlo,
    Helo,
    Starttls,
    /// The TLS handshake itself.
    Tls,
    EhloTls,
    Mail,
    Rcpt,
    /// RCPT for postmaster@ the same domain, after the recipient was refused (and, under
    /// `check`, after it was accepted too).
    RcptPostmaster,
    /// `check` without --send: the transaction abandoned after RCPT.
    Rset,
    Data,
    EndOfData,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Ehlo => "ehlo",
            Step::Helo => "helo",
            Step::Starttls => "starttls",
            Step::Tls => "tls",
            Step::EhloTls => "ehlo-tls",
            Step::Mail => "mail",
            Step::Rcpt => "rcpt",
            Step::RcptPostmaster => "rcpt-postmaster",
            Step::Rset => "rset",
            Step::Data => "data",
            Step::EndOfData => "end-of-data",
        })
    }
}

/// One command of the probe and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeStep {
    pub step: Step,
    pub sent: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpResult {
    /// The connection could not even be attempted from here: no route to the address (an
    /// IPv6 target from a host without IPv6), or the local host forbids it. Says nothing
    /// about the remote.
    Unreachable(String),
    /// The port is closed.
    Refused(String),
    /// No answer to the connection attempt.
    ConnectTimeout,
    /// Connected, but no greeting within the banner timeout.
    BannerTimeout,
    /// The server hung up before greeting.
    ClosedBeforeBanner,
    /// A greeting other than 220.
    Rejected(Reply),
    /// 220 greeting, then the transaction as far as it went.
    Greeted {
        banner: Reply,
        steps: Vec<ProbeStep>,
    },
}

impl SmtpResult {
    /// The probe step `step`, if the probe got that far.
    pub fn step(&self, step: Step) -> Option<&ProbeStep> {
        match self {
            SmtpResult::Greeted { steps, .. } => steps.iter().find(|s| s.step == step),
            _ => None,
        }
    }

    /// The first step that did not succeed (an EHLO refused and answered by HELO aside, and
    /// the postmaster question and RSET, which only tell more).
    pub fn failed_step(&self) -> Option<&ProbeStep> {
        let SmtpResult::Greeted { steps, .. } = self else {
            return None;
        };
        let helo_ok = steps
            .iter()
            .any(|s| s.step == Step::Helo && s.outcome.positive());
        steps.iter().find(|s| {
            !(s.outcome.positive()
                || s.step == Step::Ehlo && helo_ok
                || matches!(s.step, Step::RcptPostmaster | Step::Rset))
        })
    }

    /// The recipient was accepted at RCPT.
    pub fn recipient_accepted(&self) -> bool {
        self.failed_step().is_none() && self.step(Step::Rcpt).is_some_and(|s| s.outcome.positive())
    }

    /// The message was accepted: 250 to the end of data.
    pub fn delivered(&self) -> bool {
        self.failed_step().is_none()
            && self
                .step(Step::EndOfData)
                .is_some_and(|s| s.outcome.positive())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpProbe {
    pub host: String,
    pub ip: IpAddr,
    pub port: u16,
    /// The recipient the probe asked for.
    pub recipient: String,
    /// Story time the probe started, since start.
    pub at: Duration,
    /// How long the probe waited for the greeting.
    pub banner_limit: Duration,
    pub result: SmtpResult,
}

#[derive(Clone, Copy, Debug)]
pub struct SmtpTimeouts {
    pub connect: Duration,
    pub banner: Duration,
    pub command: Duration,
    pub data: Duration,
    pub data_termination: Duration,
}

impl Default for SmtpTimeouts {
    /// RFC 5321 §4.5.3.2's minimums (and 30 s to connect).
    fn default() -> Self {
        SmtpTimeouts {
            connect: Duration::from_secs(30),
            banner: Duration::from_secs(300),
            command: Duration::from_secs(300),
            data: Duration::from_secs(120),
            data_termination: Duration::from_secs(600),
        }
    }
}

/// Probes `host` at `ip` on the environment's SMTP port, for mail to `recipient`.
pub async fn probe(env: &ProbeEnv<'_>, host: &str, ip: IpAddr, recipient: &str) -> SmtpProbe {
    let at = env.clock.elapsed();
    let to = SocketAddr::new(ip, env.smtp_port);
    let result = run(env.net, &env.clock, env, (host, to), recipient).await;
    SmtpProbe {
        host: host.to_string(),
        ip,
        port: env.smtp_port,
        recipient: recipient.to_string(),
        at,
        banner_limit: env.smtp.banner,
        result,
    }
}

/// A conversation in progress: the connection and the steps so far.
struct Session<'a> {
    client: Client,
    clock: &'a Clock,
    steps: Vec<ProbeStep>,
}

impl Session<'_> {
    /// Sends `cmd`, records the step; true when the reply was positive.
    async fn step(&mut self, step: Step, limit: Duration, cmd: &str) -> bool {
        let outcome: Outcome = self.client.command(self.clock, limit, cmd).await.into();
        self.record(step, cmd, outcome)
    }

    fn record(&mut self, step: Step, sent: &str, outcome: Outcome) -> bool {
        let ok = outcome.positive();
        self.steps.push(ProbeStep {
            step,
            sent: sent.to_string(),
            outcome,
        });
        ok
    }

    fn last(&self) -> Option<&Outcome> {
        self.steps.last().map(|s| &s.outcome)
    }
}

async fn run(
    net: &dyn Network,
    clock: &Clock,
    env: &ProbeEnv<'_>,
    (host, to): (&str, SocketAddr),
    recipient: &str,
) -> SmtpResult {
    let t = env.smtp;
    let stream = match clock.timeout(t.connect, net.connect(env.from_ip, to)).await {
        None => return SmtpResult::ConnectTimeout,
        Some(Err(e)) if stopped_here(&e) => return SmtpResult::Unreachable(e.to_string()),
        Some(Err(e)) => return SmtpResult::Refused(e.to_string()),
        Some(Ok(s)) => s,
    };
    let mut client = Client::new(stream);
    let banner = match client.read_within(clock, t.banner).await {
        Err(Broken::TimedOut) => return SmtpResult::BannerTimeout,
        Err(Broken::SocketError) => return SmtpResult::ClosedBeforeBanner,
        Ok(r) if r.code != 220 => return SmtpResult::Rejected(r),
        Ok(r) => r,
    };
    let mut s = Session {
        client,
        clock,
        steps: Vec::new(),
    };
    transaction(&mut s, env, host, recipient).await;
    SmtpResult::Greeted {
        banner,
        steps: s.steps,
    }
}

/// Errors that come from this host, not the remote: no route to the network (no IPv6
/// here), a local firewall's refusal, a source address that is not ours. A refused
/// connection (RST) or an unreachable host (ICMP from a router on the way) is the remote's.
fn stopped_here(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NetworkUnreachable
            | std::io::ErrorKind::PermissionDenied
            | std::io::ErrorKind::AddrNotAvailable
    )
}

/// Everything after the greeting, as far as the server lets it go.
async fn transaction(s: &mut Session<'_>, env: &ProbeEnv<'_>, host: &str, recipient: &str) {
    let t = env.smtp;
    let ehlo = format!("EHLO {}", env.helo);
    let mut greeted = s.step(Step::Ehlo, t.command, &ehlo).await;
    if !greeted && matches!(s.last(), Some(Outcome::Reply(r)) if r.code >= 500) {
        greeted = s
            .step(Step::Helo, t.command, &format!("HELO {}", env.helo))
            .await;
    }
    if !greeted {
        return;
    }
    let offers_tls = s
        .last()
        .and_then(Outcome::reply)
        .is_some_and(|r| r.lines.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")));
    let client = env
        .trust
        .clone()
        .and_then(|roots| mxlab_tls::verifying_client(roots, s.clock.clone()).ok());
    if offers_tls && let Some(config) = client {
        if !s.step(Step::Starttls, t.command, "STARTTLS").await {
            return;
        }
        let upgraded =
            mxlab_tls::upgrade(&mut s.client.stream, config, host, s.clock, t.command).await;
        let handshake = match upgraded {
            Ok(()) => Outcome::TlsEstablished,
            Err(why) => Outcome::TlsFailed(why),
        };
        if !s.record(Step::Tls, "TLS handshake", handshake) {
            return;
        }
        if !s.step(Step::EhloTls, t.command, &ehlo).await {
            return;
        }
    }
    if !s
        .step(
            Step::Mail,
            t.command,
            &format!("MAIL FROM:<{}>", env.mail_from),
        )
        .await
    {
        return;
    }
    if !s
        .step(Step::Rcpt, t.command, &format!("RCPT TO:<{recipient}>"))
        .await
    {
        if matches!(s.last(), Some(Outcome::Reply(_)))
            && let Some((_, domain)) = recipient.rsplit_once('@')
        {
            // RFC 5321 §4.5.1: every domain accepts mail for postmaster. If it does here, the
            // refusal was about the mailbox, not the domain.
            let postmaster = format!("RCPT TO:<postmaster@{domain}>");
            s.step(Step::RcptPostmaster, t.command, &postmaster).await;
        }
        quit(s, t.command).await;
        return;
    }
    if env.mode == (Mode::Check { send: false }) {
        // RFC 5321 §4.5.1: every domain takes mail for postmaster; then nothing is sent.
        if let Some((_, domain)) = recipient.rsplit_once('@')
            && !recipient.eq_ignore_ascii_case(&format!("postmaster@{domain}"))
        {
            let postmaster = format!("RCPT TO:<postmaster@{domain}>");
            s.step(Step::RcptPostmaster, t.command, &postmaster).await;
        }
        s.step(Step::Rset, t.command, "RSET").await;
        quit(s, t.command).await;
        return;
    }
    let go = s.step(Step::Data, t.data, "DATA").await;
    if !go || !matches!(s.last(), Some(Outcome::Reply(r)) if r.code == 354) {
        return;
    }
    let message = format!(
        "From: <{}>\r\nTo: <{recipient}>\r\nSubject: mxlab checker probe\r\n\r\nA test message from the mxlab checker; it may be discarded.",
        env.mail_from
    );
    let end: Outcome = s
        .client
        .message(s.clock, t.data_termination, message.as_bytes())
        .await
        .into();
    if s.record(Step::EndOfData, "(message) .", end) {
        quit(s, t.command).await;
    }
}

async fn quit(s: &mut Session<'_>, limit: Duration) {
    let _ = s.client.command(s.clock, limit, "QUIT").await;
}
