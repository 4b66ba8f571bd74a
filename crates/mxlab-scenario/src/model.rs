//! The scenario file as written: every table and key of schema v1.
//!
//! Every struct denies unknown keys, so a typo is a load error with file:line:col instead of a
//! silently ignored setting. Fields that need a location in later validation are `Spanned`.
//! `docs/scenarios.md` documents each key; keep the two in step.

use mxlab_vocab::RuleId;
use serde::Deserialize;
use toml::Spanned;

use std::net::IpAddr;

use crate::duration::Dur;
use mxlab_vocab::{DmarcDisposition, DnsblResult, Lang, Reply, ReverseDns, SpfResult, Stage};

use crate::values::{CountRange, Instant, Pattern, QType};

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Format version; this build reads version 1.
    pub mxlab: Spanned<u32>,
    pub title: String,
    /// What the admin sees: the symptom, the NDR text. Shown by `mxlab list` and in reports.
    #[serde(default)]
    pub story: String,
    /// Words to select stories by (`mxlab run --tag dns`), shown last by `mxlab list`:
    /// lower-case letters, digits and `-`.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// RFC 3339 instant at which the story begins (virtual time zero).
    pub start: Instant,
    /// When the admin investigates, as an offset from `start`. Default: once the sending queue
    /// has settled (delivered, failed or expired).
    #[serde(default)]
    pub investigate_at: Option<Dur>,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub smtp: Smtp,
    pub sender: Sender,
    pub expect: Expect,
    /// The story as a training lab (`mxlab lab`): what the trainee is told and the hints,
    /// per language.
    #[serde(default)]
    pub lab: Option<Lab>,
}

/// `[lab]`: one table of texts per language. English is required; Japanese (`[lab.ja]`)
/// is optional and, when present, gives as many hints as English.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub en: Spanned<LabText>,
    #[serde(default)]
    pub ja: Option<Spanned<LabText>>,
}

/// A lab's texts in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabText {
    /// The user's complaint, as the help desk hears it: what the trainee starts from.
    pub briefing: Spanned<String>,
    /// Hints, from a gentle nudge to nearly the answer, given one at a time.
    #[serde(default)]
    pub hints: Vec<Spanned<String>>,
    /// Told once the trainee has named the cause: how an administrator would have found it
    /// and what to do, beyond the rule's own remediation.
    #[serde(default)]
    pub debrief: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// Zones in RFC 1035 master-file syntax.
    #[serde(default)]
    pub zones: Vec<Zone>,
    /// Scripted failures, checked in order; the first that matches a query decides.
    #[serde(default)]
    pub faults: Vec<DnsFault>,
    /// Authoritative servers on their own loopback addresses (a root, a TLD, the domain's
    /// servers). Without any, one server at 127.0.0.53 serves every zone.
    #[serde(default)]
    pub servers: Vec<Spanned<DnsServer>>,
    /// The sender's own resolver or forwarder in front of the servers. With servers and no
    /// resolver, a forwarding resolver at 127.0.0.53 is assumed.
    #[serde(default)]
    pub resolver: Option<Spanned<Resolver>>,
    /// Public suffixes of this world beyond the built-in list, for DMARC's organizational
    /// domains (`hosting.test` makes `shop.hosting.test` an organization of its own).
    #[serde(default)]
    pub public_suffixes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// The zone apex, e.g. `remote.test`.
    pub origin: String,
    /// Master-file text; relative names are relative to `origin`.
    pub records: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsServer {
    /// Its host name (`ns1.partner.test`); faults name servers by it.
    pub name: Spanned<String>,
    pub address: Spanned<IpAddr>,
    /// Origins of the zones it is authoritative for (`.` for the root).
    pub zones: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolver {
    pub address: Spanned<IpAddr>,
    #[serde(default)]
    pub mode: ResolverMode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolverMode {
    /// Asks the server of the closest enclosing zone directly (stub zones, as a forwarder
    /// configured per domain would).
    #[default]
    Forward,
    /// Walks the delegations from the root servers, as a recursive resolver does.
    Recursive,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsFault {
    /// Which server misbehaves: a `dns.servers` name or `resolver`. Default: wherever the
    /// name is served.
    #[serde(default)]
    pub server: Option<Spanned<String>>,
    /// The query name: exact (`remote.test`) or a wildcard (`*.remote.test`, `*`).
    pub name: String,
    /// The query type (`MX`, `A`, `TXT`, …); absent means every type.
    #[serde(default, rename = "type")]
    pub rtype: Option<QType>,
    pub action: DnsAction,
    /// For `action = "delay"`: how long before the answer goes out.
    #[serde(default)]
    pub delay: Option<Dur>,
    /// Only from this offset after `start` (inclusive).
    #[serde(default)]
    pub from: Option<Dur>,
    /// Only before this offset after `start` (exclusive).
    #[serde(default)]
    pub until: Option<Dur>,
    /// Only for these matching queries, counted from 1: `"1"`, `"1-3"`, `"4-"`.
    #[serde(default)]
    pub queries: Option<CountRange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsAction {
    Nxdomain,
    Nodata,
    Servfail,
    Refused,
    /// Never answer: the client times out.
    Drop,
    /// Answer normally after `delay`.
    Delay,
    /// Over UDP: an empty answer with TC set; over TCP: the full answer.
    Truncate,
}

impl DnsAction {
    /// The name a scenario writes (`action = "servfail"`), for messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsAction::Nxdomain => "nxdomain",
            DnsAction::Nodata => "nodata",
            DnsAction::Servfail => "servfail",
            DnsAction::Refused => "refused",
            DnsAction::Drop => "drop",
            DnsAction::Delay => "delay",
            DnsAction::Truncate => "truncate",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    #[serde(default)]
    pub hosts: Vec<SmtpHost>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpHost {
    /// The host's DNS name (an MX target in the zones).
    pub name: Spanned<String>,
    /// Its loopback address; default: the name's A record in the zones.
    #[serde(default)]
    pub address: Option<Spanned<IpAddr>>,
    /// Text of the 220 greeting; default `<name> ESMTP mxlab`.
    #[serde(default)]
    pub banner: Option<String>,
    /// EHLO keywords offered; default PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8.
    #[serde(default)]
    pub extensions: Option<Vec<String>>,
    /// STARTTLS and the certificate presented (signed by the scenario's own CA).
    #[serde(default)]
    pub tls: Option<Spanned<Tls>>,
    /// How the host treats the sender's SPF at MAIL FROM: `off` (default), or `strict` — fail
    /// → `550 5.7.23`, temperror → `451 4.7.24`, permerror → `550 5.7.24` (RFC 7372), unless a
    /// rule scripts otherwise.
    #[serde(default)]
    pub spf: Gate,
    /// DNS blocklist zones the host asks about each connecting IP (RFC 5782); listed →
    /// `554 5.7.1 … blocked using ZONE` at RCPT, unless a rule scripts otherwise.
    #[serde(default)]
    pub dnsbl: Vec<Spanned<String>>,
    /// `strict`: the connecting IP needs a PTR whose name resolves back to it; otherwise
    /// `450 4.7.25 Client host rejected: cannot find your hostname` at RCPT.
    #[serde(default)]
    pub reverse_dns: Gate,
    /// `strict`: the From domain's DMARC policy applies at end-of-data (SPF alignment only):
    /// reject → `550 5.7.26`, quarantine → accepted into junk.
    #[serde(default)]
    pub dmarc: Gate,
    /// Scripted behaviour, checked in order; the first rule whose stage and conditions match
    /// decides. Stages without a matching rule behave like a healthy server.
    #[serde(default)]
    pub rules: Vec<SmtpRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    #[serde(default)]
    pub certificate: Certificate,
    #[serde(default)]
    pub offered: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certificate {
    #[default]
    Valid,
    Expired,
    WrongName,
    SelfSigned,
}

/// Whether a host enforces a receiver policy by default (`strict`) or only where its rules
/// ask (`off`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    #[default]
    Off,
    Strict,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpRule {
    pub stage: Stage,
    /// Condition: the attempt number, counted per client IP + sender + recipients, from 1:
    /// `"1"`, `"1-3"`, `"4-"`.
    #[serde(default)]
    pub attempts: Option<CountRange>,
    /// Condition: the recipient (RCPT and later), exact or with `*` wildcards. At DATA and
    /// end-of-data it holds when any recipient accepted in the transaction matches.
    #[serde(default)]
    pub recipient: Option<String>,
    /// Condition (rcpt and later): less than this long since this client IP, sender and
    /// recipient were first seen: greylisting. At DATA and end-of-data, for any accepted
    /// recipient (with `recipient`, for one that matches it).
    #[serde(default)]
    pub within: Option<Dur>,
    /// Condition (banner and later): more than this many sessions open at the host, this one
    /// included: rate limiting.
    #[serde(default)]
    pub connections_over: Option<u32>,
    /// Condition (end-of-data): the message is larger than this many bytes.
    #[serde(default)]
    pub size_over: Option<u64>,
    /// Condition (end-of-data): the header section is larger than this many bytes.
    #[serde(default)]
    pub header_bytes_over: Option<u64>,
    /// Condition (mail and later): the sender's SPF result as this server evaluates it
    /// (`pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`). The host
    /// evaluates SPF when a rule asks for it or its `spf` is `strict`.
    #[serde(default)]
    pub spf: Option<SpfResult>,
    /// Condition (banner and later): `listed` when one of the host's `dnsbl` zones lists the
    /// client IP (`not-listed` otherwise).
    #[serde(default)]
    pub dnsbl: Option<DnsblResult>,
    /// Condition (banner and later): the client IP's reverse DNS as this host sees it
    /// (`confirmed`, `missing`, `mismatch`, `temperror`).
    #[serde(default)]
    pub reverse_dns: Option<ReverseDns>,
    /// Condition (end-of-data): the From domain's DMARC disposition as this host evaluates it
    /// (`pass`, `none`, `quarantine`, `reject`, `temperror`).
    #[serde(default)]
    pub dmarc: Option<DmarcDisposition>,
    /// What to do; default `reply` when `reply` is set, else `accept`.
    #[serde(default)]
    pub action: Option<SmtpAction>,
    /// The reply line(s), e.g. `"451 4.4.7 Message delayed"`; `\n` separates lines of a
    /// multi-line reply.
    #[serde(default)]
    pub reply: Option<Reply>,
    /// Wait this long before acting.
    #[serde(default)]
    pub delay: Option<Dur>,
    /// With `stage = "data"` and `action = "close"`: answer 354, take this many bytes of the
    /// message, then drop the connection.
    #[serde(default)]
    pub after_bytes: Option<u64>,
    /// With `stage = "data"`: read the message at most this many bytes per second of story
    /// time (a slow link, a struggling server).
    #[serde(default)]
    pub read_rate: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpAction {
    /// Behave like a healthy server at this stage.
    Accept,
    /// Send `reply`.
    Reply,
    /// connect only: the port is closed (RST, "connection refused").
    Refuse,
    /// connect only: the SYN is never answered; the client's connect times out.
    Drop,
    /// Never answer at this stage; the client's timeout fires.
    Stall,
    /// Close the connection without a reply.
    Close,
}

impl SmtpAction {
    /// The name a scenario writes (`action = "stall"`), for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpAction::Accept => "accept",
            SmtpAction::Reply => "reply",
            SmtpAction::Refuse => "refuse",
            SmtpAction::Drop => "drop",
            SmtpAction::Stall => "stall",
            SmtpAction::Close => "close",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// The sending server's own name (Exchange: `srv01.mycompany.lan`).
    pub hostname: String,
    /// The organisation's mail domain.
    pub domain: String,
    /// The sending IP; loopback only.
    #[serde(default)]
    pub ip: Option<Spanned<IpAddr>>,
    /// Time from submission to the first attempt (a slow server makes this long).
    #[serde(default)]
    pub submission_latency: Dur,
    /// Send delay DSNs (Exchange: ExternalDelayDsnEnabled).
    #[serde(default = "yes")]
    pub delay_dsn: bool,
    #[serde(default)]
    pub transport: Transport,
    /// `standalone` (one Mailbox server) or `dag` (a database availability group).
    #[serde(default)]
    pub topology: SenderTopology,
    /// Exchange shadow redundancy (Set-TransportConfig -ShadowRedundancyEnabled). On a
    /// standalone server there is nowhere to put the shadow copy: HAREDIRECTFAIL.
    #[serde(default)]
    pub shadow_redundancy: bool,
    /// Messages the server can hand to delivery per hour (a slow or overloaded server); the
    /// rest wait in its own queue. Absent: no limit.
    #[serde(default)]
    pub capacity: Option<Spanned<u32>>,
    /// Send only over STARTTLS with a certificate that verifies (Exchange: a send connector
    /// with RequireTLS); otherwise TLS is opportunistic and any certificate will do.
    #[serde(default)]
    pub require_tls: Option<Spanned<bool>>,
    /// The language of the human text in the server's delay notices and NDRs (`en`, `ja`):
    /// a Japanese Exchange writes them in Japanese; the `message/delivery-status` part is
    /// the same in every language.
    #[serde(default)]
    pub language: Lang,
    pub messages: Vec<MessageSpec>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SenderTopology {
    #[default]
    Standalone,
    Dag,
}

fn yes() -> bool {
    true
}

/// Exchange transport settings; every default is Exchange's (docs/FACTS.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Transport {
    pub delay_notification_timeout: Dur,
    pub message_expiration_timeout: Dur,
    pub transient_failure_retry_count: u32,
    pub transient_failure_retry_interval: Dur,
    pub outbound_connection_failure_retry_interval: Dur,
    pub message_retry_interval: Dur,
    /// TCP connect timeout. Windows gives up on an unanswered SYN after about 21 s
    /// (three tries), which is when Exchange logs Winsock error 10060.
    pub connect_timeout: Dur,
    /// Client timeouts per RFC 5321 §4.5.3.2.
    pub banner_timeout: Dur,
    pub command_timeout: Dur,
    pub data_timeout: Dur,
    pub data_termination_timeout: Dur,
    /// Each DNS query's timeout, and how many times it is sent.
    pub dns_timeout: Dur,
    pub dns_attempts: u32,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            delay_notification_timeout: Dur::from_hours(4),
            message_expiration_timeout: Dur::from_hours(48),
            transient_failure_retry_count: 6,
            transient_failure_retry_interval: Dur::from_mins(5),
            outbound_connection_failure_retry_interval: Dur::from_mins(10),
            message_retry_interval: Dur::from_mins(5),
            connect_timeout: Dur::from_secs(21),
            banner_timeout: Dur::from_mins(5),
            command_timeout: Dur::from_mins(5),
            data_timeout: Dur::from_mins(2),
            data_termination_timeout: Dur::from_mins(10),
            dns_timeout: Dur::from_secs(5),
            dns_attempts: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// Submission time as an offset from `start`.
    #[serde(default)]
    pub at: Dur,
    /// This many identical messages (a mailing, a backlog); default 1.
    #[serde(default)]
    pub count: Option<Spanned<u32>>,
    /// Overrides `sender.submission_latency` for this message.
    #[serde(default)]
    pub submission_latency: Option<Dur>,
    /// Body text; a short default note when absent.
    #[serde(default)]
    pub body: Option<String>,
    /// Extra header lines (`Name: value`), added after the standard ones.
    #[serde(default)]
    pub headers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The rule id the verdict must name; an id `mxlab rules` does not list is a load error.
    pub verdict: RuleId,
    /// Rule ids that must be among the findings.
    #[serde(default)]
    pub findings: Vec<RuleId>,
    /// When true, the findings must be exactly `findings` (plus the verdict's).
    #[serde(default)]
    pub exact_findings: bool,
    #[serde(default)]
    pub artifacts: Vec<ArtifactExpect>,
    /// The cause named for each of these recipients.
    #[serde(default)]
    pub recipients: Vec<RecipientExpect>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientExpect {
    pub address: String,
    /// The rule that must explain this recipient's failure or delay (`ok.delivered` when
    /// nothing held it up).
    pub cause: RuleId,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactExpect {
    pub artifact: ArtifactKind,
    /// Which one of a list artifact (dsn, ndr, transcript), from 0; default: any of them.
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub contains: Option<String>,
    /// A regular expression (Rust `regex` syntax).
    #[serde(default)]
    pub matches: Option<Pattern>,
    /// When true, the artifact must not exist (or must not contain / match).
    #[serde(default)]
    pub absent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    Dsn,
    Ndr,
    Transcript,
    DnsLog,
    Queue,
    TrackingLog,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Dsn => "dsn",
            ArtifactKind::Ndr => "ndr",
            ArtifactKind::Transcript => "transcript",
            ArtifactKind::DnsLog => "dns_log",
            ArtifactKind::Queue => "queue",
            ArtifactKind::TrackingLog => "tracking_log",
        }
    }
}
