//! `mxlab run` end to end: verdicts, exit codes, the seed's arithmetic in the delay DSN, and
//! byte-identical output.

mod common;

use common::{mxlab, stdout};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

#[test]
fn each_story_gets_its_verdict() {
    for (name, verdict) in [
        ("healthy", "ok.delivered"),
        ("missing-mx", "dns.mx.missing"),
        ("nxdomain", "dns.mx.nxdomain"),
        ("seed-447", "smtp.connect.timeout"),
    ] {
        let out = mxlab(&["run", name, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            common::stderr(&out)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        common::assert_valid_report(&report, name);
        assert_eq!(report["verdict"]["rule"], verdict, "{name}");
        assert_eq!(report["passed"], true, "{name}");
        assert_eq!(report["schema"], 1);
    }
}

#[test]
fn all_ends_with_the_summary_line() {
    let out = mxlab(&["run", "--all"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let expected = format!(
        "{} passed, 0 failed",
        mxlab_scenario::catalog::names().count()
    );
    assert_eq!(text.lines().last(), Some(expected.as_str()));
}

fn field<'a>(dsn: &'a str, name: &str) -> &'a str {
    dsn.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} in\n{dsn}"))
}

fn date(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc2822).unwrap()
}

#[test]
fn the_seed_delay_dsn_says_what_exchange_says_when_exchange_says_it() {
    let out = mxlab(&["run", "seed-447", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_valid_report(&report, "seed-447");
    let dsn = report["artifacts"]["dsn"][0].as_str().unwrap();
    assert_eq!(field(dsn, "Action"), "delayed");
    assert_eq!(field(dsn, "Status"), "4.4.7");
    let arrival = date(field(dsn, "Arrival-Date"));
    assert_eq!(
        date(field(dsn, "Date")) - arrival,
        time::Duration::minutes(4 * 60 + 3)
    );
    assert_eq!(
        date(field(dsn, "Will-Retry-Until")) - arrival,
        time::Duration::hours(48)
    );
    assert!(dsn.contains("The server will keep trying to deliver this message for the next 1 days, 19 hours and 57 minutes."));
    // The real error follows Exchange's own summary.
    let summary = dsn.find("returned '400 4.4.7 Message delayed'").unwrap();
    let real = dsn.find("Winsock error code: 10060").unwrap();
    assert!(summary < real);
    // The expiry NDR comes exactly 48 h after arrival.
    let ndr = report["artifacts"]["ndr"][0].as_str().unwrap();
    assert_eq!(
        date(field(ndr, "Date")) - arrival,
        time::Duration::hours(48)
    );
    assert_eq!(report["recipients"][0]["outcome"], "expired");
}

#[test]
fn json_output_is_byte_identical_across_runs() {
    let first = mxlab(&["run", "--all", "--json"]).stdout;
    for _ in 0..3 {
        assert!(mxlab(&["run", "--all", "--json"]).stdout == first);
    }
    let value: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert!(value.is_array());
    common::assert_valid_report(&value, "run --all --json");
}

#[test]
fn a_story_that_does_not_match_exits_1() {
    let text = common::catalog_text("missing-mx").replace(
        "verdict = \"dns.mx.missing\"",
        "verdict = \"dns.mx.nxdomain\"",
    );
    let path = common::scenario_file("wrong-verdict", &text);
    let out = mxlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  verdict dns.mx.nxdomain — got dns.mx.missing"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("FAIL wrong-verdict"));
}

#[test]
fn list_and_rules_show_the_catalogs() {
    let list = stdout(&mxlab(&["list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("seed-447") && l.contains("4 h 03 min"))
    );
    let rules = stdout(&mxlab(&["rules"]));
    for id in [
        "dns.mx.missing",
        "dns.mx.nxdomain",
        "smtp.connect.timeout",
        "ok.delivered",
        "dsn.delayed",
    ] {
        assert!(
            rules.lines().any(|l| l.starts_with(&format!("{id}  ["))),
            "{id}"
        );
    }
}

#[test]
fn an_unknown_scenario_is_a_usage_error() {
    let out = mxlab(&["run", "no-such-story"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("no such scenario"));
    assert_eq!(mxlab(&["run"]).status.code(), Some(2));
}
