//! The message tracking log as the sending server writes it (mxlab-sim) and as the checker reads
//! it (mxlab-checker), which share no code: whatever an event holds — commas, quotes, line
//! breaks, text in any script — it reads back field by field.

use mxlab_checker::artifacts::tracking::{TrackingEvent, read};
use mxlab_sim::format::tracking;
use mxlab_sim::tracking::{Event, Log};
use mxlab_vocab::EventId;
use proptest::prelude::*;
use time::{OffsetDateTime, UtcOffset};

/// Text that CSV has to quote, text that it does not, and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 .@<>:;=_-]{0,12}",
        "[a-z ,\"#;\r\n\té日本語😀-]{0,16}",
        any::<String>(),
    ]
}

/// Recipient addresses are `;`-separated in one column, so none holds a `;` or is empty.
fn address() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{1,8}@[a-z]{1,8}\\.test", "[^;]{1,16}"]
}

/// The writer takes `source` as `&'static str`; leaking a few short strings per case is fine in
/// a test.
fn leaked() -> impl Strategy<Value = &'static str> {
    text().prop_map(|s| &*Box::leak(s.into_boxed_str()))
}

/// Any instant the scenario loader accepts (years 1970 to 9000), in any whole-half-hour offset,
/// with milliseconds.
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    let first = OffsetDateTime::from_unix_timestamp(0).unwrap();
    let last = time::macros::datetime!(9000-12-31 23:59:59.999 UTC);
    (
        first.unix_timestamp()..=last.unix_timestamp(),
        0u16..1000,
        -24i32..=24,
    )
        .prop_map(|(seconds, millis, half_hours)| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_millisecond(millis)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(half_hours * 1800).unwrap())
        })
}

/// Every event id the log knows.
fn event_id() -> impl Strategy<Value = EventId> {
    use EventId as E;
    prop::sample::select(vec![
        E::Receive,
        E::Submit,
        E::Send,
        E::Deliver,
        E::Defer,
        E::Dsn,
        E::Fail,
        E::HaRedirect,
        E::HaReceive,
        E::HaDiscard,
        E::HaRedirectFail,
        E::Expand,
        E::Redirect,
        E::Resubmit,
        E::Transfer,
        E::Drop,
        E::Poison,
    ])
}

prop_compose! {
    fn event()(
        hosts in prop::array::uniform4(text()),
        (source_context, connector_id, message_id, recipient_status) in (text(), text(), text(), text()),
        (subject, sender) in (text(), text()),
        source in leaked(),
        event_id in event_id(),
        internal_message_id in any::<usize>(),
        total_bytes in any::<usize>(),
        recipients in prop::collection::vec(address(), 0..4),
    ) -> Event {
        let [client_ip, client_hostname, server_ip, server_hostname] = hosts;
        Event {
            client_ip,
            client_hostname,
            server_ip,
            server_hostname,
            source_context,
            connector_id,
            source,
            event_id,
            internal_message_id,
            message_id,
            recipients,
            recipient_status,
            total_bytes,
            subject,
            sender,
        }
    }
}

fn assert_read_back(read: &TrackingEvent, at: OffsetDateTime, written: &Event) {
    let n = written.internal_message_id;
    let expected = TrackingEvent {
        date_time: tracking(at),
        event_id: written.event_id.to_string(),
        message_id: written.message_id.clone(),
        source: written.source.to_string(),
        source_context: written.source_context.clone(),
        recipients: written.recipients.clone(),
        recipient_status: written.recipient_status.clone(),
        client_ip: written.client_ip.clone(),
        client_hostname: written.client_hostname.clone(),
        server_ip: written.server_ip.clone(),
        server_hostname: written.server_hostname.clone(),
        connector_id: written.connector_id.clone(),
        internal_message_id: n.to_string(),
        network_message_id: format!("00000000-0000-0000-0000-{n:012x}"),
        total_bytes: written.total_bytes.to_string(),
        recipient_count: written.recipients.len().to_string(),
        related_recipient_address: String::new(),
        reference: String::new(),
        message_subject: written.subject.clone(),
        sender_address: written.sender.clone(),
        return_path: written.sender.clone(),
        message_info: String::new(),
        directionality: "Originating".into(),
    };
    assert_eq!(read, &expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_the_sender_writes_the_checker_reads(
        start in instant(),
        events in prop::collection::vec((instant(), event()), 0..5),
        crlf in any::<bool>(),
    ) {
        let mut log = Log::new(start);
        for (at, e) in &events {
            log.push(*at, e.clone());
        }
        let mut text = log.text();
        let back = read(&text);
        prop_assert_eq!(back.len(), events.len(), "{:?}", text);
        for (got, (at, written)) in back.iter().zip(&events) {
            assert_read_back(got, *at, written);
        }
        // A log copied through Windows tools ends its lines in CRLF; quoted line breaks are
        // data, so only the rows' own ends change: read back, rows still number the same.
        if crlf {
            text = text.replace("\n", "\r\n");
            prop_assert_eq!(read(&text).len(), events.len());
        }
    }
}

#[test]
fn the_log_header_is_exchanges() {
    let start = time::macros::datetime!(2024-05-08 20:40 +1);
    let text = Log::new(start).text();
    assert_eq!(
        text.lines().take(4).collect::<Vec<_>>(),
        [
            "#Software: Microsoft Exchange Server",
            "#Version: 15.02.1544.004",
            "#Log-type: Message Tracking Log",
            "#Date: 2024-05-08T19:40:00.000Z",
        ]
    );
    assert!(
        text.lines()
            .nth(4)
            .unwrap()
            .starts_with("#Fields: date-time,")
    );
    assert!(read(&text).is_empty());
}
