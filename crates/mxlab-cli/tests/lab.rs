//! `mxlab lab` as a trainee uses it: a lab started in one process, investigated with `dig`
//! and graded with `lab answer` from others; stopped and resumed; thirty at once.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{out_dir, stderr, stdout, tool};

/// A running `mxlab lab`, stopped with SIGTERM when dropped.
struct Lab {
    child: Child,
    /// Everything it printed up to its last command line.
    opening: Vec<String>,
}

impl Lab {
    fn start(args: &[&str], registry: &Path, within: Duration) -> Lab {
        let mut child = lab_command(args, registry)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mxlab lab");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + within;
        let mut opening = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let last = line.contains("mxlab lab answer");
                    opening.push(line);
                    if last {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().expect("wait");
                    panic!(
                        "the lab {args:?} did not open within {within:?}:\n{}\n{}",
                        opening.join("\n"),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        Lab { child, opening }
    }

    /// Its listener lines, as `serve` prints them.
    fn listeners(&self) -> Vec<&str> {
        self.opening
            .iter()
            .map(String::as_str)
            .filter(|l| l.starts_with("dns ") || l.starts_with("smtp ") || l.starts_with("tls-ca "))
            .collect()
    }

    /// The address of listener `role name`.
    fn addr(&self, role: &str, name: &str) -> String {
        self.listeners()
            .iter()
            .find_map(|l| {
                let mut f = l.split(' ');
                (f.next() == Some(role) && f.next() == Some(name))
                    .then(|| f.next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("no {role} {name} among {:?}", self.listeners()))
    }

    /// The printed command line that starts with `prefix`, without its comment.
    fn command(&self, prefix: &str) -> Vec<String> {
        let line = self
            .opening
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` command in:\n{}", self.opening.join("\n")));
        let command = line.split("  #").next().unwrap().trim();
        command.split_whitespace().map(String::from).collect()
    }

    fn stop(mut self) -> Option<i32> {
        let code = common::sigterm(&mut self.child);
        std::mem::forget(self);
        code
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `mxlab lab ARGS` with its own registry of running labs.
fn lab_command(args: &[&str], registry: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mxlab"));
    c.arg("lab")
        .args(args)
        .env("MXLAB_LAB_RUNTIME_DIR", registry)
        // The lab's language follows the locale: these tests read English.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C");
    c
}

fn lab(args: &[&str], registry: &Path) -> Output {
    lab_command(args, registry).output().expect("run mxlab lab")
}

fn run(argv: &[String]) -> Output {
    Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

fn dirs(name: &str) -> (PathBuf, PathBuf) {
    let base = out_dir(name);
    (base.join("state"), base.join("registry"))
}

#[test]
fn a_trainee_solves_missing_mx_and_resumes_after_a_stop() {
    let Some(_) = tool(&["dig"], "dnsutils") else {
        return;
    };
    let (state, registry) = dirs("lab-missing-mx");
    let s = state.to_str().unwrap();
    let opened = Lab::start(
        &["missing-mx", "--state", s],
        &registry,
        Duration::from_secs(120),
    );
    let text = opened.opening.join("\n");
    // Only what the user and the administrator have: the complaint and the notice.
    assert!(text.contains("The complaint"), "{text}");
    assert!(
        text.contains("Notice 1 of 1 the user received: \"Undeliverable: Request for quotation\""),
        "{text}"
    );
    assert!(
        text.contains("Delivery has failed to these recipients or groups"),
        "{text}"
    );
    assert!(
        !text.contains("dns.mx.missing"),
        "the answer given away:\n{text}"
    );
    assert!(
        !text.contains("has no MX and no A/AAAA"),
        "the title given away:\n{text}"
    );
    let dns = opened.addr("dns", "-");
    assert!(
        dns.starts_with("127.") && !dns.starts_with("127.0."),
        "{dns}"
    );

    // The printed dig command, run as printed, shows the domain without an MX.
    let dig = opened.command("dig @");
    assert_eq!(dig[1], format!("@{}", dns.split(':').next().unwrap()));
    let out = run(&dig);
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(answer.contains("status: NOERROR"), "{answer}");
    assert!(answer.contains("ANSWER: 0"), "{answer}");
    assert!(
        answer.contains("supplier.test.") && answer.contains("SOA"),
        "{answer}"
    );

    // A wrong answer: graded wrong, with why not and a nudge.
    let wrong = lab(&["answer", "--state", s, "smtp.connect.timeout"], &registry);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let w = stdout(&wrong);
    assert!(w.starts_with("Not quite: smtp.connect.timeout"), "{w}");
    assert!(w.contains("Nudge: Ask DNS"), "{w}");

    let hint = lab(&["hint", "--state", s], &registry);
    assert_eq!(hint.status.code(), Some(0));
    assert!(
        stdout(&hint).starts_with("Hint 1 of 3"),
        "{}",
        stdout(&hint)
    );

    // Stop, resume: progress kept.
    assert_eq!(opened.stop(), Some(0));
    let status = stdout(&lab(&["status", "--state", s], &registry));
    assert!(status.contains("running  no"), "{status}");
    let resumed = Lab::start(&["--state", s], &registry, Duration::from_secs(120));
    assert!(
        resumed.opening[0].contains("mxlab lab missing-mx"),
        "{:?}",
        resumed.opening
    );
    let status = stdout(&lab(&["status", "--state", s], &registry));
    assert!(status.contains("running  yes"), "{status}");
    assert!(status.contains("hints    1 of 3 used"), "{status}");
    assert!(status.contains("wrong smtp.connect.timeout"), "{status}");

    // The right answer in plain words.
    let right = lab(
        &[
            "answer", "--state", s, "the", "supplier", "has", "no", "MX", "record",
        ],
        &registry,
    );
    assert_eq!(right.status.code(), Some(0), "{}", stdout(&right));
    let r = stdout(&right);
    assert!(r.contains("(read as dns.mx.missing)"), "{r}");
    assert!(r.contains("Right: dns.mx.missing"), "{r}");
    assert!(r.contains("The evidence:"), "{r}");
    assert!(r.contains("What to do:"), "{r}");
    assert!(
        r.contains("Score: 75 of 100 (1 hint, 1 wrong answer)"),
        "{r}"
    );

    // The rest on request.
    let dsn = stdout(&lab(&["show", "dsn", "--state", s], &registry));
    assert!(dsn.contains("Status: 5.4.4"), "{dsn}");
    let tracking = lab(&["show", "tracking", "--state", s], &registry);
    assert!(
        stdout(&tracking).contains("#Fields:"),
        "{}",
        stdout(&tracking)
    );

    // Listed while it runs, gone once stopped. A resumed lab may have been given another
    // block (another lab took its old one meanwhile): the list shows where it runs now.
    let list = stdout(&lab(&["--list"], &registry));
    assert!(list.contains("missing-mx"), "{list}");
    let now = resumed.addr("dns", "-");
    assert!(list.contains(&format!("dns - {now}")), "{list}");
    assert_eq!(resumed.stop(), Some(0));
    assert_eq!(stdout(&lab(&["--list"], &registry)), "no lab is running\n");

    // Reset: progress gone, the lab kept.
    assert_eq!(
        lab(&["reset", "--state", s], &registry).status.code(),
        Some(0)
    );
    let status = stdout(&lab(&["status", "--state", s], &registry));
    assert!(
        status.contains("hints    0 of 3 used") && status.contains("answers  0"),
        "{status}"
    );
}

#[test]
fn thirty_labs_of_one_story_run_at_once_each_on_its_own_addresses() {
    let Some(_) = tool(&["dig"], "dnsutils") else {
        return;
    };
    const LABS: usize = 30;
    let base = out_dir("lab-thirty");
    let registry = base.join("registry");
    // Started together, opened within a bound (thirty replays on a loaded machine).
    let starting: Vec<_> = (0..LABS)
        .map(|i| {
            let registry = registry.clone();
            let state = base.join(format!("trainee-{i}"));
            std::thread::spawn(move || {
                Lab::start(
                    &["blocklisted", "--state", state.to_str().unwrap()],
                    &registry,
                    Duration::from_secs(300),
                )
            })
        })
        .collect();
    let labs: Vec<Lab> = starting.into_iter().map(|t| t.join().unwrap()).collect();
    let mut blocks = std::collections::BTreeSet::new();
    for lab in &labs {
        let dns = lab.addr("dns", "-");
        let mx = lab.addr("smtp", "mx1.partner.test");
        let ip = dns.split(':').next().unwrap();
        let block: u8 = ip.split('.').nth(1).unwrap().parse().unwrap();
        assert!(blocks.insert(block), "block {block} twice");
        // The zone's A record names this lab's MX address; the SPF record, the PTR owner
        // and the blocklist entry name this lab's sending IP.
        let dig = |args: &[&str]| {
            let mut argv: Vec<String> = vec![
                "dig".into(),
                format!("@{ip}"),
                "-p".into(),
                "5353".into(),
                "+short".into(),
            ];
            argv.extend(args.iter().map(|a| a.to_string()));
            String::from_utf8_lossy(&run(&argv).stdout)
                .trim()
                .to_string()
        };
        assert_eq!(dig(&["mx1.partner.test", "A"]), format!("127.{block}.0.10"));
        assert_eq!(mx, format!("127.{block}.0.10:2525"));
        assert_eq!(
            dig(&["mycompany.test", "TXT"]),
            format!("\"v=spf1 ip4:127.{block}.0.2 -all\"")
        );
        assert_eq!(
            dig(&["-x", &format!("127.{block}.0.2")]),
            "srv01.mycompany.test."
        );
        assert_eq!(
            dig(&[&format!("2.0.{block}.127.zen.spamhaus.test"), "A"]),
            format!("127.{block}.0.4")
        );
        // Its MX answers on its own address.
        let mut smtp = std::net::TcpStream::connect(&mx).expect("connect to the lab's MX");
        smtp.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut banner = String::new();
        std::io::BufReader::new(&mut smtp)
            .read_line(&mut banner)
            .unwrap();
        assert!(banner.starts_with("220 mx1.partner.test"), "{banner}");
    }
    assert_eq!(blocks.len(), LABS);
    let list = stdout(&lab(&["--list"], &registry));
    assert_eq!(
        list.lines().filter(|l| l.starts_with("block ")).count(),
        LABS,
        "{list}"
    );
    for lab in labs {
        assert_eq!(lab.stop(), Some(0));
    }
}

#[test]
fn a_malformed_lab_table_is_refused_at_its_position() {
    let (state, registry) = dirs("lab-malformed");
    let text = common::catalog_text("missing-mx").replace("hints = [", "hint = [");
    let path = common::scenario_file("lab-typo", &text);
    let line = text
        .lines()
        .position(|l| l.starts_with("hint = ["))
        .unwrap()
        + 1;
    let out = lab(
        &[path.to_str().unwrap(), "--state", state.to_str().unwrap()],
        &registry,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("lab-typo.toml:{line}:1")), "{err}");
    assert!(err.contains("unknown field `hint`"), "{err}");

    let text = common::catalog_text("missing-mx").replace("[lab.en]", "[lab.fr]");
    let path = common::scenario_file("lab-lang", &text);
    let out = lab(
        &[path.to_str().unwrap(), "--state", state.to_str().unwrap()],
        &registry,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lab-lang.toml:"), "{}", stderr(&out));
}

#[test]
fn commands_without_a_lab_say_how_to_start_one() {
    let (state, registry) = dirs("lab-none");
    let out = lab(&["hint", "--state", state.to_str().unwrap()], &registry);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("mxlab lab <SCENARIO>"),
        "{}",
        stderr(&out)
    );
}

/// A state directory holding seed-447 in block 201, as a started lab leaves it.
fn seed_state(name: &str) -> (PathBuf, PathBuf) {
    let (state, registry) = dirs(name);
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("lab.json"),
        r#"{"scenario":"seed-447","block":201,"hints_used":0,"attempts":[],"notices":0}"#,
    )
    .unwrap();
    (state, registry)
}

#[test]
fn hints_come_one_at_a_time_and_answers_are_graded_whole() {
    let (state, registry) = seed_state("lab-seed-grading");
    let s = state.to_str().unwrap();
    let mut hints = String::new();
    for _ in 0..4 {
        let out = lab(&["hint", "--state", s], &registry);
        assert_eq!(out.status.code(), Some(0));
        hints.push_str(&stdout(&out));
        hints.push_str("----\n");
    }
    insta::assert_snapshot!("lab_seed_447_hints", hints);

    let symptom = lab(
        &["answer", "--state", s, "400 4.4.7 message delayed"],
        &registry,
    );
    assert_eq!(symptom.status.code(), Some(1));
    insta::assert_snapshot!("lab_seed_447_answer_symptom", stdout(&symptom));

    let right = lab(&["answer", "--state", s, "smtp.connect.timeout"], &registry);
    assert_eq!(right.status.code(), Some(0));
    insta::assert_snapshot!("lab_seed_447_answer_right", stdout(&right));
}

#[test]
fn shadow_redundancy_is_answered_with_the_seed_remedy() {
    let (state, registry) = dirs("lab-shadow");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("lab.json"),
        r#"{"scenario":"shadow-redundancy","block":202,"hints_used":0,"attempts":[],"notices":0}"#,
    )
    .unwrap();
    let s = state.to_str().unwrap();
    let right = lab(
        &[
            "answer",
            "--state",
            s,
            "HAREDIRECTFAIL: shadow redundancy on a standalone server",
        ],
        &registry,
    );
    assert_eq!(right.status.code(), Some(0), "{}", stdout(&right));
    let r = stdout(&right);
    assert!(
        r.contains("Set-TransportConfig -ShadowRedundancyEnabled $false"),
        "{r}"
    );
    assert!(r.contains("MSExchangeTransport"), "{r}");
}

#[test]
fn every_ready_made_lab_has_a_briefing_three_hints_and_a_debrief_in_english_and_japanese() {
    for name in [
        "missing-mx",
        "nxdomain",
        "seed-447",
        "dns-servfail",
        "local-dns-failure",
        "spf-fail",
        "greylisting",
        "tls-failure",
        "local-backlog",
        "shadow-redundancy",
    ] {
        let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
        let lab = scenario
            .file
            .lab
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no [lab]"));
        let ja = lab
            .ja
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no [lab.ja]"));
        for texts in [lab.en.get_ref(), ja.get_ref()] {
            assert!(!texts.briefing.get_ref().trim().is_empty(), "{name}");
            assert_eq!(texts.hints.len(), 3, "{name}");
            assert!(texts.debrief.is_some(), "{name}");
            // The verdict's id is not in the briefing.
            let verdict = scenario.file.expect.verdict.as_str();
            assert!(!texts.briefing.get_ref().contains(verdict), "{name}");
        }
    }
}

#[test]
fn a_japanese_trainee_is_graded_in_japanese() {
    let (state, registry) = seed_state("lab-seed-ja");
    let s = state.to_str().unwrap();
    let hint = lab(&["hint", "--state", s, "--lang", "ja"], &registry);
    let h = stdout(&hint);
    assert!(
        h.starts_with("ヒント 1/3 (−15 点): 「400 4.4.7 Message delayed」は"),
        "{h}"
    );
    // The locale chooses when --lang does not.
    let right = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(["lab", "answer", "--state", s, "smtp.connect.timeout"])
        .env("MXLAB_LAB_RUNTIME_DIR", &registry)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "ja_JP.UTF-8")
        .output()
        .unwrap();
    assert_eq!(right.status.code(), Some(0));
    let r = stdout(&right);
    assert!(r.starts_with("正解: smtp.connect.timeout — "), "{r}");
    assert!(r.contains("根拠:") && r.contains("対処:"), "{r}");
    assert!(r.contains("キュー ビューアー"), "the Japanese debrief: {r}");
    assert!(r.contains("得点: 85/100 (ヒント 1 回、不正解 0 回)"), "{r}");
}

#[test]
fn the_seed_lab_opens_with_the_complaint_the_notice_and_the_commands() {
    let (state, registry) = dirs("lab-seed-opening");
    let s = state.to_str().unwrap();
    // A block of its own, so the addresses in the snapshot are fixed.
    let lab = Lab::start(
        &["seed-447", "--state", s, "--block", "203"],
        &registry,
        Duration::from_secs(120),
    );
    let opening = lab.opening.join("\n").replace(s, "<state>");
    insta::assert_snapshot!("lab_seed_447_opening", opening);
    assert_eq!(lab.stop(), Some(0));
}
