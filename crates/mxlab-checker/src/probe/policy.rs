//! What an administrator asks the DNS about their own sending side when a receiver refuses
//! it by policy — `dig 2.0.0.127.zen.spamhaus.org`, `dig -x`, `dig TXT _dmarc.<domain>` — with
//! the same protocol machinery receivers use (mxlab-policy). Each probe takes what `mxlab
//! check` will also have: a resolver, the sending IP, the sender address, zone names.

use std::net::IpAddr;

use mxlab_net::DnsClient;
use mxlab_policy::dmarc::{self, Discovery, Evaluation, Identifiers};
use mxlab_policy::{PublicSuffixes, dnsbl, rdns};
use mxlab_vocab::SpfResult;

use super::ProbeEnv;

/// The sender's DMARC policy as discovered, and what it makes of mail from the sending IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmarcProbe {
    pub discovery: Discovery,
    /// With the checker's own SPF result; `pct` is reported, not sampled (the policy is
    /// taken to apply).
    pub evaluation: Evaluation,
}

fn client<'a>(env: &'a ProbeEnv<'_>) -> DnsClient<'a> {
    DnsClient::new(
        env.net,
        env.clock.clone(),
        env.dns_server,
        env.dns_timeout,
        env.dns_attempts,
    )
}

/// Each zone asked about `ip`, in the order given (duplicates once).
pub async fn probe_dnsbl(env: &ProbeEnv<'_>, ip: IpAddr, zones: &[String]) -> Vec<dnsbl::Lookup> {
    let client = client(env);
    let mut asked: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for zone in zones {
        let zone = zone.trim().trim_end_matches('.').to_ascii_lowercase();
        if zone.is_empty() || asked.contains(&zone) {
            continue;
        }
        out.push(dnsbl::lookup(&client, ip, &zone).await);
        asked.push(zone);
    }
    out
}

/// `dig -x ip`, then each name forward.
pub async fn probe_reverse_dns(env: &ProbeEnv<'_>, ip: IpAddr) -> rdns::Lookup {
    rdns::lookup(&client(env), ip).await
}

/// The DMARC policy of `from`'s domain, and its verdict for mail whose envelope sender is
/// `from` too, with SPF's `spf` result.
pub async fn probe_dmarc(
    env: &ProbeEnv<'_>,
    from: &str,
    spf: SpfResult,
    suffixes: &PublicSuffixes,
) -> Option<DmarcProbe> {
    let (_, domain) = from.rsplit_once('@')?;
    if domain.is_empty() {
        return None;
    }
    let discovery = dmarc::discover(&client(env), domain, suffixes).await;
    let evaluation = dmarc::evaluate(
        Identifiers {
            from_domain: domain,
            spf_domain: domain,
            spf,
        },
        &discovery.found,
        suffixes,
        0,
    );
    Some(DmarcProbe {
        discovery,
        evaluation,
    })
}
