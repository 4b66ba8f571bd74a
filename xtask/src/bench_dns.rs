//! `cargo xtask bench-dns`: the fake DNS against NSD, same zone, same query mix, one run.
//!
//! Both servers answer on loopback; dnsperf sends MX, A and TXT queries for 10 s to each in
//! turn. Reported: queries per second, the server's own CPU per query (from /proc), and its
//! resident memory at rest and after the run. Needs `apt-get install dnsperf nsd`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::procfs::{stop, usage};
use std::time::Duration;

const ZONE: &str = "$ORIGIN bench.test.
@      3600 IN SOA ns1 hostmaster 2024050801 3600 600 604800 300
@      3600 IN NS  ns1
@      3600 IN MX  10 mx1
@      3600 IN TXT \"v=spf1 ip4:127.0.0.2 -all\"
ns1    3600 IN A   127.0.0.53
mx1    3600 IN A   127.0.0.10
";

const QUERIES: &str = "bench.test MX\nmx1.bench.test A\nbench.test TXT\n";
const SECONDS: u32 = 10;

fn scenario() -> String {
    let records: String = ZONE.lines().skip(1).map(|l| format!("{l}\n")).collect();
    format!(
        "mxlab = 1\ntitle = \"dns benchmark\"\nstart = \"2024-05-08T20:40:00+01:00\"\n\n[[dns.zones]]\norigin = \"bench.test\"\nrecords = \"\"\"\n{records}\"\"\"\n\n[sender]\nhostname = \"srv01.mycompany.lan\"\ndomain = \"mycompany.test\"\n\n[[sender.messages]]\nfrom = \"a@mycompany.test\"\nto = [\"b@bench.test\"]\nsubject = \"x\"\n\n[expect]\nverdict = \"ok.delivered\"\n"
    )
}

struct Measured {
    qps: f64,
    completed: f64,
    cpu_us_per_query: f64,
    rss_rest_kib: u64,
    rss_after_kib: u64,
}

fn dnsperf(port: u16, queries: &Path, pid: u32) -> Option<Measured> {
    let (cpu0, rss_rest) = usage(pid);
    let out = Command::new("dnsperf")
        .args(["-s", "127.0.0.1", "-p", &port.to_string(), "-d"])
        .arg(queries)
        .args(["-l", &SECONDS.to_string(), "-c", "8", "-q", "200"])
        .output()
        .ok()?;
    let (cpu1, rss_after) = usage(pid);
    let text = String::from_utf8_lossy(&out.stdout);
    let number = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
    };
    let qps = number("Queries per second:")?;
    let completed = number("Queries completed:")?;
    Some(Measured {
        qps,
        completed,
        cpu_us_per_query: (cpu1 - cpu0) * 1e6 / completed.max(1.0),
        rss_rest_kib: rss_rest,
        rss_after_kib: rss_after,
    })
}

/// `--bin PATH` measures that `mxlab` instead of building one (another branch's, say, for a
/// before-and-after on the same machine).
pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let given = args
        .iter()
        .position(|a| a == "--bin")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let bin = match given.map_or_else(crate::release_binary, Ok) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let dir = root.join("target/bench-dns");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target/bench-dns");
    let queries = dir.join("queries.txt");
    std::fs::write(&queries, QUERIES).unwrap();
    std::fs::write(dir.join("bench.toml"), scenario()).unwrap();
    std::fs::write(dir.join("bench.test.zone"), ZONE).unwrap();
    let (mxlab_port, nsd_port) = (15353u16, 15354u16);
    std::fs::write(
        dir.join("nsd.conf"),
        format!(
            "server:\n  ip-address: 127.0.0.1@{nsd_port}\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  logfile: \"{d}/nsd.log\"\n  server-count: 1\n  rrl-ratelimit: 0\n  verbosity: 0\nremote-control:\n  control-enable: no\nzone:\n  name: bench.test\n  zonefile: bench.test.zone\n",
            d = dir.display()
        ),
    )
    .unwrap();

    let mut mxlab = Command::new(&bin)
        .args(["serve"])
        .arg(dir.join("bench.toml"))
        .args([
            "--dns",
            &format!("127.0.0.1:{mxlab_port}"),
            "--smtp-port",
            "0",
        ])
        // A line per query on stderr would be the benchmark: warnings only.
        .env("MXLAB_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start mxlab serve");
    let mut first = String::new();
    BufReader::new(mxlab.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let nsd = Command::new("nsd")
        .args(["-d", "-c"])
        .arg(dir.join("nsd.conf"))
        .spawn();
    let Ok(nsd) = nsd else {
        eprintln!("cannot start nsd (apt-get install nsd)");
        stop(mxlab);
        return ExitCode::FAILURE;
    };
    std::thread::sleep(Duration::from_secs(2));

    let ours = dnsperf(mxlab_port, &queries, mxlab.id());
    let theirs = dnsperf(nsd_port, &queries, nsd.id());
    stop(mxlab);
    stop(nsd);
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        eprintln!("dnsperf failed (apt-get install dnsperf)");
        return ExitCode::FAILURE;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| server | queries/s | completed | server CPU per query | RSS at rest | RSS after |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for (name, m) in [("mxlab serve", &ours), ("NSD 4.6", &theirs)] {
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.0} | {:.1} µs | {:.1} MB | {:.1} MB |",
            m.qps,
            m.completed,
            m.cpu_us_per_query,
            m.rss_rest_kib as f64 / 1024.0,
            m.rss_after_kib as f64 / 1024.0
        );
    }
    let _ = writeln!(
        out,
        "\nmxlab / NSD throughput: {:.2}",
        ours.qps / theirs.qps
    );
    ExitCode::SUCCESS
}
