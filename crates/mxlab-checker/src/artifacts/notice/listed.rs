//! Texts that name a recipient somewhere else than at the head of its block: after the words
//! that say what happened (`Unknown user: bob@example.net`, `undeliverable to
//! bob@example.net`), under a line that says it (a reason, then the address alone), or in
//! the envelope the notice lists or the session it transcribes (`RCPT TO: bob@example.net`,
//! `In: RCPT TO:<bob@example.net>`). Written from the shapes small servers and gateways
//! give; no vendor is named, only the shapes.

use super::human::is_address;

/// The longest line read as words followed by an address.
const MAX_LINE: usize = 200;
/// The most envelope recipients read from one text.
const MAX_ENVELOPE: usize = 1000;

/// The address a line ends with, after words that say what went wrong and a colon or a
/// "to": `Unknown user: bob@example.net`, `Delivery failed 20 attempts: bob@example.net`,
/// `undeliverable to <bob@example.net>`. Before a colon there are two words at least: one is
/// a header's name (`X-Failed-Recipients: …`).
pub fn trailing(line: &str) -> Option<String> {
    let t = line.trim();
    if t.len() > MAX_LINE {
        return None;
    }
    let (before, last) = t.rsplit_once(char::is_whitespace)?;
    let address = last.trim_matches(|c| matches!(c, '<' | '>' | '.' | ',' | ';' | '"'));
    if !is_address(address) {
        return None;
    }
    let before = before.trim_end();
    let words = match before.strip_suffix(':') {
        Some(w) if w.split_whitespace().count() >= 2 => w,
        Some(_) => return None,
        None => strip_suffix_word(before, "to")?,
    };
    says_it_failed(words).then(|| address.to_string())
}

fn strip_suffix_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let (rest, last) = text.rsplit_once(char::is_whitespace)?;
    last.eq_ignore_ascii_case(word).then_some(rest)
}

/// Words that say a delivery did not happen: the few that such lines use, or any the
/// classifier knows.
fn says_it_failed(words: &str) -> bool {
    use crate::diagnosis::classify::{Symptom, classify_without_table};
    let w = words.to_ascii_lowercase();
    [
        "fail",
        "undeliver",
        "not deliver",
        "unknown",
        "invalid",
        "exceed",
        "reject",
        "refused",
        "denied",
        "error",
        "no such",
        "unable",
    ]
    .iter()
    .any(|k| w.contains(k))
        || !matches!(classify_without_table(words), Symptom::Unknown)
}

/// A line that says something in words, fit to be the reason written above an address alone
/// on the next line: not blank, not a heading (one that ends with a colon or is drawn with
/// dashes), not an address, not a header.
pub fn is_reason_above(line: &str) -> bool {
    let t = line.trim();
    let drawn = |c: char| matches!(c, '-' | '=' | '*' | '#' | '_');
    !t.is_empty()
        && t.len() <= MAX_LINE
        && !t.ends_with(':')
        && !t.starts_with(drawn)
        && !t.ends_with(drawn)
        && !t.split_whitespace().any(|w| w.contains('@'))
        && t.chars().any(char::is_alphabetic)
}

/// The recipients the envelope gives, where a notice lists it (`RCPT TO: bob@example.net`
/// among the message's details) or transcribes the session (`In: RCPT TO:<bob@example.net>
/// ORCPT=…`, `>>> RCPT To:<bob@example.net>`), in order, each once.
pub fn envelope(text: &str) -> Vec<String> {
    const COMMAND: &str = "rcpt to:";
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        let Some(at) = lower.find(COMMAND) else {
            continue;
        };
        let rest = line[at + COMMAND.len()..].trim_start();
        let word = rest.split_whitespace().next().unwrap_or("");
        // `<bob@example.net>`, `bob@example.net`, or `<bob@example.net>:` after a stage.
        let address = word
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or("")
            .trim_end_matches([':', ',', ';']);
        if is_address(address) && !out.iter().any(|a| a.eq_ignore_ascii_case(address)) {
            out.push(address.to_string());
            if out.len() >= MAX_ENVELOPE {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_after_the_words_that_say_what_happened() {
        assert_eq!(
            trailing("No such mailbox here: ann@example.net").as_deref(),
            Some("ann@example.net")
        );
        assert_eq!(
            trailing("Message gave up after 12 tries: <ann@example.net>").as_deref(),
            None,
            "no word of failure"
        );
        assert_eq!(
            trailing("Undeliverable to ann@example.net ").as_deref(),
            Some("ann@example.net")
        );
        assert_eq!(trailing("X-Failed-Recipients: ann@example.net"), None);
        assert_eq!(
            trailing("Transfer failed after 6 attempts: ann@example.net").as_deref(),
            Some("ann@example.net")
        );
        // A header, or prose that names an address in passing, is not such a line.
        assert_eq!(trailing("To: ann@example.net"), None);
        assert_eq!(trailing("This copy was sent to ann@example.net"), None);
        assert_eq!(trailing("Questions? Write to help@example.net"), None);
    }

    #[test]
    fn reasons_written_above_an_address() {
        assert!(is_reason_above("Mailbox not found in the directory"));
        assert!(is_reason_above("宛先が見つかりません"));
        assert!(!is_reason_above("------- Failure Reasons --------"));
        assert!(!is_reason_above("The following recipients failed:"));
        assert!(!is_reason_above("ann@example.net"));
        assert!(!is_reason_above(""));
    }

    #[test]
    fn the_envelope_a_notice_lists_or_transcribes() {
        let details = "Message details:\n  MAIL FROM: me@example.org\n  RCPT TO: ann@example.net\n";
        assert_eq!(envelope(details), ["ann@example.net"]);
        let session = " In:  MAIL FROM:<me@example.org>\n Out: 250 2.1.0 Ok\n In:  RCPT TO:<ben@example.net> ORCPT=rfc822;ben@example.net\n Out: 250 2.1.5 Ok\n>>> RCPT To:<cy@example.net>\n<<< 550 no\n";
        assert_eq!(envelope(session), ["ben@example.net", "cy@example.net"]);
        assert!(envelope("(in reply to RCPT TO command)").is_empty());
    }
}
