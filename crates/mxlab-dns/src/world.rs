//! A scenario's whole DNS: its authoritative servers, the sender's resolver in front of them,
//! and one query log they all write to, in story-time order.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::rr::Name;
use mxlab_net::{Clock, Network};
use mxlab_scenario::Scenario;
use mxlab_scenario::topology::RESOLVER;

use crate::log::{LogEntry, QueryLog};
use crate::resolver::Resolver;
use crate::server::{FakeDns, Placement, Transport};

/// The remote side's resolver: what receivers ask, for SPF. Not a scenario address.
pub const REMOTE_RESOLVER: &str = "remote-resolver";
pub const REMOTE_RESOLVER_ADDRESS: IpAddr = mxlab_scenario::topology::RECEIVER_RESOLVER;

pub struct DnsWorld {
    pub servers: Vec<Arc<FakeDns>>,
    pub resolver: Option<Arc<Resolver>>,
    /// Present with a topology; see [`REMOTE_RESOLVER`].
    pub remote_resolver: Option<Arc<Resolver>>,
    log: Arc<Mutex<QueryLog>>,
}

/// Who answers at an address.
pub enum Endpoint<'w> {
    Server(&'w FakeDns),
    Resolver(&'w Resolver),
}

impl DnsWorld {
    /// `port` is where authoritative servers listen (53 in memory; the `serve` port on
    /// sockets), for the resolver to ask them.
    pub fn from_scenario(
        scenario: &Scenario,
        clock: Clock,
        log_capacity: usize,
        port: u16,
    ) -> Result<Self, String> {
        let log = Arc::new(Mutex::new(QueryLog::with_capacity(log_capacity)));
        let placement = Arc::new(Placement {
            all_origins: scenario.zones.iter().map(|z| z.origin.clone()).collect(),
        });
        let faults = &scenario.file.dns.faults;
        let mut servers = Vec::new();
        for spec in &scenario.dns.servers {
            let zones = spec
                .zones
                .iter()
                .map(|&i| scenario.zones[i].clone())
                .collect();
            servers.push(Arc::new(FakeDns::new(
                &spec.name,
                spec.address,
                zones,
                placement.clone(),
                faults.clone(),
                clock.clone(),
                log.clone(),
            )?));
        }
        let resolvers: Vec<Arc<Resolver>> = scenario
            .dns
            .resolver
            .iter()
            .flat_map(|spec| {
                let stubs: Vec<(Name, Vec<IpAddr>)> = scenario
                    .zones
                    .iter()
                    .enumerate()
                    .map(|(i, z)| {
                        (
                            z.origin.clone(),
                            scenario
                                .dns
                                .servers
                                .iter()
                                .filter(|s| s.zones.contains(&i))
                                .map(|s| s.address)
                                .collect(),
                        )
                    })
                    .collect();
                let root_hints = scenario.dns.root_hints(&scenario.zones);
                let sender = Resolver::new(
                    RESOLVER,
                    spec.address,
                    spec.mode,
                    root_hints.clone(),
                    stubs.clone(),
                    port,
                    faults.clone(),
                    clock.clone(),
                    log.clone(),
                );
                // The remote side's own resolver: the same view of the world, none of the sender's
                // resolver faults. Receivers check SPF through it.
                let remote = Resolver::new(
                    REMOTE_RESOLVER,
                    REMOTE_RESOLVER_ADDRESS,
                    spec.mode,
                    root_hints,
                    stubs,
                    port,
                    Vec::new(),
                    clock.clone(),
                    log.clone(),
                );
                [Arc::new(sender), Arc::new(remote)]
            })
            .collect();
        let mut resolvers = resolvers.into_iter();
        let (resolver, remote_resolver) = (resolvers.next(), resolvers.next());
        Ok(DnsWorld {
            remote_resolver,
            servers,
            resolver,
            log,
        })
    }

    pub fn endpoint(&self, ip: IpAddr) -> Option<Endpoint<'_>> {
        for r in self.resolver.iter().chain(&self.remote_resolver) {
            if r.address == ip {
                return Some(Endpoint::Resolver(r));
            }
        }
        self.servers
            .iter()
            .find(|s| s.address == ip)
            .map(|s| Endpoint::Server(s))
    }

    /// Hands a query to whoever listens at `ip`. Outer `None`: nobody does.
    pub async fn handle(
        &self,
        ip: IpAddr,
        bytes: &[u8],
        src: SocketAddr,
        transport: Transport,
        net: &dyn Network,
    ) -> Option<Option<Vec<u8>>> {
        Some(match self.endpoint(ip)? {
            Endpoint::Server(s) => s.handle(bytes, src, transport).await,
            Endpoint::Resolver(r) => r.handle(bytes, transport, net).await,
        })
    }

    /// Where a receiving host asks: its own resolver, or the lone server.
    pub fn receiver_dns(&self) -> IpAddr {
        self.remote_resolver
            .as_ref()
            .map_or_else(|| self.servers[0].address, |r| r.address)
    }

    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.log
            .lock()
            .expect("log lock")
            .entries()
            .cloned()
            .collect()
    }
}
