//! Moving a story onto a block of loopback addresses of its own, so that many copies of it run
//! on one machine at once (`mxlab lab`: thirty trainees, one story).
//!
//! Block `N` maps the story's `127.0.x.y` to `127.N.x.y`. The mapping is made on the scenario
//! text, before it is loaded, so that every place an address is written moves with it: zone
//! A records, the owners of PTR records (`2.0.0.127.in-addr.arpa`, and a zone
//! `0.0.127.in-addr.arpa`), blocklist names (`2.0.0.127.zen.spamhaus.test`), SPF `ip4:` terms,
//! SMTP host and DNS server addresses, even the story and the expectations. The text is then
//! loaded and validated as usual, so what comes out is a scenario like any other. The two
//! addresses the loader fills in when a file is silent (the lone DNS server or the resolver
//! at 127.0.0.53, the sender at 127.0.0.1) are mapped after loading.
//!
//! Addresses outside 127.0.0.0/16 are left alone (SPF's `ip4:192.0.2.10` is on no socket);
//! [`Block::foreign`] names those a served lab would listen on, which would collide.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::LoadError;
use crate::load::{Scenario, load_str};

/// A lab's loopback block: 0 is the story's own addresses, 1 to 254 a block `127.N.0.0/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block(u8);

impl Block {
    /// The story's own addresses, unmapped (a lab alone in a network namespace).
    pub const OWN: Block = Block(0);
    /// The highest block: 127.255.0.0/16 is left alone, as blocklists use 127.255.255.x for
    /// their error codes.
    pub const MAX: u8 = 254;

    /// Block `n`, if it is one (0 to 254).
    pub fn new(n: u8) -> Option<Block> {
        (n <= Self::MAX).then_some(Block(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Where the story's address `ip` is in this block.
    pub fn map_ip(self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                if a == 127 && b == 0 {
                    IpAddr::V4(Ipv4Addr::new(127, self.0, c, d))
                } else {
                    ip
                }
            }
            IpAddr::V6(_) => ip,
        }
    }

    /// Whether `ip` lies in this block (for block 0: in 127.0.0.0/16).
    pub fn contains(self, ip: IpAddr) -> bool {
        matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 127 && v4.octets()[1] == self.0)
    }

    /// The scenario text with every address in 127.0.0.0/16 moved into this block, written
    /// forwards (`127.0.0.10`, `ip4:127.0.0.0/24`) or reversed in a DNS name
    /// (`10.0.0.127.in-addr.arpa`, `0.0.127.in-addr.arpa`, `10.0.0.127.bl.test`).
    pub fn map_text(self, text: &str) -> String {
        if self == Block::OWN {
            return text.to_string();
        }
        let n = self.0.to_string();
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len() + 64);
        let mut i = 0;
        while i < bytes.len() {
            let starts_run = is_run(bytes[i]) && (i == 0 || !is_run(bytes[i - 1]));
            if !starts_run {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                out.push(ch);
                i += ch.len_utf8().max(1);
                continue;
            }
            let end = (i..bytes.len())
                .find(|&j| !is_run(bytes[j]))
                .unwrap_or(bytes.len());
            out.push_str(&map_run(&text[i..end], &text[end..], &n));
            i = end;
        }
        out
    }

    /// The addresses of `scenario` a served lab listens on or connects from that lie outside
    /// this block: two labs of the story would meet there.
    pub fn foreign(self, scenario: &Scenario) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = scenario.host_addresses.clone();
        all.push(scenario.sender_ip);
        all.extend(scenario.dns.servers.iter().map(|s| s.address));
        all.extend(scenario.dns.resolver.as_ref().map(|r| r.address));
        let mut out: Vec<IpAddr> = all.into_iter().filter(|ip| !self.contains(*ip)).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Digits and dots: the stuff addresses and reversed-address names are made of.
fn is_run(b: u8) -> bool {
    b.is_ascii_digit() || b == b'.'
}

/// One run of digits and dots, given what follows it.
fn map_run(run: &str, rest: &str, n: &str) -> String {
    let core = run.trim_matches('.');
    let lead = &run[..run.len() - run.trim_start_matches('.').len()];
    let trail = &run[lead.len() + core.len()..];
    let labels: Vec<&str> = core.split('.').collect();
    let octets = labels.iter().all(|l| is_octet(l));
    if core.is_empty() || !octets {
        return run.to_string();
    }
    // Reversed, inside a DNS name: the labels end in 127 and a name goes on after the dot
    // (`in-addr.arpa`, a blocklist zone). The label before 127 is the second octet.
    // Four labels ending in 127 and not starting with it are reversed wherever they stand: a
    // relative owner in a blocklist zone (`2.0.0.127  IN A  127.0.0.4`).
    let name_follows = trail == "." && rest.starts_with(|c: char| c.is_ascii_alphabetic());
    let reversed_alone = labels.len() == 4 && labels[0] != "127";
    if (name_follows || reversed_alone)
        && labels.len() >= 2
        && labels.len() <= 4
        && labels.last() == Some(&"127")
    {
        let second = labels.len() - 2;
        if labels[second] == "0" {
            let mut mapped = labels.clone();
            mapped[second] = n;
            return format!("{lead}{}{trail}", mapped.join("."));
        }
        return run.to_string();
    }
    // Forwards: 127.0.x.y. A CIDR block wider than /16 already covers every lab's block, so
    // only a prefix of 16 or more moves with it.
    if labels.len() == 4 && labels[0] == "127" && labels[1] == "0" {
        let prefix = rest
            .strip_prefix('/')
            .map(|p| p.bytes().take_while(u8::is_ascii_digit).collect::<Vec<_>>());
        let wide = prefix.is_some_and(|p| {
            std::str::from_utf8(&p)
                .ok()
                .and_then(|p| p.parse::<u8>().ok())
                .is_some_and(|p| p < 16)
        });
        if !wide {
            return format!("{lead}127.{n}.{}.{}{trail}", labels[2], labels[3]);
        }
    }
    run.to_string()
}

fn is_octet(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 3
        && label.bytes().all(|b| b.is_ascii_digit())
        && label.parse::<u16>().is_ok_and(|v| v <= 255)
}

/// Loads `text` (a scenario named `name`, from `source`) moved into `block`. The text is
/// loaded as written first, so that a mistake in it is reported where the author wrote it.
pub fn load_in_block(
    name: &str,
    source: &str,
    text: &str,
    block: Block,
) -> Result<Scenario, LoadError> {
    let as_written = load_str(name, source, text)?;
    if block == Block::OWN {
        return Ok(as_written);
    }
    let mut scenario = load_str(name, source, &block.map_text(text))?;
    // The defaults the loader fills in were never in the text.
    for server in &mut scenario.dns.servers {
        server.address = block.map_ip(server.address);
    }
    if let Some(resolver) = &mut scenario.dns.resolver {
        resolver.address = block.map_ip(resolver.address);
    }
    scenario.sender_ip = block.map_ip(scenario.sender_ip);
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: u8) -> Block {
        Block::new(n).unwrap()
    }

    #[test]
    fn forward_addresses_move_into_the_block() {
        assert_eq!(
            b(7).map_text("mx1 IN A 127.0.0.10\n"),
            "mx1 IN A 127.7.0.10\n"
        );
        assert_eq!(b(7).map_text("[127.0.1.41]."), "[127.7.1.41].");
        assert_eq!(b(7).map_text("dns 127.0.0.53:53"), "dns 127.7.0.53:53");
        assert_eq!(
            b(12).map_text("address = \"127.0.0.2\""),
            "address = \"127.12.0.2\""
        );
    }

    #[test]
    fn other_numbers_stay() {
        for text in [
            "2024050801 3600 600 604800 300",
            "\"2024-05-08T20:40:00+01:00\"",
            "ip4:192.0.2.10",
            "v=spf1 a mx -all",
            "1.2.3",
            "4.4.7 Message delayed",
            "127.1.0.4",
            "::1",
            "500.0.0.127.x",
        ] {
            assert_eq!(b(3).map_text(text), text);
        }
    }

    #[test]
    fn spf_terms_move_unless_wider_than_a_block() {
        assert_eq!(
            b(5).map_text("v=spf1 ip4:127.0.0.2 ip4:127.0.0.0/24 ip4:127.0.0.0/8 -all"),
            "v=spf1 ip4:127.5.0.2 ip4:127.5.0.0/24 ip4:127.0.0.0/8 -all"
        );
    }

    #[test]
    fn reversed_names_move_too() {
        assert_eq!(
            b(9).map_text("origin = \"0.0.127.in-addr.arpa\""),
            "origin = \"0.9.127.in-addr.arpa\""
        );
        assert_eq!(
            b(9).map_text("2.0.0.127.in-addr.arpa. PTR srv01."),
            "2.0.9.127.in-addr.arpa. PTR srv01."
        );
        // In a blocklist zone the owner is relative: reversed all the same.
        assert_eq!(
            b(9).map_text("2.0.0.127  300 IN A 127.0.0.4\nname = \"2.0.0.127.zen.spamhaus.test\""),
            "2.0.9.127  300 IN A 127.9.0.4\nname = \"2.0.9.127.zen.spamhaus.test\""
        );
        assert_eq!(b(9).map_text("0.127.in-addr.arpa"), "9.127.in-addr.arpa");
        // The PTR of an address whose last octet is 127: reversed, not forwards.
        assert_eq!(
            b(9).map_text("127.0.0.127.in-addr.arpa"),
            "127.0.9.127.in-addr.arpa"
        );
    }

    #[test]
    fn block_zero_is_the_story_as_written() {
        let text = "127.0.0.10 2.0.0.127.in-addr.arpa";
        assert_eq!(Block::OWN.map_text(text), text);
        assert_eq!(Block::new(255), None);
    }

    #[test]
    fn map_ip_matches_map_text() {
        for n in [1u8, 30, 254] {
            for ip in ["127.0.0.2", "127.0.1.41", "127.0.0.53"] {
                let mapped = b(n).map_ip(ip.parse().unwrap()).to_string();
                assert_eq!(b(n).map_text(ip), mapped);
                assert!(b(n).contains(mapped.parse().unwrap()));
            }
        }
    }

    #[test]
    fn multibyte_text_survives() {
        assert_eq!(
            b(2).map_text("サーバー 127.0.0.10 へ接続"),
            "サーバー 127.2.0.10 へ接続"
        );
    }

    #[test]
    fn every_catalog_story_loads_in_a_block_with_nothing_left_outside() {
        for name in crate::catalog::names() {
            let text = crate::catalog::text(name).unwrap();
            let scenario = load_in_block(name, name, text, b(17)).unwrap();
            assert_eq!(b(17).foreign(&scenario), Vec::<IpAddr>::new(), "{name}");
            assert!(!scenario.file.title.is_empty());
        }
    }
}
