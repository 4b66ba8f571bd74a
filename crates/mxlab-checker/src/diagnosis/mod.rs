//! Evidence in, causes out. For each recipient: what happened to it ([`observe`]), what each
//! error says ([`classify`]), and where the fault sits ([`dns`], [`smtp`], the checker's own
//! SPF evaluation) — a cause is chosen because it explains a failure the administrator saw,
//! or, with nothing seen, one the checker's own probes meet. Then findings (each naming the
//! recipients it explains, and whether the fault has since cleared) and the verdict.
//!
//! The verdict is the cause that explains the most affected recipients; on a tie the more
//! severe, then the one listed first by `mxlab rules`. With no affected recipient it is
//! `ok.delivered` when every recipient's mail arrived, else `inconclusive`.

pub mod classify;
mod dns;
mod live;
pub mod observe;
pub mod policy;
mod smtp;
mod transport;
pub mod wordings;

use std::collections::BTreeMap;

use mxlab_vocab::{RuleId, SpfResult};

use crate::facts::Facts;
use crate::probe::DomainProbe;
use crate::rule::{Finding, Role, Rule};
use crate::rules::{RULES, position};

use classify::Symptom;
use observe::{Fate, Seen, Story};

/// The cause of one recipient's failure or delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientCause {
    pub address: String,
    pub rule: RuleId,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub verdict: RuleId,
    pub verdict_summary: String,
    pub findings: Vec<Finding>,
    /// One per recipient the complaint names, in its order.
    pub recipients: Vec<RecipientCause>,
    /// What the probes asked and heard, for a report with no world of its own to log
    /// (`check`).
    pub probed: ProbeLog,
}

impl Diagnosis {
    /// The cause named for one recipient, as a report writes it.
    pub fn cause_of(&self, address: &str) -> Option<crate::report::Verdict> {
        self.recipients
            .iter()
            .find(|c| c.address.eq_ignore_ascii_case(address))
            .map(|c| crate::report::Verdict {
                rule: c.rule,
                summary: c.summary.clone(),
            })
    }
}

/// The probes' questions and conversations, as lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeLog {
    /// Each DNS question to the resolver and its answer, then the walk from the root.
    pub dns: Vec<String>,
    /// Each SMTP conversation, one line per command.
    pub smtp: Vec<Vec<String>>,
}

impl ProbeLog {
    fn of(facts: &Facts) -> Self {
        let mut log = ProbeLog::default();
        for d in &facts.domains {
            log.dns.extend(dns::evidence(d));
            log.smtp.extend(d.smtp.iter().map(smtp::evidence));
        }
        log
    }
}

/// Why one recipient fared as it did.
#[derive(Clone, Debug)]
struct Attribution {
    rule: RuleId,
    summary: String,
    /// Errors the admin saw that this cause explains.
    seen: Vec<Seen>,
    /// What the probes found, for this cause.
    evidence: Vec<String>,
    cleared: bool,
}

impl Attribution {
    fn new(rule: RuleId, summary: String) -> Self {
        Attribution {
            rule,
            summary,
            seen: Vec::new(),
            evidence: Vec::new(),
            cleared: false,
        }
    }
}

/// The SMTP probe's conversation as evidence lines.
pub fn probe_evidence(p: &crate::probe::smtp::SmtpProbe) -> Vec<String> {
    smtp::evidence(p)
}

/// The probe of `domain`, when it could test anything: a resolver that answered nothing at
/// all is no evidence about the domain.
fn domain_probe<'a>(facts: &'a Facts, domain: &str) -> Option<&'a DomainProbe> {
    facts
        .domains
        .iter()
        .find(|d| d.domain.eq_ignore_ascii_case(domain))
        .filter(|d| !d.resolver_silent)
}

/// The SPF rule for the checker's own evaluation, when it explains a refusal about SPF.
fn spf_rule(result: SpfResult) -> Option<RuleId> {
    Some(match result {
        SpfResult::Fail => RuleId::SpfFail,
        SpfResult::SoftFail => RuleId::SpfSoftfail,
        SpfResult::None => RuleId::SpfNone,
        SpfResult::PermError => RuleId::SpfPermerror,
        SpfResult::TempError => RuleId::SpfTemperror,
        SpfResult::Pass | SpfResult::Neutral => return None,
    })
}

/// A refusal about SPF: the result the receiver's code names (5.7.23 fail, 4.7.24 temperror,
/// 5.7.24 permerror) — it saw the lookup at the time, which may have changed since — else
/// the checker's own evaluation; when that passes, the receiver's objection was not SPF.
fn spf_cause(facts: &Facts, hint: Option<SpfResult>) -> RuleId {
    if let Some(said) = hint {
        return Symptom::Spf(Some(said)).rule();
    }
    match facts.spf.as_ref().map(|t| t.result) {
        Some(own) => spf_rule(own).unwrap_or(RuleId::SmtpPolicyRejected),
        None => RuleId::SpfFail,
    }
}

fn spf_evidence(facts: &Facts) -> Vec<String> {
    let Some(trace) = &facts.spf else {
        return Vec::new();
    };
    let mut out: Vec<String> = mxlab_spf::render::summary(trace)
        .into_iter()
        .map(|l| format!("spf: {l}"))
        .collect();
    out.extend(
        mxlab_spf::render::trace_lines(trace)
            .into_iter()
            .map(|l| format!("spf trace: {l}")),
    );
    out
}

/// A deferral that went away by itself on a retry, with nothing in its text but "later":
/// greylisting, as receivers practise it with 4.7.x or no enhanced code at all.
fn looks_greylisted(story: &Story, seen: &Seen) -> bool {
    let (code, status) = classify::code_and_status(&seen.text);
    let lower = seen.text.to_ascii_lowercase();
    story.fate == Fate::Delivered
        && code.is_some_and(|c| (400..500).contains(&c))
        && status.is_none_or(|s| s.subject == 7)
        // A server that says it failed is not greylisting.
        && !["error", "problem", "failure", "fault"].iter().any(|w| lower.contains(w))
        // Greylisting windows are minutes, not hours.
        && story.waited().is_some_and(|w| w <= time::Duration::hours(1))
}

/// The cause of a failure the admin saw, localised and confirmed by the probes.
fn explain(facts: &Facts, story: &Story, seen: &Seen) -> Attribution {
    let probe = domain_probe(facts, &story.domain());
    let mut symptom = classify::for_domain(seen.symptom.clone(), &seen.text, &story.domain());
    if symptom.is_generic() && looks_greylisted(story, seen) {
        symptom = Symptom::Greylisted;
    }
    if symptom == Symptom::DroppedTimedOut {
        symptom = story.timed_out_at();
    }
    let delivered = story.fate == Fate::Delivered;
    let mut a = Attribution::new(symptom.rule(), String::new());
    a.cleared = delivered;
    // A receiver policy's cause has its own sentence, with what the lookups find now.
    let mut policy_summary = None;
    match &symptom {
        Symptom::Blocklisted | Symptom::ReverseDns(_) | Symptom::Dmarc => {
            let said = format!(": '{}'", seen.text);
            match policy::explain(facts, &symptom, &seen.text, &said) {
                Some(x) => {
                    a.rule = x.rule;
                    a.evidence = x.evidence;
                    a.cleared = delivered || x.gone;
                    policy_summary = Some(x.summary);
                }
                // A bare 5.7.26 from a domain without DMARC: the authentication that failed
                // is SPF.
                None => {
                    a.rule = spf_cause(facts, None);
                    a.evidence = spf_evidence(facts);
                }
            }
        }
        Symptom::DnsTempFailure { .. }
        | Symptom::DnsNxDomain
        | Symptom::DnsNoMailRecords
        | Symptom::DnsNullMx
        | Symptom::DnsNoAddress => {
            match probe.map(|d| (d, dns::locate(d))) {
                // A lookup that failed for now: the probe says where in the chain it fails.
                // A permanent answer seen (no such domain, no MX) keeps its name; what the
                // probe finds now is its evidence.
                // A permanent answer seen (no such domain) keeps its name when the lookup only
                // fails for now; otherwise the probe says where the chain breaks.
                Some((_, Some(found)))
                    if matches!(symptom, Symptom::DnsTempFailure { .. })
                        || !dns::is_temporary(found.rule) =>
                {
                    a.rule = found.rule;
                    a.summary = found.summary;
                    a.evidence = found.evidence;
                }
                Some((_, Some(found))) => a.evidence = found.evidence,
                Some((d, None)) => {
                    // DNS answers now: the failure has cleared, and its text names it.
                    a.cleared = true;
                    a.evidence = dns::evidence(d);
                }
                // Not probed: what the text says is all there is.
                None => {}
            }
        }
        Symptom::Spf(hint) => {
            a.rule = spf_cause(facts, *hint);
            a.evidence = spf_evidence(facts);
        }
        // A policy refusal (reputation, content) from a receiver whose sender fails SPF: the
        // cause stays the policy, but the SPF result goes with it.
        Symptom::Policy { specific: true }
            if facts.spf.as_ref().is_some_and(|t| {
                matches!(
                    t.result,
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::PermError
                )
            }) =>
        {
            a.evidence = spf_evidence(facts);
        }
        Symptom::Policy { specific: false } => {
            // A bare policy refusal from a receiver whose sender fails SPF: SPF is the reason.
            if let Some(rule) = facts
                .spf
                .as_ref()
                .map(|t| t.result)
                .filter(|r| matches!(r, SpfResult::Fail | SpfResult::PermError))
                .and_then(spf_rule)
            {
                a.rule = rule;
                a.evidence = spf_evidence(facts);
            }
        }
        _ => {}
    }
    if let Some(d) = probe
        && !matches!(
            symptom,
            Symptom::DnsTempFailure { .. }
                | Symptom::DnsNxDomain
                | Symptom::DnsNoMailRecords
                | Symptom::DnsNullMx
                | Symptom::DnsNoAddress
        )
    {
        confirm_by_smtp(&mut a, &symptom, d, story, delivered);
    }
    // The errors this cause explains: the one that decided, and those that say the same.
    a.seen = story
        .errors
        .iter()
        .filter(|e| e.symptom == seen.symptom || e.symptom.rule() == a.rule)
        .cloned()
        .collect();
    if let Some(text) = policy_summary {
        a.summary = if a.cleared {
            format!("{text} — since cleared")
        } else {
            text
        };
    }
    if a.summary.is_empty() {
        a.summary = summary(a.rule, story, Some(seen), probe, a.cleared);
    }
    a
}

/// What the SMTP probe of this recipient says about an SMTP-level failure: the same now
/// (confirmed), the stage it happens at, or gone (cleared).
fn confirm_by_smtp(
    a: &mut Attribution,
    symptom: &Symptom,
    d: &DomainProbe,
    story: &Story,
    delivered: bool,
) {
    // A recipient the probe did not ask about shares only what happens before RCPT.
    let mut probes = d.for_recipient(&story.address);
    if probes.is_empty() && (symptom.is_connection() || matches!(symptom, Symptom::Tls(_))) {
        probes = d.to_the_door();
    }
    if probes.is_empty() {
        return;
    }
    for p in &probes {
        a.evidence.extend(smtp::evidence(p));
    }
    // The probe's short test message is no fair test of a failure that struck during the
    // data (a large message, a content scanner): only delivery clears those.
    let fair = !matches!(
        symptom,
        Symptom::DataTimeout
            | Symptom::DroppedTimedOut
            | Symptom::Disconnected
            | Symptom::TooBig
            | Symptom::HeaderTooBig
            | Symptom::Policy { .. }
    );
    match smtp::met(&probes) {
        Some(now) => {
            // Timeouts and drops: the probe tells at which stage they happen.
            // A timeout whose stage the text leaves open: the probe says which. Anything else
            // the probe meets now is evidence, not a new name for what was seen.
            let timeout = |s: &Symptom| {
                matches!(
                    s,
                    Symptom::DroppedTimedOut | Symptom::BannerTimeout | Symptom::DataTimeout
                )
            };
            if timeout(symptom) && matches!(now, Symptom::BannerTimeout | Symptom::DataTimeout) {
                a.rule = now.rule();
            }
            // A connection that failed without saying how: the probe's attempt says.
            if *symptom == Symptom::ConnectFailed
                && matches!(
                    now,
                    Symptom::ConnectTimeout | Symptom::ConnectRefused | Symptom::BannerTimeout
                )
            {
                a.rule = now.rule();
            }
            a.cleared = delivered;
        }
        None => a.cleared = delivered || fair,
    }
}

/// With no error seen: what the probes meet now, as the failure the recipient has.
fn from_probes(facts: &Facts, story: &Story) -> Option<Attribution> {
    let d = domain_probe(facts, &story.domain())?;
    if let Some(found) = dns::locate(d) {
        let mut a = Attribution::new(found.rule, found.summary);
        a.evidence = found.evidence;
        return Some(a);
    }
    let probes = d.for_recipient(&story.address);
    let symptom = smtp::met(&probes)?;
    let mut a = Attribution::new(symptom.rule(), String::new());
    if let Symptom::Spf(hint) = &symptom {
        a.rule = spf_cause(facts, *hint);
        a.evidence = spf_evidence(facts);
    }
    let text = smtp::refusal_text(&probes).unwrap_or_default();
    let explained = policy::explain(facts, &symptom, &text, "");
    if let Some(x) = &explained {
        a.rule = x.rule;
        a.evidence = x.evidence.clone();
    }
    for p in &probes {
        a.evidence.extend(smtp::evidence(p));
    }
    a.summary = match explained {
        Some(x) => x.summary,
        None => summary(a.rule, story, None, Some(d), false),
    };
    Some(a)
}

fn attribute(facts: &Facts, story: &Story, local: &transport::Local) -> Attribution {
    if let Some(seen) = story.decisive() {
        return explain(facts, story, seen);
    }
    if let Some(a) = local.explain(story) {
        return a;
    }
    if story.delay_notice && story.fate != Fate::Delivered {
        // Delayed with no remote error and no attempt to show for it: the message is still
        // waiting in this server's own queue.
        let mut a = Attribution::new(
            RuleId::TransportBacklog,
            format!(
                "A delay notice names {}, but no delivery attempt and no remote error is on record: the message waits in the sending server's own queue",
                story.address
            ),
        );
        a.evidence.push(format!(
            "notice: delayed for {}, with no remote error quoted",
            story.address
        ));
        return a;
    }
    if story.fate == Fate::Delivered {
        let mut a = Attribution::new(
            RuleId::OkDelivered,
            format!("Delivered to {} with nothing holding it up", story.address),
        );
        if let Some((at, via)) = &story.delivered {
            a.evidence.push(format!(
                "tracking log: {at} SEND {} via {via}",
                story.address
            ));
        }
        return a;
    }
    from_probes(facts, story)
        .or_else(|| live::outcome(facts, story))
        .unwrap_or_else(|| {
            Attribution::new(
                RuleId::Inconclusive,
                format!(
                    "Nothing the checker can see explains what happened to {}",
                    story.address
                ),
            )
        })
}

/// With nothing probed (a notice read on its own), only what the text supports: a DNS
/// failure the same words describe for the domain's servers, a lame delegation and the
/// sender's own resolver is the broader cause; a delay with no error named is not
/// explained — `mxlab check` is how to find out.
fn broaden(a: &mut Attribution, story: &Story) {
    match a.rule {
        RuleId::DnsServfail
        | RuleId::DnsTimeout
        | RuleId::DnsLocalResolver
        | RuleId::DnsLameDelegation => {
            a.rule = RuleId::DnsTemporaryFailure;
            a.summary = summary(a.rule, story, story.decisive(), None, a.cleared);
        }
        RuleId::TransportBacklog => {
            a.rule = RuleId::Inconclusive;
            a.summary = format!(
                "The notice says delivery to {} is delayed, but names no error behind it",
                story.address
            );
        }
        _ => {}
    }
}

/// DNS failures the probes could no longer place, for domains that have nothing to do with
/// each other: what they share is the sender's own resolver.
fn blame_local_resolver(attributions: &mut [(&Story, Attribution)]) {
    let unplaced =
        |a: &Attribution| a.cleared && matches!(a.rule, RuleId::DnsServfail | RuleId::DnsTimeout);
    let mut domains: Vec<String> = attributions
        .iter()
        .filter(|(_, a)| unplaced(a))
        .map(|(s, _)| s.domain())
        .collect();
    domains.sort();
    domains.dedup();
    // One failing name behind several domains (their shared provider's MX host) is that
    // name's DNS, not the resolver: the errors must differ, each about its own domain.
    let mut texts: Vec<&str> = attributions
        .iter()
        .filter(|(_, a)| unplaced(a))
        .filter_map(|(s, _)| s.decisive().map(|e| e.text.as_str()))
        .collect();
    texts.sort();
    texts.dedup();
    if domains.len() < 2 || texts.len() < 2 {
        return;
    }
    for (_, a) in attributions.iter_mut().filter(|(_, a)| unplaced(a)) {
        a.rule = RuleId::DnsLocalResolver;
        a.summary = format!(
            "Lookups failed for {} at the same time: the sender's own resolver or forwarder failed, not the domains — since cleared",
            domains.join(", ")
        );
    }
}

/// One sentence per cause, in the administrator's terms.
fn summary(
    rule: RuleId,
    story: &Story,
    seen: Option<&Seen>,
    probe: Option<&DomainProbe>,
    cleared: bool,
) -> String {
    let who = &story.address;
    let domain = story.domain();
    let hosts = probe
        .map(|d| {
            let mut names: Vec<String> = d
                .smtp
                .iter()
                .map(|p| format!("{} ({})", p.host, p.ip))
                .collect();
            names.dedup();
            names.join(", ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("the MX of {domain}"));
    let said = seen.map(|s| format!(": '{}'", s.text)).unwrap_or_default();
    let base = match rule {
        RuleId::SmtpConnectTimeout => {
            format!("{hosts} does not answer connections on port 25{said}")
        }
        RuleId::SmtpConnectRefused => {
            format!("{hosts} refuses connections on port 25: no SMTP server listens there{said}")
        }
        RuleId::SmtpConnectFailed => {
            format!("The sending server could not connect to {hosts}{said}")
        }
        RuleId::SmtpBannerTimeout => {
            format!("{hosts} accepts connections but never sends its 220 greeting{said}")
        }
        RuleId::SmtpDataTimeout => format!(
            "{hosts} takes the message but never confirms it within the protocol timeout{said}"
        ),
        RuleId::SmtpDataDisconnected => {
            format!("{hosts} drops the connection while the message is being sent{said}")
        }
        RuleId::SmtpRateLimited => format!(
            "The recipient's server limits connections or messages and turned the sender away{said}"
        ),
        RuleId::SmtpGreylisted if story.fate == Fate::Delivered => format!(
            "The recipient's server greylisted {who}: temporary refusals, then a retry was accepted{said}"
        ),
        RuleId::SmtpGreylisted => format!(
            "The recipient's server greylists {who}: temporary refusals, and no retry has got through yet{said}"
        ),
        RuleId::SmtpRcptMailboxFull => {
            let postmaster = probe
                .and_then(|d| {
                    d.for_recipient(who)
                        .into_iter()
                        .find(|p| smtp::domain_accepts_postmaster(p))
                })
                .is_some();
            if postmaster {
                format!(
                    "The mailbox {who} is full{said}; the domain itself accepts mail (postmaster is accepted): not a domain problem"
                )
            } else {
                format!("The mailbox {who} is full{said}")
            }
        }
        RuleId::SmtpRcptUserUnknown => {
            format!("The recipient's server says the mailbox {who} does not exist{said}")
        }
        RuleId::SmtpRelayDenied => format!(
            "The server the mail went to for {domain} refuses to relay it: it does not take mail for {domain}{said}"
        ),
        RuleId::SmtpMessageTooBig => {
            format!("The message is larger than the recipient's server accepts{said}")
        }
        RuleId::SmtpMessageHeaderLimit => {
            format!("The recipient's server rejects the message for its header size{said}")
        }
        RuleId::SmtpTlsRequired => {
            format!("The recipient's server demands STARTTLS, and the sender did not use it{said}")
        }
        RuleId::SmtpTlsCertExpired => format!(
            "{hosts}'s TLS certificate has expired; a sender that requires valid TLS will not deliver{said}"
        ),
        RuleId::SmtpTlsCertNameMismatch => {
            format!("{hosts}'s TLS certificate is for another name{said}")
        }
        RuleId::SmtpTlsCertUntrusted => {
            format!("{hosts}'s TLS certificate is not signed by a trusted authority{said}")
        }
        RuleId::SmtpPolicyRejected => {
            format!("The recipient's server refused the mail by its policy{said}")
        }
        RuleId::SmtpRcptTransient => {
            format!("The recipient's server defers {who} with a temporary refusal{said}")
        }
        RuleId::SpfFail => format!(
            "The sender's SPF policy excludes the sending IP, and the remote refuses the mail for it{said}"
        ),
        RuleId::SpfSoftfail => format!(
            "The sender's SPF policy soft-fails the sending IP, and the remote holds back such mail{said}"
        ),
        RuleId::SpfNone => format!(
            "The sender's domain publishes no SPF record, and the remote holds back mail without one{said}"
        ),
        RuleId::SpfPermerror => format!(
            "The sender's SPF record cannot be evaluated (permerror), and the remote refuses the mail{said}"
        ),
        RuleId::SpfTemperror => format!(
            "The sender's SPF cannot be looked up (temperror), and the remote defers the mail{said}"
        ),
        RuleId::DnsTemporaryFailure => format!(
            "A DNS lookup for {domain} failed for now{said}; the notice cannot say whether the domain's servers, its delegation or the sender's own resolver failed"
        ),
        RuleId::DnsServfail => format!("DNS lookups for {domain} failed{said}"),
        RuleId::DnsTimeout => format!("DNS lookups for {domain} timed out{said}"),
        RuleId::DnsMxNxdomain => format!("{domain} does not exist{said}"),
        RuleId::DnsMxMissing => {
            format!("{domain} has no MX record and no address to fall back on{said}")
        }
        RuleId::DnsMxNull => format!("{domain} publishes a null MX: it accepts no mail{said}"),
        RuleId::DnsMxTargetUnresolvable => {
            format!("{domain}'s MX points at a host with no address record{said}")
        }
        other => format!("{}{said}", crate::rules::rule(other).title),
    };
    if cleared {
        format!("{base} — since cleared")
    } else {
        base
    }
}

/// One finding per rule that explains recipients, and the observations beside them.
pub fn diagnose(facts: &Facts, stories: &[Story]) -> Diagnosis {
    let local = transport::Local::read(&facts.tracking, &facts.dsns);
    let mut attributions: Vec<(&Story, Attribution)> = stories
        .iter()
        .map(|s| {
            let mut a = attribute(facts, s, &local);
            if !facts.probed {
                broaden(&mut a, s);
            }
            (s, a)
        })
        .collect();
    blame_local_resolver(&mut attributions);

    let mut findings: Vec<(usize, &Rule, Finding)> = Vec::new();
    let mut by_rule: BTreeMap<RuleId, Vec<&(&Story, Attribution)>> = BTreeMap::new();
    for pair in &attributions {
        if !is_outcome(pair.1.rule) {
            by_rule.entry(pair.1.rule).or_default().push(pair);
        }
    }
    for (id, group) in &by_rule {
        let (order, r) = position(*id);
        findings.push((order, r, cause_finding(r, group)));
    }
    observations(facts, stories, &by_rule, &mut findings);

    let verdict = by_rule
        .iter()
        .map(|(id, group)| {
            let (order, r) = position(*id);
            (
                std::cmp::Reverse(group.len()),
                r.severity,
                order,
                *id,
                group,
            )
        })
        .min_by_key(|(count, severity, order, _, _)| (*count, *severity, *order));
    let (verdict, verdict_summary) = match verdict {
        Some((_, _, _, id, group)) => (id, verdict_summary(group)),
        None if !stories.is_empty() && stories.iter().all(|s| s.fate == Fate::Delivered) => {
            let f = outcome_finding(RuleId::OkDelivered, &attributions);
            let s = f.2.summary.clone();
            findings.push(f);
            (RuleId::OkDelivered, s)
        }
        // `check`: every recipient accepted (or its test message taken) now.
        None if !attributions.is_empty()
            && attributions
                .iter()
                .all(|(_, a)| matches!(a.rule, RuleId::OkDelivered | RuleId::OkDeliverable)) =>
        {
            let id = if attributions
                .iter()
                .all(|(_, a)| a.rule == RuleId::OkDelivered)
            {
                RuleId::OkDelivered
            } else {
                RuleId::OkDeliverable
            };
            let f = live::finding(id, &attributions);
            let s = f.2.summary.clone();
            findings.push(f);
            (id, s)
        }
        None => {
            // What could not be tested is said as such, and is no cause; what was tested and
            // explains nothing is inconclusive in its own right.
            let untested = attributions
                .iter()
                .any(|(_, a)| a.rule == RuleId::ProbeUnavailable);
            let unexplained = !untested
                || attributions
                    .iter()
                    .any(|(_, a)| a.rule == RuleId::Inconclusive);
            let mut summary = None;
            if untested {
                let f = live::finding(RuleId::ProbeUnavailable, &attributions);
                summary = Some(format!("Not tested: {}", f.2.summary));
                findings.push(f);
            }
            if unexplained {
                let f = outcome_finding(RuleId::Inconclusive, &attributions);
                summary.get_or_insert_with(|| f.2.summary.clone());
                findings.push(f);
            }
            (RuleId::Inconclusive, summary.unwrap_or_default())
        }
    };
    // By each finding's own severity: a probe-only finding may be milder than its rule.
    findings.sort_by_key(|(order, _, f)| (f.severity, *order));
    Diagnosis {
        probed: ProbeLog::of(facts),
        verdict,
        verdict_summary,
        findings: findings.into_iter().map(|(_, _, f)| f).collect(),
        recipients: attributions
            .iter()
            .map(|(s, a)| RecipientCause {
                address: s.address.clone(),
                rule: a.rule,
                summary: a.summary.clone(),
            })
            .collect(),
    }
}

/// Rules that say how things stand rather than what went wrong: never a cause.
fn is_outcome(rule: RuleId) -> bool {
    matches!(
        rule,
        RuleId::OkDelivered
            | RuleId::OkDeliverable
            | RuleId::ProbeUnavailable
            | RuleId::Inconclusive
    )
}

fn verdict_summary(group: &[&(&Story, Attribution)]) -> String {
    match group {
        [(_, a)] => a.summary.clone(),
        [(_, a), rest @ ..] => format!(
            "{} (and {} more recipient{} for the same cause)",
            a.summary,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
        [] => String::new(),
    }
}

/// Evidence lines folded: each distinct error once, with the recipients it was seen for and
/// how often; then the probes' lines, each once.
fn folded_evidence(group: &[&(&Story, Attribution)]) -> Vec<String> {
    let mut errors: Vec<(Seen, Vec<String>)> = Vec::new();
    for (story, a) in group {
        for e in &a.seen {
            match errors
                .iter_mut()
                .find(|(k, _)| k.text == e.text && k.origin == e.origin)
            {
                Some((k, who)) => {
                    k.count += e.count;
                    // Compared as times, not as text ("Thu, …" sorts before "Wed, …").
                    let time = |s: &Option<String>| s.as_deref().and_then(observe::at);
                    if k.first_at.is_none() || time(&e.first_at) < time(&k.first_at) {
                        k.first_at = e.first_at.clone().or(k.first_at.clone());
                    }
                    if time(&e.last_at) > time(&k.last_at) {
                        k.last_at = e.last_at.clone();
                    }
                    who.push(story.address.clone());
                }
                None => errors.push((e.clone(), vec![story.address.clone()])),
            }
        }
    }
    let mut out: Vec<String> = errors
        .iter()
        .map(|(e, who)| e.evidence(&recipients_phrase(who)))
        .collect();
    for (_, a) in group {
        for line in &a.evidence {
            if !out.contains(line) {
                out.push(line.clone());
            }
        }
    }
    out
}

fn recipients_phrase(who: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::new();
    for w in who {
        if !unique.contains(&w) {
            unique.push(w);
        }
    }
    match unique.len() {
        0..=3 => unique
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        n => format!("{}, {} and {} more", unique[0], unique[1], n - 2),
    }
}

fn finding(
    r: &Rule,
    summary: String,
    evidence: Vec<String>,
    recipients: Vec<String>,
    cleared: bool,
) -> Finding {
    Finding {
        rule: r.id,
        severity: r.severity,
        summary,
        evidence,
        remediation: r.remediation.iter().map(|s| s.to_string()).collect(),
        recipients,
        cleared,
    }
}

fn cause_finding(r: &Rule, group: &[&(&Story, Attribution)]) -> Finding {
    finding(
        r,
        verdict_summary(group),
        folded_evidence(group),
        group.iter().map(|(s, _)| s.address.clone()).collect(),
        group.iter().all(|(_, a)| a.cleared),
    )
}

fn outcome_finding(
    id: RuleId,
    attributions: &[(&Story, Attribution)],
) -> (usize, &'static Rule, Finding) {
    let (order, r) = position(id);
    let summary = match id {
        RuleId::OkDelivered => {
            "Every message was delivered; the remote server accepted it with 250".to_string()
        }
        _ => r.title.to_string(),
    };
    let evidence = attributions
        .iter()
        .flat_map(|(_, a)| a.evidence.iter().cloned())
        .collect();
    let recipients = attributions
        .iter()
        .map(|(s, _)| s.address.clone())
        .collect();
    (order, r, finding(r, summary, evidence, recipients, false))
}

/// Findings that explain no recipient's failure: what the notices say of themselves, how
/// mail is routed, and faults the probes meet now that no failure the admin saw shows.
fn observations(
    facts: &Facts,
    stories: &[Story],
    causes: &BTreeMap<RuleId, Vec<&(&Story, Attribution)>>,
    findings: &mut Vec<(usize, &Rule, Finding)>,
) {
    for (order, r) in RULES.iter().enumerate() {
        if r.role != Role::Observation {
            continue;
        }
        let Some(detect) = r.detect else { continue };
        if let Some(hit) = detect(facts) {
            let recipients = stories
                .iter()
                .filter(|s| hit.concerns(&s.address))
                .map(|s| s.address.clone())
                .collect();
            findings.push((
                order,
                r,
                finding(r, hit.summary, hit.evidence, recipients, false),
            ));
        }
    }
    // The sending side as receivers see it — reverse DNS, blocklists, DMARC — when no
    // refusal shows it: a warning, whatever the rule's own severity.
    let named: Vec<RuleId> = causes.keys().copied().collect();
    for (id, summary, evidence) in policy::unexplained(facts, &named) {
        let (order, r) = position(id);
        let mut f = finding(r, summary, evidence, Vec::new(), false);
        f.severity = crate::rule::Severity::Warning;
        findings.push((order, r, f));
    }
    // A fault the probes meet now, behind no failure anyone saw (the MX went down after the
    // mail was delivered): worth knowing, never the verdict.
    for d in facts.domains.iter().filter(|d| !d.resolver_silent) {
        let now = dns::locate(d)
            .map(|f| (f.rule, f.summary, f.evidence))
            .or_else(|| {
                let probes = d.to_the_door();
                let symptom = smtp::met(&probes)?;
                if !symptom.is_connection() && !matches!(symptom, Symptom::Tls(_)) {
                    return None;
                }
                let evidence = probes.iter().flat_map(|p| smtp::evidence(p)).collect();
                let story = stories
                    .iter()
                    .find(|s| s.domain() == d.domain.to_ascii_lowercase())?;
                Some((
                    symptom.rule(),
                    summary(symptom.rule(), story, None, Some(d), false),
                    evidence,
                ))
            });
        let Some((id, text, evidence)) = now else {
            continue;
        };
        // Already the cause for a recipient at this domain: nothing to add.
        let domain = d.domain.to_ascii_lowercase();
        let explained = causes
            .get(&id)
            .is_some_and(|group| group.iter().any(|(s, _)| s.domain() == domain));
        if explained {
            continue;
        }
        let note = format!("{text} (the checker's probe, now; no failure the sender saw shows it)");
        // The same fault at another domain joins that finding.
        if let Some((_, _, f)) = findings
            .iter_mut()
            .find(|(_, _, f)| f.rule == id && f.recipients.is_empty())
        {
            f.summary = format!("{}; {note}", f.summary);
            f.evidence.extend(evidence);
            continue;
        }
        let (order, r) = position(id);
        findings.push((order, r, finding(r, note, evidence, Vec::new(), false)));
    }
}

#[cfg(test)]
mod tests;
