//! The sender's own resolver (its DNS server or forwarder): takes recursive questions from
//! clients and answers them by walking the authoritative servers — from the root in
//! `recursive` mode, from the closest enclosing zone's servers in `forward` mode. Faults placed
//! at `server = "resolver"` act here, so "the local DNS is broken, the target's is fine" is a
//! story of its own. No cache: each question is resolved afresh, so every run is the same.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::Name;
use mxlab_net::walk::{Failure, Outcome, Walker};
use mxlab_net::{Clock, Network};
use mxlab_scenario::model::{DnsFault, ResolverMode};

use crate::faults::{Counters, Decision, decide};
use crate::log::{LogEntry, QueryLog};
use crate::reply::{describe, execute, formerr, negative_ttl, rcode_reply, truncated, udp_limit};
use crate::server::{Asked, Handled, Transport, closest_zone, is_response, named_for};

/// How long the resolver waits for each authoritative server before trying the next.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Resolver {
    /// `resolver` for the sender's; faults name it so.
    pub name: &'static str,
    pub address: IpAddr,
    mode: ResolverMode,
    root_hints: Vec<IpAddr>,
    /// Each zone with the addresses of the servers that serve it, for `forward` mode.
    stubs: Vec<(Name, Vec<IpAddr>)>,
    /// The port authoritative servers listen on.
    upstream_port: u16,
    faults: Vec<DnsFault>,
    counters: Mutex<Counters>,
    log: Arc<Mutex<QueryLog>>,
    clock: Clock,
}

impl Resolver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &'static str,
        address: IpAddr,
        mode: ResolverMode,
        root_hints: Vec<IpAddr>,
        stubs: Vec<(Name, Vec<IpAddr>)>,
        upstream_port: u16,
        faults: Vec<DnsFault>,
        clock: Clock,
        log: Arc<Mutex<QueryLog>>,
    ) -> Self {
        Resolver {
            name,
            address,
            mode,
            root_hints,
            stubs,
            upstream_port,
            faults,
            counters: Mutex::new(Counters::default()),
            log,
            clock,
        }
    }

    /// Answers one client question, asking upstream through `net`. `None`: dropped.
    pub async fn handle(
        &self,
        bytes: &[u8],
        transport: Transport,
        net: &dyn Network,
    ) -> Option<Vec<u8>> {
        self.handle_query(bytes, transport, net).await.reply
    }

    /// [`Resolver::handle`], also saying what the query asked and which fault it met.
    pub async fn handle_query(
        &self,
        bytes: &[u8],
        transport: Transport,
        net: &dyn Network,
    ) -> Handled {
        // A response is never answered (see `is_response`).
        if is_response(bytes) {
            return Handled::default();
        }
        let unreadable = || Handled {
            reply: formerr(bytes),
            asked: None,
        };
        let Ok(request) = Message::from_vec(bytes) else {
            return unreadable();
        };
        if request.metadata.op_code != OpCode::Query || request.queries.len() != 1 {
            return unreadable();
        }
        let query = request.queries[0].clone();
        let (qname, qtype) = (query.name().clone(), query.query_type());
        let story_time = self.clock.elapsed();
        let (decision, fault) = {
            let mut counters = self.counters.lock().expect("counters lock");
            decide(
                &self.faults,
                |f| named_for(f, self.name),
                &mut counters,
                &qname.to_string(),
                qtype,
                story_time,
            )
        };
        let (id, rd) = (request.metadata.id, request.metadata.recursion_desired);
        let limit = udp_limit(request.edns.as_ref().map(|e| e.max_payload()));
        let delay = fault.and_then(|i| self.faults[i].delay).map(|d| d.get());
        let rcode = |code| rcode_reply(id, rd, Some(&query), code, false);
        let reply = execute(decision, delay, &self.clock, transport, rcode, || {
            self.resolve(&request, net, transport, limit)
        })
        .await;
        let note = match decision {
            Decision::Act(action) => format!(" (fault: {})", action.as_str()),
            Decision::Answer => String::new(),
        };
        let outcome = reply
            .as_deref()
            .map_or_else(|| "dropped".to_string(), describe);
        let name = qname.to_string();
        self.log.lock().expect("log lock").push(LogEntry {
            at: story_time,
            server: self.name.into(),
            protocol: transport.as_str(),
            name: name.clone(),
            rtype: qtype.to_string(),
            outcome: format!("{outcome}{note}"),
        });
        let fault = match decision {
            Decision::Act(action) => Some(action),
            Decision::Answer => None,
        };
        Handled {
            reply,
            asked: Some(Asked { name, qtype, fault }),
        }
    }

    async fn resolve(
        &self,
        request: &Message,
        net: &dyn Network,
        transport: Transport,
        limit: usize,
    ) -> Option<Vec<u8>> {
        let query = &request.queries[0];
        let (start, zone): (Vec<IpAddr>, Name) = match self.mode {
            ResolverMode::Recursive => (self.root_hints.clone(), Name::root()),
            ResolverMode::Forward => {
                let origins: Vec<Name> = self.stubs.iter().map(|(z, _)| z.clone()).collect();
                match closest_zone(&origins, query.name()) {
                    Some(zone) => (
                        self.stubs
                            .iter()
                            .find(|(z, _)| z == zone)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default(),
                        zone.clone(),
                    ),
                    None => (Vec::new(), Name::root()),
                }
            }
        };
        let mut reply = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
        reply.metadata.recursion_desired = request.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.add_query(query.clone());
        if start.is_empty() {
            reply.metadata.response_code = ResponseCode::ServFail;
        } else {
            let walker = Walker::new(
                net,
                self.clock.clone(),
                self.upstream_port,
                UPSTREAM_TIMEOUT,
            );
            let walk = walker
                .walk(&start, &zone, query.name(), query.query_type())
                .await;
            reply.metadata.response_code = match walk.outcome {
                Outcome::Answer(records) => {
                    reply.add_answers(records);
                    ResponseCode::NoError
                }
                // Negative answers pass on the authoritative server's SOA, with the TTL of
                // RFC 2308 §3, so the client can cache them as long as the zone says.
                Outcome::NoData | Outcome::NxDomain => {
                    if let Some(mut soa) = walk.soa {
                        soa.ttl = negative_ttl(&soa).unwrap_or(soa.ttl);
                        reply.authorities.push(soa);
                    }
                    if matches!(walk.outcome, Outcome::NxDomain) {
                        ResponseCode::NXDomain
                    } else {
                        ResponseCode::NoError
                    }
                }
                // Every server for the name stayed silent: so does the resolver, and its
                // client sees what nslookup shows then, "DNS request timed out".
                Outcome::Failed(Failure::Timeout { .. }) => return None,
                Outcome::Failed(_) => ResponseCode::ServFail,
            };
        }
        let bytes = reply.to_vec().ok()?;
        if transport == Transport::Udp && bytes.len() > limit {
            return Some(truncated(&bytes));
        }
        Some(bytes)
    }
}
