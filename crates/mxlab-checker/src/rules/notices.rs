//! Rules that read the notices the user received: what they say, and what they do not.

use crate::facts::Facts;
use crate::rule::Hit;

pub fn delayed(facts: &Facts) -> Option<Hit> {
    let dsn = facts.dsns.iter().find(|d| d.is_delay())?;
    let mut evidence: Vec<String> = dsn
        .recipients
        .iter()
        .map(|r| {
            format!(
                "notice \"{}\": {} Action {} Status {} Diagnostic-Code {}",
                dsn.subject, r.final_recipient, r.action, r.status, r.diagnostic_code
            )
        })
        .collect();
    let summary = match dsn.last_real_error() {
        Some(e) => {
            evidence.push(format!("notice \"{}\": last real error '{e}'", dsn.subject));
            format!("The delay notice's \"400 4.4.7 Message delayed\" is the sending server's own summary; the real error behind it is '{e}'")
        }
        None => "A delay notice (400 4.4.7) arrived without a remote error: the message waited in the sending server's own queue".to_string(),
    };
    Some(Hit { summary, evidence })
}

pub fn expired(facts: &Facts) -> Option<Hit> {
    let ndr = facts.ndrs.iter().find(|d| d.is_expiry())?;
    let evidence = ndr
        .recipients
        .iter()
        .map(|r| {
            format!(
                "notice \"{}\": {} Status {} Diagnostic-Code {}",
                ndr.subject, r.final_recipient, r.status, r.diagnostic_code
            )
        })
        .collect();
    let summary = match ndr.last_real_error() {
        Some(e) => format!(
            "The message expired in the queue after retrying; the last real error was '{e}'"
        ),
        None => "The message expired in the queue after retrying".to_string(),
    };
    Some(Hit { summary, evidence })
}

pub fn failed(facts: &Facts) -> Option<Hit> {
    let ndr = facts
        .ndrs
        .iter()
        .find(|d| d.is_failure() && !d.is_expiry())?;
    let r = ndr
        .recipients
        .iter()
        .find(|r| r.action.eq_ignore_ascii_case("failed"))?;
    Some(Hit {
        summary: format!(
            "Delivery to {} failed permanently: {} ({})",
            r.final_recipient, r.diagnostic_code, r.status
        ),
        evidence: vec![format!(
            "notice \"{}\": {} Action failed Status {} Diagnostic-Code {}",
            ndr.subject, r.final_recipient, r.status, r.diagnostic_code
        )],
    })
}
