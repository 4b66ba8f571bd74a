//! What an error text says happened, read as an administrator reads it: the reply code and
//! the RFC 3463 enhanced status first where they are specific, the wording where the code is
//! generic or shared (a `451 4.7.1` may be greylisting, SPF or a blocklist; a `552` may be a
//! full mailbox or a message too big), and the table of real-world wordings
//! ([`super::wordings`]) for what neither pins down.
//!
//! These readers are the checker's own: they share no constant or function with the code
//! that wrote the text, so they read a simulated Exchange and a real Postfix alike.

use mxlab_vocab::{EnhancedStatus, ReverseDns, RuleId, SpfResult, TlsFailure};

/// What one error says happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symptom {
    /// The sending server's own summary of time passing (`400 4.4.7 Message delayed`,
    /// `QUEUE.Expired`): never a cause.
    Summary,
    ConnectTimeout,
    ConnectRefused,
    /// The connection failed, and the text does not say whether it was refused or timed out.
    ConnectFailed,
    BannerTimeout,
    DataTimeout,
    /// The connection was dropped on a timeout after it was made; which stage is not said.
    DroppedTimedOut,
    Disconnected,
    DnsNxDomain,
    DnsNoMailRecords,
    DnsNullMx,
    DnsNoAddress,
    /// A DNS lookup failed for now (SERVFAIL, timeout, refused); `timeout` when it says so.
    DnsTempFailure {
        timeout: bool,
    },
    Tls(TlsFailure),
    TlsRequired,
    Greylisted,
    RateLimited,
    MailboxFull,
    UserUnknown,
    RelayDenied,
    TooBig,
    HeaderTooBig,
    /// The receiver blames SPF; the result it implies, when its code says.
    Spf(Option<SpfResult>),
    /// The sending IP (or the sender) is on a blocklist the receiver uses.
    Blocklisted,
    /// The receiver wants a PTR for the sending IP that resolves back to it; whether the
    /// text says the PTR is missing or does not match, when it says.
    ReverseDns(Option<ReverseDns>),
    /// The receiver applied the sender domain's DMARC policy.
    Dmarc,
    /// A policy refusal: reputation, content, or a bare 5.7.x.
    Policy {
        specific: bool,
    },
    /// Some other temporary refusal.
    Transient,
    /// Some other permanent refusal.
    Permanent,
    Unknown,
}

impl Symptom {
    /// The cause this symptom names by itself, before probes localise it.
    pub fn rule(&self) -> RuleId {
        use Symptom as S;
        match self {
            S::Summary | S::Unknown => RuleId::Inconclusive,
            S::ConnectTimeout => RuleId::SmtpConnectTimeout,
            S::ConnectRefused => RuleId::SmtpConnectRefused,
            S::ConnectFailed => RuleId::SmtpConnectFailed,
            S::BannerTimeout => RuleId::SmtpBannerTimeout,
            S::DataTimeout | S::DroppedTimedOut => RuleId::SmtpDataTimeout,
            S::Disconnected => RuleId::SmtpDataDisconnected,
            S::DnsNxDomain => RuleId::DnsMxNxdomain,
            S::DnsNoMailRecords => RuleId::DnsMxMissing,
            S::DnsNullMx => RuleId::DnsMxNull,
            S::DnsNoAddress => RuleId::DnsMxTargetUnresolvable,
            S::DnsTempFailure { timeout: true } => RuleId::DnsTimeout,
            S::DnsTempFailure { timeout: false } => RuleId::DnsServfail,
            S::Tls(TlsFailure::CertificateExpired | TlsFailure::CertificateNotYetValid) => {
                RuleId::SmtpTlsCertExpired
            }
            S::Tls(TlsFailure::CertificateNameMismatch) => RuleId::SmtpTlsCertNameMismatch,
            S::Tls(_) => RuleId::SmtpTlsCertUntrusted,
            S::TlsRequired => RuleId::SmtpTlsRequired,
            S::Greylisted => RuleId::SmtpGreylisted,
            S::RateLimited => RuleId::SmtpRateLimited,
            S::MailboxFull => RuleId::SmtpRcptMailboxFull,
            S::UserUnknown => RuleId::SmtpRcptUserUnknown,
            S::RelayDenied => RuleId::SmtpRelayDenied,
            S::TooBig => RuleId::SmtpMessageTooBig,
            S::HeaderTooBig => RuleId::SmtpMessageHeaderLimit,
            S::Spf(Some(SpfResult::SoftFail)) => RuleId::SpfSoftfail,
            S::Spf(Some(SpfResult::None)) => RuleId::SpfNone,
            S::Spf(Some(SpfResult::PermError)) => RuleId::SpfPermerror,
            S::Spf(Some(SpfResult::TempError)) => RuleId::SpfTemperror,
            S::Spf(_) => RuleId::SpfFail,
            S::Blocklisted => RuleId::SenderBlocklisted,
            S::ReverseDns(Some(ReverseDns::Mismatch)) => RuleId::SenderPtrMismatch,
            S::ReverseDns(_) => RuleId::SenderPtrMissing,
            S::Dmarc => RuleId::DmarcReject,
            S::Policy { .. } | S::Permanent => RuleId::SmtpPolicyRejected,
            S::Transient => RuleId::SmtpRcptTransient,
        }
    }

    /// The symptom a cause in the wordings table stands for.
    pub fn of_rule(rule: RuleId) -> Option<Symptom> {
        use Symptom as S;
        Some(match rule {
            RuleId::SmtpConnectTimeout => S::ConnectTimeout,
            RuleId::SmtpConnectRefused => S::ConnectRefused,
            RuleId::SmtpConnectFailed => S::ConnectFailed,
            RuleId::SmtpBannerTimeout => S::BannerTimeout,
            RuleId::SmtpDataTimeout => S::DataTimeout,
            RuleId::SmtpDataDisconnected => S::Disconnected,
            RuleId::DnsMxNxdomain => S::DnsNxDomain,
            RuleId::DnsMxMissing => S::DnsNoMailRecords,
            RuleId::DnsMxNull => S::DnsNullMx,
            RuleId::DnsMxTargetUnresolvable => S::DnsNoAddress,
            RuleId::DnsTimeout => S::DnsTempFailure { timeout: true },
            RuleId::DnsServfail | RuleId::DnsLocalResolver | RuleId::DnsLameDelegation => {
                S::DnsTempFailure { timeout: false }
            }
            RuleId::SmtpTlsCertExpired => S::Tls(TlsFailure::CertificateExpired),
            RuleId::SmtpTlsCertNameMismatch => S::Tls(TlsFailure::CertificateNameMismatch),
            RuleId::SmtpTlsCertUntrusted => S::Tls(TlsFailure::UnknownIssuer),
            RuleId::SmtpTlsRequired => S::TlsRequired,
            RuleId::SmtpGreylisted => S::Greylisted,
            RuleId::SmtpRateLimited => S::RateLimited,
            RuleId::SmtpRcptMailboxFull => S::MailboxFull,
            RuleId::SmtpRcptUserUnknown => S::UserUnknown,
            RuleId::SmtpRelayDenied => S::RelayDenied,
            RuleId::SmtpMessageTooBig => S::TooBig,
            RuleId::SmtpMessageHeaderLimit => S::HeaderTooBig,
            RuleId::SpfFail => S::Spf(Some(SpfResult::Fail)),
            RuleId::SpfSoftfail => S::Spf(Some(SpfResult::SoftFail)),
            RuleId::SpfNone => S::Spf(Some(SpfResult::None)),
            RuleId::SpfPermerror => S::Spf(Some(SpfResult::PermError)),
            RuleId::SpfTemperror => S::Spf(Some(SpfResult::TempError)),
            RuleId::SenderBlocklisted => S::Blocklisted,
            RuleId::SenderPtrMissing => S::ReverseDns(Some(ReverseDns::Missing)),
            RuleId::SenderPtrMismatch => S::ReverseDns(Some(ReverseDns::Mismatch)),
            RuleId::DmarcReject | RuleId::DmarcQuarantine => S::Dmarc,
            RuleId::SmtpPolicyRejected => S::Policy { specific: true },
            RuleId::SmtpRcptTransient => S::Transient,
            _ => return None,
        })
    }

    /// A failure of the connection itself — not made, no greeting, broken off or timed out
    /// on the way — rather than a refusal the server spoke.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            Symptom::ConnectTimeout
                | Symptom::ConnectRefused
                | Symptom::ConnectFailed
                | Symptom::BannerTimeout
                | Symptom::DataTimeout
                | Symptom::DroppedTimedOut
                | Symptom::Disconnected
        )
    }

    /// A refusal whose text names no specific reason.
    pub fn is_generic(&self) -> bool {
        matches!(
            self,
            Symptom::Transient
                | Symptom::Permanent
                | Symptom::Unknown
                | Symptom::Policy { specific: false }
        )
    }
}

/// The reply code and enhanced status at the start of an error, as notices write them:
/// `550 5.1.1 …`, `550-5.1.1 …`, `smtp; 550 …`, `'441 4.4.1 …'`, or a bare `5.1.1 …`.
pub fn code_and_status(text: &str) -> (Option<u16>, Option<EnhancedStatus>) {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\'' || c == '"');
    let t = match t.split_once(';') {
        Some((kind, rest)) if kind.len() <= 12 && !kind.contains(' ') => rest.trim_start(),
        _ => t,
    };
    let mut words = t.split([' ', '-', '\t']).filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("");
    let code = (first.len() == 3 && first.bytes().all(|b| b.is_ascii_digit()))
        .then(|| first.parse::<u16>().ok())
        .flatten()
        .filter(|c| (200..600).contains(c));
    let status_word = if code.is_some() {
        // Some relays repeat the code they pass on: `554 554 5.7.0 …`.
        words
            .next()
            .filter(|w| *w != first)
            .or_else(|| words.next())
    } else {
        Some(first)
    };
    let status = status_word
        .map(|w| w.trim_end_matches([',', ';', ':']).trim_start_matches('#'))
        .and_then(EnhancedStatus::parse)
        .filter(|s| code.is_none_or(|c| u16::from(s.class) == c / 100 || c / 100 == 5));
    (code, status)
}

/// A phrase that names a reason, in any casing; all of its parts must appear.
struct Phrase {
    symptom: fn() -> Symptom,
    any_of: &'static [&'static [&'static str]],
}

/// Ordered: the first phrase that matches decides, so the more specific come first (a header
/// that is too large before a message that is too large; a domain that does not exist before
/// a user that does not).
static PHRASES: &[Phrase] = &[
    Phrase {
        symptom: || Symptom::Summary,
        any_of: &[&["400 4.4.7 message delayed"], &["queue.expired"]],
    },
    Phrase {
        symptom: || Symptom::ConnectRefused,
        any_of: &[
            &["refused to talk to me"],
            &["winsock error code: 10061"],
            &["connection refused"],
            &["actively refused"],
            &["econnrefused"],
        ],
    },
    Phrase {
        symptom: || Symptom::ConnectTimeout,
        any_of: &[
            &["connection timed out"],
            &["timed out during user open"],
            &["winsock error code: 10060"],
            &["connect to", "timed out"],
            &["did not accept our requests to connect"],
            &["connection attempt failed"],
        ],
    },
    // A connection closed or reset before any greeting: it failed, but not by a timeout.
    Phrase {
        symptom: || Symptom::ConnectFailed,
        any_of: &[
            &["lost connection", "initial server greeting"],
            &["connect to", "connection reset"],
        ],
    },
    Phrase {
        symptom: || Symptom::BannerTimeout,
        any_of: &[
            &["initial server greeting"],
            &["greeting wait"],
            &["greeting never"],
            &["timeout after initial connection"],
            &["initial server greeting", "timed out"],
            &["greeting", "timeout"],
            &["waiting for", "banner"],
        ],
    },
    Phrase {
        symptom: || Symptom::DataTimeout,
        any_of: &[
            &["timeout waiting for data"],
            &["timed out", "end of data"],
            &["timed out", "message body"],
            &["timed out", "after data"],
            &["data timeout"],
        ],
    },
    Phrase {
        symptom: || Symptom::Disconnected,
        any_of: &[
            &["socketerror"],
            &["lost connection"],
            &["connection reset"],
            &["broken pipe"],
            &["connection closed"],
            &["closed connection"],
            &["closed the connection"],
            &["connection dropped", "socket"],
            &["unexpectedly closed"],
            // qmail: "Connected to 192.0.2.1 but connection died. (#4.4.2)"
            &["connection died"],
        ],
    },
    Phrase {
        symptom: || Symptom::DroppedTimedOut,
        any_of: &[
            &["connection dropped", "timeout"],
            &["connection dropped", "timedout"],
            &["connection dropped", "timed out"],
        ],
    },
    Phrase {
        symptom: || Symptom::Tls(TlsFailure::CertificateExpired),
        any_of: &[
            &["certificateexpired"],
            &["certificate has expired"],
            &["certificate expired"],
            &["expired certificate"],
        ],
    },
    Phrase {
        symptom: || Symptom::Tls(TlsFailure::CertificateNameMismatch),
        any_of: &[
            &["certificatenamemismatch"],
            &["name mismatch"],
            &["hostname mismatch"],
            &["certificate is not valid for"],
            &["does not match", "certificate"],
            &["doesn't match", "certificate"],
            &["not match", "certificate"],
        ],
    },
    Phrase {
        symptom: || Symptom::Tls(TlsFailure::UnknownIssuer),
        any_of: &[
            &["unknownissuer"],
            &["self-signed"],
            &["self signed"],
            &["unable to get local issuer"],
            &["untrusted", "certificate"],
            &["certificate verify failed"],
            &["certificate not verified"],
            &["not trusted"],
        ],
    },
    Phrase {
        symptom: || Symptom::TlsRequired,
        any_of: &[
            &["start tls"],
            &["must issue a starttls"],
            &["starttls", "required"],
            &["starttls", "first"],
            &["tls", "required"],
            &["requires tls"],
            &["encryption required"],
            &["must use tls"],
            &["starttlsnotoffered"],
            &["tls is not offered"],
        ],
    },
    Phrase {
        symptom: || Symptom::Tls(TlsFailure::Other(String::new())),
        any_of: &[
            &["tls negotiation failed"],
            &["tls handshake"],
            &["ssl handshake"],
        ],
    },
    // After the timeouts and TLS: "Failed to connect" with a Winsock 10060 is a timeout, and
    // "Cannot connect … TLS negotiation failed" a TLS failure.
    Phrase {
        symptom: || Symptom::ConnectFailed,
        any_of: &[
            &["failed to connect"],
            &["unable to connect"],
            &["could not connect"],
            &["cannot connect"],
            &["can't connect"],
            &["no route to host"],
            &["network is unreachable"],
            &["host is unreachable"],
            &["connection failed"],
            &["establish an smtp connection"],
            &["establish a connection"],
        ],
    },
    // Reverse DNS is the receiver's check of the sender, not a lookup of the recipient's:
    // before the DNS phrases ("Reverse DNS lookup … failed").
    Phrase {
        symptom: || Symptom::ReverseDns(None),
        any_of: &[
            &["reverse dns"],
            &["reverse-dns"],
            &["reverse hostname"],
            &["reverse lookup"],
            &["reverse mapping"],
            &["rdns"],
            &["ptr"],
            &["fcrdns"],
            &["cannot find your hostname"],
            &["ip name lookup"],
            &["no host name found for"],
            &["hostname", "does not resolve"],
            &["ip must resolve"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsNullMx,
        any_of: &[
            &["nullmx"],
            &["does not accept mail"],
            // Exim: "an MX or SRV record indicated no SMTP service". A greeting's "554 No
            // SMTP service here" (RFC 5321 §3.1) is a refusal of the client, not a null MX.
            &["indicated no smtp service"],
            &["null mx"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsTempFailure { timeout: false },
        any_of: &[
            &["host not found, try again"],
            &["host name lookup failure"],
            &["temporary failure in name resolution"],
            &["dns lookup failure", "try again"],
            &["name service error", "try again"],
        ],
    },
    // An address lookup that found no such name: the host (an MX target) has no address,
    // whatever the domain's MX says.
    Phrase {
        symptom: || Symptom::DnsNoAddress,
        any_of: &[&["a: nxdomain"], &["aaaa: nxdomain"]],
    },
    // The name exists but has no record of the type asked (Postfix's words for a domain with
    // neither MX nor address, after its fallback to A).
    Phrase {
        symptom: || Symptom::DnsNoMailRecords,
        any_of: &[
            &["host found but no data record"],
            &["no data record of requested type"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsNxDomain,
        any_of: &[
            &["unrouteable address"],
            &["infodomainnonexistent"],
            &["domain", "does not exist"],
            &["host unknown"],
            &["host", "not found"],
            &["nonexistentdomain"],
            &["non-existent domain"],
            &["nonexistent domain"],
            &["nxdomain"],
            &["couldn't find any host named"],
            &["could not find any host named"],
            &["no such host"],
            &["domain not found"],
            &["no such domain"],
            &["domain does not exist"],
            &["domain name not found", "host not found"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsNoAddress,
        any_of: &[
            &["could not resolve any ip"],
            &["host found but no data"],
            &["no address record"],
            &["point to non-existent hosts"],
            &["mx", "non-existent host"],
            &["mx", "has no address"],
            &["mx", "no a record"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsNoMailRecords,
        any_of: &[
            &["infonorecords"],
            &["no relevant answers"],
            &["no mx and no a"],
            &["has no mx"],
            &["no mx record"],
            &["no mail exchanger"],
            &["no valid mx"],
            &["unable to route"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsTempFailure { timeout: true },
        any_of: &[
            &["dns", "timed out"],
            &["dns", "timeout"],
            &["name service", "timed out"],
        ],
    },
    Phrase {
        symptom: || Symptom::DnsTempFailure { timeout: false },
        any_of: &[
            &["general failure"],
            &["host name lookup failure"],
            &["dns lookup failure"],
            &["failed to resolve"],
            &["lookup did not complete"],
            &["lookup", "deferred"],
            &["dns query failed"],
            &["name service error"],
            &["servfail"],
            &["dns error"],
            &["dns failure"],
            &["temporary dns"],
            &["dns lookup"],
            &["could not resolve"],
            &["host not found, try again"],
        ],
    },
    Phrase {
        symptom: || Symptom::HeaderTooBig,
        any_of: &[
            &["header", "exceed"],
            &["header", "long"],
            &["header", "exceeds"],
            &["header", "too large"],
            &["header", "too long"],
            &["header", "too big"],
            &["header", "size limit"],
            &["header", "limit"],
        ],
    },
    Phrase {
        symptom: || Symptom::Dmarc,
        any_of: &[
            &["dmarc"],
            &["domain owner policy"],
            &["message not accepted for policy reasons"],
        ],
    },
    // "The sender is unauthenticated" (Gmail): SPF or DKIM did not pass; the checker's own
    // SPF evaluation tells which.
    Phrase {
        symptom: || Symptom::Spf(None),
        any_of: &[
            &["unauthenticated"],
            &["authenticate with"],
            &["not pass", "spf"],
            &["authentication checks"],
            &["authentication information"],
        ],
    },
    Phrase {
        symptom: || Symptom::Blocklisted,
        any_of: &[
            &["blocked using"],
            &["blocklist"],
            &["blacklist"],
            &["block list"],
            &["black list"],
            &["denylist"],
            &["spamhaus"],
            &["barracuda"],
            &["spamcop"],
            &["sorbs"],
            &["dnsbl"],
            &["rbl"],
            &["banned sending ip"],
            &["not accepted from this ip"],
            &["client host blocked"],
            &["your ip is", "blocked"],
            &["ip", "listed"],
            &["client", "listed"],
        ],
    },
    Phrase {
        symptom: || Symptom::RateLimited,
        any_of: &[
            &["too many recipients"],
            &["concurrency"],
            &["too quickly"],
            &["too fast"],
            &["server busy"],
            &["submission rate"],
            &["rate", "exceeded"],
            &["frequency"],
            &["too many connections"],
            &["too many sessions"],
            &["too much email"],
            &["too much mail"],
            &["too many concurrent"],
            &["concurrent", "connections"],
            &["connection limit"],
            &["rate limit"],
            &["ratelimit"],
            &["rate-limit"],
            &["throttl"],
            &["too many messages"],
            &["at a rate"],
            &["unusual rate"],
            &["exceeded the rate"],
            &["sending rate"],
            &["unexpected volume"],
            &["slow down"],
            &["try again later", "too many"],
        ],
    },
    Phrase {
        symptom: || Symptom::Policy { specific: true },
        any_of: &[&["reputation"]],
    },
    Phrase {
        symptom: || Symptom::Spf(None),
        any_of: &[
            &["not designated"],
            &["designated sender"],
            &["spf"],
            &["sender policy framework"],
        ],
    },
    Phrase {
        symptom: || Symptom::Greylisted,
        any_of: &[
            &["internal resource", "temporarily unavailable"],
            &["greylist"],
            &["graylist"],
            &["grey list"],
            &["gray list"],
            &["greylisted"],
            &["internal resource temporarily unavailable"],
            &["not yet authorized to deliver"],
        ],
    },
    Phrase {
        symptom: || Symptom::RelayDenied,
        any_of: &[
            &["rcpthosts"],
            &["not in my list of allowed"],
            &["isn't in my list"],
            &["relay"],
            &["relay access denied"],
            &["relaying denied"],
            &["relay not permitted"],
            &["not permitted to relay"],
            &["unable to relay"],
            &["relay denied"],
            &["do not relay"],
            &["relaying not allowed"],
            &["not allowed to relay"],
            &["relay prohibited"],
            &["tenantattribution"],
            &["relaying to", "denied"],
        ],
    },
    Phrase {
        symptom: || Symptom::MailboxFull,
        any_of: &[
            &["mailbox", "full"],
            &["mailbox full"],
            &["mailbox is full"],
            &["over quota"],
            &["overquota"],
            &["quota exceeded"],
            &["exceeded", "quota"],
            &["exceeds", "quota"],
            &["mailbox", "exceeded"],
            &["out of storage"],
            &["exhausted", "storage"],
            &["storage space"],
            &["storage", "full"],
            &["storage allocation"],
            &["user is over"],
        ],
    },
    Phrase {
        symptom: || Symptom::UserUnknown,
        any_of: &[
            // A mailbox that exists but is switched off takes no mail either; to the sender
            // it is an address that no longer works.
            &["account", "disabled"],
            &["mailbox", "disabled"],
            &["recipient", "disabled"],
            &["account", "inactive"],
            &["account", "suspended"],
            &["mailbox", "suspended"],
            &["user not found"],
            &["no such account"],
            &["no such active account"],
            &["user unknown"],
            &["unknown user"],
            &["no such user"],
            &["unknown recipient"],
            &["recipient unknown"],
            &["no such recipient"],
            &["recipient not found"],
            &["recipientnotfound"],
            &["recipnotfound"],
            &["not listed in domino directory"],
            &["not listed in public name"],
            &["no mailbox here by that name"],
            &["no such mailbox"],
            &["mailbox not found"],
            &["mailbox unavailable"],
            &["mailbox does not exist"],
            &["no mailbox"],
            &["invalid recipient"],
            &["invalid mailbox"],
            &["address rejected", "access denied"],
            &["account", "does not exist"],
            &["address", "does not exist"],
            &["user", "does not exist"],
            &["doesn't have a", "account"],
            &["address", "couldn't be found"],
            &["address", "could not be found"],
            &["address not found"],
            &["user not exist"],
            &["invalid user"],
            &["invalid", "userid"],
            &["not a valid", "recipient"],
        ],
    },
    Phrase {
        symptom: || Symptom::Policy { specific: true },
        any_of: &[
            &["access denied"],
            // A mailing list that takes no posts from the sender.
            &["permission to post"],
            &["投稿する権限"],
        ],
    },
    Phrase {
        symptom: || Symptom::TooBig,
        any_of: &[
            &["message size exceeds"],
            &["size exceeds"],
            &["too big"],
            &["too large"],
            &["size limit"],
            &["maximum message size"],
            &["maximum size"],
            &["exceeded", "size"],
            &["exceeds", "size"],
            &["message exceeded"],
        ],
    },
    Phrase {
        symptom: || Symptom::DroppedTimedOut,
        any_of: &[&["timed out"], &["timeout"]],
    },
];

/// `part` where a word starts in `text` (it may end inside one: "greylist" finds
/// "greylisted", but "rbl" does not find "marblehead", nor "rdns" "ErrorDnsQuery").
pub(crate) fn has_word(text: &str, part: &str) -> bool {
    text.match_indices(part).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// The text without what names things rather than says things: addresses, URLs, and
/// `<…>` / `[…]` parts without a space in them (`<joe@spf-example.com>`, `[192.0.2.1]`,
/// `[smtp-relay.example.com]`; Exchange's `[Message=TLS negotiation failed …]` stays). A host
/// called smtp-relay or a user called spf-admin is no reason.
fn wording(lower: &str) -> String {
    lower
        .split_whitespace()
        .filter(|w| {
            let closes = |open: char, close: char| {
                w.starts_with(open) && w.trim_end_matches([',', ':', ';', '.']).ends_with(close)
            };
            let bracketed = closes('<', '>') || closes('[', ']') || closes('(', ')');
            !bracketed && !w.contains('@') && !w.contains("://") && !w.starts_with("www.")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn phrase(lower: &str) -> Option<Symptom> {
    let text = wording(lower);
    PHRASES
        .iter()
        .find(|p| {
            p.any_of
                .iter()
                .any(|all| all.iter().all(|w| has_word(&text, w)))
        })
        .map(|p| (p.symptom)())
}

/// A DNS failure read with the recipient's domain in hand: Postfix names the name it looked
/// up (`name=mail.example.net type=A: Host not found`), and an address lookup for another name
/// than the domain is a lookup for its MX host — a host without an address, not a domain
/// without mail.
pub fn for_domain(symptom: Symptom, text: &str, domain: &str) -> Symptom {
    if !matches!(symptom, Symptom::DnsNxDomain | Symptom::DnsNoMailRecords) || domain.is_empty() {
        return symptom;
    }
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.find("name=") else {
        return symptom;
    };
    let rest = &lower[at + "name=".len()..];
    let name = rest
        .split([' ', '\t'])
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let address_lookup = rest.contains("type=a:") || rest.contains("type=aaaa:");
    if address_lookup && !name.is_empty() && name != domain.trim_end_matches('.') {
        Symptom::DnsNoAddress
    } else {
        symptom
    }
}

/// The SPF result a refusal's words name, when they name one.
fn spf_said(lower: &str) -> Option<SpfResult> {
    let spf = lower.contains("spf") || lower.contains("sender policy framework");
    if !spf {
        return None;
    }
    if lower.contains("softfail") || lower.contains("soft fail") {
        Some(SpfResult::SoftFail)
    } else if lower.contains("permerror") || lower.contains("permanent error") {
        Some(SpfResult::PermError)
    } else if lower.contains("temperror") || lower.contains("temporary error") {
        Some(SpfResult::TempError)
    } else if [
        "no spf record",
        "spf none",
        "no spf",
        "does not publish",
        "without an spf",
        "without spf",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(SpfResult::None)
    } else {
        None
    }
}

/// A link in the text that an administrator would recognise as a blocklist's lookup page
/// (`…/dnsbl-lookup.cgi?ip=…`, `check.spamhaus.org/…`), when the words themselves say only
/// "blocked".
fn links_to_a_blocklist(lower: &str) -> bool {
    lower
        .split_whitespace()
        .filter(|w| w.contains("://") || w.starts_with("www."))
        .any(|url| {
            [
                "dnsbl",
                "blocklist",
                "blacklist",
                "rbl",
                "spamhaus",
                "spamcop",
                "barracudacentral",
                "sorbs",
            ]
            .iter()
            .any(|k| url.contains(k))
        })
}

/// Whether a reverse-DNS refusal says the PTR is missing or does not resolve back; `None`
/// when it says either or both ("no PTR record, or the forward entry does not point to the
/// sending IP") or neither ("cannot find your hostname").
pub fn ptr_fault(lower: &str) -> Option<ReverseDns> {
    let text = wording(lower);
    let said = |parts: &[&[&str]]| {
        parts
            .iter()
            .any(|all| all.iter().all(|w| has_word(&text, w)))
    };
    let missing = said(&[
        &["no ptr"],
        &["no reverse"],
        &["without reverse"],
        &["without a reverse"],
        &["not have a ptr"],
        &["have a reverse dns record"],
        &["missing ptr"],
        &["ptr", "missing"],
        &["reverse hostname"],
        &["no host name found"],
        &["ptr", "not found"],
    ]);
    let mismatch = said(&[
        &["does not match"],
        &["doesn't match"],
        &["do not match"],
        &["mismatch"],
        &["does not resolve"],
        &["does not point to"],
        &["not point to the"],
        &["forward"],
        &["resolve back"],
    ]);
    match (missing, mismatch) {
        (true, false) => Some(ReverseDns::Missing),
        (false, true) => Some(ReverseDns::Mismatch),
        _ => None,
    }
}

/// What the enhanced status says by itself, where it is specific.
fn by_status(s: EnhancedStatus) -> Option<Symptom> {
    Some(match (s.class, s.subject, s.detail) {
        (5, 1, 1) | (5, 1, 10) => Symptom::UserUnknown,
        (_, 1, 2) => Symptom::DnsNxDomain,
        (_, 2, 2) => Symptom::MailboxFull,
        (_, 2, 3) | (_, 3, 4) => Symptom::TooBig,
        (_, 4, 1) => Symptom::ConnectTimeout,
        (_, 4, 3) => Symptom::DnsTempFailure { timeout: false },
        (5, 4, 4) => Symptom::DnsNoMailRecords,
        (5, 7, 23) => Symptom::Spf(Some(SpfResult::Fail)),
        (4, 7, 24) => Symptom::Spf(Some(SpfResult::TempError)),
        (5, 7, 24) => Symptom::Spf(Some(SpfResult::PermError)),
        // RFC 7372: reverse DNS validation failed; several authentication checks failed
        // (DMARC, as receivers use it). Microsoft 365: banned sending IPs and IPs it takes
        // no traffic from (5.7.606–5.7.649, 5.7.708).
        (_, 7, 25) => Symptom::ReverseDns(None),
        (_, 7, 26) => Symptom::Dmarc,
        (5, 7, 606..=649) | (5, 7, 708) => Symptom::Blocklisted,
        (_, 7, 64) | (_, 7, 54) => Symptom::RelayDenied,
        (5, 7, _) => Symptom::Policy { specific: false },
        _ => return None,
    })
}

/// Reads one error text.
pub fn classify(text: &str) -> Symptom {
    remembered(text).unwrap_or_else(|| {
        let symptom = read(text, true);
        remember(text, &symptom);
        symptom
    })
}

/// The most texts remembered at once, and the longest remembered.
const REMEMBERED: usize = 512;
const REMEMBERED_LEN: usize = 4096;

thread_local! {
    /// What recent texts were read as. A notice's reader, its recipients and the diagnosis
    /// ask about the same few replies many times over (is it a summary, a connection, a
    /// reason), and the nearest-wording search is the costly part. Bounded: emptied when
    /// full, and by `explain` for each notice; reading is pure, so what is remembered never
    /// changes an answer.
    static SEEN: std::cell::RefCell<std::collections::HashMap<String, Symptom>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Forgets every text remembered: a new notice asks about its own.
pub fn forget() {
    SEEN.with(|seen| seen.borrow_mut().clear());
}

fn remembered(text: &str) -> Option<Symptom> {
    SEEN.with(|seen| seen.borrow().get(text).cloned())
}

fn remember(text: &str, symptom: &Symptom) {
    if text.len() > REMEMBERED_LEN {
        return;
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(text.to_string(), symptom.clone());
    });
}

/// The same without the wordings table: what the codes and the checker's own phrases say.
pub fn classify_without_table(text: &str) -> Symptom {
    read(text, false)
}

fn read(text: &str, with_table: bool) -> Symptom {
    let lower = text.to_ascii_lowercase();
    // Postfix's "host … refused to talk to me: <greeting>" quotes the remote's refusal at the
    // greeting: what that says (a blocklist, reverse DNS) is the reason; a bare "554" or
    // "421 Service not available" leaves it a refused conversation.
    if let Some((_, greeting)) = lower.split_once("refused to talk to me:") {
        let inner = read(greeting.trim(), with_table);
        if !inner.is_generic() && inner != Symptom::ConnectRefused {
            return inner;
        }
    }
    // Exim's "retry timeout exceeded" says only that time ran out; what comes before it
    // ("Connection timed out: retry timeout exceeded") is the error, if anything does.
    // qmail's "I'm not going to try again; this message has been in the queue too long."
    // likewise follows the last error.
    for gave_up in [
        "retry timeout exceeded",
        "retry time not reached",
        "i'm not going to try again",
    ] {
        if let Some(at) = lower.find(gave_up) {
            let before = text[..at].trim().trim_end_matches([':', ';', ',']);
            return match read(before, with_table) {
                Symptom::Unknown => Symptom::Summary,
                other => other,
            };
        }
    }
    let (code, mut status) = code_and_status(text);
    // qmail ends its texts with the status in brackets: "… (#5.1.1)".
    if status.is_none()
        && let Some(at) = text.rfind("(#")
    {
        status = text[at + 2..]
            .split(')')
            .next()
            .and_then(EnhancedStatus::parse)
            .filter(|s| code.is_none_or(|c| c / 100 == u16::from(s.class)));
    }
    // Codes that say exactly what happened outrank wording that could mean several things.
    if let Some(s) = status {
        match (s.class, s.subject, s.detail) {
            (_, 2, 2) if !lower.contains("header") => return Symptom::MailboxFull,
            // 5.1.1 is a mailbox, unless the text says the domain itself is unknown (X.1.2).
            (5, 1, 1)
                if ![
                    "domain not found",
                    "no such domain",
                    "host unknown",
                    "nonexistent domain",
                    "domain does not exist",
                ]
                .iter()
                .any(|w| lower.contains(w)) =>
            {
                return Symptom::UserUnknown;
            }
            (5, 7, 23) => return Symptom::Spf(Some(SpfResult::Fail)),
            (4, 7, 24) => return Symptom::Spf(Some(SpfResult::TempError)),
            (5, 7, 24) => return Symptom::Spf(Some(SpfResult::PermError)),
            _ => {}
        }
    }
    if let Some(symptom) = phrase(&lower) {
        let permanent = code.is_some_and(|c| c >= 500);
        match symptom {
            // The words may say which SPF result the receiver saw.
            Symptom::Spf(None) => return Symptom::Spf(spf_said(&lower)),
            Symptom::ReverseDns(None) => return Symptom::ReverseDns(ptr_fault(&lower)),
            // Greylisting is temporary by nature: a permanent refusal that mentions it is not.
            Symptom::Greylisted if permanent => {}
            // A permanent refusal over the sender's rate is a block, not a limit to wait out.
            Symptom::RateLimited
                if permanent && (lower.contains("block") || lower.contains("spam")) =>
            {
                return Symptom::Policy { specific: true };
            }
            _ => return symptom,
        }
    }
    // RFC 7505: 556 is the reply for a recipient domain with a null MX.
    if code == Some(556) {
        return Symptom::DnsNullMx;
    }
    // A bare 421 4.7.0 at the door is the commonest "too many connections".
    if code == Some(421) && status.is_some_and(|s| s.is(7, 0)) {
        return Symptom::RateLimited;
    }
    if let Some(symptom) = status.and_then(by_status) {
        return match symptom {
            Symptom::ReverseDns(None) => Symptom::ReverseDns(ptr_fault(&lower)),
            Symptom::Policy { .. } if links_to_a_blocklist(&lower) => Symptom::Blocklisted,
            other => other,
        };
    }
    if code.is_some_and(|c| c >= 400) && links_to_a_blocklist(&lower) {
        return Symptom::Blocklisted;
    }
    if with_table && let Some(symptom) = super::wordings::nearest(text) {
        return symptom;
    }
    match code {
        Some(c) if (400..500).contains(&c) => Symptom::Transient,
        Some(c) if c >= 500 => match status {
            Some(s) if s.subject == 7 => Symptom::Policy { specific: false },
            _ => Symptom::Permanent,
        },
        _ => Symptom::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_as_notices_write_them() {
        let s = |t| code_and_status(t);
        assert_eq!(
            s("550 5.1.1 User unknown"),
            (Some(550), EnhancedStatus::parse("5.1.1"))
        );
        assert_eq!(
            s("smtp; 550-5.7.26 DMARC"),
            (Some(550), EnhancedStatus::parse("5.7.26"))
        );
        assert_eq!(
            s("'451 4.7.500 later'"),
            (Some(451), EnhancedStatus::parse("4.7.500"))
        );
        assert_eq!(
            s("451 Internal resource temporarily unavailable"),
            (Some(451), None)
        );
        assert_eq!(
            s("5.2.2 over quota"),
            (None, EnhancedStatus::parse("5.2.2"))
        );
        assert_eq!(s("hello"), (None, None));
    }

    #[test]
    fn the_summary_is_not_a_cause() {
        assert_eq!(classify("400 4.4.7 Message delayed"), Symptom::Summary);
        assert_eq!(
            classify("550 4.4.7 QUEUE.Expired; message expired"),
            Symptom::Summary
        );
        // A remote's own 4.4.7 is a real refusal.
        assert_eq!(
            classify("451 4.4.7 Message delayed, try again later"),
            Symptom::Transient
        );
    }

    #[test]
    fn wording_refines_generic_codes() {
        assert_eq!(
            classify("451 4.7.1 Greylisted, please try again later"),
            Symptom::Greylisted
        );
        assert_eq!(
            classify("451 4.7.1 SPF softfail for your domain"),
            Symptom::Spf(Some(SpfResult::SoftFail))
        );
        assert_eq!(
            classify(
                "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
            ),
            Symptom::Blocklisted
        );
        assert_eq!(
            classify("554 5.7.1 <a@b>: Relay access denied"),
            Symptom::RelayDenied
        );
        assert_eq!(
            classify("552 5.3.4 Message header size exceeds limit"),
            Symptom::HeaderTooBig
        );
        assert_eq!(
            classify("552 5.3.4 Message size exceeds fixed limit"),
            Symptom::TooBig
        );
        assert_eq!(
            classify("550 5.7.1 Message rejected"),
            Symptom::Policy { specific: false }
        );
    }

    #[test]
    fn names_in_a_text_are_no_reasons() {
        // Addresses, host names and words that merely contain a phrase.
        assert_eq!(
            classify("550 5.1.1 <a@p.test>: user does not exist in this domain"),
            Symptom::UserUnknown
        );
        assert_eq!(
            classify(
                "451 4.4.0 DNS query failed. The error was: DNS query failed with error ErrorDnsQueryFailed"
            ),
            Symptom::DnsTempFailure { timeout: false }
        );
        assert_eq!(
            classify(
                "550 Requested action not taken: mailbox unavailable (smtp-relay.example.com)"
            ),
            Symptom::UserUnknown
        );
        assert_eq!(
            classify("550 <joe@marblehead.example>... User unknown"),
            Symptom::UserUnknown
        );
        assert_eq!(
            classify("550 <joe@spf-example.com>: user unknown"),
            Symptom::UserUnknown
        );
    }

    #[test]
    fn codes_decide_where_they_are_specific() {
        assert_eq!(
            classify("550 5.1.1 Bad destination mailbox address"),
            Symptom::UserUnknown
        );
        assert_eq!(classify("452 4.2.2 Over the limit"), Symptom::MailboxFull);
        assert_eq!(
            classify("550 5.7.23 Sorry"),
            Symptom::Spf(Some(SpfResult::Fail))
        );
        assert_eq!(classify("451 4.3.0 Try later"), Symptom::Transient);
        assert_eq!(classify("550 5.0.0 No"), Symptom::Permanent);
        assert_eq!(classify("no code at all"), Symptom::Unknown);
    }

    #[test]
    fn receiver_policies_in_several_wordings() {
        assert_eq!(
            classify("550 5.7.606 Access denied, banned sending IP [192.0.2.1]."),
            Symptom::Blocklisted
        );
        assert_eq!(
            classify(
                "554 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.1"
            ),
            Symptom::Blocklisted
        );
        assert_eq!(
            classify(
                "host mx.example.com[192.0.2.9] refused to talk to me: 554 mx.example.com 192.0.2.1 found on one or more DNSBLs"
            ),
            Symptom::Blocklisted
        );
        assert_eq!(
            classify(
                "host mx.example.com[192.0.2.9] refused to talk to me: 421 Service not available, closing transmission channel"
            ),
            Symptom::ConnectRefused
        );
        assert_eq!(
            classify("450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]"),
            Symptom::ReverseDns(None)
        );
        assert_eq!(
            classify(
                "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]"
            ),
            Symptom::ReverseDns(Some(ReverseDns::Missing))
        );
        assert_eq!(
            classify(
                "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP."
            ),
            Symptom::ReverseDns(None)
        );
        assert_eq!(
            classify("550 5.7.25 The PTR of 192.0.2.1 does not match its forward DNS"),
            Symptom::ReverseDns(Some(ReverseDns::Mismatch))
        );
        assert_eq!(
            classify(
                "550 5.7.509 Access denied, sending domain [X.TEST] does not pass DMARC verification"
            ),
            Symptom::Dmarc
        );
        // The reputation of an IP is not a listing; a user unknown "not listed" is no list.
        assert_eq!(
            classify(
                "554 Your access to this mail system has been rejected due to the sending MTA's poor reputation."
            ),
            Symptom::Policy { specific: true }
        );
        assert_eq!(
            classify("550 5.1.1 User unknown; not listed in the directory"),
            Symptom::UserUnknown
        );
    }

    #[test]
    fn what_the_sending_server_writes() {
        assert_eq!(
            classify(
                "441 4.4.1 Error encountered while communicating with primary target IP address: \"Failed to connect. Winsock error code: 10060, Win32 error code: 10060.\""
            ),
            Symptom::ConnectTimeout
        );
        assert_eq!(
            classify(
                "441 4.4.1 Error encountered … \"Failed to connect. Winsock error code: 10061, Win32 error code: 10061.\""
            ),
            Symptom::ConnectRefused
        );
        assert_eq!(
            classify("connect to mx.example.com[192.0.2.1]:25: Connection timed out"),
            Symptom::ConnectTimeout
        );
        assert_eq!(
            classify("554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain"),
            Symptom::DnsNxDomain
        );
        assert_eq!(
            classify(
                "Host or domain name not found. Name service error for name=x.test type=MX: Host not found, try again"
            ),
            Symptom::DnsTempFailure { timeout: false }
        );
    }

    #[test]
    fn what_is_remembered_never_changes_an_answer() {
        let texts = [
            "550 5.1.1 User unknown",
            "550 5.1.1 User unknown ",
            "452 4.2.2 Mailbox full",
            "421 4.7.0 Too many concurrent SMTP connections",
            "",
        ];
        forget();
        let fresh: Vec<Symptom> = texts.iter().map(|t| read(t, true)).collect();
        for _ in 0..2 {
            for (t, want) in texts.iter().zip(&fresh).rev() {
                assert_eq!(&classify(t), want, "{t}");
            }
        }
        // Full: emptied, never past its bound, and still right.
        for n in 0..REMEMBERED + 10 {
            classify(&format!("550 5.1.1 <u{n}@example.org>: User unknown"));
            assert!(SEEN.with(|seen| seen.borrow().len()) <= REMEMBERED);
        }
        assert_eq!(classify(texts[2]), fresh[2]);
    }

    #[test]
    fn a_refused_greeting_is_no_null_mx_and_qmail_gives_up_after_its_error() {
        assert_ne!(
            classify("554-mx.example.org No SMTP service 554 IP address is block listed"),
            Symptom::DnsNullMx
        );
        assert_eq!(
            classify(
                "all relevant MX records point to non-existent hosts or an MX or SRV record indicated no SMTP service"
            ),
            Symptom::DnsNullMx
        );
        assert_eq!(
            classify(
                "Connected to 192.0.2.7 but connection died. (#4.4.2) I'm not going to try again; this message has been in the queue too long."
            ),
            Symptom::Disconnected
        );
    }
}
