//! The DNS stories served on real sockets, seen by `dig` (installed by .ci/run) and by
//! hickory-resolver: the resolver's answers, the authoritative servers behind it, referrals,
//! reverse zones.

use std::net::SocketAddr;
use std::process::Command;

use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RecordType;
use mxlab_harness::serve::{ServeOptions, Served};

async fn serve(name: &str) -> Served {
    let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        time_scale: 1.0,
        ..ServeOptions::default()
    };
    Served::start(&scenario, &options).await.unwrap()
}

async fn dig(server: &str, port: u16, args: &[&str]) -> String {
    let (server, port, args) = (
        server.to_string(),
        port,
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    tokio::task::spawn_blocking(move || {
        let out = Command::new("dig")
            .arg(format!("@{server}"))
            .args(["-p", &port.to_string(), "+time=1", "+tries=1"])
            .args(&args)
            .output()
            .expect("dig is installed (apt-get install dnsutils; .ci/run does)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resolver_and_the_servers_behind_it() {
    let servfail = serve("dns-servfail").await;
    let port = servfail.dns_addr.port();
    let resolver = dig("127.0.0.1", port, &["partner.test", "MX"]).await;
    assert!(
        resolver.contains("status: SERVFAIL") && resolver.contains("flags: qr rd ra;"),
        "{resolver}"
    );
    let tld = dig("127.0.0.61", port, &["+norecurse", "partner.test", "MX"]).await;
    assert!(
        tld.contains("status: NOERROR") && tld.contains("flags: qr;"),
        "a referral is not authoritative: {tld}"
    );
    assert!(
        tld.contains("ns1.partner.test.\t3600\tIN\tA\t127.0.0.62"),
        "with glue: {tld}"
    );
    let target = dig("127.0.0.62", port, &["+norecurse", "partner.test", "MX"]).await;
    assert!(target.contains("status: SERVFAIL"), "{target}");
    servfail.shutdown().await;

    let timeout = serve("dns-timeout").await;
    let silent = dig(
        "127.0.0.1",
        timeout.dns_addr.port(),
        &["partner.test", "MX"],
    )
    .await;
    assert!(
        silent.contains("timed out") && !silent.contains("status:"),
        "{silent}"
    );
    timeout.shutdown().await;

    let local = serve("local-dns-failure").await;
    let port = local.dns_addr.port();
    assert!(
        dig("127.0.0.1", port, &["partner.test", "MX"])
            .await
            .contains("status: SERVFAIL")
    );
    let direct = dig("127.0.0.62", port, &["+norecurse", "partner.test", "MX"]).await;
    assert!(
        direct.contains("status: NOERROR")
            && direct.contains("flags: qr aa;")
            && direct.contains("10 mx1.partner.test."),
        "{direct}"
    );
    local.shutdown().await;

    let lame = serve("lame-delegation").await;
    let refused = dig(
        "127.0.0.62",
        lame.dns_addr.port(),
        &["+norecurse", "partner.test", "MX"],
    )
    .await;
    assert!(refused.contains("status: REFUSED"), "{refused}");
    lame.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_answers_to_any() {
    let served = serve("dns-servfail").await;
    let any = dig(
        "127.0.0.61",
        served.dns_addr.port(),
        &["+norecurse", "test", "ANY"],
    )
    .await;
    assert!(
        any.contains("HINFO\t\"RFC8482\" \"\"") && any.contains("ANSWER: 1,"),
        "{any}"
    );
    served.shutdown().await;
}

fn hickory(addr: SocketAddr) -> Resolver<TokioRuntimeProvider> {
    let mut connection = ConnectionConfig::udp();
    connection.port = addr.port();
    let server = NameServerConfig::new(addr.ip(), true, vec![connection]);
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![server]),
        TokioRuntimeProvider::default(),
    )
    .build()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hickory_resolver_reads_the_served_zones() {
    let healthy = serve("healthy").await;
    let resolver = hickory(healthy.dns_addr);
    let mx = resolver
        .lookup("partner.test.", RecordType::MX)
        .await
        .unwrap();
    let text: Vec<String> = mx.answers().iter().map(|r| r.data.to_string()).collect();
    assert_eq!(text, ["10 mx1.partner.test."]);
    let a = resolver.lookup_ip("mx1.partner.test.").await.unwrap();
    assert_eq!(
        a.iter().map(|ip| ip.to_string()).collect::<Vec<_>>(),
        ["127.0.0.10"]
    );
    healthy.shutdown().await;

    let nxdomain = serve("nxdomain").await;
    let err = hickory(nxdomain.dns_addr)
        .lookup("partnr.test.", RecordType::MX)
        .await
        .unwrap_err();
    assert!(err.is_nx_domain(), "{err}");
    nxdomain.shutdown().await;

    // Through the topology: hickory asks the resolver, which walks from the root.
    let lame = serve("lame-delegation").await;
    let ok = hickory(lame.dns_addr)
        .lookup("ns1.nic.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(ok.answers().len(), 1);
    lame.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_x_shows_the_missing_ptr() {
    let served = serve("ptr-missing").await;
    let port = served.dns_addr.port();
    let missing = dig("127.0.0.1", port, &["-x", "127.0.0.2"]).await;
    assert!(missing.contains("status: NXDOMAIN"), "{missing}");
    assert!(
        missing.contains("0.0.127.in-addr.arpa.") && missing.contains("SOA"),
        "{missing}"
    );
    // The zone is there: the MX host's own address has its PTR.
    let present = dig("127.0.0.1", port, &["-x", "127.0.0.10", "+short"]).await;
    assert_eq!(present.trim(), "mx1.partner.test.");
    served.shutdown().await;
}

/// RFC 2308 §3: NXDOMAIN and NODATA carry the zone's SOA, its TTL the smaller of its own and
/// its MINIMUM — from an authoritative server, and passed on by the resolver in front.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_answers_carry_the_soa_with_its_negative_ttl() {
    // `test.`'s SOA: TTL 3600, MINIMUM 300.
    let soa = "test.\t\t\t300\tIN\tSOA\tns1.nic.test. hostmaster.nic.test.";
    let world = serve("dns-servfail").await;
    let port = world.dns_addr.port();
    for (server, flags) in [("127.0.0.1", "+recurse"), ("127.0.0.61", "+norecurse")] {
        let nx = dig(server, port, &[flags, "nosuch.test", "A"]).await;
        assert!(
            nx.contains("status: NXDOMAIN") && nx.contains(soa),
            "{server}: {nx}"
        );
        let nodata = dig(server, port, &[flags, "ns1.nic.test", "TXT"]).await;
        assert!(
            nodata.contains("status: NOERROR")
                && nodata.contains("ANSWER: 0")
                && nodata.contains(soa),
            "{server}: {nodata}"
        );
    }
    world.shutdown().await;
    // A story without topology: the lone server's own NXDOMAIN.
    let lone = serve("nxdomain").await;
    let nx = dig(
        "127.0.0.1",
        lone.dns_addr.port(),
        &["nosuch.partner.test", "MX"],
    )
    .await;
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains("\t300\tIN\tSOA\t"),
        "{nx}"
    );
    lone.shutdown().await;
}
