//! Observations about the notices the user received: what they say of themselves.

use crate::artifacts::notice::Notice;
use crate::facts::Facts;
use crate::rule::Hit;

fn named(notices: &[&Notice], action: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in notices.iter().flat_map(|d| &d.recipients) {
        if r.action.eq_ignore_ascii_case(action) && !out.contains(&r.final_recipient) {
            out.push(r.final_recipient.clone());
        }
    }
    out
}

pub fn delayed(facts: &Facts) -> Option<Hit> {
    let delays: Vec<&Notice> = facts.dsns.iter().filter(|d| d.is_delay()).collect();
    let dsn = delays.first()?;
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
    if delays.len() > 1 {
        evidence.push(format!("… {} delay notices in all", delays.len()));
    }
    let summary = match dsn.last_real_error() {
        Some(e) => {
            evidence.push(format!("notice \"{}\": last real error '{e}'", dsn.subject));
            format!("The delay notice's \"400 4.4.7 Message delayed\" is the sending server's own summary; the real error behind it is '{e}'")
        }
        None => "A delay notice (400 4.4.7) arrived without a remote error: the message waited in the sending server's own queue".to_string(),
    };
    Some(Hit {
        summary,
        evidence,
        recipients: named(&delays, "delayed"),
    })
}

pub fn expired(facts: &Facts) -> Option<Hit> {
    let expiries: Vec<&Notice> = facts.ndrs.iter().filter(|d| d.is_expiry()).collect();
    let ndr = expiries.first()?;
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
    Some(Hit {
        summary,
        evidence,
        recipients: named(&expiries, "failed"),
    })
}

pub fn failed(facts: &Facts) -> Option<Hit> {
    let failures: Vec<&Notice> = facts
        .ndrs
        .iter()
        .filter(|d| d.is_failure() && !d.is_expiry())
        .collect();
    let ndr = failures.first()?;
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
        recipients: named(&failures, "failed"),
    })
}
