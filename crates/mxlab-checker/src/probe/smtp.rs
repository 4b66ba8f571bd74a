//! The checker's own SMTP probe: connect, read the banner, EHLO, QUIT — with the per-stage
//! timeouts of RFC 5321 §4.5.3.2, so a stall is named by the stage it happens at.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mail_send::SmtpClient;
use mxlab_net::{Clock, Network};

use super::ProbeEnv;

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
    /// 220 greeting; the EHLO reply's first line (or why EHLO failed).
    Greeted {
        banner: String,
        ehlo: Result<String, String>,
    },
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
}

impl Default for SmtpTimeouts {
    fn default() -> Self {
        SmtpTimeouts {
            connect: Duration::from_secs(30),
            banner: Duration::from_secs(300),
            command: Duration::from_secs(300),
        }
    }
}

/// Probes `host` at `ip` on the environment's SMTP port.
pub async fn probe(env: &ProbeEnv<'_>, host: &str, ip: IpAddr) -> SmtpProbe {
    let at = env.clock.elapsed();
    let to = SocketAddr::new(ip, env.smtp_port);
    let result = run(env.net, &env.clock, env.from_ip, to, &env.helo, env.smtp).await;
    SmtpProbe {
        host: host.to_string(),
        ip,
        port: env.smtp_port,
        at,
        result,
    }
}

async fn run(
    net: &dyn Network,
    clock: &Clock,
    from: IpAddr,
    to: SocketAddr,
    helo: &str,
    t: SmtpTimeouts,
) -> SmtpResult {
    let stream = match clock.timeout(t.connect, net.connect(from, to)).await {
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
            text: banner.message.replace(['\r', '\n'], " "),
        };
    }
    let ehlo = match client.ehlo(helo).await {
        Ok(r) => Ok(format!("250 {}", r.hostname)),
        Err(mail_send::Error::UnexpectedReply(r)) => Err(format!("{} {}", r.code, r.message)),
        Err(mail_send::Error::Timeout) => Err("no reply to EHLO (timed out)".into()),
        Err(e) => Err(e.to_string()),
    };
    let _ = client.quit().await;
    SmtpResult::Greeted {
        banner: format!("220 {}", banner.message.replace(['\r', '\n'], " ")),
        ehlo,
    }
}
