//! Where a DNS failure sits, told apart the way an administrator does it: the resolver's
//! answer beside a `dig +trace` walk from the root — the sender's own resolver, a lame
//! delegation, the target's servers failing or silent — and what the domain's route says
//! now (no such domain, no MX, a null MX, an MX host without an address).

use mxlab_net::Answer;
use mxlab_net::mx::Route;
use mxlab_net::walk::{Failure, Outcome};
use mxlab_vocab::RuleId;

use crate::probe::DomainProbe;

/// A DNS cause found by the probe, with its summary and evidence.
pub struct Located {
    pub rule: RuleId,
    pub summary: String,
    pub evidence: Vec<String>,
}

pub fn evidence(d: &DomainProbe) -> Vec<String> {
    let mut out: Vec<String> = d
        .resolution
        .exchanges
        .iter()
        .map(|e| format!("dns: {e} (asked {})", e.server.ip()))
        .collect();
    if let Some(trace) = &d.trace {
        out.extend(trace.steps.iter().map(|s| format!("trace: {s}")));
    }
    out
}

fn ips(servers: &[std::net::IpAddr]) -> String {
    servers
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn located(d: &DomainProbe, rule: RuleId, summary: String) -> Option<Located> {
    Some(Located {
        rule,
        summary,
        evidence: evidence(d),
    })
}

/// The failed answer that stopped the route: for the domain's MX, or for its MX hosts'
/// addresses when every one of them failed for want of an answer (not for want of a record).
fn failed_lookup(d: &DomainProbe) -> Option<(String, &Answer)> {
    match &d.resolution.route {
        Route::LookupFailed { question, answer } => Some((question.clone(), answer)),
        Route::Mx(hosts) if !hosts.is_empty() => {
            let failures: Vec<(&str, &Answer)> = hosts
                .iter()
                .filter_map(|h| h.addresses.as_ref().err().map(|a| (h.name.as_str(), a)))
                .filter(|(_, a)| !matches!(a, Answer::NoData | Answer::NxDomain))
                .collect();
            let none_resolves = hosts.iter().all(|h| h.addresses.is_err());
            match failures.first() {
                Some((name, a)) if none_resolves => Some((format!("{name} A"), *a)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A lookup that fails now: which part of the chain fails it.
fn temporary(d: &DomainProbe) -> Option<Located> {
    let (question, answer) = failed_lookup(d)?;
    let walk = d.trace.as_ref().map(|t| &t.outcome);
    match walk {
        Some(Outcome::Failed(Failure::Lame { zone, servers })) => located(
            d,
            RuleId::DnsLameDelegation,
            format!(
                "The delegation of {zone} is lame: the parent names {} as its servers, but they do not serve it",
                ips(servers)
            ),
        ),
        Some(Outcome::Failed(Failure::ServFail { zone, servers })) => located(
            d,
            RuleId::DnsServfail,
            format!(
                "{}'s authoritative servers ({}) answer SERVFAIL for {zone}",
                d.domain,
                ips(servers)
            ),
        ),
        Some(Outcome::Failed(Failure::Timeout { zone, servers })) => located(
            d,
            RuleId::DnsTimeout,
            format!(
                "{}'s authoritative servers ({}) never answer queries for {zone}",
                d.domain,
                ips(servers)
            ),
        ),
        // The walk from the root gets an answer the resolver does not: the resolver is at fault.
        Some(walked)
            if !matches!(walked, Outcome::Failed(_))
                && matches!(d.resolution.route, Route::LookupFailed { .. }) =>
        {
            located(
                d,
                RuleId::DnsLocalResolver,
                format!(
                    "The sender's own resolver fails for {} ({question}: {}), while {}'s servers answer correctly when asked directly",
                    d.domain,
                    answer.status(),
                    d.domain
                ),
            )
        }
        _ => match answer {
            Answer::Timeout => located(
                d,
                RuleId::DnsTimeout,
                format!("DNS queries for {} time out ({question})", d.domain),
            ),
            other => located(
                d,
                RuleId::DnsServfail,
                format!(
                    "DNS answers {} for {} ({question})",
                    other.status(),
                    d.domain
                ),
            ),
        },
    }
}

/// Causes of a lookup that fails for now (as opposed to an answer that says no).
pub fn is_temporary(rule: RuleId) -> bool {
    matches!(
        rule,
        RuleId::DnsServfail
            | RuleId::DnsTimeout
            | RuleId::DnsLameDelegation
            | RuleId::DnsLocalResolver
    )
}

/// What the domain's DNS says now, when it stops mail: `None` when mail can be routed.
pub fn locate(d: &DomainProbe) -> Option<Located> {
    match &d.resolution.route {
        Route::NxDomain => located(
            d,
            RuleId::DnsMxNxdomain,
            format!(
                "{} does not exist: its MX lookup answers NXDOMAIN (\"Non-existent domain\")",
                d.domain
            ),
        ),
        Route::NoMailRecords => located(
            d,
            RuleId::DnsMxMissing,
            format!(
                "{} exists but publishes no MX record and no A/AAAA record to fall back on",
                d.domain
            ),
        ),
        Route::NullMx => located(
            d,
            RuleId::DnsMxNull,
            format!(
                "{} publishes a null MX (\"MX 0 .\", RFC 7505): it accepts no mail",
                d.domain
            ),
        ),
        Route::LookupFailed { .. } => temporary(d),
        Route::Mx(hosts) if !hosts.is_empty() && hosts.iter().all(|h| h.addresses.is_err()) => {
            temporary(d).or_else(|| {
                let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                located(
                    d,
                    RuleId::DnsMxTargetUnresolvable,
                    format!(
                        "{}'s MX points at {} with no address record",
                        d.domain,
                        names.join(", ")
                    ),
                )
            })
        }
        _ => None,
    }
}
