//! DNS blocklists (RFC 5782): is the client's IP listed under a zone? The address is asked
//! for with its octets reversed under the zone (`2.0.0.127.zen.spamhaus.org`; nibbles under
//! it for IPv6); an A record in 127.0.0.0/8 means listed, and the TXT record at the same name
//! says why. NXDOMAIN means not listed.

use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::rr::{Name, RData, RecordType};
use mxlab_net::{Answer, DnsClient, Exchange};
use mxlab_vocab::DnsblResult;

/// What one zone says about an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Listed: the return codes (127.0.0.x) and the TXT reason, when the zone gives one.
    Listed {
        codes: Vec<Ipv4Addr>,
        reason: Option<String>,
    },
    NotListed,
    /// The list answered with an error code (127.255.255.0/24: Spamhaus's "query refused",
    /// "open resolver", "over the free query limit"): the answer says nothing about the IP.
    QueryRefused {
        codes: Vec<Ipv4Addr>,
    },
    /// The question got no usable answer (SERVFAIL, timeout, an address outside 127/8).
    Unknown(String),
}

impl Listing {
    /// Listed or not, when the zone said.
    pub fn result(&self) -> Option<DnsblResult> {
        match self {
            Listing::Listed { .. } => Some(DnsblResult::Listed),
            Listing::NotListed => Some(DnsblResult::NotListed),
            Listing::QueryRefused { .. } | Listing::Unknown(_) => None,
        }
    }
}

/// One zone asked about one address: the questions and what they mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub zone: String,
    pub ip: IpAddr,
    /// The A question (`2.0.0.127.zone.`).
    pub a: Exchange,
    /// The TXT question, asked only for a listing.
    pub txt: Option<Exchange>,
    pub listing: Listing,
}

/// The name to ask under `zone` for `ip`; `None` when the zone is no valid name.
pub fn query_name(ip: IpAddr, zone: &str) -> Option<Name> {
    let zone = zone.trim().trim_end_matches('.');
    if zone.is_empty() {
        return None;
    }
    let reversed = match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}")
        }
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .rev()
            .flat_map(|byte| [byte & 0x0f, byte >> 4])
            .map(|nibble| format!("{nibble:x}"))
            .collect::<Vec<_>>()
            .join("."),
    };
    Name::from_ascii(format!("{reversed}.{zone}.")).ok()
}

/// 127.255.255.0/24: the return codes lists use for errors, not listings.
fn is_error_code(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 127 && b == 255 && c == 255
}

/// What the A answer (and the TXT answer, if asked) say.
pub fn read(a: &Answer, txt: Option<&Answer>) -> Listing {
    match a {
        Answer::NxDomain | Answer::NoData => Listing::NotListed,
        Answer::Records(records) => {
            let codes: Vec<Ipv4Addr> = records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(a.0),
                    _ => None,
                })
                .collect();
            let listed: Vec<Ipv4Addr> = codes
                .iter()
                .copied()
                .filter(|c| c.octets()[0] == 127 && !is_error_code(*c))
                .collect();
            if !listed.is_empty() {
                return Listing::Listed {
                    codes: listed,
                    reason: txt.and_then(reason),
                };
            }
            if !codes.is_empty() && codes.iter().all(|c| is_error_code(*c)) {
                return Listing::QueryRefused { codes };
            }
            Listing::Unknown(format!(
                "answered {}, outside 127.0.0.0/8: not a blocklist answer",
                codes
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        other => Listing::Unknown(other.status()),
    }
}

/// The TXT reason: the strings of the first record, joined.
fn reason(txt: &Answer) -> Option<String> {
    txt.txt_texts().into_iter().next()
}

/// Asks `zone` about `ip`: the A record, and for a listing the TXT reason.
pub async fn lookup(client: &DnsClient<'_>, ip: IpAddr, zone: &str) -> Lookup {
    let zone = zone.trim().trim_end_matches('.').to_ascii_lowercase();
    let Some(name) = query_name(ip, &zone) else {
        let a = Exchange {
            name: format!("{ip} under {zone}"),
            rtype: RecordType::A,
            server: client.server,
            answer: Answer::Error("not a valid zone name".into()),
        };
        return Lookup {
            listing: read(&a.answer, None),
            zone,
            ip,
            a,
            txt: None,
        };
    };
    let a = client.query(&name, RecordType::A).await;
    let txt = if matches!(read(&a.answer, None), Listing::Listed { .. }) {
        Some(client.query(&name, RecordType::TXT).await)
    } else {
        None
    };
    let listing = read(&a.answer, txt.as_ref().map(|t| &t.answer));
    Lookup {
        zone,
        ip,
        a,
        txt,
        listing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, TXT};

    fn a(ips: &[[u8; 4]]) -> Answer {
        let name = Name::from_ascii("2.0.0.127.bl.test.").unwrap();
        Answer::Records(
            ips.iter()
                .map(|o| {
                    Record::from_rdata(name.clone(), 60, RData::A(A::from(Ipv4Addr::from(*o))))
                })
                .collect(),
        )
    }

    fn txt(text: &str) -> Answer {
        let name = Name::from_ascii("2.0.0.127.bl.test.").unwrap();
        Answer::Records(vec![Record::from_rdata(
            name,
            60,
            RData::TXT(TXT::new(vec![text.to_string()])),
        )])
    }

    #[test]
    fn names_are_reversed_octets_and_nibbles_under_the_zone() {
        let v4 = query_name("192.0.2.99".parse().unwrap(), "zen.spamhaus.org").unwrap();
        assert_eq!(v4.to_ascii(), "99.2.0.192.zen.spamhaus.org.");
        let v6 = query_name("2001:db8::1".parse().unwrap(), "bl.test.").unwrap();
        assert!(v6.to_ascii().starts_with(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test"
        ));
        assert!(query_name("127.0.0.2".parse().unwrap(), " . ").is_none());
    }

    #[test]
    fn an_address_in_127_8_is_a_listing_with_its_txt_reason() {
        let listed = read(
            &a(&[[127, 0, 0, 2]]),
            Some(&txt("https://example.test/why")),
        );
        assert_eq!(
            listed,
            Listing::Listed {
                codes: vec![Ipv4Addr::new(127, 0, 0, 2)],
                reason: Some("https://example.test/why".into())
            }
        );
        assert_eq!(listed.result(), Some(DnsblResult::Listed));
        assert_eq!(read(&Answer::NxDomain, None), Listing::NotListed);
        assert_eq!(
            read(&Answer::NoData, None).result(),
            Some(DnsblResult::NotListed)
        );
    }

    #[test]
    fn error_codes_and_foreign_answers_are_no_listing() {
        assert!(matches!(
            read(&a(&[[127, 255, 255, 254]]), None),
            Listing::QueryRefused { .. }
        ));
        assert!(matches!(
            read(&a(&[[10, 0, 0, 1]]), None),
            Listing::Unknown(_)
        ));
        assert_eq!(read(&Answer::ServFail, None).result(), None);
        assert_eq!(read(&Answer::Timeout, None).result(), None);
    }
}
