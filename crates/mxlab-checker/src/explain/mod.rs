//! `mxlab explain`: a notice the user was handed, read on its own — each recipient's fate,
//! status, reply, stage, dates and bounce reason as the notice gives them, and the cause
//! behind it as far as the notice's words can tell (the broader cause, and the `mxlab check`
//! that would tell more, where they cannot).

mod reason;
mod recipient;

use mxlab_vocab::RuleId;

use crate::artifacts::notice::{self, Kind, Notice};
use crate::report::{ArtifactsReport, NoticeDetail, RecipientReport, Report, SCHEMA, Verdict};
use crate::rule::{Finding, Severity};
use crate::rules::rule;

pub use reason::reason;

/// Why a message could not be explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Explains one message; `source` names it in the report.
pub fn explain(raw: &[u8], source: &str) -> Result<Report, Unreadable> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Unreadable(format!("{source}: empty")));
    }
    // Each notice is read on its own: what another said is not remembered, so a thousand
    // distinct notices cost a thousand times one.
    crate::diagnosis::classify::forget();
    let notice =
        notice::read(raw).ok_or_else(|| Unreadable(format!("{source}: not a mail message")))?;
    match notice.kind {
        Kind::AutoReply => Ok(outcome_only(&notice, source, RuleId::NoticeAutoReply)),
        Kind::Feedback => Ok(outcome_only(&notice, source, RuleId::NoticeFeedback)),
        Kind::Delivery if notice.recipients.is_empty() => Err(Unreadable(format!(
            "{source}: no recipient found: not a delivery notice{}",
            if notice.truncated {
                " (read in part: it is larger than the reader's limit)"
            } else {
                ""
            }
        ))),
        Kind::Delivery => Ok(delivery(&notice, source)),
    }
}

/// Whether a report names an error-severity cause (`explain` then exits 1).
pub fn is_error(report: &Report) -> bool {
    rule(report.verdict.rule).severity == Severity::Error
}

fn delivery(notice: &Notice, source: &str) -> Report {
    let diagnosis = crate::investigate::read_notice(notice);
    let mut recipients: Vec<RecipientReport> = Vec::new();
    for r in &notice.recipients {
        if recipients
            .iter()
            .any(|x| x.address.eq_ignore_ascii_case(&r.final_recipient))
        {
            continue;
        }
        let cause = diagnosis.cause_of(&r.final_recipient).unwrap_or(Verdict {
            rule: RuleId::Inconclusive,
            summary: String::new(),
        });
        recipients.push(recipient::report(notice, r, cause));
    }
    let findings = diagnosis
        .findings
        .iter()
        .map(|f| with_next_command(f.clone()))
        .collect();
    let verdict = Verdict {
        rule: diagnosis.verdict,
        summary: diagnosis.verdict_summary,
    };
    report(source, verdict, findings, recipients)
}

/// The report of one notice: no scenario, no timeline, no artifacts of its own.
fn report(
    source: &str,
    verdict: Verdict,
    findings: Vec<Finding>,
    recipients: Vec<RecipientReport>,
) -> Report {
    Report {
        schema: SCHEMA,
        source: Some(source.to_string()),
        scenario: None,
        title: None,
        passed: None,
        verdict,
        findings,
        recipients,
        timeline: Vec::new(),
        artifacts: ArtifactsReport::default(),
        expectations: Vec::new(),
    }
}

/// The catalog's `mxlab check <recipient>` advice, with the recipient filled in.
fn with_next_command(mut f: Finding) -> Finding {
    if let [who, ..] = f.recipients.as_slice() {
        for r in &mut f.remediation {
            *r = r.replace("<recipient>", who);
        }
    }
    f
}

/// An automatic reply or a feedback report: delivered, nothing failed — for each address it
/// concerns (a report that names none still stands for one, unnamed).
fn outcome_only(notice: &Notice, source: &str, id: RuleId) -> Report {
    let r = rule(id);
    let who = if notice.concerns.is_empty() {
        vec![String::new()]
    } else {
        notice.concerns.clone()
    };
    let reason = if id == RuleId::NoticeFeedback {
        mxlab_vocab::Reason::Feedback
    } else {
        mxlab_vocab::Reason::Vacation
    };
    let summary = format!("{}: \"{}\"", r.title, notice.subject);
    let finding = Finding {
        rule: id,
        severity: r.severity,
        summary: summary.clone(),
        evidence: vec![format!("subject: {}", notice.subject)],
        remediation: r.remediation.iter().map(|s| s.to_string()).collect(),
        recipients: who.clone(),
        cleared: false,
    };
    let recipient = |address: String| RecipientReport {
        address,
        outcome: "delivered".into(),
        status: "2.0.0".into(),
        diagnostic: String::new(),
        remote_mta: String::new(),
        cause: Verdict {
            rule: id,
            summary: summary.clone(),
        },
        notice: Some(NoticeDetail {
            reason,
            reply_code: None,
            phase: None,
            reporting_mta: None,
            original_recipient: None,
            arrival_date: None,
            last_attempt_date: None,
            will_retry_until: None,
        }),
    };
    let recipients = who.into_iter().map(recipient).collect();
    let verdict = Verdict { rule: id, summary };
    report(source, verdict, vec![finding], recipients)
}

#[cfg(test)]
mod tests;
