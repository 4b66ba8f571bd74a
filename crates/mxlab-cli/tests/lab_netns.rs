//! docs/labs.md's network-namespace recipes, run as written: a lab at the story's own
//! addresses with DNS on :53 and SMTP on :25, so `dig` and `nslookup` need no server or port;
//! then a private Postfix (tests/real-mta/postfix.sh --lab) sending into a lab, and the
//! trainee reading its bounce. Needs root and network namespaces: outside CI a machine
//! without them skips with the reason; under CI (`CI` set) that is a failure.
//!
//! Only two things are changed from the page: `mxlab` is this build's binary (first on PATH),
//! and the namespace and directory names get this test's process id, so that runs side by
//! side do not meet.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::output_within;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn can_run(test: &str, tools: &[(&str, &str)]) -> bool {
    match common::namespaces_missing(tools) {
        None => true,
        Some(why) => {
            assert!(
                !common::under_ci(),
                "CI is set but {test} cannot run: {why} (.ci/run installs iproute2, dnsutils and postfix; CI runs as root)"
            );
            eprintln!("skipped {test}: {why}");
            false
        }
    }
}

/// The `sh` block of docs/labs.md that follows its `n`th "tested" marker.
fn recipe(n: usize) -> String {
    let page = std::fs::read_to_string(repo().join("docs/labs.md")).expect("docs/labs.md");
    let marker = "<!-- tested: crates/mxlab-cli/tests/lab_netns.rs runs this block as written -->";
    let after = page.split(marker).nth(n + 1).expect("the marker");
    let block = after.split("```sh\n").nth(1).expect("an sh block");
    block.split("```").next().unwrap().to_string()
}

/// Runs a recipe with bash from the repository's root, this build's `mxlab` first on PATH;
/// its stdout and stderr together.
fn run(script: &str, registry: &Path, secs: u64) -> (bool, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mxlab"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = output_within(
        Command::new("bash")
            .args(["-c", script])
            .current_dir(repo())
            .env("PATH", path)
            .env("MXLAB", &bin)
            .env("MXLAB_LAB_RUNTIME_DIR", registry)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C"),
        secs,
    );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_lab_in_a_network_namespace_needs_no_port_flags() {
    if !can_run(
        "the namespace recipe",
        &[("ip", "iproute2"), ("dig", "dnsutils")],
    ) {
        return;
    }
    let name = format!("mxlab-lab-{}", std::process::id());
    let registry = common::out_dir("lab-netns-registry");
    let script = recipe(0).replace("lab1", &name);
    let _ = std::fs::remove_dir_all(format!("/tmp/{name}"));
    let (_, out) = run(&script, &registry, 120);
    // Whatever happened, nothing of it stays behind.
    let _ = Command::new("ip").args(["netns", "del", &name]).output();
    let _ = std::fs::remove_dir_all(format!("/etc/netns/{name}"));
    let _ = std::fs::remove_dir_all(format!("/tmp/{name}"));
    // The lab's own lines, at the story's addresses on the standard ports.
    assert!(out.contains("dns - 127.0.0.53:53"), "{out}");
    assert!(out.contains("dig @127.0.0.53 supplier.test MX"), "{out}");
    // dig without @server or -p reached the lab: the zone's SOA, no MX.
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("ANSWER: 0, AUTHORITY: 1"), "{out}");
    assert!(out.contains("SERVER: 127.0.0.53#53"), "{out}");
    // nslookup likewise.
    assert!(
        out.contains("*** Can't find supplier.test: No answer"),
        "{out}"
    );
    assert!(out.contains("Right: dns.mx.missing"), "{out}");
    assert!(out.contains("lab stopped; progress kept"), "{out}");
}

#[test]
fn a_private_postfix_delivers_into_a_lab_and_the_trainee_reads_its_bounce() {
    if !can_run(
        "the Postfix recipe",
        &[
            ("ip", "iproute2"),
            ("dig", "dnsutils"),
            ("postfix", "postfix"),
        ],
    ) {
        return;
    }
    let dir = common::out_dir("lab-netns-postfix");
    let instance = dir.join("trainee");
    let registry = dir.join("registry");
    let script = recipe(1).replace("/tmp/trainee1", instance.to_str().unwrap());
    let (_, out) = run(&script, &registry, 180);
    // `down` is idempotent: a failed run is torn down too.
    let _ = output_within(
        Command::new(repo().join("tests/real-mta/postfix.sh"))
            .arg(&instance)
            .arg("down"),
        30,
    );
    assert!(out.contains("dns - 127.0.0.53:53"), "{out}");
    assert!(out.contains("SERVER: 127.0.0.53#53"), "{out}");
    assert!(out.contains("ANSWER: 0, AUTHORITY: 1"), "{out}");
    assert!(
        out.contains("*** Can't find supplier.test: No answer"),
        "{out}"
    );
    // Postfix's own bounce, read by explain.
    assert!(
        out.contains("Final-Recipient: rfc822; sales@supplier.test"),
        "{out}"
    );
    assert!(out.contains("Status: 5.4.4"), "{out}");
    assert!(out.contains("verdict  dns.mx.missing"), "{out}");
    assert!(out.contains("Right: dns.mx.missing"), "{out}");
}
