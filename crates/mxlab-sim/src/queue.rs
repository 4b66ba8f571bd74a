//! The sending server's queue on the story clock: submit each message, attempt delivery on
//! the retry schedule, emit the delay DSN, NDRs and the expiry NDR, and log every step to the
//! tracking log. Events run one at a time in story-time order (ties: message order), so the
//! story is the same on every run.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use mxlab_net::{Clock, Network};
use mxlab_scenario::Scenario;
use mxlab_scenario::model::SenderTopology;
use mxlab_vocab::{EventId, Reply};

use crate::attempt::{self, Env, Failure, TlsClients};
use crate::dsn::{self, About, Kind, Notice};
use crate::message::{Composed, compose};
use crate::schedule::{FailureKind, Policy, exchange_time_left};
use crate::tracking::{self, Event};

/// Something that happened, for the report's timeline (people read it; rules never do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    pub at: Duration,
    pub event: String,
    pub detail: String,
    /// The message's attempt number, for attempts (the report shows `#12 …` and folds runs
    /// of alike attempts by `detail`).
    pub attempt: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientState {
    Pending,
    Delivered { reply: Reply, host: String },
    Failed { failure: Failure },
    Expired,
}

#[derive(Clone, Debug)]
pub struct Recipient {
    pub address: String,
    pub domain: String,
    pub state: RecipientState,
    pub last_error: Option<(Failure, Duration)>,
    /// Whether a delay DSN mentioned this recipient.
    pub delayed: bool,
}

struct Message {
    number: usize,
    /// Which of `sender.messages` it came from.
    spec: usize,
    from: String,
    subject: String,
    arrival: Duration,
    first_attempt: Duration,
    composed: Option<Composed>,
    recipients: Vec<Recipient>,
    next: Option<Duration>,
    transient_retries: u32,
    delay_dsn_sent: bool,
    attempts: u32,
}

impl Message {
    fn pending(&self) -> impl Iterator<Item = &Recipient> {
        self.recipients
            .iter()
            .filter(|r| r.state == RecipientState::Pending)
    }
}

/// The event-specific part of a tracking-log line.
struct Track {
    event_id: EventId,
    source: &'static str,
    recipients: Vec<String>,
    status: String,
    context: String,
}

/// What the sending side leaves behind: what an administrator can see, plus the timeline.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub dsn: Vec<String>,
    pub ndr: Vec<String>,
    pub tracking_log: String,
    /// The queue as `Get-Queue` would show it when the run stopped.
    pub queue: String,
    pub timeline: Vec<TimelineEvent>,
    pub recipients: Vec<Recipient>,
    /// Why the queue stopped before the story ended: it reached [`MAX_QUEUE_EVENTS`].
    pub stopped: Option<String>,
}

/// The most queue events (submissions, attempts, expiries) one run makes. The catalog's
/// busiest story makes a few hundred; a story that reaches this retries far too often, and
/// stops with an error that names the setting rather than grow until memory runs out.
pub const MAX_QUEUE_EVENTS: u64 = 200_000;

pub struct Sim<'a> {
    scenario: &'a Scenario,
    net: &'a dyn Network,
    clock: Clock,
    dns_server: SocketAddr,
    smtp_port: u16,
    tls: Option<TlsClients>,
}

/// What to change when the queue reached [`MAX_QUEUE_EVENTS`]: the shortest retry interval
/// (the one that made the attempts) against how long a message is kept.
fn overrun(t: &mxlab_scenario::model::Transport, messages: usize) -> String {
    let (key, interval) = [
        ("message_retry_interval", t.message_retry_interval),
        (
            "transient_failure_retry_interval",
            t.transient_failure_retry_interval,
        ),
        (
            "outbound_connection_failure_retry_interval",
            t.outbound_connection_failure_retry_interval,
        ),
    ]
    .into_iter()
    .min_by_key(|(_, d)| *d)
    .unwrap_or(("message_retry_interval", t.message_retry_interval));
    format!(
        "the sending queue stopped after {MAX_QUEUE_EVENTS} events: {messages} message(s) retried every \
         {interval} (`sender.transport.{key}`) for up to {} (`message_expiration_timeout`) is more \
         than a run makes; lengthen `{key}` or shorten `message_expiration_timeout`",
        t.message_expiration_timeout
    )
}

impl<'a> Sim<'a> {
    pub fn new(
        scenario: &'a Scenario,
        net: &'a dyn Network,
        clock: Clock,
        dns_server: SocketAddr,
    ) -> Self {
        Sim {
            scenario,
            net,
            clock,
            dns_server,
            smtp_port: 25,
            tls: None,
        }
    }

    /// STARTTLS with these clients (the world's CA as trust root).
    pub fn with_tls(mut self, tls: TlsClients) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connect to remote hosts on `port` instead of 25 (a world served for tests).
    pub fn with_smtp_port(mut self, port: u16) -> Self {
        self.smtp_port = port;
        self
    }

    /// Runs the story until every message has settled, or until story time `until`
    /// (an attempt under way then is finished first).
    pub async fn run(&self, until: Option<Duration>) -> Output {
        let sender = &self.scenario.file.sender;
        let policy = Policy::from(&sender.transport);
        let mut messages: Vec<Message> = Vec::new();
        for (index, spec) in sender.messages.iter().enumerate() {
            let arrival = spec.at.get();
            let latency = spec
                .submission_latency
                .unwrap_or(sender.submission_latency)
                .get();
            for _ in 0..spec.count.as_ref().map_or(1, |c| *c.get_ref()) {
                messages.push(Message {
                    number: messages.len() + 1,
                    spec: index,
                    from: spec.from.clone(),
                    subject: spec.subject.clone(),
                    arrival,
                    first_attempt: arrival + latency,
                    composed: None,
                    recipients: spec
                        .to
                        .iter()
                        .map(|to| Recipient {
                            address: to.clone(),
                            domain: to
                                .rsplit_once('@')
                                .map(|(_, d)| d.to_ascii_lowercase())
                                .unwrap_or_default(),
                            state: RecipientState::Pending,
                            last_error: None,
                            delayed: false,
                        })
                        .collect(),
                    next: Some(arrival),
                    transient_retries: 0,
                    delay_dsn_sent: false,
                    attempts: 0,
                });
            }
        }
        if let Some(capacity) = &sender.capacity {
            // A server that handles `capacity` messages an hour takes them in arrival order,
            // one every 3600/capacity seconds; the rest wait in its own queue.
            let interval = Duration::from_secs(3600) / (*capacity.get_ref()).max(1);
            let mut order: Vec<usize> = (0..messages.len()).collect();
            order.sort_by_key(|&i| (messages[i].arrival, i));
            let mut free = Duration::ZERO;
            for i in order {
                let at = messages[i].first_attempt.max(free);
                messages[i].first_attempt = at;
                free = at + interval;
            }
        }
        let mut out = Output::default();
        let mut log = tracking::Log::new(self.clock.start());
        let mut events: u64 = 0;

        while let Some((index, at)) = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.next.map(|t| (i, t)))
            .min_by_key(|&(i, t)| (t, i))
        {
            if until.is_some_and(|limit| at > limit) {
                break;
            }
            events += 1;
            if events > MAX_QUEUE_EVENTS {
                out.stopped = Some(overrun(&sender.transport, messages.len()));
                break;
            }
            self.clock.sleep_until(at).await;
            let m = &mut messages[index];
            if m.composed.is_none() {
                self.submit(m, &policy, &mut log, &mut out);
            } else if at >= policy.expiry(m.arrival) {
                self.expire(m, &mut log, &mut out);
            } else {
                self.attempt(m, &policy, &mut log, &mut out).await;
            }
        }
        if let Some(limit) = until {
            self.clock.sleep_until(limit).await;
        }
        out.tracking_log = log.text();
        out.queue = self.queue_view(&messages, &policy);
        out.recipients = messages.into_iter().flat_map(|m| m.recipients).collect();
        out
    }

    fn note(&self, out: &mut Output, event: &str, detail: String) {
        self.note_at(self.clock.elapsed(), out, event, detail);
    }

    fn note_at(&self, at: Duration, out: &mut Output, event: &str, detail: String) {
        out.timeline.push(TimelineEvent {
            at,
            event: event.into(),
            detail,
            attempt: None,
        });
    }

    fn track(&self, log: &mut tracking::Log, m: &Message, t: Track) {
        let Track {
            event_id,
            source,
            recipients,
            status,
            context,
        } = t;
        let s = self.scenario;
        let composed = m.composed.as_ref().expect("tracked messages are composed");
        log.push(
            self.clock.now(),
            Event {
                client_ip: s.sender_ip.to_string(),
                client_hostname: s.file.sender.hostname.clone(),
                server_ip: s.sender_ip.to_string(),
                server_hostname: s.file.sender.hostname.clone(),
                source_context: context,
                connector_id: format!(
                    "{}\\Default {}",
                    short_name(&s.file.sender.hostname),
                    short_name(&s.file.sender.hostname)
                ),
                source,
                event_id,
                internal_message_id: m.number,
                message_id: composed.message_id.clone(),
                recipients,
                recipient_status: status,
                total_bytes: composed.wire.len(),
                subject: m.subject.clone(),
                sender: m.from.clone(),
            },
        );
    }

    fn submit(&self, m: &mut Message, policy: &Policy, log: &mut tracking::Log, out: &mut Output) {
        let sender = &self.scenario.file.sender;
        let spec = &sender.messages[m.spec];
        m.composed = Some(compose(
            spec,
            m.number,
            self.clock.now(),
            &sender.hostname,
            &self.scenario.sender_ip.to_string(),
        ));
        let all: Vec<String> = m.recipients.iter().map(|r| r.address.clone()).collect();
        self.track(
            log,
            m,
            Track {
                event_id: EventId::Receive,
                source: "SMTP",
                recipients: all.clone(),
                status: String::new(),
                context: String::new(),
            },
        );
        self.track(
            log,
            m,
            Track {
                event_id: EventId::Submit,
                source: "STOREDRIVER",
                recipients: all.clone(),
                status: String::new(),
                context: String::new(),
            },
        );
        if sender.shadow_redundancy && sender.topology == SenderTopology::Standalone {
            // Shadow redundancy wants a copy on another server before the message is
            // acknowledged; a standalone server has none (docs/FACTS.md).
            self.track(
                log,
                m,
                Track {
                    event_id: EventId::HaRedirectFail,
                    source: "SMTP",
                    recipients: all.clone(),
                    status: String::new(),
                    context: "No suitable shadow server".into(),
                },
            );
            self.note(
                out,
                "shadow",
                format!(
                    "message {}: no suitable shadow server (HAREDIRECTFAIL)",
                    m.number
                ),
            );
        }
        self.note(
            out,
            "submitted",
            format!(
                "message {} from {} to {}: \"{}\"",
                m.number,
                m.from,
                all.join(", "),
                m.subject
            ),
        );
        m.next = Some(m.first_attempt.min(policy.expiry(m.arrival)));
    }

    async fn attempt(
        &self,
        m: &mut Message,
        policy: &Policy,
        log: &mut tracking::Log,
        out: &mut Output,
    ) {
        let sender = &self.scenario.file.sender;
        let start = self.clock.elapsed();
        m.attempts += 1;

        if sender.delay_dsn && !m.delay_dsn_sent && policy.delay_dsn_due(m.arrival, start) {
            m.delay_dsn_sent = true;
            self.delay_dsn(m, policy, log, out);
        }

        let env = Env {
            net: self.net,
            clock: &self.clock,
            dns_server: self.dns_server,
            transport: &sender.transport,
            sender_ip: self.scenario.sender_ip,
            helo: &sender.hostname,
            smtp_port: self.smtp_port,
            tls: self.tls.as_ref(),
            require_tls: sender.require_tls.as_ref().is_some_and(|r| *r.get_ref()),
        };
        let domains: BTreeSet<String> = m.pending().map(|r| r.domain.clone()).collect();
        let mut all_connection_failures = true;
        let mut failed_now = Vec::new();
        for domain in domains {
            let rcpts: Vec<String> = m
                .pending()
                .filter(|r| r.domain == domain)
                .map(|r| r.address.clone())
                .collect();
            let wire = m.composed.as_ref().expect("submitted").wire.clone();
            let outcome = attempt::attempt(&env, &domain, &m.from, &rcpts, &wire).await;
            let at = self.clock.elapsed();
            for (address, result) in outcome {
                let r = m
                    .recipients
                    .iter_mut()
                    .find(|r| r.address == address)
                    .expect("recipient of this message");
                match result {
                    Ok(d) => {
                        all_connection_failures = false;
                        r.state = RecipientState::Delivered {
                            reply: d.reply.clone(),
                            host: d.host.clone(),
                        };
                        self.note(
                            out,
                            "delivered",
                            format!("{address} via {} ({}): {}", d.host, d.ip, d.reply),
                        );
                        self.track(
                            log,
                            m,
                            Track {
                                event_id: EventId::Send,
                                source: "SMTP",
                                recipients: vec![address],
                                status: d.reply.to_string(),
                                context: format!("{} ({})", d.host, d.ip),
                            },
                        );
                    }
                    Err(f) => {
                        all_connection_failures &= f.kind() == FailureKind::Connection;
                        let what = if f.is_permanent() {
                            "failed"
                        } else {
                            "deferred"
                        };
                        // Attempts are shown when they started, as the retry schedule counts them.
                        out.timeline.push(TimelineEvent {
                            at: start,
                            event: "attempt".into(),
                            detail: format!("{address} {what}: {}", f.reply),
                            attempt: Some(m.attempts),
                        });
                        r.last_error = Some((f.clone(), at));
                        if f.is_permanent() {
                            r.state = RecipientState::Failed { failure: f.clone() };
                            failed_now.push(address.clone());
                            self.track(
                                log,
                                m,
                                Track {
                                    event_id: EventId::Fail,
                                    source: "SMTP",
                                    recipients: vec![address],
                                    status: f.reply.to_string(),
                                    context: String::new(),
                                },
                            );
                        } else {
                            self.track(
                                log,
                                m,
                                Track {
                                    event_id: EventId::Defer,
                                    source: "SMTP",
                                    recipients: vec![address],
                                    status: f.reply.to_string(),
                                    context: String::new(),
                                },
                            );
                        }
                    }
                }
            }
        }
        if !failed_now.is_empty() {
            self.ndr(m, &failed_now, Kind::Failed, log, out);
        }
        if m.pending().next().is_none() {
            m.next = None;
            return;
        }
        let kind = if all_connection_failures {
            FailureKind::Connection
        } else {
            FailureKind::Transient
        };
        let next = policy.next_attempt(start, kind, m.transient_retries);
        if kind == FailureKind::Transient && m.transient_retries < policy.transient_count {
            m.transient_retries += 1;
        }
        m.next = Some(next.min(policy.expiry(m.arrival)));
    }

    fn notice<'m>(&self, m: &'m Message, tag: String) -> Notice<'m>
    where
        'a: 'm,
    {
        let sender = &self.scenario.file.sender;
        let composed = m.composed.as_ref().expect("submitted");
        Notice {
            tag,
            hostname: &self.scenario.file.sender.hostname,
            postmaster: format!("postmaster@{}", sender.domain),
            to: &m.from,
            subject: &m.subject,
            original_id: &composed.message_id,
            original_headers: &composed.headers,
            language: sender.language,
            arrival: self.clock.at(m.arrival),
            date: self.clock.now(),
        }
    }

    fn delay_dsn(
        &self,
        m: &mut Message,
        policy: &Policy,
        log: &mut tracking::Log,
        out: &mut Output,
    ) {
        let expiry = policy.expiry(m.arrival);
        let left = expiry.saturating_sub(self.clock.elapsed());
        let kind = Kind::Delayed {
            retry_until: self.clock.at(expiry),
            time_left: exchange_time_left(left, self.scenario.file.sender.language),
        };
        let about: Vec<About> = m
            .pending()
            .map(|r| About {
                address: &r.address,
                last_error: r.last_error.as_ref().map(|(f, t)| (f, self.clock.at(*t))),
            })
            .collect();
        let text = dsn::render(
            &self.notice(m, format!("{}-delay", m.number)),
            &kind,
            &about,
        );
        let delayed: Vec<String> = m.pending().map(|r| r.address.clone()).collect();
        for r in m
            .recipients
            .iter_mut()
            .filter(|r| r.state == RecipientState::Pending)
        {
            r.delayed = true;
        }
        out.dsn.push(text);
        self.note(
            out,
            "delay DSN",
            format!(
                "\"Delivery delayed\" notice to {} ({} left)",
                m.from,
                exchange_time_left(left, mxlab_vocab::Lang::En)
            ),
        );
        self.track(
            log,
            m,
            Track {
                event_id: EventId::Dsn,
                source: "DSN",
                recipients: delayed,
                status: dsn::delayed().to_string(),
                context: "delay".into(),
            },
        );
    }

    fn ndr(
        &self,
        m: &Message,
        recipients: &[String],
        kind: Kind,
        log: &mut tracking::Log,
        out: &mut Output,
    ) {
        let about: Vec<About> = m
            .recipients
            .iter()
            .filter(|r| recipients.contains(&r.address))
            .map(|r| About {
                address: &r.address,
                last_error: r.last_error.as_ref().map(|(f, t)| (f, self.clock.at(*t))),
            })
            .collect();
        let tag = format!("{}-ndr{}", m.number, out.ndr.len() + 1);
        out.ndr
            .push(dsn::render(&self.notice(m, tag), &kind, &about));
        self.note(
            out,
            "NDR",
            format!(
                "\"Undeliverable\" notice to {} for {}",
                m.from,
                recipients.join(", ")
            ),
        );
        self.track(
            log,
            m,
            Track {
                event_id: EventId::Dsn,
                source: "DSN",
                recipients: recipients.to_vec(),
                status: "failed".into(),
                context: "ndr".into(),
            },
        );
    }

    fn expire(&self, m: &mut Message, log: &mut tracking::Log, out: &mut Output) {
        let expired: Vec<String> = m.pending().map(|r| r.address.clone()).collect();
        for address in &expired {
            self.track(
                log,
                m,
                Track {
                    event_id: EventId::Fail,
                    source: "QUEUE",
                    recipients: vec![address.clone()],
                    status: dsn::expired().to_string(),
                    context: String::new(),
                },
            );
        }
        self.ndr(m, &expired, Kind::Expired, log, out);
        for r in m
            .recipients
            .iter_mut()
            .filter(|r| r.state == RecipientState::Pending)
        {
            r.state = RecipientState::Expired;
        }
        self.note(
            out,
            "expired",
            format!(
                "message {} expired after {}",
                m.number,
                mxlab_scenario::Dur(self.clock.elapsed() - m.arrival)
            ),
        );
        m.next = None;
    }

    /// One line per next-hop domain with messages waiting, in the manner of `Get-Queue`.
    fn queue_view(&self, messages: &[Message], policy: &Policy) -> String {
        let host = short_name(&self.scenario.file.sender.hostname);
        let mut rows = Vec::new();
        let domains: BTreeSet<&str> = messages
            .iter()
            .flat_map(|m| m.pending().map(|r| r.domain.as_str()))
            .collect();
        for (i, domain) in domains.iter().enumerate() {
            let waiting: Vec<&Message> = messages
                .iter()
                .filter(|m| m.pending().any(|r| r.domain == *domain))
                .collect();
            let last_error = waiting
                .iter()
                .flat_map(|m| m.pending().filter(|r| r.domain == *domain))
                .filter_map(|r| r.last_error.as_ref())
                .max_by_key(|(_, t)| *t)
                .map(|(f, _)| f.reply.to_string());
            let next = waiting.iter().filter_map(|m| m.next).min();
            let status = if last_error.is_some() {
                "Retry"
            } else {
                "Ready"
            };
            rows.push(format!(
                "Identity: {host}\\{}\nDeliveryType: SmtpDeliveryToMailbox\nStatus: {status}\nMessageCount: {}\nNextHopDomain: {domain}\nNextRetryTime: {}\nLastError: {}\n",
                i + 3,
                waiting.len(),
                next.map(|t| crate::format::exchange_local(self.clock.at(t))).unwrap_or_default(),
                last_error.unwrap_or_default()
            ));
        }
        let _ = policy;
        if rows.is_empty() {
            "(no messages queued)\n".to_string()
        } else {
            rows.join("\n")
        }
    }
}

fn short_name(hostname: &str) -> &str {
    hostname.split('.').next().unwrap_or(hostname)
}
