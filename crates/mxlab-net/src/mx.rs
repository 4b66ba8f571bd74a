//! Where mail for a domain goes, per RFC 5321 §5.1 and RFC 7505: the MX hosts by preference
//! and their addresses, the implicit MX (the domain's own address), or why there is none.

use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordType};

use crate::dns::{Answer, DnsClient, Exchange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxHost {
    pub name: String,
    pub preference: u16,
    /// The host's addresses, or the failed answer when it has none.
    pub addresses: Result<Vec<IpAddr>, Answer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// MX records, lowest preference first (ties in answer order).
    Mx(Vec<MxHost>),
    /// No MX records; the domain's own addresses serve (RFC 5321 §5.1).
    Implicit(Vec<IpAddr>),
    /// `MX 0 .`: the domain accepts no mail (RFC 7505).
    NullMx,
    /// The domain exists but has neither MX nor address records.
    NoMailRecords,
    /// The domain does not exist.
    NxDomain,
    /// A lookup failed (SERVFAIL, timeout, refused, …): a transient condition.
    LookupFailed { question: String, answer: Answer },
}

/// The route and every question asked to find it.
#[derive(Clone, Debug)]
pub struct Resolution {
    pub domain: String,
    pub route: Route,
    pub exchanges: Vec<Exchange>,
}

impl Resolution {
    /// Every address to try, in order, with the host name it belongs to.
    pub fn targets(&self) -> Vec<(String, IpAddr)> {
        match &self.route {
            Route::Mx(hosts) => hosts
                .iter()
                .flat_map(|h| h.addresses.iter().flatten().map(|ip| (h.name.clone(), *ip)))
                .collect(),
            Route::Implicit(ips) => ips.iter().map(|ip| (self.domain.clone(), *ip)).collect(),
            _ => Vec::new(),
        }
    }
}

fn failed(exchange: &Exchange) -> Route {
    Route::LookupFailed {
        question: format!("{} {}", exchange.name, exchange.rtype),
        answer: exchange.answer.clone(),
    }
}

/// The addresses of `name`: A, then AAAA when there is no A.
async fn addresses(
    client: &DnsClient<'_>,
    name: &Name,
    log: &mut Vec<Exchange>,
) -> Result<Vec<IpAddr>, Answer> {
    let mut last = Answer::NoData;
    for rtype in [RecordType::A, RecordType::AAAA] {
        let exchange = client.query(name, rtype).await;
        log.push(exchange.clone());
        match exchange.answer {
            Answer::Records(records) => {
                let ips: Vec<IpAddr> = records
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                        _ => None,
                    })
                    .collect();
                if !ips.is_empty() {
                    return Ok(ips);
                }
            }
            Answer::NoData => {}
            other => {
                last = other;
                break;
            }
        }
    }
    Err(last)
}

pub async fn resolve(client: &DnsClient<'_>, domain: &str) -> Resolution {
    let mut exchanges = Vec::new();
    let route = match Name::from_ascii(domain) {
        Err(e) => Route::LookupFailed {
            question: domain.to_string(),
            answer: Answer::Error(e.to_string()),
        },
        Ok(mut name) => {
            name.set_fqdn(true);
            route(client, &name, &mut exchanges).await
        }
    };
    Resolution {
        domain: domain.to_string(),
        route,
        exchanges,
    }
}

async fn route(client: &DnsClient<'_>, name: &Name, log: &mut Vec<Exchange>) -> Route {
    let mx = client.query(name, RecordType::MX).await;
    log.push(mx.clone());
    match &mx.answer {
        Answer::NxDomain => Route::NxDomain,
        Answer::NoData => match addresses(client, name, log).await {
            Ok(ips) => Route::Implicit(ips),
            Err(Answer::NoData) => Route::NoMailRecords,
            Err(Answer::NxDomain) => Route::NxDomain,
            Err(_) => failed(log.last().expect("an address question was asked")),
        },
        Answer::Records(records) => {
            let mut hosts: Vec<(u16, Name)> = records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(mx) => Some((mx.preference, mx.exchange.clone())),
                    _ => None,
                })
                .collect();
            if hosts.len() == 1 && hosts[0].1.is_root() {
                return Route::NullMx;
            }
            hosts.sort_by_key(|(preference, _)| *preference);
            let mut out = Vec::new();
            for (preference, exchange) in hosts {
                let addresses = addresses(client, &exchange, log).await;
                out.push(MxHost {
                    name: exchange.to_ascii().trim_end_matches('.').to_string(),
                    preference,
                    addresses,
                });
            }
            Route::Mx(out)
        }
        _ => failed(&mx),
    }
}
