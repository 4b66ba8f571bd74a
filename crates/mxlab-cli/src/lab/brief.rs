//! What a lab tells the trainee as it starts: the complaint, the notices as the user's mail
//! program shows them (their human-readable part), then the servers and the commands. Only
//! what the user and the administrator would have: never the story's title, tags or verdict.

use std::fmt::Write;

/// The most lines of one notice's human text shown at start (`show dsn` shows it whole).
const MAX_NOTICE_LINES: usize = 40;

/// A notice's Subject and Date headers and its first text/plain part, up to the original
/// message's headers (what Outlook shows above the fold).
pub fn human_part(raw: &str) -> (String, String, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let multipart = header("Content-Type")
        .to_ascii_lowercase()
        .starts_with("multipart/");
    let text = if multipart {
        // The first part whose headers say text/plain: its body, to the next boundary.
        let mut out = String::new();
        // Every boundary line starts a line, the first one too.
        let body = format!("\n{body}");
        let mut parts = body.split("\n--").skip(1);
        if let Some(part) = parts.find(|p| {
            p.split_once("\n\n")
                .is_some_and(|(h, _)| h.to_ascii_lowercase().contains("text/plain"))
        }) {
            out = part.split_once("\n\n").map_or("", |(_, b)| b).to_string();
        }
        out
    } else {
        body.to_string()
    };
    let text = match text.find("Original message headers:") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    (
        header("Subject"),
        header("Date"),
        text.trim_end().to_string(),
    )
}

/// The opening of a lab: the complaint and the notices, indented for reading.
pub fn opening(
    name: &str,
    block: u8,
    briefing: &str,
    notices: &[String],
    lang: mxlab_vocab::Lang,
) -> String {
    let say = super::say::say(lang);
    let mut out = String::new();
    let _ = writeln!(out, "mxlab lab {name}");
    if block == 0 {
        let _ = writeln!(out, "{}", say.own_addresses);
    } else {
        let _ = writeln!(out, "{}", say.block(block));
    }
    let _ = writeln!(out, "\n{}\n", say.complaint);
    for line in briefing.trim_end().lines() {
        let _ = writeln!(out, "  {line}");
    }
    if notices.is_empty() {
        let _ = writeln!(out, "\n{}", say.no_notice);
    }
    for (i, raw) in notices.iter().enumerate() {
        let (subject, date, text) = human_part(raw);
        let _ = writeln!(
            out,
            "\n{}\n",
            say.notice(i + 1, notices.len(), &subject, &date)
        );
        let lines: Vec<&str> = text.lines().collect();
        for line in lines.iter().take(MAX_NOTICE_LINES) {
            let _ = writeln!(out, "  | {line}");
        }
        if lines.len() > MAX_NOTICE_LINES {
            let _ = writeln!(out, "  | … ({} more lines)", lines.len() - MAX_NOTICE_LINES);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_human_part_of_a_report_without_its_headers() {
        let raw = "From: postmaster@x\r\nSubject: Delivery delayed: Hi\r\nDate: Thu, 09 May 2024 00:43:00 +0100\r\nContent-Type: multipart/report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\nDelivery is delayed.\r\n\r\nOriginal message headers:\r\n\r\nFrom: a\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 4.4.7\r\n\r\n--b--\r\n";
        let (subject, date, text) = human_part(raw);
        assert_eq!(subject, "Delivery delayed: Hi");
        assert_eq!(date, "Thu, 09 May 2024 00:43:00 +0100");
        assert_eq!(text, "Delivery is delayed.");
    }

    #[test]
    fn junk_gives_nothing_to_show() {
        let (s, d, t) = human_part("not a message");
        assert_eq!((s.as_str(), d.as_str(), t.as_str()), ("", "", ""));
    }
}
