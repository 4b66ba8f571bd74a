//! `mxlab check`'s answers when nothing failed: the recipient's server accepts it now
//! (`ok.deliverable`), took the test message (`ok.delivered`, only with --send) — or a probe
//! could not run from this host (`probe.unavailable`), which is said as such and never
//! blamed on the remote.

use mxlab_vocab::RuleId;

use crate::facts::Facts;
use crate::probe::Mode;
use crate::probe::smtp::SmtpProbe;
use crate::rule::{Finding, Rule};
use crate::rules::position;

use super::observe::Story;
use super::{Attribution, dns, smtp};

/// How things stand for `story`'s recipient under `check`, when no failure was seen or met;
/// `None` outside `check`, or when the probes got nowhere that says.
pub(super) fn outcome(facts: &Facts, story: &Story) -> Option<Attribution> {
    if !facts.mode.is_check() {
        return None;
    }
    let domain = story.domain();
    let d = facts
        .domains
        .iter()
        .find(|d| d.domain.eq_ignore_ascii_case(&domain))?;
    if d.resolver_silent {
        let server = d
            .resolution
            .exchanges
            .first()
            .map(|e| e.server.to_string())
            .unwrap_or_else(|| "the resolver".into());
        let mut a = Attribution::new(
            RuleId::ProbeUnavailable,
            format!(
                "Nothing answers DNS at {server}, not even a question about the root: {domain}'s route and mail servers could not be tested from here"
            ),
        );
        a.evidence = dns::evidence(d);
        a.evidence.push(format!(
            "dns: . NS → no answer (asked {}): the resolver is unreachable or not a DNS server",
            server
        ));
        return Some(a);
    }
    let probes = d.for_recipient(&story.address);
    let hosts = hosts(&probes);
    let evidence = || {
        let mut out = dns::evidence(d);
        out.extend(probes.iter().flat_map(|p| smtp::evidence(p)));
        out
    };
    let who = &story.address;
    let (rule, summary) = if smtp::untried(&probes) {
        (
            RuleId::ProbeUnavailable,
            format!(
                "No connection to {hosts} could even be attempted from this host: whether {domain}'s mail servers take mail for {who} was not tested"
            ),
        )
    } else if probes.iter().any(|p| p.result.delivered()) {
        (
            RuleId::OkDelivered,
            format!("{hosts} accepted the checker's test message for {who} with 250"),
        )
    } else if probes.iter().any(|p| p.result.recipient_accepted()) {
        (
            RuleId::OkDeliverable,
            format!(
                "{hosts} accepts mail for {who} now (250 to RCPT); no message was sent{}",
                if facts.mode == (Mode::Check { send: false }) {
                    " (--send tests the data too)"
                } else {
                    ""
                }
            ),
        )
    } else {
        // No host to probe, with nothing wrong in DNS either: nothing to say.
        return None;
    };
    let mut a = Attribution::new(rule, summary);
    a.evidence = evidence();
    Some(a)
}

fn hosts(probes: &[&SmtpProbe]) -> String {
    let mut names: Vec<String> = probes
        .iter()
        .map(|p| format!("{} ({})", p.host, p.ip))
        .collect();
    names.dedup();
    if names.is_empty() {
        "the MX hosts".into()
    } else {
        names.join(", ")
    }
}

/// The finding for an outcome `check` names: the recipients it holds for, each one's
/// sentence, and the probes' evidence.
pub(super) fn finding(
    id: RuleId,
    attributions: &[(&Story, Attribution)],
) -> (usize, &'static Rule, Finding) {
    let (order, r) = position(id);
    let mine: Vec<&(&Story, Attribution)> =
        attributions.iter().filter(|(_, a)| a.rule == id).collect();
    let summary = match mine.as_slice() {
        [(_, a)] => a.summary.clone(),
        _ => mine
            .iter()
            .map(|(_, a)| a.summary.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    };
    let mut evidence: Vec<String> = Vec::new();
    for (_, a) in &mine {
        for line in &a.evidence {
            if !evidence.contains(line) {
                evidence.push(line.clone());
            }
        }
    }
    let recipients = mine.iter().map(|(s, _)| s.address.clone()).collect();
    (
        order,
        r,
        super::finding(r, summary, evidence, recipients, false),
    )
}
