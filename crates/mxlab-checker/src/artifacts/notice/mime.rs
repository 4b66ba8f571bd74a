//! The MIME structure of a notice, reduced to what the reader needs: the delivery-status
//! fields, the human text (decoded from quoted-printable or base64 and from its charset —
//! ISO-2022-JP and Shift_JIS included), and the headers that say what kind of message it is.
//! The returned original message is not looked into: its addresses and words are the
//! sender's, not the notice's.

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// The most human text kept from one notice.
const MAX_TEXT: usize = 256 * 1024;
/// The most complainants read from a message's feedback reports.
const MAX_COMPLAINANTS: usize = 1000;

#[derive(Debug, Default)]
pub struct Parts {
    pub subject: String,
    pub date: Option<String>,
    /// Each `message/delivery-status` or `message/global-delivery-status` part, as text.
    pub status: Vec<String>,
    /// The human-readable text parts, plain text first.
    pub human: Vec<String>,
    /// `X-Failed-Recipients` (Exim and others).
    pub failed_recipients: Vec<String>,
    /// RFC 3834 `Auto-Submitted: auto-replied`, or the headers and subjects out-of-office
    /// answers carry.
    pub auto_replied: bool,
    /// An RFC 5965 abuse feedback report.
    pub feedback: bool,
    /// The recipients the returned message was addressed to (its `To:`), from an attached
    /// message, its headers, or the copy after the notice's text.
    pub returned_to: Vec<String>,
    /// The notice's `From:` address.
    pub from: Option<String>,
    /// A feedback report's `Original-Rcpt-To`s (or `Removal-Recipient`s): every recipient
    /// who complained, in order, from every report the message holds.
    pub feedback_recipients: Vec<String>,
    /// The notice's own `To:`: the sender being told, never a failed recipient.
    pub to: Vec<String>,
}

pub fn parts(raw: &[u8]) -> Option<Parts> {
    let repaired = super::boundary::repaired(raw);
    let raw = repaired.as_deref().unwrap_or(raw);
    let message = MessageParser::default().parse(raw)?;
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_string());
    let subject = message.subject().unwrap_or_default().to_string();
    let mut out = Parts {
        auto_replied: auto_replied(
            header("Auto-Submitted").as_deref(),
            &subject,
            ["X-Autoreply", "X-Autorespond"]
                .iter()
                .any(|h| header(h).is_some()),
        ),
        to: addresses(header("To").as_deref().unwrap_or("")),
        from: addresses(header("From").as_deref().unwrap_or(""))
            .into_iter()
            .next(),
        subject,
        date: header("Date"),
        failed_recipients: header("X-Failed-Recipients")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().trim_matches(['<', '>']).to_string())
                    .filter(|a| a.contains('@'))
                    .take(1000)
                    .collect()
            })
            .unwrap_or_default(),
        ..Parts::default()
    };
    let mut html = Vec::new();
    let mut kept = 0usize;
    for part in &message.parts {
        let (ctype, subtype) = match part.content_type() {
            // A multipart whose boundary never occurs (old PMDF and sendmail reports declare
            // one and then write their report as plain lines): its body is the text.
            Some(ct)
                if !matches!(part.body, PartType::Multipart(_))
                    && ct.ctype().eq_ignore_ascii_case("multipart") =>
            {
                ("text".to_string(), "plain".to_string())
            }
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or_default().to_ascii_lowercase(),
            ),
            None => ("text".to_string(), "plain".to_string()),
        };
        if ctype == "multipart" {
            let report = part
                .content_type()
                .and_then(|ct| ct.attribute("report-type"))
                .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"));
            out.feedback |= report;
            continue;
        }
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                out.status
                    .push(String::from_utf8_lossy(part.contents()).into_owned());
            }
            ("message", "feedback-report") => {
                out.feedback = true;
                let fields = String::from_utf8_lossy(part.contents());
                let room = MAX_COMPLAINANTS.saturating_sub(out.feedback_recipients.len());
                out.feedback_recipients.extend(
                    fields
                        .lines()
                        .filter_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            ["original-rcpt-to", "removal-recipient"]
                                .contains(&name.trim().to_ascii_lowercase().as_str())
                                .then(|| addresses(value).into_iter().next())
                                .flatten()
                        })
                        .take(room),
                );
            }
            ("message", _) => {
                if let PartType::Message(m) = &part.body {
                    out.returned_to = addresses(m.header_raw("To").unwrap_or(""));
                } else {
                    out.returned_to = to_line(&String::from_utf8_lossy(part.contents()));
                }
            }
            ("text", "rfc822-headers") => {
                out.returned_to = to_line(&String::from_utf8_lossy(part.contents()));
            }
            ("text", _) if kept < MAX_TEXT && !is_attachment(part) => {
                let text = match &part.body {
                    PartType::Text(t) | PartType::Html(t) => t.to_string(),
                    _ => String::from_utf8_lossy(part.contents()).into_owned(),
                };
                let text: String = text.chars().take(MAX_TEXT - kept).collect();
                kept += text.len();
                if subtype == "html" {
                    html.push(html_to_text(&text));
                } else {
                    out.human.push(text);
                }
            }
            _ => {}
        }
    }
    // HTML only when there is no plain text (Microsoft 365 sends both).
    if out.human.is_empty() {
        out.human = html;
    }
    Some(out)
}

fn is_attachment(part: &mail_parser::MessagePart) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}

/// The addresses in a header value, as many as a notice may list.
pub fn addresses(value: &str) -> Vec<String> {
    value
        .split([',', ';', ' ', '\t', '\n', '\r'])
        .map(|w| {
            let w = w.trim();
            let inner = match (w.rfind('<'), w.rfind('>')) {
                (Some(a), Some(b)) if a < b => &w[a + 1..b],
                _ => w,
            };
            inner.trim_matches(|c| matches!(c, '"' | '\'' | '<' | '>' | '(' | ')'))
        })
        .filter(|a| a.contains('@') && !a.starts_with('@') && !a.ends_with('@'))
        .map(str::to_string)
        .take(100)
        .collect()
}

/// The `To:` of a block of header lines (with its continuation lines).
pub fn to_line(headers: &str) -> Vec<String> {
    let mut value = String::new();
    let mut inside = false;
    for line in headers.lines() {
        if inside && line.starts_with([' ', '\t']) {
            value.push_str(line);
            continue;
        }
        if inside || line.trim().is_empty() && !value.is_empty() {
            break;
        }
        if let Some(rest) = line
            .get(..3)
            .filter(|name| name.eq_ignore_ascii_case("to:"))
            .and_then(|_| line.get(3..))
        {
            value.push_str(rest);
            inside = true;
        }
    }
    addresses(&value)
}

/// RFC 3834's header, or what out-of-office answers carry instead.
fn auto_replied(auto_submitted: Option<&str>, subject: &str, x_header: bool) -> bool {
    let header = auto_submitted.is_some_and(|v| v.to_ascii_lowercase().starts_with("auto-replied"));
    let lower = subject.to_ascii_lowercase();
    let words = [
        "out of office",
        "out of the office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "auto reply",
        "vacation",
        "away from",
        "abwesenheit",
        "不在",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || lower.starts_with("auto:");
    header || x_header || words
}

/// Tags out, line breaks where blocks end, the common entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "table"
        ) {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
        if matches!(name, "style" | "script") && !tag.starts_with('/') {
            let end = format!("</{name}");
            rest = rest
                .to_ascii_lowercase()
                .find(&end)
                .map_or("", |at| &rest[at..]);
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_lines() {
        let text = html_to_text(
            "<html><style>p{x:y}</style><p>Remote Server returned &#39;550 5.1.1 no&#39;</p><br>bob@example.net</html>",
        );
        assert!(text.contains("Remote Server returned '550 5.1.1 no'\n"));
        assert!(text.contains("bob@example.net"));
        assert!(!text.contains("x:y"));
    }

    #[test]
    fn out_of_office_is_an_auto_reply() {
        assert!(auto_replied(Some("auto-replied"), "Re: hi", false));
        assert!(auto_replied(
            None,
            "Automatic reply: Quarterly report",
            false
        ));
        assert!(!auto_replied(
            Some("auto-generated"),
            "Undelivered Mail",
            false
        ));
    }
}
