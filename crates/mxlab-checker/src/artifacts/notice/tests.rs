//! The reader on each shape of notice.

use super::*;

const DELAY: &str = "From: postmaster@mycompany.test\r\nSubject: Delivery delayed: Report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhanako@partner.test\r\nRemote Server at mx1 (127.0.0.10) returned '400 4.4.7 Message delayed'\r\n\
5/9/2024 12:33:21 AM - Remote Server at mx1 (127.0.0.10) returned '441 4.4.1 Failed to connect. Winsock error code: 10060'\r\n\r\n--b\r\n\
Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;srv01.mycompany.lan\r\n\r\n\
Final-Recipient: rfc822;hanako@partner.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n\
Diagnostic-Code: smtp;400 4.4.7 Message delayed\r\n\r\n--b--\r\n";

#[test]
fn finds_the_real_error_behind_the_summary() {
    let dsn = read(DELAY.as_bytes()).unwrap();
    assert!(dsn.is_delay() && !dsn.is_failure());
    assert_eq!(dsn.recipients[0].final_recipient, "hanako@partner.test");
    assert_eq!(dsn.recipients[0].status, "4.4.7");
    assert_eq!(
        dsn.last_real_error(),
        Some("441 4.4.1 Failed to connect. Winsock error code: 10060")
    );
    assert_eq!(dsn.reporting_mta.as_deref(), Some("srv01.mycompany.lan"));
}

#[test]
fn a_plain_message_is_not_a_dsn() {
    assert_eq!(
        read(b"Subject: hi\r\n\r\nhello\r\n").map(|n| n.recipients),
        Some(Vec::new())
    );
}
