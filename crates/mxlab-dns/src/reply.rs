//! Replies built without a zone: response codes, FORMERR, truncation — shared by the
//! authoritative servers and the resolver.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{RData, Record};

/// A reply with only the question and a response code.
pub fn rcode_reply(
    id: u16,
    recursion_desired: bool,
    query: Option<&Query>,
    rcode: ResponseCode,
    authoritative: bool,
) -> Option<Vec<u8>> {
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.metadata.response_code = rcode;
    message.metadata.authoritative = authoritative;
    message.metadata.recursion_desired = recursion_desired;
    if let Some(q) = query {
        message.add_query(q.clone());
    }
    message.to_vec().ok()
}

/// A negative answer (NXDOMAIN, or NOERROR without records: NODATA) with the zone's SOA in
/// the authority section when there is one (RFC 2308 §3), authoritative.
pub fn negative_reply(
    id: u16,
    recursion_desired: bool,
    query: &Query,
    rcode: ResponseCode,
    soa: Option<Record>,
) -> Option<Vec<u8>> {
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.metadata.response_code = rcode;
    message.metadata.authoritative = true;
    message.metadata.recursion_desired = recursion_desired;
    message.add_query(query.clone());
    message.authorities.extend(soa);
    message.to_vec().ok()
}

/// The TTL a negative answer gives its SOA: the smaller of the SOA's own TTL and its MINIMUM
/// field (RFC 2308 §3). `None` for a record that is not an SOA.
pub fn negative_ttl(record: &Record) -> Option<u32> {
    match &record.data {
        RData::SOA(soa) => Some(record.ttl.min(soa.minimum)),
        _ => None,
    }
}

/// Whether a reply is negative: NXDOMAIN, or NOERROR with no answer (NODATA).
pub fn is_negative(message: &Message) -> bool {
    match message.metadata.response_code {
        ResponseCode::NXDomain => true,
        ResponseCode::NoError => message.answers.is_empty(),
        _ => false,
    }
}

/// Gives every SOA in a negative message's authority section the TTL of RFC 2308 §3; says
/// whether any changed (records compare equal whatever their TTLs).
pub fn cap_negative_ttls(message: &mut Message) -> bool {
    if !is_negative(message) {
        return false;
    }
    let mut changed = false;
    for record in &mut message.authorities {
        if let Some(ttl) = negative_ttl(record)
            && ttl != record.ttl
        {
            record.ttl = ttl;
            changed = true;
        }
    }
    changed
}

/// The reply re-encoded with [`cap_negative_ttls`] applied, or `None` when nothing changes
/// (checked on the header first: most replies are positive).
pub fn with_negative_ttls(reply: &[u8]) -> Option<Vec<u8>> {
    if reply.len() < 12 {
        return None;
    }
    let rcode = reply[3] & 0x0F;
    let answers = u16::from_be_bytes([reply[6], reply[7]]);
    let authorities = u16::from_be_bytes([reply[8], reply[9]]);
    if authorities == 0 || !(rcode == 3 || (rcode == 0 && answers == 0)) {
        return None;
    }
    let mut message = Message::from_vec(reply).ok()?;
    if !cap_negative_ttls(&mut message) {
        return None;
    }
    message.to_vec().ok()
}

/// FORMERR for a message we cannot read, if it is long enough to carry an id.
pub fn formerr(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([bytes[0], bytes[1]]);
    rcode_reply(id, false, None, ResponseCode::FormErr, false)
}

/// The same reply with TC set and the record sections emptied: "ask again over TCP".
pub fn truncated(reply: &[u8]) -> Vec<u8> {
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

pub use mxlab_net::dns::rcode_mnemonic;

/// A one-line summary of a reply for the query log, read from the header alone (this runs
/// for every query a served DNS answers).
pub fn describe(reply: &[u8]) -> String {
    if reply.len() < 12 {
        return "unreadable reply".into();
    }
    let flags = u16::from_be_bytes([reply[2], reply[3]]);
    let (aa, tc) = (flags & 0x0400 != 0, flags & 0x0200 != 0);
    // A resolver's answer (RA) is never a referral: its NODATA carries the zone's SOA in
    // authority (RFC 2308), not NS records.
    let ra = flags & 0x0080 != 0;
    let answers = u16::from_be_bytes([reply[6], reply[7]]);
    let authorities = u16::from_be_bytes([reply[8], reply[9]]);
    let mut s = rcode_mnemonic(ResponseCode::from_low((flags & 0x000F) as u8));
    if tc {
        s.push_str(" TC");
    }
    if flags & 0x000F == 0 {
        if answers == 0 && authorities > 0 && !aa && !tc && !ra {
            s.push_str(" referral");
        } else {
            s.push_str(&format!(
                " {answers} answer{}",
                if answers == 1 { "" } else { "s" }
            ));
        }
    }
    s
}

/// Whether a reply could be a referral: NOERROR, no answers, something in authority. Cheap
/// enough to ask before decoding.
pub fn maybe_referral(reply: &[u8]) -> bool {
    reply.len() >= 12
        && reply[3] & 0x0F == 0
        && u16::from_be_bytes([reply[6], reply[7]]) == 0
        && u16::from_be_bytes([reply[8], reply[9]]) > 0
}

/// The largest UDP reply a query allows: its EDNS payload size, else 512 (RFC 1035 §4.2.1).
pub fn udp_limit(edns_payload: Option<u16>) -> usize {
    edns_payload.map_or(512, |p| usize::from(p).max(512))
}

/// Carries out a fault decision: `rcode` builds a bare reply with a response code, `answer`
/// produces the normal answer (from the zones, or by resolving). One place for what every
/// action means, for the servers and the resolver alike.
pub(crate) async fn execute<F: Future<Output = Option<Vec<u8>>>>(
    decision: crate::faults::Decision,
    delay: Option<std::time::Duration>,
    clock: &mxlab_net::Clock,
    transport: crate::server::Transport,
    rcode: impl Fn(ResponseCode) -> Option<Vec<u8>>,
    answer: impl FnOnce() -> F,
) -> Option<Vec<u8>> {
    use crate::faults::Decision;
    use mxlab_scenario::model::DnsAction;
    match decision {
        Decision::Answer => answer().await,
        Decision::Act(DnsAction::Drop) => None,
        Decision::Act(DnsAction::Nxdomain) => rcode(ResponseCode::NXDomain),
        Decision::Act(DnsAction::Nodata) => rcode(ResponseCode::NoError),
        Decision::Act(DnsAction::Servfail) => rcode(ResponseCode::ServFail),
        Decision::Act(DnsAction::Refused) => rcode(ResponseCode::Refused),
        Decision::Act(DnsAction::Delay) => {
            clock
                .sleep(delay.unwrap_or(std::time::Duration::from_secs(2)))
                .await;
            answer().await
        }
        Decision::Act(DnsAction::Truncate) => {
            let full = answer().await;
            match transport {
                crate::server::Transport::Udp => full.map(|r| truncated(&r)),
                crate::server::Transport::Tcp => full,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::SOA;

    fn soa(ttl: u32, minimum: u32) -> Record {
        let data = SOA::new(
            "ns1.t.".parse().unwrap(),
            "h.t.".parse().unwrap(),
            1,
            3600,
            600,
            86400,
            minimum,
        );
        Record::from_rdata("t.".parse().unwrap(), ttl, RData::SOA(data))
    }

    fn negative(rcode: ResponseCode, ra: bool) -> Message {
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.metadata.response_code = rcode;
        m.metadata.recursion_available = ra;
        m.authorities.push(soa(3600, 300));
        m
    }

    #[test]
    fn a_negative_answers_soa_gets_the_smaller_ttl() {
        for rcode in [ResponseCode::NXDomain, ResponseCode::NoError] {
            let bytes = negative(rcode, false).to_vec().unwrap();
            let fixed = Message::from_vec(&with_negative_ttls(&bytes).unwrap()).unwrap();
            assert_eq!(fixed.authorities[0].ttl, 300);
        }
        // MINIMUM above the TTL: the TTL stays, nothing to rewrite.
        let mut m = negative(ResponseCode::NXDomain, false);
        m.authorities[0] = soa(60, 300);
        assert_eq!(with_negative_ttls(&m.to_vec().unwrap()), None);
        assert_eq!(negative_ttl(&soa(60, 300)), Some(60));
    }

    #[test]
    fn a_resolvers_nodata_is_not_a_referral() {
        let nodata = negative(ResponseCode::NoError, true).to_vec().unwrap();
        assert_eq!(describe(&nodata), "NOERROR 0 answers");
        let unsure = negative(ResponseCode::NoError, false).to_vec().unwrap();
        assert_eq!(describe(&unsure), "NOERROR referral");
    }
}
