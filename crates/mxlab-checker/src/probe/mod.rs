//! Live probes the checker runs when the admin investigates: DNS routing of each domain
//! (through the same stub the sending side uses) and an SMTP probe of its first target.

pub mod smtp;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mxlab_net::mx::{self, Resolution};
use mxlab_net::{Clock, DnsClient, Network};

use smtp::{SmtpProbe, SmtpTimeouts};

/// Where and how to probe from.
pub struct ProbeEnv<'a> {
    pub net: &'a dyn Network,
    pub clock: Clock,
    pub dns_server: SocketAddr,
    pub dns_timeout: Duration,
    pub dns_attempts: u32,
    pub from_ip: IpAddr,
    pub helo: String,
    pub smtp_port: u16,
    pub smtp: SmtpTimeouts,
}

#[derive(Clone, Debug)]
pub struct DomainProbe {
    pub domain: String,
    pub resolution: Resolution,
    /// The SMTP probe of each target, in routing order, up to the first that greets.
    pub smtp: Vec<SmtpProbe>,
}

pub async fn probe_domain(env: &ProbeEnv<'_>, domain: &str) -> DomainProbe {
    let client = DnsClient::new(
        env.net,
        env.clock.clone(),
        env.dns_server,
        env.dns_timeout,
        env.dns_attempts,
    );
    let resolution = mx::resolve(&client, domain).await;
    let mut probes = Vec::new();
    for (host, ip) in resolution.targets() {
        let p = smtp::probe(env, &host, ip).await;
        let greeted = matches!(p.result, smtp::SmtpResult::Greeted { .. });
        probes.push(p);
        if greeted {
            break;
        }
    }
    DomainProbe {
        domain: domain.to_string(),
        resolution,
        smtp: probes,
    }
}
