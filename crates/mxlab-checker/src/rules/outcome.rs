//! The outcome rules: what the verdict says when no cause is found.

use crate::facts::Facts;
use crate::rule::Hit;

/// Every recipient has a SEND event in the tracking log, and no notice says otherwise.
pub fn delivered(facts: &Facts) -> Option<Hit> {
    if facts.recipients.is_empty() || facts.ndrs.iter().any(|n| n.is_failure()) {
        return None;
    }
    let mut evidence = Vec::new();
    for rcpt in &facts.recipients {
        let send = facts.tracking.iter().find(|e| {
            e.event_id == "SEND" && e.recipients.iter().any(|r| r.eq_ignore_ascii_case(rcpt))
        })?;
        evidence.push(format!(
            "tracking log: {} SEND {rcpt} '{}' {}",
            send.date_time, send.recipient_status, send.source_context
        ));
    }
    Some(Hit {
        summary: "Every message was delivered; the remote server accepted it with 250".into(),
        evidence,
    })
}

/// Nothing explains what happened: never fires by itself; the verdict falls back to it.
pub fn never(_: &Facts) -> Option<Hit> {
    None
}
