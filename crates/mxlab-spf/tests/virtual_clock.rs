//! The engine through mxlab's DNS stub on a paused clock, with an in-memory network as a
//! scenario run has one: answers are wire messages, a dropped query never returns, and the
//! stub's own timeout turns it into a temperror at an exact story time. Once over a table of
//! wire answers, once over a scenario run's own world (the fake DNS, in memory).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use mxlab_dns::DnsWorld;
use mxlab_harness::world::World;
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

const SCENARIO: &str = r#"
mxlab = 1
title = "SPF in a scenario run"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "mycompany.test"
records = """
@      300 IN SOA ns1 hostmaster 1 3600 600 86400 300
@      300 IN NS  ns1
@      300 IN TXT "v=spf1 ip4:127.0.0.2 include:_spf.mycompany.test -all"
_spf   300 IN TXT "v=spf1 a:relay.mycompany.test ~all"
relay  300 IN A   127.0.0.3
ns1    300 IN A   127.0.0.53
"""

[[dns.faults]]
name = "relay.mycompany.test"
action = "drop"
from = "1h"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"
ip = "127.0.0.2"

[[sender.messages]]
from = "taro@mycompany.test"
to = ["hanako@mycompany.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

#[tokio::test(start_paused = true)]
async fn over_a_scenario_runs_in_memory_fake_dns() {
    let scenario = mxlab_scenario::load_str("spf", "spf.toml", SCENARIO).unwrap();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let world = World::new(
        std::sync::Arc::new(DnsWorld::from_scenario(&scenario, clock.clone(), 100, 53).unwrap()),
        Vec::new(),
        scenario.sender_ip,
    );
    let server = SocketAddr::new(scenario.dns.client_dns(), 53);
    let resolver = NetResolver::new(DnsClient::new(
        &world,
        clock.clone(),
        server,
        Duration::from_secs(5),
        2,
    ));
    let request = Request::mail_from("127.0.0.3".parse().unwrap(), "taro@mycompany.test", "h");

    let pass = check_host(&resolver, &request).await;
    assert_eq!(pass.result, SpfResult::Pass, "{}", pass.reason);
    assert_eq!(pass.decided_by.unwrap().term, "a:relay.mycompany.test");

    // An hour later the relay's name stops answering: the same question is a temperror,
    // exactly two five-second tries after it was asked.
    clock.sleep(Duration::from_secs(3600)).await;
    let asked = clock.elapsed();
    let later = check_host(&resolver, &request).await;
    assert_eq!(later.result, SpfResult::TempError, "{}", later.reason);
    assert_eq!(clock.elapsed() - asked, Duration::from_secs(10));
}
