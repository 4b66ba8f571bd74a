//! The sending server itself as the cause — the seed's "the problem is on our side" paths,
//! read from the message tracking log as Get-MessageTrackingLog shows it: shadow redundancy
//! on a standalone server (HAREDIRECTFAIL "No suitable shadow server"), and a server too slow
//! to work off its own queue (messages wait a quarter of an hour or more before a first attempt
//! that then goes through, or have had none yet).

use std::collections::BTreeMap;

use mxlab_vocab::{EventId, RuleId};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::artifacts::notice::Notice;
use crate::artifacts::tracking::TrackingEvent;

use super::Attribution;
use super::observe::Story;

/// What the tracking log says about each recipient's wait on this server.
pub struct Local {
    /// Recipient → the HAREDIRECTFAIL events of its messages (first, count).
    shadow: BTreeMap<String, (TrackingEvent, usize)>,
    /// Recipient → (message id, how long it waited before its first attempt, or has waited
    /// so far with none).
    backlog: BTreeMap<String, Wait>,
    /// Delay notices that quote no remote error.
    silent_notices: usize,
}

#[derive(Clone, Debug)]
struct Wait {
    message: String,
    waited: time::Duration,
    /// Still waiting: no attempt at all by the log's last entry.
    still: bool,
}

/// A message that waits this long in its own server's queue before a first attempt was held
/// up there: a healthy transport hands a message on within seconds (a submission delay of a
/// few minutes is not yet a backlog).
const HELD_UP: time::Duration = time::Duration::minutes(15);

fn parse(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &Rfc3339).ok()
}

fn event(e: &TrackingEvent) -> Option<EventId> {
    e.event_id.parse().ok()
}

impl Local {
    pub fn read(tracking: &[TrackingEvent], dsns: &[Notice]) -> Local {
        let mut recipients: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut received: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
        let mut first_try: BTreeMap<&str, (OffsetDateTime, EventId)> = BTreeMap::new();
        let mut fails: BTreeMap<&str, (TrackingEvent, usize)> = BTreeMap::new();
        for e in tracking {
            let Some(id) = event(e) else { continue };
            let at = parse(&e.date_time);
            match id {
                EventId::Receive => {
                    recipients
                        .entry(&e.message_id)
                        .or_default()
                        .extend(e.recipients.iter().map(|r| r.to_ascii_lowercase()));
                    if let Some(at) = at {
                        received.entry(&e.message_id).or_insert(at);
                    }
                }
                EventId::HaRedirectFail
                    if e.source_context.contains("No suitable shadow server") =>
                {
                    fails
                        .entry(&e.message_id)
                        .and_modify(|(_, n)| *n += 1)
                        .or_insert((e.clone(), 1));
                }
                id if id.is_attempt() => {
                    if let Some(at) = at {
                        first_try.entry(&e.message_id).or_insert((at, id));
                    }
                }
                _ => {}
            }
        }
        let mut shadow = BTreeMap::new();
        for (id, fail) in fails {
            for r in recipients.get(id).into_iter().flatten() {
                shadow.insert(r.clone(), fail.clone());
            }
        }
        // The log's last entry stands for "now": a message received an hour before it and
        // never attempted has been waiting in this server's queue all that time.
        let now = tracking.iter().filter_map(|e| parse(&e.date_time)).max();
        let mut waits: Vec<(&str, Wait)> = Vec::new();
        for (id, arrived) in &received {
            let wait = match (first_try.get(id), now) {
                (Some((at, EventId::Send | EventId::Deliver)), _) => Wait {
                    message: id.to_string(),
                    waited: *at - *arrived,
                    still: false,
                },
                (None, Some(now)) => Wait {
                    message: id.to_string(),
                    waited: now - *arrived,
                    still: true,
                },
                _ => continue,
            };
            if wait.waited >= HELD_UP {
                waits.push((id, wait));
            }
        }
        let mut backlog: BTreeMap<String, Wait> = BTreeMap::new();
        for (id, wait) in waits {
            for r in recipients.get(id).into_iter().flatten() {
                if backlog.get(r).is_none_or(|w| wait.waited > w.waited) {
                    backlog.insert(r.clone(), wait.clone());
                }
            }
        }
        Local {
            shadow,
            backlog,
            silent_notices: dsns
                .iter()
                .filter(|d| d.is_delay() && d.last_real_error().is_none())
                .count(),
        }
    }

    /// The local cause that held this recipient's mail, if one did.
    pub fn explain(&self, story: &Story) -> Option<Attribution> {
        let key = story.address.to_ascii_lowercase();
        if let Some((first, count)) = self.shadow.get(&key) {
            let mut a = Attribution::new(
                RuleId::TransportShadowRedundancyStandalone,
                "Shadow redundancy is on, but this server has no other server to keep a shadow copy on: messages logged HAREDIRECTFAIL \"No suitable shadow server\"".into(),
            );
            a.evidence.push(format!(
                "tracking log: {} EventId HAREDIRECTFAIL, Source {}, SourceContext '{}', {}",
                first.date_time, first.source, first.source_context, first.message_id
            ));
            if *count > 1 {
                a.evidence.push(format!(
                    "tracking log: … {count} HAREDIRECTFAIL events for that message"
                ));
            }
            return Some(a);
        }
        let w = self.backlog.get(&key)?;
        let (h, m) = (w.waited.whole_hours(), w.waited.whole_minutes() % 60);
        let (summary, line) = if w.still {
            (
                format!(
                    "The sending server itself is the bottleneck: the message has waited {h}h{m:02}m in its own queue without a single delivery attempt"
                ),
                format!(
                    "tracking log: message {} received, then no attempt in {h}h{m:02}m",
                    w.message
                ),
            )
        } else {
            (
                format!(
                    "The sending server itself is the bottleneck: mail waited up to {h}h{m:02}m in its own queue before a first attempt, and the remote accepted it at once"
                ),
                format!(
                    "tracking log: message {} waited {h}h{m:02}m between RECEIVE and its first attempt, which succeeded",
                    w.message
                ),
            )
        };
        let mut a = Attribution::new(RuleId::TransportBacklog, summary);
        a.evidence.push(line);
        if self.silent_notices > 0 {
            a.evidence.push(format!(
                "{} delay notice(s) quote no remote error: the messages waited in this server's own queue",
                self.silent_notices
            ));
        }
        Some(a)
    }
}
