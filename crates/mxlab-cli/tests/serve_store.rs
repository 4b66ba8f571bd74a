//! `mxlab serve --store DIR` and `--sink` for real clients: every message that got a `250` is
//! whole in DIR/new even when the server is killed at once afterwards; a sink answers `250`
//! and keeps nothing; flags that cannot work are usage errors.

use std::collections::BTreeMap;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::{sigterm, spawn_serve, swaks};

/// `mxlab serve healthy` on free ports with `extra` flags; returns the child and the SMTP
/// host's `ip:port`.
fn serve(extra: &[&str]) -> (Child, String) {
    let (child, lines) = spawn_serve("healthy", extra);
    let smtp = lines
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("smtp mx1.partner.test ").map(str::to_string))
        .expect("an smtp listener line");
    (child, smtp)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mxlab-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Four clients at once, ten messages each, one session per message, of different shapes:
/// short, a few KiB, lines that start with a dot, 998-octet lines, 8-bit text. Prints, as
/// JSON, each message that got a 250, by number.
const SMTPLIB: &str = r#"
import json, smtplib, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
acknowledged, lock = {}, threading.Lock()

def body(n):
    lines = [f"Subject: message {n}", f"X-Seq: {n}", "", f"body of message {n}"]
    lines += [f"line {j} of message {n}" for j in range((n % 7) * 40)]
    lines += [".a line that starts with a dot", "..and two"] if n % 3 == 0 else []
    lines += ["x" * 998] * (3 if n % 5 == 0 else 0)
    lines += ["caf\u00e9 \u3042"] if n % 4 == 0 else []
    return ("\r\n".join(lines) + "\r\n").encode()

def client(w):
    for i in range(10):
        n = w * 100 + i
        data = body(n)
        with smtplib.SMTP(host, int(port), timeout=20) as s:
            s.sendmail("taro@mycompany.test", ["hanako@partner.test"], data)
        with lock:
            acknowledged[n] = data.decode()

threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(acknowledged))
"#;

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn every_message_answered_250_is_whole_in_the_maildir_even_after_a_kill() {
    let dir = scratch("store");
    let (mut child, smtp) = serve(&["--store", dir.to_str().unwrap()]);
    let out = Command::new("python3")
        .args(["-c", SMTPLIB, &smtp])
        .output()
        .expect("python3");
    // No clean shutdown: what was acknowledged must already be on disk.
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acknowledged: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(acknowledged.len(), 40, "every message was acknowledged");

    // Each file carries the host's trace header (RFC 5321 §4.4) after the envelope; the
    // message itself follows, byte for byte.
    let mut on_disk: Vec<String> = files(&dir.join("new"))
        .iter()
        .map(|p| {
            let text = String::from_utf8(std::fs::read(p).unwrap()).unwrap();
            let (head, rest) = text
                .split_once("Received: from ")
                .expect("a Received header");
            assert!(
                rest.contains("by mx1.partner.test (mxlab) with ESMTP id "),
                "{rest}"
            );
            let after = rest
                .split_once("\r\nX-Envelope-To:")
                .expect("the envelope after it")
                .1;
            format!("{head}X-Envelope-To:{after}")
        })
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = acknowledged
        .values()
        .map(|data| {
            format!(
                "Return-Path: <taro@mycompany.test>\r\nX-Envelope-To: <hanako@partner.test>\r\n{data}"
            )
        })
        .collect();
    expected.sort();
    assert!(
        on_disk == expected,
        "DIR/new holds exactly the acknowledged messages, byte for byte"
    );
    assert!(files(&dir.join("tmp")).is_empty(), "nothing half-written");
    assert!(dir.join("cur").is_dir());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sink_answers_250_and_queue_ids_go_on() {
    let (mut child, smtp) = serve(&["--sink"]);
    for n in 1..=3 {
        let (ok, text) = swaks(&smtp);
        assert!(
            ok && text.contains(&format!("<-  250 2.6.0 Queued as {n:08X}")),
            "{text}"
        );
    }
    assert_eq!(sigterm(&mut child), Some(0));
}

#[test]
fn store_and_sink_together_or_an_unusable_store_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(["serve", "healthy", "--sink", "--store", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A file where the Maildir should be: refused at start, not at the first message.
    let file = scratch("not-a-dir");
    std::fs::write(&file, "a file").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args([
            "serve",
            "healthy",
            "--dns",
            "127.0.0.1:0",
            "--smtp-port",
            "0",
            "--store",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    let _ = std::fs::remove_file(&file);
}
