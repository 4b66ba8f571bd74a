//! Does a report match its scenario's `expect`? Pure: report and expectations in, one result
//! per expectation out.

use mxlab_checker::report::{ExpectationResult, Report};
use mxlab_scenario::model::{ArtifactExpect, ArtifactKind, Expect, RecipientExpect};
use mxlab_vocab::RuleId;

fn texts(report: &Report, kind: ArtifactKind) -> Vec<&str> {
    let a = &report.artifacts;
    let nonempty = |s: &str| !s.trim().is_empty();
    match kind {
        ArtifactKind::Dsn => a.dsn.iter().map(String::as_str).collect(),
        ArtifactKind::Ndr => a.ndr.iter().map(String::as_str).collect(),
        ArtifactKind::Transcript => a.transcript.iter().map(String::as_str).collect(),
        ArtifactKind::DnsLog => Some(a.dns_log.as_str())
            .filter(|s| nonempty(s))
            .into_iter()
            .collect(),
        ArtifactKind::Queue => a.queue.as_deref().into_iter().collect(),
        ArtifactKind::TrackingLog => a.tracking_log.as_deref().into_iter().collect(),
    }
}

fn describe(x: &ArtifactExpect) -> String {
    let which = match x.index {
        Some(i) => format!("{}[{i}]", x.artifact.as_str()),
        None => x.artifact.as_str().to_string(),
    };
    let what = match (&x.contains, &x.matches) {
        (Some(c), _) => format!("contains {c:?}"),
        (None, Some(m)) => format!("matches /{}/", m.0.as_str()),
        (None, None) => "exists".to_string(),
    };
    if x.absent {
        format!("{which} not {what}")
    } else {
        format!("{which} {what}")
    }
}

fn check_artifact(report: &Report, x: &ArtifactExpect) -> ExpectationResult {
    let all = texts(report, x.artifact);
    let candidates: Vec<&str> = match x.index {
        Some(i) => all.get(i).copied().into_iter().collect(),
        None => all.clone(),
    };
    let hit = |t: &str| match (&x.contains, &x.matches) {
        (Some(c), _) => t.contains(c.as_str()),
        (None, Some(m)) => m.0.is_match(t),
        (None, None) => true,
    };
    let found = candidates.iter().any(|t| hit(t));
    let ok = found != x.absent;
    let detail = match (ok, x.absent, all.len()) {
        (true, _, _) => String::new(),
        (false, true, _) => "it does".to_string(),
        (false, false, 0) => format!("there is no {}", x.artifact.as_str()),
        (false, false, n) if x.index.is_some_and(|i| i >= n) => format!("there are only {n}"),
        (false, false, _) => "not found".to_string(),
    };
    ExpectationResult {
        expect: describe(x),
        ok,
        detail,
    }
}

fn check_recipient(report: &Report, x: &RecipientExpect) -> ExpectationResult {
    let got = report
        .recipients
        .iter()
        .find(|r| r.address.eq_ignore_ascii_case(&x.address))
        .map(|r| r.cause.rule);
    ExpectationResult {
        expect: format!("recipient {} cause {}", x.address, x.cause),
        ok: got == Some(x.cause),
        detail: match got {
            Some(rule) if rule == x.cause => String::new(),
            Some(rule) => format!("got {rule}"),
            None => "no such recipient in the report".into(),
        },
    }
}

pub fn check(report: &Report, expect: &Expect) -> Vec<ExpectationResult> {
    let mut results = vec![ExpectationResult {
        expect: format!("verdict {}", expect.verdict),
        ok: report.verdict.rule == expect.verdict,
        detail: if report.verdict.rule == expect.verdict {
            String::new()
        } else {
            format!("got {}", report.verdict.rule)
        },
    }];
    let fired: Vec<RuleId> = report.findings.iter().map(|f| f.rule).collect();
    for id in &expect.findings {
        let ok = fired.contains(id);
        results.push(ExpectationResult {
            expect: format!("finding {id}"),
            ok,
            detail: if ok {
                String::new()
            } else {
                "not among the findings".into()
            },
        });
    }
    if expect.exact_findings {
        let extra: Vec<&str> = fired
            .iter()
            .copied()
            .filter(|f| *f != expect.verdict && !expect.findings.contains(f))
            .map(RuleId::as_str)
            .collect();
        results.push(ExpectationResult {
            expect: "no other findings".into(),
            ok: extra.is_empty(),
            detail: if extra.is_empty() {
                String::new()
            } else {
                format!("also: {}", extra.join(", "))
            },
        });
    }
    results.extend(expect.recipients.iter().map(|x| check_recipient(report, x)));
    results.extend(expect.artifacts.iter().map(|x| check_artifact(report, x)));
    results
}
