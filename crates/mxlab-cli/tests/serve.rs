//! `mxlab serve` for real clients: listener lines, dig and swaks against them, clean exit on
//! SIGTERM.

mod common;

use std::process::Command;

use common::{sigterm, spawn_serve, swaks};

#[test]
fn serve_prints_its_listeners_answers_real_clients_and_stops_on_sigterm() {
    let (mut child, mut lines) = spawn_serve("healthy", &[]);
    let dns_line = lines.next().unwrap().unwrap();
    let smtp_line = lines.next().unwrap().unwrap();
    let dns = dns_line
        .strip_prefix("dns - ")
        .unwrap_or_else(|| panic!("{dns_line}"))
        .to_string();
    let smtp = smtp_line
        .strip_prefix("smtp mx1.partner.test ")
        .unwrap_or_else(|| panic!("{smtp_line}"))
        .to_string();
    let (dns_ip, dns_port) = dns.rsplit_once(':').unwrap();
    assert!(smtp.starts_with("127.0.0.10:"), "{smtp}");

    let dig = Command::new("dig")
        .args([
            &format!("@{dns_ip}"),
            "-p",
            dns_port,
            "+time=2",
            "partner.test",
            "MX",
        ])
        .output()
        .expect("dig");
    let dig = String::from_utf8_lossy(&dig.stdout);
    assert!(
        dig.contains("status: NOERROR") && dig.contains("mx1.partner.test."),
        "{dig}"
    );

    let (ok, swaks_out) = swaks(&smtp);
    assert!(
        ok && swaks_out.contains("<-  250 2.6.0 Queued as"),
        "{swaks_out}"
    );

    assert_eq!(sigterm(&mut child), Some(0), "clean shutdown on SIGTERM");
}

#[test]
fn serve_refuses_addresses_off_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(["serve", "healthy", "--dns", "192.0.2.1:53"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback addresses only"));
}

/// The scenario CA's file: private (0600, in a 0700 directory of its own), and gone once
/// `serve` has stopped on SIGTERM.
#[test]
fn the_ca_file_is_private_and_gone_after_sigterm() {
    use std::os::unix::fs::PermissionsExt;

    let (mut child, lines) = spawn_serve("starttls", &[]);
    let ca = lines
        .map_while(Result::ok)
        .take(20)
        .find_map(|l| l.strip_prefix("tls-ca - ").map(std::path::PathBuf::from))
        .expect("a tls-ca listener line");
    let file_mode = std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777;
    let dir = ca.parent().unwrap().to_path_buf();
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(file_mode, 0o600, "{}", ca.display());
    assert_eq!(dir_mode, 0o700, "{}", dir.display());

    assert_eq!(sigterm(&mut child), Some(0));
    assert!(!ca.exists(), "{} left behind", ca.display());
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// The listener lines of a served `healthy`: (DNS ip:port, its MX's ip:port).
fn listeners(
    lines: &mut std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) -> (String, String) {
    let dns = lines.next().unwrap().unwrap();
    let dns = dns
        .strip_prefix("dns - ")
        .unwrap_or_else(|| panic!("{dns}"));
    let (ip, port) = smtp_addr(lines, "mx1.partner.test");
    (dns.to_string(), format!("{ip}:{port}"))
}

#[test]
fn serve_logs_each_smtp_exchange_and_dns_query_as_json_lines_and_writes_transcripts() {
    let dir = common::out_dir("serve-log-transcripts");
    let dir_arg = dir.to_string_lossy().to_string();
    let (mut child, mut lines) =
        spawn_serve("healthy", &["--log", "json", "--transcripts", &dir_arg]);
    let (dns, smtp) = listeners(&mut lines);
    let (dns_ip, dns_port) = dns.rsplit_once(':').unwrap();
    let dig = Command::new("dig")
        .args([
            &format!("@{dns_ip}"),
            "-p",
            dns_port,
            "+time=2",
            "partner.test",
            "MX",
        ])
        .output()
        .expect("dig");
    assert!(dig.status.success());
    let (ok, out) = swaks(&smtp);
    assert!(ok, "{out}");
    // The transcript is written as the session ends, just after swaks has its 221.
    for _ in 0..50 {
        if std::fs::read_dir(&dir).unwrap().next().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(sigterm(&mut child), Some(0));

    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let rcpt = events
        .iter()
        .find(|e| e["target"] == "mxlab::smtp" && e["stage"] == "rcpt")
        .unwrap_or_else(|| panic!("no RCPT exchange logged:\n{stderr}"));
    assert_eq!(rcpt["command"], "RCPT TO:<hanako@partner.test>");
    assert_eq!(rcpt["reply"], "250 2.1.5 Recipient OK");
    assert_eq!(rcpt["host"], "mx1.partner.test");
    assert!(rcpt["client"].as_str().unwrap().starts_with("127."));
    let query = events
        .iter()
        .find(|e| e["target"] == "mxlab::dns" && e["qtype"] == "MX")
        .unwrap_or_else(|| panic!("no MX query logged:\n{stderr}"));
    assert_eq!(
        query["name"].as_str().unwrap().trim_end_matches('.'),
        "partner.test"
    );
    assert_eq!(query["outcome"], "NOERROR");

    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let transcript = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        transcript.contains(" C RCPT TO:<hanako@partner.test>\n"),
        "{transcript}"
    );
    assert!(transcript.trim_end().ends_with("* closed"), "{transcript}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_quiet_logs_no_exchange_and_refuses_a_time_scale_out_of_range() {
    let (mut child, mut lines) = spawn_serve("healthy", &["--quiet"]);
    let (_, smtp) = listeners(&mut lines);
    let (ok, out) = swaks(&smtp);
    assert!(ok, "{out}");
    assert_eq!(sigterm(&mut child), Some(0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("mxlab::smtp"), "{stderr}");

    for scale in ["1e300", "0.0001", "20000", "NaN"] {
        let out = common::mxlab(&["serve", "healthy", "--time-scale", scale]);
        assert_eq!(out.status.code(), Some(2), "--time-scale {scale}");
        assert!(common::stderr(&out).contains("--time-scale"), "{scale}");
    }
}

/// The address of `host` from serve's listener lines (read up to it).
fn smtp_addr(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    host: &str,
) -> (String, u16) {
    let prefix = format!("smtp {host} ");
    let line = lines
        .map(|l| l.unwrap())
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no listener line for {host}"));
    let (ip, port) = line[prefix.len()..].rsplit_once(':').unwrap();
    (ip.to_string(), port.parse().unwrap())
}

/// Python's socket module, a client that is not ours, against `ip:port`: what it prints.
fn python(script: &str, ip: &str, port: u16) -> Option<String> {
    let python = common::tool(&["python3"], "python3")?;
    let out = common::output_within(
        Command::new(python).args(["-c", script, ip, &port.to_string()]),
        30,
    );
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Connects twice; each time prints what the first read gave, or the error.
const CONNECT_AND_READ: &str = r#"
import socket, sys
for attempt in (1, 2):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)
        s.settimeout(5)
        data = s.recv(100)
        print(attempt, "read", data[:3].decode() if data else "EOF")
        s.close()
    except OSError as e:
        print(attempt, type(e).__name__, e.strerror)
"#;

#[test]
fn a_host_that_refuses_every_connection_has_no_listener() {
    let (mut child, mut lines) = spawn_serve("connection-refused", &[]);
    let (ip, port) = smtp_addr(&mut lines, "mx1.partner.test");
    assert_eq!(ip, "127.0.0.10");
    if let Some(out) = python(CONNECT_AND_READ, &ip, port) {
        assert!(
            out.contains("1 ConnectionRefusedError Connection refused")
                && out.contains("2 ConnectionRefusedError Connection refused"),
            "{out}"
        );
    }
    assert_eq!(sigterm(&mut child), Some(0));
}

/// A refusal that depends on the attempt needs a listener to count attempts: the kernel has
/// completed the handshake, so the refused attempt is reset before the greeting
/// (docs/serving.md).
#[test]
fn a_refusal_from_the_second_attempt_on_is_a_reset_before_the_greeting() {
    let story = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/variants/connection-refused--delivered-before-outage.toml"
    );
    let (mut child, mut lines) = spawn_serve(story, &[]);
    let (ip, port) = smtp_addr(&mut lines, "mx1.partner.test");
    if let Some(out) = python(CONNECT_AND_READ, &ip, port) {
        assert!(
            out.contains("1 read 220")
                && out.contains("2 ConnectionResetError Connection reset by peer"),
            "{out}"
        );
    }
    assert_eq!(sigterm(&mut child), Some(0));
}

/// Without `--drop-syn` (which needs root and a namespace: tests/real_mta.rs), a host that
/// drops every connection holds it silent until the client gives up. At time scale 60 the old
/// 300 story seconds are 5 real seconds: the client still hears nothing, and no hang-up, at 7.
#[test]
fn a_dropping_host_holds_the_connection_silent_until_the_client_gives_up() {
    let (mut child, mut lines) = spawn_serve("seed-447", &["--time-scale", "60"]);
    let (ip, port) = smtp_addr(&mut lines, "mx1.partner.test");
    let script = r#"
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)
s.settimeout(7)
start = time.monotonic()
try:
    data = s.recv(100)
    print("read", data or "EOF", round(time.monotonic() - start))
except socket.timeout:
    print("silent for 7 s")
"#;
    if let Some(out) = python(script, &ip, port) {
        assert_eq!(out.trim(), "silent for 7 s");
    }
    assert_eq!(sigterm(&mut child), Some(0));
}
