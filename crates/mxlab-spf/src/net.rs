//! [`SpfResolver`] over mxlab's DNS stub, so the engine asks the fake DNS in memory on the
//! virtual clock (a scenario run's `Network`) or any server on real sockets (`RealNetwork`).

use hickory_proto::rr::{Name, RData, RecordType};
use mxlab_net::{Answer, DnsClient};

use crate::resolver::{Lookup, QueryType, Rdata, SpfResolver};

pub struct NetResolver<'a> {
    client: DnsClient<'a>,
}

impl<'a> NetResolver<'a> {
    pub fn new(client: DnsClient<'a>) -> Self {
        NetResolver { client }
    }

    pub fn client(&self) -> &DnsClient<'a> {
        &self.client
    }
}

/// The deprecated SPF RR type (RFC 4408 §3.1.1; removed by RFC 7208 §3.1).
const SPF_RR: u16 = 99;

fn record_type(qtype: QueryType) -> RecordType {
    match qtype {
        QueryType::A => RecordType::A,
        QueryType::Aaaa => RecordType::AAAA,
        QueryType::Mx => RecordType::MX,
        QueryType::Txt => RecordType::TXT,
        QueryType::Ptr => RecordType::PTR,
        QueryType::Spf => RecordType::from(SPF_RR),
    }
}

/// Character-strings of an RR hickory does not know (type 99): length-prefixed runs.
fn character_strings(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = bytes.split_first() {
        let len = usize::from(len);
        if rest.len() < len {
            return None;
        }
        out.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Some(out)
}

fn rdata(data: &RData) -> Option<Rdata> {
    Some(match data {
        RData::A(a) => Rdata::A(a.0),
        RData::AAAA(a) => Rdata::Aaaa(a.0),
        RData::MX(mx) => Rdata::Mx {
            preference: mx.preference,
            exchange: mx.exchange.to_ascii(),
        },
        RData::TXT(txt) => Rdata::Txt(txt.txt_data.iter().map(|s| s.to_vec()).collect()),
        RData::PTR(ptr) => Rdata::Ptr(ptr.0.to_ascii()),
        RData::Unknown { code, rdata } if u16::from(*code) == SPF_RR => {
            Rdata::Txt(character_strings(&rdata.anything)?)
        }
        _ => return None,
    })
}

/// The name as raw labels: SPF targets may hold any visible character (`foo:bar/baz.example`),
/// which hickory's text parser would reject or reinterpret.
pub fn wire_name(name: &str) -> Option<Name> {
    let name = name.strip_suffix('.').unwrap_or(name);
    Name::from_labels(name.split('.').map(str::as_bytes)).ok()
}

impl SpfResolver for NetResolver<'_> {
    async fn lookup(&self, name: &str, qtype: QueryType) -> Lookup {
        let Some(wire) = wire_name(name) else {
            return Lookup::Error(format!("{name:?} cannot be put in a query"));
        };
        match self.client.query(&wire, record_type(qtype)).await.answer {
            Answer::Records(records) => {
                Lookup::Records(records.iter().filter_map(|r| rdata(&r.data)).collect())
            }
            Answer::NoData => Lookup::NoData,
            Answer::NxDomain => Lookup::NxDomain,
            Answer::Timeout => Lookup::Timeout,
            other => Lookup::Error(other.status()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_99_character_strings() {
        assert_eq!(
            character_strings(b"\x06v=spf1\x05 -all"),
            Some(vec![b"v=spf1".to_vec(), b" -all".to_vec()])
        );
        assert_eq!(character_strings(b""), Some(vec![]));
        assert_eq!(character_strings(b"\x09short"), None);
    }

    #[test]
    fn names_keep_odd_characters() {
        let name = wire_name("foo:bar/baz.example.com").unwrap();
        assert_eq!(name.num_labels(), 3);
        assert!(wire_name(&"a".repeat(64)).is_none());
    }
}
