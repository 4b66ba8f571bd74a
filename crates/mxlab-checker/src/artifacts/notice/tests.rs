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

mod robust {
    use super::super::read;
    use crate::explain::explain;
    use proptest::prelude::*;

    const SHAPES: &[&str] = &[
        super::DELAY,
        "From: MAILER-DAEMON\nSubject: Mail delivery failed\nX-Failed-Recipients: a@b.example\n\n  a@b.example\n    host mx.b.example [192.0.2.1]\n    SMTP error from remote mail server after RCPT TO:<a@b.example>:\n    550-5.1.1 no\n    550 5.1.1 such user\n",
        "Subject: failure notice\n\nHi. This is the qmail-send program at x.example.\n\n<a@b.example>:\nSorry, I couldn't find any host named b.example. (#5.1.2)\n\n--- Below this line is a copy of the message.\n\nTo: a@b.example\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes at all: a report or an error, never a panic.
        #[test]
        fn any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = read(&raw);
            let _ = explain(&raw, "x");
        }

        /// Real shapes cut anywhere and with bytes flipped: still no panic, and never more
        /// recipients than a notice of that size could list.
        #[test]
        fn damaged_notices(which in 0..SHAPES.len(), cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8)) {
            let mut raw = SHAPES[which].as_bytes().to_vec();
            raw.truncate(cut.min(raw.len()));
            for (at, b) in flips {
                if !raw.is_empty() {
                    let i = at % raw.len();
                    raw[i] = b;
                }
            }
            if let Some(n) = read(&raw) {
                prop_assert!(n.recipients.len() <= raw.len());
            }
            let _ = explain(&raw, "x");
        }
    }

    #[test]
    fn deep_nesting_and_huge_lines_are_bounded() {
        let mut deep = String::from(
            "Subject: Undelivered Mail\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n",
        );
        for i in 0..200 {
            deep.push_str(&format!(
                "--b{i}\nContent-Type: multipart/mixed; boundary=\"b{}\"\n\n",
                i + 1
            ));
        }
        let _ = explain(deep.as_bytes(), "deep");
        let mut long = b"Subject: Undelivered Mail Returned to Sender\n\n<a@b.example>: host x said: 550 5.1.1 ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 6 * 1024 * 1024));
        let n = read(&long).unwrap();
        assert!(n.truncated);
    }
}

mod review {
    use super::super::{MAX_CONTEXT, MAX_QUOTED, read};

    fn report(fields: &str, human: &str, subject: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.example.com\nSubject: {subject}\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n{human}\n--b\nContent-Type: message/global-delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n{fields}\n--b--\n"
        )
    }

    #[test]
    fn a_field_reads_as_an_administrator_reads_it() {
        let fields = "Final-Recipient: utf-8; \\x{7528}\\x{6237}@example.net\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net. (192.0.2.25, the server for the domain example.net.)\nDiagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does\n not exist. Please try 550-5.1.1 double-checking the address. 550 5.1.1\n https://support.example/NoSuchUser - gsmtp\n";
        let n = read(report(fields, "", "Undeliverable: Re: Invoice delay").as_bytes()).unwrap();
        let r = &n.recipients[0];
        assert_eq!(r.final_recipient, "用户@example.net");
        assert_eq!(r.remote_mta.as_deref(), Some("mx.example.net"));
        assert_eq!(
            r.diagnostic_code,
            "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the address. https://support.example/NoSuchUser - gsmtp"
        );
        // The original's subject ("… delay") does not make a failure a delay.
        assert_eq!(r.action, "failed");
    }

    #[test]
    fn an_address_repeated_thousands_of_times_adds_a_bounded_amount() {
        let human: String = (0..2000)
            .map(|_| "bob@example.net: host mx.example.net said: 550 5.1.1 unknown user here\n\n")
            .collect();
        let fields: String = (0..500)
            .map(|_| "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n\n")
            .collect();
        let n = read(report(&fields, &human, "Undelivered Mail").as_bytes()).unwrap();
        assert!(
            n.recipients
                .iter()
                .all(|r| r.quoted.len() <= MAX_QUOTED && r.context.len() <= MAX_CONTEXT)
        );
    }
}

/// Shapes of notice in which the reader once found no recipient.
mod shapes {
    use super::super::read;

    fn only(raw: &str) -> super::super::NoticeRecipient {
        let n = read(raw.as_bytes()).expect("a message");
        assert_eq!(n.recipients.len(), 1, "{:?}", n.recipients);
        n.recipients[0].clone()
    }

    /// A report that declares a multipart boundary and never writes it: its lines are read
    /// as text, the delivery-status fields among them.
    #[test]
    fn a_multipart_without_its_boundary_is_text() {
        let r = only(
            "From: MAILER-DAEMON@relay.example.net\nSubject: Returned mail: User unknown\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n    boundary=\"never/relay.example.net\"\n\n   ----- The following addresses had permanent fatal errors -----\n<dora@example.org>\n\n   ----- Transcript of session follows -----\n550 <dora@example.org>... User unknown\n\nReporting-MTA: dns; relay.example.net\n\nFinal-Recipient: RFC822; <dora@example.org>\nAction: failed\nStatus: 5.1.1\n",
        );
        assert_eq!(r.final_recipient, "dora@example.org");
        assert_eq!((r.action.as_str(), r.status.as_str()), ("failed", "5.1.1"));
        assert_eq!(r.quoted, ["550 <dora@example.org>... User unknown"]);
    }

    /// Delivery-status fields written without the blank lines between the message's and
    /// each recipient's: one recipient per repeated field.
    #[test]
    fn fields_without_blank_lines_are_one_group_per_recipient() {
        let raw = "From: MAILER-DAEMON@out.example.com\nSubject: Undeliverable: hello\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; out.example.com\nArrival-Date: Mon, 6 May 2024 10:00:00 +0000\nFinal-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 <ann@example.net> over quota\nOriginal-Recipient: rfc822; ben@example.net\nFinal-Recipient: rfc822; ben@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <ben@example.net> no such user\n\n--r--\n";
        let n = read(raw.as_bytes()).unwrap();
        let got: Vec<(&str, &str, &str)> = n
            .recipients
            .iter()
            .map(|r| {
                (
                    r.final_recipient.as_str(),
                    r.status.as_str(),
                    r.diagnostic_code.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ann@example.net",
                    "5.2.2",
                    "552 5.2.2 <ann@example.net> over quota"
                ),
                (
                    "ben@example.net",
                    "5.1.1",
                    "550 5.1.1 <ben@example.net> no such user"
                ),
            ]
        );
        assert_eq!(n.reporting_mta.as_deref(), Some("out.example.com"));
        assert_eq!(n.recipients[0].original_recipient, None);
        assert_eq!(
            n.recipients[1].original_recipient.as_deref(),
            Some("ben@example.net")
        );
    }

    /// An abuse feedback report (RFC 5965) that names several complainants: each is one
    /// recipient of the explanation, delivered, the reason feedback.
    #[test]
    fn a_feedback_report_concerns_every_complainant() {
        let raw = "From: fbl@isp.example\nSubject: Complaint about mail from 192.0.2.7\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"k\"\n\n--k\nContent-Type: text/plain\n\nComplaints about a message from 192.0.2.7.\n\n--k\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\nOriginal-Rcpt-To: <pat@isp.example>\nOriginal-Rcpt-To: lee@isp.example\nOriginal-Rcpt-To: PAT@isp.example\nSource-IP: 192.0.2.7\n\n--k--\n";
        let n = read(raw.as_bytes()).unwrap();
        assert_eq!(n.kind, super::super::Kind::Feedback);
        assert_eq!(n.concerns, ["pat@isp.example", "lee@isp.example"]);
        let report = crate::explain::explain(raw.as_bytes(), "fbl").unwrap();
        let got: Vec<(&str, &str, String)> = report
            .recipients
            .iter()
            .map(|r| {
                let why = r.notice.as_ref().map(|d| d.reason.to_string());
                (
                    r.address.as_str(),
                    r.outcome.as_str(),
                    why.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("pat@isp.example", "delivered", "feedback".to_string()),
                ("lee@isp.example", "delivered", "feedback".to_string()),
            ]
        );
    }

    /// A gateway's one-line notice: what happened, a colon, the address; no reply code.
    #[test]
    fn words_then_the_address() {
        let r = only(
            "From: postmaster@gw.example.org\nTo: sam@example.com\nSubject: Undeliverable Mail\n\nMailbox quota exceeded for user: lin@gw.example.org\n\n\nOriginal message follows.\n\nTo: lin@gw.example.org\nSubject: hi\n",
        );
        assert_eq!(r.final_recipient, "lin@gw.example.org");
        assert_eq!(r.action, "failed");
        assert_eq!(
            r.diagnostic_code,
            "Mailbox quota exceeded for user: lin@gw.example.org"
        );
    }

    /// "… to address", then the reply the other server gave, a paragraph further down.
    #[test]
    fn words_then_the_address_then_the_reply() {
        let r = only(
            "From: postmaster@gw.example.org\nTo: sam@example.com\nSubject: Undeliverable Mail\n\nCould not deliver to kim@example.net\n\nThe remote server answered:\n554-Message refused: listed URL in body.\n554 See https://lists.example/lookup\n",
        );
        assert_eq!(r.final_recipient, "kim@example.net");
        assert_eq!(r.action, "failed");
        assert_eq!(
            r.diagnostic_code,
            "554 Message refused: listed URL in body. See https://lists.example/lookup"
        );
    }

    /// A heading, then the reason, then the address alone under it.
    #[test]
    fn a_reason_above_the_address() {
        let r = only(
            "From: postmaster@hub.example.co.jp\nTo: sam@example.com\nSubject: Undeliverable message\n\n*** Why it failed ***\n\nRecipient not found in the organisation's directory\nmori@hub.example.co.jp\n\n------- Returned Message --------\nTo: mori@hub.example.co.jp\n",
        );
        assert_eq!(r.final_recipient, "mori@hub.example.co.jp");
        assert_eq!(r.action, "failed");
        assert_eq!(
            r.diagnostic_code,
            "Recipient not found in the organisation's directory"
        );
    }

    /// An older Exchange's notice: "did not reach", the address with the date, the reason
    /// in words and a diagnostic line under it, no reply code.
    #[test]
    fn did_not_reach_the_following_recipients() {
        let r = only(
            "From: System Administrator <postmaster@corp.example.net>\nTo: sam@example.com\nSubject: Undeliverable: budget\n\nYour message\n\n  To:      ivy@corp.example.net\n  Subject: budget\n\ndid not reach the following recipient(s):\n\nivy@corp.example.net on Mon, 6 May 2024 10:00:00 +0000\n    The recipient name is not recognized\n    MSEXCH:IMS:CORP:SITE:SRV01 0 (000C05A6) Unknown Recipient\n",
        );
        assert_eq!(r.final_recipient, "ivy@corp.example.net");
        assert_eq!(r.action, "failed");
        assert!(
            r.diagnostic_code
                .starts_with("The recipient name is not recognized"),
            "{}",
            r.diagnostic_code
        );
    }

    /// No words of a notice, but the envelope it was given and the refusal.
    #[test]
    fn the_envelope_and_the_refusal() {
        let r = only(
            "From: postmaster@sms.example.net\nTo: sam@example.com\nSubject: Re: hello\n\nError: bad destination\n\nError message below:\n550 - Requested action not taken: mailbox unavailable\n\nMessage details:\n  Subject: hello\n  MAIL FROM: sam@example.com\n  RCPT TO: 15550100@sms.example.net\n  Size (in bytes): 120\n",
        );
        assert_eq!(r.final_recipient, "15550100@sms.example.net");
        assert_eq!(r.action, "failed");
        assert_eq!(
            r.diagnostic_code,
            "550 - Requested action not taken: mailbox unavailable"
        );
    }

    /// A transcript: each recipient's own verdict, or the remote reply quoted above it.
    #[test]
    fn each_address_takes_the_reply_beside_it() {
        let raw = "From: MAILER-DAEMON@out.example.com\nTo: sam@example.com\nSubject: Returned mail: see transcript\n\n   ----- Transcript of session follows -----\nWhile talking to mx.example.net:\n>>> RCPT To:<ann@example.net>\n<<< 550 5.1.1 No such mailbox\n550 <ann@example.net>... User unknown\n554 <ben@example.org>... 550 Host unknown\n";
        let n = read(raw.as_bytes()).unwrap();
        let got: Vec<(&str, &str)> = n
            .recipients
            .iter()
            .map(|r| (r.final_recipient.as_str(), r.diagnostic_code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("ann@example.net", "550 5.1.1 No such mailbox"),
                (
                    "ben@example.org",
                    "554 <ben@example.org>... 550 Host unknown"
                ),
            ]
        );
    }
}
