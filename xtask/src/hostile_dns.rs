//! `cargo xtask hostile-dns`: a served DNS under abuse, as a hostile tester would try it —
//! all on loopback, every attacker on its own 127.66.x.y source address, bounded in count and
//! in time (about a minute in all):
//!
//! 1. a spoofed response (QR=1) between two served addresses must not start a loop: the
//!    server's CPU stays near idle after it;
//! 2. 300 TCP clients that hold connections open and query every 5 s, while a fresh client
//!    must be answered within 5 s, three times;
//! 3. 6,000 queries over TCP with ~60 KiB of distinct EDNS options each, to an authoritative
//!    server (whose answer cache they once filled), then the server's peak RSS (VmHWM) must be
//!    under 256 MB;
//! 4. throughout, DNS over UDP must keep answering (a probe every 500 ms, each within 2 s).
//!
//! [`run`] is the entry point for `cargo xtask hostile`; alone, `cargo xtask hostile-dns`
//! starts `mxlab serve dns-servfail` (release build) and runs it against that.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use crate::procfs::{peak_rss, stop, usage};

/// How soon a fresh client must be answered under attack.
pub const FRESH_WITHIN: Duration = Duration::from_secs(5);
/// The served process's peak resident memory must stay under this.
pub const RSS_LIMIT_KIB: u64 = 256 * 1024;
const ATTACKERS: u32 = 300;
const ATTACK_PERIOD: Duration = Duration::from_secs(5);
const SIEGE: Duration = Duration::from_secs(25);
const LARGE_QUERIES: u32 = 6_000;
const LARGE_CONNECTIONS: u32 = 8;
const LARGE_DEADLINE: Duration = Duration::from_secs(90);
const UDP_EVERY: Duration = Duration::from_millis(500);
const UDP_WITHIN: Duration = Duration::from_secs(2);
/// CPU seconds the server may spend in the 2 s after a spoofed response (a loop takes ~2).
const SPOOF_CPU_MAX: f64 = 0.3;

/// What each check measured, and what failed.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    fn say(&mut self, line: String) {
        println!("hostile-dns: {line}");
        self.lines.push(line);
    }

    fn fail(&mut self, line: String) {
        println!("hostile-dns: FAIL {line}");
        self.failures.push(line);
    }
}

/// Runs every check against the DNS served at `dns` by process `serve_pid`. `second`, another
/// address the same process serves DNS on (an authoritative server of a story with a
/// topology), is where the spoofed response claims to come from; without it, the response
/// comes from the tester's own address.
pub fn run(dns: SocketAddr, second: Option<SocketAddr>, serve_pid: u32) -> Report {
    let mut report = Report::default();
    if !dns.ip().is_loopback() || second.is_some_and(|s| !s.ip().is_loopback()) {
        report.fail(format!("{dns}: loopback addresses only"));
        return report;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report.fail(format!("cannot start the runtime: {e}"));
            return report;
        }
    };
    runtime.block_on(async {
        // UDP probes for the whole run.
        let probing = Arc::new(AtomicBool::new(true));
        let (sent, missed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let prober = tokio::spawn(udp_prober(
            dns,
            probing.clone(),
            sent.clone(),
            missed.clone(),
        ));

        spoof(&mut report, dns, second, serve_pid).await;
        siege(&mut report, dns).await;
        // At an authoritative server when there is one: they cache answers, the resolver not.
        large_options(&mut report, second.unwrap_or(dns), serve_pid).await;

        probing.store(false, Ordering::Relaxed);
        let _ = prober.await;
        let (sent, missed) = (sent.load(Ordering::Relaxed), missed.load(Ordering::Relaxed));
        let line = format!(
            "UDP probes every {} ms: {} of {sent} answered within {} s",
            UDP_EVERY.as_millis(),
            sent - missed,
            UDP_WITHIN.as_secs()
        );
        if missed == 0 && sent > 0 {
            report.say(line);
        } else {
            report.fail(line);
        }
    });
    report
}

/// A query for `partner.test MX` (any reply will do: the story decides what it says), with
/// `padding` bytes of an EDNS padding option when `padding` is given.
pub(crate) fn query(id: u16, padding: Option<&[u8]>) -> Vec<u8> {
    let arcount = u16::from(padding.is_some());
    let mut q = Vec::with_capacity(64 + padding.map_or(0, |p| p.len()));
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0]);
    q.extend_from_slice(&arcount.to_be_bytes());
    q.extend_from_slice(b"\x07partner\x04test\x00\x00\x0f\x00\x01");
    if let Some(pad) = padding {
        q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0]);
        q.extend_from_slice(&(pad.len() as u16 + 4).to_be_bytes());
        q.extend_from_slice(&12u16.to_be_bytes());
        q.extend_from_slice(&(pad.len() as u16).to_be_bytes());
        q.extend_from_slice(pad);
    }
    q
}

async fn ask_udp(socket: &UdpSocket, dns: SocketAddr, id: u16, within: Duration) -> bool {
    if socket.send_to(&query(id, None), dns).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
        if n >= 12 && buf[..2] == id.to_be_bytes() {
            return true;
        }
    }
    false
}

async fn udp_prober(
    dns: SocketAddr,
    on: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    missed: Arc<AtomicU64>,
) {
    let Ok(socket) = UdpSocket::bind(SocketAddr::from(([127, 66, 250, 1], 0))).await else {
        missed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut id = 0u16;
    while on.load(Ordering::Relaxed) {
        id = id.wrapping_add(1);
        sent.fetch_add(1, Ordering::Relaxed);
        if !ask_udp(&socket, dns, id, UDP_WITHIN).await {
            missed.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(UDP_EVERY).await;
    }
}

async fn connect_from(ip: Ipv4Addr, dns: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((ip, 0)))?;
    socket.connect(dns).await
}

async fn ask_tcp(stream: &mut TcpStream, query: &[u8]) -> std::io::Result<()> {
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut reply).await?;
    if reply.len() < 12 || reply[..2] != query[..2] {
        return Err(std::io::Error::other("not the reply to the query"));
    }
    Ok(())
}

/// A response from `second` (spoofed with a raw socket) or from our own address: neither
/// may be answered, so no loop starts and the server stays near idle.
async fn spoof(report: &mut Report, dns: SocketAddr, second: Option<SocketAddr>, pid: u32) {
    let mut response = query(0x5b0f, None);
    response[2] |= 0x80;
    let cpu_before = usage(pid).0;
    let how = match (dns, second) {
        (SocketAddr::V4(to), Some(SocketAddr::V4(from))) => match spoof_udp(from, to, &response) {
            Ok(()) => format!("from {from} (spoofed) to {to}"),
            Err(e) => {
                report.fail(format!(
                    "cannot send a spoofed packet (raw socket: {e}; needs root)"
                ));
                return;
            }
        },
        _ => {
            let Ok(socket) = UdpSocket::bind(SocketAddr::from(([127, 66, 250, 2], 0))).await else {
                report.fail("cannot bind 127.66.250.2".into());
                return;
            };
            let _ = socket.send_to(&response, dns).await;
            let mut buf = [0u8; 512];
            if tokio::time::timeout(Duration::from_millis(500), socket.recv(&mut buf))
                .await
                .is_ok()
            {
                report.fail("a response (QR=1) was answered".into());
                return;
            }
            format!("from 127.66.250.2 to {dns}")
        }
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu = usage(pid).0 - cpu_before;
    let line = format!("a response (QR=1) {how}: server CPU {cpu:.2} s in the next 2 s");
    if cpu <= SPOOF_CPU_MAX {
        report.say(line);
    } else {
        report.fail(format!("{line} (a loop?)"));
    }
}

/// An IPv4 UDP datagram from `from` to `to` through a raw socket (root only).
fn spoof_udp(from: SocketAddrV4, to: SocketAddrV4, payload: &[u8]) -> std::io::Result<()> {
    let total = 20 + 8 + payload.len();
    let mut packet = Vec::with_capacity(total);
    packet.extend_from_slice(&[0x45, 0]);
    packet.extend_from_slice(&(total as u16).to_be_bytes());
    // id 0 and checksum 0: the kernel fills them in for IPPROTO_RAW.
    packet.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    packet.extend_from_slice(&from.ip().octets());
    packet.extend_from_slice(&to.ip().octets());
    packet.extend_from_slice(&from.port().to_be_bytes());
    packet.extend_from_slice(&to.port().to_be_bytes());
    packet.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    // A zero UDP checksum means "none" over IPv4.
    packet.extend_from_slice(&[0, 0]);
    packet.extend_from_slice(payload);
    // SAFETY: a socket made, used once with buffers that outlive the calls, and closed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: to.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*to.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let sent = libc::sendto(
            fd,
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let error = std::io::Error::last_os_error();
        libc::close(fd);
        if sent < 0 {
            return Err(error);
        }
    }
    Ok(())
}

fn attacker_ip(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 66, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// 300 clients hold TCP connections and query every 5 s (reconnecting when closed); a fresh
/// client must be answered within 5 s, three times during the siege.
async fn siege(report: &mut Report, dns: SocketAddr) {
    let on = Arc::new(AtomicBool::new(true));
    let answered = Arc::new(AtomicU64::new(0));
    let mut attackers = tokio::task::JoinSet::new();
    for n in 0..ATTACKERS {
        let (on, answered) = (on.clone(), answered.clone());
        attackers.spawn(async move {
            let mut id = n as u16;
            while on.load(Ordering::Relaxed) {
                let Ok(mut stream) = connect_from(attacker_ip(n), dns).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                while on.load(Ordering::Relaxed) {
                    id = id.wrapping_add(ATTACKERS as u16);
                    if ask_tcp(&mut stream, &query(id, None)).await.is_err() {
                        break;
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(ATTACK_PERIOD).await;
                }
            }
        });
    }
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    for (i, at) in [7u64, 13, 19].into_iter().enumerate() {
        tokio::time::sleep_until((started + Duration::from_secs(at)).into()).await;
        let asked = Instant::now();
        let fresh = async {
            let mut stream = connect_from(Ipv4Addr::new(127, 77, 0, i as u8 + 1), dns).await?;
            ask_tcp(&mut stream, &query(0xf000 + i as u16, None)).await
        };
        match tokio::time::timeout(FRESH_WITHIN * 2, fresh).await {
            Ok(Ok(())) => worst = worst.max(asked.elapsed()),
            Ok(Err(e)) => {
                report.fail(format!("a fresh TCP client at +{at} s of the siege: {e}"));
                worst = FRESH_WITHIN * 2;
            }
            Err(_) => {
                report.fail(format!(
                    "a fresh TCP client at +{at} s of the siege: no answer in {} s",
                    (FRESH_WITHIN * 2).as_secs()
                ));
                worst = FRESH_WITHIN * 2;
            }
        }
    }
    tokio::time::sleep_until((started + SIEGE).into()).await;
    on.store(false, Ordering::Relaxed);
    attackers.abort_all();
    while attackers.join_next().await.is_some() {}
    let line = format!(
        "{ATTACKERS} TCP clients querying every {} s for {} s ({} answers): a fresh client answered within {:.0} ms at worst",
        ATTACK_PERIOD.as_secs(),
        SIEGE.as_secs(),
        answered.load(Ordering::Relaxed),
        worst.as_secs_f64() * 1000.0
    );
    if worst < FRESH_WITHIN {
        report.say(line);
    } else {
        report.fail(line);
    }
}

/// Queries over TCP that each carry ~60 KiB of distinct EDNS options; then the server's peak
/// resident memory.
async fn large_options(report: &mut Report, dns: SocketAddr, pid: u32) {
    let started = Instant::now();
    let answered = Arc::new(AtomicU64::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..LARGE_CONNECTIONS {
        let answered = answered.clone();
        clients.spawn(async move {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(c);
            let mut pad = vec![0u8; 60 * 1024];
            let mut stream = None;
            for i in 0..LARGE_QUERIES / LARGE_CONNECTIONS {
                if started.elapsed() > LARGE_DEADLINE {
                    return;
                }
                // Distinct options each time: keyed by whole queries, each was a new entry.
                for chunk in pad.chunks_mut(8) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
                }
                if stream.is_none() {
                    stream = connect_from(Ipv4Addr::new(127, 66, 251, c as u8 + 1), dns)
                        .await
                        .ok();
                }
                let Some(s) = stream.as_mut() else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if ask_tcp(s, &query(i as u16, Some(&pad))).await.is_ok() {
                    answered.fetch_add(1, Ordering::Relaxed);
                } else {
                    stream = None;
                }
            }
        });
    }
    while clients.join_next().await.is_some() {}
    let peak = peak_rss(pid);
    let line = format!(
        "{} of {LARGE_QUERIES} TCP queries to {dns} with 60 KiB of EDNS options answered in {:.1} s; server peak RSS {:.1} MB (limit {} MB)",
        answered.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        peak as f64 / 1024.0,
        RSS_LIMIT_KIB / 1024
    );
    if peak < RSS_LIMIT_KIB && peak > 0 {
        report.say(line);
    } else {
        report.fail(line);
    }
}

/// `cargo xtask hostile-dns [--dns ADDR [--second ADDR] --pid PID]`: against a running
/// `serve`, or one started here.
pub fn main(args: &[String]) -> ExitCode {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let given = (
        arg("--dns").and_then(|v| v.parse::<SocketAddr>().ok()),
        arg("--pid").and_then(|v| v.parse::<u32>().ok()),
    );
    let second = arg("--second").and_then(|v| v.parse::<SocketAddr>().ok());
    let report = match given {
        (Some(dns), Some(pid)) => run(dns, second, pid),
        (None, None) => match fresh() {
            Ok(report) => report,
            Err(code) => return code,
        },
        _ => {
            eprintln!("usage: cargo xtask hostile-dns [--dns ADDR [--second ADDR] --pid PID]");
            return ExitCode::from(2);
        }
    };
    if report.passed() {
        println!("hostile-dns: passed");
        ExitCode::SUCCESS
    } else {
        println!("hostile-dns: {} failed", report.failures.len());
        ExitCode::FAILURE
    }
}

/// [`run`] against a fresh `mxlab serve dns-servfail` (release build), stopped after.
pub fn fresh() -> Result<Report, ExitCode> {
    let bin = crate::release_binary()?;
    let mut serve = Command::new(&bin)
        .args([
            "serve",
            "dns-servfail",
            "--dns",
            "127.0.0.1:0",
            "--smtp-port",
            "0",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            eprintln!("cannot start {}: {e}", bin.display());
            ExitCode::FAILURE
        })?;
    let mut lines = BufReader::new(serve.stdout.take().expect("piped"));
    let (mut dns, mut second) = (None, None);
    let mut line = String::new();
    while dns.is_none() || second.is_none() {
        line.clear();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["dns", "-", addr] => dns = addr.parse().ok(),
            ["dns", _, addr] if second.is_none() => second = addr.parse().ok(),
            _ => {}
        }
    }
    let Some(dns) = dns else {
        eprintln!("serve printed no DNS address");
        stop(serve);
        return Err(ExitCode::FAILURE);
    };
    let report = run(dns, second, serve.id());
    stop(serve);
    Ok(report)
}
