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

/// The complaint's recipients at `domain`.
fn at(facts: &Facts, domain: &str) -> Vec<String> {
    let suffix = format!("@{}", domain.to_ascii_lowercase());
    facts
        .recipients
        .iter()
        .filter(|r| r.to_ascii_lowercase().ends_with(&suffix))
        .cloned()
        .collect()
}

fn first(facts: &Facts, pred: impl Fn(&Route) -> bool) -> Option<&DomainProbe> {
    facts.domains.iter().find(|d| pred(&d.resolution.route))
}

pub fn implicit(facts: &Facts) -> Option<Hit> {
    let d = first(facts, |r| matches!(r, Route::Implicit(_)))?;
    Some(Hit {
        summary: format!(
            "{} publishes no MX record; mail goes to the domain's own address by the RFC 5321 §5.1 fallback",
            d.domain
        ),
        evidence: evidence(d),
        recipients: at(facts, &d.domain),
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
            e.event_id.parse() == Ok(mxlab_vocab::EventId::Send)
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
                recipients: at(facts, &d.domain),
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
        .flat_map(crate::diagnosis::probe_evidence)
        .collect()
}
