//! The rule framework. A rule is a stable id, a severity, what it means and what to do. A
//! cause is found by the diagnosis (`crate::diagnosis`), which ties it to the recipients it
//! explains; an observation has a detector over [`Facts`] of its own.

use mxlab_vocab::{Lang, RuleId};
use serde::Serialize;

use crate::facts::Facts;

/// One severity scale for rules and SPF lint alike (error, warning, info; most severe first).
pub use mxlab_spf::Severity;

/// What a finding is to the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Names why mail was delayed or failed: a verdict candidate.
    Cause,
    /// Worth knowing, explains a symptom, never the verdict.
    Observation,
    /// The verdict when no cause is found.
    Outcome,
}

/// What an observation's detector returns when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub summary: String,
    pub evidence: Vec<String>,
    /// The recipients it concerns.
    pub recipients: Vec<String>,
}

impl Hit {
    pub fn concerns(&self, address: &str) -> bool {
        self.recipients
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address))
    }
}

pub struct Rule {
    pub id: RuleId,
    pub severity: Severity,
    pub role: Role,
    /// One line: what it means.
    pub title: &'static str,
    /// The evidence that fires it.
    pub fires: &'static str,
    /// What an administrator should understand.
    pub explanation: &'static str,
    pub remediation: &'static [&'static str],
    /// Observations only: the detector.
    pub(crate) detect: Option<fn(&Facts) -> Option<Hit>>,
}

/// What a rule says to a person, in one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleText {
    pub title: &'static str,
    pub explanation: &'static str,
    pub remediation: &'static [&'static str],
}

impl Rule {
    /// The rule's title, explanation and remediation in `lang`. The catalog holds the English;
    /// the other languages sit beside it (`rules/ja.rs`), keyed by the rule id.
    pub fn text(&self, lang: Lang) -> RuleText {
        match lang {
            Lang::En => RuleText {
                title: self.title,
                explanation: self.explanation,
                remediation: self.remediation,
            },
            Lang::Ja => crate::rules::ja::text(self.id),
        }
    }
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub summary: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<String>,
    /// The recipients whose failure or delay it explains (or that it concerns).
    pub recipients: Vec<String>,
    /// The cause has since gone away: a later attempt went through, or the probes no longer
    /// meet it.
    pub cleared: bool,
}
