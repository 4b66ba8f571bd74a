//! Every catalog story's notices, read by `explain` on their own, name the story's verdict —
//! or, for the stories listed here with the reason, the broader cause the notice supports.
//! Stories that produce no notice are listed as such.

use mxlab_checker::explain::explain;
use mxlab_vocab::RuleId;

/// Stories whose notice can only support a broader cause than the one `run` names with its
/// probes and the tracking log.
const BROADER: &[(&str, RuleId, &str)] = &[
    (
        "dns-servfail",
        RuleId::DnsTemporaryFailure,
        "the notice's SERVFAIL is written alike for the domain's servers, a lame delegation and the sender's resolver",
    ),
    (
        "dns-timeout",
        RuleId::DnsTemporaryFailure,
        "a DNS timeout reads the same whether the domain's servers or the sender's resolver are silent",
    ),
    (
        "local-dns-failure",
        RuleId::DnsTemporaryFailure,
        "only a look at the sender's resolver beside a walk from the root tells the local resolver from the target",
    ),
    (
        "lame-delegation",
        RuleId::DnsTemporaryFailure,
        "only a walk from the root shows the delegation is lame",
    ),
    (
        "banner-timeout",
        RuleId::SmtpDataTimeout,
        "Exchange's \"Connection dropped due to TimedOut\" names no stage; the tracking log's times tell a greeting never sent from data never confirmed, and a notice alone is read as the commoner data timeout",
    ),
    (
        "ptr-mismatch",
        RuleId::SenderPtrMissing,
        "\"cannot find your hostname\" is written alike for a missing PTR and one that does not resolve back; only the lookups of the sending IP tell them apart, and a notice alone is read as the commoner missing PTR",
    ),
    (
        "local-backlog",
        RuleId::Inconclusive,
        "the delay notice names no error: that nothing was attempted is in the tracking log, not the notice",
    ),
    (
        "shadow-redundancy",
        RuleId::Inconclusive,
        "the delay notice names no error: the shadow copy is in the queue and tracking log, not the notice",
    ),
];

/// Stories that deliver (or only delay and then deliver) without any notice.
const NO_NOTICE: &[&str] = &[
    "backup-mx",
    "dmarc-quarantine",
    "greylisting",
    "healthy",
    "implicit-mx",
    "rate-limited",
    "starttls",
];

#[test]
fn every_storys_notices_explain_to_its_verdict_or_the_broader_cause() {
    let mut silent = Vec::new();
    let mut wrong = Vec::new();
    for name in mxlab_scenario::catalog::names() {
        let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
        let report = mxlab_harness::run(&scenario).unwrap();
        let notices: Vec<&String> = report
            .artifacts
            .dsn
            .iter()
            .chain(&report.artifacts.ndr)
            .collect();
        if notices.is_empty() {
            silent.push(name);
            continue;
        }
        let want = BROADER
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(report.verdict.rule, |(_, rule, _)| *rule);
        // The story's verdict must come from at least one of its notices (a delay notice
        // may come before the cause is clear; the NDR then names it), and no notice may name
        // another error-severity cause than the story's.
        let got: Vec<RuleId> = notices
            .iter()
            .map(|n| explain(n.as_bytes(), name).map_or(RuleId::Inconclusive, |r| r.verdict.rule))
            .collect();
        if !got.contains(&want) {
            wrong.push(format!("{name}: notices say {got:?}, expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(silent, NO_NOTICE, "the stories that produce no notice");
}
