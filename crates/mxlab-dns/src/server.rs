//! One fake authoritative server: hickory-server's `Catalog` of the scenario's zones, with the
//! scripted faults in front of it. `handle` turns a query's bytes into the reply's bytes (or
//! none: dropped); the same function serves the in-memory world and real sockets, so a fault
//! behaves identically in `run` and `serve`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::rr::Record;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponse, ZoneType};
use mxlab_net::Clock;
use mxlab_scenario::Scenario;
use mxlab_scenario::model::{DnsAction, DnsFault};

use crate::faults::{Counters, Decision, decide};
use crate::log::{LogEntry, QueryLog};

/// UDP replies without EDNS are limited to 512 bytes (RFC 1035 §4.2.1).
const UDP_DEFAULT_PAYLOAD: usize = 512;

pub struct FakeDns {
    catalog: Catalog,
    faults: Vec<DnsFault>,
    counters: Mutex<Counters>,
    log: Mutex<QueryLog>,
    clock: Clock,
}

/// How the query arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

impl FakeDns {
    /// The scenario's zones and faults, on `clock`. `log_capacity` bounds the query log.
    pub fn from_scenario(
        scenario: &Scenario,
        clock: Clock,
        log_capacity: usize,
    ) -> Result<Self, String> {
        let mut catalog = Catalog::new();
        for zone in &scenario.zones {
            let handler =
                InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
                    zone.origin.clone(),
                    zone.records.clone(),
                    ZoneType::Primary,
                    AxfrPolicy::Deny,
                )?;
            catalog.upsert(zone.origin.clone().into(), vec![Arc::new(handler)]);
        }
        Ok(FakeDns {
            catalog,
            faults: scenario.file.dns.faults.clone(),
            counters: Mutex::new(Counters::default()),
            log: Mutex::new(QueryLog::with_capacity(log_capacity)),
            clock,
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The query log so far.
    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.log
            .lock()
            .expect("log lock")
            .entries()
            .cloned()
            .collect()
    }

    /// Answers one query. `None`: the query is dropped (no reply ever goes out).
    pub async fn handle(
        &self,
        bytes: &[u8],
        src: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        let request = match Request::from_bytes(bytes.to_vec(), src, protocol(transport)) {
            Ok(request) => request,
            // Garbage gets FORMERR when it has an id to answer to, else silence.
            Err(_) => return formerr(bytes),
        };
        let Ok(info) = request.request_info() else {
            return formerr(bytes);
        };
        let qname = info.query.name().to_string();
        let qtype = info.query.query_type();
        let story_time = self.clock.elapsed();
        let (decision, _) = {
            let mut counters = self.counters.lock().expect("counters lock");
            decide(&self.faults, &mut counters, &qname, qtype, story_time)
        };
        let mut note = "";
        let reply = match decision {
            Decision::Answer => self.answer(&request, transport).await,
            Decision::Act(action) => {
                note = action_name(action);
                match action {
                    DnsAction::Drop => None,
                    DnsAction::Nxdomain => rcode_reply(&request, ResponseCode::NXDomain),
                    DnsAction::Nodata => rcode_reply(&request, ResponseCode::NoError),
                    DnsAction::Servfail => rcode_reply(&request, ResponseCode::ServFail),
                    DnsAction::Refused => rcode_reply(&request, ResponseCode::Refused),
                    DnsAction::Delay => {
                        let delay = self.fault_delay(&qname, qtype);
                        self.clock.sleep(delay).await;
                        self.answer(&request, transport).await
                    }
                    DnsAction::Truncate => match transport {
                        Transport::Udp => self
                            .answer(&request, transport)
                            .await
                            .map(|r| truncated(&r)),
                        Transport::Tcp => self.answer(&request, transport).await,
                    },
                }
            }
        };
        let outcome = match &reply {
            None => "dropped".to_string(),
            Some(r) => describe(r),
        };
        self.log.lock().expect("log lock").push(LogEntry {
            at: story_time,
            protocol: transport.as_str(),
            name: qname,
            rtype: qtype.to_string(),
            outcome: if note.is_empty() {
                outcome
            } else {
                format!("{outcome} (fault: {note})")
            },
        });
        reply
    }

    fn fault_delay(
        &self,
        qname: &str,
        qtype: hickory_proto::rr::RecordType,
    ) -> std::time::Duration {
        self.faults
            .iter()
            .find(|f| {
                f.action == DnsAction::Delay
                    && crate::faults::name_matches(&f.name, qname)
                    && f.rtype.is_none_or(|t| t.0 == qtype)
            })
            .and_then(|f| f.delay)
            .map_or(std::time::Duration::from_secs(2), |d| d.get())
    }

    /// The catalog's authoritative answer, sized for the transport.
    async fn answer(&self, request: &Request, transport: Transport) -> Option<Vec<u8>> {
        let capture = Capture::default();
        self.catalog
            .handle_request::<_, TokioTime>(request, capture.clone())
            .await;
        let bytes = capture.0.lock().expect("capture lock").take()?;
        let limit = request.edns.as_ref().map_or(UDP_DEFAULT_PAYLOAD, |e| {
            usize::from(e.max_payload()).max(512)
        });
        if transport == Transport::Udp && bytes.len() > limit {
            return Some(truncated(&bytes));
        }
        Some(bytes)
    }
}

fn protocol(transport: Transport) -> Protocol {
    match transport {
        Transport::Udp => Protocol::Udp,
        Transport::Tcp => Protocol::Tcp,
    }
}

fn action_name(action: DnsAction) -> &'static str {
    match action {
        DnsAction::Nxdomain => "nxdomain",
        DnsAction::Nodata => "nodata",
        DnsAction::Servfail => "servfail",
        DnsAction::Refused => "refused",
        DnsAction::Drop => "drop",
        DnsAction::Delay => "delay",
        DnsAction::Truncate => "truncate",
    }
}

/// A reply with only the question and a response code. Authoritative, as the faults pretend
/// to be the zone's own server; recursion is never offered.
fn rcode_reply(request: &Request, rcode: ResponseCode) -> Option<Vec<u8>> {
    let mut message = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    message.metadata.response_code = rcode;
    message.metadata.authoritative =
        matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain);
    message.metadata.recursion_desired = request.metadata.recursion_desired;
    if let Ok(info) = request.request_info() {
        message.add_query(info.query.original().clone());
    }
    message.to_vec().ok()
}

/// FORMERR for a message we cannot read, if it is long enough to carry an id.
fn formerr(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([bytes[0], bytes[1]]);
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.metadata.response_code = ResponseCode::FormErr;
    message.to_vec().ok()
}

/// The same reply with TC set and the record sections emptied: "ask again over TCP".
fn truncated(reply: &[u8]) -> Vec<u8> {
    match Message::from_vec(reply) {
        Ok(mut message) => {
            message.metadata.truncation = true;
            message.answers.clear();
            message.authorities.clear();
            message.additionals.clear();
            message.to_vec().unwrap_or_else(|_| reply.to_vec())
        }
        Err(_) => reply.to_vec(),
    }
}

fn describe(reply: &[u8]) -> String {
    match Message::from_vec(reply) {
        Ok(m) => {
            let mut s = rcode_mnemonic(m.metadata.response_code);
            if m.metadata.truncation {
                s.push_str(" TC");
            }
            if m.metadata.response_code == ResponseCode::NoError {
                s.push_str(&format!(
                    " {} answer{}",
                    m.answers.len(),
                    if m.answers.len() == 1 { "" } else { "s" }
                ));
            }
            s
        }
        Err(_) => "unreadable reply".into(),
    }
}

/// The response code as `dig` prints it.
pub fn rcode_mnemonic(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
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
