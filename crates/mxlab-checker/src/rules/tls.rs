//! TLS rules: the certificate the remote presents after STARTTLS, as the checker's own
//! verifying probe and the sending server's errors see it.

use crate::facts::Facts;
use crate::probe::smtp::Outcome;
use crate::rule::Hit;

/// Probe handshakes and quoted errors that failed for `reason`.
fn failed(facts: &Facts, reason: &str) -> Option<(String, Vec<String>)> {
    let mut host = None;
    let mut evidence = Vec::new();
    for p in facts.domains.iter().flat_map(|d| &d.smtp) {
        if let Some(step) = p.result.step("tls")
            && step.outcome == Outcome::TlsFailed(reason.to_string())
        {
            host.get_or_insert_with(|| p.host.clone());
            evidence.push(format!(
                "probe: {} ({}:{}) STARTTLS → 220, then {}",
                p.host,
                p.ip,
                p.port,
                step.outcome.text()
            ));
        }
    }
    let needle = format!("error {reason}");
    for d in facts.notices() {
        if let Some(e) = d.last_real_error().filter(|e| e.contains(&needle)) {
            evidence.push(format!("notice \"{}\": last error '{e}'", d.subject));
        }
    }
    if let Some(e) = facts
        .tracking
        .iter()
        .find(|e| e.recipient_status.contains(&needle))
    {
        evidence.push(format!(
            "tracking log: {} {} '{}'",
            e.date_time, e.event_id, e.recipient_status
        ));
    }
    (!evidence.is_empty()).then(|| (host.unwrap_or_else(|| "the remote MX".into()), evidence))
}

pub fn expired(facts: &Facts) -> Option<Hit> {
    let (host, evidence) = failed(facts, "CertificateExpired")?;
    Some(Hit {
        summary: format!(
            "{host}'s TLS certificate has expired; a sender that requires valid TLS will not deliver"
        ),
        evidence,
    })
}

pub fn name_mismatch(facts: &Facts) -> Option<Hit> {
    let (host, evidence) = failed(facts, "CertificateNameMismatch")?;
    Some(Hit {
        summary: format!("{host}'s TLS certificate is for another name"),
        evidence,
    })
}

pub fn untrusted(facts: &Facts) -> Option<Hit> {
    let (host, evidence) = failed(facts, "UnknownIssuer")?;
    Some(Hit {
        summary: format!(
            "{host}'s TLS certificate is not signed by a trusted authority (self-signed?)"
        ),
        evidence,
    })
}
