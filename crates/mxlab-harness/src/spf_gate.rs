//! The remote hosts' SPF gate: mxlab-spf's check_host() asked through a scenario's DNS, as
//! the receiving server's own resolver would ask it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mxlab_dns::{DnsWorld, Transport};
use mxlab_net::{BoxStream, Clock, DnsClient, Network};
use mxlab_smtp::spf::SpfCheck;
use mxlab_spf::{NetResolver, Request, SpfResult, check_host};

/// A network with only the scenario's DNS in it: what a remote host needs to check SPF in a
/// run, without a handle on the whole world (which holds the host).
pub struct DnsOnly {
    pub dns: Arc<DnsWorld>,
    /// The address queries come from.
    pub from: IpAddr,
}

#[async_trait]
impl Network for DnsOnly {
    async fn dns_udp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        self.ask(server, query, Transport::Udp).await
    }

    async fn dns_tcp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        self.ask(server, query, Transport::Tcp).await
    }

    async fn connect(&self, _from: IpAddr, _to: SocketAddr) -> io::Result<BoxStream> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "an SPF check opens no connections",
        ))
    }
}

impl DnsOnly {
    async fn ask(
        &self,
        server: SocketAddr,
        query: Vec<u8>,
        transport: Transport,
    ) -> io::Result<Vec<u8>> {
        let src = SocketAddr::new(self.from, 53001);
        match self
            .dns
            .handle(server.ip(), &query, src, transport, self)
            .await
        {
            None => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "no DNS server at that address",
            )),
            Some(Some(reply)) => Ok(reply),
            Some(None) => std::future::pending().await,
        }
    }
}

/// check_host() for the MAIL FROM identity, through `net` to the DNS server at `server`.
pub struct SpfGate<N> {
    pub net: N,
    pub clock: Clock,
    pub server: SocketAddr,
    /// The receiving host's name, for `%{r}`.
    pub receiver: String,
}

/// Per-query timeout and tries of a receiver's resolver (a DNS failure becomes temperror).
const TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 2;

#[async_trait]
impl<N: Network> SpfCheck for SpfGate<N> {
    async fn check(&self, ip: IpAddr, mail_from: &str, helo: &str) -> SpfResult {
        let client = DnsClient::new(
            &self.net,
            self.clock.clone(),
            self.server,
            TIMEOUT,
            ATTEMPTS,
        );
        let resolver = NetResolver::new(client);
        let mut request = Request::mail_from(ip, mail_from, helo);
        request.receiver = self.receiver.clone();
        request.timestamp = self.clock.now().unix_timestamp().max(0) as u64;
        check_host(&resolver, &request).await.result
    }
}
