//! Rules for DNS that fails rather than answers: which part of the chain is broken — the
//! sender's own resolver, a delegation, or the target's server. Told apart the way an
//! administrator does: the resolver's answer beside a `dig +trace` walk from the root.

use mxlab_net::Answer;
use mxlab_net::mx::Route;
use mxlab_net::walk::{Failure, Outcome};

use crate::facts::Facts;
use crate::probe::DomainProbe;
use crate::rule::Hit;

/// The resolver's failed answer for the domain, if its lookup failed.
fn resolver_failure(d: &DomainProbe) -> Option<(&str, &Answer)> {
    match &d.resolution.route {
        Route::LookupFailed { question, answer } => Some((question.as_str(), answer)),
        _ => None,
    }
}

fn evidence(d: &DomainProbe) -> Vec<String> {
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

/// The resolver fails, but walking from the root gets a proper answer.
pub fn local_resolver(facts: &Facts) -> Option<Hit> {
    let d = facts.domains.iter().find(|d| {
        resolver_failure(d).is_some()
            && d.trace
                .as_ref()
                .is_some_and(|t| !matches!(t.outcome, Outcome::Failed(_)))
    })?;
    let (question, answer) = resolver_failure(d)?;
    Some(Hit {
        summary: format!(
            "The sender's own resolver fails for {} ({question}: {}), while {}'s servers answer correctly when asked directly",
            d.domain,
            answer.status(),
            d.domain
        ),
        evidence: evidence(d),
    })
}

pub fn lame_delegation(facts: &Facts) -> Option<Hit> {
    facts.domains.iter().find_map(|d| match &d.trace.as_ref()?.outcome {
        Outcome::Failed(Failure::Lame { zone, servers }) => Some(Hit {
            summary: format!("The delegation of {zone} is lame: the parent names {} as its servers, but they do not serve it", ips(servers)),
            evidence: evidence(d),
        }),
        _ => None,
    })
}

/// The domain's own servers answer SERVFAIL (seen on the walk, or from the only server there is).
pub fn servfail(facts: &Facts) -> Option<Hit> {
    facts.domains.iter().find_map(|d| {
        let failed = resolver_failure(d);
        match d.trace.as_ref().map(|t| &t.outcome) {
            Some(Outcome::Failed(Failure::ServFail { zone, servers })) => Some(Hit {
                summary: format!(
                    "{}'s authoritative servers ({}) answer SERVFAIL for {zone}",
                    d.domain,
                    ips(servers)
                ),
                evidence: evidence(d),
            }),
            None if matches!(failed, Some((_, Answer::ServFail))) => Some(Hit {
                summary: format!("DNS answers SERVFAIL for {} ({})", d.domain, failed?.0),
                evidence: evidence(d),
            }),
            _ => None,
        }
    })
}

pub fn timeout(facts: &Facts) -> Option<Hit> {
    facts.domains.iter().find_map(|d| {
        let failed = resolver_failure(d);
        match d.trace.as_ref().map(|t| &t.outcome) {
            Some(Outcome::Failed(Failure::Timeout { zone, servers })) => Some(Hit {
                summary: format!(
                    "{}'s authoritative servers ({}) never answer queries for {zone}",
                    d.domain,
                    ips(servers)
                ),
                evidence: evidence(d),
            }),
            None if matches!(failed, Some((_, Answer::Timeout))) => Some(Hit {
                summary: format!("DNS queries for {} time out ({})", d.domain, failed?.0),
                evidence: evidence(d),
            }),
            _ => None,
        }
    })
}
