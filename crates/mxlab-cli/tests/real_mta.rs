//! A real Postfix sending through `mxlab serve`, both in a network namespace of their own
//! (tests/real-mta/postfix.sh): what Postfix logs for each story, and that its notices reach
//! the sender's mailbox. Needs root and network namespaces: outside CI a machine without them
//! skips with the reason; under CI (`CI` set) that is a failure, as .ci/run installs what is
//! needed and CI runs as root.
//!
//! Each test has its own namespace and Postfix instance, so they run side by side; Postfix's
//! timers are shortened (`-o`) so the whole file takes well under a minute.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::output_within;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/real-mta/postfix.sh")
}

/// Why a real Postfix cannot run here, if it cannot.
fn missing() -> Option<String> {
    common::namespaces_missing(&[
        ("postfix", "postfix"),
        ("ip", "iproute2"),
        ("nft", "nftables"),
    ])
}

/// Whether to run; under CI, anything missing fails the test instead. Asked once for all the
/// tests (their probe namespace would collide).
fn can_run(test: &str) -> bool {
    static MISSING: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    match MISSING.get_or_init(missing) {
        None => true,
        Some(why) => {
            assert!(
                !common::under_ci(),
                "CI is set but a real Postfix cannot run: {why} (.ci/run installs postfix, iproute2 and nftables; CI runs as root)"
            );
            eprintln!("skipped {test}: {why}");
            false
        }
    }
}

/// One instance: Postfix and `mxlab serve STORY` in their namespace. Dropped, it is torn down
/// (also when a test fails) and its directory removed.
struct Instance {
    dir: PathBuf,
}

impl Instance {
    fn up(name: &str, story: &str, args: &[&str]) -> Instance {
        let dir =
            std::env::temp_dir().join(format!("mxlab-real-mta-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let instance = Instance { dir };
        let out = instance.run(
            &[
                &["up", story, "--mxlab", env!("CARGO_BIN_EXE_mxlab")],
                // The watchdog's bound: far past any test here.
                &["--lifetime", "300"][..],
                args,
            ]
            .concat(),
            60,
        );
        assert!(out.0, "{name}: postfix.sh up {story} failed:\n{}", out.1);
        instance
    }

    /// postfix.sh DIR ARGS…, killed after `secs`: (success, stdout and stderr).
    fn run(&self, args: &[&str], secs: u64) -> (bool, String) {
        let out = output_within(Command::new(script()).arg(&self.dir).args(args), secs);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn send(&self, to: &str) {
        let (ok, text) = self.run(&["send", to], 20);
        assert!(ok, "send to {to}: {text}");
    }

    /// The lines of Postfix's log matching `regex`, once there is one (within `secs`).
    fn wait(&self, regex: &str, secs: u64) -> String {
        let (ok, text) = self.run(&["wait", regex, &secs.to_string()], secs + 10);
        assert!(ok, "no line of Postfix's log matches /{regex}/:\n{text}");
        text
    }

    /// `user`'s mailbox once a message is in it (within `secs`).
    fn wait_mail(&self, user: &str, secs: u64) -> String {
        let (ok, text) = self.run(&["wait-mail", user, &secs.to_string()], secs + 10);
        assert!(ok, "nothing in {user}'s mailbox:\n{text}");
        text
    }

    fn mail(&self, user: &str) -> String {
        self.run(&["mail", user], 10).1
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let (ok, text) = self.run(&["down"], 30);
        if !ok {
            eprintln!("postfix.sh down: {text}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Notices come quickly: a delay notice after 2 s in the queue, a bounce after 8 s.
const FAST_NOTICES: &[&str] = &[
    "-o",
    "delay_warning_time=2s",
    "-o",
    "maximal_queue_lifetime=8s",
    "-o",
    "bounce_queue_lifetime=8s",
];

#[test]
fn healthy_is_delivered_and_stored() {
    if !can_run("healthy") {
        return;
    }
    let pf = Instance::up("healthy", "healthy", &[]);
    pf.send("hanako@partner.test");
    let sent = pf.wait("status=sent", 30);
    assert!(
        sent.contains("relay=mx1.partner.test[127.0.0.10]:25") && sent.contains("(250 2.6.0"),
        "{sent}"
    );
    let stored = std::fs::read_dir(pf.dir.join("store/new")).unwrap().count();
    assert_eq!(stored, 1, "serve --store keeps the message it answered 250");
}

#[test]
fn greylisting_defers_then_delivers_at_time_scale_120() {
    if !can_run("greylisting") {
        return;
    }
    // 15 story minutes of greylisting pass in 7.5 s.
    let pf = Instance::up("greylisting", "greylisting", &["--time-scale", "120"]);
    pf.send("hanako@partner.test");
    let deferred = pf.wait("status=deferred", 30);
    assert!(
        deferred.contains(
            "said: 451 4.7.1 Greylisted, please try again later (in reply to RCPT TO command)"
        ),
        "{deferred}"
    );
    let sent = pf.wait("status=sent", 60);
    assert!(sent.contains("(250 2.6.0"), "{sent}");
    assert!(
        pf.mail("taro").is_empty(),
        "no notice for mail delivered within delay_warning_time's default"
    );
}

#[test]
fn remote_447_defers_and_the_delay_and_bounce_notices_arrive() {
    if !can_run("remote-447") {
        return;
    }
    let pf = Instance::up("remote-447", "remote-447", FAST_NOTICES);
    pf.send("hanako@partner.test");
    let deferred = pf.wait("status=deferred", 30);
    assert!(
        deferred.contains(
            "host mx1.partner.test[127.0.0.10] said: 451 4.4.7 Message delayed, try again later (in reply to RCPT TO command)"
        ),
        "{deferred}"
    );
    let delay = pf.wait_mail("taro", 30);
    assert!(
        delay.contains("Action: delayed")
            && delay.contains("Status: 4.4.7")
            && delay.contains("Diagnostic-Code: smtp; 451 4.4.7 Message delayed"),
        "{delay}"
    );
    pf.wait("status=expired, returned to sender", 40);
    pf.wait("sender non-delivery notification", 10);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut both = pf.mail("taro");
    while !both.contains("Action: failed") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        both = pf.mail("taro");
    }
    assert!(
        both.contains("Action: failed"),
        "the bounce after the delay notice:\n{both}"
    );
}

#[test]
fn missing_mx_bounces_with_5_4_4() {
    if !can_run("missing-mx") {
        return;
    }
    let pf = Instance::up("missing-mx", "missing-mx", &[]);
    pf.send("sales@supplier.test");
    let bounced = pf.wait("status=bounced", 30);
    assert!(
        bounced.contains("dsn=5.4.4")
            && bounced.contains("Host or domain name not found. Name service error for name=supplier.test type=A: Host found but no data record of requested type"),
        "{bounced}"
    );
    let bounce = pf.wait_mail("taro", 30);
    assert!(
        bounce.contains("Action: failed") && bounce.contains("Status: 5.4.4"),
        "{bounce}"
    );
}

#[test]
fn connection_refused_is_refused() {
    if !can_run("connection-refused") {
        return;
    }
    let pf = Instance::up("connection-refused", "connection-refused", FAST_NOTICES);
    pf.send("hanako@partner.test");
    let refused = pf.wait("Connection refused", 30);
    assert!(
        refused.contains("connect to mx1.partner.test[127.0.0.10]:25: Connection refused"),
        "{refused}"
    );
    let delay = pf.wait_mail("taro", 30);
    assert!(
        delay.contains("Action: delayed") && delay.contains("Connection refused"),
        "{delay}"
    );
    // Any client: Python's own connect meets the refusal too.
    let (ok, text) = pf.run(
        &[
            "exec",
            "python3",
            "-c",
            "import socket\ntry:\n socket.create_connection(('127.0.0.10', 25), 5)\n print('connected')\nexcept OSError as e:\n print(e)",
        ],
        20,
    );
    assert!(ok && text.contains("Connection refused"), "{text}");
}

/// seed-447's MX drops every SYN (`serve --drop-syn`, nftables in the namespace): Postfix's
/// connect times out, and says so, whatever the time scale.
fn seed_447_times_out_connecting(scale: &str) {
    let name = format!("seed-447-x{scale}");
    if !can_run(&name) {
        return;
    }
    let pf = Instance::up(
        &name,
        "seed-447",
        &["--time-scale", scale, "-o", "smtp_connect_timeout=5s"],
    );
    pf.send("hanako@partner.test");
    let timed_out = pf.wait("Connection timed out", 30);
    assert!(
        timed_out.contains("connect to mx1.partner.test[127.0.0.10]:25: Connection timed out"),
        "{timed_out}"
    );
    let log = pf.run(&["log"], 10).1;
    assert!(
        !log.contains("lost connection") && !log.contains("Connection reset"),
        "{log}"
    );
}

#[test]
fn seed_447_times_out_connecting_at_time_scale_1() {
    seed_447_times_out_connecting("1");
}

#[test]
fn seed_447_times_out_connecting_at_time_scale_60() {
    seed_447_times_out_connecting("60");
}

/// Without the packet filter, seed-447's MX holds the connection silent until Postfix gives
/// up: at time scale 60 that is past 300 story seconds (5 real seconds), where serve used to
/// hang up first.
#[test]
fn seed_447_without_drop_syn_is_a_greeting_timeout_not_a_hang_up() {
    if !can_run("seed-447-hold") {
        return;
    }
    let pf = Instance::up(
        "seed-447-hold",
        "seed-447",
        &[
            "--time-scale",
            "60",
            "--no-drop-syn",
            "-o",
            "smtp_helo_timeout=8s",
        ],
    );
    pf.send("hanako@partner.test");
    let timed_out = pf.wait("timed out", 30);
    assert!(
        timed_out.contains(
            "conversation with mx1.partner.test[127.0.0.10] timed out while receiving the initial server greeting"
        ),
        "{timed_out}"
    );
    let log = pf.run(&["log"], 10).1;
    assert!(!log.contains("lost connection"), "{log}");
}
