//! A trace as indented lines for people: each level's record lookup, then each term with the
//! queries it made and, for include and redirect, the level below it.

use crate::eval::MAX_LOOKUPS;
use crate::result::SpfResult;
use crate::trace::{DomainTrace, TermOutcome, TermTrace, Trace};

/// The summary lines: result, identity, deciding term, counters, explanation.
pub fn summary(trace: &Trace) -> Vec<String> {
    let mut lines = vec![format!(
        "{}  for {} from {} ({} identity, domain {})",
        trace.result,
        trace.sender,
        trace.ip,
        trace.identity.as_str(),
        trace.domain
    )];
    if let Some(d) = &trace.decided_by {
        lines.push(format!("decided by  {}", d.describe()));
    }
    // A plain match says all in "decided by"; anything else needs its reason.
    let plain_match = trace.decided_by.is_some()
        && matches!(
            trace.result,
            SpfResult::Pass | SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral
        );
    if !plain_match {
        lines.push(format!("because     {}", trace.reason));
    }
    if let Some(exp) = &trace.explanation {
        lines.push(format!("explanation {exp}"));
    }
    lines.push(format!(
        "lookups     {}/{MAX_LOOKUPS}, void lookups {}/{}",
        trace.lookups, trace.void_lookups, trace.void_limit
    ));
    lines
}

/// Every query and term, indented by include/redirect depth.
pub fn trace_lines(trace: &Trace) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(root) = &trace.root {
        domain(root, 0, &mut out);
    }
    if !trace.explanation_queries.is_empty() {
        out.push("explanation (exp=):".into());
        for q in &trace.explanation_queries {
            out.push(format!("  {}", q.describe()));
        }
    }
    out
}

fn pad(depth: usize) -> String {
    "  ".repeat(depth)
}

fn domain(dt: &DomainTrace, depth: usize, out: &mut Vec<String>) {
    for q in &dt.queries {
        out.push(format!("{}{}", pad(depth), q.describe()));
    }
    match &dt.record {
        Some(record) => out.push(format!(
            "{}record of {}: \"{record}\"",
            pad(depth),
            dt.domain
        )),
        None => out.push(format!("{}= {}: {}", pad(depth), dt.result, dt.reason)),
    }
    for term in &dt.terms {
        self::term(term, depth + 1, out);
    }
    if dt.record.is_some() && depth > 0 {
        out.push(format!("{}= {} for {}", pad(depth), dt.result, dt.domain));
    }
}

fn term(tt: &TermTrace, depth: usize, out: &mut Vec<String>) {
    let mut line = format!("{}{}", pad(depth), tt.term);
    if let Some(n) = tt.lookup {
        line.push_str(&format!("  [lookup {n}/{MAX_LOOKUPS}]"));
    }
    match (tt.outcome, tt.result) {
        (TermOutcome::Match, Some(result)) => line.push_str(&format!("  → match: {result}")),
        (TermOutcome::Match, None) => line.push_str("  → match"),
        (TermOutcome::NoMatch, _) => line.push_str("  → no match"),
        (TermOutcome::Error, _) => line.push_str("  → error"),
    }
    if let Some(note) = &tt.note {
        line.push_str(&format!(" ({note})"));
    }
    out.push(line);
    for q in &tt.queries {
        out.push(format!("{}{}", pad(depth + 1), q.describe()));
    }
    if let Some(child) = &tt.child {
        domain(child, depth + 1, out);
    }
}
