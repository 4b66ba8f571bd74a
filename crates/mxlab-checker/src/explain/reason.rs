//! The bounce reason: one word of the vocabulary operators know from Sisimai, read from what
//! the failure says (the classifier's symptom), the RFC 3463 status, and the words of the
//! reply where the two leave it open (a `550 5.7.1` may be a blocklist, a missing PTR, a
//! spam verdict or a relay refusal).

use mxlab_vocab::{EnhancedStatus, Reason, SpfResult};

use crate::diagnosis::classify::Symptom;

/// Words that name a reason, checked in order on the lower-cased reply; the first match wins.
static WORDS: &[(Reason, &[&str])] = &[
    (
        Reason::VirusDetected,
        &["virus", "malware", "infected", "trojan"],
    ),
    (
        Reason::RequirePtr,
        &[
            "reverse dns",
            "reverse lookup",
            "rdns",
            "ptr record",
            "no ptr",
            "cannot find your hostname",
            "cannot find your reverse hostname",
            "client host rejected: cannot find",
            "reverse hostname",
            "not have a reverse",
            "have no ptr",
            "unresolvable ip",
            "ip name lookup failed",
            "no reverse",
            "ptr lookup",
            "dns hostname",
        ],
    ),
    (
        Reason::BadReputation,
        &[
            "ip is temporarily deferred",
            "unusual rate of unsolicited",
            "sender score",
        ],
    ),
    (
        Reason::Blocked,
        &[
            "blocked using",
            "blacklisted",
            "blocklisted",
            "listed in",
            "listed on",
            "listed at",
            "is listed",
            "dnsbl",
            "rbl",
            "spamhaus",
            "spamcop",
            "barracudacentral",
            "sorbs",
            "client host rejected",
            "client host blocked",
            "access denied",
            "connection refused by",
            "not allowed to send",
            "your ip",
            "ip address",
            "banned",
            "blacklist",
            "blocklist",
            "block list",
            "blocked",
        ],
    ),
    (
        Reason::SpamDetected,
        &[
            "spam",
            "junk",
            "unsolicited",
            "bulk mail",
            "content rejected",
            "content denied",
            "message content",
            "scored",
        ],
    ),
    (
        Reason::AuthFailure,
        &[
            "spf",
            "dkim",
            "dmarc",
            "sender policy framework",
            "not authorized to send",
            "authentication",
        ],
    ),
    (
        Reason::Suspend,
        &[
            "suspended",
            "disabled",
            "inactive",
            "deactivated",
            "not active",
            "account expired",
            "mailbox unavailable: blocked",
        ],
    ),
    (Reason::HasMoved, &["has moved", "no longer", "moved to"]),
    (
        Reason::ExceedLimit,
        &[
            "exceeds the limit",
            "exceeded the limit",
            "size limit for this recipient",
        ],
    ),
    (
        Reason::TooManyConn,
        &[
            "too many concurrent",
            "connection limit",
            "too many simultaneous",
        ],
    ),
    (
        Reason::Speeding,
        &[
            "rate limit",
            "ratelimit",
            "too many messages",
            "too many emails",
            "sending rate",
            "too fast",
            "throttl",
        ],
    ),
    (
        Reason::SystemFull,
        &[
            "disk full",
            "disk space",
            "insufficient system storage",
            "out of storage",
            "file system full",
        ],
    ),
    (
        Reason::SyntaxError,
        &[
            "syntax error",
            "command unrecognized",
            "command not recognized",
            "unrecognized command",
            "invalid command",
        ],
    ),
    (
        Reason::NotCompliantRfc,
        &[
            "rfc 5322",
            "rfc5322",
            "rfc 2822",
            "rfc2822",
            "not rfc",
            "multiple from",
            "multiple addresses",
            "addresses in from",
            "multiple sender",
            "multiple message-id",
            "multiple date",
        ],
    ),
    (
        Reason::Filtered,
        &[
            "filtered",
            "filter",
            "refused by recipient",
            "does not accept mail from",
        ],
    ),
    (
        Reason::PolicyViolation,
        &["policy", "prohibited", "not permitted", "violat"],
    ),
    (
        Reason::SystemError,
        &[
            "service unavailable",
            "service currently unavailable",
            "service not available",
            "transaction failed",
            "system error",
            "internal error",
            "local error",
            "system config",
        ],
    ),
];

/// Words that name the reason outright, whatever the code or the symptom: checked in order
/// on the lower-cased reply before anything else weighs in; the first match wins.
static OUTRIGHT: &[(&[&str], Reason)] = &[
    (&["policy reasons"], Reason::PolicyViolation),
    (
        &[
            "scored as spam",
            "classified as spam",
            // A block list of links is about the message's content, not the sender.
            "blacklisted url",
            "blocklisted url",
            "blacklisted link",
            "uribl",
            "surbl",
            "likely unsolicited",
            "spam classification",
            "due to spam",
            "spam detected",
            "identified as spam",
            "considered spam",
        ],
        Reason::SpamDetected,
    ),
    (
        &[
            "duplicate header",
            "not rfc 5322",
            "not rfc5322",
            "rfc 5322 compliant",
        ],
        Reason::NotCompliantRfc,
    ),
    // Too many recipients in an hour is a sending rate; in one message, a limit.
    (
        &["this hour", "per hour", "per day", "hourly"],
        Reason::Speeding,
    ),
    (
        &[
            "too many recipients",
            "connection rate limit",
            "too many connections",
            "too many sessions",
        ],
        Reason::TooManyConn,
    ),
    // A refusal to relay says so, whatever it asks for instead ("Proper authentication
    // required").
    (
        &[
            "relaying denied",
            "relay access denied",
            "relaying not allowed",
            "relaying not permitted",
        ],
        Reason::NoRelaying,
    ),
    (
        &["helo command rejected", "invalid helo", "bad helo"],
        Reason::Blocked,
    ),
    (
        &[
            "unauthenticated senders",
            "authentication required",
            "authentication is required",
            "smtp authentication",
            "must authenticate",
        ],
        Reason::SecurityError,
    ),
    // Deferred "due to unexpected volume or user complaints" (Yahoo's TSS04) is the
    // sender's standing with the receiver's users, not a rate.
    (&["user complaints"], Reason::BadReputation),
    // A sender's server that is an open relay is refused for what it is, not for
    // asking to relay.
    (&["open relay"], Reason::Blocked),
    (&["frequency limit"], Reason::TooManyConn),
    (
        &[
            "hop count",
            "too many hops",
            "routing loop",
            "mail loop",
            "network error",
        ],
        Reason::NetworkError,
    ),
    (
        &["domain is not reachable", "domain not reachable"],
        Reason::HostUnknown,
    ),
    (&["not accepting network messages"], Reason::NotAccept),
    (
        &["malformed address", "incorrectly constructed"],
        Reason::SyntaxError,
    ),
    (&["invalid ip"], Reason::Blocked),
    (
        &[
            "not support tls",
            "does not support starttls",
            "tls is required",
        ],
        Reason::FailedStartTls,
    ),
    (
        &[
            "line limit exceeded",
            "message too large",
            "message size exceeds",
        ],
        Reason::MesgTooBig,
    ),
    (
        &[
            "mailbox is frozen",
            "account is locked",
            "account is blocked",
            "compte du destinataire est bloque",
        ],
        Reason::Suspend,
    ),
    (
        &[
            "over quota",
            "quota exceeded",
            "mailbox full",
            "mailbox is full",
            "mailfolder is full",
            "mailbox exceeds",
            "mailbox size limit",
        ],
        Reason::MailboxFull,
    ),
    (
        &[
            "header error",
            "content presents a potential",
            "content policy",
        ],
        Reason::PolicyViolation,
    ),
    (
        &["delivery not authorized", "not authorized to relay"],
        Reason::SecurityError,
    ),
    (
        &["smtp server of your isp", "dynamic ip", "dial-up", "dialup"],
        Reason::Blocked,
    ),
    (&["envelope expired"], Reason::Expired),
    // A mailing list's refusal: Google Groups words it in the reader's language, always
    // with its help centre's address.
    (
        &["permission to post", "投稿する権限", "groups.google.com"],
        Reason::Rejected,
    ),
];

/// The reason for one recipient.
pub fn reason(
    outcome: &str,
    symptom: &Symptom,
    status: &str,
    code: Option<u16>,
    text: &str,
    context: &str,
    phase: Option<&str>,
) -> Reason {
    match outcome {
        "delivered" | "relayed" => return Reason::Delivered,
        _ => {}
    }
    // A notice that quotes no reply has only its prose to go on: all of it.
    let lower = if code.is_none() {
        hosts_of_links(&format!("{text}\n{context}")).to_ascii_lowercase()
    } else {
        hosts_of_links(text).to_ascii_lowercase()
    };
    let status = EnhancedStatus::parse(status);
    if let Some(r) = outright(&lower, status) {
        return r;
    }
    by_stage(
        by_evidence(outcome, symptom, status, code, &lower, context),
        phase,
        &lower,
    )
}

/// What the stage the refusal came at makes of the reason the rest gave.
fn by_stage(r: Reason, phase: Option<&str>, lower: &str) -> Reason {
    match phase {
        // What the remote refused at MAIL FROM is the sender, not the recipient — unless
        // it says it refused the sending host's address.
        Some("mail")
            if matches!(
                r,
                Reason::UserUnknown | Reason::HostUnknown | Reason::OnHold | Reason::Undefined
            ) || (r == Reason::Blocked && !names_an_address(lower) && !says_blocked(lower)) =>
        {
            Reason::Rejected
        }
        // A refused greeting name (HELO/EHLO) is the sending host refused.
        Some("ehlo")
            if matches!(
                r,
                Reason::OnHold
                    | Reason::Undefined
                    | Reason::SyntaxError
                    | Reason::Rejected
                    | Reason::Expired
            ) =>
        {
            Reason::Blocked
        }
        // A recipient refused only after the message was sent was refused by a filter.
        Some("data" | "end-of-data") if r == Reason::UserUnknown => Reason::Filtered,
        _ => r,
    }
}

/// What the words, and the status where it is exact, say outright: what follows weighs no
/// symptom or stage against it.
fn outright(lower: &str, status: Option<EnhancedStatus>) -> Option<Reason> {
    // What the words say of the mailbox or the sender outranks the symptom's coarser name:
    // a disabled account is suspended, not unknown; a refused sender is not a recipient
    // problem.
    let suspended = [
        "disabled",
        "temporary locked",
        "temporarily locked",
        "deactivated",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || (lower.contains("suspended") && !lower.contains("temporarily suspended"))
        || (lower.contains("inactive") && !lower.contains("quota") && !lower.contains("storage"));
    if suspended {
        return Some(Reason::Suspend);
    }
    let reverse_dns = ["reverse dns", "reverse lookup", "ptr record"]
        .iter()
        .any(|w| lower.contains(w));
    if (lower.contains("sender address") || lower.contains("sender domain")) && !reverse_dns {
        return Some(Reason::Rejected);
    }
    // A size limit for this recipient rather than for any message (X.2.3), however the
    // reply words it ("message too large for this recipient"); a mailbox over its size
    // (X.2.2), even when a local mailer words it as a file too large.
    if status.is_some_and(|s| s.is(2, 3)) {
        return Some(Reason::ExceedLimit);
    }
    if status.is_some_and(|s| s.is(2, 2)) && !lower.contains("user unknown") {
        return Some(Reason::MailboxFull);
    }
    // A score the receiver keeps of the sender — unless it is a block list's answer
    // ("blocked using Barracuda Reputation").
    if lower.contains("reputation") && !lower.contains("blocked using") && !lower.contains("listed")
    {
        return Some(Reason::BadReputation);
    }
    if let Some((_, r)) = OUTRIGHT
        .iter()
        .find(|(words, _)| words.iter().any(|w| lower.contains(w)))
    {
        return Some(*r);
    }
    // A local delivery agent that failed (a pipe, procmail; `X-Unix;` is a local program's
    // exit status or complaint) failed whatever else it printed, "user unknown" included.
    if lower.starts_with("x-unix;")
        || ["command output", "mailer error", "pipe to |"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return Some(Reason::MailerError);
    }
    None
}

/// The text with each link cut to its host: a link's path is a page's name, not what the
/// server says (`…/reputation/?ip=…` behind a blocklist refusal is not a reputation verdict).
fn hosts_of_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let host_start = at + 3;
        let host_end = rest[host_start..]
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .map_or(rest.len(), |e| host_start + e);
        out.push_str(&rest[..host_end]);
        let path_end = rest[host_end..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |e| host_end + e);
        rest = &rest[path_end..];
    }
    out.push_str(rest);
    out
}

/// "`<host.name>` does not exist": a domain, not a mailbox, that is not there.
fn names_a_missing_domain(lower: &str) -> bool {
    lower.match_indices(" does not exist").any(|(at, _)| {
        let before = lower[..at].split_whitespace().last().unwrap_or("");
        let name = before.trim_matches(|c: char| matches!(c, '<' | '>' | '[' | ']' | '\'' | '"'));
        name.contains('.')
            && !name.contains('@')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
            && name.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// Words that say the sending host is on a block list, whoever asks.
fn says_blocked(lower: &str) -> bool {
    ["block", "listed", "blacklist", "dnsbl", "rbl"]
        .iter()
        .any(|w| crate::diagnosis::classify::has_word(lower, w))
}

/// Words that speak of the sending host's IP address: `ip address`, `your ip`, a dotted quad.
fn names_an_address(lower: &str) -> bool {
    if lower.contains("ip address") || lower.contains("your ip") || lower.contains(" ip ") {
        return true;
    }
    lower
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|w| w.trim_matches('.').parse::<std::net::Ipv4Addr>().is_ok())
}

/// The reason the symptom, the status and the words give, before the stage is weighed.
fn by_evidence(
    outcome: &str,
    symptom: &Symptom,
    status: Option<EnhancedStatus>,
    code: Option<u16>,
    lower: &str,
    context: &str,
) -> Reason {
    // A server that answers the connection only to refuse it ("refused to talk to me", a
    // 554 greeting "not accepting connections", RFC 5321 §3.1) refuses this client.
    if ["refused to talk to me", "not accepting connections"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Reason::Blocked;
    }
    if let Some(r) = by_symptom(symptom, lower) {
        // A connection never made — refused or unanswered — is, in the vocabulary, a message
        // left to expire (Sisimai reads it so in delays and bounces alike); a conversation
        // that broke off or a lookup that failed is the network's.
        if matches!(
            symptom,
            Symptom::ConnectTimeout | Symptom::ConnectRefused | Symptom::ConnectFailed
        ) && !lower.contains("reset")
            && !lower.contains("lost connection")
        {
            return Reason::Expired;
        }
        if outcome == "expired" && *symptom == Symptom::Summary {
            return Reason::Expired;
        }
        return r;
    }
    // A message that expired did so for the reason its last error names, if it names one.
    if let Some(r) = status.and_then(by_status) {
        return r;
    }
    if names_a_missing_domain(lower) {
        return Reason::HostUnknown;
    }
    if let Some((r, _)) = WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
    {
        return *r;
    }
    if outcome == "expired" {
        return Reason::Expired;
    }
    let ctx = context.to_ascii_lowercase();
    if ctx.contains("mailer") || ctx.contains("pipe to") || ctx.contains("procmail") {
        return Reason::MailerError;
    }
    match (code, status) {
        // A policy refusal that names the sending host's address refuses that host.
        (_, Some(s)) if s.subject == 7 && names_an_address(lower) => Reason::Blocked,
        (_, Some(s)) if s.subject == 7 => Reason::Rejected,
        // RFC 5321's syntax and sequence replies; RFC 7504's "does not accept mail".
        (Some(500..=504), _) => Reason::SyntaxError,
        (Some(521 | 556), _) => Reason::NotAccept,
        (Some(c), _) if c >= 500 => Reason::OnHold,
        (_, Some(s)) if s.class == 5 => Reason::OnHold,
        // A delay that names no error: the message is waiting, and will expire. One whose
        // error says nothing of why stays undefined.
        _ if outcome == "delayed" && code.is_none() => Reason::Expired,
        _ => Reason::Undefined,
    }
}

/// What the classifier's symptom says by itself.
fn by_symptom(symptom: &Symptom, lower: &str) -> Option<Reason> {
    use Symptom as S;
    Some(match symptom {
        S::Summary => Reason::Expired,
        S::ConnectTimeout | S::ConnectRefused | S::ConnectFailed | S::BannerTimeout => {
            Reason::NetworkError
        }
        S::DataTimeout | S::DroppedTimedOut | S::Disconnected => Reason::NetworkError,
        S::DnsNxDomain | S::DnsNoMailRecords | S::DnsNoAddress => Reason::HostUnknown,
        S::DnsNullMx => Reason::NotAccept,
        S::DnsTempFailure { .. } => Reason::NetworkError,
        S::Tls(_) | S::TlsRequired => Reason::FailedStartTls,
        S::Greylisted => Reason::Blocked,
        S::RateLimited if lower.contains("connection") => Reason::TooManyConn,
        S::RateLimited => Reason::Speeding,
        S::MailboxFull => Reason::MailboxFull,
        S::UserUnknown => Reason::UserUnknown,
        S::RelayDenied => Reason::NoRelaying,
        S::TooBig => Reason::MesgTooBig,
        S::HeaderTooBig => Reason::ContentError,
        S::Spf(Some(SpfResult::TempError)) => Reason::AuthFailure,
        S::Spf(_) => Reason::AuthFailure,
        S::Blocklisted => Reason::Blocked,
        S::ReverseDns(_) => Reason::RequirePtr,
        S::Dmarc => Reason::AuthFailure,
        S::Policy { .. } | S::Transient | S::Permanent | S::Unknown => return None,
    })
}

/// What the RFC 3463 status says by itself, where it is specific.
fn by_status(s: EnhancedStatus) -> Option<Reason> {
    Some(match (s.subject, s.detail) {
        // A destination address that is not one (X.1.3) names no mailbox that exists.
        (1, 0) | (1, 1) | (1, 3) | (1, 10) => Reason::UserUnknown,
        (1, 2) => Reason::HostUnknown,
        (1, 6) => Reason::HasMoved,
        // X.5.0 is "other protocol status": it names no syntax error.
        (5, 0) => return None,
        (5, _) => Reason::SyntaxError,
        (1, 7) | (1, 8) => Reason::Rejected,
        // A mailbox that takes nothing for now is one receiving too fast (Gmail's "450 4.2.1
        // … receiving mail at a rate that prevents additional messages").
        (2, 1) if s.class == 4 => Reason::Speeding,
        (2, 1) => Reason::Suspend,
        (2, 2) => Reason::MailboxFull,
        (2, 3) => Reason::ExceedLimit,
        (3, 1) => Reason::SystemFull,
        (3, 4) => Reason::MesgTooBig,
        (4, 1) | (4, 2) => Reason::NetworkError,
        (4, 3) | (4, 4) => Reason::NetworkError,
        (4, 6) => Reason::NetworkError,
        (4, 7) => Reason::Expired,
        (6, _) => Reason::ContentError,
        (7, 1) => return None,
        (7, 7) => Reason::SecurityError,
        (7, 25) => Reason::RequirePtr,
        (7, 23) | (7, 24) | (7, 26) | (7, 27) => Reason::AuthFailure,
        (7, 10) | (7, 11) => Reason::FailedStartTls,
        (3, 2) => Reason::NotAccept,
        (7, 8) | (7, 9) => Reason::SecurityError,
        (3, 5) | (3, 0) => Reason::SystemError,
        _ => return None,
    })
}
