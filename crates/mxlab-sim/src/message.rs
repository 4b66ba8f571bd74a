//! The message the sending server submits: headers as an Exchange server writes them, with a
//! Message-ID and dates from the story, never from the host or the wall clock.

use time::OffsetDateTime;

use mxlab_scenario::model::MessageSpec;

use crate::format::{compact, rfc5322};

pub struct Composed {
    pub message_id: String,
    /// The header section, CRLF line ends, without the blank line.
    pub headers: String,
    /// The whole message as it goes over the wire (without the final dot).
    pub wire: Vec<u8>,
}

pub fn compose(
    spec: &MessageSpec,
    number: usize,
    arrival: OffsetDateTime,
    hostname: &str,
    sender_ip: &str,
) -> Composed {
    let date = rfc5322(arrival);
    let message_id = format!("<{}.{number}@{hostname}>", compact(arrival));
    let mut headers = vec![
        format!(
            "Received: from {hostname} ({sender_ip}) by {hostname} ({sender_ip}) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1544.4; {date}"
        ),
        format!("From: {}", spec.from),
        format!("To: {}", spec.to.join(", ")),
        // Outlook sends a non-ASCII subject (a Japanese user's) as RFC 2047 encoded words.
        format!(
            "Subject: {}",
            crate::encoded_word::header_text(&spec.subject)
        ),
        format!("Date: {date}"),
        format!("Message-ID: {message_id}"),
        "MIME-Version: 1.0".to_string(),
        "Content-Type: text/plain; charset=\"utf-8\"".to_string(),
        "Content-Transfer-Encoding: 8bit".to_string(),
    ];
    headers.extend(spec.headers.iter().cloned());
    let headers = headers.join("\r\n");
    let body = spec
        .body
        .clone()
        .unwrap_or_else(|| "Hello,\n\nplease find the details below.\n\nBest regards\n".into());
    let body = body.replace("\r\n", "\n").replace('\n', "\r\n");
    // mail-send appends CRLF.CRLF itself; a body ending in CRLF would gain an empty line.
    let body = body.trim_end_matches("\r\n");
    let wire = format!("{headers}\r\n\r\n{body}").into_bytes();
    Composed {
        message_id,
        headers,
        wire,
    }
}
