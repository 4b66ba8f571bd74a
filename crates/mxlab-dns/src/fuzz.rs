//! What the DNS request path must hold for any bytes at all, shared by `cargo xtask fuzz-dns`
//! (mutated queries for minutes) and the property test in `cargo test` (a bounded sample):
//! a world with every kind of zone content and every scripted fault, the seed queries
//! committed beside this crate, and the checks on each reply.

use std::net::SocketAddr;
use std::path::Path;

use hickory_proto::op::Message;

use crate::reply::udp_limit;
use crate::server::{Transport, is_response};
use crate::world::DnsWorld;

/// One authoritative server's world: a wildcard, CNAMEs and a loop, a delegation with glue,
/// a reverse zone, and a fault of each action (some counted, some by type).
pub const SCENARIO: &str = r#"
mxlab = 1
title = "dns fuzzing"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "partner.test"
records = """
@      3600 IN SOA ns1 hostmaster 1 3600 600 86400 300
@      300 IN NS  ns1
@      300 IN MX  10 mx1
@      300 IN TXT "v=spf1 ip4:127.0.0.2 " "include:_spf.partner.test -all"
ns1    300 IN A   127.0.0.53
mx1    300 IN A   127.0.0.10
mx1    300 IN AAAA ::1
big    300 IN A   127.0.0.11
broken 300 IN MX  10 mx1
slow   300 IN MX  10 mx1
alias  300 IN CNAME www
www    300 IN CNAME mx1
loop1  300 IN CNAME loop2
loop2  300 IN CNAME loop1
*.wild 300 IN MX  10 mx1
sub    300 IN NS  ns.sub
ns.sub 300 IN A   127.0.0.54
"""

[[dns.zones]]
origin = "0.0.127.in-addr.arpa"
records = """
@  3600 IN SOA ns1.partner.test. hostmaster.partner.test. 1 3600 600 86400 60
@  300 IN NS  ns1.partner.test.
10 300 IN PTR mx1.partner.test.
"""

[[dns.faults]]
name = "broken.partner.test"
action = "servfail"

[[dns.faults]]
name = "slow.partner.test"
action = "delay"
delay = "3s"

[[dns.faults]]
name = "big.partner.test"
action = "truncate"

[[dns.faults]]
name = "*.wild.partner.test"
action = "drop"
queries = "2-3"

[[dns.faults]]
name = "www.partner.test"
type = "A"
action = "nxdomain"

[[dns.faults]]
name = "mx1.partner.test"
type = "TXT"
action = "nodata"

[[dns.faults]]
name = "loop1.partner.test"
action = "refused"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"

[[sender.messages]]
from = "a@mycompany.test"
to = ["b@partner.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

/// The world of [`SCENARIO`]; call inside a tokio runtime (its clock starts at tokio's now).
pub fn world() -> DnsWorld {
    world_of(SCENARIO)
}

/// [`SCENARIO`] without its faults: its server answers repeated questions from the cache
/// without parsing them, a path of its own.
pub fn world_without_faults() -> DnsWorld {
    let (zones, rest) = SCENARIO
        .split_once("[[dns.faults]]")
        .expect("the scenario has faults");
    let sender = &rest[rest.find("[sender]").expect("a sender")..];
    world_of(&format!("{zones}{sender}"))
}

fn world_of(text: &str) -> DnsWorld {
    let scenario = mxlab_scenario::load_str("dns-fuzz", "dns-fuzz.toml", text)
        .expect("the fuzzing scenario loads");
    let clock = mxlab_net::Clock::starting_now(scenario.file.start.0, 1.0);
    DnsWorld::from_scenario(&scenario, clock, 64, 53).expect("the fuzzing world builds")
}

/// The seed queries committed in `fuzz-seeds/` beside this crate's manifest, sorted by name.
pub fn seeds(crate_dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(crate_dir.join("fuzz-seeds"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Where fuzzed queries come from.
pub fn src() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 2], 40000))
}

/// What a reply to `query` must be, whatever the query: none to a response (QR=1); else a
/// readable DNS response with the query's id, within the UDP size the query allows.
pub fn check(query: &[u8], transport: Transport, reply: Option<&[u8]>) -> Result<(), String> {
    let Some(reply) = reply else {
        return Ok(());
    };
    if is_response(query) {
        return Err("answered a response (QR=1)".into());
    }
    if reply.len() < 12 || !is_response(reply) {
        return Err(format!("a reply that is not a response: {reply:02x?}"));
    }
    if reply[..2] != query[..2] {
        return Err("a reply with another id".into());
    }
    let parsed = Message::from_vec(reply).map_err(|e| format!("an unreadable reply: {e}"))?;
    if transport == Transport::Udp {
        let payload = Message::from_vec(query)
            .ok()
            .and_then(|q| q.edns.map(|e| e.max_payload()));
        if reply.len() > udp_limit(payload) {
            return Err(format!(
                "{} bytes over UDP, more than the query allows",
                reply.len()
            ));
        }
    }
    if parsed.queries.len() > 1 {
        return Err("a reply with several questions".into());
    }
    Ok(())
}

/// What a server without faults must also hold: asked the same query twice, it gives the
/// same reply (the second comes from the cache, by another path).
pub fn check_repeat(first: Option<&[u8]>, second: Option<&[u8]>) -> Result<(), String> {
    if first == second {
        Ok(())
    } else {
        Err(format!(
            "the same query answered two ways: {first:02x?} then {second:02x?}"
        ))
    }
}

/// Mutates `input` in place the way the fuzz loop does, from a stream of random numbers:
/// bytes set, cut, repeated, spliced from `other`, header bits flipped.
pub fn mutate(input: &mut Vec<u8>, other: &[u8], mut next: impl FnMut() -> u64) {
    let mut below = |n: usize| (next() % n.max(1) as u64) as usize;
    for _ in 0..=below(4) {
        if input.is_empty() {
            input.extend_from_slice(other);
            continue;
        }
        let at = below(input.len());
        match below(7) {
            0 => input[at] = below(256) as u8,
            1 => input.truncate(at),
            2 => {
                let end = (at + below(32)).min(input.len());
                let piece = input[at..end].to_vec();
                for _ in 0..below(8) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            3 => {
                let from = below(other.len());
                input.splice(at..at, other[from..].iter().copied().take(64));
            }
            // The header's flags and counts are where the interesting branches are.
            4 => {
                let i = below(12.min(input.len()));
                input[i] ^= 1 << below(8);
            }
            5 => input.insert(at, [0, 0xc0, 0x3f, 0x29, 0xff][below(5)]),
            _ => {
                let end = (at + below(16)).min(input.len());
                input.drain(at..end);
            }
        }
    }
}
