//! One delivery attempt to one domain: route it (MX, RFC 5321 §5.1), connect to each target in
//! turn, and speak SMTP (`client`). Failures are worded in Exchange's manner, because those
//! words are what an administrator gets to read. From docs/FACTS.md (Exchange's own text): the
//! Winsock 10060/10061 connect failures and `554 5.4.4 SMTPSEND.DNS.NonExistentDomain`. Modelled
//! on its style, with no verified original: the no-MX `554 5.4.4 Unable to route`, the DNS
//! failure `451 4.4.0 DNS query failed`, `421 4.4.2 Connection dropped due to …` and the TLS
//! failure `451 4.4.317 …`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mxlab_net::mx::{self, Route};
use mxlab_net::{Answer, BoxStream, Clock, DnsClient, Network};
use mxlab_scenario::model::Transport;
use mxlab_tls::TlsFailure;
use mxlab_vocab::{EnhancedStatus, Reply};

use crate::schedule::FailureKind;
use mxlab_net::smtp_client::{Broken, Client};

/// Where the attempt goes out from and how it behaves.
pub struct Env<'a> {
    pub net: &'a dyn Network,
    pub clock: &'a Clock,
    pub dns_server: SocketAddr,
    pub transport: &'a Transport,
    pub sender_ip: IpAddr,
    pub helo: &'a str,
    /// 25, except when a test world serves SMTP elsewhere.
    pub smtp_port: u16,
    /// STARTTLS client configurations, when the world has a CA.
    pub tls: Option<&'a TlsClients>,
    /// Send only over TLS with a certificate that verifies (RequireTLS).
    pub require_tls: bool,
}

/// The sending server's TLS clients: one that verifies (for RequireTLS), one that takes any
/// certificate (opportunistic STARTTLS, as Exchange does by default).
pub struct TlsClients {
    pub verifying: Arc<rustls::ClientConfig>,
    pub opportunistic: Arc<rustls::ClientConfig>,
}

/// Why a recipient was not delivered this time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    /// What the sender reports: the remote host's own reply, or for a failure that is not
    /// one, the line the sender writes for it (`441 4.4.1 Error encountered …`).
    pub reply: Reply,
    /// The host and address that produced it, when one was reached or tried.
    pub remote: Option<(String, IpAddr)>,
}

/// What went wrong, as a kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The remote host refused: `reply` is what it said.
    Remote,
    /// DNS gave no way to the domain.
    Dns(DnsFailure),
    /// No connection to the target.
    Connect(ConnectFailure),
    /// The session broke off without a reply.
    Dropped(Broken),
    /// TLS was required and could not be had, or its handshake failed.
    Tls(TlsProblem),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsFailure {
    NonExistentDomain,
    /// No MX and no address records.
    NoMailRecords,
    /// RFC 7505: the domain accepts no mail.
    NullMx,
    /// A lookup failed (SERVFAIL, a timeout, no address for an MX host).
    LookupFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The SYN went unanswered (Winsock 10060).
    TimedOut,
    /// The port is closed (Winsock 10061).
    Refused,
}

impl ConnectFailure {
    pub fn winsock(self) -> u32 {
        match self {
            ConnectFailure::TimedOut => 10060,
            ConnectFailure::Refused => 10061,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// TLS is required and the host does not offer STARTTLS.
    NotOffered,
    /// TLS is required and the host answered STARTTLS with this.
    Refused(Reply),
    Handshake(TlsFailure),
}

impl TlsProblem {
    /// As Exchange names it after `TLS negotiation failed with error`.
    fn name(&self) -> String {
        match self {
            TlsProblem::NotOffered => "StartTlsNotOffered".into(),
            TlsProblem::Refused(reply) => format!("StartTlsRefused ({reply})"),
            TlsProblem::Handshake(failure) => failure.as_str().to_string(),
        }
    }
}

const FAILOVER: &str = "Attempted failover to alternate host, but that did not succeed. Either there are no alternate hosts, or delivery failed to all alternate hosts.";

fn status(class: u8, subject: u16, detail: u16) -> Option<EnhancedStatus> {
    Some(EnhancedStatus::new(class, subject, detail))
}

impl Failure {
    /// The remote host's reply.
    fn remote(reply: Reply, target: &(String, IpAddr)) -> Self {
        Failure {
            cause: Cause::Remote,
            reply,
            remote: Some(target.clone()),
        }
    }

    fn dns(failure: DnsFailure, reply: Reply) -> Self {
        Failure {
            cause: Cause::Dns(failure),
            reply,
            remote: None,
        }
    }

    fn connect(why: ConnectFailure, target: &(String, IpAddr), primary: bool, port: u16) -> Self {
        let which = if primary { "primary" } else { "alternate" };
        let code = why.winsock();
        let text = format!(
            "Error encountered while communicating with {which} target IP address: \"Failed to connect. Winsock error code: {code}, Win32 error code: {code}.\" {FAILOVER} The last endpoint attempted was {}:{port}",
            target.1
        );
        Failure {
            cause: Cause::Connect(why),
            reply: Reply::new(441, status(4, 4, 1), &text),
            remote: Some(target.clone()),
        }
    }

    fn dropped(why: Broken, target: &(String, IpAddr), primary: bool, port: u16) -> Self {
        let which = if primary { "Primary" } else { "Alternate" };
        let text = format!(
            "{which} target IP address responded with: \"421 4.4.2 Connection dropped due to {}.\" {FAILOVER} The last endpoint attempted was {}:{port}",
            why.as_str(),
            target.1
        );
        Failure {
            cause: Cause::Dropped(why),
            reply: Reply::new(451, status(4, 4, 0), &text),
            remote: Some(target.clone()),
        }
    }

    fn tls(problem: TlsProblem, target: &(String, IpAddr), port: u16) -> Self {
        let text = format!(
            "Cannot connect to remote server [Message=TLS negotiation failed with error {}] [LastAttemptedServerName={}] [LastAttemptedIP={}:{port}]",
            problem.name(),
            target.0,
            target.1
        );
        Failure {
            cause: Cause::Tls(problem),
            reply: Reply::new(451, status(4, 4, 317), &text),
            remote: Some(target.clone()),
        }
    }

    /// The enhanced status reported for it: the reply's own, or `4.0.0` / `5.0.0` when the
    /// remote host gave none.
    pub fn status(&self) -> EnhancedStatus {
        self.reply
            .status
            .unwrap_or(EnhancedStatus::new((self.reply.code / 100) as u8, 0, 0))
    }

    pub fn is_permanent(&self) -> bool {
        self.reply.is_permanent()
    }

    /// Which retry interval applies after it.
    pub fn kind(&self) -> FailureKind {
        match self.cause {
            Cause::Connect(_) => FailureKind::Connection,
            _ => FailureKind::Transient,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The remote host's reply to the message.
    pub reply: Reply,
    pub host: String,
    pub ip: IpAddr,
}

/// Each recipient's result, in the order given.
pub type Outcome = Vec<(String, Result<Delivered, Failure>)>;

/// A failure of the connection or session itself (as opposed to a reply to one recipient);
/// Exchange then fails over to the next target.
struct SessionFailure(Failure);

/// Delivers `message` for `recipients` (all at `domain`) from `from`.
pub async fn attempt(
    env: &Env<'_>,
    domain: &str,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Outcome {
    let all = |f: Failure| {
        recipients
            .iter()
            .map(|r| (r.clone(), Err(f.clone())))
            .collect()
    };
    let client = DnsClient::new(
        env.net,
        env.clock.clone(),
        env.dns_server,
        env.transport.dns_timeout.get(),
        env.transport.dns_attempts,
    );
    let resolution = mx::resolve(&client, domain).await;
    let targets = match &resolution.route {
        Route::NxDomain => {
            return all(Failure::dns(
                DnsFailure::NonExistentDomain,
                Reply::new(
                    554,
                    status(5, 4, 4),
                    "SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
                ),
            ));
        }
        Route::NoMailRecords => {
            return all(Failure::dns(
                DnsFailure::NoMailRecords,
                Reply::new(
                    554,
                    status(5, 4, 4),
                    &format!("Unable to route: {domain} has no MX and no A or AAAA records"),
                ),
            ));
        }
        Route::NullMx => {
            return all(Failure::dns(
                DnsFailure::NullMx,
                Reply::new(
                    556,
                    status(5, 1, 10),
                    &format!("Recipient address has null MX: {domain} accepts no mail"),
                ),
            ));
        }
        Route::LookupFailed { question, answer } => {
            return all(lookup_failed(question, answer));
        }
        Route::Mx(_) | Route::Implicit(_) => resolution.targets(),
    };
    if targets.is_empty() {
        let (question, answer) = match &resolution.route {
            Route::Mx(hosts) => hosts
                .iter()
                .find_map(|h| {
                    h.addresses
                        .as_ref()
                        .err()
                        .map(|a| (format!("{} A", h.name), a.clone()))
                })
                .unwrap_or_else(|| (domain.to_string(), Answer::NoData)),
            _ => (domain.to_string(), Answer::NoData),
        };
        return all(lookup_failed(&question, &answer));
    }

    let mut last = None;
    for (i, target) in targets.iter().enumerate() {
        let primary = i == 0;
        let addr = SocketAddr::new(target.1, env.smtp_port);
        let stream = match env
            .clock
            .timeout(
                env.transport.connect_timeout.get(),
                env.net.connect(env.sender_ip, addr),
            )
            .await
        {
            None => {
                let why = ConnectFailure::TimedOut;
                last = Some(Failure::connect(why, target, primary, env.smtp_port));
                continue;
            }
            Some(Err(_)) => {
                let why = ConnectFailure::Refused;
                last = Some(Failure::connect(why, target, primary, env.smtp_port));
                continue;
            }
            Some(Ok(stream)) => stream,
        };
        match session(env, stream, target, primary, from, recipients, message).await {
            Ok(outcome) => return outcome,
            Err(SessionFailure(f)) => last = Some(f),
        }
    }
    all(last.expect("at least one target was tried"))
}

fn lookup_failed(question: &str, answer: &Answer) -> Failure {
    let text = format!(
        "DNS query failed. The error was: {question}: {}",
        answer.status()
    );
    Failure::dns(
        DnsFailure::LookupFailed,
        Reply::new(451, status(4, 4, 0), &text),
    )
}

/// One SMTP session: the client end, the target it talks to, and whether that is the first.
struct Session<'e> {
    env: &'e Env<'e>,
    client: Client,
    target: &'e (String, IpAddr),
    primary: bool,
}

impl Session<'_> {
    /// A session failure for a session that broke off.
    fn dropped(&self, why: Broken) -> SessionFailure {
        SessionFailure(Failure::dropped(
            why,
            self.target,
            self.primary,
            self.env.smtp_port,
        ))
    }

    /// A session failure for a refusal that ends the session.
    fn refused(&self, reply: Reply) -> SessionFailure {
        SessionFailure(Failure::remote(reply, self.target))
    }

    /// A command and its reply within the command timeout.
    async fn command(&mut self, line: &str) -> Result<Reply, SessionFailure> {
        let limit = self.env.transport.command_timeout.get();
        let reply = self.client.command(self.env.clock, limit, line).await;
        reply.map_err(|why| self.dropped(why))
    }

    /// STARTTLS when offered (and when required, insisting on it and on a certificate that
    /// verifies on the story clock), then EHLO again.
    async fn starttls(&mut self, offered: bool) -> Result<(), SessionFailure> {
        let (env, target) = (self.env, self.target);
        let tls_failure = |problem| SessionFailure(Failure::tls(problem, target, env.smtp_port));
        let Some(tls) = env.tls.filter(|_| offered) else {
            if env.require_tls {
                return Err(tls_failure(TlsProblem::NotOffered));
            }
            return Ok(());
        };
        let go = self.command("STARTTLS").await?;
        if go.code != 220 {
            if env.require_tls {
                return Err(tls_failure(TlsProblem::Refused(go)));
            }
            return Ok(());
        }
        self.client.discard_buffered();
        let config = if env.require_tls {
            tls.verifying.clone()
        } else {
            tls.opportunistic.clone()
        };
        let limit = env.transport.command_timeout.get();
        mxlab_tls::upgrade(
            &mut self.client.stream,
            config,
            &self.target.0,
            env.clock,
            limit,
        )
        .await
        .map_err(|why| tls_failure(TlsProblem::Handshake(why)))?;
        let ehlo = self.command(&format!("EHLO {}", env.helo)).await?;
        if ehlo.code != 250 {
            return Err(self.refused(ehlo));
        }
        Ok(())
    }

    /// QUIT, waiting the command timeout for the answer, whatever it is.
    async fn quit(&mut self) {
        let _ = self.command("QUIT").await;
    }
}

/// A positive completion reply (2xx).
fn completed(reply: &Reply) -> bool {
    (200..300).contains(&reply.code)
}

/// Whether an EHLO reply lists STARTTLS among its keywords (the lines after the first).
fn offers_starttls(ehlo: &Reply) -> bool {
    ehlo.lines.iter().skip(1).any(|line| {
        line.split(' ')
            .next()
            .is_some_and(|keyword| keyword.eq_ignore_ascii_case("STARTTLS"))
    })
}

async fn session(
    env: &Env<'_>,
    stream: BoxStream,
    target: &(String, IpAddr),
    primary: bool,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Outcome, SessionFailure> {
    let t = env.transport;
    let mut s = Session {
        env,
        client: Client::new(stream),
        target,
        primary,
    };
    let greeting = s
        .client
        .read_within(env.clock, t.banner_timeout.get())
        .await
        .map_err(|why| s.dropped(why))?;
    if greeting.code != 220 {
        return Err(s.refused(greeting));
    }
    let ehlo = s.command(&format!("EHLO {}", env.helo)).await?;
    let offers_tls = match ehlo.code {
        250 => offers_starttls(&ehlo),
        500.. => {
            let helo = s.command(&format!("HELO {}", env.helo)).await?;
            if helo.code != 250 {
                return Err(s.refused(helo));
            }
            false
        }
        _ => return Err(s.refused(ehlo)),
    };
    s.starttls(offers_tls).await?;
    let mail = s.command(&format!("MAIL FROM:<{from}>")).await?;
    if !completed(&mail) {
        return Err(s.refused(mail));
    }

    let mut outcome: Outcome = Vec::new();
    let mut accepted = Vec::new();
    for rcpt in recipients {
        let reply = s.command(&format!("RCPT TO:<{rcpt}>")).await?;
        if completed(&reply) {
            accepted.push(rcpt.clone());
        } else {
            outcome.push((rcpt.clone(), Err(Failure::remote(reply, target))));
        }
    }
    if accepted.is_empty() {
        s.quit().await;
        return Ok(outcome);
    }

    let go_ahead = s
        .client
        .command(env.clock, t.data_timeout.get(), "DATA")
        .await
        .map_err(|why| s.dropped(why))?;
    let end = if go_ahead.code != 354 {
        Err(Failure::remote(go_ahead, target))
    } else {
        let limit = t.data_termination_timeout.get();
        match s.client.message(env.clock, limit, message).await {
            Err(why) => return Err(s.dropped(why)),
            Ok(reply) if reply.code == 250 => Ok(Delivered {
                reply,
                host: target.0.clone(),
                ip: target.1,
            }),
            Ok(reply) => Err(Failure::remote(reply, target)),
        }
    };
    for rcpt in accepted {
        outcome.push((rcpt, end.clone()));
    }
    s.quit().await;
    // Recipients in the order given, whatever order their replies came in.
    outcome.sort_by_key(|(r, _)| recipients.iter().position(|x| x == r));
    Ok(outcome)
}
