//! Delivery status notifications as Exchange writes them: the delay DSN, the NDR for a
//! permanent failure, and the NDR for an expired message. Each is a `multipart/report`
//! (RFC 6522) with the human text, a `message/delivery-status` part (RFC 3464) and the
//! original headers (`text/rfc822-headers`).
//!
//! The human text is in the sending server's language (`notice_text.rs`: English, or
//! Japanese as a Japanese Exchange writes it); the delivery-status part never changes with it.
//! The text part is UTF-8 with `Content-Transfer-Encoding: 8bit` in every language: the notice
//! goes from the server to a mailbox of its own organisation, over hops that carry 8BITMIME
//! as Exchange's do, and 8bit keeps the lines administrators (and scenario expectations) read
//! verbatim readable in the raw notice. A non-ASCII Subject is RFC 2047 encoded words.
//!
//! Composed by hand rather than with mail-builder: its boundaries, Date and Message-ID come
//! from the clock, randomness and the host name, and it would quoted-printable-encode the long
//! human lines that administrators (and scenario expectations) read verbatim.

use mxlab_vocab::{EnhancedStatus, Lang, Reply};
use time::OffsetDateTime;

use crate::attempt::Failure;
use crate::encoded_word::header_text;
use crate::format::{exchange_local, rfc5322};
use crate::notice_text as say;

/// The status of a delay notice and of an expired message: delivery time expired (RFC 3463).
pub const TIME_EXPIRED: EnhancedStatus = EnhancedStatus::new(4, 4, 7);

/// What a delay notice says of each recipient: `400 4.4.7 Message delayed`.
pub fn delayed() -> Reply {
    Reply::new(400, Some(TIME_EXPIRED), "Message delayed")
}

/// What Exchange says of a message that expired in its queue, a 5xx code with a 4.x.x status:
/// `550 4.4.7 QUEUE.Expired; message expired`.
pub fn expired() -> Reply {
    Reply::new(550, Some(TIME_EXPIRED), "QUEUE.Expired; message expired")
}

/// What an NDR says of a recipient with no error on record.
fn failed() -> Reply {
    Reply::new(550, Some(EnhancedStatus::new(5, 0, 0)), "delivery failed")
}

/// What every notice about one message shares.
pub struct Notice<'a> {
    /// Which notice this is, for the boundary and Message-ID (`1-delay`, `1-ndr`).
    pub tag: String,
    pub hostname: &'a str,
    pub postmaster: String,
    pub to: &'a str,
    pub subject: &'a str,
    pub original_id: &'a str,
    pub original_headers: &'a str,
    pub arrival: OffsetDateTime,
    pub date: OffsetDateTime,
    /// The language of the human text.
    pub language: Lang,
}

/// A recipient the notice is about, with the failure to report.
pub struct About<'a> {
    pub address: &'a str,
    /// The final or most recent real error, and when it happened.
    pub last_error: Option<(&'a Failure, OffsetDateTime)>,
}

pub enum Kind {
    Delayed {
        retry_until: OffsetDateTime,
        time_left: String,
    },
    Failed,
    Expired,
}

/// `Remote Server at host (ip) returned '…'` for the server that gave `failure`.
fn returned(failure: Option<&Failure>, reply: &Reply, lang: Lang) -> String {
    let remote = failure
        .and_then(|f| f.remote.as_ref())
        .map(|(host, ip)| (host.as_str(), ip.to_string()));
    say::returned(
        remote.as_ref().map(|(host, ip)| (*host, ip.as_str())),
        &reply.to_string(),
        lang,
    )
}

pub fn render(notice: &Notice<'_>, kind: &Kind, about: &[About<'_>]) -> String {
    let boundary = format!("mxlab-{}", notice.tag);
    let lang = notice.language;
    let delayed_notice = matches!(kind, Kind::Delayed { .. });
    let subject_prefix = say::subject_prefix(delayed_notice, lang);
    let action = if delayed_notice { "delayed" } else { "failed" };
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push_str("\r\n");
    };
    line(&format!("From: {}", notice.postmaster));
    line(&format!("To: {}", notice.to));
    line(&format!("Date: {}", rfc5322(notice.date)));
    line(&format!(
        "Subject: {}",
        header_text(&format!("{subject_prefix}: {}", notice.subject))
    ));
    line(&format!("Message-ID: <{}@{}>", notice.tag, notice.hostname));
    line(&format!("In-Reply-To: {}", notice.original_id));
    line(&format!("References: {}", notice.original_id));
    line("MIME-Version: 1.0");
    line(&format!(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\""
    ));
    line("Auto-Submitted: auto-replied");
    line("");
    line(&format!("--{boundary}"));
    line("Content-Type: text/plain; charset=\"utf-8\"");
    line("Content-Transfer-Encoding: 8bit");
    line("");
    match kind {
        Kind::Delayed { time_left, .. } => {
            line(say::opening(true, lang));
            line("");
            for a in about {
                line(&format!("{} ({})", a.address, a.address));
            }
            line("");
            line(&say::subject_line(notice.subject, lang));
            line("");
            let [not_yet, keep_trying] = say::still_trying(time_left, lang);
            line(&not_yet);
            line("");
            line(&keep_trying);
        }
        Kind::Failed | Kind::Expired => {
            line(say::opening(false, lang));
            line("");
            for a in about {
                line(&format!("{} ({})", a.address, a.address));
            }
            line(say::why_failed(matches!(kind, Kind::Expired), lang));
        }
    }
    line("");
    line(say::for_administrators(lang));
    line("");
    line(&say::generating_server(notice.hostname, lang));
    if let Some((host, ip)) = about
        .iter()
        .find_map(|a| a.last_error.and_then(|(f, _)| f.remote.clone()))
    {
        line(&say::receiving_server(&host, &ip.to_string(), lang));
    }
    line("");
    for a in about {
        line(a.address);
        match (kind, a.last_error) {
            (Kind::Delayed { .. }, Some((failure, at))) => {
                line(&returned(Some(failure), &delayed(), lang));
                line(&format!(
                    "{} - {}",
                    exchange_local(at),
                    returned(Some(failure), &failure.reply, lang)
                ));
            }
            (Kind::Delayed { .. }, None) => line(&returned(None, &delayed(), lang)),
            (Kind::Expired, Some((failure, at))) => {
                line(&returned(Some(failure), &expired(), lang));
                line(&format!(
                    "{} - {}",
                    exchange_local(at),
                    returned(Some(failure), &failure.reply, lang)
                ));
            }
            (Kind::Expired, None) => line(&returned(None, &expired(), lang)),
            (Kind::Failed, Some((failure, _))) => {
                line(&returned(Some(failure), &failure.reply, lang))
            }
            (Kind::Failed, None) => line(&returned(None, &failed(), lang)),
        }
        line("");
    }
    line(say::original_headers(lang));
    line("");
    out.push_str(notice.original_headers);
    out.push_str("\r\n");
    let mut line = |s: &str| {
        out.push_str(s);
        out.push_str("\r\n");
    };
    line("");
    line(&format!("--{boundary}"));
    line("Content-Type: message/delivery-status");
    line("");
    line(&format!("Reporting-MTA: dns;{}", notice.hostname));
    line(&format!("Received-From-MTA: dns;{}", notice.hostname));
    line(&format!("Arrival-Date: {}", rfc5322(notice.arrival)));
    for a in about {
        line("");
        line(&format!("Final-Recipient: rfc822;{}", a.address));
        line(&format!("Action: {action}"));
        let (status, diagnostic) = match (kind, a.last_error) {
            (Kind::Delayed { .. }, _) => (TIME_EXPIRED, delayed()),
            (Kind::Expired, _) => (TIME_EXPIRED, expired()),
            (Kind::Failed, Some((f, _))) => (f.status(), f.reply.clone()),
            (Kind::Failed, None) => (EnhancedStatus::new(5, 0, 0), failed()),
        };
        line(&format!("Status: {status}"));
        if let Some((host, _)) = a.last_error.and_then(|(f, _)| f.remote.clone()) {
            line(&format!("Remote-MTA: dns;{host}"));
        }
        line(&format!("Diagnostic-Code: smtp;{diagnostic}"));
        if let Some((_, at)) = a.last_error {
            line(&format!("Last-Attempt-Date: {}", rfc5322(at)));
        }
        if let Kind::Delayed { retry_until, .. } = kind {
            line(&format!("Will-Retry-Until: {}", rfc5322(*retry_until)));
        }
        line(&format!("X-Display-Name: {}", a.address));
    }
    line("");
    line(&format!("--{boundary}"));
    line("Content-Type: text/rfc822-headers");
    line("");
    out.push_str(notice.original_headers);
    out.push_str("\r\n");
    out.push_str(&format!("\r\n--{boundary}--\r\n"));
    out
}
