//! The checker's own SMTP probe, as an administrator runs `swaks`: connect, read the banner,
//! EHLO, MAIL, RCPT (and postmaster when the recipient is refused, to tell a mailbox from a
//! domain problem), DATA with a short test message, QUIT — with the per-stage timeouts of
//! RFC 5321 §4.5.3.2, so a stall is named by the stage it happens at.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mail_send::SmtpClient;
use mxlab_net::{BoxStream, Clock, Network};

use super::ProbeEnv;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A reply: its code, its first line as sent, and all of its text.
    Reply {
        code: u16,
        line: String,
        all: String,
    },
    /// The TLS handshake failed, with the reason's name (`CertificateExpired`, …).
    TlsFailed(String),
    Timeout,
    /// The server closed the connection.
    Closed,
}

impl Outcome {
    pub fn positive(&self) -> bool {
        matches!(self, Outcome::Reply { code, .. } if *code < 400)
    }

    pub fn text(&self) -> String {
        match self {
            Outcome::Reply { line, .. } => line.clone(),
            Outcome::Timeout => "no reply (timed out)".into(),
            Outcome::Closed => "connection closed by the server".into(),
            Outcome::TlsFailed(why) => format!("TLS negotiation failed: {why}"),
        }
    }
}

/// One command of the probe and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeStep {
    /// `ehlo`, `mail`, `rcpt`, `rcpt-postmaster`, `data`, `end-of-data`.
    pub stage: &'static str,
    pub sent: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpResult {
    /// The port is closed.
    Refused(String),
    /// No answer to the connection attempt.
    ConnectTimeout,
    /// Connected, but no greeting within the banner timeout.
    BannerTimeout,
    /// The server hung up before greeting.
    ClosedBeforeBanner,
    /// A greeting other than 220.
    Rejected { code: u16, text: String },
    /// 220 greeting, then the transaction as far as it went.
    Greeted {
        banner: String,
        steps: Vec<ProbeStep>,
    },
}

impl SmtpResult {
    /// The probe step for `stage`, if the probe got that far.
    pub fn step(&self, stage: &str) -> Option<&ProbeStep> {
        match self {
            SmtpResult::Greeted { steps, .. } => steps.iter().find(|s| s.stage == stage),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpProbe {
    pub host: String,
    pub ip: IpAddr,
    pub port: u16,
    /// Story time the probe started, since start.
    pub at: Duration,
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
        at,
        result,
    }
}

fn outcome(r: Result<smtp_reply::Reply, mail_send::Error>) -> Outcome {
    match r {
        Ok(reply) => Outcome::Reply {
            code: reply.0,
            line: reply.1,
            all: reply.2,
        },
        Err(mail_send::Error::Timeout) => Outcome::Timeout,
        Err(_) => Outcome::Closed,
    }
}

mod smtp_reply {
    /// (code, the reply's first line as sent, enhanced code included, all of its text).
    pub type Reply = (u16, String, String);

    pub fn line(r: &smtp_proto::Response<String>) -> Reply {
        let mut line = r.code.to_string();
        if r.esc[0] > 0 {
            line.push_str(&format!(" {}.{}.{}", r.esc[0], r.esc[1], r.esc[2]));
        }
        let first = r.message.lines().next().unwrap_or_default();
        if !first.is_empty() {
            line.push(' ');
            line.push_str(first);
        }
        (r.code, line, r.message.clone())
    }
}

/// Keeps a step; true when its reply was positive.
fn record(steps: &mut Vec<ProbeStep>, stage: &'static str, sent: &str, outcome: Outcome) -> bool {
    let ok = outcome.positive();
    steps.push(ProbeStep {
        stage,
        sent: sent.to_string(),
        outcome,
    });
    ok
}

async fn command(client: &mut SmtpClient<BoxStream>, limit: Duration, cmd: &str) -> Outcome {
    client.timeout = limit;
    outcome(
        client
            .cmd(format!("{cmd}\r\n"))
            .await
            .map(|r| smtp_reply::line(&r)),
    )
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
        Some(Err(e)) => return SmtpResult::Refused(e.to_string()),
        Some(Ok(s)) => s,
    };
    let mut client = SmtpClient {
        stream,
        timeout: t.command,
    };
    let banner = match clock.timeout(t.banner, client.read()).await {
        None => return SmtpResult::BannerTimeout,
        Some(Err(_)) => return SmtpResult::ClosedBeforeBanner,
        Some(Ok(r)) => r,
    };
    if banner.code != 220 {
        return SmtpResult::Rejected {
            code: banner.code,
            text: smtp_reply::line(&banner).1,
        };
    }
    let banner = smtp_reply::line(&banner).1;
    let mut steps = Vec::new();
    let ehlo = format!("EHLO {}", env.helo);
    let mut greeted = command(&mut client, t.command, &ehlo).await;
    if matches!(&greeted, Outcome::Reply { code, .. } if *code >= 500) {
        record(&mut steps, "ehlo", &ehlo, greeted);
        let helo = format!("HELO {}", env.helo);
        greeted = command(&mut client, t.command, &helo).await;
    }
    let offers_tls = matches!(&greeted, Outcome::Reply { all, .. } if all.to_ascii_uppercase().contains("STARTTLS"));
    // mail-send reads multi-line EHLO replies whole; its first line is what we keep.
    if !record(&mut steps, "ehlo", &ehlo, greeted) {
        return SmtpResult::Greeted { banner, steps };
    }
    if offers_tls && let Some(config) = &env.tls {
        let go = command(&mut client, t.command, "STARTTLS").await;
        let ready = matches!(go, Outcome::Reply { code: 220, .. });
        record(&mut steps, "starttls", "STARTTLS", go);
        if !ready {
            return SmtpResult::Greeted { banner, steps };
        }
        let upgraded =
            mxlab_tls::upgrade(&mut client.stream, config.clone(), host, clock, t.command).await;
        let handshake = match upgraded {
            Ok(()) => Outcome::Reply {
                code: 220,
                line: "certificate verified, TLS established".into(),
                all: String::new(),
            },
            Err(mxlab_tls::TlsFailure::Timeout) => Outcome::Timeout,
            Err(why) => Outcome::TlsFailed(why.to_string()),
        };
        if !record(&mut steps, "tls", "TLS handshake", handshake) {
            return SmtpResult::Greeted { banner, steps };
        }
        if !record(
            &mut steps,
            "ehlo-tls",
            &ehlo,
            command(&mut client, t.command, &ehlo).await,
        ) {
            return SmtpResult::Greeted { banner, steps };
        }
    }
    let mail = format!("MAIL FROM:<{}>", env.mail_from);
    if !record(
        &mut steps,
        "mail",
        &mail,
        command(&mut client, t.command, &mail).await,
    ) {
        return SmtpResult::Greeted { banner, steps };
    }
    let rcpt = format!("RCPT TO:<{recipient}>");
    let accepted = record(
        &mut steps,
        "rcpt",
        &rcpt,
        command(&mut client, t.command, &rcpt).await,
    );
    if !accepted {
        if let Some(Outcome::Reply { .. }) = steps.last().map(|s| &s.outcome) {
            // RFC 5321 §4.5.1: every domain accepts mail for postmaster. If it does here, the
            // refusal was about the mailbox, not the domain.
            if let Some((_, domain)) = recipient.rsplit_once('@') {
                let postmaster = format!("RCPT TO:<postmaster@{domain}>");
                let outcome = command(&mut client, t.command, &postmaster).await;
                record(&mut steps, "rcpt-postmaster", &postmaster, outcome);
            }
        }
        let _ = command(&mut client, t.command, "QUIT").await;
        return SmtpResult::Greeted { banner, steps };
    }
    let data = command(&mut client, t.data, "DATA").await;
    let go = matches!(&data, Outcome::Reply { code: 354, .. });
    record(&mut steps, "data", "DATA", data);
    if go {
        let message = format!(
            "From: <{}>\r\nTo: <{recipient}>\r\nSubject: mxlab checker probe\r\n\r\nA test message from the mxlab checker; it may be discarded.",
            env.mail_from
        );
        let sent = clock
            .timeout(t.data_termination, async {
                client
                    .write_message(message.as_bytes())
                    .await
                    .map_err(mail_send::Error::Io)?;
                client.read().await
            })
            .await;
        let end = match sent {
            None => Outcome::Timeout,
            Some(r) => outcome(r.map(|r| smtp_reply::line(&r))),
        };
        let finished = record(&mut steps, "end-of-data", "(message) .", end);
        if finished {
            let _ = command(&mut client, t.command, "QUIT").await;
        }
    }
    SmtpResult::Greeted { banner, steps }
}
