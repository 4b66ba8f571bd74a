//! Bad scenario files: exit 2, a message that names file:line:col, never a panic.

mod common;

use common::{catalog_text, mxlab, scenario_file, stderr};

fn fails_at(name: &str, text: &str, line: usize, col: usize, needle: &str) {
    let path = scenario_file(name, text);
    let out = mxlab(&["run", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    let location = format!("{}:{line}:{col}: ", path.display());
    assert!(
        err.contains(&location),
        "{name}: expected {location} in\n{err}"
    );
    assert!(
        err.contains(needle),
        "{name}: expected {needle:?} in\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn toml_syntax_error() {
    let text = catalog_text("healthy").replace(
        "subject = \"Lunch on Friday?\"",
        "subject = \"Lunch on Friday?",
    );
    let line = line_of(&text, "subject = ");
    fails_at("toml-syntax", &text, line, 28, "");
}

#[test]
fn unknown_key() {
    let text = catalog_text("healthy")
        .replace("domain = \"mycompany.test\"", "domian = \"mycompany.test\"");
    let line = line_of(&text, "domian");
    fails_at("unknown-key", &text, line, 1, "unknown field `domian`");
}

#[test]
fn address_outside_loopback() {
    let text = catalog_text("healthy").replace("ip = \"127.0.0.2\"", "ip = \"192.0.2.7\"");
    let line = line_of(&text, "192.0.2.7");
    fails_at("not-loopback", &text, line, 6, "outside 127.0.0.0/8");
}

#[test]
fn zone_address_outside_loopback() {
    let text = catalog_text("healthy").replace(
        "mx1   3600 IN A   127.0.0.10",
        "mx1   3600 IN A   203.0.113.9",
    );
    let line = line_of(&text, "203.0.113.9");
    fails_at("zone-not-loopback", &text, line, 1, "outside 127.0.0.0/8");
}

#[test]
fn bad_zone_line() {
    let text = catalog_text("healthy").replace(
        "mx1   3600 IN A   127.0.0.10",
        "mx1   3600 IN A   127.0.0.10\nwww   3600 IN A   not-an-address",
    );
    let line = line_of(&text, "not-an-address");
    fails_at("bad-zone", &text, line, 1, "bad zone data");
}

#[test]
fn a_bad_duration_and_a_bad_reply() {
    let text = catalog_text("seed-447").replace(
        "submission_latency = \"3m\"",
        "submission_latency = \"3 minutes\"",
    );
    let line = line_of(&text, "3 minutes");
    fails_at("bad-duration", &text, line, 22, "unknown unit");
    let text = catalog_text("seed-447").replace("action = \"drop\"", "reply = \"45 4.4.7 nope\"");
    let line = line_of(&text, "45 4.4.7");
    fails_at(
        "bad-reply",
        &text,
        line,
        9,
        "a reply line starts with a code",
    );
}

#[test]
fn values_out_of_range_are_named_at_their_place() {
    let text = catalog_text("healthy").replace("[sender]", "[sender]\ncapacity = 0");
    let line = line_of(&text, "capacity = 0");
    fails_at("capacity", &text, line, 12, "at least 1");
    let text = catalog_text("healthy").replace(
        "subject = \"Lunch on Friday?\"",
        "subject = \"Lunch on Friday?\"\ncount = 0",
    );
    let line = line_of(&text, "count = 0");
    fails_at("count", &text, line, 9, "from 1 to 10000");
}

#[test]
fn an_unreadable_file() {
    let out = mxlab(&["run", "/nonexistent/dir/story.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/dir/story.toml: cannot read"));
}

#[test]
fn an_unknown_rule_id_in_expect_is_a_load_error() {
    let text = catalog_text("seed-447").replace(
        "verdict = \"smtp.connect.timeout\"",
        "verdict = \"smtp.connect.timout\"",
    );
    let line = line_of(&text, "smtp.connect.timout");
    fails_at(
        "unknown-verdict",
        &text,
        line,
        11,
        "`smtp.connect.timout` is not a rule id",
    );
    let text = catalog_text("seed-447").replace("\"dsn.expired\"", "\"dsn.expird\"");
    let line = line_of(&text, "dsn.expird");
    fails_at(
        "unknown-finding",
        &text,
        line,
        12,
        "`dsn.expird` is not a rule id",
    );
    let text = format!(
        "{}\n[[expect.recipients]]\naddress = \"hanako@partner.test\"\ncause = \"ok.deliverd\"\n",
        catalog_text("seed-447")
    );
    let line = line_of(&text, "ok.deliverd");
    fails_at(
        "unknown-cause",
        &text,
        line,
        9,
        "`ok.deliverd` is not a rule id",
    );
}

#[test]
fn receiver_policy_keys_are_checked_where_they_are_written() {
    // A dnsbl condition on a host that asks no zone.
    // It is named at the rule's own `dnsbl` key.
    let text = catalog_text("blocklisted-deferred").replace("dnsbl = [\"bl.spamcop.test\"]\n", "");
    let line = line_of(&text, "dnsbl = \"listed\"");
    fails_at(
        "dnsbl-no-zones",
        &text,
        line,
        1,
        "rule 1: a `dnsbl` condition needs the host's `dnsbl` zones",
    );
    // A zone that is no DNS name.
    let text = catalog_text("blocklisted").replace(
        "dnsbl = [\"zen.spamhaus.test\"]",
        "dnsbl = [\"zen spamhaus\"]",
    );
    let line = line_of(&text, "zen spamhaus");
    fails_at("dnsbl-bad-zone", &text, line, 10, "is not a DNS zone name");
    // DMARC needs the message's From header: end-of-data only.
    // At the rule itself, whose stage is wrong for it.
    let text =
        catalog_text("blocklisted-deferred").replace("dnsbl = \"listed\"", "dmarc = \"reject\"");
    let line = line_of(&text, "[[smtp.hosts.rules]]");
    fails_at(
        "dmarc-at-rcpt",
        &text,
        line,
        1,
        "a `dmarc` condition needs the message's From header",
    );
    // An unknown word names the choices.
    let text =
        catalog_text("ptr-missing").replace("reverse_dns = \"strict\"", "reverse_dns = \"on\"");
    let line = line_of(&text, "reverse_dns = ");
    fails_at("reverse-dns-word", &text, line, 15, "unknown variant `on`");
}

#[test]
fn a_tag_with_a_space() {
    let text = catalog_text("healthy").replacen(
        "tags = [\"delivered\"]",
        "tags = [\"delivered\", \"Not A Tag\"]",
        1,
    );
    let line = line_of(&text, "Not A Tag");
    let col = text.lines().nth(line - 1).unwrap().find("\"Not").unwrap() + 1;
    fails_at("bad-tag", &text, line, col, "tag `Not A Tag`");
}
