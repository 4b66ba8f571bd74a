//! The survey and its lint: each warning from a world that earns it, and none from a tidy one.

use mxlab_spf::{MemoryResolver, QueryType, Rdata, Severity, lint, survey};

async fn rules(dns: &MemoryResolver, domain: &str) -> Vec<(String, Severity)> {
    let survey = survey(dns, domain).await;
    lint(&survey)
        .into_iter()
        .map(|f| (f.rule, f.severity))
        .collect()
}

fn has(rules: &[(String, Severity)], rule: &str) -> bool {
    rules.iter().any(|(r, _)| r == rule)
}

#[tokio::test]
async fn a_tidy_record_has_nothing_to_report() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 mx include:_spf.example.com -all")
        .mx("example.com", 10, "mx.example.com")
        .txt("_spf.example.com", "v=spf1 ip4:192.0.2.0/24 ~all");
    assert_eq!(rules(&dns, "example.com").await, []);
}

#[tokio::test]
async fn missing_and_multiple_records() {
    let dns = MemoryResolver::new();
    assert_eq!(
        rules(&dns, "example.com").await,
        [("spf.record.missing".to_string(), Severity::Warning)]
    );
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 -all")
        .txt("example.com", "v=spf1 include:_spf.example.com -all");
    let found = rules(&dns, "example.com").await;
    assert_eq!(found[0], ("spf.record.multiple".into(), Severity::Error));
}

#[tokio::test]
async fn over_ten_lookups_across_includes_even_where_no_ip_reaches() {
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 ip4:192.0.2.0/24 include:a.example.com include:b.example.com -all",
    )
    .txt("a.example.com", "v=spf1 a:h1.example.com a:h2.example.com a:h3.example.com a:h4.example.com ~all")
    .txt("b.example.com", "v=spf1 a:h5.example.com a:h6.example.com a:h7.example.com a:h8.example.com a:h9.example.com ~all");
    for i in 1..=9 {
        dns.a(&format!("h{i}.example.com"), "198.51.100.1");
    }
    let survey = survey(&dns, "example.com").await;
    assert_eq!(survey.lookups, 11);
    let findings = lint(&survey);
    let f = findings
        .iter()
        .find(|f| f.rule == "spf.lookups.too-many")
        .unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(f.summary.contains("11 DNS-querying terms"), "{}", f.summary);
}

#[tokio::test]
async fn void_lookups() {
    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 a:gone1.example.com mx:gone2.example.com include:gone3.example.com -all",
    );
    let found = rules(&dns, "example.com").await;
    assert!(has(&found, "spf.void-lookups.too-many"), "{found:?}");
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 a:gone1.example.com -all");
    let found = rules(&dns, "example.com").await;
    assert_eq!(found, [("spf.void-lookups".to_string(), Severity::Info)]);
}

#[tokio::test]
async fn long_strings_long_records_and_text_after_all() {
    let mut dns = MemoryResolver::new();
    let long = format!("v=spf1 {}-all", "ip4:192.0.2.1 ".repeat(36));
    assert!(long.len() > 512);
    dns.add("example.com", Rdata::Txt(vec![long.into_bytes()]));
    let found = rules(&dns, "example.com").await;
    assert!(has(&found, "spf.txt.string-too-long"), "{found:?}");
    assert!(has(&found, "spf.record.too-long"), "{found:?}");

    let mut dns = MemoryResolver::new();
    dns.txt(
        "example.com",
        "v=spf1 -all ip4:192.0.2.1 redirect=other.example.com",
    );
    let survey = survey(&dns, "example.com").await;
    let findings = lint(&survey);
    let f = findings
        .iter()
        .find(|f| f.rule == "spf.all.not-last")
        .unwrap();
    assert_eq!(
        f.evidence[0],
        "ignored: ip4:192.0.2.1 redirect=other.example.com"
    );
    assert_eq!(
        survey.nodes.len(),
        1,
        "a redirect after all is not followed"
    );
}

#[tokio::test]
async fn type_99_ptr_and_loops() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 ptr include:loop.example.com -all")
        .add_typed(
            "example.com",
            QueryType::Spf,
            Rdata::Txt(vec![b"v=spf1 -all".to_vec()]),
        )
        .txt("loop.example.com", "v=spf1 include:example.com ~all");
    let found = rules(&dns, "example.com").await;
    for rule in ["spf.rr.type-99", "spf.ptr.used", "spf.include.loop"] {
        assert!(has(&found, rule), "{rule}: {found:?}");
    }
    // Errors come first.
    assert_eq!(found[0].1, Severity::Error);
}

#[tokio::test]
async fn syntax_errors_anywhere_in_the_tree() {
    let mut dns = MemoryResolver::new();
    dns.txt("example.com", "v=spf1 include:bad.example.com -all")
        .txt("bad.example.com", "v=spf1 ip4:192.0.2.300 -all");
    let survey = survey(&dns, "example.com").await;
    let findings = lint(&survey);
    let f = findings
        .iter()
        .find(|f| f.rule == "spf.record.syntax")
        .unwrap();
    assert!(f.summary.contains("bad.example.com"), "{}", f.summary);
}
