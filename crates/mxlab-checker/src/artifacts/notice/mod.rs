//! Reading a delivery notice the way an administrator does, whoever wrote it: the RFC 3464 /
//! RFC 6533 delivery-status fields where there are some, and in the human part the replies
//! the server quoted — where Exchange hides the real error behind its own "400 4.4.7 Message
//! delayed", and where Exim, qmail and Sendmail put everything they say. Automatic replies
//! and abuse feedback reports are recognised as what they are.
//!
//! Bounded: a notice is read from at most [`LIMIT`] octets, and every list it yields is
//! capped, so a hostile or enormous input costs a bounded amount of memory and time.

mod boundary;
mod human;
mod listed;
pub mod mbox;
mod mime;
mod ses;
pub mod transcript;

pub use human::status_in;

use super::fields::{Group, field, parse_groups, strip_type};

/// The most of one message that is read; the rest (a returned attachment, as a rule) is not.
pub const LIMIT: usize = 4 * 1024 * 1024;
/// The most recipients read from one notice.
const MAX_RECIPIENTS: usize = 1000;

/// What kind of message it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// A delivery notice: a bounce, a delay warning, a success report.
    #[default]
    Delivery,
    /// An automatic reply (RFC 3834): out of office, vacation.
    AutoReply,
    /// An abuse feedback report (RFC 5965).
    Feedback,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeRecipient {
    pub final_recipient: String,
    /// RFC 3464's Action, lower case: failed, delayed, delivered, relayed, expanded — or,
    /// for a notice without delivery-status fields, what its words say.
    pub action: String,
    pub status: String,
    pub diagnostic_code: String,
    pub remote_mta: Option<String>,
    pub will_retry_until: Option<String>,
    pub last_attempt_date: Option<String>,
    pub original_recipient: Option<String>,
    /// Errors the human text quotes under this recipient's address, in order.
    pub quoted: Vec<String>,
    /// The human text's lines about this recipient (the stage words are there: "in reply to
    /// RCPT TO command", "after end of data").
    pub context: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    pub subject: String,
    /// The notice's own Date header (RFC 5322), when it has one.
    pub date: Option<String>,
    pub reporting_mta: Option<String>,
    pub arrival_date: Option<String>,
    pub recipients: Vec<NoticeRecipient>,
    /// Every reply quoted in the human text (`… returned '441 4.4.1 …'`), in order.
    pub quoted_replies: Vec<String>,
    /// The session transcript the human text shows (`>>> DATA` / `<<< 550 …`), if any.
    pub transcript: Vec<transcript::Exchange>,
    /// The message was longer than [`LIMIT`] and was read in part.
    pub truncated: bool,
    /// Whom the message concerns, for an automatic reply or a feedback report: the address
    /// that replied, or the recipients who complained (one report may name several).
    pub concerns: Vec<String>,
}

/// Notice wording that only summarises: "400 4.4.7 Message delayed" and
/// "550 4.4.7 QUEUE.Expired" say that time passed, not why. The classifier decides, so the
/// notice reader and the diagnosis agree on what a summary is.
pub fn is_summary(reply: &str) -> bool {
    crate::diagnosis::classify::classify(reply) == crate::diagnosis::classify::Symptom::Summary
}

impl Notice {
    /// The last quoted reply that is a real error rather than a summary of waiting.
    pub fn last_real_error(&self) -> Option<&str> {
        self.quoted_replies
            .iter()
            .rev()
            .map(String::as_str)
            .find(|r| !is_summary(r))
    }

    pub fn is_delay(&self) -> bool {
        self.recipients.iter().any(|r| r.action == "delayed")
    }

    pub fn is_failure(&self) -> bool {
        self.recipients.iter().any(|r| r.action == "failed")
    }

    pub fn is_expiry(&self) -> bool {
        self.is_failure() && self.recipients.iter().any(NoticeRecipient::expired)
    }
}

/// The most errors and the most text the human part may add to one recipient: a notice that
/// repeats an address thousands of times (or its fields) gets no more.
pub(crate) const MAX_QUOTED: usize = 32;
pub(crate) const MAX_CONTEXT: usize = 16 * 1024;

impl NoticeRecipient {
    /// What a block of the human text says of this recipient, within the bounds.
    fn attach(&mut self, b: &human::Block) {
        let room = MAX_QUOTED.saturating_sub(self.quoted.len());
        self.quoted.extend(b.errors.iter().take(room).cloned());
        if self.context.len() + b.text.len() <= MAX_CONTEXT {
            self.context.push_str(&b.text);
        }
    }

    /// Failed because it waited too long: the notice's summary says so, or its words do
    /// ("retry timeout exceeded", "could not be delivered within …").
    pub fn expired(&self) -> bool {
        self.action == "failed"
            && (is_summary(&self.diagnostic_code)
                || gave_up_on_a_connection(&self.diagnostic_code)
                || self.status.starts_with("4.")
                || matches!(self.status.as_str(), "5.4.7")
                || human::says_expired(&self.diagnostic_code)
                || human::says_expired(&self.context))
    }
}

/// A failure whose error is a connection or lookup that did not work is a sending server
/// that retried until it gave up: no server refused the mail.
fn gave_up_on_a_connection(error: &str) -> bool {
    use crate::diagnosis::classify::{Symptom, classify};
    let symptom = classify(error);
    (symptom.is_connection() && symptom != Symptom::Disconnected)
        || matches!(symptom, Symptom::DnsTempFailure { .. })
}

/// Reads one message; `None` when it is not a mail message at all (no header, no body).
pub fn read(raw: &[u8]) -> Option<Notice> {
    let truncated = raw.len() > LIMIT;
    let raw = &raw[..raw.len().min(LIMIT)];
    let parts = mime::parts(raw)?;
    let mut notice = Notice {
        subject: parts.subject.clone(),
        date: parts.date.clone(),
        truncated,
        ..Notice::default()
    };
    let text = human::body(&parts.human);
    // No delivery-status part: some MTAs write the same fields into their text instead
    // ("Technical report:" followed by Reporting-MTA, Final-Recipient, Status …).
    let inline;
    let status: &[String] = if parts.status.is_empty() {
        inline = human::inline_fields(text)
            .map(|f| vec![f])
            .unwrap_or_default();
        &inline
    } else {
        &parts.status
    };
    let groups: Vec<Group> = status
        .iter()
        .flat_map(|text| parse_groups(text))
        .flat_map(one_per_recipient)
        .collect();
    let per_message = groups
        .iter()
        .find(|g| field(g, "Final-Recipient").is_none())
        .or_else(|| groups.iter().find(|g| field(g, "Reporting-MTA").is_some()));
    if let Some(first) = per_message {
        notice.reporting_mta = field(first, "Reporting-MTA").map(|v| strip_type(v).to_string());
        notice.arrival_date = field(first, "Arrival-Date").map(str::to_string);
    }
    notice.recipients = groups
        .iter()
        .filter(|g| field(g, "Final-Recipient").is_some() || field(g, "Action").is_some())
        .filter_map(recipient)
        .take(MAX_RECIPIENTS)
        .collect();
    notice.quoted_replies = human::quoted_replies(text);
    notice.transcript = transcript::read(text);
    let blocks = human::blocks(text);
    for r in &mut notice.recipients {
        let mine: Vec<&human::Block> = blocks
            .iter()
            .filter(|b| b.address.eq_ignore_ascii_case(&r.final_recipient))
            .collect();
        for b in mine {
            r.attach(b);
        }
        if r.context.is_empty() {
            r.context = prose_naming(text, &r.final_recipient);
            // With no reply quoted at all, the notice's own sentence about the recipient
            // is what it says went wrong.
            if r.diagnostic_code.is_empty() && r.quoted.is_empty() {
                let sentence = r.context.lines().find(|l| l.split_whitespace().count() > 3);
                r.quoted.extend(sentence.map(str::to_string));
            }
        }
        if r.remote_mta.is_none() {
            r.remote_mta = human::remote_mta(&r.context);
        }
    }
    if notice.reporting_mta.is_none() {
        notice.reporting_mta = human::reporting_mta(text);
    }
    if notice.recipients.is_empty() {
        notice.recipients = from_words(&parts, text, &blocks);
    }
    // An Amazon SES notification: its JSON says it all.
    if notice.recipients.is_empty()
        && let Some(ses) = ses::read(text)
    {
        notice.recipients = ses.recipients;
        notice.reporting_mta = ses.reporting_mta.or(notice.reporting_mta);
        notice.kind = ses.kind;
        notice.concerns = notice
            .recipients
            .iter()
            .map(|r| r.final_recipient.clone())
            .collect();
        return Some(notice);
    }
    let notice_words = human::looks_like_notice(&parts.subject, text);
    // A text that gives the envelope (or a session's RCPT TO) and a refusal is a notice
    // whatever its words.
    let envelope = listed::envelope(text);
    let refused = || {
        human::first_error(text)
            .is_some_and(|e| crate::diagnosis::classify::code_and_status(&e) != (None, None))
    };
    if notice.recipients.is_empty()
        && (notice_words || !envelope.is_empty() && refused())
        && !parts.feedback
    {
        notice.recipients = from_returned(&parts, text, raw, envelope);
    }
    notice.concerns = if parts.feedback_recipients.is_empty() {
        parts.from.iter().cloned().collect()
    } else {
        let mut who: Vec<String> = Vec::new();
        for a in &parts.feedback_recipients {
            if !who.iter().any(|w| w.eq_ignore_ascii_case(a)) {
                who.push(a.clone());
            }
        }
        who
    };
    notice.kind = if parts.feedback {
        Kind::Feedback
    } else if notice.recipients.is_empty()
        && parts.auto_replied
        && !human::bounce_subject(&parts.subject)
    {
        Kind::AutoReply
    } else {
        Kind::Delivery
    };
    Some(notice)
}

/// The lines of prose that name an address without listing it ("Your message wasn't
/// delivered to bob@example.net because the address couldn't be found."): for a recipient
/// the human text has no block for, what it says of them.
fn prose_naming(text: &str, address: &str) -> String {
    let address = address.to_ascii_lowercase();
    if address.is_empty() {
        return String::new();
    }
    text.lines()
        .filter(|l| l.to_ascii_lowercase().contains(&address))
        .take(4)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .take(2000)
        .collect()
}

/// The recipients of a notice without delivery-status fields (Exim, qmail, older Sendmail,
/// many appliances): the addresses its human text lists, else the `X-Failed-Recipients`
/// header's, each with the error written under it.
fn from_words(parts: &mime::Parts, text: &str, blocks: &[human::Block]) -> Vec<NoticeRecipient> {
    let coded = blocks.iter().any(|b| !b.errors.is_empty());
    // Auto-Submitted alone does not make an automatic reply of a notice whose subject says
    // it is one ("Delivery status notification: warning").
    if (parts.auto_replied && !coded && !human::bounce_subject(&parts.subject))
        || (parts.failed_recipients.is_empty() && !human::looks_like_notice(&parts.subject, text))
    {
        return Vec::new();
    }
    let action = if human::says_delayed(&parts.subject, text) {
        "delayed"
    } else {
        "failed"
    };
    // The text's first error, read once: for blocks that quote none, and for the addresses
    // only the header names.
    let first_error = human::first_error(text);
    // A block whose lines quote no reply code, in a text where one reply is quoted further
    // down ("The error that the other server returned was: 550 5.1.1 …"): that reply is this
    // recipient's when no block has one of its own.
    let with_code = |t: &String| crate::diagnosis::classify::code_and_status(t) != (None, None);
    let elsewhere = (!blocks.iter().any(|b| b.errors.iter().any(with_code)))
        .then(|| first_error.clone().filter(with_code))
        .flatten();
    let mut out: Vec<NoticeRecipient> = Vec::new();
    for b in blocks {
        if let Some(r) = out
            .iter_mut()
            .find(|r| r.final_recipient.eq_ignore_ascii_case(&b.address))
        {
            r.attach(b);
            continue;
        }
        let said = elsewhere.as_ref().or(b.errors.first()).or(b.words.as_ref());
        out.push(NoticeRecipient {
            final_recipient: b.address.clone(),
            action: action.to_string(),
            diagnostic_code: said.cloned().unwrap_or_default(),
            quoted: b.errors.iter().skip(1).cloned().collect(),
            context: b.text.clone(),
            remote_mta: human::remote_mta(&b.text),
            ..NoticeRecipient::default()
        });
    }
    // Addresses the header names that the text did not list: the text's first error is the
    // best there is for them.
    for address in &parts.failed_recipients {
        if !out
            .iter()
            .any(|r| r.final_recipient.eq_ignore_ascii_case(address))
        {
            out.push(NoticeRecipient {
                final_recipient: address.clone(),
                action: action.to_string(),
                diagnostic_code: first_error.clone().unwrap_or_default(),
                context: text.chars().take(2000).collect(),
                ..NoticeRecipient::default()
            });
        }
    }
    // Prose addresses that name no error are not failures unless the header said so.
    if parts.failed_recipients.is_empty() && out.iter().all(|r| r.diagnostic_code.is_empty()) {
        out.clear();
    }
    for r in &mut out {
        if let Some(status) = human::status_in(&r.diagnostic_code) {
            r.status = status;
        }
    }
    out.truncate(MAX_RECIPIENTS);
    out
}

/// A notice whose text lists no address: the addresses its prose names in angle brackets
/// (`… delivering your mail to <bob@example.net>.`), else the envelope's recipients where it
/// lists them, else those the returned message was sent to — each with the reply a line
/// gives beside it (`554 <bob@example.net>... Host unknown`), else the first error the text
/// gives.
fn from_returned(
    parts: &mime::Parts,
    text: &str,
    raw: &[u8],
    envelope: Vec<String>,
) -> Vec<NoticeRecipient> {
    // A notice whose subject says it failed stands for a failure even when its text quotes
    // no error (a mailing list's refusal in prose).
    let error = human::first_error(text)
        .or_else(|| human::bounce_subject(&parts.subject).then(String::new));
    let Some(error) = error else {
        return Vec::new();
    };
    let not_sender = |a: &String| !parts.to.iter().any(|t| t.eq_ignore_ascii_case(a));
    let mut who: Vec<String> = human::bracketed(text)
        .into_iter()
        .filter(not_sender)
        .collect();
    if who.is_empty() {
        who = envelope.into_iter().filter(not_sender).collect();
    }
    if who.is_empty() {
        who = parts.returned_to.clone();
    }
    if who.is_empty() {
        // The copy of the message after a single-part notice's text.
        let whole = String::from_utf8_lossy(raw);
        if let Some(at) = whole
            .find(text.trim_end())
            .map(|a| a + text.trim_end().len())
        {
            who = mime::to_line(
                whole[at..]
                    .split_once("\n\n")
                    .map_or(&whole[at..], |(_, rest)| rest),
            );
        }
    }
    who.dedup();
    let action = if human::says_delayed(&parts.subject, text) {
        "delayed"
    } else {
        "failed"
    };
    let beside = human::replies_beside_addresses(text);
    let context: String = text.chars().take(2000).collect();
    let remote_mta = human::remote_mta(text);
    who.into_iter()
        .filter(not_sender)
        .take(MAX_RECIPIENTS)
        .map(|address| {
            let error = beside
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(&address))
                .map_or(&error, |(_, e)| e);
            NoticeRecipient {
                status: human::status_in(error).unwrap_or_default(),
                final_recipient: address,
                action: action.to_string(),
                diagnostic_code: error.clone(),
                context: context.clone(),
                remote_mta: remote_mta.clone(),
                ..NoticeRecipient::default()
            }
        })
        .collect()
}

/// A group of fields that names a recipient twice is several: some MTAs write the
/// per-message fields and each recipient's without the blank lines between them. A field
/// that names or describes a recipient, met again, opens the next recipient's group — with
/// the `Original-Recipient` just before it, which RFC 3464 writes first.
fn one_per_recipient(group: Group) -> Vec<Group> {
    const PER_RECIPIENT: [&str; 4] = ["Final-Recipient", "Original-Recipient", "Action", "Status"];
    let index = |name: &str| {
        PER_RECIPIENT
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
    };
    let mut out = Vec::new();
    let mut current = Group::new();
    let mut seen = [false; PER_RECIPIENT.len()];
    for (name, value) in group {
        if let Some(i) = index(&name) {
            if seen[i] {
                let mut next = Group::new();
                seen = [false; PER_RECIPIENT.len()];
                if i == 0
                    && let Some(last) = current.pop_if(|(n, _)| index(n) == Some(1))
                {
                    next.push(last);
                    seen[1] = true;
                }
                out.push(std::mem::replace(&mut current, next));
            }
            seen[i] = true;
        }
        current.push((name, value));
    }
    out.push(current);
    out
}

fn recipient(group: &Group) -> Option<NoticeRecipient> {
    let final_recipient =
        field(group, "Final-Recipient").or_else(|| field(group, "Original-Recipient"))?;
    Some(NoticeRecipient {
        final_recipient: address(strip_type(final_recipient)),
        action: field(group, "Action")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        status: field(group, "Status")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        diagnostic_code: field(group, "Diagnostic-Code")
            .map(diagnostic)
            .unwrap_or_default(),
        // `dns; mx.example.net. (192.0.2.25, the server for …)`: the name, not the comment.
        remote_mta: field(group, "Remote-MTA").and_then(|v| {
            strip_type(v)
                .split_whitespace()
                .next()
                .map(|h| h.trim_end_matches('.').to_string())
        }),
        will_retry_until: field(group, "Will-Retry-Until").map(str::to_string),
        last_attempt_date: field(group, "Last-Attempt-Date").map(str::to_string),
        original_recipient: field(group, "Original-Recipient").map(|v| address(strip_type(v))),
        quoted: Vec::new(),
        context: String::new(),
    })
}

/// A Diagnostic-Code as the reply it quotes. A local program's exit status keeps its type
/// (`X-Unix; 75`): the number alone would not say whose it is.
fn diagnostic(value: &str) -> String {
    if value
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("x-unix;")
    {
        return value.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    human::one_reply(strip_type(value))
}

/// An address as a field writes it, without the angle brackets some MTAs add, and with RFC
/// 6533's `\x{HEX}` escapes (a `utf-8` address type) decoded.
fn address(value: &str) -> String {
    let bare = value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let mut out = String::with_capacity(bare.len());
    let mut rest = bare;
    while let Some(at) = rest.find("\\x{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let decoded = after.split_once('}').and_then(|(hex, tail)| {
            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
            Some((c, tail))
        });
        match decoded {
            Some((c, tail)) => {
                out.push(c);
                rest = tail;
            }
            None => {
                out.push_str("\\x{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
