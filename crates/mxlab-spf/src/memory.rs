//! A resolver over a table, for tests, examples and the conformance runner: names are
//! case-insensitive, CNAMEs are followed, a known name without the asked type is NODATA and an
//! unknown name NXDOMAIN; failures can be scripted per name and type.

use std::collections::HashMap;

use crate::name::strip_root;
use crate::resolver::{Lookup, QueryType, Rdata, SpfResolver};

#[derive(Clone, Debug, Default)]
pub struct MemoryResolver {
    records: HashMap<(String, QueryType), Vec<Rdata>>,
    scripted: HashMap<(String, QueryType), Lookup>,
    /// What every type not otherwise listed at a name answers (e.g. a timeout).
    fallback: HashMap<String, Lookup>,
    cnames: HashMap<String, String>,
}

fn key(name: &str) -> String {
    strip_root(name).to_ascii_lowercase()
}

impl MemoryResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record; the type follows from the data (TXT for [`Rdata::Txt`]).
    pub fn add(&mut self, name: &str, data: Rdata) -> &mut Self {
        let qtype = match &data {
            Rdata::A(_) => QueryType::A,
            Rdata::Aaaa(_) => QueryType::Aaaa,
            Rdata::Mx { .. } => QueryType::Mx,
            Rdata::Txt(_) => QueryType::Txt,
            Rdata::Ptr(_) => QueryType::Ptr,
        };
        self.add_typed(name, qtype, data)
    }

    /// Adds a record under an explicit type (type 99 SPF carries TXT-shaped data).
    pub fn add_typed(&mut self, name: &str, qtype: QueryType, data: Rdata) -> &mut Self {
        self.records
            .entry((key(name), qtype))
            .or_default()
            .push(data);
        self
    }

    /// A TXT record of one string.
    pub fn txt(&mut self, name: &str, text: &str) -> &mut Self {
        self.add(name, Rdata::Txt(vec![text.as_bytes().to_vec()]))
    }

    pub fn a(&mut self, name: &str, ip: &str) -> &mut Self {
        match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => self.add(name, Rdata::A(v4)),
            Ok(std::net::IpAddr::V6(v6)) => self.add(name, Rdata::Aaaa(v6)),
            Err(_) => self,
        }
    }

    pub fn mx(&mut self, name: &str, preference: u16, exchange: &str) -> &mut Self {
        self.add(
            name,
            Rdata::Mx {
                preference,
                exchange: exchange.to_string(),
            },
        )
    }

    pub fn ptr(&mut self, name: &str, target: &str) -> &mut Self {
        self.add(name, Rdata::Ptr(target.to_string()))
    }

    pub fn cname(&mut self, name: &str, target: &str) -> &mut Self {
        self.cnames.insert(key(name), key(target));
        self
    }

    /// Makes `name`/`qtype` answer `lookup` (a timeout, a SERVFAIL, …).
    pub fn script(&mut self, name: &str, qtype: QueryType, lookup: Lookup) -> &mut Self {
        self.scripted.insert((key(name), qtype), lookup);
        self
    }

    /// Makes every type without records at `name` answer `lookup`.
    pub fn fallback(&mut self, name: &str, lookup: Lookup) -> &mut Self {
        self.fallback.insert(key(name), lookup);
        self
    }

    fn known(&self, name: &str) -> bool {
        self.records.keys().any(|(n, _)| n == name)
            || self.scripted.keys().any(|(n, _)| n == name)
            || self.fallback.contains_key(name)
            || self.cnames.contains_key(name)
    }

    /// The answer, synchronously.
    pub fn answer(&self, name: &str, qtype: QueryType) -> Lookup {
        let mut name = key(name);
        // Bounded: a CNAME loop ends as an error, as a resolver reports it.
        for _ in 0..16 {
            if let Some(lookup) = self.scripted.get(&(name.clone(), qtype)) {
                return lookup.clone();
            }
            if let Some(records) = self.records.get(&(name.clone(), qtype)) {
                return Lookup::Records(records.clone());
            }
            if let Some(target) = self.cnames.get(&name) {
                name = target.clone();
                continue;
            }
            if let Some(lookup) = self.fallback.get(&name) {
                return lookup.clone();
            }
            return if self.known(&name) {
                Lookup::NoData
            } else {
                Lookup::NxDomain
            };
        }
        Lookup::Error("CNAME chain too long or looping".into())
    }
}

impl SpfResolver for MemoryResolver {
    async fn lookup(&self, name: &str, qtype: QueryType) -> Lookup {
        self.answer(name, qtype)
    }
}
