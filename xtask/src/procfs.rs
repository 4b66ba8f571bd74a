//! What a server process costs, read from /proc: CPU time and memory of a process and all its
//! descendants (NSD serves from forked grandchildren), for the benchmarks.

use std::process::{Child, Command};

/// (utime + stime) in seconds, and VmRSS in KiB, of a process and all its descendants.
pub fn usage(pid: u32) -> (f64, u64) {
    family(pid)
        .iter()
        .map(|&p| (cpu_seconds(p), status_kib(p, "VmRSS:")))
        .fold((0.0, 0), |acc, (cpu, rss)| (acc.0 + cpu, acc.1 + rss))
}

/// The peak resident set (VmHWM) in KiB of a process and its descendants, summed.
pub fn peak_rss(pid: u32) -> u64 {
    family(pid).iter().map(|&p| status_kib(p, "VmHWM:")).sum()
}

/// `pid` and every process descended from it.
fn family(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let p = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse::<u32>()
                .ok()?;
            Some((p, ppid))
        })
        .collect();
    let mut family = vec![pid];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    family
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// SIGTERM, then wait, so a server shuts down cleanly and leaves no process behind.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
