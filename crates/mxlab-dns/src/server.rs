//! One fake authoritative server: hickory-server's `Catalog` of its zones, with the scripted
//! faults in front of it. `handle` turns a query's bytes into the reply's bytes (or none:
//! dropped); the same function serves the in-memory world and real sockets, so a fault behaves
//! identically in `run` and `serve`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::NetError;
use hickory_server::net::runtime::{TokioRuntimeProvider, TokioTime};
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponse, ZoneType};
use mxlab_net::Clock;
use mxlab_scenario::model::{DnsAction, DnsFault};
use mxlab_scenario::topology::DEFAULT_SERVER;
use mxlab_scenario::zone::ParsedZone;

use crate::faults::{Counters, Decision, decide};
use crate::log::{LogEntry, QueryLog};
use crate::reply::{describe, execute, formerr, maybe_referral, rcode_reply, truncated, udp_limit};

/// How the query arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// What a server needs to know about the whole scenario to place faults.
pub struct Placement {
    /// Every zone origin in the scenario: a fault without `server` applies where the closest
    /// enclosing zone of the query name is served.
    pub all_origins: Vec<Name>,
}

/// The closest enclosing zone of `name` among `origins`.
pub fn closest_zone<'z>(origins: &'z [Name], name: &Name) -> Option<&'z Name> {
    origins
        .iter()
        .filter(|o| o.zone_of(name))
        .max_by_key(|o| o.num_labels())
}

pub struct FakeDns {
    pub name: String,
    pub address: IpAddr,
    catalog: Catalog,
    zones: Vec<ParsedZone>,
    placement: Arc<Placement>,
    faults: Vec<DnsFault>,
    counters: Mutex<Counters>,
    log: Arc<Mutex<QueryLog>>,
    clock: Clock,
    /// Answers already given, by transport and question bytes (the id aside).
    answers: Mutex<AnswerCache>,
}

/// (over TCP?, the query without its id) → the reply.
type AnswerCache = HashMap<(bool, Vec<u8>), Vec<u8>>;

/// Distinct questions whose answers are kept; past this, answers are computed each time.
const ANSWER_CACHE_MAX: usize = 10_000;

impl FakeDns {
    pub fn new(
        name: &str,
        address: IpAddr,
        zones: Vec<ParsedZone>,
        placement: Arc<Placement>,
        faults: Vec<DnsFault>,
        clock: Clock,
        log: Arc<Mutex<QueryLog>>,
    ) -> Result<Self, String> {
        let mut catalog = Catalog::new();
        for zone in &zones {
            let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
                zone.origin.clone(),
                zone.records.clone(),
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )?;
            catalog.upsert(zone.origin.clone().into(), vec![Arc::new(handler)]);
        }
        Ok(FakeDns {
            name: name.to_string(),
            address,
            catalog,
            zones,
            placement,
            faults,
            counters: Mutex::new(Counters::default()),
            log,
            clock,
            answers: Mutex::new(HashMap::new()),
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Whether any fault could make this server wait before answering.
    pub fn has_delays(&self) -> bool {
        self.faults.iter().any(|f| f.action == DnsAction::Delay)
    }

    /// Whether `fault` is placed at this server for a query for `qname`.
    fn placed_here(&self, fault: &DnsFault, qname: &Name) -> bool {
        match &fault.server {
            Some(server) => server
                .get_ref()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(&self.name),
            None if self.name == DEFAULT_SERVER => true,
            None => closest_zone(&self.placement.all_origins, qname)
                .is_some_and(|zone| self.zones.iter().any(|z| &z.origin == zone)),
        }
    }

    /// Answers one query. `None`: the query is dropped (no reply ever goes out).
    pub async fn handle(
        &self,
        bytes: &[u8],
        src: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        let protocol = match transport {
            Transport::Udp => Protocol::Udp,
            Transport::Tcp => Protocol::Tcp,
        };
        let request = match Request::from_bytes(bytes.to_vec(), src, protocol) {
            Ok(request) => request,
            // Garbage gets FORMERR when it has an id to answer to, else silence.
            Err(_) => return formerr(bytes),
        };
        let Ok(info) = request.request_info() else {
            return formerr(bytes);
        };
        let qname_lower: Name = info.query.name().into();
        let qname = info.query.name().to_string();
        let qtype = info.query.query_type();
        let original = info.query.original().clone();
        let story_time = self.clock.elapsed();
        let (decision, fault) = {
            let mut counters = self.counters.lock().expect("counters lock");
            decide(
                &self.faults,
                |f| self.placed_here(f, &qname_lower),
                &mut counters,
                &qname,
                qtype,
                story_time,
            )
        };
        let (id, rd) = (request.metadata.id, request.metadata.recursion_desired);
        let delay = fault.and_then(|i| self.faults[i].delay).map(|d| d.get());
        let rcode = |code| {
            rcode_reply(
                id,
                rd,
                Some(&original),
                code,
                matches!(code, ResponseCode::NoError | ResponseCode::NXDomain),
            )
        };
        let reply = execute(decision, delay, &self.clock, transport, rcode, || {
            self.answer(&request, transport)
        })
        .await;
        let note = match decision {
            Decision::Act(action) => format!(" (fault: {})", action.as_str()),
            Decision::Answer => String::new(),
        };
        let outcome = reply
            .as_deref()
            .map_or_else(|| "dropped".to_string(), describe);
        self.log.lock().expect("log lock").push(LogEntry {
            at: story_time,
            server: self.name.clone(),
            protocol: transport.as_str(),
            name: qname,
            rtype: qtype.to_string(),
            outcome: format!("{outcome}{note}"),
        });
        reply
    }

    /// The catalog's authoritative answer, sized for the transport.
    /// The authoritative answer, from the cache when this exact question (id aside) was
    /// answered before: zones never change, so neither does the answer.
    async fn answer(&self, request: &Request, transport: Transport) -> Option<Vec<u8>> {
        let raw = request.as_slice();
        let key = (transport == Transport::Tcp, raw.get(2..)?.to_vec());
        if let Some(mut hit) = self
            .answers
            .lock()
            .expect("answer cache")
            .get(&key)
            .cloned()
        {
            hit[..2].copy_from_slice(&raw[..2]);
            return Some(hit);
        }
        let bytes = self.answer_afresh(request, transport).await?;
        let mut answers = self.answers.lock().expect("answer cache");
        if answers.len() < ANSWER_CACHE_MAX {
            answers.insert(key, bytes.clone());
        }
        Some(bytes)
    }

    async fn answer_afresh(&self, request: &Request, transport: Transport) -> Option<Vec<u8>> {
        let is_any = request
            .request_info()
            .is_ok_and(|i| i.query.query_type() == RecordType::ANY);
        let bytes = if is_any {
            self.minimal_any(request).await?
        } else {
            self.ask_catalog(request).await?
        };
        let bytes = self.as_referral(&bytes).unwrap_or(bytes);
        let limit = udp_limit(request.edns.as_ref().map(|e| e.max_payload()));
        if transport == Transport::Udp && bytes.len() > limit {
            return Some(truncated(&bytes));
        }
        Some(bytes)
    }

    async fn ask_catalog(&self, request: &Request) -> Option<Vec<u8>> {
        let capture = Capture::default();
        self.catalog
            .handle_request::<_, TokioTime>(request, capture.clone())
            .await;
        capture.0.lock().expect("capture lock").take()
    }

    /// RFC 8482: an ANY query gets one synthesized `HINFO "RFC8482" ""` record where the name
    /// exists (and the usual NXDOMAIN or referral where it does not), never the whole node.
    /// The catalog is asked for HINFO, which the zones do not use, to learn which case it is.
    async fn minimal_any(&self, request: &Request) -> Option<Vec<u8>> {
        let mut probe = Message::from_vec(request.as_slice()).ok()?;
        let qname = probe.queries.first()?.name().clone();
        probe.queries[0].set_query_type(RecordType::HINFO);
        let probe =
            Request::from_bytes(probe.to_vec().ok()?, request.src(), request.protocol()).ok()?;
        let mut reply = Message::from_vec(&self.ask_catalog(&probe).await?).ok()?;
        reply.queries[0].set_query_type(RecordType::ANY);
        if reply.metadata.response_code == ResponseCode::NoError
            && reply.metadata.authoritative
            && reply.answers.is_empty()
        {
            let referral = reply.authorities.iter().any(|r| {
                r.record_type() == RecordType::NS && !self.zones.iter().any(|z| z.origin == r.name)
            });
            if !referral {
                reply.authorities.clear();
                let hinfo = hickory_proto::rr::rdata::HINFO::new("RFC8482".into(), String::new());
                reply
                    .answers
                    .push(Record::from_rdata(qname, 3600, RData::HINFO(hinfo)));
            }
        }
        reply.to_vec().ok()
    }

    /// hickory answers for a name below a zone cut with the cut's NS records but marks the
    /// reply authoritative and adds no glue. A referral is not authoritative (RFC 1034 §4.3.2)
    /// and carries the addresses of in-zone name servers, or resolvers cannot follow it.
    fn as_referral(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        if !maybe_referral(bytes) {
            return None;
        }
        let mut message = Message::from_vec(bytes).ok()?;
        let apexes: Vec<&Name> = self.zones.iter().map(|z| &z.origin).collect();
        let is_referral = message.metadata.response_code == ResponseCode::NoError
            && message.answers.is_empty()
            && message
                .authorities
                .iter()
                .any(|r| r.record_type() == RecordType::NS && !apexes.contains(&&r.name));
        if !is_referral {
            return None;
        }
        message.metadata.authoritative = false;
        let targets: Vec<Name> = message
            .authorities
            .iter()
            .filter_map(|r| match &r.data {
                RData::NS(ns) => Some(ns.0.clone()),
                _ => None,
            })
            .collect();
        for target in targets {
            for zone in &self.zones {
                for set in zone.records.values().filter(|set| set.name() == &target) {
                    for record in set
                        .records_without_rrsigs()
                        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
                    {
                        message.additionals.push(record.clone());
                    }
                }
            }
        }
        message.to_vec().ok()
    }
}

/// Whether a fault is meant for `server` by name (for the resolver, which has no zones).
pub fn named_for(fault: &DnsFault, server: &str) -> bool {
    fault.server.as_ref().is_some_and(|s| {
        s.get_ref()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(server)
    })
}

/// A `ResponseHandler` that keeps the encoded reply instead of sending it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Option<Vec<u8>>>>);

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let mut bytes = Vec::with_capacity(512);
        let mut encoder = BinEncoder::new(&mut bytes);
        let info = response.destructive_emit(&mut encoder)?;
        *self.0.lock().expect("capture lock") = Some(bytes);
        Ok(info)
    }
}
