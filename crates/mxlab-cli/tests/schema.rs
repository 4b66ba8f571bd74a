//! docs/report.schema.json is the JSON report's contract made executable: every report the
//! catalog gives (the JSON snapshots) validates against it, and it rejects what the contract
//! does not allow. The other tests validate the `--json` output they read (`common`).

mod common;

use std::path::PathBuf;

use common::{check_report, mxlab, report_schema, stdout};
use serde_json::{Value, json};

/// The JSON snapshots of the catalog's reports, without insta's header.
fn snapshots() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json.snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // `---`, the metadata lines, `---`, then the snapshot itself.
        let body = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(_, body)| body)
            .unwrap_or_else(|| panic!("{name}: no insta header"));
        let value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        found.push((name, value));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn seed() -> Value {
    snapshots()
        .into_iter()
        .find(|(name, _)| name == "snapshots__seed-447.json.snap")
        .expect("the seed's snapshot")
        .1
}

#[test]
fn every_json_snapshot_is_a_valid_report() {
    let snapshots = snapshots();
    assert_eq!(
        snapshots.len(),
        mxlab_scenario::catalog::names().count(),
        "one JSON snapshot per built-in story"
    );
    for (name, report) in &snapshots {
        common::assert_valid_report(report, name);
    }
    // The array `run --all --json` prints is valid as a whole too.
    let all = Value::Array(snapshots.into_iter().map(|(_, v)| v).collect());
    common::assert_valid_report(&all, "the snapshots as one array");
}

#[test]
fn a_failed_run_read_from_a_file_is_a_valid_report() {
    let text = common::catalog_text("missing-mx").replace(
        "verdict = \"dns.mx.missing\"",
        "verdict = \"dns.mx.nxdomain\"",
    );
    let path = common::scenario_file("schema-wrong-verdict", &text);
    let out = mxlab(&["run", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["passed"], false);
    assert!(
        report["expectations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["ok"] == false && x["detail"].is_string()),
        "{report:#}"
    );
    common::assert_valid_report(&report, "a run whose verdict did not match");
}

/// A change to the seed's report that the contract does not allow.
fn rejected(what: &str, change: impl FnOnce(&mut Value)) {
    let mut report = seed();
    change(&mut report);
    assert!(
        check_report(&report).is_err(),
        "the schema accepted a report with {what}:\n{report:#}"
    );
}

#[test]
fn the_schema_rejects_what_the_contract_does_not_allow() {
    assert_eq!(check_report(&seed()), Ok(()), "the seed itself is valid");

    rejected("a misspelled finding field", |r| {
        let f = r["findings"][0].as_object_mut().unwrap();
        let severity = f.remove("severity").unwrap();
        f.insert("severty".into(), severity);
    });
    rejected("a bad severity", |r| {
        r["findings"][0]["severity"] = json!("fatal")
    });
    rejected("an undocumented top-level field", |r| {
        r["verdit"] = json!({"rule": "dns.mx.missing", "summary": ""});
    });
    rejected("an undocumented artifact", |r| {
        r["artifacts"]["mbox"] = json!([])
    });
    rejected("another schema number", |r| r["schema"] = json!(2));
    rejected("no artifacts", |r| {
        r.as_object_mut().unwrap().remove("artifacts");
    });
    rejected("an unknown outcome", |r| {
        r["recipients"][0]["outcome"] = json!("bounced")
    });
    rejected("a status that is not RFC 3463", |r| {
        r["recipients"][0]["status"] = json!("447")
    });
    rejected("a rule id that is not dotted", |r| {
        r["verdict"]["rule"] = json!("timeout")
    });
    rejected("a rule id in capitals", |r| {
        r["findings"][1]["rule"] = json!("DSN.Expired");
    });
    rejected("a timeline time that is not RFC 3339", |r| {
        r["timeline"][0]["at"] = json!("5/8/2024 8:40:00 PM");
    });
    rejected("passed as a string", |r| r["passed"] = json!("yes"));
    rejected("a cause without its summary", |r| {
        r["recipients"][0]["cause"] = json!({"rule": "smtp.connect.timeout"});
    });
    rejected("a reason outside the vocabulary", |r| {
        r["recipients"][0]["reason"] = json!("timeout");
    });
    rejected("cleared as a string", |r| {
        r["findings"][0]["cleared"] = json!("no")
    });
    rejected("an array holding something else", |r| {
        *r = json!([r.clone(), 1])
    });
}

#[test]
fn the_second_wave_fields_are_welcome() {
    let mut report = seed();
    report["source"] = json!("delay.eml#2");
    for finding in report["findings"].as_array_mut().unwrap() {
        finding["recipients"] = json!(["hanako@partner.test"]);
        finding["cleared"] = json!(false);
    }
    let recipient = &mut report["recipients"][0];
    recipient["outcome"] = json!("relayed");
    recipient["cause"] = json!({"rule": "smtp.connect.timeout", "summary": "no answer on port 25"});
    recipient["reason"] = json!("expired");
    recipient["reply_code"] = json!(550);
    recipient["phase"] = json!("connect");
    recipient["reporting_mta"] = json!("ex01.mycompany.test");
    recipient["original_recipient"] = json!(null);
    recipient["arrival_date"] = json!("2024-05-08T20:40:00+01:00");
    recipient["last_attempt_date"] = json!("2024-05-10T20:38:00+01:00");
    recipient["will_retry_until"] = json!(null);
    assert_eq!(check_report(&report), Ok(()));
    report["verdict"]["rule"] = json!("inconclusive");
    assert_eq!(check_report(&report), Ok(()));
}

/// The schema's closed lists against the code's: every rule the checker has, and every rule id
/// the vocabulary knows, is a rule id to the schema; every SMTP stage is a phase.
#[test]
fn rule_ids_and_stages_agree_with_the_code() {
    let (schemas, rule_id) = report_schema("/$defs/ruleId");
    let ids = mxlab_checker::rules::RULES
        .iter()
        .map(|r| r.id.as_str())
        .chain(mxlab_vocab::RuleId::ALL.iter().map(|id| id.as_str()));
    for id in ids {
        assert!(schemas.validate(&json!(id), rule_id).is_ok(), "{id}");
    }
    let (schemas, phase) = report_schema("/$defs/phase");
    for stage in mxlab_vocab::Stage::ALL {
        assert!(
            schemas.validate(&json!(stage.as_str()), phase).is_ok(),
            "{stage}"
        );
    }
}
