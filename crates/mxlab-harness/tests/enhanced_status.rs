//! Enhanced status codes reach the sender's notices and tracking log exactly as the remote
//! host sent them, three-digit details included (RFC 3463 allows up to three digits).

use mxlab_checker::report::Report;

/// The remote-447 story with its host answering every RCPT with `reply`, and the admin
/// looking after `look`.
fn story(reply: &str, look: &str) -> Report {
    let (_, text) = mxlab_scenario::catalog::CATALOG
        .iter()
        .find(|(name, _)| *name == "remote-447")
        .expect("remote-447 is built in");
    let text = text
        .replace(
            "reply = \"451 4.4.7 Message delayed, try again later\"",
            &format!("reply = \"{reply}\""),
        )
        .replace(
            "investigate_at = \"4h5m\"",
            &format!("investigate_at = \"{look}\""),
        );
    assert!(
        text.contains(reply) && text.contains(look),
        "the story changed"
    );
    let scenario = mxlab_scenario::load_str("t", "t.toml", &text).unwrap();
    mxlab_harness::run(&scenario).unwrap()
}

#[test]
fn a_transient_detail_over_255_is_kept_in_the_delay_dsn_and_the_tracking_log() {
    let report = story("451 4.7.500 Access denied, please try again later", "5h");
    let dsn = &report.artifacts.dsn;
    assert_eq!(dsn.len(), 1, "one delay DSN after 4 hours");
    assert!(
        dsn[0].contains("'451 4.7.500 Access denied, please try again later'"),
        "{}",
        dsn[0]
    );
    let log = report.artifacts.tracking_log.as_deref().unwrap();
    let defers: Vec<&str> = log.lines().filter(|l| l.contains(",DEFER,")).collect();
    assert!(!defers.is_empty(), "{log}");
    for line in defers {
        assert!(line.contains("451 4.7.500 Access denied"), "{line}");
    }
    for text in dsn.iter().map(String::as_str).chain([log]) {
        assert!(!text.contains("4.7.255"), "{text}");
    }
}

#[test]
fn a_permanent_detail_over_255_is_the_ndr_status() {
    let report = story("550 5.7.500 Access denied", "1h");
    let ndr = &report.artifacts.ndr;
    assert_eq!(ndr.len(), 1);
    assert!(ndr[0].contains("\nStatus: 5.7.500\n"), "{}", ndr[0]);
    assert!(
        ndr[0].contains("Diagnostic-Code: smtp;550 5.7.500 Access denied"),
        "{}",
        ndr[0]
    );
    let log = report.artifacts.tracking_log.as_deref().unwrap();
    assert!(
        log.contains(",FAIL,") && log.contains("550 5.7.500 Access denied"),
        "{log}"
    );
    assert_eq!(report.recipients[0].status, "5.7.500");
}
