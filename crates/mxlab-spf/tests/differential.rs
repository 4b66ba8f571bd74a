//! mxlab-spf against mail-auth 0.13 on the same records: proptest generates small SPF worlds,
//! one scenario holds them all under their own names, `mxlab_harness::serve` puts its fake DNS
//! on a loopback socket, and both engines ask it. Every disagreement must be one docs/spf.md
//! explains; any other fails the test with the records that caused it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mail_auth::hickory_resolver::config::{
    NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{MessageAuthenticator, SpfResult as TheirResult};
use mxlab_harness::serve::{ServeOptions, Served};
use mxlab_net::{Clock, DnsClient, RealNetwork};
use mxlab_spf::{NetResolver, Request, SpfResult, Trace, check_host};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

const CASES: usize = 300;
const ZONE: &str = "spf.test";

/// One generated world: up to four domains with records, and a client.
#[derive(Clone, Debug)]
struct Case {
    records: Vec<String>,
    /// Which domains have an A record (127.0.0.3) and an MX pointing to d1.
    hosts: Vec<bool>,
    client: IpAddr,
}

fn name(case: usize, domain: usize) -> String {
    format!("d{domain}.c{case}.{ZONE}")
}

/// Terms over the case's own names; `{N}` is replaced by the case number.
fn term() -> impl Strategy<Value = String> {
    let qualifier = prop::sample::select(vec!["", "-", "~", "?"]);
    let body = prop::sample::select(vec![
        "all",
        "a",
        "mx",
        "a:d1.c{N}.spf.test",
        "a:d2.c{N}.spf.test/24",
        "mx:d2.c{N}.spf.test",
        "include:d1.c{N}.spf.test",
        "include:d2.c{N}.spf.test",
        "include:d3.c{N}.spf.test",
        "exists:d1.c{N}.spf.test",
        "exists:%{i}.d2.c{N}.spf.test",
        "a:nx1.c{N}.spf.test",
        "a:nx2.c{N}.spf.test",
        "mx:nx3.c{N}.spf.test",
        "ip4:127.0.0.2",
        "ip4:127.0.0.0/30",
        "ip4:192.0.2.0/24",
        "ip6:::1",
        "ptr",
        "ptr:spf.test",
        "a//64",
        "mx/24//64",
        "ip6:::1/128",
        "exists:%{l}.d1.c{N}.spf.test",
        "a:%{o}",
        "include:%{d2}",
        "exists:%{ir}.%{v}.d1.c{N}.spf.test",
        "redirect=d2.c{N}.spf.test",
        "redirect=d3.c{N}.spf.test",
    ]);
    (qualifier, body).prop_map(|(q, b)| {
        if b.starts_with("redirect=") {
            b.to_string()
        } else {
            format!("{q}{b}")
        }
    })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(prop::collection::vec(term(), 0..6), 1..5),
        prop::collection::vec(any::<bool>(), 4),
        prop::sample::select(vec![
            "127.0.0.1",
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.7",
            "::1",
            "::ffff:127.0.0.3",
        ]),
    )
        .prop_map(|(records, hosts, client)| Case {
            records: records
                .into_iter()
                .map(|terms| format!("v=spf1 {}", terms.join(" ")))
                .collect(),
            hosts,
            client: client.parse().unwrap(),
        })
}

fn generate() -> Vec<Case> {
    // Deterministic: the same worlds every run, so a disagreement is reproducible.
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn scenario(cases: &[Case]) -> String {
    let mut zone = String::from(
        "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 300 IN NS ns1\nns1 300 IN A 127.0.0.53\n",
    );
    for (n, case) in cases.iter().enumerate() {
        for (d, record) in case.records.iter().enumerate() {
            let record = record.replace("{N}", &n.to_string());
            let owner = format!("d{d}.c{n}");
            zone.push_str(&format!("{owner} 300 IN TXT \"{record}\"\n"));
            if case.hosts[d] {
                zone.push_str(&format!("{owner} 300 IN A 127.0.0.3\n"));
                zone.push_str(&format!("{owner} 300 IN AAAA ::1\n"));
                zone.push_str(&format!("{owner} 300 IN MX 10 d1.c{n}\n"));
            }
        }
    }
    format!(
        r#"
mxlab = 1
title = "differential SPF worlds"
start = "2024-05-08T20:40:00+01:00"

[[dns.zones]]
origin = "{ZONE}"
records = """
{zone}"""

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
"#
    )
}

fn theirs(r: TheirResult) -> SpfResult {
    match r {
        TheirResult::Pass => SpfResult::Pass,
        TheirResult::Fail => SpfResult::Fail,
        TheirResult::SoftFail => SpfResult::SoftFail,
        TheirResult::Neutral => SpfResult::Neutral,
        TheirResult::TempError => SpfResult::TempError,
        TheirResult::PermError => SpfResult::PermError,
        TheirResult::None => SpfResult::None,
    }
}

/// Why the two engines differ on a case (docs/spf.md names each), checked, not assumed: each
/// reason explains a case only if taking it away makes the two agree.
async fn explained(
    ours: &NetResolver<'_>,
    mail_auth: &MessageAuthenticator,
    request: &Request,
    trace: &Trace,
    their: SpfResult,
) -> Option<&'static str> {
    // RFC 7208 §5 (and the suite's *-ip4mapped tests): an IPv4-mapped IPv6 client is IPv4.
    // mail-auth asks AAAA for it; asked with the plain IPv4 address, it must agree with us.
    if let IpAddr::V6(v6) = request.ip
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        let sender = request.mail_from.as_str();
        let plain = mail_auth
            .verify_spf(SpfParameters::verify_mail_from(
                IpAddr::V4(v4),
                &request.helo,
                "receiver.test",
                sender,
            ))
            .await
            .result();
        if theirs(plain) == trace.result {
            return Some("IPv4-mapped clients, which mail-auth treats as IPv6");
        }
    }
    if trace.result == SpfResult::PermError && trace.void_lookups > trace.void_limit {
        let unlimited = Request {
            max_void_lookups: u32::MAX,
            ..request.clone()
        };
        if check_host(ours, &unlimited).await.result == their {
            return Some("the void-lookup limit, which mail-auth does not implement");
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agrees_with_mail_auth_or_says_why() {
    let cases = generate();
    let text = scenario(&cases);
    let loaded = mxlab_scenario::load_str("differential", "differential.toml", &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        time_scale: 1.0,
        ..ServeOptions::default()
    };
    let served = Served::start(&loaded, &options).await.unwrap();
    let server: SocketAddr = served.dns_addr;

    let net = RealNetwork::new();
    let clock = Clock::starting_now(time::OffsetDateTime::UNIX_EPOCH, 1.0);
    let ours = NetResolver::new(DnsClient::new(
        &net,
        clock,
        server,
        Duration::from_secs(2),
        1,
    ));
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for connection in &mut ns.connections {
        connection.port = server.port();
    }
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    opts.attempts = 1;
    opts.timeout = Duration::from_secs(2);
    opts.use_hosts_file = ResolveHosts::Never;
    let mail_auth =
        MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![ns]), opts).unwrap();

    let mut agreed = 0;
    let mut explained_by: Vec<String> = Vec::new();
    let mut unexplained: Vec<String> = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let sender = format!("user@{}", name(n, 0));
        let request = Request::mail_from(case.client, &sender, "helo.spf.test");
        let trace = check_host(&ours, &request).await;
        let their = theirs(
            mail_auth
                .verify_spf(SpfParameters::verify_mail_from(
                    case.client,
                    "helo.spf.test",
                    "receiver.test",
                    &sender,
                ))
                .await
                .result(),
        );
        if trace.result == their {
            agreed += 1;
            continue;
        }
        let records: Vec<String> = case
            .records
            .iter()
            .enumerate()
            .map(|(d, r)| format!("  {} {}", name(n, d), r.replace("{N}", &n.to_string())))
            .collect();
        let line = format!(
            "case {n} from {}: ours {} ({}), mail-auth {their}\n{}",
            case.client,
            trace.result,
            trace.reason,
            records.join("\n")
        );
        match explained(&ours, &mail_auth, &request, &trace, their).await {
            Some(why) => explained_by.push(format!("{why}: {line}")),
            None => unexplained.push(line),
        }
    }
    eprintln!(
        "{agreed} of {CASES} agree; {} differ for documented reasons",
        explained_by.len()
    );
    for line in &explained_by {
        eprintln!("{line}");
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained disagreements:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(
        agreed > CASES / 2,
        "the worlds are too odd to compare: {agreed} agree"
    );
    drop(served);
}
