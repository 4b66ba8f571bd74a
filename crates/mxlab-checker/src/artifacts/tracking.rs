//! Reading a message tracking log (Exchange's CSV layout with a `#Fields:` header).

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackingEvent {
    pub date_time: String,
    pub event_id: String,
    pub message_id: String,
    pub source: String,
    pub source_context: String,
    pub recipients: Vec<String>,
    pub recipient_status: String,
}

/// Splits one CSV line, honouring quotes.
pub fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

pub fn read(text: &str) -> Vec<TrackingEvent> {
    let mut names: Vec<String> = Vec::new();
    let mut events = Vec::new();
    for line in text.lines() {
        if let Some(fields) = line.strip_prefix("#Fields:") {
            names = fields
                .trim()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect();
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() || names.is_empty() {
            continue;
        }
        let values = split_csv(line);
        let get = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| values.get(i))
                .cloned()
                .unwrap_or_default()
        };
        events.push(TrackingEvent {
            date_time: get("date-time"),
            event_id: get("event-id"),
            message_id: get("message-id"),
            source: get("source"),
            source_context: get("source-context"),
            recipients: get("recipient-address")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            recipient_status: get("recipient-status"),
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
