//! What `mxlab check spf` reports: the MAIL FROM verdict, the HELO result when there is one,
//! the lint, the traces and the survey — as JSON in the spirit of the checker's `schema: 1`
//! report (verdict, findings with severity, evidence and remediation), and as text.

use std::net::IpAddr;

use serde::Serialize;

use crate::eval::{Request, check_host};
use crate::lint::{Finding, Severity, lint};
use crate::render;
use crate::resolver::SpfResolver;
use crate::result::SpfResult;
use crate::survey::{Survey, survey};
use crate::trace::Trace;

pub const SCHEMA: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    /// Always "spf": tells this object from a scenario report.
    pub check: String,
    /// The DNS server asked, when the caller names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<String>,
    pub verdict: Verdict,
    /// The result's own finding first (and HELO's), then the lint, errors first.
    pub findings: Vec<Finding>,
    /// The MAIL FROM identity's evaluation.
    pub trace: Trace,
    /// The HELO identity's evaluation, when it was a different question.
    pub helo: Option<Trace>,
    pub survey: Survey,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub rule: String,
    pub summary: String,
}

/// Checks MAIL FROM (and HELO, when it is given and not already what MAIL FROM falls back to),
/// surveys the MAIL FROM domain's tree and lints it.
pub async fn check<R: SpfResolver + Sync>(
    resolver: &R,
    ip: IpAddr,
    mail_from: &str,
    helo: &str,
    timestamp: u64,
) -> Report {
    let mut request = Request::mail_from(ip, mail_from, helo);
    request.timestamp = timestamp;
    let trace = check_host(resolver, &request).await;
    let helo_trace = if !helo.is_empty() && !mail_from.is_empty() {
        let mut request = Request::helo(ip, helo);
        request.timestamp = timestamp;
        Some(check_host(resolver, &request).await)
    } else {
        None
    };
    let survey = survey(resolver, &trace.domain).await;
    Report::new(trace, helo_trace, survey)
}

impl Report {
    pub fn new(trace: Trace, helo: Option<Trace>, survey: Survey) -> Report {
        let mut findings = vec![result_finding(&trace, "spf")];
        if let Some(helo) = &helo {
            findings.push(result_finding(helo, "spf.helo"));
        }
        findings.extend(lint(&survey));
        Report {
            schema: SCHEMA,
            check: "spf".into(),
            dns: None,
            verdict: Verdict {
                rule: format!("spf.{}", trace.result),
                summary: findings[0].summary.clone(),
            },
            findings,
            trace,
            helo,
            survey,
        }
    }

    /// Whether anything of error severity was found (the CLI's exit code 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings that come from the lint, not from a result.
    pub fn lint(&self) -> &[Finding] {
        let results = 1 + usize::from(self.helo.is_some());
        &self.findings[results.min(self.findings.len())..]
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut w = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        if let Some(dns) = &self.dns {
            w(format!("dns      {dns}"));
            w(String::new());
        }
        for trace in std::iter::once(&self.trace).chain(self.helo.iter()) {
            let mut summary = render::summary(trace).into_iter();
            if let Some(first) = summary.next() {
                w(format!("spf      {first}"));
            }
            for line in summary {
                w(format!("         {line}"));
            }
            w(String::new());
            w("trace".into());
            for line in render::trace_lines(trace) {
                w(format!("  {line}"));
            }
            w(String::new());
        }
        w("lint".into());
        let lint = self.lint();
        if lint.is_empty() {
            w(format!(
                "  nothing to report ({} DNS-querying terms in the tree of {})",
                self.survey.lookups, self.survey.domain
            ));
        }
        for f in lint {
            w(format!("  {:<7}  {}", f.severity.as_str(), f.rule));
            w(format!("           {}", f.summary));
            for e in &f.evidence {
                w(format!("           · {e}"));
            }
            for r in &f.remediation {
                w(format!("           → {r}"));
            }
        }
        out
    }
}

fn result_severity(result: SpfResult) -> Severity {
    match result {
        SpfResult::Pass | SpfResult::Neutral => Severity::Info,
        SpfResult::None | SpfResult::SoftFail => Severity::Warning,
        SpfResult::Fail | SpfResult::PermError | SpfResult::TempError => Severity::Error,
    }
}

fn result_remediation(result: SpfResult) -> &'static [&'static str] {
    match result {
        SpfResult::Fail | SpfResult::SoftFail => &[
            "If this IP is a legitimate sender for the domain, add it to the domain's SPF record (ip4:/ip6:, or an include: of the sending service).",
            "If it is not, the receiver is right to reject or mark the mail.",
        ],
        SpfResult::PermError => {
            &["Fix the published record: the trace names the term or limit that broke it."]
        }
        SpfResult::TempError => &[
            "A DNS server did not answer properly; the trace names the query. Check the domain's name servers, then try again.",
        ],
        SpfResult::None => &[
            "Publish a v=spf1 TXT record for the domain so receivers can tell its mail from forgeries.",
        ],
        SpfResult::Neutral | SpfResult::Pass => &[],
    }
}

fn result_finding(trace: &Trace, prefix: &str) -> Finding {
    let mut evidence: Vec<String> = render::summary(trace).into_iter().skip(1).collect();
    evidence.extend(render::trace_lines(trace));
    Finding {
        rule: format!("{prefix}.{}", trace.result),
        severity: result_severity(trace.result),
        summary: format!(
            "SPF {} for {} from {} ({} identity): {}",
            trace.result,
            trace.sender,
            trace.ip,
            trace.identity.as_str(),
            trace.reason
        ),
        evidence,
        remediation: result_remediation(trace.result)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}
