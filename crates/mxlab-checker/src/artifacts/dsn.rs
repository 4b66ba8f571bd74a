//! Reading a DSN or NDR the way an administrator does: the delivery-status fields, and in the
//! human part the replies the server quoted — where Exchange hides the real error behind its
//! own "400 4.4.7 Message delayed".

use mail_parser::{MessageParser, MimeHeaders};

use super::fields::{Group, field, parse_groups, strip_type};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DsnRecipient {
    pub final_recipient: String,
    pub action: String,
    pub status: String,
    pub diagnostic_code: String,
    pub remote_mta: Option<String>,
    pub will_retry_until: Option<String>,
    pub last_attempt_date: Option<String>,
    pub original_recipient: Option<String>,
    /// Errors the human text quotes under this recipient's address, in order.
    pub quoted: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dsn {
    pub subject: String,
    /// The notice's own Date header (RFC 5322), when it has one.
    pub date: Option<String>,
    pub reporting_mta: Option<String>,
    pub arrival_date: Option<String>,
    pub recipients: Vec<DsnRecipient>,
    /// Every reply quoted in the human text (`… returned '441 4.4.1 …'`), in order.
    pub quoted_replies: Vec<String>,
}

/// Notice wording that only summarises: "400 4.4.7 Message delayed" and
/// "550 4.4.7 QUEUE.Expired" say that time passed, not why. The classifier decides, so the
/// notice reader and the diagnosis agree on what a summary is.
pub fn is_summary(reply: &str) -> bool {
    crate::diagnosis::classify::classify(reply) == crate::diagnosis::classify::Symptom::Summary
}

impl Dsn {
    /// The last quoted reply that is a real error rather than a summary of waiting.
    pub fn last_real_error(&self) -> Option<&str> {
        self.quoted_replies
            .iter()
            .rev()
            .map(String::as_str)
            .find(|r| !is_summary(r))
    }

    pub fn is_delay(&self) -> bool {
        self.recipients
            .iter()
            .any(|r| r.action.eq_ignore_ascii_case("delayed"))
    }

    pub fn is_failure(&self) -> bool {
        self.recipients
            .iter()
            .any(|r| r.action.eq_ignore_ascii_case("failed"))
    }

    pub fn is_expiry(&self) -> bool {
        self.is_failure()
            && self
                .recipients
                .iter()
                .any(|r| is_summary(&r.diagnostic_code))
    }
}

/// Reads a notice; `None` when it has no delivery-status part.
pub fn read(raw: &str) -> Option<Dsn> {
    let message = MessageParser::default().parse(raw.as_bytes())?;
    let mut dsn = Dsn {
        subject: message.subject().unwrap_or_default().to_string(),
        date: message.header_raw("Date").map(|d| d.trim().to_string()),
        ..Dsn::default()
    };
    let mut found = false;
    let mut human = None;
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let kind = (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        );
        match (kind.0.as_str(), kind.1.as_str()) {
            ("message", "delivery-status") | ("message", "global-delivery-status") => {
                found = true;
                let text = String::from_utf8_lossy(part.contents()).into_owned();
                let groups = parse_groups(&text);
                if let Some(first) = groups.first() {
                    dsn.reporting_mta =
                        field(first, "Reporting-MTA").map(|v| strip_type(v).to_string());
                    dsn.arrival_date = field(first, "Arrival-Date").map(str::to_string);
                }
                dsn.recipients = groups.iter().skip(1).filter_map(recipient).collect();
            }
            ("text", "plain") if human.is_none() => {
                human = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
            _ => {}
        }
    }
    if let Some(text) = human {
        dsn.quoted_replies = quoted_replies(&text);
        let blocks = quoted_by_recipient(&text);
        for r in &mut dsn.recipients {
            r.quoted = blocks
                .iter()
                .filter(|(who, _)| who.eq_ignore_ascii_case(&r.final_recipient))
                .map(|(_, e)| e.clone())
                .collect();
        }
    }
    found.then_some(dsn)
}

fn recipient(group: &Group) -> Option<DsnRecipient> {
    let final_recipient =
        field(group, "Final-Recipient").or_else(|| field(group, "Original-Recipient"))?;
    Some(DsnRecipient {
        final_recipient: strip_type(final_recipient).to_string(),
        action: field(group, "Action").unwrap_or_default().to_string(),
        status: field(group, "Status").unwrap_or_default().to_string(),
        diagnostic_code: field(group, "Diagnostic-Code")
            .map(|v| strip_type(v).to_string())
            .unwrap_or_default(),
        remote_mta: field(group, "Remote-MTA").map(|v| strip_type(v).to_string()),
        will_retry_until: field(group, "Will-Retry-Until").map(str::to_string),
        last_attempt_date: field(group, "Last-Attempt-Date").map(str::to_string),
        original_recipient: field(group, "Original-Recipient").map(|v| strip_type(v).to_string()),
        quoted: Vec::new(),
    })
}

/// A reply quoted in one line of human text: Exchange's `… returned '441 4.4.1 …'`, or
/// Postfix's `host mx[192.0.2.1] said: 550 5.1.1 … (in reply to RCPT TO command)`.
fn quoted_in(line: &str) -> Option<String> {
    if let Some(start) = line.find("returned '") {
        let rest = &line[start + "returned '".len()..];
        return Some(rest[..rest.rfind('\'')?].to_string());
    }
    let start = line.find(" said: ")? + " said: ".len();
    Some(line[start..].trim().to_string())
}

/// Every reply quoted in the human part, in order.
fn quoted_replies(text: &str) -> Vec<String> {
    unfold(text).iter().filter_map(|l| quoted_in(l)).collect()
}

/// Lines with their continuations joined (Postfix folds its explanations with indentation).
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        match out.last_mut() {
            Some(prev) if line.starts_with([' ', '\t']) && !line.trim().is_empty() => {
                prev.push(' ');
                prev.push_str(line.trim());
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// (recipient, quoted error) pairs: a line that is, or starts with, an address opens that
/// recipient's block (Exchange lists the address alone, Postfix writes `<addr>: host … said:`);
/// quoted errors after it belong to it until the next address.
fn quoted_by_recipient(text: &str) -> Vec<(String, String)> {
    let mut current: Option<String> = None;
    let mut out = Vec::new();
    for line in unfold(text) {
        let first = line.split_whitespace().next().unwrap_or("");
        let word = first.trim_matches(|c| matches!(c, '<' | '>' | ':' | ','));
        if word.contains('@') && !word.contains(['\'', '"', '=']) {
            current = Some(word.to_string());
        }
        if let (Some(who), Some(e)) = (&current, quoted_in(&line)) {
            out.push((who.clone(), e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: &str = "From: postmaster@mycompany.test\r\nSubject: Delivery delayed: Report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhanako@partner.test\r\nRemote Server at mx1 (127.0.0.10) returned '400 4.4.7 Message delayed'\r\n\
5/9/2024 12:33:21 AM - Remote Server at mx1 (127.0.0.10) returned '441 4.4.1 Failed to connect. Winsock error code: 10060'\r\n\r\n--b\r\n\
Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;srv01.mycompany.lan\r\n\r\n\
Final-Recipient: rfc822;hanako@partner.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n\
Diagnostic-Code: smtp;400 4.4.7 Message delayed\r\n\r\n--b--\r\n";

    #[test]
    fn finds_the_real_error_behind_the_summary() {
        let dsn = read(DELAY).unwrap();
        assert!(dsn.is_delay() && !dsn.is_failure());
        assert_eq!(dsn.recipients[0].final_recipient, "hanako@partner.test");
        assert_eq!(dsn.recipients[0].status, "4.4.7");
        assert_eq!(
            dsn.last_real_error(),
            Some("441 4.4.1 Failed to connect. Winsock error code: 10060")
        );
        assert_eq!(dsn.reporting_mta.as_deref(), Some("srv01.mycompany.lan"));
    }

    #[test]
    fn a_plain_message_is_not_a_dsn() {
        assert_eq!(read("Subject: hi\r\n\r\nhello\r\n"), None);
    }
}
