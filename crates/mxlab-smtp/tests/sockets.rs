//! The fake SMTP server on real TCP, driven by Python's smtplib, swaks (installed by
//! .ci/run) and raw bytes, including traffic it must refuse and survive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mxlab_net::Clock;
use mxlab_smtp::{FakeSmtpHost, Limits};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SCENARIO: &str = r#"
mxlab = 1
title = "smtp test"
start = "2024-05-08T20:40:00+01:00"

[[smtp.hosts]]
name = "mx1.partner.test"
address = "127.0.0.1"

[[smtp.hosts.rules]]
stage = "rcpt"
recipient = "delayed@partner.test"
reply = "451 4.4.7 Message delayed"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"

[[sender.messages]]
from = "a@mycompany.test"
to = ["b@partner.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

async fn start() -> (Arc<FakeSmtpHost>, SocketAddr) {
    start_with(SCENARIO, Limits::default()).await
}

/// A host of `scenario` with `limits`, listening on a free port of 127.0.0.1.
async fn start_with(scenario: &str, limits: Limits) -> (Arc<FakeSmtpHost>, SocketAddr) {
    let scenario = mxlab_scenario::load_str("smtp-test", "smtp-test.toml", scenario).unwrap();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let host = Arc::new(FakeSmtpHost::new(
        &scenario.file.smtp.hosts[0],
        scenario.host_addresses[0],
        clock,
        limits,
    ));
    let listener = mxlab_smtp::listen::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mxlab_smtp::listen::serve(host.clone(), listener));
    (host, addr)
}

const SMTPLIB: &str = r#"
import smtplib, sys
port = int(sys.argv[1])
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("client.test")
    assert s.has_extn("enhancedstatuscodes"), s.esmtp_features
    refused = s.sendmail("alice@mycompany.test", ["ok@partner.test", "delayed@partner.test"],
                         "Subject: hello\r\n\r\nbody line\r\n.leading dot\r\n")
    code, text = refused["delayed@partner.test"]
    print(code, text.decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_delivers_and_sees_the_scripted_451() {
    let (host, addr) = start().await;
    let out = tokio::process::Command::new("python3")
        .args(["-c", SMTPLIB, &addr.port().to_string()])
        .output()
        .await
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "451 4.4.7 Message delayed"
    );
    let messages = host.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].mail_from, "alice@mycompany.test");
    assert_eq!(messages[0].rcpt_to, ["ok@partner.test"]);
    let data = String::from_utf8_lossy(&messages[0].data);
    assert!(
        data.contains("Subject: hello") && data.contains("\r\n.leading dot"),
        "dot-unstuffed: {data:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_sees_451_at_rcpt() {
    let (host, addr) = start().await;
    let out = tokio::process::Command::new("swaks")
        .args([
            "--server",
            &addr.to_string(),
            "--to",
            "delayed@partner.test",
            "--from",
            "a@mycompany.test",
            "--timeout",
            "10",
        ])
        .output()
        .await
        .expect("swaks is installed (apt-get install swaks; .ci/run does)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<** 451 4.4.7 Message delayed"), "{text}");
    assert!(!out.status.success());
    assert!(host.messages().is_empty());
    let transcripts = host.transcripts();
    assert!(
        transcripts[0]
            .lines
            .iter()
            .any(|l| l.who == 'C' && l.text == "RCPT TO:<delayed@partner.test>")
    );
}

async fn reply(reader: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

#[tokio::test]
async fn bad_commands_get_errors_and_the_session_goes_on() {
    let (_host, addr) = start().await;
    let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(reply(&mut s).await.starts_with("220 "));
    let send = async |s: &mut BufReader<TcpStream>, bytes: &[u8]| {
        s.get_mut().write_all(bytes).await.unwrap();
        reply(s).await
    };
    assert!(
        send(&mut s, b"MAIL FROM:<a@b>\r\n")
            .await
            .starts_with("503 5.5.1"),
        "MAIL before EHLO"
    );
    assert!(
        send(&mut s, b"FROB nonsense\r\n")
            .await
            .starts_with("500 5.5.1")
    );
    let long = format!("NOOP {}\r\n", "x".repeat(600));
    assert!(
        send(&mut s, long.as_bytes()).await.starts_with("500 5.5.2"),
        "a command line over 512 octets"
    );
    assert!(
        send(&mut s, b"EHLO client.test\r\n")
            .await
            .starts_with("250-")
    );
    assert!(
        send(&mut s, b"RCPT TO:<b@partner.test>\r\n")
            .await
            .starts_with("503 5.5.1"),
        "RCPT before MAIL"
    );
    assert!(send(&mut s, b"NOOP\r\n").await.starts_with("250 "));
    assert!(send(&mut s, b"QUIT\r\n").await.starts_with("221 "));
}

/// A session at `addr` taken as far as the 354 to DATA.
async fn in_data(addr: SocketAddr) -> BufReader<TcpStream> {
    let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
    reply(&mut s).await;
    for cmd in [
        "EHLO c\r\n",
        "MAIL FROM:<a@b>\r\n",
        "RCPT TO:<ok@partner.test>\r\n",
        "DATA\r\n",
    ] {
        s.get_mut().write_all(cmd.as_bytes()).await.unwrap();
        reply(&mut s).await;
    }
    s
}

#[tokio::test]
async fn a_client_that_vanishes_mid_data_costs_nothing() {
    let (host, addr) = start().await;
    {
        let mut s = in_data(addr).await;
        s.get_mut()
            .write_all(b"Subject: half\r\n\r\nhalf a messa")
            .await
            .unwrap();
    }
    // The next client is served as if nothing happened; the half message was never accepted.
    let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(reply(&mut s).await.starts_with("220 "));
    assert!(host.messages().is_empty());
}

/// A host that stalls after the final dot, as `data-timeout` scripts it.
async fn start_stalling(limits: Limits) -> (Arc<FakeSmtpHost>, SocketAddr) {
    let text = SCENARIO.replace(
        "[sender]",
        "[[smtp.hosts.rules]]\nstage = \"end-of-data\"\naction = \"stall\"\n\n[sender]",
    );
    start_with(&text, limits).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_outlasts_the_clients_half_close_after_the_final_dot() {
    let (_host, addr) = start_stalling(Limits::default()).await;
    let mut s = in_data(addr).await;
    // As Exim does: the dot and QUIT together, then its sending side shut.
    s.get_mut()
        .write_all(b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    s.get_mut().shutdown().await.unwrap();
    // The server says nothing and does not hang up: the client's own timeout must decide.
    let mut line = String::new();
    let read = tokio::time::timeout(Duration::from_secs(2), s.read_line(&mut line)).await;
    assert!(read.is_err(), "the server answered or closed: {line:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_past_its_session_limit_is_told_421_and_others_are_served() {
    let limits = Limits {
        sessions_per_client: 2,
        ..Limits::default()
    };
    let (_host, addr) = start_stalling(limits).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert!(reply(&mut s).await.starts_with("220 "));
        held.push(s);
    }
    let mut third = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(reply(&mut third).await.starts_with("421 4.7.0 "));
    // Another address is its own client.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.3:0".parse().unwrap()).unwrap();
    let mut other = BufReader::new(socket.connect(addr).await.unwrap());
    assert!(reply(&mut other).await.starts_with("220 "));
    // A slot given back is a slot for the same client again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(reply(&mut again).await.starts_with("220 "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_session_whose_client_resets_gives_its_slot_back_at_once() {
    let limits = Limits {
        sessions_per_client: 1,
        ..Limits::default()
    };
    let (_host, addr) = start_stalling(limits).await;
    let mut s = in_data(addr).await;
    s.get_mut()
        .write_all(b"Subject: x\r\n\r\nbody\r\n.\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The client aborts: a reset, not a half-close. Nothing is left to hold open.
    s.get_ref().set_zero_linger().unwrap();
    drop(s);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let greeting = reply(&mut again).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
}
