//! The SMTP stories served on real sockets for real clients: swaks sees the scripted 451 4.4.7
//! at RCPT, and from a listed address the blocklist refusal; Python's smtplib is greylisted,
//! then accepted once the window has passed on a scaled clock, and meets the DMARC refusal.

use std::process::Command;
use std::time::Duration;

use mxlab_harness::serve::{ServeOptions, Served};

async fn serve(name: &str, time_scale: f64) -> Served {
    let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        time_scale,
        ..ServeOptions::default()
    };
    Served::start(&scenario, &options).await.unwrap()
}

fn run(program: &str, args: &[String]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (.ci/run installs it)"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// swaks sending taro@mycompany.test's mail to hanako@partner.test through `addr`, with any
/// further options; (exit status success, its output).
async fn swaks(addr: &str, extra: &[&str]) -> (bool, String) {
    let args: Vec<String> = [
        "--server",
        addr,
        "--to",
        "hanako@partner.test",
        "--from",
        "taro@mycompany.test",
        "--timeout",
        "10",
    ]
    .iter()
    .chain(extra)
    .map(|a| a.to_string())
    .collect();
    tokio::task::spawn_blocking(move || run("swaks", &args))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_sees_451_4_4_7_at_rcpt() {
    let served = serve("remote-447", 1.0).await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap().to_string();
    let (ok, text) = swaks(&addr, &[]).await;
    assert!(!ok);
    assert!(
        text.contains(" -> RCPT TO:<hanako@partner.test>")
            && text.contains("<** 451 4.4.7 Message delayed, try again later"),
        "{text}"
    );
    served.shutdown().await;
}

const SEND: &str = r#"
import smtplib, sys
try:
    with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s:
        s.sendmail("taro@mycompany.test", ["hanako@partner.test"], "Subject: hi\r\n\r\nhello\r\n")
    print("accepted")
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["hanako@partner.test"]
    print(code, text.decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greylisting_defers_then_accepts_after_the_window() {
    // 15 story minutes pass in 1.5 real seconds.
    let served = serve("greylisting", 600.0).await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap();
    let try_once = || {
        let args = vec![
            "-c".into(),
            SEND.into(),
            addr.ip().to_string(),
            addr.port().to_string(),
        ];
        tokio::task::spawn_blocking(move || run("python3", &args))
    };
    let (_, first) = try_once().await.unwrap();
    assert_eq!(first.trim(), "451 4.7.1 Greylisted, please try again later");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (_, later) = try_once().await.unwrap();
    assert_eq!(later.trim(), "accepted");
    assert_eq!(served.smtp[0].0.messages().len(), 1);
    served.shutdown().await;
}

const STARTTLS: &str = r#"
import smtplib, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[3])
try:
    with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s:
        # Verify against the MX's name, as an MTA that looked it up would.
        s._host = "mx1.partner.test"
        s.starttls(context=context)
        s.sendmail("taro@mycompany.test", ["hanako@partner.test"], "Subject: over TLS\r\n\r\nhello\r\n")
    print("delivered over TLS")
except ssl.SSLCertVerificationError as e:
    print("refused:", e.verify_message)
"#;

async fn starttls_with_the_scenario_ca(name: &str) -> String {
    let served = serve(name, 1.0).await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap();
    let ca = std::env::temp_dir().join(format!("mxlab-test-{}-{name}-ca.pem", std::process::id()));
    std::fs::write(&ca, &served.tls_ca_pem).unwrap();
    let args = vec![
        "-c".into(),
        STARTTLS.into(),
        addr.ip().to_string(),
        addr.port().to_string(),
        ca.display().to_string(),
    ];
    let (_, out) = tokio::task::spawn_blocking(move || run("python3", &args))
        .await
        .unwrap();
    served.shutdown().await;
    out.trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_accepted_with_the_scenario_ca_and_refused_when_expired() {
    assert_eq!(
        starttls_with_the_scenario_ca("starttls").await,
        "delivered over TLS"
    );
    assert_eq!(
        starttls_with_the_scenario_ca("tls-failure").await,
        "refused: certificate has expired"
    );
}

/// swaks from the story's sending address, so the fake server asks its blocklist about the
/// same IP a real MTA would connect from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_from_the_listed_ip_is_refused_with_the_blocklist_reply() {
    let served = serve("blocklisted", 1.0).await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap().to_string();
    let (ok, text) = swaks(&addr, &["--local-interface", "127.0.0.2"]).await;
    assert!(!ok);
    assert!(
        text.contains(" -> RCPT TO:<hanako@partner.test>")
            && text.contains(
                "<** 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.spamhaus.test; https://www.spamhaus.org/query/ip/127.0.0.2"
            ),
        "{text}"
    );
    // The same client from an address the zone does not list gets through RCPT.
    let (ok, text) = swaks(&addr, &["--local-interface", "127.0.0.3"]).await;
    assert!(ok, "{text}");
    served.shutdown().await;
}

const DMARC: &str = r#"
import smtplib, sys
try:
    with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10, source_address=("127.0.0.2", 0)) as s:
        s.sendmail("news@mycompany.test", ["hanako@partner.test"],
                   "From: <news@mycompany.test>\r\nTo: <hanako@partner.test>\r\nSubject: May\r\n\r\nhello\r\n")
    print("accepted")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_meets_the_dmarc_refusal_after_the_data() {
    let served = serve("dmarc-reject", 1.0).await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap();
    let args = vec![
        "-c".into(),
        DMARC.into(),
        addr.ip().to_string(),
        addr.port().to_string(),
    ];
    let (_, out) = tokio::task::spawn_blocking(move || run("python3", &args))
        .await
        .unwrap();
    assert_eq!(
        out.trim(),
        "550 5.7.26 Unauthenticated mail from mycompany.test is refused: the domain's DMARC policy is reject"
    );
    assert!(served.smtp[0].0.messages().is_empty());
    served.shutdown().await;
}

/// The healthy story with a host that offers AUTH with these mechanisms.
async fn serve_auth(mechanisms: &str) -> Served {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/healthy.toml"),
    )
    .unwrap()
    .replace(
        "name = \"mx1.partner.test\"\n",
        &format!(
            "name = \"mx1.partner.test\"\nextensions = [\"PIPELINING\", \"ENHANCEDSTATUSCODES\", \"AUTH {mechanisms}\"]\n"
        ),
    );
    let scenario = mxlab_scenario::load_str("auth", "auth.toml", &text).unwrap();
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        ..ServeOptions::default()
    };
    Served::start(&scenario, &options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_logs_in_with_login_and_plain() {
    let served = serve_auth("PLAIN LOGIN").await;
    let addr = served.smtp_addr("mx1.partner.test").unwrap().to_string();
    for mechanism in ["LOGIN", "PLAIN"] {
        let auth = [
            "--auth",
            mechanism,
            "--auth-user",
            "taro",
            "--auth-password",
            "secret",
        ];
        let (ok, text) = swaks(&addr, &auth).await;
        assert!(ok, "{mechanism}: {text}");
        assert!(
            text.contains("<~  235 2.7.0") || text.contains("<-  235 2.7.0"),
            "{mechanism}: {text}"
        );
    }
    // The transcripts name the user, never the password.
    let transcripts = served.host("mx1.partner.test").unwrap().transcripts();
    let all = format!("{transcripts:?}");
    assert!(
        all.contains("(credentials)") && !all.contains("c2VjcmV0"),
        "{all}"
    );
    served.shutdown().await;
}

const LOGIN: &str = r#"
import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s:
    s.ehlo("client.test")
    code, _ = s.login("taro", "secret")
    s.sendmail("taro@mycompany.test", ["hanako@partner.test"], "Subject: hi\r\n\r\nhello\r\n")
    print(code, "sent")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_logs_in_with_plain_and_with_login() {
    for offered in ["PLAIN", "LOGIN"] {
        let served = serve_auth(offered).await;
        let addr = served.smtp_addr("mx1.partner.test").unwrap();
        let args = vec![
            "-c".to_string(),
            LOGIN.to_string(),
            addr.ip().to_string(),
            addr.port().to_string(),
        ];
        let (ok, text) = tokio::task::spawn_blocking(move || run("python3", &args))
            .await
            .unwrap();
        assert!(ok && text.contains("235 sent"), "{offered}: {text}");
        served.shutdown().await;
    }
}

/// Serving on port 0 picks one port free for UDP and TCP on every DNS address at once: a
/// story with a root, a TLD and the domain's servers, started and stopped many times, never
/// meets AddrInUse (it did about 10 times in 300 when a UDP port was found, released, and
/// bound again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_zero_never_meets_addr_in_use() {
    let runs: usize = std::env::var("MXLAB_PORT_ZERO_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let scenario = mxlab_scenario::catalog::builtin("lame-delegation")
        .unwrap()
        .unwrap();
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        ..ServeOptions::default()
    };
    for run in 0..runs {
        match Served::start(&scenario, &options).await {
            Ok(served) => served.shutdown().await,
            Err(e) => panic!("run {run}: {e}"),
        }
    }
}
