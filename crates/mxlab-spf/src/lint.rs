//! Warnings about a published SPF tree, in the manner of checkdmarc: pure rules over a
//! [`Survey`]. Findings have the shape of the checker's (rule, severity, summary, evidence,
//! remediation) so a report can carry them as they are.

use serde::Serialize;

use crate::eval::{MAX_LOOKUPS, MAX_VOID_LOOKUPS};
use crate::survey::{Survey, TxtString};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub summary: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<String>,
}

/// A DNS character-string holds at most 255 octets (RFC 1035 §3.3).
pub const MAX_STRING: usize = 255;
/// RFC 7208 §3.4: keep a record small enough for a 512-octet UDP answer…
pub const MAX_RECORD_UDP: usize = 512;
/// …which, with the rest of the answer, means about 450 octets of record.
pub const MAX_RECORD_ADVISED: usize = 450;

fn finding(
    rule: &str,
    severity: Severity,
    summary: String,
    evidence: Vec<String>,
    remediation: &[&str],
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        summary,
        evidence,
        remediation: remediation.iter().map(|s| s.to_string()).collect(),
    }
}

/// Every warning for the surveyed tree, errors first, in a stable order.
pub fn lint(survey: &Survey) -> Vec<Finding> {
    let mut out = Vec::new();
    let top = survey.nodes.first();
    let at = |domain: &str, from: &str| {
        if from.is_empty() {
            domain.to_string()
        } else {
            format!("{domain} (reached by {from})")
        }
    };

    if let Some(top) = top
        && top.spf_records.is_empty()
        && top.problem.as_deref() == Some("no v=spf1 record")
    {
        let mut evidence: Vec<String> = survey
            .queries
            .iter()
            .filter(|q| {
                q.name.eq_ignore_ascii_case(&top.domain) && q.qtype == crate::QueryType::Txt
            })
            .map(|q| q.describe())
            .collect();
        if !survey.spf_rr.is_empty() {
            evidence.push(format!(
                "only a type 99 (SPF) record: {}",
                survey.spf_rr.join(", ")
            ));
        }
        out.push(finding(
            "spf.record.missing",
            Severity::Warning,
            format!("{} publishes no SPF record: receivers get \"none\" and cannot tell its mail from forgeries", top.domain),
            evidence,
            &["Publish one TXT record starting with \"v=spf1\" that lists the hosts allowed to send for the domain, ending in \"-all\" or \"~all\"."],
        ));
    }

    for node in &survey.nodes {
        if node.spf_records.len() > 1 {
            out.push(finding(
                "spf.record.multiple",
                Severity::Error,
                format!(
                    "{} publishes {} v=spf1 records: check_host() returns permerror (RFC 7208 §4.5)",
                    at(&node.domain, &node.from),
                    node.spf_records.len()
                ),
                node.spf_records
                    .iter()
                    .map(|strings| format!("TXT {}", quoted(strings)))
                    .collect(),
                &["Merge them into a single v=spf1 TXT record and delete the others."],
            ));
        }
        if let Some(problem) = &node.problem
            && (problem.starts_with("syntax error") || problem.contains("not ASCII"))
        {
            out.push(finding(
                "spf.record.syntax",
                Severity::Error,
                format!(
                    "the record of {} cannot be parsed: permerror (RFC 7208 §4.6)",
                    at(&node.domain, &node.from)
                ),
                vec![
                    problem.clone(),
                    format!("TXT \"{}\"", node.record.as_deref().unwrap_or("")),
                ],
                &["Correct the record; every term must follow RFC 7208's grammar, or the whole record fails."],
            ));
        }
        for strings in &node.spf_records {
            for string in strings {
                let len = string.octets;
                if len > MAX_STRING {
                    out.push(finding(
                        "spf.txt.string-too-long",
                        Severity::Warning,
                        format!(
                            "a TXT string of {} is {len} octets; a DNS character-string holds at most {MAX_STRING}",
                            node.domain
                        ),
                        vec![format!("\"{}\"", string.text)],
                        &["Split the record into several quoted strings of at most 255 octets each; they are joined without spaces."],
                    ));
                }
            }
        }
        if node.record_len > MAX_RECORD_ADVISED {
            let over_udp = node.record_len > MAX_RECORD_UDP;
            out.push(finding(
                "spf.record.too-long",
                Severity::Warning,
                if over_udp {
                    format!(
                        "the record of {} is {} octets, over the {MAX_RECORD_UDP} a plain UDP answer carries: some receivers cannot fetch it",
                        node.domain, node.record_len
                    )
                } else {
                    format!(
                        "the record of {} is {} octets, over the {MAX_RECORD_ADVISED} RFC 7208 §3.4 advises",
                        node.domain, node.record_len
                    )
                },
                vec![format!("TXT \"{}\"", node.record.as_deref().unwrap_or(""))],
                &["Shorten it: merge ip4/ip6 ranges, or move parts behind an include: of a subdomain."],
            ));
        }
        if !node.after_all.is_empty() {
            out.push(finding(
                "spf.all.not-last",
                Severity::Warning,
                format!(
                    "{} has terms after \"all\", which are never evaluated",
                    at(&node.domain, &node.from)
                ),
                vec![
                    format!("ignored: {}", node.after_all.join(" ")),
                    format!("TXT \"{}\"", node.record.as_deref().unwrap_or("")),
                ],
                &["Move \"all\" to the end of the record; a redirect= only applies when there is no \"all\"."],
            ));
        }
        if !node.ptr_terms.is_empty() {
            out.push(finding(
                "spf.ptr.used",
                Severity::Warning,
                format!(
                    "{} uses ptr, which RFC 7208 §5.5 says not to use: it is slow, unreliable and some receivers skip it",
                    at(&node.domain, &node.from)
                ),
                node.ptr_terms.clone(),
                &["Replace ptr with ip4:/ip6: ranges or a: names of the sending hosts."],
            ));
        }
    }

    if survey.lookups > MAX_LOOKUPS {
        out.push(finding(
            "spf.lookups.too-many",
            Severity::Error,
            format!(
                "the SPF tree of {} has {} DNS-querying terms; a check that reaches the {}th returns permerror (RFC 7208 §4.6.4)",
                survey.domain,
                survey.lookups,
                MAX_LOOKUPS + 1
            ),
            survey
                .nodes
                .iter()
                .filter(|n| n.lookup_terms > 0)
                .map(|n| format!("{}: {} lookup terms", at(&n.domain, &n.from), n.lookup_terms))
                .collect(),
            &[
                "Replace include:, a and mx terms with the ip4:/ip6: ranges they stand for, or drop includes of services no longer used.",
                "Keep the total of include, a, mx, ptr, exists and redirect across all included records at 10 or fewer.",
            ],
        ));
    }
    if survey.void_lookups.len() > MAX_VOID_LOOKUPS as usize {
        out.push(finding(
            "spf.void-lookups.too-many",
            Severity::Error,
            format!(
                "the SPF tree of {} has {} terms whose lookup finds nothing; a check that reaches the {}th returns permerror (RFC 7208 §4.6.4)",
                survey.domain,
                survey.void_lookups.len(),
                MAX_VOID_LOOKUPS + 1
            ),
            survey.void_lookups.clone(),
            &["Remove terms that name hosts or domains that no longer exist."],
        ));
    } else if !survey.void_lookups.is_empty() {
        out.push(finding(
            "spf.void-lookups",
            Severity::Info,
            format!(
                "{} term(s) in the SPF tree of {} look up names that do not exist (the limit is {MAX_VOID_LOOKUPS})",
                survey.void_lookups.len(),
                survey.domain
            ),
            survey.void_lookups.clone(),
            &["Remove terms that name hosts or domains that no longer exist."],
        ));
    }
    if !survey.loops.is_empty() {
        out.push(finding(
            "spf.include.loop",
            Severity::Error,
            format!(
                "the SPF tree of {} includes itself: an evaluation that reaches the loop runs out of lookups and returns permerror",
                survey.domain
            ),
            survey.loops.clone(),
            &["Remove the include or redirect that points back up the tree."],
        ));
    }
    if !survey.spf_rr.is_empty() {
        out.push(finding(
            "spf.rr.type-99",
            Severity::Warning,
            format!(
                "{} still publishes the SPF resource record type (99), which RFC 7208 §3.1 removed; receivers only read TXT",
                survey.domain
            ),
            survey.spf_rr.iter().map(|r| format!("SPF \"{r}\"")).collect(),
            &["Delete the type 99 record and keep the same policy in a TXT record."],
        ));
    }
    if !survey.gaps.is_empty() {
        out.push(finding(
            "spf.survey.incomplete",
            Severity::Info,
            format!(
                "parts of the SPF tree of {} could not be examined",
                survey.domain
            ),
            survey.gaps.clone(),
            &["Check again when the DNS answers; these parts were not linted."],
        ));
    }
    out.sort_by_key(|f| f.severity);
    out
}

fn quoted(strings: &[TxtString]) -> String {
    strings
        .iter()
        .map(|s| format!("\"{}\"", s.text))
        .collect::<Vec<_>>()
        .join(" ")
}
