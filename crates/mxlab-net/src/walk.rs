//! Following delegations from given servers down to the answer, as `dig +trace` and an
//! iterative resolver do: ask without recursion, follow referrals (with glue, or by looking up
//! the name servers' addresses), and record every step. The fake DNS's resolver answers with
//! it; the checker uses its steps as evidence of where resolution breaks.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::clock::Clock;
use crate::network::Network;

/// Referrals followed before giving up (a root, a TLD and a few levels below, with room).
const MAX_DEPTH: usize = 12;
/// CNAMEs followed before giving up.
const MAX_CNAMES: usize = 8;

/// What one server said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepResult {
    Answer(Vec<Record>),
    /// "Ask these servers for `zone`."
    Referral {
        zone: String,
        servers: Vec<String>,
    },
    NxDomain,
    NoData,
    /// REFUSED, SERVFAIL, NOTAUTH or another failure code.
    Rcode(String),
    /// A non-authoritative reply that is neither an answer nor a referral downward.
    NotAuthoritative,
    Timeout,
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub server: SocketAddr,
    /// The zone this server was asked as an authority for.
    pub zone: String,
    pub question: String,
    pub result: StepResult,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} asked {} (for zone {}): ",
            self.question,
            self.server.ip(),
            self.zone
        )?;
        match &self.result {
            StepResult::Answer(records) => {
                let data: Vec<String> = records.iter().map(|r| r.data.to_string()).collect();
                write!(f, "answer {}", data.join(", "))
            }
            StepResult::Referral { zone, servers } => {
                write!(f, "referral to {zone} at {}", servers.join(", "))
            }
            StepResult::NxDomain => f.write_str("NXDOMAIN"),
            StepResult::NoData => f.write_str("no records (NODATA)"),
            StepResult::Rcode(code) => f.write_str(code),
            StepResult::NotAuthoritative => f.write_str("not authoritative (lame)"),
            StepResult::Timeout => f.write_str("no answer (timed out)"),
            StepResult::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// Why a walk ended without an authoritative outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The servers delegated to for `zone` do not serve it (REFUSED, NOTAUTH, no AA).
    Lame {
        zone: String,
        servers: Vec<IpAddr>,
    },
    ServFail {
        zone: String,
        servers: Vec<IpAddr>,
    },
    Timeout {
        zone: String,
        servers: Vec<IpAddr>,
    },
    /// Too many referrals or CNAMEs, or a name server without an address.
    Broken(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Answer(Vec<Record>),
    NoData,
    NxDomain,
    Failed(Failure),
}

#[derive(Clone, Debug)]
pub struct Walk {
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    /// With a negative outcome (NXDOMAIN or NODATA), the SOA the authoritative server gave in
    /// its authority section, for a resolver to pass on (RFC 2308 §3).
    pub soa: Option<Record>,
}

pub struct Walker<'a> {
    pub net: &'a dyn Network,
    pub clock: Clock,
    /// Port the servers listen on (53, or a `serve` port).
    pub port: u16,
    pub timeout: Duration,
    next_id: AtomicU16,
}

impl<'a> Walker<'a> {
    pub fn new(net: &'a dyn Network, clock: Clock, port: u16, timeout: Duration) -> Self {
        Walker {
            net,
            clock,
            port,
            timeout,
            next_id: AtomicU16::new(0x7700),
        }
    }

    /// Resolves `qname`/`qtype` starting at `servers`, which serve `zone` (the root, for a
    /// full walk).
    pub async fn walk(
        &self,
        servers: &[IpAddr],
        zone: &Name,
        qname: &Name,
        qtype: RecordType,
    ) -> Walk {
        let mut steps = Vec::new();
        let mut soa = None;
        let outcome = self
            .walk_into(servers, zone, qname, qtype, &mut steps, &mut soa, 0)
            .await;
        // A name server's own lookup may have ended negative on the way; only the final
        // outcome's SOA counts.
        if !matches!(outcome, Outcome::NoData | Outcome::NxDomain) {
            soa = None;
        }
        Walk {
            steps,
            outcome,
            soa,
        }
    }

    async fn ask(
        &self,
        server: IpAddr,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Message, StepResult> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut query = Message::new(id, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(qname.clone(), qtype));
        let bytes = query
            .to_vec()
            .map_err(|e| StepResult::Error(e.to_string()))?;
        let to = SocketAddr::new(server, self.port);
        let reply = match self
            .clock
            .timeout(self.timeout, self.net.dns_udp(to, bytes.clone()))
            .await
        {
            None => return Err(StepResult::Timeout),
            Some(Err(e)) => return Err(StepResult::Error(e.to_string())),
            Some(Ok(r)) => r,
        };
        let mut message =
            Message::from_vec(&reply).map_err(|e| StepResult::Error(e.to_string()))?;
        if message.metadata.truncation {
            let tcp = match self
                .clock
                .timeout(self.timeout, self.net.dns_tcp(to, bytes))
                .await
            {
                None => return Err(StepResult::Timeout),
                Some(Err(e)) => return Err(StepResult::Error(e.to_string())),
                Some(Ok(r)) => r,
            };
            message = Message::from_vec(&tcp).map_err(|e| StepResult::Error(e.to_string()))?;
        }
        if message.metadata.id != id {
            return Err(StepResult::Error("reply does not match the query".into()));
        }
        Ok(message)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_into<'s>(
        &'s self,
        start: &'s [IpAddr],
        start_zone: &'s Name,
        qname: &'s Name,
        qtype: RecordType,
        steps: &'s mut Vec<Step>,
        soa: &'s mut Option<Record>,
        nesting: usize,
    ) -> std::pin::Pin<Box<dyn Future<Output = Outcome> + Send + 's>> {
        Box::pin(async move {
            let mut servers = start.to_vec();
            let mut zone = start_zone.clone();
            let mut qname = qname.clone();
            let mut cnames = 0;
            // CNAMEs met on the way, returned with the answer so a client can follow them.
            let mut chain: Vec<Record> = Vec::new();
            'depth: for _ in 0..MAX_DEPTH {
                let mut failure = Failure::Broken(format!("no server to ask for {zone}"));
                let (mut lame, mut servfail, mut silent) = (Vec::new(), Vec::new(), Vec::new());
                for &server in &servers {
                    let step = |result| Step {
                        server: SocketAddr::new(server, self.port),
                        zone: zone.to_ascii(),
                        question: format!("{qname} {qtype}"),
                        result,
                    };
                    let reply = match self.ask(server, &qname, qtype).await {
                        Ok(m) => m,
                        Err(result) => {
                            // Nothing listening at a delegated address is a lame delegation too.
                            if result == StepResult::Timeout {
                                silent.push(server);
                            } else {
                                lame.push(server);
                            }
                            steps.push(step(result));
                            continue;
                        }
                    };
                    let aa = reply.metadata.authoritative;
                    match reply.metadata.response_code {
                        ResponseCode::NoError => {}
                        ResponseCode::NXDomain if aa => {
                            *soa = negative_soa(&reply);
                            steps.push(step(StepResult::NxDomain));
                            return Outcome::NxDomain;
                        }
                        ResponseCode::ServFail => {
                            steps.push(step(StepResult::Rcode("SERVFAIL".into())));
                            servfail.push(server);
                            continue;
                        }
                        other => {
                            let code = if other == ResponseCode::NXDomain {
                                "NXDOMAIN without authority".to_string()
                            } else {
                                crate::dns::rcode_mnemonic(other)
                            };
                            steps.push(step(StepResult::Rcode(code)));
                            lame.push(server);
                            continue;
                        }
                    }
                    let at_name: Vec<Record> = reply
                        .answers
                        .iter()
                        .filter(|r| r.name == qname)
                        .cloned()
                        .collect();
                    let wanted: Vec<Record> = at_name
                        .iter()
                        .filter(|r| r.record_type() == qtype)
                        .cloned()
                        .collect();
                    if !wanted.is_empty() {
                        steps.push(step(StepResult::Answer(wanted.clone())));
                        chain.extend(wanted);
                        return Outcome::Answer(chain);
                    }
                    if let Some(RData::CNAME(target)) = at_name
                        .iter()
                        .find(|r| r.record_type() == RecordType::CNAME)
                        .map(|r| &r.data)
                    {
                        steps.push(step(StepResult::Answer(at_name.clone())));
                        chain.extend(
                            at_name
                                .iter()
                                .filter(|r| r.record_type() == RecordType::CNAME)
                                .cloned(),
                        );
                        cnames += 1;
                        if cnames > MAX_CNAMES {
                            return Outcome::Failed(Failure::Broken(format!(
                                "more than {MAX_CNAMES} CNAMEs from {qname}"
                            )));
                        }
                        qname = target.0.clone();
                        servers = start.to_vec();
                        zone = start_zone.clone();
                        continue 'depth;
                    }
                    // A referral: NS records for a zone below the one we asked about, above the name.
                    let cut = reply
                        .authorities
                        .iter()
                        .filter(|r| r.record_type() == RecordType::NS)
                        .map(|r| r.name.clone())
                        .find(|owner| {
                            owner != &zone && zone.zone_of(owner) && owner.zone_of(&qname)
                        });
                    if let Some(cut) = cut {
                        let ns_names: Vec<Name> = reply
                            .authorities
                            .iter()
                            .filter_map(|r| match &r.data {
                                RData::NS(ns) if r.name == cut => Some(ns.0.clone()),
                                _ => None,
                            })
                            .collect();
                        let mut next = Vec::new();
                        for ns in &ns_names {
                            let glue: Vec<IpAddr> = reply
                                .additionals
                                .iter()
                                .filter(|r| &r.name == ns)
                                .filter_map(|r| match &r.data {
                                    RData::A(a) => Some(IpAddr::V4(a.0)),
                                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                                    _ => None,
                                })
                                .collect();
                            next.extend(glue);
                        }
                        if next.is_empty() && nesting < 2 {
                            // No glue: find the name servers' addresses from the start.
                            for ns in &ns_names {
                                if let Outcome::Answer(records) = self
                                    .walk_into(
                                        start,
                                        start_zone,
                                        ns,
                                        RecordType::A,
                                        steps,
                                        soa,
                                        nesting + 1,
                                    )
                                    .await
                                {
                                    next.extend(records.iter().filter_map(|r| match &r.data {
                                        RData::A(a) => Some(IpAddr::V4(a.0)),
                                        _ => None,
                                    }));
                                }
                            }
                        }
                        steps.push(step(StepResult::Referral {
                            zone: cut.to_ascii(),
                            servers: ns_names.iter().map(|n| n.to_ascii()).collect(),
                        }));
                        if next.is_empty() {
                            return Outcome::Failed(Failure::Broken(format!(
                                "no address for the name servers of {cut}"
                            )));
                        }
                        servers = next;
                        zone = cut;
                        continue 'depth;
                    }
                    if aa {
                        *soa = negative_soa(&reply);
                        steps.push(step(StepResult::NoData));
                        return Outcome::NoData;
                    }
                    steps.push(step(StepResult::NotAuthoritative));
                    lame.push(server);
                }
                let z = zone.to_ascii();
                if !servfail.is_empty() {
                    failure = Failure::ServFail {
                        zone: z,
                        servers: servfail,
                    };
                } else if !lame.is_empty() {
                    failure = Failure::Lame {
                        zone: z,
                        servers: lame,
                    };
                } else if !silent.is_empty() {
                    failure = Failure::Timeout {
                        zone: z,
                        servers: silent,
                    };
                }
                return Outcome::Failed(failure);
            }
            Outcome::Failed(Failure::Broken(format!("more than {MAX_DEPTH} referrals")))
        })
    }
}

/// The SOA in a negative reply's authority section.
fn negative_soa(reply: &Message) -> Option<Record> {
    reply
        .authorities
        .iter()
        .find(|r| r.record_type() == RecordType::SOA)
        .cloned()
}
