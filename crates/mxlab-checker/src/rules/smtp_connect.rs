//! Rules about reaching the remote SMTP server at all.

use crate::facts::Facts;
use crate::probe::smtp::{SmtpProbe, SmtpResult};
use crate::rule::Hit;

/// How one kind of unreachable server shows: in the probe, and in Exchange's notices.
struct Unreachable {
    probe_says: fn(&SmtpResult) -> bool,
    seen: &'static str,
    winsock: &'static str,
    from_notices_only: &'static str,
    summary: &'static str,
}

fn probe_line(p: &SmtpProbe, what: &str) -> String {
    format!("probe: connect to {} ({}:{}) {what}", p.host, p.ip, p.port)
}

fn detect(facts: &Facts, kind: &Unreachable) -> Option<Hit> {
    let mut evidence = Vec::new();
    let mut hosts = Vec::new();
    for d in &facts.domains {
        // Every target of the domain fails the same way (a backup that answers is no outage).
        if !d.smtp.is_empty() && d.smtp.iter().all(|p| (kind.probe_says)(&p.result)) {
            for p in &d.smtp {
                evidence.push(probe_line(p, kind.seen));
                hosts.push(format!("{} ({})", p.host, p.ip));
            }
        }
    }
    let needle = format!("Winsock error code: {}", kind.winsock);
    evidence.extend(facts.notices().filter_map(|d| {
        d.last_real_error()
            .filter(|e| e.contains(&needle))
            .map(|e| format!("notice \"{}\": last error '{e}'", d.subject))
    }));
    if evidence.is_empty() {
        return None;
    }
    let summary = if hosts.is_empty() {
        kind.from_notices_only.to_string()
    } else {
        format!("The MX host {} {}", hosts.join(", "), kind.summary)
    };
    Some(Hit { summary, evidence })
}

pub fn timeout(facts: &Facts) -> Option<Hit> {
    detect(
        facts,
        &Unreachable {
            probe_says: |r| *r == SmtpResult::ConnectTimeout,
            seen: "got no answer (timed out)",
            winsock: "10060",
            from_notices_only: "The sending server's connections to the remote MX timed out (Winsock 10060)",
            summary: "does not answer connections on port 25: every attempt times out",
        },
    )
}

pub fn refused(facts: &Facts) -> Option<Hit> {
    detect(
        facts,
        &Unreachable {
            probe_says: |r| matches!(r, SmtpResult::Refused(_)),
            seen: "was refused (nothing listens)",
            winsock: "10061",
            from_notices_only: "The remote MX refused the sending server's connections (Winsock 10061)",
            summary: "refuses connections on port 25: no SMTP server listens there",
        },
    )
}
