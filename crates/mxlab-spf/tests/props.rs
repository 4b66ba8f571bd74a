//! Properties: no record text makes the engine panic, and no evaluation spends more than 10
//! lookups (or 2 void lookups) without ending in permerror.

use std::net::IpAddr;

use mxlab_spf::macros::{Context, MacroString};
use mxlab_spf::record::Record;
use mxlab_spf::trace::DomainTrace;
use mxlab_spf::{
    MAX_LOOKUPS, MAX_VOID_LOOKUPS, MemoryResolver, Rdata, Request, SpfResult, Trace, check_host,
    lint, render, survey,
};
use proptest::prelude::*;

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Runs everything a record text can reach: evaluation, rendering, survey and lint.
fn exercise(dns: &MemoryResolver, ip: IpAddr, from: &str) -> Trace {
    block_on(async {
        let trace = check_host(dns, &Request::mail_from(ip, from, "helo.example")).await;
        let _ = render::summary(&trace);
        let _ = render::trace_lines(&trace);
        let s = survey(dns, &trace.domain).await;
        let _ = lint(&s);
        trace
    })
}

/// Terms from SPF's vocabulary with arguments that are sometimes right and often not.
fn term() -> impl Strategy<Value = String> {
    let qualifier = prop::sample::select(vec!["", "+", "-", "~", "?"]);
    let name = prop::sample::select(vec![
        "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists", "redirect", "exp", "foo",
    ]);
    let arg = prop::sample::select(vec![
        "",
        ":d0.test",
        ":d1.test",
        ":d2.test",
        ":%{d}",
        ":%{i}.d1.test",
        ":%{ir}.%{v}._spf.%{d2}",
        ":%{p}.d0.test",
        ":%{l1r-}.d2.test",
        ":192.0.2.0/24",
        ":2001:db8::/32",
        "/24",
        "//64",
        "/24//64",
        "/33",
        "=d0.test",
        "=d1.test",
        "=%{d}",
        "=",
        ":",
        ":%",
        ":a..b.test",
        ":%{z}",
    ]);
    (qualifier, name, arg).prop_map(|(q, n, a)| format!("{q}{n}{a}"))
}

fn record() -> impl Strategy<Value = String> {
    prop::collection::vec(term(), 0..8).prop_map(|terms| format!("v=spf1 {}", terms.join(" ")))
}

fn world(records: &[String]) -> MemoryResolver {
    let mut dns = MemoryResolver::new();
    for (i, text) in records.iter().enumerate() {
        let domain = format!("d{i}.test");
        dns.txt(&domain, text)
            .a(&domain, "192.0.2.7")
            .mx(&domain, 10, "d1.test");
    }
    dns.ptr("7.2.0.192.in-addr.arpa", "d0.test");
    dns
}

/// The highest lookup number any term in the tree carries.
fn max_lookup(dt: &DomainTrace) -> u32 {
    dt.terms
        .iter()
        .map(|t| {
            let inner = t.child.as_deref().map(max_lookup).unwrap_or(0);
            t.lookup.unwrap_or(0).max(inner)
        })
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_panic_on_any_record_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                    prefix in any::<bool>()) {
        let mut text = if prefix { b"v=spf1 ".to_vec() } else { Vec::new() };
        text.extend(bytes);
        let mut dns = MemoryResolver::new();
        dns.add("example.test", Rdata::Txt(vec![text]));
        let trace = exercise(&dns, "192.0.2.1".parse().unwrap(), "a@example.test");
        let _ = serde_json::to_string(&trace).unwrap();
    }

    #[test]
    fn no_panic_on_any_string(text in "\\PC{0,200}") {
        let _ = Record::parse(&text);
        let _ = Record::parse(&format!("v=spf1 {text}"));
        let _ = MacroString::parse(&text, Context::Explanation);
        let _ = MacroString::parse_domain_spec(&text);
        let mut dns = MemoryResolver::new();
        dns.txt("example.test", &format!("v=spf1 {text}"));
        exercise(&dns, "2001:db8::1".parse().unwrap(), &format!("{text}@example.test"));
    }

    #[test]
    fn no_panic_on_spf_shaped_records(records in prop::collection::vec(record(), 1..4),
                                      v6 in any::<bool>()) {
        let dns = world(&records);
        let ip: IpAddr = if v6 { "2001:db8::7".parse().unwrap() } else { "192.0.2.7".parse().unwrap() };
        exercise(&dns, ip, "someone@d0.test");
    }

    #[test]
    fn lookups_never_exceed_the_limits_without_a_permerror(
        records in prop::collection::vec(record(), 1..4),
        last in 0u8..=255,
    ) {
        let dns = world(&records);
        let ip: IpAddr = format!("192.0.2.{last}").parse().unwrap();
        let trace = exercise(&dns, ip, "someone@d0.test");
        if trace.lookups > MAX_LOOKUPS {
            prop_assert_eq!(trace.result, SpfResult::PermError, "{}", trace.reason);
            prop_assert_eq!(trace.lookups, MAX_LOOKUPS + 1, "evaluation stops at the 11th");
        }
        if trace.void_lookups > MAX_VOID_LOOKUPS {
            prop_assert_eq!(trace.result, SpfResult::PermError, "{}", trace.reason);
        }
        // The counter is the trace's own: the deepest numbered term carries it.
        if let Some(root) = &trace.root {
            prop_assert_eq!(max_lookup(root), trace.lookups);
        }
    }
}

#[test]
fn a_chain_of_includes_hits_the_limit_in_the_property_world() {
    // Guards the property above against a vocabulary that never reaches the limit.
    let records: Vec<String> = (0..3)
        .map(|i| format!("v=spf1 a a a include:d{}.test", (i + 1) % 3))
        .collect();
    let trace = exercise(
        &world(&records),
        "198.51.100.1".parse().unwrap(),
        "x@d0.test",
    );
    assert_eq!(trace.result, SpfResult::PermError);
    assert_eq!(trace.lookups, MAX_LOOKUPS + 1);
}
