//! Rules about the sending server itself — the seed's "the problem is on our side" paths:
//! shadow redundancy on a standalone server, and a server too slow to work off its queue.
//! Read from the message tracking log, as Get-MessageTrackingLog shows it.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::facts::Facts;
use crate::rule::Hit;

pub fn shadow_standalone(facts: &Facts) -> Option<Hit> {
    let fails: Vec<_> = facts
        .tracking
        .iter()
        .filter(|e| {
            e.event_id == "HAREDIRECTFAIL" && e.source_context.contains("No suitable shadow server")
        })
        .collect();
    let first = fails.first()?;
    let mut evidence = vec![format!(
        "tracking log: {} EventId HAREDIRECTFAIL, Source {}, SourceContext '{}', {}",
        first.date_time, first.source, first.source_context, first.message_id
    )];
    if fails.len() > 1 {
        evidence.push(format!(
            "tracking log: … {} HAREDIRECTFAIL events in all",
            fails.len()
        ));
    }
    Some(Hit {
        summary: format!(
            "Shadow redundancy is on, but this server has no other server to keep a shadow copy on: {} message(s) logged HAREDIRECTFAIL \"No suitable shadow server\"",
            fails.len()
        ),
        evidence,
    })
}

fn parse(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &Rfc3339).ok()
}

/// Messages that waited an hour or more between arriving and their first delivery attempt,
/// while their first attempt went through: the sending server itself was the bottleneck.
pub fn backlog(facts: &Facts) -> Option<Hit> {
    let mut received: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
    let mut first_try: BTreeMap<&str, (OffsetDateTime, &str)> = BTreeMap::new();
    for e in &facts.tracking {
        let Some(at) = parse(&e.date_time) else {
            continue;
        };
        match e.event_id.as_str() {
            "RECEIVE" => {
                received.entry(&e.message_id).or_insert(at);
            }
            "SEND" | "DEFER" | "FAIL" => {
                first_try
                    .entry(&e.message_id)
                    .or_insert((at, e.event_id.as_str()));
            }
            _ => {}
        }
    }
    let waits: Vec<(&str, time::Duration)> = first_try
        .iter()
        .filter(|(_, (_, event))| *event == "SEND")
        .filter_map(|(id, (at, _))| Some((*id, *at - *received.get(id)?)))
        .filter(|(_, wait)| *wait >= time::Duration::hours(1))
        .collect();
    let longest = waits.iter().max_by_key(|(_, w)| *w)?;
    let silent_notices = facts
        .dsns
        .iter()
        .filter(|d| d.is_delay() && d.last_real_error().is_none())
        .count();
    let mut evidence = vec![format!(
        "tracking log: {} of {} messages waited an hour or more before their first attempt, which then succeeded; the longest, {}, waited {}h{:02}m",
        waits.len(),
        received.len(),
        longest.0,
        longest.1.whole_hours(),
        longest.1.whole_minutes() % 60
    )];
    if silent_notices > 0 {
        evidence.push(format!("{silent_notices} delay notice(s) quote no remote error: the messages waited in this server's own queue"));
    }
    Some(Hit {
        summary: format!(
            "The sending server itself is the bottleneck: {} message(s) waited up to {}h{:02}m in its own queue before a first attempt, and the remote accepted them at once",
            waits.len(),
            longest.1.whole_hours(),
            longest.1.whole_minutes() % 60
        ),
        evidence,
    })
}
