//! Live probes the checker runs when the admin investigates: DNS routing of each domain
//! (through the same stub the sending side uses), a `dig +trace` walk from the root, and SMTP
//! probes of the first target that greets — one for each recipient worth asking about; and
//! the sending side as receivers see it ([`policy`]): blocklists, reverse DNS, DMARC.

pub mod policy;
pub mod smtp;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use mxlab_net::Answer;
use mxlab_net::mx::{self, Resolution, Route};
use mxlab_net::walk::{Walk, Walker};
use mxlab_net::{Clock, DnsClient, Network};

use smtp::{SmtpProbe, SmtpTimeouts};

/// What the probes are for, which decides how far the SMTP probe goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// After the fact, beside the artifacts of a failure: the whole transaction, with a
    /// short test message.
    #[default]
    Investigate,
    /// `mxlab check`: whether mail goes through now. RCPT for the recipient and postmaster,
    /// then RSET and QUIT; DATA only with `send`. A probe that cannot run from here says so
    /// instead of blaming the remote.
    Check { send: bool },
}

impl Mode {
    pub fn is_check(self) -> bool {
        matches!(self, Mode::Check { .. })
    }
}

/// Where and how to probe from.
pub struct ProbeEnv<'a> {
    pub net: &'a dyn Network,
    pub clock: Clock,
    /// The resolver an administrator's tools use.
    pub dns_server: SocketAddr,
    /// The root servers, for a `dig +trace`-style walk past that resolver; empty: no walk.
    pub root_hints: Vec<SocketAddr>,
    pub dns_timeout: Duration,
    pub dns_attempts: u32,
    pub from_ip: IpAddr,
    pub helo: String,
    /// The sender address the SMTP probe uses (the complaining user's, in a story).
    pub mail_from: String,
    /// STARTTLS when offered, verifying the certificate against this trust store on the
    /// probe's clock; `None`: the probe stays in plain text.
    pub trust: Option<rustls::RootCertStore>,
    pub smtp_port: u16,
    pub smtp: SmtpTimeouts,
    /// Blocklist zones to ask about `from_ip` besides those a refusal names (`check --dnsbl`).
    pub dnsbl_zones: Vec<String>,
    /// Public suffixes beyond the built-in list, for DMARC's organizational domains.
    pub public_suffixes: Vec<String>,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
pub struct DomainProbe {
    pub domain: String,
    pub resolution: Resolution,
    /// The domain's MX walked from the root, bypassing the resolver (`dig +trace`).
    pub trace: Option<Walk>,
    /// The SMTP probe of each target, in routing order, up to the first that greets; then
    /// that host again for each further recipient.
    pub smtp: Vec<SmtpProbe>,
    /// `check` only: the resolver answered nothing at all — not the domain's lookup, not even
    /// a question about the root — so nothing about the domain could be tested through it.
    pub resolver_silent: bool,
}

impl DomainProbe {
    /// The probes that asked about `recipient` (none when another recipient stood for it).
    pub fn for_recipient<'a>(&'a self, recipient: &str) -> Vec<&'a SmtpProbe> {
        self.smtp
            .iter()
            .filter(|p| p.recipient.eq_ignore_ascii_case(recipient))
            .collect()
    }

    /// The probes of the domain's hosts up to the first that greeted: what any recipient
    /// there meets before RCPT (connections, greetings, TLS).
    pub fn to_the_door(&self) -> Vec<&SmtpProbe> {
        match self.smtp.first() {
            Some(first) => self
                .smtp
                .iter()
                .filter(|p| p.recipient == first.recipient)
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Probes the route of `domain` and its first reachable host, for mail to each of
/// `recipients` (at least one; the first decides which host greets).
pub async fn probe_domain(env: &ProbeEnv<'_>, domain: &str, recipients: &[String]) -> DomainProbe {
    let fallback = [format!("postmaster@{domain}")];
    let recipients = if recipients.is_empty() {
        &fallback[..]
    } else {
        recipients
    };
    let client = DnsClient::new(
        env.net,
        env.clock.clone(),
        env.dns_server,
        env.dns_timeout,
        env.dns_attempts,
    );
    let resolution = mx::resolve(&client, domain).await;
    let resolver_silent = env.mode.is_check() && resolver_silent(&client, &resolution).await;
    if resolver_silent {
        return DomainProbe {
            domain: domain.to_string(),
            resolution,
            trace: None,
            smtp: Vec::new(),
            resolver_silent,
        };
    }
    let mut probes = Vec::new();
    let mut greeter = None;
    for (host, ip) in resolution.targets() {
        let p = smtp::probe(env, &host, ip, &recipients[0]).await;
        let greeted = matches!(p.result, smtp::SmtpResult::Greeted { .. });
        probes.push(p);
        if greeted {
            greeter = Some((host, ip));
            break;
        }
    }
    if let Some((host, ip)) = greeter {
        for recipient in &recipients[1..] {
            probes.push(smtp::probe(env, &host, ip, recipient).await);
        }
    }
    let trace = match (
        env.root_hints.first(),
        Name::from_ascii(format!("{}.", domain.trim_end_matches('.'))),
    ) {
        (Some(first), Ok(name)) => {
            let walker = Walker::new(env.net, env.clock.clone(), first.port(), env.dns_timeout);
            let hints: Vec<_> = env.root_hints.iter().map(|a| a.ip()).collect();
            Some(
                walker
                    .walk(&hints, &Name::root(), &name, RecordType::MX)
                    .await,
            )
        }
        _ => None,
    };
    DomainProbe {
        domain: domain.to_string(),
        resolution,
        trace,
        smtp: probes,
        resolver_silent,
    }
}

/// Whether the resolver failed to answer the domain's lookup for want of any reply, and
/// answers no question about the root either: then it is unreachable from here (or not a
/// DNS server), which says nothing about the domain.
async fn resolver_silent(client: &DnsClient<'_>, resolution: &Resolution) -> bool {
    let unanswered = |a: &Answer| matches!(a, Answer::Timeout | Answer::Error(_));
    let failed = match &resolution.route {
        Route::LookupFailed { answer, .. } => unanswered(answer),
        _ => false,
    };
    if !failed {
        return false;
    }
    unanswered(&client.query(&Name::root(), RecordType::NS).await.answer)
}

/// The sender's SPF as an administrator checks it: RFC 7208 for the sending IP, MAIL FROM and
/// HELO, through the same resolver.
pub async fn probe_spf(env: &ProbeEnv<'_>) -> mxlab_spf::Trace {
    let client = DnsClient::new(
        env.net,
        env.clock.clone(),
        env.dns_server,
        env.dns_timeout,
        env.dns_attempts,
    );
    let resolver = mxlab_spf::NetResolver::new(client);
    let mut request = mxlab_spf::Request::mail_from(env.from_ip, &env.mail_from, &env.helo);
    request.timestamp = env.clock.now().unix_timestamp().max(0) as u64;
    mxlab_spf::check_host(&resolver, &request).await
}
