//! Sessions over an in-memory pipe on the paused clock: behaviour that needs exact story
//! time or a handshake — throttled reads, AUTH, a STARTTLS aborted mid-handshake.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mxlab_net::Clock;
use mxlab_smtp::{FakeSmtpHost, Limits};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

fn host(rules: &str, extra: &str) -> (Arc<FakeSmtpHost>, Clock) {
    let text = format!(
        "mxlab = 1\ntitle = \"t\"\nstart = \"2024-05-08T20:40:00+01:00\"\n\n[[smtp.hosts]]\nname = \"mx1.partner.test\"\naddress = \"127.0.0.10\"\n{extra}\n{rules}\n[sender]\nhostname = \"srv01\"\ndomain = \"mycompany.test\"\n\n[[sender.messages]]\nfrom = \"a@mycompany.test\"\nto = [\"b@partner.test\"]\nsubject = \"x\"\n\n[expect]\nverdict = \"ok.delivered\"\n"
    );
    let scenario = mxlab_scenario::load_str("t", "t.toml", &text).unwrap();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let host = Arc::new(FakeSmtpHost::new(
        &scenario.file.smtp.hosts[0],
        scenario.host_addresses[0],
        clock.clone(),
        Limits::default(),
    ));
    (host, clock)
}

fn start(host: &Arc<FakeSmtpHost>) -> BufReader<DuplexStream> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let host = host.clone();
    let ip: IpAddr = "127.0.0.2".parse().unwrap();
    tokio::spawn(async move {
        let (attempt, _) = host.connect(ip);
        mxlab_smtp::session::run(&host, server, ip, attempt).await
    });
    BufReader::new(client)
}

async fn reply(c: &mut BufReader<DuplexStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if c.read_line(&mut line).await.unwrap() == 0 {
            return all;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

async fn say(c: &mut BufReader<DuplexStream>, line: &str) -> String {
    c.get_mut().write_all(line.as_bytes()).await.unwrap();
    reply(c).await
}

#[tokio::test(start_paused = true)]
async fn a_throttled_reader_takes_story_time_in_proportion() {
    let (host, clock) = host(
        "[[smtp.hosts.rules]]\nstage = \"data\"\nread_rate = 100\n",
        "",
    );
    let mut c = start(&host);
    reply(&mut c).await;
    for cmd in [
        "EHLO c\r\n",
        "MAIL FROM:<a@b>\r\n",
        "RCPT TO:<b@partner.test>\r\n",
    ] {
        assert!(say(&mut c, cmd).await.starts_with('2'));
    }
    assert!(say(&mut c, "DATA\r\n").await.starts_with("354"));
    let before = clock.elapsed();
    let body = format!("Subject: slow\r\n\r\n{}\r\n.\r\n", "x".repeat(980));
    let done = say(&mut c, &body).await;
    assert!(done.starts_with("250"), "{done}");
    let took = clock.elapsed() - before;
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(11),
        "{took:?}"
    );
}

/// `\0alice\0secret`, the PLAIN message of RFC 4616.
const PLAIN: &str = "AGFsaWNlAHNlY3JldA==";

#[tokio::test(start_paused = true)]
async fn auth_is_offered_when_listed_and_scriptable() {
    let (open, _) = host(
        "",
        "extensions = [\"AUTH PLAIN LOGIN\", \"ENHANCEDSTATUSCODES\"]",
    );
    let mut c = start(&open);
    reply(&mut c).await;
    assert!(
        say(&mut c, "EHLO c\r\n")
            .await
            .contains("250-AUTH PLAIN LOGIN")
    );
    let ok = say(&mut c, &format!("AUTH PLAIN {PLAIN}\r\n")).await;
    assert!(ok.starts_with("235 2.7.0"), "{ok}");

    let (strict, _) = host(
        "[[smtp.hosts.rules]]\nstage = \"auth\"\nreply = \"535 5.7.8 Authentication credentials invalid\"\n",
        "extensions = [\"AUTH LOGIN\"]",
    );
    let mut c = start(&strict);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    assert_eq!(say(&mut c, "AUTH LOGIN\r\n").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(say(&mut c, "YWxpY2U=\r\n").await, "334 UGFzc3dvcmQ6\r\n");
    assert!(say(&mut c, "c2VjcmV0\r\n").await.starts_with("535 5.7.8"));

    let (none, _) = host("", "");
    let mut c = start(&none);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    assert!(
        say(&mut c, &format!("AUTH PLAIN {PLAIN}\r\n"))
            .await
            .starts_with("502")
    );
}

/// RFC 4954's answers to every sequence that goes wrong, each on a fresh session.
#[tokio::test(start_paused = true)]
async fn auth_sequences_get_the_rfc_4954_replies() {
    let (h, _) = host("", "extensions = [\"AUTH PLAIN LOGIN\"]");
    let cases: &[(&[&str], &str)] = &[
        // Before EHLO.
        (&[&format!("AUTH PLAIN {PLAIN}")], "503 5.5.1"),
        // A mechanism not offered, and one unknown.
        (&["EHLO c", "AUTH CRAM-MD5"], "504 5.5.4"),
        (&["EHLO c", "AUTH NONSENSE"], "504 5.5.4"),
        // Cancelled.
        (&["EHLO c", "AUTH PLAIN", "*"], "501 5.7.0"),
        (&["EHLO c", "AUTH LOGIN", "YWxpY2U=", "*"], "501 5.7.0"),
        // Not base64.
        (&["EHLO c", "AUTH PLAIN", "not base64!"], "501 5.5.2"),
        (&["EHLO c", "AUTH PLAIN %%%%"], "501 5.5.2"),
        // Base64, but no PLAIN message.
        (&["EHLO c", "AUTH PLAIN dXNlcg=="], "535 5.7.8"),
        // PLAIN with and without an initial response; LOGIN with the user given at once.
        (&["EHLO c", &format!("AUTH PLAIN {PLAIN}")], "235 2.7.0"),
        (&["EHLO c", "AUTH PLAIN", PLAIN], "235 2.7.0"),
        (&["EHLO c", "AUTH LOGIN YWxpY2U=", "c2VjcmV0"], "235 2.7.0"),
        // Twice.
        (
            &[
                "EHLO c",
                &format!("AUTH PLAIN {PLAIN}"),
                &format!("AUTH PLAIN {PLAIN}"),
            ],
            "503 5.5.1",
        ),
        // Within a mail transaction.
        (
            &[
                "EHLO c",
                "MAIL FROM:<a@b.test>",
                &format!("AUTH PLAIN {PLAIN}"),
            ],
            "503 5.5.1",
        ),
    ];
    for (lines, expected) in cases {
        let mut c = start(&h);
        reply(&mut c).await;
        let mut last = String::new();
        for line in *lines {
            last = say(&mut c, &format!("{line}\r\n")).await;
        }
        assert!(last.starts_with(expected), "{lines:?}: {last}");
    }
    // No transcript holds the credentials.
    let all = format!("{:?}", h.transcripts());
    assert!(!all.contains(PLAIN) && !all.contains("c2VjcmV0"), "{all}");
}

#[tokio::test(start_paused = true)]
async fn starttls_can_be_aborted_mid_handshake() {
    let (host, clock) = host(
        "[[smtp.hosts.rules]]\nstage = \"starttls\"\naction = \"close\"\n",
        "[smtp.hosts.tls]\ncertificate = \"valid\"\n",
    );
    let tls = mxlab_ca::TlsWorld::new(clock.start()).unwrap();
    host.set_tls(
        tls.server_config(
            "mx1.partner.test",
            mxlab_scenario::model::Certificate::Valid,
        )
        .unwrap(),
    );
    let mut c = start(&host);
    reply(&mut c).await;
    assert!(say(&mut c, "EHLO c\r\n").await.contains("250 STARTTLS"));
    assert!(say(&mut c, "STARTTLS\r\n").await.starts_with("220"));
    let connector = mxlab_tls::TlsConnector::from(tls.client_config(clock.clone(), true).unwrap());
    let result = connector
        .connect(
            mxlab_tls::server_name("mx1.partner.test").unwrap(),
            c.into_inner(),
        )
        .await;
    assert!(result.is_err(), "the handshake must fail");
    assert!(
        host.transcripts()[0]
            .lines
            .iter()
            .any(|l| l.text == "server aborts the TLS handshake")
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_told_421_after_five_minutes() {
    let (host, clock) = host("", "");
    let mut c = start(&host);
    reply(&mut c).await;
    let before = clock.elapsed();
    let bye = reply(&mut c).await;
    assert!(bye.starts_with("421 4.4.2"), "{bye}");
    assert_eq!(clock.elapsed() - before, Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn a_text_line_over_1000_octets_is_refused_and_the_session_goes_on() {
    let (host, _) = host("", "");
    let mut c = start(&host);
    reply(&mut c).await;
    for cmd in [
        "EHLO c\r\n",
        "MAIL FROM:<a@b>\r\n",
        "RCPT TO:<b@partner.test>\r\n",
        "DATA\r\n",
    ] {
        say(&mut c, cmd).await;
    }
    let long = format!("Subject: long\r\n\r\n{}\r\n.\r\n", "y".repeat(999));
    assert!(say(&mut c, &long).await.starts_with("500 5.5.2"));
    assert!(say(&mut c, "NOOP\r\n").await.starts_with("250"));
    assert!(host.messages().is_empty());
    // 998 octets and the CRLF make exactly 1000: fine.
    for cmd in [
        "MAIL FROM:<a@b>\r\n",
        "RCPT TO:<b@partner.test>\r\n",
        "DATA\r\n",
    ] {
        say(&mut c, cmd).await;
    }
    let fits = format!("Subject: fits\r\n\r\n{}\r\n.\r\n", "y".repeat(998));
    assert!(say(&mut c, &fits).await.starts_with("250"));
}

/// MAIL, then RCPT for each of `to` (the replies), then DATA (its reply).
async fn transaction(c: &mut BufReader<DuplexStream>, to: &[&str]) -> (Vec<String>, String) {
    assert!(
        say(c, "MAIL FROM:<a@mycompany.test>\r\n")
            .await
            .starts_with("250")
    );
    let mut rcpts = Vec::new();
    for rcpt in to {
        rcpts.push(say(c, &format!("RCPT TO:<{rcpt}>\r\n")).await);
    }
    (rcpts, say(c, "DATA\r\n").await)
}

#[tokio::test(start_paused = true)]
async fn a_recipient_condition_holds_at_data_when_an_accepted_recipient_matches() {
    let (host, _) = host(
        "[[smtp.hosts.rules]]\nstage = \"rcpt\"\nrecipient = \"nobody@*\"\nreply = \"550 5.1.1 No such user\"\n\n[[smtp.hosts.rules]]\nstage = \"data\"\nrecipient = \"bob@*\"\nreply = \"554 5.7.1 Not for bob\"\n",
        "",
    );
    let mut c = start(&host);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    let (_, go) = transaction(&mut c, &["alice@partner.test"]).await;
    assert!(go.starts_with("354"), "{go}");
    assert!(
        say(&mut c, "Subject: x\r\n\r\nhi\r\n.\r\n")
            .await
            .starts_with("250")
    );
    let (_, go) = transaction(&mut c, &["alice@partner.test", "Bob@partner.test"]).await;
    assert!(go.starts_with("554 5.7.1 Not for bob"), "{go}");
    assert!(say(&mut c, "RSET\r\n").await.starts_with("250"));
    // A recipient the server refused is not part of the transaction.
    let (rcpts, go) = transaction(&mut c, &["nobody@partner.test", "alice@partner.test"]).await;
    assert!(rcpts[0].starts_with("550"), "{rcpts:?}");
    assert!(go.starts_with("354"), "{go}");
}

#[tokio::test(start_paused = true)]
async fn a_recipient_condition_holds_at_end_of_data() {
    let (host, _) = host(
        "[[smtp.hosts.rules]]\nstage = \"end-of-data\"\nrecipient = \"bob@*\"\nreply = \"550 5.7.1 Content refused for bob\"\n",
        "",
    );
    let mut c = start(&host);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    transaction(&mut c, &["alice@partner.test"]).await;
    assert!(
        say(&mut c, "Subject: x\r\n\r\nhi\r\n.\r\n")
            .await
            .starts_with("250")
    );
    transaction(&mut c, &["bob@partner.test"]).await;
    let done = say(&mut c, "Subject: x\r\n\r\nhi\r\n.\r\n").await;
    assert!(done.starts_with("550 5.7.1 Content refused"), "{done}");
    assert_eq!(host.messages().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn greylisting_at_data_holds_inside_its_window() {
    let (host, clock) = host(
        "[[smtp.hosts.rules]]\nstage = \"data\"\nwithin = \"15m\"\nreply = \"451 4.7.1 Greylisted, please try again later\"\n",
        "",
    );
    let mut c = start(&host);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    let (_, go) = transaction(&mut c, &["b@partner.test"]).await;
    assert!(go.starts_with("451 4.7.1"), "{go}");
    say(&mut c, "RSET\r\n").await;
    clock.sleep(Duration::from_secs(16 * 60)).await;
    let mut c = start(&host);
    reply(&mut c).await;
    say(&mut c, "EHLO c\r\n").await;
    let (_, go) = transaction(&mut c, &["b@partner.test"]).await;
    assert!(go.starts_with("354"), "{go}");
}

/// Receiver-policy verdicts given outright, as the harness's DNS lookups would give them.
struct Verdicts {
    listed: bool,
    reverse: mxlab_vocab::ReverseDns,
    dmarc: mxlab_vocab::DmarcDisposition,
}

#[async_trait::async_trait]
impl mxlab_smtp::gates::Gates for Verdicts {
    async fn dnsbl(&self, _ip: IpAddr, zones: &[String]) -> mxlab_smtp::gates::DnsblVerdict {
        mxlab_smtp::gates::DnsblVerdict {
            listing: self.listed.then(|| mxlab_smtp::gates::Listing {
                zone: zones[0].clone(),
                reason: Some("see https://bl.test/".into()),
            }),
            note: "DNSBL asked".into(),
        }
    }

    async fn reverse_dns(&self, _ip: IpAddr) -> mxlab_smtp::gates::ReverseDnsVerdict {
        mxlab_smtp::gates::ReverseDnsVerdict {
            result: self.reverse,
            note: format!("reverse DNS: {}", self.reverse),
        }
    }

    async fn dmarc(
        &self,
        _message: &[u8],
        _mail_from: &str,
        _helo: &str,
        _spf: mxlab_vocab::SpfResult,
    ) -> mxlab_smtp::gates::DmarcVerdict {
        mxlab_smtp::gates::DmarcVerdict {
            disposition: self.dmarc,
            from_domain: "mycompany.test".into(),
            note: format!("DMARC: {}", self.dmarc),
        }
    }
}

/// Greeting, EHLO, MAIL, one RCPT and — when it is accepted — the message: the RCPT reply and
/// the last reply.
async fn deliver(c: &mut BufReader<DuplexStream>) -> (Vec<String>, String) {
    reply(c).await;
    say(c, "EHLO c\r\n").await;
    let (rcpts, go) = transaction(c, &["b@partner.test"]).await;
    if !go.starts_with("354") {
        return (rcpts, go);
    }
    let end = say(
        c,
        "From: <a@mycompany.test>\r\nSubject: x\r\n\r\nhi\r\n.\r\n",
    )
    .await;
    (rcpts, end)
}

fn gated(rules: &str, extra: &str, verdicts: Verdicts) -> Arc<FakeSmtpHost> {
    let (host, _) = host(rules, extra);
    host.set_gates(Arc::new(verdicts));
    host
}

const CLEAN: Verdicts = Verdicts {
    listed: false,
    reverse: mxlab_vocab::ReverseDns::Confirmed,
    dmarc: mxlab_vocab::DmarcDisposition::Pass,
};

#[tokio::test(start_paused = true)]
async fn a_listed_client_is_refused_at_rcpt_with_the_zone_and_its_reason() {
    let listed = Verdicts {
        listed: true,
        ..CLEAN
    };
    let host = gated("", "dnsbl = [\"zen.bl.test\"]", listed);
    let mut c = start(&host);
    let (replies, _) = deliver(&mut c).await;
    assert_eq!(
        replies[0].trim_end(),
        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.bl.test; see https://bl.test/"
    );
    // Unlisted, the same host takes the mail.
    let host = gated("", "dnsbl = [\"zen.bl.test\"]", CLEAN);
    let mut c = start(&host);
    let (_, end) = deliver(&mut c).await;
    assert!(end.starts_with("250"), "{end}");
}

#[tokio::test(start_paused = true)]
async fn a_dnsbl_condition_refuses_at_the_greeting() {
    let rules = "[[smtp.hosts.rules]]\nstage = \"banner\"\ndnsbl = \"listed\"\nreply = \"554 5.7.1 Your IP is on our list\"\n";
    let listed = Verdicts {
        listed: true,
        ..CLEAN
    };
    let host = gated(rules, "dnsbl = [\"zen.bl.test\"]", listed);
    let mut c = start(&host);
    assert_eq!(
        reply(&mut c).await.trim_end(),
        "554 5.7.1 Your IP is on our list"
    );
}

#[tokio::test(start_paused = true)]
async fn strict_reverse_dns_defers_a_client_without_a_confirmed_name() {
    for (result, code) in [
        (mxlab_vocab::ReverseDns::Missing, "450"),
        (mxlab_vocab::ReverseDns::Mismatch, "450"),
        (mxlab_vocab::ReverseDns::Confirmed, "250"),
    ] {
        let verdicts = Verdicts {
            reverse: result,
            ..CLEAN
        };
        let host = gated("", "reverse_dns = \"strict\"", verdicts);
        let mut c = start(&host);
        let (replies, _) = deliver(&mut c).await;
        assert!(replies[0].starts_with(code), "{result}: {replies:?}");
        if code == "450" {
            assert_eq!(
                replies[0].trim_end(),
                "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn strict_dmarc_refuses_reject_and_quarantines_into_junk() {
    let reject = Verdicts {
        dmarc: mxlab_vocab::DmarcDisposition::Reject,
        ..CLEAN
    };
    let host = gated("", "dmarc = \"strict\"", reject);
    let mut c = start(&host);
    let (_, end) = deliver(&mut c).await;
    assert!(end.starts_with("550 5.7.26 "), "{end}");
    assert!(host.messages().is_empty());

    let quarantine = Verdicts {
        dmarc: mxlab_vocab::DmarcDisposition::Quarantine,
        ..CLEAN
    };
    let host = gated("", "dmarc = \"strict\"", quarantine);
    let mut c = start(&host);
    let (_, end) = deliver(&mut c).await;
    assert!(end.starts_with("250"), "{end}");
    let _ = say(&mut c, "QUIT\r\n").await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let notes: Vec<String> = host
        .transcripts()
        .iter()
        .flat_map(|t| t.lines.iter().map(|l| l.text.clone()))
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("DMARC quarantine")),
        "{notes:?}"
    );
    // Without the gate, a quarantine verdict is only a condition rules may use.
    let quarantine = Verdicts {
        dmarc: mxlab_vocab::DmarcDisposition::Quarantine,
        ..CLEAN
    };
    let rules = "[[smtp.hosts.rules]]\nstage = \"end-of-data\"\ndmarc = \"quarantine\"\nreply = \"550 5.7.1 Quarantine is a refusal here\"\n";
    let host = gated(rules, "", quarantine);
    let mut c = start(&host);
    let (_, end) = deliver(&mut c).await;
    assert!(end.starts_with("550 5.7.1 Quarantine"), "{end}");
}
