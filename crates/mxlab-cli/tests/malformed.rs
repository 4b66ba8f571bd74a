//! A battery of malformed and dubious scenario files, as a hostile tester writes them: each
//! exits 2 with file:line:col and a message a person can act on (an insta snapshot), none
//! panics, none is accepted.

mod common;

use common::{catalog_text, mxlab, stderr};

/// The healthy story with `extra` added to its one SMTP host (after its name).
fn host(extra: &str) -> String {
    catalog_text("healthy").replace(
        "name = \"mx1.partner.test\"\n",
        &format!("name = \"mx1.partner.test\"\n{extra}"),
    )
}

/// The healthy story with one rule on its host.
fn rule(body: &str) -> String {
    host(&format!("\n[[smtp.hosts.rules]]\n{body}"))
}

/// The healthy story with one DNS fault.
fn fault(body: &str) -> String {
    format!("{}\n[[dns.faults]]\n{body}", catalog_text("healthy"))
}

/// The healthy story with one record added to its zone.
fn zone(line: &str) -> String {
    catalog_text("healthy").replace(
        "mx1   3600 IN A   127.0.0.10\n",
        &format!("mx1   3600 IN A   127.0.0.10\n{line}\n"),
    )
}

/// The healthy story with a transport setting.
fn transport(setting: &str) -> String {
    catalog_text("healthy").replace(
        "ip = \"127.0.0.2\"\n",
        &format!("ip = \"127.0.0.2\"\n\n[sender.transport]\n{setting}\n"),
    )
}

fn healthy(from: &str, to: &str) -> String {
    let text = catalog_text("healthy");
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let second_host = "\n[[smtp.hosts]]\nname = \"mx1.partner.test\"\n";
    let text: Vec<(&'static str, String)> = vec![
        // Text that reaches the wire.
        (
            "banner-cr",
            host("banner = \"mx1 ESMTP\\r250 2.0.0 forged\"\n"),
        ),
        (
            "banner-crlf",
            host("banner = \"mx1 ESMTP\\r\\n250 2.0.0 forged\"\n"),
        ),
        (
            "banner-lf",
            host("banner = \"mx1 ESMTP\\n250 2.0.0 forged\"\n"),
        ),
        ("banner-nul", host("banner = \"mx1 ESMTP\\u0000\"\n")),
        ("banner-escape", host("banner = \"mx1 \\u001b[2J ESMTP\"\n")),
        (
            "reply-crlf",
            rule("stage = \"rcpt\"\nreply = \"451 4.7.1 wait\\r\\n250 2.1.5 ok\"\n"),
        ),
        (
            "reply-cr",
            rule("stage = \"rcpt\"\nreply = \"451 4.7.1 wait\\r250 2.1.5 ok\"\n"),
        ),
        (
            "reply-nul",
            rule("stage = \"rcpt\"\nreply = \"451 4.7.1 wait\\u0000\"\n"),
        ),
        (
            "reply-second-line-no-code",
            rule("stage = \"rcpt\"\nreply = \"451 4.7.1 wait\\nand more\"\n"),
        ),
        (
            "reply-too-long",
            rule(&format!(
                "stage = \"rcpt\"\nreply = \"451 4.7.1 {}\"\n",
                "x".repeat(5000)
            )),
        ),
        // Zones that read files or contradict themselves.
        ("zone-include", zone("$INCLUDE /etc/passwd")),
        (
            "zone-include-lowercase",
            zone("$include /etc/hostname partner.test."),
        ),
        ("zone-cname-and-a", zone("mx1   3600 IN CNAME mx2")),
        ("zone-bad-address", zone("www   3600 IN A   not-an-address")),
        ("zone-not-loopback", zone("www   3600 IN A   203.0.113.9")),
        // Faults that would silently never fire, or do something else than written.
        (
            "fault-window-reversed",
            fault(
                "name = \"partner.test\"\naction = \"servfail\"\nfrom = \"2h\"\nuntil = \"1h\"\n",
            ),
        ),
        (
            "fault-window-empty",
            fault(
                "name = \"partner.test\"\naction = \"servfail\"\nfrom = \"1h\"\nuntil = \"1h\"\n",
            ),
        ),
        (
            "fault-delay-without-delay",
            fault("name = \"partner.test\"\naction = \"delay\"\n"),
        ),
        (
            "fault-delay-on-servfail",
            fault("name = \"partner.test\"\naction = \"servfail\"\ndelay = \"3s\"\n"),
        ),
        (
            "fault-unknown-type",
            fault("name = \"partner.test\"\ntype = \"MXX\"\naction = \"servfail\"\n"),
        ),
        (
            "fault-queries-reversed",
            fault("name = \"partner.test\"\naction = \"servfail\"\nqueries = \"3-1\"\n"),
        ),
        // Rules that contradict themselves.
        (
            "rule-reply-on-close",
            rule("stage = \"rcpt\"\naction = \"close\"\nreply = \"451 4.7.1 x\"\n"),
        ),
        (
            "rule-reply-on-accept",
            rule("stage = \"rcpt\"\naction = \"accept\"\nreply = \"451 4.7.1 x\"\n"),
        ),
        (
            "rule-reply-on-stall",
            rule("stage = \"data\"\naction = \"stall\"\nreply = \"451 4.7.1 x\"\n"),
        ),
        (
            "rule-refuse-at-rcpt",
            rule("stage = \"rcpt\"\naction = \"refuse\"\n"),
        ),
        (
            "rule-reply-without-reply",
            rule("stage = \"rcpt\"\naction = \"reply\"\n"),
        ),
        (
            "rule-after-bytes-at-rcpt",
            rule("stage = \"rcpt\"\naction = \"close\"\nafter_bytes = 10\n"),
        ),
        (
            "rule-dnsbl-without-zones",
            rule("stage = \"rcpt\"\ndnsbl = \"listed\"\nreply = \"554 5.7.1 listed\"\n"),
        ),
        (
            "rule-unknown-key",
            rule("stage = \"rcpt\"\nreplay = \"451 4.7.1 x\"\n"),
        ),
        ("rule-unknown-stage", rule("stage = \"helo\"\n")),
        // The same host twice.
        ("host-twice", host(second_host)),
        (
            "host-twice-other-case",
            host("\n[[smtp.hosts]]\nname = \"MX1.Partner.Test.\"\n"),
        ),
        (
            "host-same-address",
            host("\n[[smtp.hosts]]\nname = \"mx2.partner.test\"\naddress = \"127.0.0.10\"\n"),
        ),
        // Settings that make the queue spin.
        ("retry-zero", transport("message_retry_interval = \"0s\"")),
        (
            "retry-one-millisecond",
            transport("message_retry_interval = \"1ms\""),
        ),
        (
            "retry-transient-sub-second",
            transport("transient_failure_retry_interval = \"500ms\""),
        ),
        (
            "retry-connection-zero",
            transport("outbound_connection_failure_retry_interval = \"0\""),
        ),
        (
            "transport-unknown-key",
            transport("message_retry_intervall = \"5m\""),
        ),
        // Dates, durations and numbers.
        (
            "date-unquoted",
            healthy(
                "start = \"2024-05-08T20:40:00+01:00\"",
                "start = 2024-05-08T20:40:00+01:00",
            ),
        ),
        (
            "date-unquoted-elsewhere",
            healthy(
                "title = \"Everything works",
                "title = 2024-05-08\ntitle2 = \"x",
            ),
        ),
        (
            "date-not-rfc3339",
            healthy("2024-05-08T20:40:00+01:00", "08/05/2024 20:40"),
        ),
        (
            "duration-no-unit",
            transport("message_retry_interval = \"5\""),
        ),
        (
            "capacity-zero",
            healthy("[sender]\n", "[sender]\ncapacity = 0\n"),
        ),
        (
            "count-zero",
            healthy(
                "subject = \"Lunch on Friday?\"",
                "subject = \"Lunch on Friday?\"\ncount = 0",
            ),
        ),
        (
            "sender-not-loopback",
            healthy("ip = \"127.0.0.2\"", "ip = \"192.0.2.7\""),
        ),
        ("version-2", healthy("mxlab = 1", "mxlab = 2")),
        (
            "verdict-unknown",
            healthy("verdict = \"ok.delivered\"", "verdict = \"ok.deliverd\""),
        ),
        (
            "toml-unclosed-string",
            healthy(
                "subject = \"Lunch on Friday?\"",
                "subject = \"Lunch on Friday?",
            ),
        ),
        (
            "key-three-megabytes",
            format!(
                "{}\n[sender.transport]\n{} = 1\n",
                catalog_text("healthy"),
                "k".repeat(3_000_000)
            ),
        ),
    ];
    let mut all: Vec<(&'static str, Vec<u8>)> =
        text.into_iter().map(|(n, t)| (n, t.into_bytes())).collect();
    let mut latin1 = catalog_text("healthy").into_bytes();
    let at = latin1.windows(5).position(|w| w == b"Lunch").unwrap();
    latin1[at + 1] = 0xFC; // "Lünch" written in Latin-1
    all.push(("not-utf8", latin1));
    all.push(("utf16-with-bom", utf16le(&catalog_text("healthy"), true)));
    all.push((
        "utf16-without-bom",
        utf16le(&catalog_text("healthy"), false),
    ));
    all
}

#[test]
fn every_malformed_file_is_refused_with_its_place() {
    let dir = std::env::temp_dir().join(format!("mxlab-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, bytes) in cases {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, &bytes).unwrap();
        let out = mxlab(&["run", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        let shown = err.replace(&path.display().to_string(), "FILE");
        let place = shown.strip_prefix("error: FILE:").unwrap_or_default();
        assert!(
            place.starts_with(|c: char| c.is_ascii_digit()),
            "{name}: no file:line:col in {shown}"
        );
        assert!(shown.len() < 700, "{name}: {} characters", shown.len());
        insta::assert_snapshot!(name, shown);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
