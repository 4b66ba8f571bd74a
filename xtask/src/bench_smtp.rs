//! `cargo xtask bench-smtp`: Postfix's smtp-source against `mxlab serve` on an accept-all
//! scenario — in sink mode and capturing in memory — and against Postfix's own smtp-sink, in
//! one run, on loopback.
//!
//! Each load is an smtp-source run: 1 KiB and 100 KiB messages, 20 sessions in parallel, a
//! new connection per message, three rounds. Reported per server and load: messages per
//! second, the server's own CPU per message (from /proc), and the ratio to smtp-sink; then the
//! peak resident memory of a fresh server through 100 concurrent sessions. Every run is bounded in
//! messages and in time. Needs `apt-get install postfix` (smtp-source and smtp-sink).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::procfs::{peak_rss, stop, usage};

const SCENARIO: &str = r#"mxlab = 1
title = "smtp benchmark: one MX that accepts everything"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "bench.test"
records = """
@     3600 IN SOA ns1 hostmaster 2024050801 3600 600 604800 300
@     3600 IN NS  ns1
@     3600 IN MX  10 mx1
ns1   3600 IN A   127.0.0.53
mx1   3600 IN A   127.0.0.10
"""

[[smtp.hosts]]
name = "mx1.bench.test"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"

[[sender.messages]]
from = "a@mycompany.test"
to = ["b@bench.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

/// Where smtp-sink listens (mxlab's host listens on its zone address, on a port it picks).
const SMTP_SINK: &str = "127.0.0.1:12525";
/// The longest one smtp-source run may take before it is stopped and the run fails.
const RUN_LIMIT: Duration = Duration::from_secs(180);
/// Each load is run this many times against each server; the tables give the median.
const ROUNDS: usize = 3;

struct Load {
    name: &'static str,
    sessions: u32,
    octets: u32,
    messages: u32,
}

const LOADS: [Load; 2] = [
    Load {
        name: "1 KiB",
        sessions: 20,
        octets: 1024,
        messages: 20_000,
    },
    Load {
        name: "100 KiB",
        sessions: 20,
        octets: 100 * 1024,
        messages: 2_000,
    },
];

/// Through 100 concurrent sessions, for the peak memory.
const CROWD: [Load; 2] = [
    Load {
        name: "1 KiB",
        sessions: 100,
        octets: 1024,
        messages: 5_000,
    },
    Load {
        name: "100 KiB",
        sessions: 100,
        octets: 100 * 1024,
        messages: 1_000,
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Server {
    MxlabSink,
    MxlabCapture,
    SmtpSink,
}

impl Server {
    fn label(self) -> &'static str {
        match self {
            Server::MxlabSink => "mxlab serve --sink",
            Server::MxlabCapture => "mxlab serve (capture in memory)",
            Server::SmtpSink => "Postfix smtp-sink",
        }
    }
}

struct Measured {
    per_second: f64,
    cpu_us_per_message: f64,
}

/// Starts `server`; returns it with the address it listens on.
fn start(
    server: Server,
    bin: &std::path::Path,
    scenario: &std::path::Path,
) -> Option<(Child, String)> {
    match server {
        Server::SmtpSink => {
            // As root, smtp-sink must drop to an unprivileged user.
            let child = Command::new("smtp-sink")
                .args(["-u", "nobody", SMTP_SINK, "1000"])
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| eprintln!("smtp-sink: {e} (apt-get install postfix)"))
                .ok()?;
            std::thread::sleep(Duration::from_millis(500));
            Some((child, SMTP_SINK.to_string()))
        }
        Server::MxlabSink | Server::MxlabCapture => {
            let mut cmd = Command::new(bin);
            cmd.arg("serve")
                .arg(scenario)
                .args(["--dns", "127.0.0.1:0", "--smtp-port", "0"])
                // smtp-sink logs nothing either.
                .arg("--quiet");
            if server == Server::MxlabSink {
                cmd.arg("--sink");
            }
            let mut child = cmd.stdout(Stdio::piped()).spawn().ok()?;
            let lines = BufReader::new(child.stdout.take()?).lines();
            let addr = lines
                .map_while(Result::ok)
                .find_map(|l| l.strip_prefix("smtp mx1.bench.test ").map(str::to_string));
            match addr {
                Some(addr) => Some((child, addr)),
                None => {
                    stop(child);
                    None
                }
            }
        }
    }
}

/// One smtp-source run against `addr`, with the server's CPU measured around it.
fn source(load: &Load, addr: &str, pid: u32) -> Result<Measured, String> {
    let (cpu0, _) = usage(pid);
    let started = Instant::now();
    let mut child = Command::new("smtp-source")
        .args(["-s", &load.sessions.to_string()])
        .args(["-l", &load.octets.to_string()])
        .args(["-m", &load.messages.to_string()])
        .args(["-M", "client.test", "-f", "taro@mycompany.test"])
        .args(["-t", "hanako@bench.test"])
        .arg(addr)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("smtp-source: {e} (apt-get install postfix)"))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("smtp-source took longer than {RUN_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu1, _) = usage(pid);
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("smtp-source failed against {addr}: {err}"));
    }
    Ok(Measured {
        per_second: f64::from(load.messages) / elapsed,
        cpu_us_per_message: (cpu1 - cpu0) * 1e6 / f64::from(load.messages),
    })
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn run(root: &std::path::Path) -> ExitCode {
    let bin = match crate::release_binary() {
        Ok(b) => b,
        Err(code) => return code,
    };
    let dir = root.join("target/bench-smtp");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target/bench-smtp");
    let scenario = dir.join("bench.toml");
    std::fs::write(&scenario, SCENARIO).expect("write the scenario");
    let servers = [Server::SmtpSink, Server::MxlabSink, Server::MxlabCapture];
    let load_before = loadavg();
    let started = Instant::now();

    // All three at once, and the runs interleaved round by round in a rotating order, so a
    // change in the machine's background load falls on every server alike.
    let mut running = Vec::new();
    for &server in &servers {
        match start(server, &bin, &scenario) {
            Some(s) => running.push(s),
            None => {
                eprintln!("cannot start {}", server.label());
                running.into_iter().for_each(|(child, _)| stop(child));
                return ExitCode::FAILURE;
            }
        }
    }
    // results[server][load]: one measurement per round.
    let mut results: Vec<Vec<Vec<Measured>>> = servers
        .iter()
        .map(|_| LOADS.iter().map(|_| Vec::new()).collect())
        .collect();
    for round in 0..ROUNDS {
        for (l, load) in LOADS.iter().enumerate() {
            for k in 0..servers.len() {
                let s = (k + round) % servers.len();
                let (child, addr) = &running[s];
                match source(load, addr, child.id()) {
                    Ok(m) => results[s][l].push(m),
                    Err(e) => {
                        eprintln!("{}: {}: {e}", servers[s].label(), load.name);
                        running.into_iter().for_each(|(child, _)| stop(child));
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
    }
    running.into_iter().for_each(|(child, _)| stop(child));

    let mut peaks: Vec<(u64, Vec<u64>)> = Vec::new();
    for &server in &servers {
        // A fresh server for each crowd, so the peak belongs to that crowd alone.
        let mut rest = 0;
        let mut crowd_peaks = Vec::new();
        for load in &CROWD {
            let Some((child, addr)) = start(server, &bin, &scenario) else {
                eprintln!("cannot start {}", server.label());
                return ExitCode::FAILURE;
            };
            rest = rest.max(usage(child.id()).1);
            let outcome = source(load, &addr, child.id());
            crowd_peaks.push(peak_rss(child.id()));
            stop(child);
            if let Err(e) = outcome {
                eprintln!("{}: 100 sessions, {}: {e}", server.label(), load.name);
                return ExitCode::FAILURE;
            }
        }
        peaks.push((rest, crowd_peaks));
    }

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "smtp-source, new connection per message, {} sessions, median of {ROUNDS} rounds; load average before {load_before}, after {}; {:.0} s in all\n",
        LOADS[0].sessions,
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| server | message | messages | messages/s (min … max) | ratio to smtp-sink | server CPU per message |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let sink = servers
        .iter()
        .position(|s| *s == Server::SmtpSink)
        .expect("smtp-sink is measured");
    for (i, load) in LOADS.iter().enumerate() {
        let rate = |s: usize| median(results[s][i].iter().map(|m| m.per_second));
        for (s, server) in servers.iter().enumerate() {
            let runs = &results[s][i];
            let (min, max) = runs.iter().fold((f64::MAX, 0f64), |(lo, hi), m| {
                (lo.min(m.per_second), hi.max(m.per_second))
            });
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} ({min:.0} … {max:.0}) | {:.2} | {:.0} µs |",
                server.label(),
                load.name,
                load.messages,
                rate(s),
                rate(s) / rate(sink),
                median(runs.iter().map(|m| m.cpu_us_per_message))
            );
        }
    }
    let _ = writeln!(
        out,
        "\nPeak RSS of a fresh server through 100 concurrent sessions ({} × {} and {} × {}):\n",
        CROWD[0].messages, CROWD[0].name, CROWD[1].messages, CROWD[1].name
    );
    let _ = writeln!(
        out,
        "| server | RSS at rest | peak, {} | peak, {} |",
        CROWD[0].name, CROWD[1].name
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for (server, (rest, crowd)) in servers.iter().zip(&peaks) {
        let _ = writeln!(
            out,
            "| {} | {:.1} MB | {:.1} MB | {:.1} MB |",
            server.label(),
            *rest as f64 / 1024.0,
            crowd[0] as f64 / 1024.0,
            crowd[1] as f64 / 1024.0
        );
    }
    ExitCode::SUCCESS
}
