//! `mxlab explain` as a user runs it: the seed's notice piped from `run`, files and mboxes,
//! exit codes, and every report valid against docs/report.schema.json.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{assert_valid_report, mxlab, stdout};
use serde_json::Value;

fn notices() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/notices/heldout")
}

fn explain_stdin(input: &[u8], args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .arg("explain")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_seeds_delay_notice_names_the_connection_timeout() {
    let run = mxlab(&["run", "seed-447", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&run)).unwrap();
    let dsn = report["artifacts"]["dsn"][0].as_str().unwrap();
    let out = explain_stdin(dsn.as_bytes(), &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error-severity cause is named"
    );
    let explained: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(explained["verdict"]["rule"], "smtp.connect.timeout");
    assert_eq!(explained["source"], "-");
    let evidence = explained["findings"][0]["evidence"].to_string();
    assert!(evidence.contains("Winsock error code: 10060"), "{evidence}");
    let who = &explained["recipients"][0];
    assert_eq!(who["outcome"], "delayed");
    assert_eq!(who["status"], "4.4.7");
    assert_eq!(who["reason"], "expired");
    assert_eq!(who["arrival_date"], "2024-05-08T20:40:00+01:00");
    assert_valid_report(&explained, "the seed's notice explained");
}

#[test]
fn an_mbox_gives_one_report_per_message_each_with_its_source() {
    let a = std::fs::read(notices().join("postfix/bounce-user-unknown.eml")).unwrap();
    let b = std::fs::read(notices().join("autoreply/exchange-automatic-reply.eml")).unwrap();
    let mut mbox = b"From MAILER-DAEMON Wed May  8 20:40:00 2024\n".to_vec();
    mbox.extend(&a);
    mbox.extend(b"\nFrom bob@example.net Wed May  8 20:41:00 2024\n");
    mbox.extend(&b);
    let out = explain_stdin(&mbox, &["--json"]);
    let reports: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let reports = reports.as_array().expect("an array for two messages");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["source"], "-#1");
    assert_eq!(reports[1]["source"], "-#2");
    assert_eq!(reports[1]["verdict"]["rule"], "notice.auto-reply");
    assert_valid_report(&Value::Array(reports.clone()), "an mbox explained");
}

#[test]
fn exit_codes() {
    let ooo = notices().join("autoreply/exchange-automatic-reply.eml");
    assert_eq!(
        mxlab(&["explain", ooo.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let not_a_notice = explain_stdin(b"Subject: lunch?\n\nSee you at noon.\n", &[]);
    assert_eq!(not_a_notice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_a_notice.stderr).contains("not a delivery notice"));
    let missing = mxlab(&["explain", "/nonexistent/notice.eml"]);
    assert_eq!(missing.status.code(), Some(2));
    let binary = explain_stdin(&[0xff, 0xfe, 0x00, 0x01, 0x80], &[]);
    assert_eq!(binary.status.code(), Some(2));
}

#[test]
fn every_held_out_notice_gives_a_valid_report() {
    let mut files: Vec<PathBuf> = Vec::new();
    for vendor in std::fs::read_dir(notices()).unwrap() {
        let vendor = vendor.unwrap().path();
        if vendor.is_dir() {
            for f in std::fs::read_dir(vendor).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|x| x == "eml") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 80, "{} notices", files.len());
    let args: Vec<&str> = std::iter::once("explain")
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .chain(["--json"])
        .collect();
    let out = mxlab(&args);
    let reports: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(reports.as_array().unwrap().len(), files.len());
    assert_valid_report(&reports, "the held-out notices explained");
}
