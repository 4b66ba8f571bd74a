//! `mxlab check <RECIPIENT>` against `mxlab serve <story>` on loopback: the verdict the story
//! names, from live probes alone, for every story whose cause a live probe can see
//! (docs/checking.md says why the others cannot be seen). And a check that cannot run says
//! so. Nothing here leaves 127.0.0.0/8: every check is given --dns and --root.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{assert_valid_report, mxlab, stdout};
use serde_json::Value;

/// Stories a live probe sees, and what `check` needs beyond the story's own sender
/// (`--send` for a cause that shows only after the data).
const LIVE: &[(&str, &[&str])] = &[
    ("healthy", &[]),
    ("connection-refused", &[]),
    ("backup-mx", &[]),
    ("implicit-mx", &[]),
    ("starttls", &[]),
    ("missing-mx", &[]),
    ("nxdomain", &[]),
    ("null-mx", &[]),
    ("mx-target-unresolvable", &[]),
    ("dns-servfail", &[]),
    ("dns-timeout", &[]),
    ("lame-delegation", &[]),
    ("local-dns-failure", &[]),
    ("banner-timeout", &[]),
    ("greylisting", &[]),
    ("user-unknown", &[]),
    ("single-mailbox", &[]),
    ("relay-denied", &[]),
    ("remote-447", &[]),
    ("rate-limited", &[]),
    ("tls-failure", &[]),
    ("tls-required", &[]),
    ("spf-fail", &[]),
    ("spf-missing", &[]),
    ("spf-permerror", &[]),
    ("spf-softfail-deferred", &[]),
    ("spf-temperror", &[]),
    ("blocklisted", &[]),
    ("blocklisted-deferred", &[]),
    ("ptr-missing", &[]),
    ("ptr-mismatch", &[]),
    ("dmarc-reject", &["--send"]),
    ("dmarc-quarantine", &["--send"]),
    ("data-timeout", &["--send"]),
    ("disconnect-mid-data", &["--send"]),
    ("policy-rejected", &["--send"]),
];

/// Stories whose cause no live probe can see, and why (docs/checking.md).
const NOT_LIVE: &[(&str, &str)] = &[
    (
        "local-backlog",
        "the sending server's own queue is full: the remote side is fine",
    ),
    (
        "shadow-redundancy",
        "the sending server's shadow redundancy: only its tracking log shows it",
    ),
    (
        "too-big",
        "the probe's test message is small: only the real message is too big",
    ),
    (
        "header-limit",
        "the probe's test message has few headers: only the real message exceeds the limit",
    ),
    (
        "seed-447",
        "without a packet filter serve cannot leave a SYN unanswered: it holds the connection silent, which a live probe sees as a banner timeout (serve --drop-syn, as root in a network namespace, does; tests/real_mta.rs)",
    ),
    (
        "seed-447-ja",
        "the seed's world, as seed-447: only its notices' language differs, and a live check reads no notice of its own",
    ),
];

#[test]
fn every_catalog_story_is_listed_live_or_not() {
    for name in mxlab_scenario::catalog::names() {
        let live = LIVE.iter().any(|(s, _)| *s == name);
        let not = NOT_LIVE.iter().any(|(s, _)| *s == name);
        assert!(live != not, "{name}: in exactly one of LIVE and NOT_LIVE");
    }
}

/// A served story, stopped when dropped.
struct Served {
    child: Child,
    at: Target,
}

/// Where a served story listens.
#[derive(Clone)]
struct Target {
    /// The resolver (or the lone server): `dns - <addr>`.
    dns: String,
    /// The DNS port every served server shares.
    dns_port: String,
    smtp_port: u16,
    ca: Option<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on loopback now, for every SMTP host of a story to share.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// `mxlab serve <story>` on free ports; its listener lines, read until they stop coming.
fn serve(story: &str) -> Served {
    for _ in 0..5 {
        let smtp_port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mxlab"))
            .args(["serve", story, "--dns", "127.0.0.1:0", "--smtp-port"])
            .arg(smtp_port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut lines: Vec<String> = Vec::new();
        while Instant::now() < deadline {
            let wait = if lines.is_empty() { 1000 } else { 300 };
            match rx.recv_timeout(Duration::from_millis(wait)) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) if !lines.is_empty() => break,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let Some(dns) = lines
            .iter()
            .find_map(|l| l.strip_prefix("dns - "))
            .map(str::to_string)
        else {
            // The port was taken meanwhile: try another.
            let _ = child.kill();
            let _ = child.wait();
            continue;
        };
        let dns_port = dns.rsplit_once(':').unwrap().1.to_string();
        let ca = lines
            .iter()
            .find_map(|l| l.strip_prefix("tls-ca - "))
            .map(str::to_string);
        return Served {
            child,
            at: Target {
                dns,
                dns_port,
                smtp_port,
                ca,
            },
        };
    }
    panic!("{story}: mxlab serve did not start");
}

/// `mxlab check` for the story's first recipient, from its sender, against the served world.
fn check(story: &str, served: &Target, extra: &[&str]) -> (Option<i32>, Value) {
    let scenario = mxlab_scenario::catalog::builtin(story).unwrap().unwrap();
    let message = &scenario.file.sender.messages[0];
    let ip = scenario.sender_ip.to_string();
    // The walk from the root: the story's root where it has one, else its lone server.
    let mut roots: Vec<String> = scenario
        .dns
        .root_hints(&scenario.zones)
        .iter()
        .map(|ip| format!("{ip}:{}", served.dns_port))
        .collect();
    if roots.is_empty() {
        roots.push(served.dns.clone());
    }
    let port = served.smtp_port.to_string();
    let mut args: Vec<&str> = vec![
        "check",
        &message.to[0],
        "--from",
        &message.from,
        "--ip",
        &ip,
        "--helo",
        &scenario.file.sender.hostname,
        "--dns",
        &served.dns,
        "--smtp-port",
        &port,
        "--timeout",
        "3s",
        "--json",
    ];
    for root in &roots {
        args.extend(["--root", root]);
    }
    if let Some(ca) = &served.ca {
        args.extend(["--ca", ca]);
    }
    args.extend(extra);
    let out = mxlab(&args);
    let text = stdout(&out);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{story}: not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

#[test]
fn check_names_each_live_story_by_its_verdict() {
    let mut wrong = Vec::new();
    for (story, extra) in LIVE {
        let scenario = mxlab_scenario::catalog::builtin(story).unwrap().unwrap();
        let expected = match scenario.file.expect.verdict.as_str() {
            "ok.delivered" if !extra.contains(&"--send") => "ok.deliverable",
            other => other,
        };
        let served = serve(story);
        let (code, report) = check(story, &served.at, extra);
        drop(served);
        assert_valid_report(&report, story);
        let verdict = report["verdict"]["rule"].as_str().unwrap_or_default();
        let want_code = if expected.starts_with("ok.") { 0 } else { 1 };
        if verdict != expected || code != Some(want_code) {
            wrong.push(format!(
                "{story}: {verdict} (exit {code:?}), expected {expected}: {}",
                report["verdict"]["summary"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_port_where_nothing_listens_is_refused() {
    let served = serve("healthy");
    let closed = free_port();
    let (code, report) = check(
        "healthy",
        &Target {
            // Everything as served, but SMTP on a port nobody listens on.
            smtp_port: closed,
            ..served.at.clone()
        },
        &[],
    );
    assert_valid_report(&report, "healthy on a closed port");
    assert_eq!(
        report["verdict"]["rule"], "smtp.connect.refused",
        "{report}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn nothing_answering_dns_is_inconclusive_not_a_remote_fault() {
    let out = mxlab(&[
        "check",
        "postmaster@example.test",
        "--dns",
        "127.0.0.1:9",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_valid_report(&report, "check --dns 127.0.0.1:9");
    assert_eq!(report["verdict"]["rule"], "inconclusive");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"probe.unavailable"), "{rules:?}");
    assert!(
        !rules.iter().any(|r| r.starts_with("dns.")),
        "no DNS fault is blamed: {rules:?}"
    );
    // And in text.
    let text = mxlab(&["check", "postmaster@example.test", "--dns", "127.0.0.1:9"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(stdout(&text).contains("probe.unavailable"));
}

#[test]
fn usage_errors_exit_2_and_check_spf_is_still_there() {
    assert_eq!(mxlab(&["check"]).status.code(), Some(2));
    assert_eq!(
        mxlab(&["check", "not-an-address", "--dns", "127.0.0.1:9"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        mxlab(&[
            "check",
            "a@b.test",
            "--dns",
            "127.0.0.1:9",
            "--dsn",
            "/nonexistent/notice.eml"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        mxlab(&["check", "a@b.test", "--timeout", "soon"])
            .status
            .code(),
        Some(2)
    );
    // `check spf` parses as before (its own tests cover what it prints).
    let spf = mxlab(&["check", "spf", "--help"]);
    assert_eq!(spf.status.code(), Some(0));
    assert!(stdout(&spf).contains("--ip"));
}

/// What `run` leaves behind — the notice, the tracking log, the queue — handed to `check`
/// as an administrator would hand it, against the same story served.
#[test]
fn artifacts_handed_in_are_read_as_run_reads_them() {
    let run = mxlab(&["run", "user-unknown", "--json"]);
    let story: Value = serde_json::from_str(&stdout(&run)).unwrap();
    let dir = std::env::temp_dir().join(format!("mxlab-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ndr = dir.join("ndr.eml");
    let tracking = dir.join("tracking.log");
    let queue = dir.join("queue.txt");
    std::fs::write(&ndr, story["artifacts"]["ndr"][0].as_str().unwrap()).unwrap();
    std::fs::write(
        &tracking,
        story["artifacts"]["tracking_log"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(&queue, story["artifacts"]["queue"].as_str().unwrap()).unwrap();

    let served = serve("user-unknown");
    let (ndr, tracking, queue) = (
        ndr.to_string_lossy().into_owned(),
        tracking.to_string_lossy().into_owned(),
        queue.to_string_lossy().into_owned(),
    );
    let (code, report) = check(
        "user-unknown",
        &served.at,
        &[
            "--dsn",
            &ndr,
            "--tracking-log",
            &tracking,
            "--queue",
            &queue,
        ],
    );
    drop(served);
    let _ = std::fs::remove_dir_all(&dir);
    assert_valid_report(&report, "check with artifacts");
    assert_eq!(code, Some(1));
    assert_eq!(report["verdict"]["rule"], "smtp.rcpt.user-unknown");
    let r = &report["recipients"][0];
    assert_eq!(r["address"], "hanako.sato@partner.test");
    assert_eq!(r["outcome"], "failed");
    assert_eq!(r["reason"], "userunknown");
    assert_eq!(r["cause"]["rule"], "smtp.rcpt.user-unknown");
    assert_eq!(report["artifacts"]["ndr"].as_array().unwrap().len(), 1);
    assert!(report["artifacts"]["tracking_log"].is_string());
    // The probe's own conversation and questions, as the report's transcript and DNS log.
    let transcript = report["artifacts"]["transcript"][0].as_str().unwrap();
    assert!(
        transcript.contains("RCPT TO:<hanako.sato@partner.test> → 550"),
        "{transcript}"
    );
    let dns_log = report["artifacts"]["dns_log"].as_str().unwrap();
    assert!(dns_log.contains("partner.test. MX → NOERROR"), "{dns_log}");
    // The notice's error and the probe's refusal now, side by side.
    let evidence = report["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains("notice") && evidence.contains("probe:"),
        "{evidence}"
    );
}
