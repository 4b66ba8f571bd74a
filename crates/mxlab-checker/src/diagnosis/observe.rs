//! What happened to each recipient, as the artifacts tell it: delivered, delayed, failed or
//! expired, and every real error on the way — from the notices' fields and human text, the
//! message tracking log and the queue's last error. Identical errors fold into one record
//! with a count, so a day of retries is one line.

use std::collections::BTreeMap;

use mxlab_vocab::EventId;

use crate::artifacts::notice::Notice;
use crate::artifacts::tracking::TrackingEvent;
use crate::facts::Facts;

use super::classify::{Symptom, classify, code_and_status};

/// Where the admin saw an error.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Notice(String),
    TrackingLog,
    Queue,
}

/// One distinct error, as often as it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub text: String,
    pub symptom: Symptom,
    pub origin: Origin,
    pub count: usize,
    pub first_at: Option<String>,
    pub last_at: Option<String>,
}

impl Seen {
    /// When it was last seen, when the artifact says (tracking-log and notice dates alike).
    pub fn last_time(&self) -> Option<time::OffsetDateTime> {
        self.last_at.as_deref().and_then(at)
    }

    /// The evidence line: one per distinct error, with how often and when.
    pub fn evidence(&self, recipient: &str) -> String {
        let when = match (&self.first_at, &self.last_at, self.count) {
            (Some(a), Some(b), n) if n > 1 && a != b => format!(" ×{n}, {a} … {b}"),
            (_, _, n) if n > 1 => format!(" ×{n}"),
            (Some(a), _, _) => format!(" at {a}"),
            _ => String::new(),
        };
        match &self.origin {
            Origin::Notice(subject) => {
                format!("notice \"{subject}\": {recipient} '{}'{when}", self.text)
            }
            Origin::TrackingLog => format!("tracking log: {recipient} '{}'{when}", self.text),
            Origin::Queue => format!("queue: last error '{}'", self.text),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    Unknown,
    Delayed,
    Delivered,
    Failed,
    Expired,
}

#[derive(Clone, Debug)]
pub struct Story {
    pub address: String,
    pub fate: Fate,
    /// When it was delivered, and through which host (the tracking log's source-context).
    pub delivered: Option<(String, String)>,
    /// A delay notice names this recipient.
    pub delay_notice: bool,
    /// When its message arrived at the sending server (the tracking log's RECEIVE).
    pub received: Option<String>,
    /// Real errors, in order of first sight.
    pub errors: Vec<Seen>,
    /// Where each distinct (origin, text) is in `errors`: a day of retries stays linear.
    seen: BTreeMap<(Origin, String), usize>,
}

impl Story {
    fn new(address: &str) -> Self {
        Story {
            address: address.to_string(),
            fate: Fate::Unknown,
            delivered: None,
            delay_notice: false,
            received: None,
            errors: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    /// How long delivery waited after the first error: until delivery, for a recipient
    /// delivered in the end (from the tracking log's times).
    pub fn waited(&self) -> Option<time::Duration> {
        let first = self
            .errors
            .iter()
            .filter_map(|e| at(e.first_at.as_deref()?))
            .min()?;
        let (delivered, _) = self.delivered.as_ref()?;
        Some(at(delivered)? - first).filter(|w| !w.is_negative())
    }

    /// A connection dropped on a timeout, stage unnamed: how long the first attempt took
    /// tells. A greeting is awaited 5 minutes (RFC 5321 §4.5.3.2), the end of data 10.
    pub fn timed_out_at(&self) -> Symptom {
        let first = self
            .errors
            .iter()
            .filter(|e| e.symptom == Symptom::DroppedTimedOut)
            .filter_map(|e| at(e.first_at.as_deref()?))
            .min();
        match (self.received.as_deref().and_then(at), first) {
            (Some(arrived), Some(failed)) if failed - arrived < time::Duration::seconds(450) => {
                Symptom::BannerTimeout
            }
            _ => Symptom::DataTimeout,
        }
    }

    pub fn domain(&self) -> String {
        domain_of(&self.address)
    }

    /// The error that stands for this recipient: the last real one seen (the queue's last
    /// error is what the delay notice quotes), preferring errors that name a reason.
    pub fn decisive(&self) -> Option<&Seen> {
        let real = self.errors.iter().filter(|e| e.symptom != Symptom::Summary);
        let named: Vec<&Seen> = real.clone().filter(|e| !e.symptom.is_generic()).collect();
        let last_named = named
            .iter()
            .max_by_key(|e| (e.last_time(), e.count))
            .copied();
        last_named.or_else(|| real.max_by_key(|e| (e.last_time(), e.count)))
    }

    fn saw(&mut self, text: &str, origin: Origin, at: Option<&str>) {
        let text = text.trim();
        // A 2xx reply (a success report's "250 2.0.0 OK") is not an error.
        if text.is_empty() || matches!(code_and_status(text), (Some(200..=299), _)) {
            return;
        }
        let key = (origin.clone(), alike(text));
        if let Some(e) = self.seen.get(&key).map(|&i| &mut self.errors[i]) {
            e.count += 1;
            if at.is_some() {
                e.last_at = at.map(str::to_string);
            }
            return;
        }
        self.seen.insert(key, self.errors.len());
        self.errors.push(Seen {
            text: text.to_string(),
            symptom: classify(text),
            origin,
            count: 1,
            first_at: at.map(str::to_string),
            last_at: at.map(str::to_string),
        });
    }

    fn settle(&mut self, fate: Fate) {
        // Once delivered or failed, a recipient stays so; a later notice cannot undo it.
        if self.fate < fate || self.fate == Fate::Unknown {
            self.fate = fate;
        }
    }

    /// What the tracking log says, in its order: a deferral after a delivery (a later
    /// message to the same recipient) leaves the recipient delayed again; only a failure is
    /// final.
    fn logged(&mut self, fate: Fate) {
        match (self.fate, fate) {
            (Fate::Failed | Fate::Expired, _) => {}
            (_, Fate::Delayed | Fate::Delivered | Fate::Failed | Fate::Expired) => self.fate = fate,
            _ => {}
        }
    }
}

/// What makes two errors the same error: their text without the tokens that change from one
/// attempt to the next — queue ids, session ids, timestamps (`… a1b2c3d4e5 - gsmtp`,
/// `queued as 4B2F31C0A1`). Words and reply codes stay.
fn alike(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| {
            let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let digits = w.chars().filter(char::is_ascii_digit).count();
            let letters = w.chars().filter(char::is_ascii_alphabetic).count();
            // An id: long, with digits and letters mixed, or a long run of digits; not an
            // address or a host (dots and colons), which tell errors apart.
            let id = w.len() >= 8 && digits >= 2 && (letters >= 2 || digits >= 8);
            !id || w.contains(['.', ':', '@'])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A time as the artifacts write it: RFC 3339 in the tracking log, RFC 5322 in notices.
pub fn at(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::{Rfc2822, Rfc3339};
    time::OffsetDateTime::parse(text.trim(), &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(text.trim(), &Rfc2822))
        .ok()
}

pub fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The recipients' stories, in the order the complaint names them.
/// The stories of the complaint's recipients, from what the administrator was handed.
pub fn of(facts: &Facts) -> Vec<Story> {
    stories(
        &facts.recipients,
        facts.notices(),
        &facts.tracking,
        facts.queue.as_deref(),
    )
}

fn stories<'a>(
    recipients: &[String],
    notices: impl IntoIterator<Item = &'a Notice>,
    tracking: &[TrackingEvent],
    queue: Option<&str>,
) -> Vec<Story> {
    let mut by: BTreeMap<String, Story> = recipients
        .iter()
        .map(|r| (r.to_ascii_lowercase(), Story::new(r)))
        .collect();
    for e in tracking {
        let Ok(event) = e.event_id.parse::<EventId>() else {
            continue;
        };
        for r in &e.recipients {
            let Some(story) = by.get_mut(&r.to_ascii_lowercase()) else {
                continue;
            };
            let at = Some(e.date_time.as_str());
            match event {
                EventId::Receive => {
                    story.received.get_or_insert_with(|| e.date_time.clone());
                }
                EventId::Send | EventId::Deliver => {
                    story.logged(Fate::Delivered);
                    story.delivered = Some((e.date_time.clone(), e.source_context.clone()));
                }
                EventId::Defer => {
                    story.saw(&e.recipient_status, Origin::TrackingLog, at);
                    story.logged(Fate::Delayed);
                }
                EventId::Fail => {
                    story.saw(&e.recipient_status, Origin::TrackingLog, at);
                    let expired = classify(&e.recipient_status) == Symptom::Summary;
                    story.logged(if expired { Fate::Expired } else { Fate::Failed });
                }
                _ => {}
            }
        }
    }
    for n in notices {
        for r in &n.recipients {
            let Some(story) = by.get_mut(&r.final_recipient.to_ascii_lowercase()) else {
                continue;
            };
            let origin = Origin::Notice(n.subject.clone());
            // When the notice does not say when the attempt was, it was by the notice's date.
            let at = r.last_attempt_date.as_deref().or(n.date.as_deref());
            // The human text quotes the Diagnostic-Code again: one error, seen once. What a
            // success report says ("relayed to a server without DSN support") is no error.
            let succeeded = matches!(r.action.as_str(), "delivered" | "relayed" | "expanded");
            let mut said: Vec<&str> = Vec::new();
            for text in std::iter::once(&r.diagnostic_code).chain(&r.quoted) {
                if !succeeded && !said.contains(&text.trim()) {
                    said.push(text.trim());
                    story.saw(text, origin.clone(), at);
                }
            }
            match r.action.as_str() {
                "delayed" => {
                    story.delay_notice = true;
                    story.settle(Fate::Delayed);
                }
                "failed" => story.settle(if r.expired() {
                    Fate::Expired
                } else {
                    Fate::Failed
                }),
                "delivered" | "relayed" | "expanded" => story.settle(Fate::Delivered),
                _ => {}
            }
        }
    }
    if let Some(queue) = queue {
        for (domain, error) in queue_errors(queue) {
            for story in by.values_mut() {
                // The queue holds only what still waits: not what was delivered or bounced.
                if story.domain() == domain && matches!(story.fate, Fate::Unknown | Fate::Delayed) {
                    story.saw(&error, Origin::Queue, None);
                }
            }
        }
    }
    let mut out: Vec<Story> = Vec::new();
    for r in recipients {
        if let Some(s) = by.remove(&r.to_ascii_lowercase()) {
            out.push(s);
        }
    }
    out
}

/// (next-hop domain, last error) of each queue in a `Get-Queue | Format-List` snapshot.
fn queue_errors(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut domain = String::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim() {
            "Identity" => domain.clear(),
            "NextHopDomain" => domain = value.trim().to_ascii_lowercase(),
            "LastError" if !value.trim().is_empty() => {
                out.push((domain.clone(), value.trim().to_string()));
            }
            _ => {}
        }
    }
    out
}
