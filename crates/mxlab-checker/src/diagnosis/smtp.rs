//! What the checker's own SMTP probe meets, read as a symptom — so a failure the probe meets
//! (the MX does not answer the checker either) is an observed failure too, and a failure the
//! notices report can be confirmed, localised (at the banner or after the data?) or found
//! cleared.

use crate::probe::smtp::{Outcome, SmtpProbe, SmtpResult, Step};

use super::classify::{Symptom, classify};

/// The symptom the probes of one recipient met; `None` when the probes went through (or there
/// were none).
pub fn met(probes: &[&SmtpProbe]) -> Option<Symptom> {
    // A target this host could not even try says nothing about the remote.
    let results: Vec<&SmtpResult> = probes
        .iter()
        .map(|p| &p.result)
        .filter(|r| !matches!(r, SmtpResult::Unreachable(_)))
        .collect();
    if results.is_empty() {
        return None;
    }
    let greeted = results
        .iter()
        .position(|r| matches!(r, SmtpResult::Greeted { .. }));
    let Some(i) = greeted else {
        // No host greeted: the first failure in routing order names it.
        let symptom = match results[0] {
            SmtpResult::ConnectTimeout => Symptom::ConnectTimeout,
            SmtpResult::Refused(_) => Symptom::ConnectRefused,
            SmtpResult::BannerTimeout => Symptom::BannerTimeout,
            SmtpResult::ClosedBeforeBanner => Symptom::Disconnected,
            SmtpResult::Rejected(reply) => classify(&reply.one_line()),
            SmtpResult::Greeted { .. } | SmtpResult::Unreachable(_) => return None,
        };
        return Some(symptom);
    };
    let step = results[i].failed_step()?;
    let symptom = match (&step.outcome, step.step) {
        (Outcome::TlsFailed(kind), _) => Symptom::Tls(kind.clone()),
        (Outcome::Timeout, Step::Data | Step::EndOfData) => Symptom::DataTimeout,
        (Outcome::Timeout, _) => Symptom::DroppedTimedOut,
        (Outcome::Closed, _) => Symptom::Disconnected,
        (Outcome::Reply(r), _) => classify(&r.one_line()),
        (Outcome::TlsEstablished, _) => return None,
    };
    Some(symptom)
}

/// The text of the refusal the probes met, if it was a reply.
pub fn refusal_text(probes: &[&SmtpProbe]) -> Option<String> {
    probes.iter().find_map(|p| match &p.result {
        SmtpResult::Rejected(reply) => Some(reply.one_line()),
        SmtpResult::Greeted { .. } => p
            .result
            .failed_step()
            .and_then(|s| s.outcome.reply())
            .map(|r| r.one_line()),
        _ => None,
    })
}

fn line(p: &SmtpProbe, what: String) -> String {
    format!("probe: {} ({}:{}) {what}", p.host, p.ip, p.port)
}

/// A wait as people say it: "5 minutes", "3 s".
fn limit(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 && secs >= 60 && secs.is_multiple_of(60) {
        let m = secs / 60;
        return format!("{m} minute{}", if m == 1 { "" } else { "s" });
    }
    let n = format!("{:.3}", d.as_secs_f64());
    format!("{} s", n.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
#[test]
fn waits_as_people_say_them() {
    use std::time::Duration;
    assert_eq!(limit(Duration::from_secs(300)), "5 minutes");
    assert_eq!(limit(Duration::from_secs(60)), "1 minute");
    assert_eq!(limit(Duration::from_secs(3)), "3 s");
    assert_eq!(limit(Duration::from_millis(1500)), "1.5 s");
    assert_eq!(limit(Duration::from_secs(90)), "90 s");
}

/// The probe's conversation as evidence lines.
pub fn evidence(p: &SmtpProbe) -> Vec<String> {
    match &p.result {
        SmtpResult::Unreachable(e) => vec![line(
            p,
            format!("connect → could not be attempted from this host ({e})"),
        )],
        SmtpResult::Refused(e) => vec![line(p, format!("connect → refused ({e})"))],
        SmtpResult::ConnectTimeout => vec![line(p, "connect → no answer (timed out)".into())],
        SmtpResult::BannerTimeout => vec![line(
            p,
            format!(
                "connect → accepted, but no greeting within {}",
                limit(p.banner_limit)
            ),
        )],
        SmtpResult::ClosedBeforeBanner => {
            vec![line(p, "connect → closed before greeting".into())]
        }
        SmtpResult::Rejected(r) => vec![line(p, format!("greeted '{}'", r.first_line()))],
        SmtpResult::Greeted { banner, steps } => {
            let mut out = vec![line(p, format!("greeted '{}'", banner.first_line()))];
            out.extend(
                steps
                    .iter()
                    .map(|s| line(p, format!("{} → {}", s.sent, s.outcome.text()))),
            );
            out
        }
    }
}

/// The postmaster check: the domain accepts postmaster while refusing the recipient.
pub fn domain_accepts_postmaster(p: &SmtpProbe) -> bool {
    p.result
        .step(Step::RcptPostmaster)
        .is_some_and(|s| s.outcome.positive())
}

/// No connection could even be attempted: every target was out of this host's reach.
pub fn untried(probes: &[&SmtpProbe]) -> bool {
    !probes.is_empty()
        && probes
            .iter()
            .all(|p| matches!(p.result, SmtpResult::Unreachable(_)))
}
