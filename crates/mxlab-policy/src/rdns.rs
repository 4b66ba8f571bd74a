//! The client IP's reverse DNS, forward-confirmed: its PTR names (`2.0.0.127.in-addr.arpa`,
//! nibbles under `ip6.arpa`), then each name's A or AAAA records — the IP must be among them
//! (FCrDNS, as Postfix's `reject_unknown_client_hostname` and Gmail require).

use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordType};
use mxlab_net::{Answer, DnsClient, Exchange};
use mxlab_vocab::ReverseDns;

/// A receiver follows at most this many PTR names (a long PTR set is a misconfiguration, not a
/// reason to ask forever).
pub const MAX_NAMES: usize = 10;

/// The questions about one IP and what they mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub ip: IpAddr,
    pub ptr: Exchange,
    /// The PTR names, as the answer gave them.
    pub names: Vec<String>,
    /// One forward question per name (A for IPv4, AAAA for IPv6).
    pub forward: Vec<Exchange>,
    pub result: ReverseDns,
}

impl Lookup {
    /// The first name that resolves back to the IP.
    pub fn confirmed_name(&self) -> Option<&str> {
        self.names
            .iter()
            .zip(&self.forward)
            .find(|(_, f)| addresses(&f.answer).contains(&self.ip))
            .map(|(n, _)| n.as_str())
    }
}

/// The reverse-mapping name of `ip`.
pub fn ptr_name(ip: IpAddr) -> Name {
    let text = match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let nibbles: Vec<String> = v6
                .octets()
                .iter()
                .rev()
                .flat_map(|byte| [byte & 0x0f, byte >> 4])
                .map(|n| format!("{n:x}"))
                .collect();
            format!("{}.ip6.arpa.", nibbles.join("."))
        }
    };
    Name::from_ascii(text).expect("a reverse name is always valid")
}

/// The PTR names in an answer.
pub fn names(ptr: &Answer) -> Vec<String> {
    ptr.records()
        .iter()
        .filter_map(|r| match &r.data {
            RData::PTR(p) => Some(p.0.to_ascii()),
            _ => None,
        })
        .collect()
}

/// The addresses in a forward answer.
pub fn addresses(answer: &Answer) -> Vec<IpAddr> {
    answer
        .records()
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn failed(answer: &Answer) -> bool {
    !answer.is_authoritative_outcome()
}

/// The verdict from the PTR answer and the forward answers of its names.
pub fn decide(ip: IpAddr, ptr: &Answer, forward: &[Answer]) -> ReverseDns {
    match ptr {
        Answer::NxDomain | Answer::NoData => return ReverseDns::Missing,
        Answer::Records(_) if names(ptr).is_empty() => return ReverseDns::Missing,
        Answer::Records(_) => {}
        _ => return ReverseDns::TempError,
    }
    if forward.iter().any(|f| addresses(f).contains(&ip)) {
        ReverseDns::Confirmed
    } else if forward.iter().any(failed) {
        // A name that could not be resolved for now might still have confirmed.
        ReverseDns::TempError
    } else {
        ReverseDns::Mismatch
    }
}

/// Asks for the PTR of `ip` and the addresses of each name it gives.
pub async fn lookup(client: &DnsClient<'_>, ip: IpAddr) -> Lookup {
    let ptr = client.query(&ptr_name(ip), RecordType::PTR).await;
    let found = names(&ptr.answer);
    let rtype = match ip {
        IpAddr::V4(_) => RecordType::A,
        IpAddr::V6(_) => RecordType::AAAA,
    };
    let mut forward = Vec::new();
    for name in found.iter().take(MAX_NAMES) {
        let exchange = match Name::from_ascii(name) {
            Ok(n) => client.query(&n, rtype).await,
            Err(e) => Exchange {
                name: name.clone(),
                rtype,
                server: client.server,
                answer: Answer::Error(e.to_string()),
            },
        };
        forward.push(exchange);
    }
    let answers: Vec<Answer> = forward.iter().map(|f| f.answer.clone()).collect();
    Lookup {
        ip,
        result: decide(ip, &ptr.answer, &answers),
        names: found,
        ptr,
        forward,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, PTR};
    use std::net::Ipv4Addr;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

    fn ptr(target: &str) -> Answer {
        Answer::Records(vec![Record::from_rdata(
            ptr_name(IP),
            60,
            RData::PTR(PTR(Name::from_ascii(target).unwrap())),
        )])
    }

    fn a(ip: [u8; 4]) -> Answer {
        Answer::Records(vec![Record::from_rdata(
            Name::from_ascii("srv01.mycompany.test.").unwrap(),
            60,
            RData::A(A::from(Ipv4Addr::from(ip))),
        )])
    }

    #[test]
    fn reverse_names() {
        assert_eq!(ptr_name(IP).to_ascii(), "2.0.0.127.in-addr.arpa.");
        assert!(
            ptr_name("::1".parse().unwrap())
                .to_ascii()
                .starts_with("1.0.0.0.0.0.0.0")
        );
        assert!(
            ptr_name("::1".parse().unwrap())
                .to_ascii()
                .ends_with(".ip6.arpa.")
        );
    }

    #[test]
    fn confirmed_missing_mismatch_and_temporary() {
        let p = ptr("srv01.mycompany.test.");
        assert_eq!(decide(IP, &p, &[a([127, 0, 0, 2])]), ReverseDns::Confirmed);
        assert_eq!(decide(IP, &Answer::NxDomain, &[]), ReverseDns::Missing);
        assert_eq!(decide(IP, &Answer::NoData, &[]), ReverseDns::Missing);
        assert_eq!(decide(IP, &p, &[a([127, 0, 0, 9])]), ReverseDns::Mismatch);
        assert_eq!(decide(IP, &p, &[Answer::NxDomain]), ReverseDns::Mismatch);
        assert_eq!(decide(IP, &p, &[Answer::ServFail]), ReverseDns::TempError);
        assert_eq!(decide(IP, &Answer::Timeout, &[]), ReverseDns::TempError);
        assert_eq!(decide(IP, &Answer::Refused, &[]), ReverseDns::TempError);
    }
}
