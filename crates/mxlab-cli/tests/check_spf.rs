//! `mxlab check spf` against a scenario's fake DNS served on real loopback sockets by
//! `mxlab serve`: a fail naming its deciding term, a permerror for two records with the lint
//! saying so, a pass, and usage errors.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{mxlab, scenario_file, stdout};

const WORLD: &str = r#"
mxlab = 1
title = "SPF records for check spf"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "mycompany.test"
records = """
@      300 IN SOA ns1 hostmaster 1 3600 600 86400 300
@      300 IN NS  ns1
@      300 IN TXT "v=spf1 ip4:127.0.0.2 " "include:_spf.mycompany.test -all"
_spf   300 IN TXT "v=spf1 a:relay.mycompany.test ~all"
relay  300 IN A   127.0.0.3
ns1    300 IN A   127.0.0.53
double 300 IN TXT "v=spf1 -all"
double 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
"""

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"
ip = "127.0.0.2"

[[sender.messages]]
from = "taro@mycompany.test"
to = ["hanako@mycompany.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

/// `mxlab serve` for the test's lifetime; killed on drop, even when an assertion fails.
struct Served {
    child: Child,
    dns: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    let path = scenario_file("check-spf", WORLD);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args([
            "serve",
            path.to_str().unwrap(),
            "--dns",
            "127.0.0.1:0",
            "--smtp-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run mxlab serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let dns = first
        .strip_prefix("dns - ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    Served { child, dns }
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).expect("stdout is JSON")
}

#[test]
fn check_spf_against_a_served_world() {
    let served = serve();
    let dns = served.dns.as_str();

    // Fail: the trace names -all at the top, after the include gave softfail.
    let out = mxlab(&[
        "check",
        "spf",
        "--ip",
        "127.0.0.9",
        "--from",
        "taro@mycompany.test",
        "--dns",
        dns,
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("spf      fail  for taro@mycompany.test from 127.0.0.9"),
        "{text}"
    );
    assert!(
        text.contains("decided by  -all in mycompany.test"),
        "{text}"
    );
    assert!(
        text.contains("mycompany.test TXT → NOERROR: \"v=spf1 ip4:127.0.0.2 \" \"include:_spf.mycompany.test -all\""),
        "the two strings of the record, as served: {text}"
    );
    assert!(
        text.contains("include:_spf.mycompany.test  [lookup 1/10]  → no match"),
        "{text}"
    );
    assert!(
        text.contains("relay.mycompany.test A → NOERROR: 127.0.0.3"),
        "{text}"
    );
    assert!(text.contains("-all  → match: fail"), "{text}");

    let out = mxlab(&[
        "check",
        "spf",
        "--ip",
        "127.0.0.9",
        "--from",
        "taro@mycompany.test",
        "--dns",
        dns,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["verdict"]["rule"], "spf.fail");
    assert_eq!(v["findings"][0]["severity"], "error");
    assert_eq!(v["trace"]["result"], "fail");
    assert_eq!(v["trace"]["decided_by"]["term"], "-all");
    assert_eq!(v["trace"]["decided_by"]["domain"], "mycompany.test");
    assert_eq!(v["trace"]["lookups"], 2);
    assert_eq!(v["trace"]["void_lookups"], 0);

    // Two v=spf1 records: permerror, and the lint says why.
    let out = mxlab(&[
        "check",
        "spf",
        "--ip",
        "127.0.0.3",
        "--from",
        "taro@double.mycompany.test",
        "--dns",
        dns,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["verdict"]["rule"], "spf.permerror");
    let multiple = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "spf.record.multiple")
        .unwrap_or_else(|| panic!("no spf.record.multiple in {v:#}"));
    assert_eq!(multiple["severity"], "error");
    assert_eq!(multiple["evidence"].as_array().unwrap().len(), 2);

    // Pass through the include; the HELO identity is checked too when given.
    let out = mxlab(&[
        "check",
        "spf",
        "--ip",
        "127.0.0.3",
        "--from",
        "<taro@mycompany.test>",
        "--helo",
        "relay.mycompany.test",
        "--dns",
        dns,
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("decided by  a:relay.mycompany.test in _spf.mycompany.test (via include:_spf.mycompany.test in mycompany.test)"),
        "{text}"
    );
    assert!(
        text.contains("none  for postmaster@relay.mycompany.test"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![
            "check",
            "spf",
            "--ip",
            "not-an-ip",
            "--from",
            "a@b.test",
            "--dns",
            "127.0.0.1",
        ],
        vec![
            "check",
            "spf",
            "--ip",
            "127.0.0.1",
            "--from",
            "a@b.test",
            "--dns",
            "nowhere",
        ],
        vec![
            "check",
            "spf",
            "--ip",
            "127.0.0.1",
            "--from",
            "<>",
            "--dns",
            "127.0.0.1",
        ],
        vec!["check", "spf", "--from", "a@b.test"],
    ] {
        let out = mxlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
