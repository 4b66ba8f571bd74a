//! The seam for the receiver policies a host applies besides SPF: what its own resolver says
//! about the connecting IP (DNS blocklists, reverse DNS) and about the sender's DMARC policy.
//! The harness provides [`Gates`] over mxlab-policy and the scenario's DNS, so this crate
//! needs neither, and the same checks run on the virtual clock in runs and on sockets under
//! `serve`.

use std::net::IpAddr;

use async_trait::async_trait;
use mxlab_vocab::{DmarcDisposition, DnsblResult, ReverseDns, SpfResult};

/// The first of the host's zones that lists the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub zone: String,
    /// The zone's TXT record for the address, when it has one.
    pub reason: Option<String>,
}

/// What the host's blocklist zones say about the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsblVerdict {
    pub listing: Option<Listing>,
    /// One line for the transcript: which zones were asked and what they said.
    pub note: String,
}

impl DnsblVerdict {
    pub fn result(&self) -> DnsblResult {
        if self.listing.is_some() {
            DnsblResult::Listed
        } else {
            DnsblResult::NotListed
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReverseDnsVerdict {
    pub result: ReverseDns,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmarcVerdict {
    pub disposition: DmarcDisposition,
    /// The From domain the policy belongs to (empty when the message names none).
    pub from_domain: String,
    pub note: String,
}

#[async_trait]
pub trait Gates: Send + Sync {
    /// Asks each of `zones` about `ip` (RFC 5782).
    async fn dnsbl(&self, ip: IpAddr, zones: &[String]) -> DnsblVerdict;
    /// The PTR of `ip` and its forward confirmation.
    async fn reverse_dns(&self, ip: IpAddr) -> ReverseDnsVerdict;
    /// The DMARC disposition of `message` (its From header), with SPF's result for the
    /// envelope sender `mail_from` (or `helo` for a null sender).
    async fn dmarc(
        &self,
        message: &[u8],
        mail_from: &str,
        helo: &str,
        spf: SpfResult,
    ) -> DmarcVerdict;
}
