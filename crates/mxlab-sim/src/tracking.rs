//! The message tracking log, in the CSV layout of Exchange's `MSGTRK` files (the fields an
//! administrator reads with Get-MessageTrackingLog; docs/FACTS.md lists them).

use mxlab_vocab::EventId;
use time::OffsetDateTime;

use crate::format::tracking;

pub const FIELDS: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality";

/// One line of the log.
#[derive(Clone, Debug)]
pub struct Event {
    pub client_ip: String,
    pub client_hostname: String,
    pub server_ip: String,
    pub server_hostname: String,
    pub source_context: String,
    pub connector_id: String,
    pub source: &'static str,
    pub event_id: EventId,
    pub internal_message_id: usize,
    pub message_id: String,
    pub recipients: Vec<String>,
    pub recipient_status: String,
    pub total_bytes: usize,
    pub subject: String,
    pub sender: String,
}

/// The header lines Exchange writes at the top of every log file, then the CSV rows.
pub struct Log {
    header: String,
    rows: csv::Writer<Vec<u8>>,
}

impl Log {
    pub fn new(start: OffsetDateTime) -> Self {
        let header = [
            "#Software: Microsoft Exchange Server".to_string(),
            "#Version: 15.02.1544.004".into(),
            "#Log-type: Message Tracking Log".into(),
            format!("#Date: {}", tracking(start)),
            format!("#Fields: {FIELDS}"),
        ]
        .map(|line| line + "\n")
        .concat();
        // Fields with a comma, a quote or a line break are quoted, quotes doubled; rows end
        // in LF like every artifact in a report.
        let rows = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        Log { header, rows }
    }

    pub fn push(&mut self, at: OffsetDateTime, e: Event) {
        let fields = [
            tracking(at),
            e.client_ip,
            e.client_hostname,
            e.server_ip,
            e.server_hostname,
            e.source_context,
            e.connector_id,
            e.source.to_string(),
            e.event_id.to_string(),
            e.internal_message_id.to_string(),
            e.message_id,
            format!("00000000-0000-0000-0000-{:012x}", e.internal_message_id),
            e.recipients.join(";"),
            e.recipient_status,
            e.total_bytes.to_string(),
            e.recipients.len().to_string(),
            String::new(),
            String::new(),
            e.subject,
            e.sender.clone(),
            e.sender,
            String::new(),
            "Originating".to_string(),
        ];
        // Writing into a Vec cannot fail: csv's only errors here would be the sink's. Each row is
        // flushed at once, so `text` sees it.
        self.rows
            .write_record(&fields)
            .expect("writing CSV into memory");
        self.rows.flush().expect("writing CSV into memory");
    }

    pub fn text(&self) -> String {
        let rows = String::from_utf8_lossy(self.rows.get_ref());
        format!("{}{rows}", self.header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event with nothing in it but its id.
    fn blank(event_id: EventId) -> Event {
        Event {
            client_ip: String::new(),
            client_hostname: String::new(),
            server_ip: String::new(),
            server_hostname: String::new(),
            source_context: String::new(),
            connector_id: String::new(),
            source: "",
            event_id,
            internal_message_id: 0,
            message_id: String::new(),
            recipients: Vec::new(),
            recipient_status: String::new(),
            total_bytes: 0,
            subject: String::new(),
            sender: String::new(),
        }
    }

    #[test]
    fn quotes_fields_that_need_it() {
        let at = time::macros::datetime!(2024-05-08 20:40 +1);
        let mut log = Log::new(at);
        for subject in ["plain", "a,b", "say \"hi\"", "two\r\nlines"] {
            log.push(
                at,
                Event {
                    subject: subject.into(),
                    ..blank(EventId::Receive)
                },
            );
        }
        let text = log.text();
        for quoted in ["plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"two\r\nlines\""] {
            // recipient-count 0, two empty fields, the subject, three empty, directionality.
            let row_end = format!(",0,,,{quoted},,,,Originating\n");
            assert!(text.contains(&row_end), "{row_end:?} in {text:?}");
        }
    }

    #[test]
    fn a_line_has_every_field() {
        let mut log = Log::new(time::macros::datetime!(2024-05-08 20:40 +1));
        log.push(
            time::macros::datetime!(2024-05-08 20:40 +1),
            Event {
                source: "SMTP",
                ..blank(EventId::Receive)
            },
        );
        let last = log.text().lines().last().unwrap().to_string();
        assert_eq!(last.split(',').count(), FIELDS.split(',').count());
        assert!(last.starts_with("2024-05-08T19:40:00.000Z,"));
    }
}
