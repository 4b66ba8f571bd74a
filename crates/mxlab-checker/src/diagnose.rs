//! Evidence in, findings and a verdict out.
//!
//! The verdict names the cause of what the user saw: the most severe finding whose rule is a
//! cause, earlier catalog entries winning ties. With no cause, `ok.delivered` when every
//! message arrived, else `inconclusive`.

use crate::facts::Facts;
use crate::rule::{Finding, Role, Rule};
use crate::rules::{RULES, find};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub verdict: String,
    pub verdict_summary: String,
    pub findings: Vec<Finding>,
}

fn finding(rule: &Rule, summary: String, evidence: Vec<String>) -> Finding {
    Finding {
        rule: rule.id.to_string(),
        severity: rule.severity,
        summary,
        evidence,
        remediation: rule.remediation.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn diagnose(facts: &Facts) -> Diagnosis {
    let mut fired: Vec<(usize, &Rule, Finding)> = Vec::new();
    for (order, rule) in RULES.iter().enumerate() {
        if let Some(hit) = (rule.detect)(facts) {
            fired.push((order, rule, finding(rule, hit.summary, hit.evidence)));
        }
    }
    let cause = fired
        .iter()
        .filter(|(_, rule, _)| rule.role == Role::Cause)
        .min_by_key(|(order, rule, _)| (rule.severity, *order));
    let (verdict, verdict_summary) = match cause {
        Some((_, rule, f)) => (rule.id, f.summary.clone()),
        None => match fired.iter().find(|(_, rule, _)| rule.id == "ok.delivered") {
            Some((_, rule, f)) => (rule.id, f.summary.clone()),
            None => {
                let rule = find("inconclusive").expect("in the catalog");
                fired.push((
                    RULES.len(),
                    rule,
                    finding(rule, rule.title.to_string(), Vec::new()),
                ));
                (rule.id, rule.title.to_string())
            }
        },
    };
    // Findings most severe first, catalog order within a severity.
    fired.sort_by_key(|(order, rule, _)| (rule.severity, *order));
    Diagnosis {
        verdict: verdict.to_string(),
        verdict_summary,
        findings: fired.into_iter().map(|(_, _, f)| f).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_known_is_inconclusive() {
        let d = diagnose(&Facts::default());
        assert_eq!(d.verdict, "inconclusive");
        assert_eq!(d.findings.len(), 1);
    }

    #[test]
    fn rule_ids_are_unique_and_dotted() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(RULES.iter().all(|r| {
            r.id.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-')
        }));
    }
}
