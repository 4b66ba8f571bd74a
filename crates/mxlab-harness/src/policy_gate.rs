//! The remote hosts' other receiver policies — DNS blocklists, reverse DNS, DMARC — asked
//! through a scenario's DNS with mxlab-policy, as the receiving server's own resolver would
//! ask.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use mxlab_net::{Clock, DnsClient, Network};
use mxlab_policy::dmarc::{self, Found, Identifiers};
use mxlab_policy::dnsbl::{self, Listing as ZoneListing};
use mxlab_policy::{PublicSuffixes, rdns};
use mxlab_smtp::gates::{DmarcVerdict, DnsblVerdict, Gates, Listing, ReverseDnsVerdict};
use mxlab_vocab::{ReverseDns, SpfResult};

/// Per-query timeout and tries of a receiver's resolver.
const TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 2;

pub struct PolicyGate<N> {
    pub net: N,
    pub clock: Clock,
    pub server: SocketAddr,
    /// The world's public suffixes, for DMARC's organizational domains.
    pub suffixes: PublicSuffixes,
}

impl<N: Network> PolicyGate<N> {
    fn client(&self) -> DnsClient<'_> {
        DnsClient::new(
            &self.net,
            self.clock.clone(),
            self.server,
            TIMEOUT,
            ATTEMPTS,
        )
    }
}

#[async_trait]
impl<N: Network> Gates for PolicyGate<N> {
    async fn dnsbl(&self, ip: IpAddr, zones: &[String]) -> DnsblVerdict {
        let client = self.client();
        let mut said = Vec::new();
        for zone in zones {
            let lookup = dnsbl::lookup(&client, ip, zone).await;
            match lookup.listing {
                ZoneListing::Listed { codes, reason } => {
                    let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
                    let why = reason
                        .as_deref()
                        .map(|r| format!(", \"{r}\""))
                        .unwrap_or_default();
                    said.push(format!(
                        "listed on {} ({}{why})",
                        lookup.zone,
                        codes.join(" ")
                    ));
                    return DnsblVerdict {
                        note: format!("DNSBL {ip}: {}", said.join("; ")),
                        listing: Some(Listing {
                            zone: lookup.zone,
                            reason,
                        }),
                    };
                }
                ZoneListing::NotListed => said.push(format!("not on {}", lookup.zone)),
                ZoneListing::QueryRefused { .. } => {
                    said.push(format!("{} refused the query", lookup.zone))
                }
                ZoneListing::Unknown(why) => said.push(format!("{}: {why}", lookup.zone)),
            }
        }
        DnsblVerdict {
            listing: None,
            note: format!("DNSBL {ip}: {}", said.join("; ")),
        }
    }

    async fn reverse_dns(&self, ip: IpAddr) -> ReverseDnsVerdict {
        let lookup = rdns::lookup(&self.client(), ip).await;
        let detail = match lookup.result {
            ReverseDns::Confirmed => lookup.confirmed_name().unwrap_or_default().to_string(),
            ReverseDns::Missing | ReverseDns::TempError if lookup.names.is_empty() => {
                format!("{} PTR → {}", lookup.ptr.name, lookup.ptr.answer.status())
            }
            _ => lookup
                .forward
                .iter()
                .map(|f| {
                    let addresses: Vec<String> = rdns::addresses(&f.answer)
                        .iter()
                        .map(|a| a.to_string())
                        .collect();
                    if addresses.is_empty() {
                        format!("{} → {}", f.name, f.answer.status())
                    } else {
                        format!("{} → {}", f.name, addresses.join(" "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        ReverseDnsVerdict {
            result: lookup.result,
            note: format!("reverse DNS of {ip}: {} ({detail})", lookup.result),
        }
    }

    async fn dmarc(
        &self,
        message: &[u8],
        mail_from: &str,
        helo: &str,
        spf: SpfResult,
    ) -> DmarcVerdict {
        let Some(from_domain) = dmarc::from_domain(message) else {
            return DmarcVerdict {
                disposition: mxlab_vocab::DmarcDisposition::None,
                from_domain: String::new(),
                note: "DMARC: no single From address, no policy to apply".into(),
            };
        };
        let spf_domain = match mail_from.rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => domain.to_string(),
            _ => helo.to_string(),
        };
        let discovery = dmarc::discover(&self.client(), &from_domain, &self.suffixes).await;
        let evaluation = dmarc::evaluate(
            Identifiers {
                from_domain: &from_domain,
                spf_domain: &spf_domain,
                spf,
            },
            &discovery.found,
            &self.suffixes,
            dmarc::sample(message),
        );
        let policy = match &discovery.found {
            Found::Record { at, text, .. } => format!("\"{text}\" at _dmarc.{at}"),
            Found::Nothing => "no DMARC record".into(),
            Found::Unusable { at, why, .. } => format!("an unusable record at _dmarc.{at}: {why}"),
            Found::Several { at } => format!("several records at _dmarc.{at}"),
            Found::TempError { name, status } => format!("{name} TXT → {status}"),
        };
        let aligned = if evaluation.spf_aligned {
            "aligned"
        } else {
            "not aligned"
        };
        let sampled = if evaluation.sampled_out {
            ", outside pct"
        } else {
            ""
        };
        DmarcVerdict {
            disposition: evaluation.disposition,
            note: format!(
                "DMARC for {from_domain}: {} ({policy}; SPF {spf} for {spf_domain}, {aligned} ({}){sampled})",
                evaluation.disposition,
                evaluation.aspf.as_str()
            ),
            from_domain,
        }
    }
}
