//! One fake authoritative server: hickory-server's `Catalog` of its zones, with the scripted
//! faults in front of it. `handle` turns a query's bytes into the reply's bytes (or none:
//! dropped); the same function serves the in-memory world and real sockets, so a fault behaves
//! identically in `run` and `serve`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType, RrKey};
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
use crate::reply::{
    describe, execute, formerr, maybe_referral, negative_reply, negative_ttl, rcode_reply,
    truncated, udp_limit, with_negative_ttls,
};

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
    /// Answers already given, by question (the id aside), bounded in bytes.
    answers: Mutex<AnswerCache>,
}

/// What a reply depends on besides the zones, read from the query: the header's flags, the
/// question as sent (case kept: the reply echoes it), EDNS's payload size, version and DO bit,
/// and the transport. Not the id (patched in on a hit) and not EDNS options, which the catalog
/// ignores: keyed by whole queries, 64 KiB of options over TCP made each query a new entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    tcp: bool,
    flags: u16,
    edns: Option<(u16, u8, bool)>,
    question: Box<[u8]>,
}

impl CacheKey {
    /// The key of a query, read from its bytes alone (so the path that skips parsing and the
    /// one that parses agree), or `None` when it is not worth caching: not exactly one
    /// question, records besides one well-formed OPT, or a compressed question name.
    pub fn of(raw: &[u8], transport: Transport) -> Option<CacheKey> {
        let count = |at: usize| u16::from_be_bytes([raw[at], raw[at + 1]]);
        if raw.len() < 12 || count(4) != 1 || count(6) != 0 || count(8) != 0 || count(10) > 1 {
            return None;
        }
        let mut at = 12;
        loop {
            let len = usize::from(*raw.get(at)?);
            if len & 0xC0 != 0 {
                return None;
            }
            at += 1 + len;
            if len == 0 {
                break;
            }
        }
        let question = raw.get(12..at + 4)?;
        let edns = if count(10) == 1 {
            // The OPT: root name, type 41, class = payload size, TTL = extended rcode,
            // version, flags (DO is the top bit); its options are not part of the key.
            let opt = raw.get(at + 4..at + 4 + 11)?;
            if opt[0] != 0 || opt[1..3] != [0, 41] {
                return None;
            }
            let rdlen = usize::from(u16::from_be_bytes([opt[9], opt[10]]));
            if raw.len() != at + 4 + 11 + rdlen {
                return None;
            }
            // Options framed exactly (code, length, data)…: what does not parse is not cached.
            let mut options = &raw[at + 4 + 11..];
            while !options.is_empty() {
                let len = usize::from(u16::from_be_bytes([*options.get(2)?, *options.get(3)?]));
                options = options.get(4 + len..)?;
            }
            let payload = u16::from_be_bytes([opt[3], opt[4]]);
            Some((payload, opt[6], opt[7] & 0x80 != 0))
        } else {
            if raw.len() != at + 4 {
                return None;
            }
            None
        };
        Some(CacheKey {
            tcp: transport == Transport::Tcp,
            flags: count(2),
            edns,
            question: question.into(),
        })
    }

    /// What the entry costs: its bytes, plus a fixed share for the map's own bookkeeping.
    fn cost(&self, reply: &[u8]) -> usize {
        self.question.len() + reply.len() + CACHE_ENTRY_OVERHEAD
    }
}

/// A cached reply, with the question's name and type as the query log writes them.
#[derive(Clone, Debug)]
pub struct Cached {
    pub reply: Vec<u8>,
    pub name: String,
    pub qtype: RecordType,
}

/// The map's slot, the key's fields and the two heap blocks' headers, roughly.
const CACHE_ENTRY_OVERHEAD: usize = 96;

/// The default bound of each server's answer cache (`serve --max-dns-cache-bytes`). A zone of
/// a story has dozens of names; 16 MiB holds tens of thousands of distinct answers.
pub const DEFAULT_CACHE_BYTES: usize = 16 << 20;

/// Question → reply, at most `limit` bytes by [`CacheKey::cost`]. Once full, new answers are
/// computed each time instead of evicting: zones never change, so the entries kept stay true,
/// and no query pattern can make the server churn.
#[derive(Debug)]
pub struct AnswerCache {
    map: HashMap<CacheKey, Cached>,
    bytes: usize,
    limit: usize,
}

impl AnswerCache {
    pub fn new(limit: usize) -> Self {
        AnswerCache {
            map: HashMap::new(),
            bytes: 0,
            limit,
        }
    }

    pub fn get(&self, key: &CacheKey) -> Option<&Cached> {
        self.map.get(key)
    }

    /// Keeps `reply` if it fits under the bound; says whether it did.
    pub fn insert(&mut self, key: CacheKey, reply: Cached) -> bool {
        let cost = key.cost(&reply.reply) + reply.name.len();
        if self.map.contains_key(&key) || self.bytes.saturating_add(cost) > self.limit {
            return false;
        }
        self.bytes += cost;
        self.map.insert(key, reply);
        true
    }

    /// Bytes held, by [`CacheKey::cost`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// What one query asked and which fault it met, for `serve`'s query events. The reply tells
/// how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub name: String,
    pub qtype: RecordType,
    pub fault: Option<DnsAction>,
}

/// A query's reply (`None`: dropped) and, when the query could be read, what it asked.
#[derive(Clone, Debug, Default)]
pub struct Handled {
    pub reply: Option<Vec<u8>>,
    pub asked: Option<Asked>,
}

/// Whether the first question's name holds a compression pointer. Nothing but the header
/// comes before it, so the pointer can only point into the header: the message is malformed.
/// hickory-server would read a name out of the header and echo the question's bytes as they
/// came, pointer included, and the reply would point into its own header (found by fuzzing).
pub fn question_is_compressed(bytes: &[u8]) -> bool {
    let mut at = 12;
    while let Some(&len) = bytes.get(at) {
        if len == 0 {
            return false;
        }
        if len & 0xC0 != 0 {
            return true;
        }
        at += 1 + usize::from(len);
    }
    false
}

/// Whether a message is itself a response (QR=1). Such a packet is never answered: between
/// two servers, answering a spoofed response would bounce replies between them for ever.
pub fn is_response(bytes: &[u8]) -> bool {
    bytes.get(2).is_some_and(|flags| flags & 0x80 != 0)
}

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
            answers: Mutex::new(AnswerCache::new(DEFAULT_CACHE_BYTES)),
        })
    }

    /// Bounds the answer cache to `bytes` (what it holds already stays).
    pub fn set_cache_limit(&self, bytes: usize) {
        self.answers.lock().expect("answer cache").limit = bytes;
    }

    /// Bytes and entries the answer cache holds.
    pub fn cache_usage(&self) -> (usize, usize) {
        let cache = self.answers.lock().expect("answer cache");
        (cache.bytes(), cache.len())
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
        self.handle_query(bytes, src, transport).await.reply
    }

    /// [`FakeDns::handle`], also saying what the query asked and which fault it met.
    pub async fn handle_query(
        &self,
        bytes: &[u8],
        src: SocketAddr,
        transport: Transport,
    ) -> Handled {
        if is_response(bytes) {
            return Handled::default();
        }
        let protocol = match transport {
            Transport::Udp => Protocol::Udp,
            Transport::Tcp => Protocol::Tcp,
        };
        // Garbage gets FORMERR when it has an id to answer to, else silence.
        let unreadable = || Handled {
            reply: formerr(bytes),
            asked: None,
        };
        if question_is_compressed(bytes) {
            return unreadable();
        }
        if let Some(handled) = self.answered_before(bytes, transport) {
            return handled;
        }
        let Ok(request) = Request::from_bytes(bytes.to_vec(), src, protocol) else {
            return unreadable();
        };
        let Ok(info) = request.request_info() else {
            return unreadable();
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
        // A scripted NXDOMAIN or NODATA is negative like a real one: the zone's SOA goes in
        // the authority section (RFC 2308 §3), when this server serves a zone of the name.
        let rcode = |code| match code {
            ResponseCode::NoError | ResponseCode::NXDomain => {
                negative_reply(id, rd, &original, code, self.zone_soa(&qname_lower))
            }
            _ => rcode_reply(id, rd, Some(&original), code, false),
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
        let fault = match decision {
            Decision::Act(action) => Some(action),
            Decision::Answer => None,
        };
        self.log.lock().expect("log lock").push(LogEntry {
            at: story_time,
            server: self.name.clone(),
            protocol: transport.as_str(),
            name: qname.clone(),
            rtype: qtype.to_string(),
            outcome: format!("{outcome}{note}"),
        });
        Handled {
            reply,
            asked: Some(Asked {
                name: qname,
                qtype,
                fault,
            }),
        }
    }

    /// A question answered before, when no fault can apply here: the reply from the cache
    /// without parsing the query (the hot path of `serve` under load), logged as the full
    /// path would.
    fn answered_before(&self, bytes: &[u8], transport: Transport) -> Option<Handled> {
        if !self.faults.is_empty() {
            return None;
        }
        let key = CacheKey::of(bytes, transport)?;
        let (mut reply, name, qtype) = {
            let cache = self.answers.lock().expect("answer cache");
            let hit = cache.map.get(&key)?;
            (hit.reply.clone(), hit.name.clone(), hit.qtype)
        };
        reply[..2].copy_from_slice(&bytes[..2]);
        self.log.lock().expect("log lock").push(LogEntry {
            at: self.clock.elapsed(),
            server: self.name.clone(),
            protocol: transport.as_str(),
            name: name.clone(),
            rtype: qtype.to_string(),
            outcome: describe(&reply),
        });
        Some(Handled {
            reply: Some(reply),
            asked: Some(Asked {
                name,
                qtype,
                fault: None,
            }),
        })
    }

    /// The SOA of the closest zone of `qname` that this server serves, its TTL the negative
    /// caching time of RFC 2308 §3.
    fn zone_soa(&self, qname: &Name) -> Option<Record> {
        let origins: Vec<Name> = self.zones.iter().map(|z| z.origin.clone()).collect();
        let origin = closest_zone(&origins, qname)?;
        let zone = self.zones.iter().find(|z| &z.origin == origin)?;
        let key = RrKey::new(origin.clone().into(), RecordType::SOA);
        let mut soa = zone
            .records
            .get(&key)?
            .records_without_rrsigs()
            .next()?
            .clone();
        soa.ttl = negative_ttl(&soa)?;
        Some(soa)
    }

    /// The authoritative answer, sized for the transport, from the cache when the same
    /// question ([`CacheKey`]) was answered before: zones never change, so neither does the
    /// answer.
    async fn answer(&self, request: &Request, transport: Transport) -> Option<Vec<u8>> {
        let raw = request.as_slice();
        let key = CacheKey::of(raw, transport);
        if let Some(key) = &key {
            let hit = self
                .answers
                .lock()
                .expect("answer cache")
                .get(key)
                .map(|c| c.reply.clone());
            if let Some(mut hit) = hit {
                hit[..2].copy_from_slice(&raw[..2]);
                return Some(hit);
            }
        }
        let bytes = self.answer_afresh(request, transport).await?;
        if let (Some(key), Ok(info)) = (key, request.request_info()) {
            let cached = Cached {
                reply: bytes.clone(),
                name: info.query.name().to_string(),
                qtype: info.query.query_type(),
            };
            self.answers
                .lock()
                .expect("answer cache")
                .insert(key, cached);
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
        let bytes = with_negative_ttls(&bytes).unwrap_or(bytes);
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
