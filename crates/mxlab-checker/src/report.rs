//! The diagnosis report: the JSON contract of docs/CLI.md (`schema: 1`) and its text form.
//! Fields are only ever added.

use mxlab_vocab::{Lang, Reason, RuleId};
use serde::Serialize;

use crate::rule::Finding;
use crate::words::{self, Heading};

pub const SCHEMA: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    /// `mxlab explain`: the file the notice was read from (`file`, or `file#n` for the n-th
    /// message of an mbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub scenario: Option<String>,
    /// Added in schema 1: the scenario's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub passed: Option<bool>,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub recipients: Vec<RecipientReport>,
    pub timeline: Vec<TimelineEntry>,
    pub artifacts: ArtifactsReport,
    /// Added in schema 1: each expectation of a scenario run and whether it held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<ExpectationResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub rule: RuleId,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecipientReport {
    pub address: String,
    /// delivered | delayed | failed | expired
    pub outcome: String,
    pub status: String,
    pub diagnostic: String,
    pub remote_mta: String,
    /// The rule that explains this recipient's failure or delay; `ok.delivered` only when
    /// nothing held it up.
    pub cause: Verdict,
    /// What the notice says of this recipient, where a notice was read (`explain`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub notice: Option<NoticeDetail>,
}

/// A recipient as a notice describes it; each field null when the notice does not say.
#[derive(Clone, Debug, Serialize)]
pub struct NoticeDetail {
    pub reason: Reason,
    pub reply_code: Option<u16>,
    /// An SMTP stage, `dns` or `queue`.
    pub phase: Option<String>,
    pub reporting_mta: Option<String>,
    pub original_recipient: Option<String>,
    /// RFC 3339, with the notice's own offset.
    pub arrival_date: Option<String>,
    pub last_attempt_date: Option<String>,
    pub will_retry_until: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    pub at: String,
    pub event: String,
    pub detail: String,
    /// What makes two entries alike for folding: the detail without what differs between
    /// repeats (an attempt's number). Not part of the JSON.
    #[serde(skip)]
    pub alike: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ArtifactsReport {
    pub dsn: Vec<String>,
    pub ndr: Vec<String>,
    pub transcript: Vec<String>,
    pub dns_log: String,
    pub queue: Option<String>,
    pub tracking_log: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpectationResult {
    pub expect: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Report {
    /// The human form in English. Repeated attempts with the same result are folded into one
    /// line.
    pub fn to_text(&self) -> String {
        self.to_text_in(Lang::En)
    }

    /// The human form in `lang`: the headings and labels in that language; the summaries and
    /// remediation are whatever the report holds (see [`Report::localized`]).
    pub fn to_text_in(&self, lang: Lang) -> String {
        let mut out = String::new();
        let mut w = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        if let Some(source) = &self.source {
            w(source.clone());
        }
        match (&self.scenario, &self.title) {
            (Some(name), Some(title)) => w(format!("{name} — {title}")),
            (Some(name), None) => w(name.clone()),
            _ => {}
        }
        // The label column is as wide as the English "verdict  ".
        let verdict = words::pad(Heading::Verdict.say(lang), 7);
        w(String::new());
        w(format!("{verdict}  {}", self.verdict.rule));
        w(format!("         {}", self.verdict.summary));
        w(String::new());
        w(Heading::Findings.say(lang).into());
        for f in &self.findings {
            w(format!(
                "  {}  {}",
                words::pad(words::severity(f.severity, lang), 7),
                f.rule
            ));
            w(format!("           {}", f.summary));
            if !f.recipients.is_empty() {
                w(format!(
                    "           {}",
                    words::for_whom(&f.recipients.join(", "), f.cleared, lang)
                ));
            }
            for e in &f.evidence {
                w(format!("           · {e}"));
            }
            for r in &f.remediation {
                w(format!("           → {r}"));
            }
        }
        if !self.recipients.is_empty() {
            w(String::new());
            w(Heading::Recipients.say(lang).into());
            for r in &self.recipients {
                w(format!(
                    "  {}  {}  {}  {}",
                    r.address, r.outcome, r.status, r.diagnostic
                ));
                let reason = r.notice.as_ref().map(|n| n.reason.to_string());
                w(format!(
                    "      {}",
                    words::cause(&r.cause.rule.to_string(), reason.as_deref(), lang)
                ));
            }
        }
        if !self.timeline.is_empty() {
            w(String::new());
            w(Heading::Timeline.say(lang).into());
            let kind = |e: &TimelineEntry| words::pad(words::event(&e.event, lang), 10);
            let mut i = 0;
            while i < self.timeline.len() {
                let e = &self.timeline[i];
                let key = (e.event.as_str(), e.alike.as_str());
                let mut j = i + 1;
                while j < self.timeline.len()
                    && (
                        self.timeline[j].event.as_str(),
                        self.timeline[j].alike.as_str(),
                    ) == key
                {
                    j += 1;
                }
                if j - i > 2 {
                    w(format!("  {}  {} {}", e.at, kind(e), e.detail));
                    w(format!(
                        "  {:<25}  {:<10} {}",
                        "",
                        "",
                        words::more_alike(j - i - 1, &self.timeline[j - 1].at, lang)
                    ));
                } else {
                    for e in &self.timeline[i..j] {
                        w(format!("  {}  {} {}", e.at, kind(e), e.detail));
                    }
                }
                i = j;
            }
        }
        let a = &self.artifacts;
        if self.source.is_some() {
            return out;
        }
        w(String::new());
        w(format!(
            "{}  {}",
            Heading::Artifacts.say(lang),
            words::artifacts(
                a.dsn.len(),
                a.ndr.len(),
                a.transcript.len(),
                a.dns_log.lines().count(),
                lang
            )
        ));
        if !self.expectations.is_empty() {
            w(String::new());
            w(Heading::Expectations.say(lang).into());
            for x in &self.expectations {
                let mark = if x.ok { "ok  " } else { "FAIL" };
                if x.detail.is_empty() {
                    w(format!("  {mark}  {}", x.expect));
                } else {
                    w(format!("  {mark}  {} — {}", x.expect, x.detail));
                }
            }
        }
        if let Some(passed) = self.passed {
            w(String::new());
            w(format!(
                "{} {}",
                if passed { "PASS" } else { "FAIL" },
                self.scenario.as_deref().unwrap_or("")
            ));
        }
        out
    }

    /// The report with what the checker wrote for people in `lang`: the verdict's, each
    /// finding's and each recipient cause's summary, and each finding's remediation. What
    /// it quotes (replies, notices, log lines) and every identifier stay as they are, so the
    /// JSON keeps its schema; English returns the report unchanged.
    pub fn localized(mut self, lang: Lang) -> Report {
        if lang == Lang::En {
            return self;
        }
        self.verdict.summary =
            crate::localize::summary(self.verdict.rule, &self.verdict.summary, lang);
        for f in &mut self.findings {
            crate::localize::finding(f, lang);
        }
        for r in &mut self.recipients {
            r.cause.summary = crate::localize::summary(r.cause.rule, &r.cause.summary, lang);
        }
        self
    }
}
