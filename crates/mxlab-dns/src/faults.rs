//! Which scripted fault, if any, a query meets. Pure: query + story time + counters in,
//! decision out. No I/O, no clock of its own.

use std::time::Duration;

use hickory_proto::rr::RecordType;
use mxlab_scenario::model::{DnsAction, DnsFault};

/// What the server does with one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Answer from the zones.
    Answer,
    Act(DnsAction),
}

/// Whether `pattern` (`partner.test`, `*.partner.test`, `*`) covers `qname`. Case-insensitive;
/// trailing dots ignored. `*.x` covers names strictly below `x`, like a DNS wildcard.
pub fn name_matches(pattern: &str, qname: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let qname = qname.trim_end_matches('.').to_ascii_lowercase();
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => qname.len() > suffix.len() + 1 && qname.ends_with(&format!(".{suffix}")),
        None => pattern == qname,
    }
}

/// The per-fault counters of matching queries, for `queries = "1-3"`.
#[derive(Clone, Debug, Default)]
pub struct Counters(Vec<u32>);

/// Finds the first fault that covers the query, counting the query against every fault whose
/// name, type and time window match (so `queries` counts what that fault could have hit).
/// Returns the decision and the index of the deciding fault.
/// `here` says whether a fault is placed at the server deciding (its `server` key).
pub fn decide(
    faults: &[DnsFault],
    here: impl Fn(&DnsFault) -> bool,
    counters: &mut Counters,
    qname: &str,
    qtype: RecordType,
    story_time: Duration,
) -> (Decision, Option<usize>) {
    counters.0.resize(faults.len(), 0);
    let mut decided = (Decision::Answer, None);
    for (i, fault) in faults.iter().enumerate() {
        if !here(fault) {
            continue;
        }
        let in_window = fault.from.is_none_or(|from| story_time >= from.get())
            && fault.until.is_none_or(|until| story_time < until.get());
        let covers = name_matches(&fault.name, qname)
            && fault.rtype.is_none_or(|t| t.0 == qtype)
            && in_window;
        if !covers {
            continue;
        }
        counters.0[i] += 1;
        let counted_in = fault
            .queries
            .is_none_or(|range| range.contains(counters.0[i]));
        if counted_in && decided.1.is_none() {
            decided = (Decision::Act(fault.action), Some(i));
        }
    }
    decided
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_scenario::Dur;
    use mxlab_scenario::values::{CountRange, QType};

    fn fault(name: &str, action: DnsAction) -> DnsFault {
        DnsFault {
            server: None,
            name: name.into(),
            rtype: None,
            action,
            delay: None,
            from: None,
            until: None,
            queries: None,
        }
    }

    #[test]
    fn wildcards_cover_names_below_only() {
        assert!(name_matches("*.partner.test", "mx1.partner.test."));
        assert!(!name_matches("*.partner.test", "partner.test"));
        assert!(!name_matches("*.partner.test", "xpartner.test"));
        assert!(name_matches("Partner.Test.", "partner.test"));
        assert!(name_matches("*", "anything.example"));
    }

    #[test]
    fn type_and_time_window_narrow_a_fault() {
        let mut f = fault("partner.test", DnsAction::Servfail);
        f.rtype = Some(QType(RecordType::MX));
        f.from = Some(Dur::from_hours(1));
        f.until = Some(Dur::from_hours(4));
        let faults = [f];
        let mut c = Counters::default();
        let at = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            decide(
                &faults,
                |_| true,
                &mut c,
                "partner.test.",
                RecordType::MX,
                at(0)
            )
            .0,
            Decision::Answer
        );
        assert_eq!(
            decide(
                &faults,
                |_| true,
                &mut c,
                "partner.test.",
                RecordType::MX,
                at(1)
            )
            .0,
            Decision::Act(DnsAction::Servfail)
        );
        assert_eq!(
            decide(
                &faults,
                |_| true,
                &mut c,
                "partner.test.",
                RecordType::A,
                at(2)
            )
            .0,
            Decision::Answer
        );
        assert_eq!(
            decide(
                &faults,
                |_| true,
                &mut c,
                "partner.test.",
                RecordType::MX,
                at(4)
            )
            .0,
            Decision::Answer
        );
    }

    #[test]
    fn query_counts_select_the_nth_matching_query() {
        let mut f = fault("partner.test", DnsAction::Drop);
        f.queries = Some(CountRange {
            first: 2,
            last: Some(3),
        });
        let faults = [f, fault("*", DnsAction::Refused)];
        let mut c = Counters::default();
        let mut next = || {
            decide(
                &faults,
                |_| true,
                &mut c,
                "partner.test",
                RecordType::MX,
                Duration::ZERO,
            )
        };
        assert_eq!(next(), (Decision::Act(DnsAction::Refused), Some(1)));
        assert_eq!(next(), (Decision::Act(DnsAction::Drop), Some(0)));
        assert_eq!(next(), (Decision::Act(DnsAction::Drop), Some(0)));
        assert_eq!(next(), (Decision::Act(DnsAction::Refused), Some(1)));
    }
}
