//! The engine through mxlab's DNS stub on a paused clock, with an in-memory network as a
//! scenario run has one: answers are wire messages, a dropped query never returns, and the
//! stub's own timeout turns it into a temperror at an exact story time.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use mxlab_net::{BoxStream, Clock, DnsClient, Network};
use mxlab_spf::{NetResolver, Request, SpfResult, check_host};

/// Answers from a table; names in `silent` are dropped, as a firewall would.
struct TableNet {
    records: HashMap<(String, RecordType), Vec<RData>>,
    silent: Vec<String>,
}

impl TableNet {
    fn reply(&self, query: &[u8]) -> Option<Vec<u8>> {
        let query = Message::from_vec(query).ok()?;
        let question = query.queries.first()?.clone();
        let name = question.name().to_ascii().to_ascii_lowercase();
        if self.silent.contains(&name) {
            return None;
        }
        let mut reply = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
        reply.add_query(question.clone());
        match self.records.get(&(name.clone(), question.query_type())) {
            Some(rdatas) => {
                for rdata in rdatas {
                    reply.add_answer(Record::from_rdata(
                        question.name().clone(),
                        300,
                        rdata.clone(),
                    ));
                }
            }
            None if self.records.keys().any(|(n, _)| *n == name) => {}
            None => reply.metadata.response_code = ResponseCode::NXDomain,
        }
        reply.to_vec().ok()
    }
}

#[async_trait]
impl Network for TableNet {
    async fn dns_udp(&self, _: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        match self.reply(&query) {
            Some(bytes) => Ok(bytes),
            None => std::future::pending().await,
        }
    }

    async fn dns_tcp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        self.dns_udp(server, query).await
    }

    async fn connect(&self, _: IpAddr, _: SocketAddr) -> io::Result<BoxStream> {
        Err(io::Error::other("no SMTP here"))
    }
}

fn world() -> TableNet {
    let txt = |s: &str| RData::TXT(TXT::new(vec![s.to_string()]));
    let mut records = HashMap::new();
    records.insert(
        ("mycompany.test.".to_string(), RecordType::TXT),
        vec![txt(
            "v=spf1 a:relay.mycompany.test include:slow.partner.test -all",
        )],
    );
    records.insert(
        ("relay.mycompany.test.".to_string(), RecordType::A),
        vec![RData::A(A::new(127, 0, 0, 3))],
    );
    TableNet {
        records,
        silent: vec!["slow.partner.test.".into()],
    }
}

#[tokio::test(start_paused = true)]
async fn a_dropped_include_is_a_temperror_after_exactly_the_stubs_timeout() {
    let net = world();
    let clock = Clock::starting_now(time::OffsetDateTime::UNIX_EPOCH, 1.0);
    let server: SocketAddr = "127.0.0.53:53".parse().unwrap();
    let resolver = NetResolver::new(DnsClient::new(
        &net,
        clock.clone(),
        server,
        Duration::from_secs(5),
        2,
    ));

    let pass = check_host(
        &resolver,
        &Request::mail_from("127.0.0.3".parse().unwrap(), "taro@mycompany.test", "h"),
    )
    .await;
    assert_eq!(pass.result, SpfResult::Pass);
    assert_eq!(
        clock.elapsed(),
        Duration::ZERO,
        "answers take no story time"
    );

    let fail = check_host(
        &resolver,
        &Request::mail_from("127.0.0.9".parse().unwrap(), "taro@mycompany.test", "h"),
    )
    .await;
    assert_eq!(fail.result, SpfResult::TempError, "{}", fail.reason);
    assert_eq!(fail.decided_by.unwrap().term, "include:slow.partner.test");
    assert!(fail.reason.contains("timed out"), "{}", fail.reason);
    // Two tries of five seconds each, on the virtual clock, to the millisecond.
    assert_eq!(clock.elapsed(), Duration::from_secs(10));
}
