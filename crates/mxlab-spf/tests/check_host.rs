//! check_host() against small worlds in memory: results, the trace's deciding term and
//! counters, DNS failures, explanations, both identities.

use std::net::IpAddr;

use mxlab_spf::trace::{QueryOutcome, TermOutcome};
use mxlab_spf::{Lookup, MemoryResolver, QueryType, Request, SpfResult, Trace, check_host};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn check(dns: &MemoryResolver, client: &str, from: &str) -> Trace {
    check_host(
        dns,
        &Request::mail_from(ip(client), from, "mx.sender.example"),
    )
    .await
}

fn example() -> MemoryResolver {
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 ip4:192.0.2.0/28 include:_spf.example.com -all exp=why.example.com",
    )
    .txt("_spf.example.com", "v=spf1 a:relay.example.com mx ~all")
    .a("relay.example.com", "198.51.100.7")
    .mx("_spf.example.com", 10, "mx1.example.com")
    .a("mx1.example.com", "198.51.100.25")
    .a("mx1.example.com", "2001:db8::25")
    .txt("why.example.com", "%{i} may not send for %{d} (%{l})");
    dns
}

#[tokio::test]
async fn an_ip_range_passes_and_names_its_term() {
    let trace = check(&example(), "192.0.2.9", "taro@example.com").await;
    assert_eq!(trace.result, SpfResult::Pass);
    let d = trace.decided_by.unwrap();
    assert_eq!(
        (d.term.as_str(), d.domain.as_str()),
        ("ip4:192.0.2.0/28", "example.com")
    );
    assert_eq!(trace.lookups, 0);
}

#[tokio::test]
async fn a_pass_inside_an_include_names_the_inner_term_and_the_path() {
    let trace = check(&example(), "198.51.100.25", "taro@example.com").await;
    assert_eq!(trace.result, SpfResult::Pass);
    let d = trace.decided_by.unwrap();
    assert_eq!(d.term, "mx");
    assert_eq!(d.domain, "_spf.example.com");
    assert_eq!(d.path, ["include:_spf.example.com in example.com"]);
    assert_eq!(trace.lookups, 3, "include, a, mx");
}

#[tokio::test]
async fn a_fail_has_its_deciding_term_trace_and_explanation() {
    let trace = check(&example(), "203.0.113.5", "taro@example.com").await;
    assert_eq!(trace.result, SpfResult::Fail);
    let d = trace.decided_by.as_ref().unwrap();
    assert_eq!(
        (d.term.as_str(), d.domain.as_str()),
        ("-all", "example.com")
    );
    assert_eq!(
        trace.explanation.as_deref(),
        Some("203.0.113.5 may not send for example.com (taro)")
    );
    let root = trace.root.as_ref().unwrap();
    let terms: Vec<(&str, TermOutcome)> = root
        .terms
        .iter()
        .map(|t| (t.term.as_str(), t.outcome))
        .collect();
    assert_eq!(
        terms,
        [
            ("ip4:192.0.2.0/28", TermOutcome::NoMatch),
            ("include:_spf.example.com", TermOutcome::NoMatch),
            ("-all", TermOutcome::Match),
        ]
    );
    let include = &root.terms[1];
    assert_eq!(include.lookup, Some(1));
    let child = include.child.as_ref().unwrap();
    assert_eq!(child.result, SpfResult::SoftFail);
    let asked: Vec<String> = child
        .terms
        .iter()
        .flat_map(|t| t.queries.iter().map(|q| format!("{} {}", q.name, q.qtype)))
        .collect();
    assert_eq!(
        asked,
        [
            "relay.example.com A",
            "_spf.example.com MX",
            "mx1.example.com A"
        ]
    );
    assert_eq!(trace.explanation_queries.len(), 1);
}

#[tokio::test]
async fn ipv6_and_ipv4_mapped_clients() {
    let trace = check(&example(), "2001:db8::25", "taro@example.com").await;
    assert_eq!(trace.result, SpfResult::Pass, "{}", trace.reason);
    // An IPv4-mapped address is IPv4: it matches ip4:, and the trace shows it as IPv4.
    let trace = check(&example(), "::ffff:192.0.2.1", "taro@example.com").await;
    assert_eq!(trace.result, SpfResult::Pass);
    assert_eq!(trace.ip, ip("192.0.2.1"));
}

#[tokio::test]
async fn two_records_are_a_permerror() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 -all")
        .txt("example.com", "v=spf1 +all")
        .txt("example.com", "google-site-verification=abc");
    let trace = check(&dns, "192.0.2.1", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::PermError);
    assert!(
        trace.reason.contains("2 v=spf1 records"),
        "{}",
        trace.reason
    );
}

#[tokio::test]
async fn no_record_or_no_domain_is_none() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "some other text");
    assert_eq!(
        check(&dns, "192.0.2.1", "a@example.com").await.result,
        SpfResult::None
    );
    assert_eq!(
        check(&dns, "192.0.2.1", "a@nowhere.example").await.result,
        SpfResult::None
    );
    let trace = check(&dns, "192.0.2.1", "a@localhost").await;
    assert_eq!(trace.result, SpfResult::None);
    assert!(trace.root.is_none(), "no lookup for a single-label domain");
}

#[tokio::test]
async fn dns_failures_are_temperrors_naming_the_query() {
    let mut dns = example();
    dns.script(
        "relay.example.com",
        QueryType::A,
        Lookup::Error("SERVFAIL".into()),
    );
    let trace = check(&dns, "203.0.113.5", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::TempError);
    assert!(
        trace.reason.contains("relay.example.com"),
        "{}",
        trace.reason
    );
    let d = trace.decided_by.unwrap();
    assert_eq!(d.term, "a:relay.example.com");

    let mut dns = MemoryResolver::new();
    dns.script("example.com", QueryType::Txt, Lookup::Timeout);
    let trace = check(&dns, "203.0.113.5", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::TempError);
    let q = &trace.root.unwrap().queries[0];
    assert_eq!(q.outcome, QueryOutcome::Timeout);
}

#[tokio::test]
async fn the_eleventh_lookup_is_a_permerror() {
    let mut dns = MemoryResolver::new();
    let terms: Vec<String> = (0..11).map(|i| format!("a:h{i}.example.com")).collect();
    dns.txt("example.com", &format!("v=spf1 {} -all", terms.join(" ")));
    for i in 0..11 {
        dns.a(&format!("h{i}.example.com"), "198.51.100.1");
    }
    let trace = check(&dns, "192.0.2.1", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::PermError);
    assert_eq!(trace.lookups, 11);
    assert_eq!(trace.decided_by.unwrap().term, "a:h10.example.com");
    // Ten are fine.
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        &format!("v=spf1 {} -all", terms[..10].join(" ")),
    );
    for i in 0..10 {
        dns.a(&format!("h{i}.example.com"), "198.51.100.1");
    }
    assert_eq!(
        check(&dns, "192.0.2.1", "a@example.com").await.result,
        SpfResult::Fail
    );
}

#[tokio::test]
async fn the_third_void_lookup_is_a_permerror() {
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 a:gone1.example.com mx:gone2.example.com a:gone3.example.com -all",
    )
    .txt("gone2.example.com", "exists, but has no MX");
    let trace = check(&dns, "192.0.2.1", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::PermError);
    assert_eq!(trace.void_lookups, 3);
    assert!(trace.reason.contains("void"), "{}", trace.reason);
    let root = trace.root.unwrap();
    let voids: Vec<Option<u32>> = root.terms.iter().map(|t| t.queries[0].void).collect();
    assert_eq!(voids, [Some(1), Some(2), Some(3)]);
    // Two are allowed.
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 a:gone1.example.com a:gone2.example.com -all",
    );
    let trace = check(&dns, "192.0.2.1", "a@example.com").await;
    assert_eq!((trace.result, trace.void_lookups), (SpfResult::Fail, 2));
}

#[tokio::test]
async fn include_without_a_record_is_a_permerror_and_redirect_follows_the_target() {
    let mut dns = MemoryResolver::new();
    dns.txt("a.example", "v=spf1 include:nothing.example -all")
        .txt("nothing.example", "not spf")
        .txt(
            "b.example",
            "v=spf1 ip4:192.0.2.1 redirect=c.example exp=x.example",
        )
        .txt("c.example", "v=spf1 -all exp=y.example")
        .txt("x.example", "from b")
        .txt("y.example", "from c");
    let trace = check(&dns, "203.0.113.1", "u@a.example").await;
    assert_eq!(trace.result, SpfResult::PermError);
    assert_eq!(trace.decided_by.unwrap().term, "include:nothing.example");

    let trace = check(&dns, "203.0.113.1", "u@b.example").await;
    assert_eq!(trace.result, SpfResult::Fail);
    let d = trace.decided_by.unwrap();
    assert_eq!((d.term.as_str(), d.domain.as_str()), ("-all", "c.example"));
    assert_eq!(d.path, ["redirect=c.example in b.example"]);
    assert_eq!(
        trace.explanation.as_deref(),
        Some("from c"),
        "§6.2: the target's exp="
    );
    assert_eq!(trace.lookups, 1);
}

#[tokio::test]
async fn syntax_errors_after_the_match_still_count() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 +all ip4:300.1.1.1");
    let trace = check(&dns, "192.0.2.1", "a@example.com").await;
    assert_eq!(trace.result, SpfResult::PermError);
    assert!(trace.reason.contains("ip4:300.1.1.1"), "{}", trace.reason);
}

#[tokio::test]
async fn helo_identity_and_null_sender() {
    let mut dns = MemoryResolver::new();
    dns.txt("mx.sender.example", "v=spf1 a -all")
        .a("mx.sender.example", "192.0.2.10");
    let helo = check_host(&dns, &Request::helo(ip("192.0.2.10"), "mx.sender.example")).await;
    assert_eq!(helo.result, SpfResult::Pass);
    assert_eq!(helo.sender, "postmaster@mx.sender.example");
    // The null reverse path checks postmaster@HELO.
    let null = check(&dns, "192.0.2.11", "").await;
    assert_eq!(null.result, SpfResult::Fail);
    assert_eq!(null.domain, "mx.sender.example");
}

#[tokio::test]
async fn ptr_and_the_p_macro() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 ptr -all exp=e.example.com")
        .txt("e.example.com", "%{p} is not allowed")
        .ptr("1.2.0.192.in-addr.arpa", "mail.example.com")
        .a("mail.example.com", "192.0.2.1")
        .ptr("2.2.0.192.in-addr.arpa", "spoof.example.com")
        .a("spoof.example.com", "198.51.100.1")
        .ptr("3.2.0.192.in-addr.arpa", "host.example.net")
        .a("host.example.net", "192.0.2.3");
    assert_eq!(
        check(&dns, "192.0.2.1", "a@example.com").await.result,
        SpfResult::Pass
    );
    let spoof = check(&dns, "192.0.2.2", "a@example.com").await;
    assert_eq!(
        spoof.result,
        SpfResult::Fail,
        "the PTR name does not validate"
    );
    assert_eq!(spoof.explanation.as_deref(), Some("unknown is not allowed"));
    let other = check(&dns, "192.0.2.3", "a@example.com").await;
    assert_eq!(
        other.explanation.as_deref(),
        Some("host.example.net is not allowed")
    );
}

#[tokio::test]
async fn the_same_question_gives_the_same_trace() {
    let a = check(&example(), "203.0.113.5", "taro@example.com").await;
    let b = check(&example(), "203.0.113.5", "taro@example.com").await;
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}
