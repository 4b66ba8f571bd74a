//! The fake DNS on real UDP and TCP sockets, asked by our own stub and by `dig`
//! (installed by .ci/run), including malformed traffic it must survive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use mxlab_dns::DnsWorld;
use mxlab_dns::listen::Handler;
use mxlab_net::{Answer, Clock, DnsClient, RealNetwork};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinSet;

const SCENARIO: &str = r#"
mxlab = 1
title = "dns test"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "partner.test"
records = """
@      3600 IN SOA ns1 hostmaster 1 3600 600 86400 300
@      300 IN NS  ns1
@      300 IN MX  10 mx1
@      300 IN TXT "v=spf1 ip4:127.0.0.2 " "include:_spf.partner.test -all"
ns1    300 IN A   127.0.0.53
mx1    300 IN A   127.0.0.10
big    300 IN A   127.0.0.11
broken 300 IN MX  10 mx1
slow   300 IN MX  10 mx1
alias  300 IN CNAME www
www    300 IN CNAME mx1
loop1  300 IN CNAME loop2
loop2  300 IN CNAME loop1
"""

[[dns.faults]]
name = "broken.partner.test"
action = "servfail"

[[dns.faults]]
name = "slow.partner.test"
action = "drop"

[[dns.faults]]
name = "big.partner.test"
action = "truncate"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"

[[sender.messages]]
from = "a@mycompany.test"
to = ["b@partner.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

async fn start() -> (Arc<DnsWorld>, SocketAddr, JoinSet<()>) {
    let scenario = mxlab_scenario::load_str("dns-test", "dns-test.toml", SCENARIO).unwrap();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let dns = Arc::new(DnsWorld::from_scenario(&scenario, clock, 1000, 53).unwrap());
    let server: Arc<dyn Handler> = dns.servers[0].clone();
    let (addr, tasks) = mxlab_dns::listen::listen(server, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (dns, addr, tasks)
}

/// Our DNS stub on real sockets, one try per question.
fn stub(net: &RealNetwork, addr: SocketAddr, timeout: Duration) -> DnsClient<'_> {
    DnsClient::new(
        net,
        Clock::starting_now(time::OffsetDateTime::UNIX_EPOCH, 1.0),
        addr,
        timeout,
        1,
    )
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

#[tokio::test]
async fn answers_nxdomain_refused_servfail_and_drops_over_udp() {
    let (_dns, addr, _tasks) = start().await;
    let net = RealNetwork::new();
    let client = stub(&net, addr, Duration::from_millis(300));

    let mx = client.query(&name("partner.test."), RecordType::MX).await;
    assert_eq!(mx.answer.records().len(), 1, "{mx}");
    assert!(mx.to_string().contains("10 mx1.partner.test."), "{mx}");
    let txt = client.query(&name("partner.test."), RecordType::TXT).await;
    assert!(
        txt.to_string().contains("include:_spf.partner.test"),
        "{txt}"
    );
    assert_eq!(
        client
            .query(&name("nosuch.partner.test."), RecordType::MX)
            .await
            .answer,
        Answer::NxDomain
    );
    assert_eq!(
        client
            .query(&name("partner.test."), RecordType::AAAA)
            .await
            .answer,
        Answer::NoData
    );
    assert_eq!(
        client
            .query(&name("elsewhere.example."), RecordType::MX)
            .await
            .answer,
        Answer::Refused
    );
    assert_eq!(
        client
            .query(&name("broken.partner.test."), RecordType::MX)
            .await
            .answer,
        Answer::ServFail
    );
    assert_eq!(
        client
            .query(&name("slow.partner.test."), RecordType::MX)
            .await
            .answer,
        Answer::Timeout
    );
}

#[tokio::test]
async fn cname_chains_are_followed_and_loops_end() {
    let (_dns, addr, _tasks) = start().await;
    let net = RealNetwork::new();
    let client = stub(&net, addr, Duration::from_secs(2));
    let chained = client
        .query(&name("alias.partner.test."), RecordType::A)
        .await;
    assert_eq!(chained.answer.records().len(), 1, "{chained}");
    assert!(chained.to_string().contains("127.0.0.10"), "{chained}");
    let looped = client
        .query(&name("loop1.partner.test."), RecordType::A)
        .await;
    assert!(
        looped.answer.is_authoritative_outcome() || matches!(looped.answer, Answer::ServFail),
        "a loop ends with an answer, not a hang: {looped}"
    );
}

#[tokio::test]
async fn a_truncated_answer_is_fetched_again_over_tcp() {
    let (dns, addr, _tasks) = start().await;
    let net = RealNetwork::new();
    let client = stub(&net, addr, Duration::from_secs(2));
    let big = client
        .query(&name("big.partner.test."), RecordType::A)
        .await;
    assert_eq!(big.answer.records().len(), 1, "{big}");
    let log: Vec<String> = dns
        .log_entries()
        .iter()
        .map(|e| format!("{} {}", e.protocol, e.outcome))
        .collect();
    assert_eq!(
        log,
        [
            "udp NOERROR TC 0 answers (fault: truncate)",
            "tcp NOERROR 1 answer (fault: truncate)"
        ]
    );
}

#[tokio::test]
async fn never_offers_recursion() {
    let (_dns, addr, _tasks) = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(hickory_proto::op::Query::query(
        name("partner.test."),
        RecordType::MX,
    ));
    socket
        .send_to(&query.to_vec().unwrap(), addr)
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).await.unwrap();
    let reply = Message::from_vec(&buf[..n]).unwrap();
    assert!(!reply.metadata.recursion_available);
    assert!(reply.metadata.authoritative);
}

#[tokio::test]
async fn malformed_traffic_never_stops_the_server() {
    let (_dns, addr, _tasks) = start().await;
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Random bytes, a truncated header, an empty datagram.
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for len in [1usize, 5, 11, 12, 40, 512, 1400] {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        udp.send_to(&junk, addr).await.unwrap();
    }
    udp.send_to(&[], addr).await.unwrap();
    // 64 KiB of junk over TCP, in a frame that claims its full length.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut frame = vec![0xff, 0xff];
    frame.extend(std::iter::repeat_n(0xA5u8, 65535));
    tcp.write_all(&frame).await.unwrap();
    let mut len = [0u8; 2];
    // Either a FORMERR comes back or the connection is closed; both are fine, a hang is not.
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut len))
        .await
        .expect("the server answers or closes");

    let net = RealNetwork::new();
    let client = stub(&net, addr, Duration::from_secs(2));
    let mx = client.query(&name("partner.test."), RecordType::MX).await;
    assert_eq!(
        mx.answer.records().len(),
        1,
        "still serving after junk: {mx}"
    );
}

async fn dig(addr: SocketAddr, args: &[&str]) -> String {
    let out = tokio::process::Command::new("dig")
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "+time=1", "+tries=1"])
        .args(args)
        .output()
        .await
        .expect("dig is installed (apt-get install dnsutils; .ci/run does)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_sees_the_scripted_world() {
    let (_dns, addr, _tasks) = start().await;
    let mx = dig(addr, &["partner.test", "MX"]).await;
    assert!(
        mx.contains("status: NOERROR") && mx.contains("MX\t10 mx1.partner.test."),
        "{mx}"
    );
    assert!(
        mx.contains("flags: qr aa rd;"),
        "authoritative, no ra: {mx}"
    );
    let txt = dig(addr, &["partner.test", "TXT"]).await;
    assert!(
        txt.contains("\"v=spf1 ip4:127.0.0.2 \" \"include:_spf.partner.test -all\""),
        "{txt}"
    );
    assert!(
        dig(addr, &["nosuch.partner.test", "MX"])
            .await
            .contains("status: NXDOMAIN")
    );
    assert!(
        dig(addr, &["broken.partner.test", "MX"])
            .await
            .contains("status: SERVFAIL")
    );
    assert!(
        dig(addr, &["elsewhere.example", "MX"])
            .await
            .contains("status: REFUSED")
    );
    let slow = dig(addr, &["slow.partner.test", "MX"]).await;
    assert!(
        slow.contains("timed out") && !slow.contains("status:"),
        "{slow}"
    );
    let big = dig(addr, &["big.partner.test", "A"]).await;
    assert!(
        big.contains("Truncated, retrying in TCP mode") && big.contains("127.0.0.11"),
        "{big}"
    );
    let tcp = dig(addr, &["+tcp", "partner.test", "MX"]).await;
    assert!(
        tcp.contains("status: NOERROR") && tcp.contains("(TCP)"),
        "{tcp}"
    );
}

#[tokio::test]
async fn a_repeated_question_is_answered_with_its_own_id() {
    let (_dns, addr, _tasks) = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut replies = Vec::new();
    for id in [0x1111u16, 0x2222] {
        let mut query = Message::new(
            id,
            hickory_proto::op::MessageType::Query,
            hickory_proto::op::OpCode::Query,
        );
        query.add_query(hickory_proto::op::Query::query(
            name("partner.test."),
            RecordType::MX,
        ));
        socket
            .send_to(&query.to_vec().unwrap(), addr)
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).await.unwrap();
        let reply = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(reply.metadata.id, id);
        replies.push(reply.answers);
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0].len(), 1);
}

/// A query for `name`/`rtype` as bytes, with EDNS when `edns` is given (its payload size).
fn query_bytes(id: u16, qname: &str, rtype: RecordType, edns: Option<u16>) -> Vec<u8> {
    let mut query = Message::new(
        id,
        hickory_proto::op::MessageType::Query,
        hickory_proto::op::OpCode::Query,
    );
    query.add_query(hickory_proto::op::Query::query(name(qname), rtype));
    if let Some(payload) = edns {
        let mut e = hickory_proto::op::Edns::new();
        e.set_max_payload(payload);
        query.edns = Some(e);
    }
    query.to_vec().unwrap()
}

fn src() -> SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

#[tokio::test]
async fn negative_answers_carry_the_soa_with_the_minimum_ttl() {
    let (dns, _addr, _tasks) = start().await;
    let server = &dns.servers[0];
    // NXDOMAIN from the zones, NODATA from the zones, and a scripted NXDOMAIN-free servfail.
    for (qname, rtype, rcode) in [
        (
            "nosuch.partner.test.",
            RecordType::MX,
            hickory_proto::op::ResponseCode::NXDomain,
        ),
        (
            "mx1.partner.test.",
            RecordType::TXT,
            hickory_proto::op::ResponseCode::NoError,
        ),
    ] {
        for transport in [mxlab_dns::Transport::Udp, mxlab_dns::Transport::Tcp] {
            let reply = server
                .handle(&query_bytes(7, qname, rtype, None), src(), transport)
                .await
                .unwrap();
            let reply = Message::from_vec(&reply).unwrap();
            assert_eq!(reply.metadata.response_code, rcode, "{qname}");
            assert!(reply.answers.is_empty(), "{qname}");
            let soa: Vec<_> = reply
                .authorities
                .iter()
                .filter(|r| r.record_type() == RecordType::SOA)
                .collect();
            assert_eq!(soa.len(), 1, "{qname}: {reply:?}");
            // SOA TTL 3600, MINIMUM 300: RFC 2308 §3 says the smaller.
            assert_eq!(soa[0].ttl, 300, "{qname}");
        }
    }
}

#[tokio::test]
async fn a_response_is_never_answered_and_the_server_goes_on() {
    let (_dns, addr, _tasks) = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut spoofed = query_bytes(0x5151, "partner.test.", RecordType::MX, None);
    spoofed[2] |= 0x80;
    socket.send_to(&spoofed, addr).await.unwrap();
    let mut buf = [0u8; 4096];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), socket.recv(&mut buf))
            .await
            .is_err(),
        "a QR=1 packet got an answer"
    );
    let query = query_bytes(0x5152, "partner.test.", RecordType::MX, None);
    socket.send_to(&query, addr).await.unwrap();
    let n = socket.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..2], &[0x51, 0x52]);
    assert!(n > 12);
}

/// A query over TCP framed with its length.
async fn ask_tcp(stream: &mut TcpStream, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

/// The same question with EDNS options of every size is one cache entry, and many
/// questions never take the cache past its bound.
#[tokio::test]
async fn the_answer_cache_is_keyed_by_the_question_and_bounded_in_bytes() {
    let (dns, _addr, _tasks) = start().await;
    let server = &dns.servers[0];
    server.set_cache_limit(8 * 1024);
    for (i, padding) in [0usize, 100, 1000, 30_000, 60_000].into_iter().enumerate() {
        let mut query = query_bytes(i as u16, "partner.test.", RecordType::MX, Some(1232));
        // An EDNS padding option (12) of `padding` bytes, the OPT's RDLENGTH fixed up.
        let rdlen = 4 + padding as u16;
        let at = query.len() - 2;
        query[at..].copy_from_slice(&rdlen.to_be_bytes());
        query.extend_from_slice(&12u16.to_be_bytes());
        query.extend_from_slice(&(padding as u16).to_be_bytes());
        query.extend(std::iter::repeat_n(0u8, padding));
        let reply = server
            .handle(&query, src(), mxlab_dns::Transport::Tcp)
            .await
            .unwrap();
        assert_eq!(Message::from_vec(&reply).unwrap().answers.len(), 1);
    }
    assert_eq!(server.cache_usage().1, 1, "one question, one entry");
    for i in 0..500u16 {
        let qname = format!("n{i}.partner.test.");
        let _ = server
            .handle(
                &query_bytes(i, &qname, RecordType::A, None),
                src(),
                mxlab_dns::Transport::Tcp,
            )
            .await;
    }
    let (bytes, entries) = server.cache_usage();
    assert!(bytes <= 8 * 1024, "{bytes} bytes");
    assert!(entries > 1 && entries < 500, "{entries} entries");
    // Past the bound, answers are still given, computed afresh.
    let reply = server
        .handle(
            &query_bytes(9, "n499.partner.test.", RecordType::A, None),
            src(),
            mxlab_dns::Transport::Udp,
        )
        .await
        .unwrap();
    assert_eq!(reply[3] & 0x0F, 3, "NXDOMAIN");
}

/// Panics on a query whose id is 0xDEAD, answers the rest from the world.
struct Panicky(Arc<mxlab_dns::FakeDns>);

#[async_trait::async_trait]
impl Handler for Panicky {
    async fn handle(
        &self,
        bytes: &[u8],
        src: SocketAddr,
        transport: mxlab_dns::Transport,
    ) -> mxlab_dns::server::Handled {
        if bytes.starts_with(&[0xDE, 0xAD]) {
            panic!("a bug met by a query");
        }
        self.0.handle_query(bytes, src, transport).await
    }

    fn may_wait(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_answering_is_contained() {
    let (dns, _addr, _tasks) = start().await;
    let handler: Arc<dyn Handler> = Arc::new(Panicky(dns.servers[0].clone()));
    let (addr, _tasks) = mxlab_dns::listen::listen(handler, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut buf = [0u8; 4096];
    // More panics than there are receive loops: none of them may die.
    for _ in 0..8 {
        let bad = query_bytes(0xDEAD, "partner.test.", RecordType::MX, None);
        socket.send_to(&bad, addr).await.unwrap();
    }
    let good = query_bytes(0x600D, "partner.test.", RecordType::MX, None);
    socket.send_to(&good, addr).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
        .await
        .expect("UDP still answers after panics")
        .unwrap();
    assert_eq!(&buf[..2], &[0x60, 0x0D]);
    assert!(n > 12);
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let bad = query_bytes(0xDEAD, "partner.test.", RecordType::MX, None);
    assert!(
        ask_tcp(&mut tcp, &bad).await.is_err(),
        "the connection closes"
    );
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let reply = ask_tcp(&mut tcp, &good).await.unwrap();
    assert_eq!(&reply[..2], &[0x60, 0x0D]);
}

async fn listen_with(
    dns: &DnsWorld,
    limits: mxlab_dns::listen::TcpLimits,
) -> (SocketAddr, JoinSet<()>) {
    let (port, mut sockets) = mxlab_dns::listen::bind_all(&["127.0.0.1".parse().unwrap()], 0)
        .await
        .unwrap();
    let tasks = mxlab_dns::listen::serve_with(dns.servers[0].clone(), sockets.remove(0), limits);
    (SocketAddr::from(([127, 0, 0, 1], port)), tasks)
}

/// A TCP client from `ip` (any of 127.0.0.0/8).
async fn connect_from(ip: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((ip, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_are_bounded_per_client_and_idle_ones_make_room() {
    let (dns, _addr, _tasks) = start().await;
    let limits = mxlab_dns::listen::TcpLimits {
        connections: 3,
        per_client: 2,
        lifetime: Duration::from_secs(60),
    };
    let (addr, _tasks) = listen_with(&dns, limits).await;
    let query = query_bytes(1, "partner.test.", RecordType::MX, None);
    // One client: two connections served, the third closed at once.
    let mut a1 = connect_from([127, 0, 0, 71], addr).await;
    let mut a2 = connect_from([127, 0, 0, 71], addr).await;
    assert!(ask_tcp(&mut a1, &query).await.is_ok());
    assert!(ask_tcp(&mut a2, &query).await.is_ok());
    let mut a3 = connect_from([127, 0, 0, 71], addr).await;
    assert!(
        ask_tcp(&mut a3, &query).await.is_err(),
        "over the per-client bound"
    );
    // Another client takes the last slot; a fourth client closes the longest idle (a1).
    let mut b = connect_from([127, 0, 0, 72], addr).await;
    assert!(ask_tcp(&mut b, &query).await.is_ok());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(ask_tcp(&mut a2, &query).await.is_ok());
    assert!(ask_tcp(&mut b, &query).await.is_ok());
    let mut c = connect_from([127, 0, 0, 73], addr).await;
    assert!(
        ask_tcp(&mut c, &query).await.is_ok(),
        "a fresh client is served"
    );
    assert!(
        ask_tcp(&mut a1, &query).await.is_err(),
        "the longest idle was closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_connection_ends_with_its_lifetime() {
    let (dns, _addr, _tasks) = start().await;
    let limits = mxlab_dns::listen::TcpLimits {
        lifetime: Duration::from_millis(300),
        ..Default::default()
    };
    let (addr, _tasks) = listen_with(&dns, limits).await;
    let query = query_bytes(1, "partner.test.", RecordType::MX, None);
    let mut client = TcpStream::connect(addr).await.unwrap();
    assert!(ask_tcp(&mut client, &query).await.is_ok());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(ask_tcp(&mut client, &query).await.is_err());
}
