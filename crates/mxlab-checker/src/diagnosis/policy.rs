//! Receiver policies about the sending side — DNS blocklists, reverse DNS, DMARC — in the
//! diagnosis. A refusal that names one is a cause, named and shown with what the checker's
//! own lookups find now (the zone's A and TXT answers, the PTR and its forward lookup, the
//! DMARC record with the SPF result and its alignment); what those lookups find with no
//! refusal to explain is a warning, since other receivers will act on it.

use mxlab_policy::dmarc::Found;
use mxlab_policy::dnsbl::{Listing, Lookup as ZoneLookup};
use mxlab_policy::rdns::Lookup as PtrLookup;
use mxlab_vocab::{DmarcDisposition, ReverseDns, RuleId};

use super::classify::{Symptom, classify};
use crate::facts::Facts;
use crate::probe::policy::DmarcProbe;

/// The blocklist zones a refusal names ("blocked using zen.spamhaus.org", "listed in
/// bl.spamcop.net", "is in a black list at …"): names after those words, in the text's order.
pub fn zones_named(text: &str) -> Vec<String> {
    if classify(text) != Symptom::Blocklisted {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut zones: Vec<String> = Vec::new();
    for pair in words.windows(2) {
        if !["using", "in", "on", "at", "by"].contains(&pair[0]) {
            continue;
        }
        let name = pair[1].trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let looks_like_zone = name.contains('.')
            && name.split('.').count() >= 2
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && name.split('.').all(|l| !l.is_empty())
            && name.parse::<std::net::IpAddr>().is_err()
            && !name
                .split('.')
                .all(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if looks_like_zone && !zones.iter().any(|z| z == name) {
            zones.push(name.to_string());
        }
    }
    zones
}

/// A receiver-policy cause, as the probes show it.
pub struct Explained {
    pub rule: RuleId,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The probes find the condition gone now (delisted, a PTR that resolves, DMARC passing).
    pub gone: bool,
}

fn ip_of(facts: &Facts) -> String {
    facts
        .reverse_dns
        .as_ref()
        .map(|l| l.ip.to_string())
        .or_else(|| facts.dnsbl.first().map(|l| l.ip.to_string()))
        .unwrap_or_else(|| "the sending IP".into())
}

pub fn dnsbl_evidence(lookups: &[&ZoneLookup]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lookups {
        out.push(format!("dnsbl: {}", l.a));
        if let Some(txt) = &l.txt {
            out.push(format!("dnsbl: {txt}"));
        }
        let meaning = match &l.listing {
            Listing::Listed { .. } => format!("{} lists {}", l.zone, l.ip),
            Listing::NotListed => format!("{} does not list {}", l.zone, l.ip),
            Listing::QueryRefused { .. } => {
                format!(
                    "{} refused to answer (an error code, not a listing)",
                    l.zone
                )
            }
            Listing::Unknown(why) => format!("{} could not be asked: {why}", l.zone),
        };
        out.push(format!("dnsbl: {meaning}"));
    }
    out
}

pub fn reverse_dns_evidence(l: &PtrLookup) -> Vec<String> {
    let mut out = vec![format!("reverse dns: {}", l.ptr)];
    out.extend(l.forward.iter().map(|f| format!("reverse dns: {f}")));
    let meaning = match l.result {
        ReverseDns::Confirmed => format!(
            "{} → {} → {}: forward-confirmed",
            l.ip,
            l.confirmed_name().unwrap_or_default(),
            l.ip
        ),
        ReverseDns::Missing => format!("{} has no PTR record", l.ip),
        ReverseDns::Mismatch => format!(
            "{} → {}: no name resolves back to {}",
            l.ip,
            l.names.join(", "),
            l.ip
        ),
        ReverseDns::TempError => format!("{}'s reverse DNS could not be looked up now", l.ip),
    };
    out.push(format!("reverse dns: {meaning}"));
    out
}

pub fn dmarc_evidence(p: &DmarcProbe) -> Vec<String> {
    let mut out: Vec<String> = p
        .discovery
        .lookups
        .iter()
        .map(|x| format!("dmarc: {x}"))
        .collect();
    let e = &p.evaluation;
    let record = match &p.discovery.found {
        Found::Record { at, record, .. } => {
            let applies = if e.from_domain == *at {
                "p"
            } else {
                "sp (a subdomain)"
            };
            format!(
                "dmarc: policy for {}: {} (by {applies}, found at _dmarc.{at}), pct={}",
                e.from_domain,
                e.policy.map_or("none", |p| p.as_str()),
                record.pct
            )
        }
        Found::Nothing => format!("dmarc: {} publishes no DMARC record", e.from_domain),
        Found::Unusable { at, why, .. } => {
            format!("dmarc: the record at _dmarc.{at} cannot be used: {why}")
        }
        Found::Several { at } => {
            format!("dmarc: several DMARC records at _dmarc.{at}: no policy applies")
        }
        Found::TempError { name, status } => {
            format!("dmarc: {name} could not be looked up: {status}")
        }
    };
    out.push(record);
    out.push(format!(
        "dmarc: SPF {} for {} ({} alignment with {}: {}); DKIM is not checked",
        e.spf,
        e.spf_domain,
        e.aspf.as_str(),
        e.from_domain,
        if e.spf_aligned {
            "aligned"
        } else {
            "not aligned"
        }
    ));
    out.push(format!("dmarc: disposition {}", e.disposition));
    out
}

/// The zones a refusal is about: those it names, else every zone the probe was given.
fn zones_for<'a>(facts: &'a Facts, text: &str) -> Vec<&'a ZoneLookup> {
    let named = zones_named(text);
    if named.is_empty() {
        return facts.dnsbl.iter().collect();
    }
    facts
        .dnsbl
        .iter()
        .filter(|l| named.contains(&l.zone))
        .collect()
}

fn blocklisted(facts: &Facts, text: &str, said: &str) -> Explained {
    let ip = ip_of(facts);
    let zones = zones_for(facts, text);
    let listed: Vec<&&ZoneLookup> = zones
        .iter()
        .filter(|l| matches!(l.listing, Listing::Listed { .. }))
        .collect();
    let summary = match (listed.first(), zones.is_empty()) {
        (Some(l), _) => {
            let reason = match &l.listing {
                Listing::Listed {
                    reason: Some(r), ..
                } => format!(" (\"{r}\")"),
                _ => String::new(),
            };
            format!(
                "The sending IP {ip} is listed on {}{reason}, and the recipient's server refuses mail from listed IPs{said}",
                l.zone
            )
        }
        (None, true) => format!(
            "The recipient's server refuses the sending IP {ip} for its reputation: it is on a blocklist (the receiver's own, or one the text does not name){said}"
        ),
        (None, false) => format!(
            "The recipient's server refused the sending IP {ip} for a blocklist listing{said}; {} does not list it now",
            zones
                .iter()
                .map(|z| z.zone.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let gone = !zones.is_empty()
        && zones
            .iter()
            .all(|l| matches!(l.listing, Listing::NotListed));
    Explained {
        rule: RuleId::SenderBlocklisted,
        summary,
        evidence: dnsbl_evidence(&zones),
        gone,
    }
}

fn reverse_dns(facts: &Facts, hint: Option<ReverseDns>, said: &str) -> Explained {
    let ip = ip_of(facts);
    let now = facts.reverse_dns.as_ref();
    let seen = match now.map(|l| l.result) {
        Some(r @ (ReverseDns::Missing | ReverseDns::Mismatch)) => r,
        _ => hint.unwrap_or(ReverseDns::Missing),
    };
    let gone = now.is_some_and(|l| l.result == ReverseDns::Confirmed);
    let rule = match seen {
        ReverseDns::Mismatch => RuleId::SenderPtrMismatch,
        _ => RuleId::SenderPtrMissing,
    };
    let mut summary = match (rule, now) {
        (RuleId::SenderPtrMismatch, Some(l)) if !l.names.is_empty() && !gone => format!(
            "The sending IP {ip} has a PTR ({}), but that name does not resolve back to {ip}, and the recipient's server requires forward-confirmed reverse DNS{said}",
            l.names.join(", ")
        ),
        (RuleId::SenderPtrMismatch, _) => format!(
            "The sending IP {ip}'s reverse DNS does not resolve back to it, and the recipient's server requires forward-confirmed reverse DNS{said}"
        ),
        _ => format!(
            "The sending IP {ip} has no PTR record (reverse DNS), and the recipient's server requires one{said}"
        ),
    };
    if gone && let Some(name) = now.and_then(|l| l.confirmed_name()) {
        summary.push_str(&format!("; it resolves now ({ip} → {name})"));
    }
    Explained {
        rule,
        summary,
        evidence: now.map(reverse_dns_evidence).unwrap_or_default(),
        gone,
    }
}

/// A DMARC refusal; `None` when the text does not say DMARC (a bare 5.7.26) and the sender
/// domain publishes no policy either: then it is about SPF.
fn dmarc(facts: &Facts, text: &str, said: &str) -> Option<Explained> {
    let probe = facts.dmarc.as_ref();
    let has_policy = probe.is_some_and(|p| matches!(p.discovery.found, Found::Record { .. }));
    let says_dmarc = text.to_ascii_lowercase().contains("dmarc");
    if !has_policy && !says_dmarc {
        return None;
    }
    let gone = probe.is_some_and(|p| {
        matches!(
            p.evaluation.disposition,
            DmarcDisposition::Pass | DmarcDisposition::None
        )
    });
    let summary = match probe.map(|p| &p.evaluation) {
        Some(e) if !gone => format!(
            "{} publishes a DMARC policy of {}, and its mail is not authenticated: SPF {} for {}{}; the recipient's server applies the policy{said}",
            e.from_domain,
            e.policy.map_or("none", |p| p.as_str()),
            e.spf,
            e.spf_domain,
            if e.spf == mxlab_vocab::SpfResult::Pass && !e.spf_aligned {
                " but not aligned with the From domain"
            } else {
                ""
            }
        ),
        Some(e) => format!(
            "The recipient's server refused the mail by {}'s DMARC policy{said}; DMARC {} for it now",
            e.from_domain,
            if e.disposition == DmarcDisposition::Pass {
                "passes"
            } else {
                "asks for no action"
            }
        ),
        None => format!(
            "The recipient's server refused the mail by the sender domain's DMARC policy{said}"
        ),
    };
    let mut evidence = probe.map(dmarc_evidence).unwrap_or_default();
    if let Some(trace) = &facts.spf {
        evidence.extend(
            mxlab_spf::render::summary(trace)
                .into_iter()
                .map(|l| format!("spf: {l}")),
        );
    }
    Some(Explained {
        rule: RuleId::DmarcReject,
        summary,
        evidence,
        gone,
    })
}

/// The receiver-policy cause of a refusal with this symptom; `None` for other symptoms (and
/// a bare 5.7.26 from a domain without DMARC). `said` is `: '<the text>'` or empty.
pub fn explain(facts: &Facts, symptom: &Symptom, text: &str, said: &str) -> Option<Explained> {
    match symptom {
        Symptom::Blocklisted => Some(blocklisted(facts, text, said)),
        Symptom::ReverseDns(hint) => Some(reverse_dns(facts, *hint, said)),
        Symptom::Dmarc => dmarc(facts, text, said),
        _ => None,
    }
}

/// What the lookups find with no refusal to explain: the sending IP without (confirmed)
/// reverse DNS, on a blocklist the probe asked, or a DMARC policy of reject the mail does not
/// pass. Those the causes already name are left out.
pub fn unexplained(facts: &Facts, named: &[RuleId]) -> Vec<(RuleId, String, Vec<String>)> {
    let mut out = Vec::new();
    let note = "(the checker's probe; no refusal the sender saw shows it)";
    if let Some(l) = &facts.reverse_dns {
        let rule = match l.result {
            ReverseDns::Missing => Some(RuleId::SenderPtrMissing),
            ReverseDns::Mismatch => Some(RuleId::SenderPtrMismatch),
            _ => None,
        };
        if let Some(rule) = rule.filter(|r| !named.contains(r)) {
            let what = if rule == RuleId::SenderPtrMissing {
                format!("The sending IP {} has no PTR record", l.ip)
            } else {
                format!(
                    "The sending IP {}'s PTR ({}) does not resolve back to it",
                    l.ip,
                    l.names.join(", ")
                )
            };
            out.push((
                rule,
                format!("{what}: receivers that require reverse DNS will defer or refuse its mail {note}"),
                reverse_dns_evidence(l),
            ));
        }
    }
    if !named.contains(&RuleId::SenderBlocklisted) {
        let listed: Vec<&ZoneLookup> = facts
            .dnsbl
            .iter()
            .filter(|l| matches!(l.listing, Listing::Listed { .. }))
            .collect();
        if let Some(first) = listed.first() {
            out.push((
                RuleId::SenderBlocklisted,
                format!(
                    "The sending IP {} is listed on {}: receivers that use it will refuse its mail {note}",
                    first.ip,
                    listed.iter().map(|l| l.zone.as_str()).collect::<Vec<_>>().join(", ")
                ),
                dnsbl_evidence(&listed),
            ));
        }
    }
    if let Some(p) = &facts.dmarc
        && p.evaluation.disposition == DmarcDisposition::Reject
        && !named.contains(&RuleId::DmarcReject)
    {
        out.push((
            RuleId::DmarcReject,
            format!(
                "{} publishes a DMARC policy of reject and its mail from this IP does not pass it (SPF {}, {}): receivers that enforce DMARC will refuse it {note}",
                p.evaluation.from_domain,
                p.evaluation.spf,
                if p.evaluation.spf_aligned { "aligned" } else { "not aligned" }
            ),
            dmarc_evidence(p),
        ));
    }
    out
}

/// The `dmarc.quarantine` observation: the sender domain's policy sends its unauthenticated
/// mail to junk folders — delivered, but unseen.
pub fn quarantine(facts: &Facts) -> Option<crate::rule::Hit> {
    let p = facts.dmarc.as_ref()?;
    if p.evaluation.disposition != DmarcDisposition::Quarantine {
        return None;
    }
    let pct = match &p.discovery.found {
        Found::Record { record, .. } if record.pct < 100 => {
            format!(" ({}% of it, by its pct)", record.pct)
        }
        _ => String::new(),
    };
    Some(crate::rule::Hit {
        summary: format!(
            "{} publishes a DMARC policy of quarantine and its mail does not pass it (SPF {} for {}, {}): receivers that enforce DMARC put it in junk folders{pct}",
            p.evaluation.from_domain,
            p.evaluation.spf,
            p.evaluation.spf_domain,
            if p.evaluation.spf_aligned {
                "aligned"
            } else {
                "not aligned"
            }
        ),
        evidence: dmarc_evidence(p),
        recipients: facts.recipients.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_a_refusal_names() {
        assert_eq!(
            zones_named(
                "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1"
            ),
            ["zen.spamhaus.org"]
        );
        assert_eq!(
            zones_named("550 Rejected because 192.0.2.1 is in a black list at bl.spamcop.net"),
            ["bl.spamcop.net"]
        );
        assert!(
            zones_named("554 Service unavailable; Client host [mx.example.com] blocked using Barracuda Reputation")
                .is_empty()
        );
        // Not a blocklist refusal: no zones at all.
        assert!(zones_named("550 5.1.1 unknown user in example.com").is_empty());
    }
}
