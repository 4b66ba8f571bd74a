//! A DNS stub: one question to one server, with a timeout, a retry, and TCP after a truncated
//! UDP reply. Built on hickory-proto's wire format over the [`Network`] seam, so the same code
//! queries the in-memory fake DNS on the virtual clock and a real server on real sockets.
//!
//! Why not hickory-resolver: its retransmission timing reads the real clock and its ids and
//! server ordering are random (docs/DEPENDENCIES.md), and a diagnosis needs to ask one
//! particular server one question and see exactly what came back.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::clock::Clock;
use crate::network::Network;

/// What one question got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// NOERROR with records of the asked type (after following CNAMEs in the answer).
    Records(Vec<Record>),
    /// NOERROR, but no record of that type (NODATA).
    NoData,
    NxDomain,
    ServFail,
    Refused,
    /// Another response code (FORMERR, NOTIMP, …).
    Rcode(String),
    /// No reply within the timeout, on every try.
    Timeout,
    /// A reply that could not be read, or a transport error.
    Error(String),
}

impl Answer {
    /// True for answers that say something definite about the name (not a failure to ask).
    pub fn is_authoritative_outcome(&self) -> bool {
        matches!(self, Answer::Records(_) | Answer::NoData | Answer::NxDomain)
    }

    pub fn records(&self) -> &[Record] {
        match self {
            Answer::Records(r) => r,
            _ => &[],
        }
    }

    /// Each TXT record's text, its strings joined (RFC 7208 §3.3 and RFC 7489 read them so).
    pub fn txt_texts(&self) -> Vec<String> {
        self.records()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Short status word as `dig` would show it.
    pub fn status(&self) -> String {
        match self {
            Answer::Records(r) => format!(
                "NOERROR, {} record{}",
                r.len(),
                if r.len() == 1 { "" } else { "s" }
            ),
            Answer::NoData => "NOERROR, no records (NODATA)".into(),
            Answer::NxDomain => "NXDOMAIN".into(),
            Answer::ServFail => "SERVFAIL".into(),
            Answer::Refused => "REFUSED".into(),
            Answer::Rcode(code) => code.clone(),
            Answer::Timeout => "no answer (timed out)".into(),
            Answer::Error(e) => format!("error: {e}"),
        }
    }
}

/// One question and its answer, as evidence and logs show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub name: String,
    pub rtype: RecordType,
    pub server: SocketAddr,
    pub answer: Answer,
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} → {}", self.name, self.rtype, self.answer.status())?;
        for record in self.answer.records() {
            write!(f, "; {}", rdata_text(&record.data))?;
        }
        Ok(())
    }
}

/// A response code as `dig` prints it (`NOERROR`, `SERVFAIL`, …).
pub fn rcode_mnemonic(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// Record data in master-file form (`10 mx1.partner.test.`).
pub fn rdata_text(data: &RData) -> String {
    data.to_string()
}

/// A stub resolver pointed at one server.
pub struct DnsClient<'a> {
    net: &'a dyn Network,
    clock: Clock,
    pub server: SocketAddr,
    pub timeout: Duration,
    pub attempts: u32,
    next_id: AtomicU16,
}

impl<'a> DnsClient<'a> {
    pub fn new(
        net: &'a dyn Network,
        clock: Clock,
        server: SocketAddr,
        timeout: Duration,
        attempts: u32,
    ) -> Self {
        // Ids count up from a fixed value: scenario runs must be reproducible, and every
        // target is on loopback, where off-path spoofing is not a concern.
        DnsClient {
            net,
            clock,
            server,
            timeout,
            attempts: attempts.max(1),
            next_id: AtomicU16::new(0x4d58),
        }
    }

    /// Asks `name`/`rtype` with recursion desired (a stub's question).
    pub async fn query(&self, name: &Name, rtype: RecordType) -> Exchange {
        let answer = self.ask(name, rtype).await;
        Exchange {
            name: name.to_ascii(),
            rtype,
            server: self.server,
            answer,
        }
    }

    async fn ask(&self, name: &Name, rtype: RecordType) -> Answer {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = Message::new(id, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(name.clone(), rtype));
        let bytes = match message.to_vec() {
            Ok(b) => b,
            Err(e) => return Answer::Error(e.to_string()),
        };
        for _ in 0..self.attempts {
            let Some(reply) = self
                .clock
                .timeout(self.timeout, self.net.dns_udp(self.server, bytes.clone()))
                .await
            else {
                continue;
            };
            let reply = match reply
                .map_err(|e| e.to_string())
                .and_then(|r| decode(&r, id))
            {
                Ok(m) => m,
                Err(e) => return Answer::Error(e),
            };
            if !reply.metadata.truncation {
                return classify(&reply, name, rtype);
            }
            let Some(tcp) = self
                .clock
                .timeout(self.timeout, self.net.dns_tcp(self.server, bytes.clone()))
                .await
            else {
                continue;
            };
            return match tcp.map_err(|e| e.to_string()).and_then(|r| decode(&r, id)) {
                Ok(m) => classify(&m, name, rtype),
                Err(e) => Answer::Error(format!("over TCP: {e}")),
            };
        }
        Answer::Timeout
    }
}

fn decode(bytes: &[u8], id: u16) -> Result<Message, String> {
    let message = Message::from_vec(bytes).map_err(|e| format!("unreadable reply: {e}"))?;
    if message.metadata.id != id || message.metadata.message_type != MessageType::Response {
        return Err("reply does not match the query".into());
    }
    Ok(message)
}

/// Reads a reply the way a stub does: the records of the asked type at the name, following
/// CNAMEs within the answer section.
pub fn classify(reply: &Message, name: &Name, rtype: RecordType) -> Answer {
    match reply.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Answer::NxDomain,
        ResponseCode::ServFail => return Answer::ServFail,
        ResponseCode::Refused => return Answer::Refused,
        other => return Answer::Rcode(rcode_mnemonic(other)),
    }
    let mut owner = name.clone();
    // Bounded: a CNAME loop in an answer cannot keep us here.
    for _ in 0..16 {
        let matching: Vec<Record> = reply
            .answers
            .iter()
            .filter(|r| r.name == owner && r.record_type() == rtype)
            .cloned()
            .collect();
        if !matching.is_empty() {
            return Answer::Records(matching);
        }
        match reply
            .answers
            .iter()
            .find(|r| r.name == owner && r.record_type() == RecordType::CNAME)
        {
            Some(Record {
                data: RData::CNAME(target),
                ..
            }) => owner = target.0.clone(),
            _ => break,
        }
    }
    Answer::NoData
}
