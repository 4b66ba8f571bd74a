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

/// The listener lines of a served story: (DNS ip:port, first SMTP host's ip:port).
fn listeners(
    lines: &mut std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) -> (String, String) {
    let mut dns = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("dns - ") {
            dns = Some(a.to_string());
        }
        if let Some(rest) = line.strip_prefix("smtp ") {
            let addr = rest.split_whitespace().nth(1).unwrap().to_string();
            return (dns.unwrap(), addr);
        }
    }
    panic!("no listener lines");
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
