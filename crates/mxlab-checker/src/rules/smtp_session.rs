//! Rules about the SMTP conversation with the remote server, from the checker's own probe
//! (which stage failed, and how) and from what the notices and the tracking log quote.

use crate::facts::Facts;
use crate::probe::smtp::{Outcome, ProbeStep, SmtpProbe, SmtpResult};
use crate::rule::Hit;

/// Every SMTP probe, with its domain.
fn probes(facts: &Facts) -> impl Iterator<Item = (&str, &SmtpProbe)> {
    facts
        .domains
        .iter()
        .flat_map(|d| d.smtp.iter().map(move |p| (d.domain.as_str(), p)))
}

fn line(p: &SmtpProbe, what: String) -> String {
    format!("probe: {} ({}:{}) {what}", p.host, p.ip, p.port)
}

fn steps_evidence(p: &SmtpProbe) -> Vec<String> {
    let mut out = Vec::new();
    if let SmtpResult::Greeted { banner, steps } = &p.result {
        out.push(line(p, format!("greeted '{banner}'")));
        out.extend(
            steps
                .iter()
                .map(|s| line(p, format!("{} → {}", s.sent, s.outcome.text()))),
        );
    }
    out
}

/// Real errors the notices quote, and tracking-log deferrals, that contain `needle`.
fn quoted(facts: &Facts, needle: &str) -> Vec<String> {
    let needle = needle.to_ascii_lowercase();
    let mut out: Vec<String> = facts
        .notices()
        .filter_map(|d| {
            d.last_real_error()
                .filter(|e| e.to_ascii_lowercase().contains(&needle))
                .map(|e| format!("notice \"{}\": last error '{e}'", d.subject))
        })
        .collect();
    let deferrals: Vec<String> = facts
        .tracking
        .iter()
        .filter(|e| {
            matches!(e.event_id.as_str(), "DEFER" | "FAIL")
                && e.recipient_status.to_ascii_lowercase().contains(&needle)
        })
        .map(|e| {
            format!(
                "tracking log: {} {} {} '{}'",
                e.date_time,
                e.event_id,
                e.recipients.join(";"),
                e.recipient_status
            )
        })
        .collect();
    // A day of retries says the same thing every time: the first, the count, the last.
    match deferrals.as_slice() {
        [first, .., last] if deferrals.len() > 2 => {
            out.push(first.clone());
            out.push(format!(
                "tracking log: … {} more alike",
                deferrals.len() - 2
            ));
            out.push(last.clone());
        }
        _ => out.extend(deferrals),
    }
    out
}

pub fn banner_timeout(facts: &Facts) -> Option<Hit> {
    let (_, p) = probes(facts).find(|(_, p)| p.result == SmtpResult::BannerTimeout)?;
    let mut evidence = vec![line(
        p,
        "accepted the connection but sent no greeting within 5 minutes".into(),
    )];
    evidence.extend(quoted(facts, "TimedOut"));
    Some(Hit {
        summary: format!(
            "{} accepts connections but never sends its 220 greeting",
            p.host
        ),
        evidence,
    })
}

fn rcpt_refusal(p: &SmtpProbe) -> Option<(&ProbeStep, Option<&ProbeStep>)> {
    let rcpt = p
        .result
        .step("rcpt")
        .filter(|s| matches!(s.outcome, Outcome::Reply { code, .. } if code >= 400))?;
    Some((rcpt, p.result.step("rcpt-postmaster")))
}

fn is_mailbox_full(step: &ProbeStep) -> bool {
    matches!(&step.outcome, Outcome::Reply { line, .. } if line.contains(" 4.2.2") || line.contains(" 5.2.2"))
}

pub fn mailbox_full(facts: &Facts) -> Option<Hit> {
    let (p, rcpt, postmaster) = probes(facts).find_map(|(_, p)| {
        let (rcpt, postmaster) = rcpt_refusal(p)?;
        is_mailbox_full(rcpt).then_some((p, rcpt, postmaster))
    })?;
    let domain_fine = postmaster.is_some_and(|s| s.outcome.positive());
    let mut evidence = steps_evidence(p);
    evidence.extend(quoted(facts, "4.2.2"));
    let address = rcpt
        .sent
        .trim_start_matches("RCPT TO:<")
        .trim_end_matches('>');
    let summary = if domain_fine {
        format!(
            "The mailbox {address} is full ('{}'); the domain itself accepts mail (postmaster is accepted): not a domain problem",
            rcpt.outcome.text()
        )
    } else {
        format!("The mailbox {address} is full ('{}')", rcpt.outcome.text())
    };
    Some(Hit { summary, evidence })
}

pub fn rcpt_transient(facts: &Facts) -> Option<Hit> {
    let (p, rcpt) = probes(facts).find_map(|(_, p)| {
        let (rcpt, _) = rcpt_refusal(p)?;
        (matches!(rcpt.outcome, Outcome::Reply { code, .. } if (400..500).contains(&code))
            && !is_mailbox_full(rcpt))
        .then_some((p, rcpt))
    })?;
    let mut evidence = steps_evidence(p);
    let code = match &rcpt.outcome {
        Outcome::Reply { line, .. } => line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    evidence.extend(quoted(facts, &code));
    Some(Hit {
        summary: format!(
            "{} defers the recipient at RCPT with '{}': a temporary refusal on the remote side",
            p.host,
            rcpt.outcome.text()
        ),
        evidence,
    })
}

pub fn data_timeout(facts: &Facts) -> Option<Hit> {
    let (p, step) = probes(facts).find_map(|(_, p)| {
        let step = p
            .result
            .step("end-of-data")
            .or_else(|| p.result.step("data"))?;
        (step.outcome == Outcome::Timeout).then_some((p, step))
    })?;
    let mut evidence = steps_evidence(p);
    evidence.extend(quoted(facts, "TimedOut"));
    Some(Hit {
        summary: format!(
            "{} takes the message but never confirms it: no reply to {} within the protocol timeout",
            p.host,
            if step.stage == "data" {
                "DATA"
            } else {
                "the final dot"
            }
        ),
        evidence,
    })
}

pub fn data_disconnected(facts: &Facts) -> Option<Hit> {
    let (p, _) = probes(facts).find_map(|(_, p)| {
        let step = p.result.step("end-of-data")?;
        (step.outcome == Outcome::Closed).then_some((p, step))
    })?;
    let mut evidence = steps_evidence(p);
    evidence.extend(quoted(facts, "SocketError"));
    Some(Hit {
        summary: format!(
            "{} drops the connection while the message is being sent",
            p.host
        ),
        evidence,
    })
}

/// Deferred with a greylisting reply, then delivered: the tracking log tells.
pub fn greylisted(facts: &Facts) -> Option<Hit> {
    let grey = |status: &str| {
        let s = status.to_ascii_lowercase();
        s.contains("greylist") || s.contains("graylist") || s.starts_with("451 4.7.1")
    };
    let deferrals: Vec<_> = facts
        .tracking
        .iter()
        .filter(|e| e.event_id == "DEFER" && grey(&e.recipient_status))
        .collect();
    let first = deferrals.first()?;
    let sent = facts.tracking.iter().find(|e| {
        e.event_id == "SEND" && e.recipients.iter().any(|r| first.recipients.contains(r))
    })?;
    let mut evidence: Vec<String> = deferrals
        .iter()
        .map(|e| {
            format!(
                "tracking log: {} DEFER {} '{}'",
                e.date_time,
                e.recipients.join(";"),
                e.recipient_status
            )
        })
        .collect();
    evidence.push(format!(
        "tracking log: {} SEND {} '{}'",
        sent.date_time,
        sent.recipients.join(";"),
        sent.recipient_status
    ));
    Some(Hit {
        summary: format!(
            "The recipient's server greylisted the first attempts ('{}'), {} time(s), then accepted a retry at {}: the delay was greylisting, and it resolved itself",
            first.recipient_status,
            deferrals.len(),
            sent.date_time
        ),
        evidence,
    })
}

pub fn rate_limited(facts: &Facts) -> Option<Hit> {
    let mut evidence = quoted(facts, "421 4.7.0");
    let mut reply = facts
        .tracking
        .iter()
        .map(|e| e.recipient_status.as_str())
        .chain(facts.last_real_errors())
        .find(|s| s.contains("421 4.7.0"))
        .map(str::to_string);
    for (_, p) in probes(facts) {
        if let SmtpResult::Rejected { code: 421, text } = &p.result {
            evidence.push(line(p, format!("greeted '{text}'")));
            reply.get_or_insert_with(|| text.clone());
        }
    }
    Some(Hit {
        summary: format!(
            "The recipient's server limits connections and turned the sender away: '{}'",
            reply?
        ),
        evidence,
    })
}

/// A probe's result in a few words, for evidence.
pub fn describe(p: &SmtpProbe) -> String {
    let what = match &p.result {
        SmtpResult::Refused(e) => format!("refused the connection ({e})"),
        SmtpResult::ConnectTimeout => "did not answer the connection".into(),
        SmtpResult::BannerTimeout => "sent no greeting".into(),
        SmtpResult::ClosedBeforeBanner => "closed before greeting".into(),
        SmtpResult::Rejected { text, .. } => format!("greeted with '{text}'"),
        SmtpResult::Greeted { banner, steps } => match steps.iter().find(|s| !s.outcome.positive())
        {
            Some(s) => format!("greeted '{banner}', then {} → {}", s.sent, s.outcome.text()),
            None => format!("greeted '{banner}' and accepted a test message"),
        },
    };
    line(p, what)
}

/// A permanent refusal of the message for its header size.
pub fn header_limit(facts: &Facts) -> Option<Hit> {
    let (ndr, r) = facts.ndrs.iter().find_map(|n| {
        n.recipients
            .iter()
            .find(|r| {
                (r.status == "5.3.4" || r.diagnostic_code.contains("5.3.4"))
                    && r.diagnostic_code.to_ascii_lowercase().contains("header")
            })
            .map(|r| (n, r))
    })?;
    Some(Hit {
        summary: format!(
            "The recipient's server rejects the message for its header size: '{}'",
            r.diagnostic_code
        ),
        evidence: vec![format!(
            "notice \"{}\": {} Status {} Diagnostic-Code {}",
            ndr.subject, r.final_recipient, r.status, r.diagnostic_code
        )],
    })
}
