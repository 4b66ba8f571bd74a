//! One delivery attempt to one domain: route it (MX, RFC 5321 §5.1), connect to each target in
//! turn, and speak SMTP with mail-send. Failures are worded in Exchange's manner, because those
//! words are what an administrator gets to read. From docs/FACTS.md (Exchange's own text): the
//! Winsock 10060/10061 connect failures and `554 5.4.4 SMTPSEND.DNS.NonExistentDomain`. Modelled
//! on its style, with no verified original: the no-MX `554 5.4.4 Unable to route`, the DNS
//! failure `451 4.4.0 DNS query failed`, `421 4.4.2 Connection dropped due to …` and the TLS
//! failure `451 4.4.317 …`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mail_send::SmtpClient;
use mail_send::smtp::message::Parameters;
use mxlab_net::mx::{self, Route};
use mxlab_net::{Answer, BoxStream, Clock, DnsClient, Network};
use mxlab_scenario::model::Transport;
use smtp_proto::Response;

use crate::schedule::FailureKind;

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

fn tls_failure(why: &str, target: &(String, IpAddr), port: u16) -> Failure {
    Failure {
        reply: format!(
            "451 4.4.317 Cannot connect to remote server [Message=TLS negotiation failed with error {why}] [LastAttemptedServerName={}] [LastAttemptedIP={}:{port}]",
            target.0, target.1
        ),
        status: "4.4.317".into(),
        permanent: false,
        kind: FailureKind::Transient,
        remote: Some(target.clone()),
    }
}

/// Why a recipient was not delivered this time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The line an Exchange DSN quotes: `441 4.4.1 Error encountered …`.
    pub reply: String,
    /// Enhanced status (`4.4.1`).
    pub status: String,
    pub permanent: bool,
    pub kind: FailureKind,
    /// The host and address that produced it, when one was reached or tried.
    pub remote: Option<(String, IpAddr)>,
}

impl Failure {
    fn dns(reply: String, status: &str, permanent: bool) -> Self {
        Failure {
            reply,
            status: status.into(),
            permanent,
            kind: FailureKind::Transient,
            remote: None,
        }
    }

    fn from_reply(r: &Response<String>, remote: &(String, IpAddr)) -> Self {
        let (reply, status) = reply_line(r);
        Failure {
            reply,
            status,
            permanent: r.code >= 500,
            kind: FailureKind::Transient,
            remote: Some(remote.clone()),
        }
    }
}

/// A reply on one line with its enhanced status (`451 4.4.7 Message delayed`), and that
/// status (`4.4.7`; `4.0.0` when the server gave none).
pub fn reply_line(r: &Response<String>) -> (String, String) {
    let status = if r.esc[0] > 0 {
        format!("{}.{}.{}", r.esc[0], r.esc[1], r.esc[2])
    } else {
        format!("{}.0.0", r.code / 100)
    };
    let mut line = r.code.to_string();
    if r.esc[0] > 0 {
        line.push(' ');
        line.push_str(&status);
    }
    line.push(' ');
    line.push_str(&r.message.replace(['\r', '\n'], " "));
    (line, status)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub reply: String,
    pub host: String,
    pub ip: IpAddr,
}

/// Each recipient's result, in the order given.
pub type Outcome = Vec<(String, Result<Delivered, Failure>)>;

/// A failure of the connection or session itself (as opposed to a reply to one recipient);
/// Exchange then fails over to the next target.
struct SessionFailure(Failure);

const FAILOVER: &str = "Attempted failover to alternate host, but that did not succeed. Either there are no alternate hosts, or delivery failed to all alternate hosts.";

fn connect_failure(code: u32, target: &(String, IpAddr), primary: bool, port: u16) -> Failure {
    let which = if primary { "primary" } else { "alternate" };
    Failure {
        reply: format!(
            "441 4.4.1 Error encountered while communicating with {which} target IP address: \"Failed to connect. Winsock error code: {code}, Win32 error code: {code}.\" {FAILOVER} The last endpoint attempted was {}:{port}",
            target.1
        ),
        status: "4.4.1".into(),
        permanent: false,
        kind: FailureKind::Connection,
        remote: Some(target.clone()),
    }
}

fn dropped(why: &str, target: &(String, IpAddr), primary: bool, port: u16) -> Failure {
    let which = if primary { "Primary" } else { "Alternate" };
    Failure {
        reply: format!(
            "451 4.4.0 {which} target IP address responded with: \"421 4.4.2 Connection dropped due to {why}.\" {FAILOVER} The last endpoint attempted was {}:{port}",
            target.1
        ),
        status: "4.4.0".into(),
        permanent: false,
        kind: FailureKind::Transient,
        remote: Some(target.clone()),
    }
}

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
                "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain".into(),
                "5.4.4",
                true,
            ));
        }
        Route::NoMailRecords => {
            return all(Failure::dns(
                format!("554 5.4.4 Unable to route: {domain} has no MX and no A or AAAA records"),
                "5.4.4",
                true,
            ));
        }
        Route::NullMx => {
            return all(Failure::dns(
                format!("556 5.1.10 Recipient address has null MX: {domain} accepts no mail"),
                "5.1.10",
                true,
            ));
        }
        Route::LookupFailed { question, answer } => {
            return all(Failure::dns(
                dns_failure_text(question, answer),
                "4.4.0",
                false,
            ));
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
        return all(Failure::dns(
            dns_failure_text(&question, &answer),
            "4.4.0",
            false,
        ));
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
                last = Some(connect_failure(10060, target, primary, env.smtp_port));
                continue;
            }
            Some(Err(_)) => {
                last = Some(connect_failure(10061, target, primary, env.smtp_port));
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

fn dns_failure_text(question: &str, answer: &Answer) -> String {
    format!(
        "451 4.4.0 DNS query failed. The error was: {question}: {}",
        answer.status()
    )
}

fn classify_error(
    e: mail_send::Error,
    stage_timeout: &str,
    target: &(String, IpAddr),
    primary: bool,
    port: u16,
) -> SessionFailure {
    SessionFailure(match e {
        mail_send::Error::UnexpectedReply(r) => Failure::from_reply(&r, target),
        mail_send::Error::Timeout => dropped(stage_timeout, target, primary, port),
        _ => dropped("SocketError", target, primary, port),
    })
}

/// STARTTLS when offered (and when required, insisting on it and on a certificate that
/// verifies on the story clock), then EHLO again.
async fn starttls(
    env: &Env<'_>,
    client: &mut SmtpClient<BoxStream>,
    offered: bool,
    target: &(String, IpAddr),
    primary: bool,
) -> Result<(), SessionFailure> {
    let port = env.smtp_port;
    let Some(tls) = env.tls.filter(|_| offered) else {
        if env.require_tls {
            return Err(SessionFailure(tls_failure(
                "StartTlsNotOffered",
                target,
                port,
            )));
        }
        return Ok(());
    };
    let go = client
        .cmd(b"STARTTLS\r\n")
        .await
        .map_err(|e| classify_error(e, "TimedOut", target, primary, port))?;
    if go.code != 220 {
        if env.require_tls {
            return Err(SessionFailure(tls_failure(
                &format!("StartTlsRefused ({})", reply_line(&go).0),
                target,
                port,
            )));
        }
        return Ok(());
    }
    let config = if env.require_tls {
        tls.verifying.clone()
    } else {
        tls.opportunistic.clone()
    };
    let limit = env.transport.command_timeout.get();
    mxlab_tls::upgrade(&mut client.stream, config, &target.0, env.clock, limit)
        .await
        .map_err(|why| SessionFailure(tls_failure(why.as_str(), target, port)))?;
    client
        .ehlo(env.helo)
        .await
        .map_err(|e| classify_error(e, "TimedOut", target, primary, port))?;
    Ok(())
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
    let mut client = SmtpClient {
        stream,
        timeout: t.command_timeout.get(),
    };
    // mail-send reads the greeting without a timeout of its own.
    let greeting = env
        .clock
        .timeout(t.banner_timeout.get(), client.read())
        .await
        .ok_or_else(|| SessionFailure(dropped("TimedOut", target, primary, env.smtp_port)))?
        .map_err(|_| SessionFailure(dropped("SocketError", target, primary, env.smtp_port)))?;
    if greeting.code != 220 {
        return Err(SessionFailure(Failure::from_reply(&greeting, target)));
    }
    let mut offers_tls = false;
    match client.ehlo(env.helo).await {
        Ok(ehlo) => offers_tls = ehlo.has_capability(smtp_proto::EXT_START_TLS),
        Err(mail_send::Error::UnexpectedReply(r)) if r.code >= 500 => {
            let helo = client
                .cmd(format!("HELO {}\r\n", env.helo))
                .await
                .map_err(|e| classify_error(e, "TimedOut", target, primary, env.smtp_port))?;
            if helo.code != 250 {
                return Err(SessionFailure(Failure::from_reply(&helo, target)));
            }
        }
        Err(e) => {
            return Err(classify_error(
                e,
                "TimedOut",
                target,
                primary,
                env.smtp_port,
            ));
        }
    }
    starttls(env, &mut client, offers_tls, target, primary).await?;
    client
        .mail_from(from, &Parameters::default())
        .await
        .map_err(|e| classify_error(e, "TimedOut", target, primary, env.smtp_port))?;

    let mut outcome: Outcome = Vec::new();
    let mut accepted = Vec::new();
    for rcpt in recipients {
        match client.rcpt_to(rcpt, &Parameters::default()).await {
            Ok(()) => accepted.push(rcpt.clone()),
            Err(mail_send::Error::UnexpectedReply(r)) => {
                outcome.push((rcpt.clone(), Err(Failure::from_reply(&r, target))))
            }
            Err(e) => {
                return Err(classify_error(
                    e,
                    "TimedOut",
                    target,
                    primary,
                    env.smtp_port,
                ));
            }
        }
    }
    if accepted.is_empty() {
        let _ = client.quit().await;
        return Ok(outcome);
    }

    client.timeout = t.data_timeout.get();
    let go_ahead = client
        .cmd(b"DATA\r\n")
        .await
        .map_err(|e| classify_error(e, "TimedOut", target, primary, env.smtp_port))?;
    let end = if go_ahead.code != 354 {
        Err(Failure::from_reply(&go_ahead, target))
    } else {
        let sent = env
            .clock
            .timeout(t.data_termination_timeout.get(), async {
                client
                    .write_message(message)
                    .await
                    .map_err(mail_send::Error::Io)?;
                client.read().await
            })
            .await;
        match sent {
            None => {
                return Err(SessionFailure(dropped(
                    "TimedOut",
                    target,
                    primary,
                    env.smtp_port,
                )));
            }
            Some(Err(_)) => {
                return Err(SessionFailure(dropped(
                    "SocketError",
                    target,
                    primary,
                    env.smtp_port,
                )));
            }
            Some(Ok(r)) if r.code == 250 => Ok(Delivered {
                reply: reply_line(&r).0,
                host: target.0.clone(),
                ip: target.1,
            }),
            Some(Ok(r)) => Err(Failure::from_reply(&r, target)),
        }
    };
    for rcpt in accepted {
        outcome.push((rcpt, end.clone()));
    }
    client.timeout = t.command_timeout.get();
    let _ = client.quit().await;
    // Recipients in the order given, whatever order their replies came in.
    outcome.sort_by_key(|(r, _)| recipients.iter().position(|x| x == r));
    Ok(outcome)
}
