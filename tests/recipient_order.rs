//! A property of the diagnosis: the causes of the broken recipients depend on what happened
//! to them, not on where they stand in the message or on who else it went to. Reordering a
//! story's recipients and adding healthy ones at another domain never changes them.

use proptest::prelude::*;
use toml::Value;

/// Stories with one DNS server (a topology would need the new zone placed on a server).
const STORIES: &[&str] = &[
    "single-mailbox",
    "greylisting",
    "seed-447",
    "user-unknown",
    "relay-denied",
    "remote-447",
    "header-limit",
    "spf-fail",
    "missing-mx",
    "nxdomain",
    "blocklisted",
    "ptr-mismatch",
    "dmarc-reject",
];

/// A domain that works, with its own MX host.
const ELSEWHERE: &str = "@     3600 IN SOA ns1 hostmaster 2024050801 3600 600 604800 300\n@     3600 IN NS  ns1\n@     3600 IN MX  10 mx\nns1   3600 IN A   127.0.0.53\nmx    3600 IN A   127.0.0.99\n";

fn causes(report: &mxlab_checker::report::Report) -> Vec<(String, mxlab_vocab::RuleId)> {
    let mut out: Vec<_> = report
        .recipients
        .iter()
        .map(|r| (r.address.to_ascii_lowercase(), r.cause.rule))
        .collect();
    out.sort();
    out
}

/// `doc.section.key`, an array, made when the story has none.
fn array<'a>(doc: &'a mut Value, section: &str, key: &str) -> &'a mut Vec<Value> {
    let top = doc.as_table_mut().unwrap();
    let section = top
        .entry(section)
        .or_insert_with(|| Value::Table(Default::default()));
    section
        .as_table_mut()
        .unwrap()
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
        .unwrap()
}

fn table(pairs: &[(&str, Value)]) -> Value {
    Value::Table(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// The story with each message's recipients rotated by `turn` and `extra` healthy recipients
/// at elsewhere.test put among them.
fn varied(text: &str, turn: usize, extra: usize) -> String {
    let mut doc: Value = toml::from_str(text).unwrap();
    array(&mut doc, "dns", "zones").push(table(&[
        ("origin", Value::String("elsewhere.test".into())),
        ("records", Value::String(ELSEWHERE.into())),
    ]));
    array(&mut doc, "smtp", "hosts").push(table(&[(
        "name",
        Value::String("mx.elsewhere.test".into()),
    )]));
    for message in doc["sender"]["messages"].as_array_mut().unwrap() {
        let to = message["to"].as_array_mut().unwrap();
        for i in 0..extra {
            let at = (turn + i) % (to.len() + 1);
            to.insert(at, Value::String(format!("colleague{i}@elsewhere.test")));
        }
        let n = to.len();
        to.rotate_left(turn % n);
    }
    toml::to_string(&doc).unwrap()
}

fn source(name: &str) -> &'static str {
    mxlab_scenario::catalog::CATALOG
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn broken_recipients_keep_their_causes(story in prop::sample::select(STORIES), turn in 0usize..4, extra in 0usize..3) {
        let text = source(story);
        let plain = mxlab_scenario::load_str(story, "story.toml", text).unwrap();
        let before = causes(&mxlab_harness::run(&plain).unwrap());
        let changed_text = varied(text, turn, extra);
        let changed = mxlab_scenario::load_str(story, "varied.toml", &changed_text).unwrap();
        let after = causes(&mxlab_harness::run(&changed).unwrap());
        for (address, cause) in &before {
            let now = after.iter().find(|(a, _)| a == address).map(|(_, c)| *c);
            prop_assert_eq!(now, Some(*cause), "{} in {}", address, story);
        }
        let added: Vec<_> = after.iter().filter(|(a, _)| a.ends_with("@elsewhere.test")).collect();
        prop_assert_eq!(added.len(), extra);
        for (address, cause) in added {
            prop_assert_eq!(*cause, mxlab_vocab::RuleId::OkDelivered, "{} in {}", address, story);
        }
    }
}
