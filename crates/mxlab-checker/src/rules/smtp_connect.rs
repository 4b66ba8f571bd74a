//! Rules about reaching the remote SMTP server at all.

use crate::facts::Facts;
use crate::probe::smtp::SmtpResult;
use crate::rule::Hit;

fn probe_line(p: &crate::probe::smtp::SmtpProbe, what: &str) -> String {
    format!("probe: connect to {} ({}:{}) {what}", p.host, p.ip, p.port)
}

/// Notices whose real error names this Winsock code (Exchange's wording).
fn notice_evidence(facts: &Facts, winsock: &str) -> Vec<String> {
    facts
        .notices()
        .filter_map(|d| {
            d.last_real_error()
                .filter(|e| e.contains(winsock))
                .map(|e| format!("notice \"{}\": last error '{e}'", d.subject))
        })
        .collect()
}

pub fn timeout(facts: &Facts) -> Option<Hit> {
    let mut evidence = Vec::new();
    let mut hosts = Vec::new();
    for d in &facts.domains {
        if !d.smtp.is_empty()
            && d.smtp
                .iter()
                .all(|p| p.result == SmtpResult::ConnectTimeout)
        {
            for p in &d.smtp {
                evidence.push(probe_line(p, "got no answer (timed out)"));
                hosts.push(format!("{} ({})", p.host, p.ip));
            }
        }
    }
    let from_notices = notice_evidence(facts, "Winsock error code: 10060");
    if evidence.is_empty() && from_notices.is_empty() {
        return None;
    }
    evidence.extend(from_notices);
    let summary = if hosts.is_empty() {
        "The sending server's connections to the remote MX timed out (Winsock 10060)".to_string()
    } else {
        format!(
            "The MX host {} does not answer connections on port 25: every attempt times out",
            hosts.join(", ")
        )
    };
    Some(Hit { summary, evidence })
}

pub fn refused(facts: &Facts) -> Option<Hit> {
    let mut evidence = Vec::new();
    let mut hosts = Vec::new();
    for d in &facts.domains {
        if !d.smtp.is_empty()
            && d.smtp
                .iter()
                .all(|p| matches!(p.result, SmtpResult::Refused(_)))
        {
            for p in &d.smtp {
                evidence.push(probe_line(p, "was refused (nothing listens)"));
                hosts.push(format!("{} ({})", p.host, p.ip));
            }
        }
    }
    let from_notices = notice_evidence(facts, "Winsock error code: 10061");
    if evidence.is_empty() && from_notices.is_empty() {
        return None;
    }
    evidence.extend(from_notices);
    let summary = if hosts.is_empty() {
        "The remote MX refused the sending server's connections (Winsock 10061)".to_string()
    } else {
        format!(
            "The MX host {} refuses connections on port 25: no SMTP server listens there",
            hosts.join(", ")
        )
    };
    Some(Hit { summary, evidence })
}
