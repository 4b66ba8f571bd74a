//! The human part of a notice, read for what it says about each recipient: the address it
//! lists and the lines under it, the reply the remote server gave (`said: …`,
//! `returned '…'`, `Remote host said: …`, `<<< 550 …`, `(reason: …)`), the hosts involved,
//! and whether the words speak of a delay or of giving up. Written from the formats Exchange,
//! Microsoft 365, Postfix, Exim, Sendmail, qmail, Gmail and others document; no vendor is
//! named in the code, only the shapes their texts take.

use super::listed;

/// One recipient's part of the human text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub address: String,
    /// The replies and errors written under it, in order.
    pub errors: Vec<String>,
    /// Its words, when they quote no reply: what a notice that gives no code says instead
    /// ("retry timeout exceeded", "Sorry, I couldn't find any host named …").
    pub words: Option<String>,
    /// Its lines, joined.
    pub text: String,
}

/// The most blocks read from one text.
const MAX_BLOCKS: usize = 2000;

/// The notice's own words: every human part joined, up to where the returned message starts.
pub fn body(parts: &[String]) -> &str {
    let text = parts.first().map(String::as_str).unwrap_or("");
    let mut end = text.len();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if is_returned_message(line) {
            end = at;
            break;
        }
        at += line.len();
    }
    &text[..end]
}

/// Where the copy of the original message starts in a single-part notice.
fn is_returned_message(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    let dashed = l.starts_with("---") || l.starts_with("===");
    (dashed
        && [
            "copy of the message",
            "original message",
            "unsent message",
            "message header",
            "returned message",
            "this is a copy",
            "undelivered message",
        ]
        .iter()
        .any(|w| l.contains(w)))
        || l.starts_with("original message headers")
        // A heading alone on its line: "Original message follows.", "Original Message:".
        || (l.starts_with("original ")
            && l.len() < 40
            && (l.ends_with(':') || l.trim_end_matches('.').ends_with("follows")))
        // A Japanese Exchange's heading over the original's headers.
        || l.starts_with("元のメッセージ ヘッダー")
        || l.starts_with("--- below this line is a copy")
}

/// RFC 3464 fields written into the human text: from the first `Reporting-MTA:` or
/// `Final-Recipient:` line on, when the text has a `Final-Recipient:` at the start of a line.
pub fn inline_fields(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at_line_start = |name: &str| {
        lower
            .match_indices(name)
            .find(|(i, _)| *i == 0 || lower.as_bytes()[i - 1] == b'\n')
            .map(|(i, _)| i)
    };
    let recipient = at_line_start("final-recipient:")?;
    let start = at_line_start("reporting-mta:")
        .filter(|r| *r < recipient)
        .unwrap_or(recipient);
    Some(text[start..].to_string())
}

/// Lines with their continuations joined (Postfix and Exim fold with indentation).
pub fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        match out.last_mut() {
            Some(prev)
                if line.starts_with([' ', '\t'])
                    && !line.trim().is_empty()
                    && !prev.trim().is_empty()
                    && opens(line).is_none()
                    // Exim lists an address alone, its lines indented under it; Exchange
                    // the address and a date.
                    && !(opens(prev).is_some()
                        && (prev.split_whitespace().count() == 1
                            || prev.trim().split_once(' ').is_some_and(|(_, r)| is_dated(r)))) =>
            {
                prev.push(' ');
                prev.push_str(line.trim());
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// Exchange's words after a listed address, `on 5/6/2024 10:00 AM`: when, not what happened.
fn is_dated(rest: &str) -> bool {
    rest.starts_with("on ") && rest.contains(|c: char| c.is_ascii_digit())
}

/// A reply quoted in one line of human text: Exchange's `… returned '441 4.4.1 …'`,
/// Postfix's `host mx[192.0.2.1] said: 550 5.1.1 … (in reply to RCPT TO command)`, qmail's
/// `Remote host said: …`, Sendmail's `<<< 550 …` and `(reason: 550 …)`; a Japanese
/// Exchange's `リモート サーバーから '441 4.4.1 …' が返されました`.
pub fn quoted_in(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    if let Some(start) = lower.find("returned '") {
        let rest = &line[start + "returned '".len()..];
        return Some(rest[..rest.rfind('\'')?].to_string());
    }
    // Japanese puts the verb last: "<server> から '<reply>' が返されました".
    if let (Some(start), Some(end)) = (line.find("から '"), line.rfind("' が返されました"))
    {
        let from = start + "から '".len();
        if end > from {
            return Some(line[from..end].to_string());
        }
    }
    if let Some(start) = lower.find(" said: ") {
        // A reply that itself quotes what another server said (Postfix's sender
        // verification inside Exim's report: `550 5.1.7 … undeliverable address: host …
        // said: 550 5.1.1 …`) is the reply; the inner one is its evidence.
        if from_code(&line[..start]).is_some() {
            return from_code(line);
        }
        return Some(line[start + " said: ".len()..].trim().to_string());
    }
    if let Some(start) = lower.find("(reason: ") {
        let rest = &line[start + "(reason: ".len()..];
        return Some(
            rest[..rest.rfind(')').unwrap_or(rest.len())]
                .trim()
                .to_string(),
        );
    }
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("<<< ") {
        return Some(rest.trim().to_string());
    }
    None
}

/// Every reply quoted in the human text, in order.
pub fn quoted_replies(text: &str) -> Vec<String> {
    unfold(text)
        .iter()
        .filter_map(|l| quoted_in(l))
        .take(MAX_BLOCKS)
        .collect()
}

/// The address a line opens a block for: a line that is, or starts with, an address
/// (`bob@example.net`, `<bob@example.net>:`, `bob@example.net: …`, Exim's indented address,
/// Exchange's address before its error).
fn opens(line: &str) -> Option<String> {
    let t = line.trim();
    let first = t.split_whitespace().next()?;
    let word = first.trim_matches(|c| matches!(c, '<' | '>' | ':' | ',' | '"' | '\'' | '*' | '.'));
    let word = word.strip_prefix("mailto:").unwrap_or(word);
    if !is_address(word) {
        return None;
    }
    let rest = t[first.len()..].trim();
    // An address followed by prose is an opening only when a colon or a bracket ends it, the
    // words after it are the few that go with listed addresses, or they give the reply
    // (`bob@example.net Invalid address, code: 550 5.1.1 …`).
    let listed = rest.is_empty()
        || first.ends_with(':')
        || first.ends_with('>')
        || first.ends_with("...")
        || rest.starts_with('(')
        || rest.starts_with("on ")
        || rest.starts_with("- ")
        || rest.starts_with('#')
        || rest.starts_with("...")
        || from_code(rest).is_some();
    listed.then(|| word.to_string())
}

pub(super) fn is_address(word: &str) -> bool {
    let Some((local, domain)) = word.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        // Not a header's name and value run together (`Message-ID:<…@example.net>`).
        && !word.contains(['(', ')', '[', ']', '=', '/', '\\', '<', '>', ':'])
        && !word.contains(char::is_whitespace)
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
}

/// Addresses the prose names in angle brackets — each `>` closing at the nearest `<` before
/// it, so a transcript's `<<< 550 …` does not swallow the address after it. The message ids
/// a quoted header gives (`Message-ID: <…@host>`) look like addresses and are not.
pub fn bracketed(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let name = line.split_once(':').map_or("", |(n, _)| n.trim());
        if ["message-id", "references", "in-reply-to"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let mut rest = line;
        while let Some(close) = rest.find('>') {
            if let Some(open) = rest[..close].rfind('<') {
                let inner = &rest[open + 1..close];
                if is_address(inner) && !out.iter().any(|a| a.eq_ignore_ascii_case(inner)) {
                    out.push(inner.to_string());
                }
            }
            rest = &rest[close + 1..];
        }
        if out.len() >= MAX_BLOCKS {
            break;
        }
    }
    out
}

/// The replies lines give beside a bracketed address (`554 <bob@example.net>... Host
/// unknown`, a transcript's verdict on one recipient): for each address, the first — or the
/// remote server's own reply when the line just above quotes it (`<<< 550 5.7.1 Relaying
/// denied`, which the verdict under it only sums up as "Remote protocol error").
pub fn replies_beside_addresses(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut previous: Option<String> = None;
    for line in text.lines() {
        let quoted = std::mem::replace(&mut previous, quoted_in(line));
        let Some(reply) = from_code(line) else {
            continue;
        };
        let reply = quoted.unwrap_or(reply);
        for address in bracketed(line) {
            if !out.iter().any(|(a, _)| a.eq_ignore_ascii_case(&address)) {
                out.push((address, reply.clone()));
            }
        }
        if out.len() >= MAX_BLOCKS {
            break;
        }
    }
    out
}

/// Each recipient's block: from a line that opens it until a blank line after text, or the
/// next opening line. The errors are what its lines quote, or the first words with a reply
/// code, or — for texts that give none ("retry timeout exceeded", "Sorry, I couldn't find any
/// host named …") — its words. A line that ends with the address after words of failure
/// opens a block too, those words its first line, and the paragraph after it (the reply is
/// often there) in it; an address alone with nothing under it takes the reason written on
/// the line above it.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    // The line just before, outside any block, when it could be a reason; and the one above
    // the current block's address.
    let mut above: Option<String> = None;
    let mut reason: Option<String> = None;
    // The lines a block's opening gave it: a blank line ends the block only after others.
    let mut own = 0;
    let flush = |who: &mut Option<String>,
                 lines: &mut Vec<String>,
                 reason: &mut Option<String>,
                 out: &mut Vec<Block>| {
        if lines.is_empty()
            && let Some(r) = reason.take()
        {
            lines.push(r);
        }
        if let Some(address) = who.take()
            && out.len() < MAX_BLOCKS
        {
            out.push(block(address, lines));
        }
        lines.clear();
        *reason = None;
    };
    for line in unfold(text) {
        if let Some(address) = opens(&line) {
            flush(&mut current, &mut lines, &mut reason, &mut out);
            current = Some(address.clone());
            reason = above.take();
            let rest = line
                .trim()
                .split_once(char::is_whitespace)
                .map_or("", |(_, rest)| rest);
            if !rest.trim().is_empty() && !is_dated(rest) {
                lines.push(rest.trim().to_string());
            }
            own = 0;
            continue;
        }
        if let Some(address) = listed::trailing(&line) {
            flush(&mut current, &mut lines, &mut reason, &mut out);
            current = Some(address);
            lines.push(line.trim().to_string());
            above = None;
            own = 1;
            continue;
        }
        if current.is_some() {
            if line.trim().is_empty() {
                // A line that ends in a colon ("because:", "For the following reason:")
                // leads into what follows the blank line.
                let leads_in = lines.last().is_some_and(|l| l.trim_end().ends_with(':'));
                if lines.len() > own && !leads_in {
                    flush(&mut current, &mut lines, &mut reason, &mut out);
                }
                continue;
            }
            lines.push(line.trim().to_string());
        } else {
            above = listed::is_reason_above(&line).then(|| line.trim().to_string());
        }
    }
    flush(&mut current, &mut lines, &mut reason, &mut out);
    out
}

fn block(address: String, lines: &[String]) -> Block {
    let lines = join_multiline(lines);
    let mut errors: Vec<String> = lines.iter().filter_map(|l| quoted_in(l)).collect();
    if errors.is_empty() {
        errors.extend(lines.iter().find_map(|l| from_code(l)));
    }
    if errors.is_empty() {
        errors.extend(telling(&lines));
    }
    errors.dedup();
    // A display name in brackets after the address is not what happened.
    let said: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !(l.is_empty() || l.starts_with('(') && l.ends_with(')')))
        .collect();
    let words = (errors.is_empty() && !said.is_empty()).then(|| said.join(" "));
    Block {
        address,
        errors,
        words,
        text: lines.join("\n"),
    }
}

/// The text from the first reply code or enhanced status on: `… after RCPT TO:<x>: 550 5.1.1
/// …` → `550 5.1.1 …`; Exchange's `#550 5.1.10 RESOLVER…`.
fn from_code(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    for (i, w) in line.char_indices() {
        if !(w == '4' || w == '5') || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        // Not inside a number, nor qmail's closing "(#5.1.2)", which only labels the words
        // before it.
        if i > 0 && matches!(bytes[i - 1], b'.' | b'#') {
            continue;
        }
        let rest = &line[i..];
        let code = rest.len() >= 4
            && rest.as_bytes()[1].is_ascii_digit()
            && rest.as_bytes()[2].is_ascii_digit()
            && matches!(rest.as_bytes()[3], b' ' | b'-');
        let status = mxlab_vocab::EnhancedStatus::parse(
            rest.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches([',', ';', ':', ')']),
        )
        .is_some();
        if code || status {
            return Some(rest.trim().to_string());
        }
    }
    None
}

/// The first error in a text that names no recipient with it.
pub fn first_error(text: &str) -> Option<String> {
    let lines = join_multiline(&unfold(text));
    lines
        .iter()
        .find_map(|l| quoted_in(l))
        .or_else(|| lines.iter().find_map(|l| from_code(l)))
        .or_else(|| telling(&lines))
}

/// The first line whose words say what went wrong ("User unknown", "Host not found"), for
/// texts that quote no reply.
fn telling(lines: &[String]) -> Option<String> {
    use crate::diagnosis::classify::{Symptom, classify_without_table};
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && l.len() < 400)
        .find(|l| !matches!(classify_without_table(l), Symptom::Unknown))
        .map(str::to_string)
}

/// A multiline reply a field holds on one line (`550-5.1.1 The account … 550-5.1.1 double-
/// checking … 550 5.1.1 https://…`): the code and status once, the texts joined.
pub fn one_reply(text: &str) -> String {
    let t = text.trim();
    let multiline =
        t.len() > 4 && t.as_bytes()[..3].iter().all(u8::is_ascii_digit) && t.as_bytes()[3] == b'-';
    if !multiline {
        return t.to_string();
    }
    let code = &t[..3];
    let status = t[4..].split_whitespace().next().unwrap_or("");
    let has_status = mxlab_vocab::EnhancedStatus::parse(status).is_some();
    let mut body = if has_status {
        t[4 + status.len()..].to_string()
    } else {
        t[4..].to_string()
    };
    for prefix in [format!("{code}-{status}"), format!("{code} {status}")] {
        if has_status {
            body = body.replace(&prefix, " ");
        }
    }
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if has_status {
        format!("{code} {status} {body}")
    } else {
        format!("{code} {body}")
    }
}

/// A multiline reply written out (`550-5.7.26 Unauthenticated …` / `550-5.7.26 DMARC …` /
/// `550 5.7.26 …`) as one line: the code and status once, the texts joined.
fn join_multiline(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    for line in lines {
        let t = line.trim();
        let code = t.get(..3).filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
        let sep = t.as_bytes().get(3).copied();
        match (code, sep, &open) {
            (Some(c), Some(b'-' | b' '), Some(prefix)) if c == prefix => {
                let rest = t[4..].trim_start();
                let rest = rest
                    .split_once(' ')
                    .filter(|(first, _)| mxlab_vocab::EnhancedStatus::parse(first).is_some())
                    .map_or(rest, |(_, r)| r);
                let last = out.last_mut().expect("opened");
                last.push(' ');
                last.push_str(rest.trim());
                if sep == Some(b' ') {
                    open = None;
                }
            }
            (Some(c), Some(b'-'), _) => {
                open = Some(c.to_string());
                out.push(format!("{c} {}", t[4..].trim_start()));
            }
            _ => {
                open = None;
                out.push(line.clone());
            }
        }
    }
    out
}

/// The enhanced status a reply states.
pub fn status_in(reply: &str) -> Option<String> {
    let (code, status) = crate::diagnosis::classify::code_and_status(reply.trim_start_matches('#'));
    status.map(|s| s.to_string()).or_else(|| {
        // `#5.1.2` at the end, as qmail writes it.
        let at = reply.rfind("(#")?;
        let inner = reply[at + 2..].split(')').next()?;
        let s = mxlab_vocab::EnhancedStatus::parse(inner)?;
        (code.is_none() || code.is_some_and(|c| c / 100 == u16::from(s.class)))
            .then(|| s.to_string())
    })
}

/// The host that gave the reply: `host mx.example.net[192.0.2.1] said`, `Remote Server at
/// mx (192.0.2.1) returned`, Exim's `host mx.example.net [192.0.2.1]`, Sendmail's `while
/// talking to mx.example.net.:`.
pub fn remote_mta(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for (marker, stop) in [
        ("remote server at ", &[' ', '('][..]),
        // A Japanese Exchange: "リモート サーバー mx.example.net (192.0.2.1) から '…'".
        ("リモート サーバー ", &[' ', '('][..]),
        ("connect to ", &['[', ':', ' '][..]),
        ("while talking to ", &[':', ' '][..]),
        ("host ", &[' ', '[', ':'][..]),
    ] {
        let Some(at) = lower.find(marker) else {
            continue;
        };
        let rest = &text[at + marker.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| !stop.contains(c) && !c.is_whitespace())
            .collect();
        let name = name.trim_end_matches('.');
        if name.contains('.') && !name.contains('@') {
            return Some(name.to_string());
        }
    }
    None
}

/// The server that wrote the notice, when its words name it: Exchange's `Generating server:`,
/// Postfix's `This is the mail system at host …`, qmail's `qmail-send program at …`.
pub fn reporting_mta(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for marker in [
        "generating server: ",
        "生成元サーバー: ",
        "mail system at host ",
        "qmail-send program at ",
        "reporting-mta: dns;",
    ] {
        if let Some(at) = lower.find(marker) {
            let name: String = text[at + marker.len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// Words only a delivery notice uses: without them, a message that lists an address is
/// just a message.
pub fn looks_like_notice(subject: &str, text: &str) -> bool {
    let all = format!("{subject}\n{text}").to_ascii_lowercase();
    [
        "undeliver",
        "delivery",
        "not be delivered",
        "couldn't be delivered",
        "could not deliver",
        "failure notice",
        "returned mail",
        "mail delivery",
        "permanent error",
        "temporary error",
        "delivery has failed",
        // Exchange 2000/2003: "Your message … did not reach the following recipient(s):".
        "did not reach",
        "trouble delivering",
        "delayed",
        "mailer-daemon",
        "qmail-send",
        "unzustellbar",
        "non remis",
        "配信",
        "送信できません",
    ]
    .iter()
    .any(|w| all.contains(w))
}

/// A subject only a bounce or a delay notice has.
pub fn bounce_subject(subject: &str) -> bool {
    let s = subject.to_ascii_lowercase();
    [
        "undeliver",
        "delivery status notification",
        "delivery failure",
        "delivery failed",
        "delivery has failed",
        "failure notice",
        "returned mail",
        "could not be delivered",
        "couldn't be delivered",
        "non remis",
        "unzustellbar",
        "delivery delayed",
        "delayed mail",
        "mail delivery",
        "mail failure",
        "error sending your",
        // A Japanese Exchange's "配信不能: …" and "配信の遅延: …".
        "配信不能",
        "配信の遅延",
    ]
    .iter()
    .any(|w| s.contains(w))
}

/// A notice that speaks of a delay, not a failure: its subject or its words.
pub fn says_delayed(subject: &str, text: &str) -> bool {
    let s = subject.to_ascii_lowercase();
    let t = text.to_ascii_lowercase();
    // The subject repeats the original's ("Undeliverable: Re: Invoice delay"): only the
    // notice's own words count there.
    [
        "delayed mail",
        "delivery delayed",
        "delay notification",
        "(delay)",
        "still being retried",
        "not yet been delivered",
        "warning: could not send",
        "warning: message",
        "遅延",
    ]
    .iter()
    .any(|w| s.contains(w))
        || [
            "has not yet been delivered",
            "have not yet been delivered",
            "no action is required on your part",
            "will continue to try",
            "will try to deliver",
            "will keep trying",
            "still trying to deliver",
            "delivery attempts will continue",
            "you do not need to resend",
            "you do not need to re-send",
            "only a temporary failure",
            "is delayed for more than",
            // A Japanese Exchange: "…まだ配信されていません。" "…配信を試み続けます。"
            "まだ配信されていません",
            "配信を試み続けます",
        ]
        .iter()
        .any(|w| t.contains(w))
}

/// Words that say the sending server gave up because time ran out.
pub fn says_expired(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "retry timeout exceeded",
        "retry time not reached for any host after a long failure period",
        "could not be delivered within",
        "was not delivered within",
        "message expired",
        "queue.expired",
        "too long in the queue",
        "could not deliver for the last",
        // qmail: "I'm not going to try again; this message has been in the queue too long."
        "in the queue too long",
        "delivery time expired",
        "expired after",
        "message timed out",
        "timeout waiting",
        "giving up after",
        "delivery period expired",
        "envelope expired",
        // A Japanese Exchange: "…有効期限までにメッセージを受け付けませんでした。"
        "有効期限までに",
    ]
    .iter()
    .any(|w| t.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exim_lists_addresses_indented_with_the_reply_under_them() {
        let text = "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  bob@example.net\n    host mx.example.net [192.0.2.25]\n    SMTP error from remote mail server after RCPT TO:<bob@example.net>:\n    550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\n\n  carol@example.org\n    retry timeout exceeded\n";
        let b = blocks(text);
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(b[0].address, "bob@example.net");
        assert_eq!(
            b[0].errors,
            ["550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown"]
        );
        assert_eq!(remote_mta(&b[0].text).as_deref(), Some("mx.example.net"));
        assert_eq!(b[1].errors, ["retry timeout exceeded"]);
    }

    /// An address at the head of a line, its reply after some words on the same line.
    #[test]
    fn an_address_with_its_reply_on_the_same_line() {
        let text = "This is a permanent error.\n\nann@example.net Rejected recipient, reply :550, status :5.1.1 <ann@example.net>... no mailbox\nben@example.org Rejected recipient, reply :552, status :5.2.2 <ben@example.org>... over quota\n\nMessage-ID:<x1.y2@mail.example.com>\n";
        let b = blocks(text);
        let got: Vec<(&str, &str)> = b
            .iter()
            .map(|b| (b.address.as_str(), b.errors[0].as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("ann@example.net", "5.1.1 <ann@example.net>... no mailbox"),
                ("ben@example.org", "5.2.2 <ben@example.org>... over quota"),
            ]
        );
    }

    #[test]
    fn a_reply_that_quotes_another_server_is_the_reply() {
        let line = "SMTP error from remote mail server after MAIL FROM:<ann@example.org>: 553 5.1.7 <ann@example.org>: Sender address rejected: undeliverable address: host mx.example.org[192.0.2.9] said: 550 5.1.1 <ann@example.org>: no such user (in reply to RCPT TO command)";
        assert!(
            quoted_in(line)
                .unwrap()
                .starts_with("553 5.1.7 <ann@example.org>: Sender")
        );
        // Postfix's own "host … said:" quotes the remote's reply.
        assert_eq!(
            quoted_in("host mx.example.org[192.0.2.9] said: 550 5.1.1 no such user").as_deref(),
            Some("550 5.1.1 no such user")
        );
    }

    #[test]
    fn a_line_ending_in_a_colon_leads_into_the_next_paragraph() {
        let b = blocks(
            "was not delivered to:\n\n  ann@example.org\n\nbecause:\n\n  550 5.1.1 No such person here\n\nWhat should you do?\n",
        );
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].errors,
            vec!["550 5.1.1 No such person here".to_string()]
        );
    }

    #[test]
    fn qmail_and_sendmail_shapes() {
        let qmail = "<bob@example.net>:\n192.0.2.25 does not like recipient.\nRemote host said: 550 5.1.1 <bob@example.net>... User unknown\nGiving up on 192.0.2.25.\n\n--- Below this line is a copy of the message.\n\nTo: x@y.z\n";
        let b = blocks(body(&[qmail.to_string()]));
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].errors[0],
            "550 5.1.1 <bob@example.net>... User unknown"
        );
        let sendmail = "----- The following addresses had permanent fatal errors -----\n<bob@example.net>\n    (reason: 550 5.1.1 <bob@example.net>... User unknown)\n";
        assert_eq!(
            blocks(sendmail)[0].errors,
            ["550 5.1.1 <bob@example.net>... User unknown"]
        );
    }

    /// A Japanese Exchange's shapes, as its notices print them (the verb last).
    #[test]
    fn a_japanese_exchange_quotes_replies_and_names_servers() {
        assert_eq!(
            quoted_in("リモート サーバーから '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found' が返されました")
                .as_deref(),
            Some("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found")
        );
        let text = "管理者向けの診断情報:\n\n生成元サーバー: ex01.example.jp\n\nbob@example.net\n5/9/2024 12:33:21 AM - リモート サーバー mx.example.net (192.0.2.1) から '451 4.4.0 it's busy' が返されました\n";
        assert_eq!(quoted_replies(text), ["451 4.4.0 it's busy"]);
        assert_eq!(remote_mta(text).as_deref(), Some("mx.example.net"));
        assert_eq!(reporting_mta(text).as_deref(), Some("ex01.example.jp"));
        assert!(says_delayed("配信の遅延: 見積書", ""));
        assert!(says_delayed(
            "",
            "サーバーは今後1日と19時間57分の間、このメッセージの配信を試み続けます。"
        ));
        assert!(!says_delayed(
            "配信不能: 見積書",
            "次の受信者またはグループへの配信に失敗しました:"
        ));
        assert!(bounce_subject("配信不能: 見積書"));
        assert_eq!(
            body(&["本文\n元のメッセージ ヘッダー:\n\nSubject: x\n".to_string()]),
            "本文\n"
        );
    }

    /// Where the returned message starts when the notice gives no dashed line over it: a
    /// heading alone on its line, not a sentence that speaks of the original.
    #[test]
    fn the_returned_message_starts_at_a_heading_alone_on_its_line() {
        for (text, notice) in [
            (
                "Unknown user: a@example.net\n\nOriginal message follows.\n\nTo: a@example.net\n",
                "Unknown user: a@example.net\n\n",
            ),
            (
                "Could not deliver.\nOriginal Message:\nTo: a@example.net\n",
                "Could not deliver.\n",
            ),
            (
                "The original message was received at Mon, 6 May 2024 10:00:00 +0000\n",
                "The original message was received at Mon, 6 May 2024 10:00:00 +0000\n",
            ),
        ] {
            assert_eq!(body(&[text.to_string()]), notice);
        }
    }

    #[test]
    fn multiline_replies_are_one() {
        let lines: Vec<String> = [
            "550-5.7.26 Unauthenticated email is not accepted due to domain's",
            "550-5.7.26 DMARC policy.",
            "550 5.7.26 https://support.example/dmarc - gsmtp",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            join_multiline(&lines),
            [
                "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy. https://support.example/dmarc - gsmtp"
            ]
        );
    }

    #[test]
    fn statuses_where_the_text_puts_them() {
        assert_eq!(
            status_in("#550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found ##").as_deref(),
            Some("5.1.10")
        );
        assert_eq!(
            status_in("Sorry, I couldn't find any host named example.invalid. (#5.1.2)").as_deref(),
            Some("5.1.2")
        );
    }

    #[test]
    fn bracketed_addresses_close_at_the_nearest_bracket() {
        let text = "While talking to mx.example.net:\n>>> DATA\n<<< 554 refused\n554 <ann@example.net>... refused\nMessage-ID: <k1.k2@mail.example.org>\n>>> RCPT To:<ben@example.net>\n";
        assert_eq!(bracketed(text), ["ann@example.net", "ben@example.net"]);
    }

    #[test]
    fn prose_mentioning_an_address_opens_nothing() {
        assert!(opens("Your message to bob@example.net couldn't be delivered.").is_none());
        assert!(opens("From: alice@example.com").is_none());
        assert!(opens("Message-ID:<a1b2.c3@mail.example.com>").is_none());
        assert!(opens("To:<bob@example.net>, <carol@example.net>").is_none());
        assert!(opens("bob@example.net wrote on 5 May:").is_none());
        assert_eq!(opens("bob@example.net").as_deref(), Some("bob@example.net"));
    }
}
