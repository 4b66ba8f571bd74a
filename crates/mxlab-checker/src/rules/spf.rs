//! SPF rules: the remote refused or deferred over SPF, and the checker's own RFC 7208
//! evaluation (`mxlab check spf`, run as the admin would) says why.

use mxlab_spf::SpfResult;

use crate::facts::Facts;
use crate::probe::smtp::Outcome;
use crate::rule::Hit;

/// Replies anywhere the admin can see them that blame SPF.
fn refusals(facts: &Facts) -> Vec<String> {
    let spfish = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.contains("5.7.23") || l.contains("5.7.24") || l.contains("4.7.24") || l.contains("spf")
    };
    let mut out: Vec<String> = facts
        .notices()
        .flat_map(|d| d.recipients.iter().map(move |r| (d, r)))
        .filter(|(_, r)| spfish(&r.diagnostic_code))
        .map(|(d, r)| {
            format!(
                "notice \"{}\": {} Status {} Diagnostic-Code {}",
                d.subject, r.final_recipient, r.status, r.diagnostic_code
            )
        })
        .collect();
    out.extend(
        facts
            .last_real_errors()
            .filter(|e| spfish(e))
            .map(|e| format!("notice: last error '{e}'")),
    );
    if let Some(e) = facts
        .tracking
        .iter()
        .find(|e| matches!(e.event_id.as_str(), "DEFER" | "FAIL") && spfish(&e.recipient_status))
    {
        out.push(format!(
            "tracking log: {} {} {} '{}'",
            e.date_time,
            e.event_id,
            e.recipients.join(";"),
            e.recipient_status
        ));
    }
    for p in facts.domains.iter().flat_map(|d| &d.smtp) {
        if let Some(step) = p.result.step("mail")
            && let Outcome::Reply { line, .. } = &step.outcome
            && !step.outcome.positive()
            && spfish(line)
        {
            out.push(format!(
                "probe: {} ({}) {} → {line}",
                p.host, p.ip, step.sent
            ));
        }
    }
    out.dedup();
    out
}

fn hit(facts: &Facts, want: SpfResult, summary: impl Fn(&str) -> String) -> Option<Hit> {
    let trace = facts.spf.as_ref().filter(|t| t.result == want)?;
    let refused = refusals(facts);
    if refused.is_empty() {
        return None;
    }
    let mut evidence: Vec<String> = mxlab_spf::render::summary(trace)
        .into_iter()
        .map(|l| format!("spf: {l}"))
        .collect();
    evidence.extend(
        mxlab_spf::render::trace_lines(trace)
            .into_iter()
            .map(|l| format!("spf trace: {l}")),
    );
    evidence.extend(refused);
    let decided = trace
        .decided_by
        .as_ref()
        .map(|d| d.describe())
        .unwrap_or_else(|| trace.reason.clone());
    Some(Hit {
        summary: summary(&decided),
        evidence,
    })
}

pub fn fail(facts: &Facts) -> Option<Hit> {
    let ip = facts.spf.as_ref()?.ip;
    hit(facts, SpfResult::Fail, |by| {
        format!(
            "The sender's SPF policy excludes the sending IP {ip} (decided by {by}); the remote rejects the mail for it"
        )
    })
}

pub fn softfail(facts: &Facts) -> Option<Hit> {
    let ip = facts.spf.as_ref()?.ip;
    hit(facts, SpfResult::SoftFail, |by| {
        format!(
            "The sender's SPF policy soft-fails the sending IP {ip} ({by}), and the remote defers softfails"
        )
    })
}

pub fn none(facts: &Facts) -> Option<Hit> {
    let domain = facts.spf.as_ref()?.domain.clone();
    hit(facts, SpfResult::None, |_| {
        format!("{domain} publishes no SPF record, and the remote holds back mail without one")
    })
}

pub fn permerror(facts: &Facts) -> Option<Hit> {
    let domain = facts.spf.as_ref()?.domain.clone();
    hit(facts, SpfResult::PermError, |why| {
        format!(
            "{domain}'s SPF record cannot be evaluated (permerror: {why}); the remote rejects the mail"
        )
    })
}

pub fn temperror(facts: &Facts) -> Option<Hit> {
    let domain = facts.spf.as_ref()?.domain.clone();
    hit(facts, SpfResult::TempError, |why| {
        format!(
            "{domain}'s SPF cannot be looked up (temperror: {why}); the remote defers the mail until DNS answers"
        )
    })
}
