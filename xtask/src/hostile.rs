//! `cargo xtask hostile`: `mxlab serve` under the attacks a hostile tester tried, each
//! against a fresh server, each bounded in count and time, all on loopback. Attackers come
//! from their own addresses (127.66.0.x); the fresh client that must still be served comes
//! from 127.0.0.1. What is checked here, and nowhere else: a fresh client is served within
//! 5 s under each attack, the server's peak RSS stays under 256 MB, and SIGKILL under load
//! loses no acknowledged message. Figures go in docs/reliability.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::procfs::{peak_rss, usage};

/// A fresh client is served within this.
const SERVED_WITHIN: Duration = Duration::from_secs(5);
/// Peak resident memory of the server, at most.
const RSS_LIMIT_KIB: u64 = 256 * 1024;

const SCENARIO: &str = r#"mxlab = 1
title = "hostile: one MX with STARTTLS, for attacks"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "hostile.test"
records = """
@    3600 IN SOA ns1 hostmaster 1 3600 600 604800 300
@    3600 IN NS  ns1
@    3600 IN MX  10 mx1
ns1  3600 IN A   127.0.0.53
mx1  3600 IN A   127.0.0.10
"""

[[smtp.hosts]]
name = "mx1.hostile.test"

[smtp.hosts.tls]
certificate = "valid"

[sender]
hostname = "srv01"
domain = "mycompany.test"

[[sender.messages]]
from = "taro@mycompany.test"
to = ["hanako@hostile.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

struct Served {
    child: Child,
    smtp: SocketAddr,
    dns: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(
    bin: &std::path::Path,
    scenario: &std::path::Path,
    extra: &[&str],
    nofile: Option<u64>,
) -> Result<Served, String> {
    let mut cmd = match nofile {
        // A low descriptor limit the server cannot raise: prlimit sets soft and hard.
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg("serve")
        .arg(scenario)
        .args(["--dns", "127.0.0.1:0", "--smtp-port", "0", "--quiet"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("mxlab serve: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut smtp = None;
    let mut dns = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("dns - ") {
            dns = a.parse().ok();
        }
        if let Some(a) = line.strip_prefix("smtp mx1.hostile.test ") {
            smtp = a.parse().ok();
            break;
        }
    }
    match (smtp, dns) {
        (Some(smtp), Some(dns)) => Ok(Served { child, smtp, dns }),
        _ => {
            let _ = child.kill();
            Err("mxlab serve printed no listener lines".into())
        }
    }
}

/// A connection from `from` (an attacker's own loopback address).
fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(IpAddr::V4(from), 0).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(5))?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

fn attacker(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 66, 0, 1 + (n % 8) as u8)
}

/// Reads one whole reply (up to its last line); its code.
fn reply(reader: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| std::io::ErrorKind::InvalidData.into());
        }
    }
}

/// A fresh client from 127.0.0.1: banner, EHLO, MAIL, RCPT, QUIT; how long it took.
fn fresh_client(smtp: SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    let stream = connect_from(Ipv4Addr::LOCALHOST, smtp).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(SERVED_WITHIN)).ok();
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    let expect = |reader: &mut BufReader<TcpStream>, want: u16, what: &str| match reply(reader) {
        Ok(code) if code == want => Ok(()),
        Ok(code) => Err(format!("{what}: {code}")),
        Err(e) => Err(format!("{what}: {e}")),
    };
    expect(&mut reader, 220, "banner")?;
    for (command, want) in [
        ("EHLO fresh.test\r\n", 250),
        ("MAIL FROM:<taro@mycompany.test>\r\n", 250),
        ("RCPT TO:<hanako@hostile.test>\r\n", 250),
        ("QUIT\r\n", 221),
    ] {
        writer
            .write_all(command.as_bytes())
            .map_err(|e| e.to_string())?;
        expect(&mut reader, want, command.trim_end())?;
    }
    let took = started.elapsed();
    if took > SERVED_WITHIN {
        return Err(format!("served in {took:?}, over {SERVED_WITHIN:?}"));
    }
    Ok(took)
}

/// Whether the server's DNS over UDP answers an MX question within two seconds.
fn dns_answers(dns: SocketAddr) -> bool {
    let Ok(socket) = std::net::UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
    // Any answer will do: the question need not be one the story knows.
    let query = crate::hostile_dns::query(0x4d58, None);
    let mut answer = [0u8; 512];
    socket.send_to(&query, dns).is_ok()
        && matches!(socket.recv_from(&mut answer), Ok((n, _)) if n >= 12 && answer[..2] == query[..2] && answer[2] & 0x80 != 0)
}

/// One attack's outcome, as docs/reliability.md records it.
struct Outcome {
    name: &'static str,
    fresh: Result<Duration, String>,
    peak_kib: u64,
    note: String,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.fresh.is_ok() && self.peak_kib < RSS_LIMIT_KIB && !self.note.starts_with("FAIL")
    }
}

/// 1,024 connections that say EHLO and STARTTLS, then nothing, from four addresses: each
/// address gets its 128 sessions (which the TLS handshake's timeout ends), the rest are
/// told 421 at once, and the host keeps room for everyone else. (Attackers with more
/// addresses than the host's limit divided by the per-client limit fill the host until
/// their handshakes time out: the limits are `--max-sessions` and `--max-sessions-per-client`.)
fn starttls_lockout(served: &Served) -> String {
    let mut held = Vec::new();
    let mut turned_away = 0;
    for n in 0..1024 {
        let from = Ipv4Addr::new(127, 66, 0, 1 + (n % 4) as u8);
        let Ok(mut s) = connect_from(from, served.smtp) else {
            turned_away += 1;
            continue;
        };
        let _ = s.write_all(b"EHLO evil.test\r\nSTARTTLS\r\n");
        held.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    // Those told 421 are closed by the server; count them.
    let mut told_421 = 0;
    for s in &held {
        let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
        let mut first = [0u8; 3];
        if (&*s).read_exact(&mut first).is_ok() && &first == b"421" {
            told_421 += 1;
        }
    }
    let note = format!(
        "{} connected ({told_421} told 421 at once), {turned_away} refused at connect",
        held.len()
    );
    // Kept open while the fresh client is tried (the caller does that next).
    std::mem::forget(held);
    note
}

/// 1,200 sessions of pipelined NOOPs, 256 KiB each, 40 at a time.
fn pipelined_noops(served: &Served) -> String {
    let noops = b"NOOP\r\n".repeat(256 * 1024 / 6);
    let mut done = 0;
    for batch in 0..30 {
        let handles: Vec<_> = (0..40)
            .map(|k| {
                let to = served.smtp;
                let noops = noops.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    let mut s = connect_from(attacker(batch * 40 + k), to)?;
                    s.write_all(b"EHLO evil.test\r\n")?;
                    s.write_all(&noops)?;
                    s.write_all(b"QUIT\r\n")?;
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                    Ok(())
                })
            })
            .collect();
        done += handles
            .into_iter()
            .filter_map(|h| h.join().ok()?.ok())
            .count();
    }
    format!("{done} of 1200 sessions completed")
}

/// 32 parallel bodies of 35 MiB, each ended with the final dot.
fn parallel_bodies(served: &Served) -> String {
    let chunk = {
        let mut line = vec![b'x'; 998];
        line.extend_from_slice(b"\r\n");
        line.repeat(1024)
    };
    let handles: Vec<_> = (0..32)
        .map(|k| {
            let to = served.smtp;
            let chunk = chunk.clone();
            std::thread::spawn(move || -> std::io::Result<u16> {
                let s = connect_from(attacker(k), to)?;
                s.set_read_timeout(Some(Duration::from_secs(60)))?;
                let mut reader = BufReader::new(s.try_clone()?);
                let mut w = s;
                reply(&mut reader)?;
                w.write_all(b"EHLO evil.test\r\nMAIL FROM:<a@evil.test>\r\nRCPT TO:<b@hostile.test>\r\nDATA\r\n")?;
                for _ in 0..4 {
                    reply(&mut reader)?;
                }
                for _ in 0..35 {
                    w.write_all(&chunk)?;
                }
                w.write_all(b".\r\nQUIT\r\n")?;
                reply(&mut reader)
            })
        })
        .collect();
    let codes: Vec<String> = handles
        .into_iter()
        .map(|h| match h.join() {
            Ok(Ok(code)) => code.to_string(),
            _ => "error".into(),
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for c in codes {
        *counts.entry(c).or_insert(0) += 1;
    }
    format!("end-of-data replies: {counts:?}")
}

/// 2,000 recipients in one transaction: the 101st and later get 452.
fn many_recipients(served: &Served) -> String {
    let run = || -> std::io::Result<(usize, usize)> {
        let s = connect_from(attacker(0), served.smtp)?;
        let mut reader = BufReader::new(s.try_clone()?);
        let mut w = s;
        reply(&mut reader)?;
        let mut batch = b"EHLO evil.test\r\nMAIL FROM:<a@evil.test>\r\n".to_vec();
        for n in 0..2000 {
            batch.extend_from_slice(format!("RCPT TO:<r{n}@hostile.test>\r\n").as_bytes());
        }
        batch.extend_from_slice(b"QUIT\r\n");
        w.write_all(&batch)?;
        reply(&mut reader)?;
        reply(&mut reader)?;
        let (mut ok, mut busy) = (0, 0);
        for _ in 0..2000 {
            match reply(&mut reader)? {
                250 => ok += 1,
                452 => busy += 1,
                _ => {}
            }
        }
        Ok((ok, busy))
    };
    match run() {
        Ok((100, 1900)) => "100 accepted, 1900 told 452 4.5.3".into(),
        Ok((ok, busy)) => format!("FAIL: {ok} accepted, {busy} told 452"),
        Err(e) => format!("FAIL: {e}"),
    }
}

/// 300 connections against a server allowed 256 descriptors: accept fails with EMFILE; the
/// server must back off, not spin. CPU over 3 s of saturation is the measure.
fn descriptor_exhaustion(served: &Served) -> String {
    let mut held = Vec::new();
    for n in 0..300 {
        if let Ok(s) = connect_from(attacker(n), served.smtp) {
            held.push(s);
        }
    }
    let (cpu0, _) = usage(served.child.id());
    std::thread::sleep(Duration::from_secs(3));
    let (cpu1, _) = usage(served.child.id());
    let cpu = cpu1 - cpu0;
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let verdict = if cpu < 0.5 { "" } else { "FAIL: spinning; " };
    format!(
        "{verdict}{:.2} s of CPU over 3 s with descriptors exhausted",
        cpu
    )
}

/// Messages sent to a server storing to a Maildir, SIGKILL in the middle: every message
/// acknowledged with 250 must be in the Maildir.
fn sigkill_durability(
    bin: &std::path::Path,
    scenario: &std::path::Path,
    dir: &std::path::Path,
) -> Outcome {
    let store = dir.join("maildir");
    let _ = std::fs::remove_dir_all(&store);
    let store_arg = store.to_string_lossy().to_string();
    let mut served = match serve(bin, scenario, &["--store", &store_arg], None) {
        Ok(s) => s,
        Err(e) => {
            return Outcome {
                name: "SIGKILL under load",
                fresh: Err(e),
                peak_kib: 0,
                note: String::new(),
            };
        }
    };
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|k| {
            let to = served.smtp;
            let acked = acked.clone();
            std::thread::spawn(move || {
                let Ok(s) = connect_from(attacker(k), to) else { return };
                let Ok(r) = s.try_clone() else { return };
                let mut reader = BufReader::new(r);
                let mut w = s;
                if reply(&mut reader).is_err() || w.write_all(b"EHLO load.test\r\n").is_err() || reply(&mut reader).is_err() {
                    return;
                }
                for n in 0..2000 {
                    let msg = format!("MAIL FROM:<a@load.test>\r\nRCPT TO:<b@hostile.test>\r\nDATA\r\nSubject: {k}-{n}\r\n\r\nbody\r\n.\r\n");
                    if w.write_all(msg.as_bytes()).is_err() {
                        return;
                    }
                    for _ in 0..3 {
                        if reply(&mut reader).is_err() {
                            return;
                        }
                    }
                    match reply(&mut reader) {
                        Ok(250) => {
                            acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let peak = peak_rss(served.child.id());
    let _ = served.child.kill();
    let _ = served.child.wait();
    for h in handles {
        let _ = h.join();
    }
    let acked = acked.load(std::sync::atomic::Ordering::SeqCst);
    let stored = std::fs::read_dir(store.join("new"))
        .map(|d| d.count())
        .unwrap_or(0);
    let note = if stored >= acked {
        format!("{acked} acknowledged, {stored} in the Maildir: 0 lost")
    } else {
        format!("FAIL: {acked} acknowledged, only {stored} in the Maildir")
    };
    Outcome {
        name: "SIGKILL under load (--store)",
        fresh: Ok(Duration::ZERO),
        peak_kib: peak,
        note,
    }
}

/// Flags that used to panic: out-of-range time scales are refused with exit 2.
fn time_scale_flags(bin: &std::path::Path, scenario: &std::path::Path) -> String {
    let mut refused = 0;
    let scales = ["1e300", "1e-300", "1e18", "0", "-1", "NaN", "inf"];
    for scale in scales {
        let status = Command::new(bin)
            .arg("serve")
            .arg(scenario)
            .args([
                "--dns",
                "127.0.0.1:0",
                "--smtp-port",
                "0",
                "--time-scale",
                scale,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if status.ok().and_then(|s| s.code()) == Some(2) {
            refused += 1;
        }
    }
    if refused == scales.len() {
        format!(
            "{refused} of {} out-of-range scales refused with exit 2",
            scales.len()
        )
    } else {
        format!(
            "FAIL: only {refused} of {} refused with exit 2",
            scales.len()
        )
    }
}

type Attack = fn(&Served) -> String;

pub fn run(root: &std::path::Path) -> ExitCode {
    let bin = match crate::release_binary() {
        Ok(b) => b,
        Err(code) => return code,
    };
    // This process opens over a thousand sockets at once, as serve may.
    if let Err(e) = mxlab_harness::serve::raise_descriptor_limit() {
        eprintln!("cannot raise the open-file limit: {e}");
    }
    let dir = root.join("target/hostile");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target/hostile");
    let scenario = dir.join("hostile.toml");
    std::fs::write(&scenario, SCENARIO).expect("write the scenario");
    let started = Instant::now();

    let attacks: [(&'static str, Attack, Option<u64>); 5] = [
        (
            "1,024 connections stalled after STARTTLS",
            starttls_lockout,
            None,
        ),
        ("1,200 sessions of pipelined NOOPs", pipelined_noops, None),
        ("32 parallel 35 MiB bodies", parallel_bodies, None),
        ("2,000 RCPT TO in one transaction", many_recipients, None),
        (
            "descriptors exhausted (limit 256)",
            descriptor_exhaustion,
            Some(256),
        ),
    ];
    let mut outcomes = Vec::new();
    for (name, attack, nofile) in attacks {
        let served = match serve(&bin, &scenario, &[], nofile) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut note = attack(&served);
        let fresh = fresh_client(served.smtp);
        if !dns_answers(served.dns) {
            note = format!("FAIL: DNS over UDP silent; {note}");
        }
        outcomes.push(Outcome {
            name,
            fresh,
            peak_kib: peak_rss(served.child.id()),
            note,
        });
    }
    outcomes.push(sigkill_durability(&bin, &scenario, &dir));
    let flags = time_scale_flags(&bin, &scenario);
    outcomes.push(Outcome {
        name: "--time-scale out of range",
        fresh: Ok(Duration::ZERO),
        peak_kib: 0,
        note: flags,
    });
    // The DNS attacks, against a story with a resolver and authoritative servers behind it.
    match crate::hostile_dns::fresh() {
        Ok(report) => outcomes.push(Outcome {
            name: "DNS: spoofed response, TCP siege, large EDNS options, UDP probes",
            fresh: if report.passed() {
                Ok(Duration::ZERO)
            } else {
                Err(report.failures.join("; "))
            },
            peak_kib: 0,
            note: "the hostile-dns lines above".into(),
        }),
        Err(code) => return code,
    }

    println!("| attack | fresh client served in | server peak RSS | what happened |");
    println!("|---|---|---|---|");
    let mut failed = 0;
    for o in &outcomes {
        let fresh = match &o.fresh {
            Ok(d) if d.is_zero() => "—".to_string(),
            Ok(d) => format!("{:.0} ms", d.as_secs_f64() * 1e3),
            Err(e) => format!("FAIL: {e}"),
        };
        println!(
            "| {} | {fresh} | {:.0} MB | {} |",
            o.name,
            o.peak_kib as f64 / 1024.0,
            o.note
        );
        if !o.passed() {
            failed += 1;
        }
    }
    println!(
        "\n{} attacks, {failed} failed, in {:.0} s; limits: fresh client within {SERVED_WITHIN:?}, peak RSS under {} MB",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        RSS_LIMIT_KIB / 1024
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
