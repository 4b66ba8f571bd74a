//! One recipient as the notice tells it: its fate, the reply the cause rests on, the status,
//! the stage, the hosts and the dates.

use mxlab_vocab::{EnhancedStatus, Stage};

use crate::artifacts::notice::{Notice, NoticeRecipient};
use crate::diagnosis::classify::{Symptom, classify, code_and_status};
use crate::report::{NoticeDetail, RecipientReport, Verdict};

pub fn report(notice: &Notice, r: &NoticeRecipient, cause: Verdict) -> RecipientReport {
    let outcome = outcome(r);
    let diagnostic = decisive(r);
    let symptom = classify(&diagnostic);
    let (code, said_status) = code_and_status(diagnostic.trim_start_matches('#'));
    let status = status(&r.status, said_status, &diagnostic)
        .map(|s| remote_status(s, &r.diagnostic_code))
        .unwrap_or_else(|| implied_status(outcome, &symptom, code));
    let answered = crate::artifacts::notice::transcript::answered(&notice.transcript, &diagnostic);
    let phase = phase(
        &symptom,
        &format!("{diagnostic}\n{}", r.context),
        answered,
        outcome,
    );
    // The reason rests on the error itself: the status of the reply it rests on where that
    // is specific and the reported one is only the queue's summary (X.4.7).
    let reason_status = match (said_status, EnhancedStatus::parse(&status)) {
        (Some(s), Some(f)) if is_summary(f) && !s.is(0, 0) => s.to_string(),
        _ => status.clone(),
    };
    let reason = super::reason(
        outcome,
        &symptom,
        &reason_status,
        code,
        &diagnostic,
        &r.context,
        phase.as_deref(),
    );
    RecipientReport {
        address: r.final_recipient.clone(),
        outcome: outcome.to_string(),
        status,
        remote_mta: r.remote_mta.clone().unwrap_or_default(),
        cause,
        notice: Some(NoticeDetail {
            reason,
            reply_code: code,
            phase,
            reporting_mta: notice.reporting_mta.clone(),
            original_recipient: r.original_recipient.clone(),
            arrival_date: notice.arrival_date.as_deref().and_then(rfc3339),
            last_attempt_date: r.last_attempt_date.as_deref().and_then(rfc3339),
            will_retry_until: r.will_retry_until.as_deref().and_then(rfc3339),
        }),
        diagnostic,
    }
}

/// The notice's Status field where it is specific; where it is generic (5.0.0) or missing,
/// the remote's own status in the reply the cause rests on, its class following the field's
/// (a 4.x.x reply behind a failure is why the retries ran out).
fn status(field: &str, said: Option<EnhancedStatus>, reply: &str) -> Option<String> {
    let field = EnhancedStatus::parse(field);
    let said = said.or_else(|| {
        crate::artifacts::notice::status_in(reply)
            .as_deref()
            .and_then(EnhancedStatus::parse)
    });
    match (said, field) {
        (_, Some(f)) if f.subject != 0 || f.detail != 0 => Some(f.to_string()),
        (Some(s), Some(f)) if s.class != f.class => {
            EnhancedStatus::parse(&format!("{}.{}.{}", f.class, s.subject, s.detail))
                .map(|s| s.to_string())
        }
        (Some(s), _) => Some(s.to_string()),
        (None, Some(f)) => Some(f.to_string()),
        (None, None) => None,
    }
}

/// The remote's own status, where the recipient's Diagnostic-Code carries one, says what
/// failed more exactly than the status the reporting server filed it under: Sendmail files
/// `550 5.7.1 IP address blacklisted` as 5.1.1, and X.4.7 ("delivery time expired") is only
/// the queue's summary of giving up (`554 4.4.7 Message expired … <421 4.4.2 Connection timed
/// out>`, `450 4.7.1 Access denied`). Where the Diagnostic-Code is the summary itself (`400
/// 4.4.7 Message delayed`), or its status is of another class than the field's, the field's
/// stays.
fn remote_status(status: String, diagnostic_code: &str) -> String {
    let Some(filed) = EnhancedStatus::parse(&status) else {
        return status;
    };
    let reply = nested_reply(diagnostic_code).unwrap_or(diagnostic_code);
    let own = crate::artifacts::notice::status_in(reply)
        .as_deref()
        .and_then(EnhancedStatus::parse);
    match own {
        Some(s)
            if !is_summary(s) && !s.is(0, 0) && (is_summary(filed) || s.class == filed.class) =>
        {
            s.to_string()
        }
        _ => status,
    }
}

/// X.4.7, "delivery time expired": the queue's own summary of giving up, not an error.
fn is_summary(s: EnhancedStatus) -> bool {
    s.is(4, 7)
}

/// A reply quoted inside another: in angle brackets (`… <421 4.4.2 Connection timed out>`),
/// or in quotes after the code that carried it (Amazon SES's `5.1.0 - Unknown address error
/// 550-'5.2.2 <bob@example.net>... Mailbox Full'`).
fn nested_reply(text: &str) -> Option<&str> {
    // A reply starts here: its code first (`421 4.4.2 …`, `550-…`).
    let reply_at = |from: usize| {
        text.get(from..).is_some_and(|t| {
            t.starts_with(|c: char| c.is_ascii_digit()) && code_and_status(t).0.is_some()
        })
    };
    let bracketed = text
        .match_indices('<')
        .map(|(i, _)| i)
        .find(|&i| reply_at(i + 1))
        .map(|at| (at + 1, '>'));
    let quoted = || {
        text.match_indices('\'')
            .map(|(i, _)| i)
            .find(|&i| {
                i >= 4
                    && reply_at(i - 4)
                    && text.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit)
            })
            .map(|at| (at + 1, '\''))
    };
    let (from, close) = bracketed.or_else(quoted)?;
    let inner = &text[from..];
    Some(inner.split(close).next().unwrap_or(inner).trim())
}

/// delivered, relayed, delayed, failed or expired.
fn outcome(r: &NoticeRecipient) -> &'static str {
    match r.action.as_str() {
        "delivered" => "delivered",
        "relayed" | "expanded" => "relayed",
        "delayed" => "delayed",
        "failed" if r.expired() => "expired",
        "failed" => "failed",
        _ if r.status.starts_with('2') => "delivered",
        _ if r.status.starts_with('4') => "delayed",
        _ => "failed",
    }
}

/// The reply the cause rests on: the last real error the notice quotes for this recipient
/// (Exchange's Diagnostic-Code is only "400 4.4.7 Message delayed"), preferring one that
/// names a reason, else the Diagnostic-Code.
fn decisive(r: &NoticeRecipient) -> String {
    let all: Vec<&String> = std::iter::once(&r.diagnostic_code)
        .chain(&r.quoted)
        .filter(|t| !t.trim().is_empty())
        .collect();
    let real: Vec<&&String> = all
        .iter()
        .filter(|t| classify(t) != Symptom::Summary)
        .collect();
    real.iter()
        .rev()
        .find(|t| !classify(t).is_generic())
        .or(real.last())
        .map(|t| t.trim().to_string())
        .or_else(|| all.first().map(|t| t.trim().to_string()))
        .unwrap_or_default()
}

/// A status for a notice that states none, from what it says happened.
fn implied_status(outcome: &str, symptom: &Symptom, code: Option<u16>) -> String {
    let class = match (outcome, code) {
        (_, Some(c)) if (400..500).contains(&c) && outcome == "delayed" => 4,
        ("delayed", _) => 4,
        ("delivered" | "relayed", _) => 2,
        _ => 5,
    };
    let (subject, detail) = match symptom {
        Symptom::UserUnknown => (1, 1),
        Symptom::DnsNxDomain | Symptom::DnsNoMailRecords | Symptom::DnsNoAddress => (1, 2),
        Symptom::DnsNullMx => (1, 10),
        Symptom::MailboxFull => (2, 2),
        Symptom::TooBig => (3, 4),
        Symptom::RelayDenied => (7, 1),
        Symptom::DnsTempFailure { .. } => (4, 3),
        Symptom::ConnectTimeout | Symptom::ConnectRefused | Symptom::ConnectFailed => (4, 1),
        Symptom::BannerTimeout | Symptom::DataTimeout | Symptom::Disconnected => (4, 2),
        Symptom::Summary => (4, 7),
        Symptom::Spf(_) => (7, 23),
        Symptom::TlsRequired | Symptom::Tls(_) => (7, 10),
        _ if outcome == "expired" => (4, 7),
        _ => (0, 0),
    };
    let class = if outcome == "expired" && subject == 4 && detail == 7 {
        5
    } else {
        class
    };
    format!("{class}.{subject}.{detail}")
}

/// The stage the failure came at: the command the transcript shows the reply answered (a
/// transcript's `>>> RCPT` lines name every command sent, not the one refused), else the
/// words that say it ("in reply to RCPT TO command", "after end of data"), else what the
/// failure itself implies (DNS before any connection; a connection that never opened).
fn phase(symptom: &Symptom, text: &str, answered: Option<&str>, outcome: &str) -> Option<String> {
    if let Some(stage) = answered.and_then(stage_of) {
        return Some(stage.as_str().to_string());
    }
    let lower = text.to_ascii_lowercase();
    let said = [
        ("end of data", "end-of-data"),
        ("after data", "data"),
        ("data command", "data"),
        (">>> data", "data"),
        ("rcpt to", "rcpt"),
        (">>> rcpt", "rcpt"),
        ("mail from", "mail"),
        (">>> mail", "mail"),
        ("starttls", "starttls"),
        ("in reply to ehlo", "ehlo"),
        ("my name was rejected", "ehlo"),
        ("in reply to helo", "ehlo"),
        ("after ehlo", "ehlo"),
        ("after helo", "ehlo"),
        ("initial server greeting", "banner"),
        ("after initial connection", "banner"),
        ("in reply to auth", "auth"),
    ]
    .iter()
    .find(|(w, _)| lower.contains(w))
    .map(|(_, p)| p.to_string());
    if said.is_some() {
        return said;
    }
    let implied = match symptom {
        Symptom::DnsNxDomain
        | Symptom::DnsNoMailRecords
        | Symptom::DnsNullMx
        | Symptom::DnsNoAddress
        | Symptom::DnsTempFailure { .. } => "dns",
        Symptom::ConnectTimeout | Symptom::ConnectRefused | Symptom::ConnectFailed => "connect",
        Symptom::BannerTimeout => "banner",
        Symptom::DataTimeout => "end-of-data",
        Symptom::Summary if outcome == "expired" || outcome == "delayed" => "queue",
        _ => return None,
    };
    Some(implied.to_string())
}

/// The stage a transcript's command belongs to.
fn stage_of(command: &str) -> Option<Stage> {
    Some(match command {
        "." => Stage::EndOfData,
        "DATA" => Stage::Data,
        "RCPT" => Stage::Rcpt,
        "MAIL" => Stage::Mail,
        "EHLO" | "HELO" => Stage::Ehlo,
        "STARTTLS" => Stage::Starttls,
        "AUTH" => Stage::Auth,
        _ => return None,
    })
}

/// A date as a notice writes it (RFC 5322, often with a comment; or RFC 3339), as RFC 3339
/// with the notice's own offset.
pub fn rfc3339(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let without_comment = match text.find('(') {
        Some(at) => &text[..at],
        None => text,
    };
    let clean = without_comment
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let at = crate::diagnosis::observe::at(&clean).or_else(|| rfc5322_loose(&clean))?;
    at.format(&Rfc3339).ok()
}

/// RFC 5322 dates that the strict parser refuses: a one-digit day, no weekday, a zone name.
fn rfc5322_loose(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc2822;
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.ends_with(','))
        .collect();
    let [day, month, year, clock, zone, ..] = words.as_slice() else {
        return None;
    };
    let zone = match *zone {
        "GMT" | "UT" | "UTC" | "Z" => "+0000",
        "EST" => "-0500",
        "EDT" => "-0400",
        "CST" => "-0600",
        "CDT" => "-0500",
        "MST" => "-0700",
        "MDT" => "-0600",
        "PST" => "-0800",
        "PDT" => "-0700",
        "JST" => "+0900",
        z => z,
    };
    let clock = if clock.len() == 5 {
        format!("{clock}:00")
    } else {
        clock.to_string()
    };
    let rebuilt = format!("Mon, {day:0>2} {month} {year} {clock} {zone}");
    // The weekday is checked by the parser; try each until one fits the date.
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .find_map(|wd| time::OffsetDateTime::parse(&rebuilt.replacen("Mon", wd, 1), &Rfc2822).ok())
}
