//! Reading a message tracking log: Exchange's layout of `#` header lines (`#Software`,
//! `#Version`, `#Log-type`, `#Date`, `#Fields:`), then CSV rows.
//!
//! The rows are read with the `csv` crate, so a quoted field may hold commas, doubled quotes
//! and line breaks (a subject or an SMTP reply can carry any of them). Columns are mapped by
//! the names on the latest `#Fields:` line: a column this reader does not know is ignored, one
//! the log lacks reads as empty, and rows before any `#Fields:` line are skipped. Whatever the
//! text, reading never panics; at worst a malformed row reads oddly.

use std::io::Cursor;

/// One row of the log. Every field is the row's text as written (no trimming, no parsing),
/// empty when the log has no such column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackingEvent {
    pub date_time: String,
    pub event_id: String,
    pub message_id: String,
    pub source: String,
    pub source_context: String,
    /// `recipient-address`, split at `;`, empty entries dropped.
    pub recipients: Vec<String>,
    pub recipient_status: String,
    pub client_ip: String,
    pub client_hostname: String,
    pub server_ip: String,
    pub server_hostname: String,
    pub connector_id: String,
    pub internal_message_id: String,
    pub network_message_id: String,
    pub total_bytes: String,
    pub recipient_count: String,
    pub related_recipient_address: String,
    pub reference: String,
    pub message_subject: String,
    pub sender_address: String,
    pub return_path: String,
    pub message_info: String,
    pub directionality: String,
}

/// The column names of a `#Fields:` line, lower-cased, in order.
struct Columns(Vec<String>);

impl Columns {
    fn parse(line: &str) -> Self {
        Columns(
            line.split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .collect(),
        )
    }

    /// The row's value in the column `name` (the first of that name), or "".
    fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> &'r str {
        self.0
            .iter()
            .position(|n| n == name)
            .and_then(|i| row.get(i))
            .unwrap_or("")
    }

    fn event(&self, row: &csv::StringRecord) -> TrackingEvent {
        let get = |name: &str| self.get(row, name).to_string();
        TrackingEvent {
            date_time: get("date-time"),
            event_id: get("event-id"),
            message_id: get("message-id"),
            source: get("source"),
            source_context: get("source-context"),
            recipients: self
                .get(row, "recipient-address")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            recipient_status: get("recipient-status"),
            client_ip: get("client-ip"),
            client_hostname: get("client-hostname"),
            server_ip: get("server-ip"),
            server_hostname: get("server-hostname"),
            connector_id: get("connector-id"),
            internal_message_id: get("internal-message-id"),
            network_message_id: get("network-message-id"),
            total_bytes: get("total-bytes"),
            recipient_count: get("recipient-count"),
            related_recipient_address: get("related-recipient-address"),
            reference: get("reference"),
            message_subject: get("message-subject"),
            sender_address: get("sender-address"),
            return_path: get("return-path"),
            message_info: get("message-info"),
            directionality: get("directionality"),
        }
    }
}

/// Where a header line that starts at or after `from` begins and ends, if the next record
/// there is one: a `#` as its first byte, unquoted (blank lines before it are skipped, as the
/// CSV reader skips them). A data row whose first field starts with `#` is written quoted.
fn header_line(text: &str, from: usize) -> Option<(usize, usize)> {
    let rest = text.as_bytes().get(from..)?;
    let start = from + rest.iter().position(|&b| b != b'\r' && b != b'\n')?;
    if text.as_bytes()[start] != b'#' {
        return None;
    }
    let end = text.as_bytes()[start..]
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map_or(text.len(), |n| start + n);
    Some((start, end))
}

pub fn read(text: &str) -> Vec<TrackingEvent> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Cursor::new(text.as_bytes()));
    let mut columns: Option<Columns> = None;
    let mut events = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        let from = rows.position().clone();
        match rows.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            // A row the reader could not take (none from a &str, in practice): go on after
            // it, or stop if nothing was consumed.
            Err(_) if rows.position().byte() > from.byte() => continue,
            Err(_) => break,
        }
        let start = usize::try_from(from.byte()).unwrap_or(usize::MAX);
        if let Some((start, end)) = header_line(text, start) {
            // A header line is one line, whatever quotes it holds: take it from the text and
            // go on reading at its end.
            let line = text.get(start..end).unwrap_or("");
            if let Some(names) = line.strip_prefix("#Fields:") {
                columns = Some(Columns::parse(names));
            }
            let mut next = csv::Position::new();
            next.set_byte(end as u64).set_line(from.line() + 1);
            if rows.seek(next).is_err() {
                break;
            }
            continue;
        }
        if let Some(columns) = &columns {
            events.push(columns.event(&row));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_events_by_field_name() {
        let log = "#Fields: date-time,event-id,recipient-address,recipient-status\n\
                   2024-05-08T19:40:00.000Z,SEND,a@b;c@d,\"250 2.6.0 Queued, id 1\"\n";
        let events = read(log);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_id, "SEND");
        assert_eq!(events[0].recipients, ["a@b", "c@d"]);
        assert_eq!(events[0].recipient_status, "250 2.6.0 Queued, id 1");
    }

    #[test]
    fn a_quoted_line_break_stays_in_its_field() {
        let log = "#Software: Microsoft Exchange Server\r\n\
                   #Version: 15.02.1544.004\r\n\
                   #Log-type: Message Tracking Log\r\n\
                   #Date: 2024-05-08T19:40:00.000Z\r\n\
                   #Fields: date-time,event-id,message-subject,source-context\r\n\
                   2024-05-08T19:40:00.000Z,RECEIVE,\"two\r\nlines, \"\"quoted\"\"\",\r\n\
                   2024-05-08T19:41:00.000Z,SEND,\"#not a header\",ctx\r\n";
        let events = read(log);
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].message_subject, "two\r\nlines, \"quoted\"");
        assert_eq!(events[0].source_context, "");
        assert_eq!(events[1].event_id, "SEND");
        assert_eq!(events[1].message_subject, "#not a header");
        assert_eq!(events[1].source_context, "ctx");
    }

    #[test]
    fn unknown_and_missing_columns_and_reordered_fields() {
        let log = "\u{feff}#Fields: x-custom,event-id,date-time\n\
                   junk,DEFER,2024-05-08T19:40:00.000Z,extra,columns\n\
                   only-one\n\
                   \n\
                   #Fields: event-id\n\
                   FAIL\n";
        let events = read(log);
        assert_eq!(events.len(), 3, "{events:#?}");
        assert_eq!(events[0].event_id, "DEFER");
        assert_eq!(events[0].date_time, "2024-05-08T19:40:00.000Z");
        assert_eq!(events[0].message_id, "");
        assert_eq!(
            events[1].event_id, "",
            "a short row: the missing columns are empty"
        );
        assert_eq!(events[2].event_id, "FAIL");
        assert_eq!(events[2].date_time, "");
    }

    #[test]
    fn rows_before_the_fields_line_and_odd_header_lines() {
        let log = "2024-05-08T19:40:00.000Z,SEND\n\
                   #Software: x,\"unbalanced\n\
                   #Fields: date-time,event-id\n\
                   2024-05-08T19:41:00.000Z,DELIVER\n";
        let events = read(log);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].event_id, "DELIVER");
        assert!(read("").is_empty());
        assert!(read("#Fields:").is_empty());
        assert!(read("#Fields: a\n\"never closed").len() == 1);
    }

    proptest! {
        /// Any text at all: reading never panics.
        #[test]
        fn never_panics(text in "(#Fields: [a-z,-]{0,30}\n|[a-z#\",\r\n;é ]{0,40}){0,6}") {
            let _ = read(&text);
        }
    }
}
