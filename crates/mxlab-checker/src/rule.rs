//! The rule framework. A rule is a stable id, a severity, what it means, what to do, and a
//! detector over [`Facts`] that returns a summary with the evidence that triggered it.

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
    /// The verdict when no cause is found and the mail arrived.
    Outcome,
}

/// What a detector returns when its rule fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub summary: String,
    pub evidence: Vec<String>,
}

pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub role: Role,
    /// One line: what it means.
    pub title: &'static str,
    /// What an administrator should understand.
    pub explanation: &'static str,
    pub remediation: &'static [&'static str],
    pub detect: fn(&Facts) -> Option<Hit>,
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub summary: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<String>,
}
