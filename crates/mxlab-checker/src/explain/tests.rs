//! `explain` on the shapes of notice it must read.

use super::*;

const SEED_DELAY: &str = "From: postmaster@mycompany.test\r\nSubject: Delivery delayed: Report\r\nDate: Thu, 9 May 2024 00:40:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhanako@partner.test\r\nRemote Server at mx1 (127.0.0.10) returned '400 4.4.7 Message delayed'\r\n\
5/9/2024 12:33:21 AM - Remote Server at mx1 (127.0.0.10) returned '441 4.4.1 Failed to connect. Winsock error code: 10060'\r\n\r\n--b\r\n\
Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;srv01.mycompany.lan\r\nArrival-Date: Wed, 8 May 2024 20:40:00 +0100\r\n\r\n\
Final-Recipient: rfc822;hanako@partner.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n\
Diagnostic-Code: smtp;400 4.4.7 Message delayed\r\nWill-Retry-Until: Fri, 10 May 2024 20:40:00 +0100\r\n\r\n--b--\r\n";

#[test]
fn the_real_error_behind_a_delay() {
    let r = explain(SEED_DELAY.as_bytes(), "seed.eml").unwrap();
    assert_eq!(r.verdict.rule, RuleId::SmtpConnectTimeout);
    let who = &r.recipients[0];
    assert_eq!(who.outcome, "delayed");
    assert_eq!(who.status, "4.4.7");
    assert!(who.diagnostic.contains("10060"), "{}", who.diagnostic);
    let n = who.notice.as_ref().unwrap();
    assert_eq!(n.reply_code, Some(441));
    assert_eq!(n.phase.as_deref(), Some("connect"));
    assert_eq!(n.arrival_date.as_deref(), Some("2024-05-08T20:40:00+01:00"));
    assert_eq!(
        n.will_retry_until.as_deref(),
        Some("2024-05-10T20:40:00+01:00")
    );
    assert_eq!(n.reporting_mta.as_deref(), Some("srv01.mycompany.lan"));
    assert!(is_error(&r));
}

#[test]
fn exim_without_fields() {
    let text = "From: Mail Delivery System <Mailer-Daemon@mx.example.com>\nTo: alice@example.com\nSubject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: bob@example.net\nAuto-Submitted: auto-replied\n\nThis message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  bob@example.net\n    host mx.example.net [192.0.2.25]\n    SMTP error from remote mail server after RCPT TO:<bob@example.net>:\n    550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in local recipient table\n\n------ This is a copy of the message, including all the headers. ------\n\nTo: carol@example.org\n";
    let r = explain(text.as_bytes(), "exim.eml").unwrap();
    assert_eq!(r.recipients.len(), 1);
    let who = &r.recipients[0];
    assert_eq!(who.address, "bob@example.net");
    assert_eq!(who.outcome, "failed");
    assert_eq!(who.status, "5.1.1");
    assert_eq!(who.cause.rule, RuleId::SmtpRcptUserUnknown);
    let n = who.notice.as_ref().unwrap();
    assert_eq!(n.reason, mxlab_vocab::Reason::UserUnknown);
    assert_eq!(n.phase.as_deref(), Some("rcpt"));
    assert_eq!(who.remote_mta, "mx.example.net");
}

#[test]
fn a_dns_failure_is_the_broader_cause_with_the_next_command() {
    let text = "From: MAILER-DAEMON@mail.example.com\nSubject: Delayed Mail (still being retried)\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\n\n--x\nContent-Type: text/plain\n\n<bob@example.net>: Host or domain name not found. Name service error for\n    name=example.net type=MX: Host not found, try again\n\n--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\nFinal-Recipient: rfc822; bob@example.net\nAction: delayed\nStatus: 4.4.3\nDiagnostic-Code: X-Postfix; Host or domain name not found. Name service error\n    for name=example.net type=MX: Host not found, try again\n\n--x--\n";
    let r = explain(text.as_bytes(), "pf.eml").unwrap();
    assert_eq!(r.verdict.rule, RuleId::DnsTemporaryFailure);
    assert!(
        r.findings
            .iter()
            .flat_map(|f| &f.remediation)
            .any(|x| x.contains("mxlab check bob@example.net")),
        "{:?}",
        r.findings
    );
    assert_eq!(
        r.recipients[0].notice.as_ref().unwrap().phase.as_deref(),
        Some("dns")
    );
}

#[test]
fn auto_replies_and_feedback_are_not_failures() {
    let ooo = "From: bob@example.net\nTo: alice@example.com\nSubject: Automatic reply: Report\nAuto-Submitted: auto-replied\n\nI am out of the office until Monday.\n";
    let r = explain(ooo.as_bytes(), "ooo.eml").unwrap();
    assert_eq!(r.verdict.rule, RuleId::NoticeAutoReply);
    assert_eq!(r.recipients[0].outcome, "delivered");
    assert!(!is_error(&r));
    let arf = "From: fbl@isp.example\nSubject: FW: report\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\n\n--f\nContent-Type: text/plain\n\nThis is an abuse report.\n\n--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x/1.0\nVersion: 1\n\n--f--\n";
    let r = explain(arf.as_bytes(), "arf.eml").unwrap();
    assert_eq!(r.verdict.rule, RuleId::NoticeFeedback);
}

#[test]
fn a_plain_message_is_unreadable_as_a_notice() {
    assert!(explain(b"Subject: hi\n\nhello bob@example.net\n", "x.eml").is_err());
    assert!(explain(b"", "x.eml").is_err());
    assert!(explain(b"\x00\x01\x02\xff", "x.eml").is_err());
}

/// A human part that says nothing of its own: the fields decide.
const SILENT: &str = "x\n";

/// A one-recipient RFC 3464 notice with the given human text and fields.
fn dsn(human: &str, action: &str, status: &str, diagnostic: &str) -> String {
    format!(
        "From: MAILER-DAEMON@out.example.com\nSubject: Returned mail: see transcript for details\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"z\"\n\n--z\nContent-Type: text/plain\n\n{human}\n--z\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; out.example.com\n\nFinal-Recipient: RFC822; carol@example.org\nAction: {action}\nStatus: {status}\nDiagnostic-Code: SMTP; {diagnostic}\n\n--z--\n"
    )
}

fn first(text: &str) -> RecipientReport {
    explain(text.as_bytes(), "n.eml")
        .unwrap()
        .recipients
        .remove(0)
}

#[test]
fn a_reply_inside_the_summary_gives_the_status() {
    // (action, Status field, Diagnostic-Code, status reported)
    let cases = [
        (
            "failed",
            "4.4.7",
            "554 4.4.7 Message expired: unable to deliver in 600 minutes.<451 4.4.0 Remote server did not answer>",
            "4.4.0",
        ),
        // A reply quoted after the code that carried it.
        (
            "failed",
            "5.1.0",
            "5.1.0 - Unknown address error 550-'5.2.2 <carol@example.org>... Mailbox full' (delivery attempts: 0)",
            "5.2.2",
        ),
        // The summary alone keeps its own status.
        ("delayed", "4.4.7", "400 4.4.7 Message delayed", "4.4.7"),
        // The remote's own status of the same class says more than the one it was filed
        // under; one of another class does not replace the field's.
        ("failed", "5.1.1", "550 5.2.1 Mailbox disabled", "5.2.1"),
        ("failed", "5.1.1", "450 4.2.1 Mailbox busy", "5.1.1"),
    ];
    for (action, field, diagnostic, want) in cases {
        let who = first(&dsn(SILENT, action, field, diagnostic));
        assert_eq!(who.status, want, "{diagnostic}");
    }
}

#[test]
fn the_transcript_tells_which_command_a_reply_answered() {
    let refused_at_data = "   ----- Transcript of session follows -----\n... while talking to in.example.org.:\n>>> DATA\n<<< 550 No such mailbox carol@example.org\n554 5.0.0 Service unavailable\n";
    let who = first(&dsn(
        refused_at_data,
        "failed",
        "5.1.1",
        "550 No such mailbox carol@example.org",
    ));
    let n = who.notice.as_ref().unwrap();
    assert_eq!(n.phase.as_deref(), Some("data"));
    assert_eq!(n.reason, mxlab_vocab::Reason::Filtered);
    // The RCPT line naming the recipient was accepted; the refusal came at DATA.
    let accepted_then_refused = "... while talking to in.example.org.:\n>>> RCPT To:<carol@example.org>\n<<< 250 2.1.5 Ok\n>>> DATA\n<<< 550 No such mailbox carol@example.org\n";
    let who = first(&dsn(
        accepted_then_refused,
        "failed",
        "5.1.1",
        "550 No such mailbox carol@example.org",
    ));
    assert_eq!(who.notice.as_ref().unwrap().phase.as_deref(), Some("data"));
    // Pipelined: the refusal before DATA's own reply answered the recipient.
    let pipelined = "... while talking to in.example.org.:\n>>> DATA\n<<< 550 5.1.1 <carol@example.org>... No such mailbox\n<<< 503 5.5.1 No recipients\n";
    let who = first(&dsn(
        pipelined,
        "failed",
        "5.1.1",
        "550 5.1.1 <carol@example.org>... No such mailbox",
    ));
    let n = who.notice.as_ref().unwrap();
    assert_eq!(n.phase.as_deref(), Some("rcpt"));
    assert_eq!(n.reason, mxlab_vocab::Reason::UserUnknown);
}

#[test]
fn reasons_the_words_and_the_stage_give() {
    use mxlab_vocab::Reason as R;
    // (human text, Status field, Diagnostic-Code, reason)
    let cases: &[(&str, &str, &str, R)] = &[
        (SILENT, "5.0.0", "550 Mail content denied", R::SpamDetected),
        (
            SILENT,
            "5.0.0",
            "552 User has exhausted allowed storage space",
            R::MailboxFull,
        ),
        // A block list's answer named for the reputation it keeps is still a block list's.
        (
            SILENT,
            "5.7.1",
            "554 5.7.1 Service unavailable; Client host [192.0.2.8] blocked using Barracuda Reputation",
            R::Blocked,
        ),
        (
            SILENT,
            "5.0.0",
            "503 Bad sequence of commands",
            R::SyntaxError,
        ),
        (
            SILENT,
            "5.0.0",
            "521 Host does not receive mail",
            R::NotAccept,
        ),
        (SILENT, "5.0.0", "554 Service unavailable", R::SystemError),
        (
            SILENT,
            "5.4.6",
            "554 5.4.6 Mail loop detected: too many hops",
            R::NetworkError,
        ),
        (
            SILENT,
            "5.2.3",
            "552 5.2.3 Message too large for this mailbox",
            R::ExceedLimit,
        ),
        (
            SILENT,
            "5.7.0",
            "530 5.7.0 SMTP authentication is required",
            R::SecurityError,
        ),
        (
            SILENT,
            "5.7.1",
            "550 5.7.1 Access denied (in reply to MAIL FROM command)",
            R::Rejected,
        ),
        (
            SILENT,
            "5.7.1",
            "550 5.7.1 Mail from 198.51.100.7 refused, blocked for abuse (in reply to MAIL FROM command)",
            R::Blocked,
        ),
        (
            SILENT,
            "4.0.0",
            "host mx.example.org[192.0.2.3] refused to talk to me: 554 No SMTP service here",
            R::Blocked,
        ),
        (
            SILENT,
            "4.3.1",
            "452 4.3.1 Not enough disk space on the spool",
            R::SystemFull,
        ),
        (
            SILENT,
            "5.7.1",
            "554 5.7.1 Service unavailable; Client host [192.0.2.4] blocked, see http://rbl.example.net/reputation/lookup?ip=192.0.2.4",
            R::Blocked,
        ),
        (
            SILENT,
            "5.7.1",
            "550 5.7.1 Relaying denied. Proper authentication required",
            R::NoRelaying,
        ),
        (
            SILENT,
            "5.5.2",
            "504 5.5.2 <srv>: Helo command rejected: need fully-qualified hostname",
            R::Blocked,
        ),
        (
            SILENT,
            "5.0.0",
            "553 mail.example.org does not exist",
            R::HostUnknown,
        ),
        (
            SILENT,
            "5.0.0",
            "550 Gave up after multiple retries",
            R::OnHold,
        ),
        (
            SILENT,
            "5.7.1",
            "550 5.7.1 Messages with multiple addresses in From: header are not accepted",
            R::NotCompliantRfc,
        ),
        (
            SILENT,
            "4.0.0",
            "421 mx.example.org Too many sessions opened",
            R::TooManyConn,
        ),
        (SILENT, "4.2.1", "450 4.2.1 Try later", R::Speeding),
        (
            SILENT,
            "5.2.2",
            "cannot update mailbox /var/mail/bob: File too large",
            R::MailboxFull,
        ),
        (
            SILENT,
            "5.0.0",
            "554-mx.example.org No SMTP service 554 IP address is block listed",
            R::Blocked,
        ),
        (
            "<carol@example.org>:\nConnected to 192.0.2.9 but my name was rejected.\nRemote host said: 501 5.5.4 Syntax error in parameters\n",
            "5.5.4",
            "501 5.5.4 Syntax error in parameters",
            R::Blocked,
        ),
    ];
    for (human, status, diagnostic, want) in cases {
        let who = first(&dsn(human, "failed", status, diagnostic));
        assert_eq!(who.notice.unwrap().reason, *want, "{diagnostic}");
    }
}

#[test]
fn prose_that_names_the_recipient_is_what_went_wrong() {
    let text = "From: mailer-daemon@relay.example.com\nSubject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"q\"\n\n--q\nContent-Type: text/plain\n\n** Address not found **\n\nYour message to dan@example.net was not delivered: the address could not be found.\n\n--q\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.com\n\nFinal-Recipient: rfc822; dan@example.net\nAction: failed\nStatus: 5.0.0\n\n--q--\n";
    let who = first(text);
    assert!(
        who.diagnostic.contains("could not be found"),
        "{}",
        who.diagnostic
    );
    assert_eq!(who.cause.rule, RuleId::SmtpRcptUserUnknown);
    assert_eq!(
        who.notice.as_ref().unwrap().reason,
        mxlab_vocab::Reason::UserUnknown
    );
}

#[test]
fn what_a_success_report_says_is_no_error() {
    let text = dsn(
        "<carol@example.org>: relayed to a server without DSN support\n",
        "relayed",
        "2.0.0",
        "250 2.0.0 Ok: queued as 4Vq",
    );
    let who = first(&text);
    assert_eq!(who.outcome, "relayed");
    assert_eq!(who.cause.rule, RuleId::OkDelivered);
}

#[test]
fn a_bounce_marked_auto_replied_is_still_a_bounce() {
    let text = "From: mailer-daemon@gw.example.com\nSubject: There was an error sending your mail\nAuto-Submitted: auto-replied\n\nWe had trouble delivering your message.\n\nSMTP Server <mx.example.org> rejected recipient <gus@example.org> (Error following RCPT command). It responded as follows: [550 5.1.1 Invalid user]\n";
    let who = first(text);
    assert_eq!(who.address, "gus@example.org");
    assert_eq!(who.outcome, "failed");
    assert_eq!(
        who.notice.as_ref().unwrap().reason,
        mxlab_vocab::Reason::UserUnknown
    );
}

#[test]
fn a_delay_warning_marked_auto_replied_is_read_as_a_delay() {
    let text = "From: Mailer Daemon <MAILER-DAEMON@out.example.com>\nSubject: Delivery status notification: warning\nAuto-Submitted: auto-replied\n\nA message is delayed for more than 4 hours for the following\nlist of recipients:\n\nhal@example.net: Network error on destination MXs\n\nPlease note that this is only a temporary failure report.\n";
    let who = first(text);
    assert_eq!(who.address, "hal@example.net");
    assert_eq!(who.outcome, "delayed");
    assert_eq!(
        who.notice.as_ref().unwrap().reason,
        mxlab_vocab::Reason::NetworkError
    );
}
