//! Who serves DNS in a scenario: the authoritative servers with their zones and the sender's
//! resolver, validated and with the defaults filled in.

use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::rr::Name;

use crate::model::{Dns, ResolverMode};
use crate::zone::ParsedZone;

/// Where the lone server or the resolver sits when the scenario does not say.
pub const DEFAULT_DNS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 53));
/// The name of the lone server of a scenario without `dns.servers`.
pub const DEFAULT_SERVER: &str = "dns";
/// Where the receiving side's own resolver sits (remote hosts check SPF through it). Not for
/// scenarios to use.
pub const RECEIVER_RESOLVER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 54));

/// What faults call the resolver in `server = …`.
pub const RESOLVER: &str = "resolver";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    pub name: String,
    pub address: IpAddr,
    /// Indices into `Scenario::zones`.
    pub zones: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverSpec {
    pub address: IpAddr,
    pub mode: ResolverMode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub servers: Vec<ServerSpec>,
    /// The sender's resolver; `None` when the lone default server is asked directly.
    pub resolver: Option<ResolverSpec>,
}

impl Topology {
    /// The address the sending server (and an admin's tools) send questions to.
    pub fn client_dns(&self) -> IpAddr {
        self.resolver
            .as_ref()
            .map_or_else(|| self.servers[0].address, |r| r.address)
    }

    /// The root servers' addresses: what `dig +trace` starts from. Empty without a root zone.
    pub fn root_hints(&self, zones: &[ParsedZone]) -> Vec<IpAddr> {
        self.servers
            .iter()
            .filter(|s| s.zones.iter().any(|&z| zones[z].origin.is_root()))
            .map(|s| s.address)
            .collect()
    }
}

/// A topology problem, with the byte offset in the scenario file to point at.
pub struct TopologyError {
    pub offset: usize,
    pub message: String,
}

fn err(offset: usize, message: String) -> TopologyError {
    TopologyError { offset, message }
}

pub fn build(dns: &Dns, zones: &[ParsedZone]) -> Result<Topology, TopologyError> {
    if dns.servers.is_empty() {
        if let Some(r) = &dns.resolver {
            return Err(err(
                r.span().start,
                "a resolver needs `dns.servers` to ask".into(),
            ));
        }
        for fault in &dns.faults {
            if let Some(server) = &fault.server
                && server.get_ref() != DEFAULT_SERVER
            {
                return Err(err(
                    server.span().start,
                    format!(
                        "no DNS server `{}` (without `dns.servers`, the one server is `{DEFAULT_DNS_NAME}`)",
                        server.get_ref(),
                        DEFAULT_DNS_NAME = DEFAULT_SERVER
                    ),
                ));
            }
        }
        return Ok(Topology {
            servers: vec![ServerSpec {
                name: DEFAULT_SERVER.into(),
                address: DEFAULT_DNS,
                zones: (0..zones.len()).collect(),
            }],
            resolver: None,
        });
    }
    let mut servers: Vec<ServerSpec> = Vec::new();
    let mut served = vec![false; zones.len()];
    for spanned in &dns.servers {
        let s = spanned.get_ref();
        let name = s.name.get_ref().trim_end_matches('.').to_ascii_lowercase();
        if name == RESOLVER || servers.iter().any(|o| o.name == name) {
            return Err(err(
                s.name.span().start,
                format!("DNS server name `{name}` is taken"),
            ));
        }
        let address = *s.address.get_ref();
        if !address.is_loopback() {
            return Err(err(
                s.address.span().start,
                format!(
                    "{address} is outside 127.0.0.0/8 and ::1: mxlab only ever talks to this machine"
                ),
            ));
        }
        if address == RECEIVER_RESOLVER {
            return Err(err(
                s.address.span().start,
                format!(
                    "{address} is taken by the receiving side's resolver; use another loopback address"
                ),
            ));
        }
        if servers.iter().any(|o| o.address == address) {
            return Err(err(
                s.address.span().start,
                format!("two DNS servers on {address}"),
            ));
        }
        let mut indices = Vec::new();
        for origin in &s.zones {
            let wanted = Name::from_ascii(origin.get_ref()).ok().map(|mut n| {
                n.set_fqdn(true);
                n
            });
            let index = zones
                .iter()
                .position(|z| Some(&z.origin) == wanted.as_ref())
                .ok_or_else(|| {
                    err(
                        origin.span().start,
                        format!("no zone `{}` in `dns.zones`", origin.get_ref()),
                    )
                })?;
            served[index] = true;
            indices.push(index);
        }
        servers.push(ServerSpec {
            name,
            address,
            zones: indices,
        });
    }
    if let Some(i) = served.iter().position(|s| !s) {
        let zone = &dns.zones[i];
        return Err(err(
            zone.records.span().start,
            format!("zone `{}` is on no server in `dns.servers`", zone.origin),
        ));
    }
    let resolver = match &dns.resolver {
        Some(r) => {
            let spec = r.get_ref();
            let address = *spec.address.get_ref();
            if !address.is_loopback() {
                return Err(err(
                    spec.address.span().start,
                    format!(
                        "{address} is outside 127.0.0.0/8 and ::1: mxlab only ever talks to this machine"
                    ),
                ));
            }
            if servers.iter().any(|s| s.address == address) || address == RECEIVER_RESOLVER {
                return Err(err(
                    spec.address.span().start,
                    format!(
                        "the resolver cannot sit at {address}: a server or the receiving side's resolver is there"
                    ),
                ));
            }
            ResolverSpec {
                address,
                mode: spec.mode,
            }
        }
        None => {
            if servers.iter().any(|s| s.address == DEFAULT_DNS) {
                return Err(err(
                    dns.servers[0].span().start,
                    format!(
                        "{DEFAULT_DNS} is where the resolver goes by default; give the resolver another address"
                    ),
                ));
            }
            ResolverSpec {
                address: DEFAULT_DNS,
                mode: ResolverMode::Forward,
            }
        }
    };
    let topology = Topology {
        servers,
        resolver: Some(resolver),
    };
    if topology
        .resolver
        .as_ref()
        .is_some_and(|r| r.mode == ResolverMode::Recursive)
        && topology.root_hints(zones).is_empty()
    {
        let at = dns.resolver.as_ref().map_or(0, |r| r.span().start);
        return Err(err(
            at,
            "a recursive resolver starts at the root: serve the zone `.` on one of `dns.servers`"
                .into(),
        ));
    }
    for fault in &dns.faults {
        if let Some(server) = &fault.server {
            let name = server.get_ref().trim_end_matches('.').to_ascii_lowercase();
            if name != RESOLVER && !topology.servers.iter().any(|s| s.name == name) {
                return Err(err(
                    server.span().start,
                    format!(
                        "no DNS server `{name}`; faults name a `dns.servers` name or `resolver`"
                    ),
                ));
            }
        }
    }
    Ok(topology)
}
