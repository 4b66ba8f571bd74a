//! Rules about where mail for a domain goes: the MX lookup and its fallbacks.

use mxlab_net::mx::Route;

use crate::facts::Facts;
use crate::probe::DomainProbe;
use crate::rule::Hit;

fn evidence(probe: &DomainProbe) -> Vec<String> {
    probe
        .resolution
        .exchanges
        .iter()
        .map(|e| format!("dns: {e}"))
        .collect()
}

fn with_notices(mut evidence: Vec<String>, facts: &Facts, needle: &str) -> Vec<String> {
    for dsn in facts.notices() {
        for r in dsn
            .recipients
            .iter()
            .filter(|r| r.diagnostic_code.contains(needle) || r.status.starts_with(needle))
        {
            evidence.push(format!(
                "notice \"{}\": {} Status {} — {}",
                dsn.subject, r.final_recipient, r.status, r.diagnostic_code
            ));
        }
    }
    evidence
}

fn first(facts: &Facts, pred: impl Fn(&Route) -> bool) -> Option<&DomainProbe> {
    facts.domains.iter().find(|d| pred(&d.resolution.route))
}

pub fn nxdomain(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| matches!(r, Route::NxDomain))?;
    Some(Hit {
        summary: format!(
            "{} does not exist: its MX lookup answers NXDOMAIN (\"Non-existent domain\")",
            d.domain
        ),
        evidence: with_notices(evidence(d), facts, "NonExistentDomain"),
    })
}

pub fn missing(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| matches!(r, Route::NoMailRecords))?;
    Some(Hit {
        summary: format!(
            "{} exists but publishes no MX record and no A/AAAA record to fall back on",
            d.domain
        ),
        evidence: with_notices(evidence(d), facts, "5.4.4"),
    })
}

pub fn null_mx(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| matches!(r, Route::NullMx))?;
    Some(Hit {
        summary: format!(
            "{} publishes a null MX (\"MX 0 .\", RFC 7505): it accepts no mail",
            d.domain
        ),
        evidence: with_notices(evidence(d), facts, "5.1.10"),
    })
}

pub fn target_unresolvable(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| match r {
        Route::Mx(hosts) => !hosts.is_empty() && hosts.iter().all(|h| h.addresses.is_err()),
        _ => false,
    })?;
    let names: Vec<String> = match &d.resolution.route {
        Route::Mx(hosts) => hosts.iter().map(|h| h.name.clone()).collect(),
        _ => Vec::new(),
    };
    Some(Hit {
        summary: format!(
            "{}'s MX points at {} with no address record",
            d.domain,
            names.join(", ")
        ),
        evidence: evidence(d),
    })
}

pub fn implicit(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| matches!(r, Route::Implicit(_)))?;
    Some(Hit {
        summary: format!(
            "{} publishes no MX record; mail goes to the domain's own address by the RFC 5321 §5.1 fallback",
            d.domain
        ),
        evidence: evidence(d),
    })
}

/// Delivered, but not through the most preferred MX.
pub fn backup_used(facts: &Facts) -> Option<Hit> {
    for d in &facts.domains {
        let Route::Mx(hosts) = &d.resolution.route else {
            continue;
        };
        let Some(primary) = hosts.first() else {
            continue;
        };
        let at_domain = format!("@{}", d.domain.to_ascii_lowercase());
        let send = facts.tracking.iter().find(|e| {
            e.event_id == "SEND"
                && e.recipients
                    .iter()
                    .any(|r| r.to_ascii_lowercase().ends_with(&at_domain))
                && !e.source_context.is_empty()
                && !e.source_context.starts_with(&format!("{} ", primary.name))
        });
        if let Some(send) = send {
            let mut evidence = vec![format!(
                "tracking log: {} SEND via {}",
                send.date_time, send.source_context
            )];
            evidence.extend(evidence_smtp(facts, &d.domain));
            return Some(Hit {
                summary: format!(
                    "Mail for {} went to a backup MX ({}); the primary, {}, did not take it",
                    d.domain, send.source_context, primary.name
                ),
                evidence,
            });
        }
    }
    None
}

fn evidence_smtp(facts: &Facts, domain: &str) -> Vec<String> {
    facts
        .domains
        .iter()
        .filter(|d| d.domain == domain)
        .flat_map(|d| d.smtp.iter())
        .map(crate::rules::smtp_session::describe)
        .collect()
}
