//! A scenario's whole DNS: its authoritative servers, the sender's resolver in front of them,
//! and one query log they all write to, in story-time order.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::rr::Name;
use mxlab_net::{Clock, Network};
use mxlab_scenario::Scenario;

use crate::log::{LogEntry, QueryLog};
use crate::resolver::Resolver;
use crate::server::{FakeDns, Placement, Transport};

pub struct DnsWorld {
    pub servers: Vec<Arc<FakeDns>>,
    pub resolver: Option<Arc<Resolver>>,
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
        let resolver = scenario.dns.resolver.as_ref().map(|spec| {
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
            Arc::new(Resolver::new(
                spec.address,
                spec.mode,
                scenario.dns.root_hints(&scenario.zones),
                stubs,
                port,
                faults.clone(),
                clock.clone(),
                log.clone(),
            ))
        });
        Ok(DnsWorld {
            servers,
            resolver,
            log,
        })
    }

    pub fn endpoint(&self, ip: IpAddr) -> Option<Endpoint<'_>> {
        if let Some(r) = self.resolver.as_deref().filter(|r| r.address == ip) {
            return Some(Endpoint::Resolver(r));
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

    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.log
            .lock()
            .expect("log lock")
            .entries()
            .cloned()
            .collect()
    }
}
