//! `--lang`: the report's words for people in English or Japanese, chosen on the command line
//! only — the environment's locale never changes a report — with the JSON contract the same.

mod common;

use common::{assert_valid_report, mxlab, stdout};
use serde_json::Value;

/// The JSON's shape: every object's keys, recursively, with the values left out.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        _ => Value::Null,
    }
}

fn kana(s: &str) -> bool {
    s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))
}

#[test]
fn the_locale_changes_no_report() {
    for args in [
        &["run", "seed-447"][..],
        &["run", "seed-447", "--json"],
        &["rules"],
    ] {
        let plain = mxlab(args);
        let japanese_locale = std::process::Command::new(env!("CARGO_BIN_EXE_mxlab"))
            .args(args)
            .env("LANG", "ja_JP.UTF-8")
            .env("LC_ALL", "ja_JP.UTF-8")
            .env("LANGUAGE", "ja")
            .output()
            .unwrap();
        assert_eq!(plain.stdout, japanese_locale.stdout, "{args:?}");
        assert!(!kana(&stdout(&plain)), "{args:?} is English by default");
    }
}

#[test]
fn japanese_json_keeps_the_contract() {
    let en: Value = serde_json::from_str(&stdout(&mxlab(&["run", "seed-447", "--json"]))).unwrap();
    let out = mxlab(&["run", "seed-447", "--json", "--lang", "ja"]);
    assert_eq!(out.status.code(), Some(0));
    let ja: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_valid_report(&ja, "seed-447 --lang ja");
    assert_eq!(shape(&ja), shape(&en), "the same fields");
    // Identifiers and what the report quotes are the same; the sentences for people are not.
    for pointer in [
        "/verdict/rule",
        "/findings/0/rule",
        "/findings/0/severity",
        "/findings/0/evidence",
        "/recipients/0/outcome",
        "/recipients/0/diagnostic",
        "/recipients/0/cause/rule",
        "/timeline",
        "/artifacts",
    ] {
        assert_eq!(ja.pointer(pointer), en.pointer(pointer), "{pointer}");
    }
    for pointer in [
        "/verdict/summary",
        "/findings/0/summary",
        "/findings/0/remediation/0",
        "/recipients/0/cause/summary",
    ] {
        let text = ja.pointer(pointer).and_then(Value::as_str).unwrap();
        assert!(kana(text), "{pointer}: {text}");
    }
}

#[test]
fn rules_in_japanese_lists_every_rule() {
    let en = stdout(&mxlab(&["rules"]));
    let out = mxlab(&["rules", "--lang", "ja"]);
    assert_eq!(out.status.code(), Some(0));
    let ja = stdout(&out);
    for rule in mxlab_checker::rules::RULES {
        let head = format!("{}  [{}]\n", rule.id, rule.severity.as_str());
        assert!(en.contains(&head) && ja.contains(&head), "{}", rule.id);
        let title = rule.text(mxlab_vocab::Lang::Ja).title;
        assert!(ja.contains(&format!("{head}    {title}\n")), "{}", rule.id);
        assert!(kana(title), "{}: {title}", rule.id);
    }
    assert_eq!(
        en.lines().filter(|l| !l.starts_with(' ')).count(),
        ja.lines().filter(|l| !l.starts_with(' ')).count(),
        "as many rules, as many blank lines"
    );
}

#[test]
fn explain_and_several_stories_speak_japanese() {
    let run = mxlab(&["run", "seed-447", "healthy", "--lang", "ja"]);
    assert!(
        stdout(&run).ends_with("\n合格 2 件、不合格 0 件\n"),
        "{}",
        stdout(&run)
    );
    let dir = common::out_dir("lang-explain");
    let seed: Value =
        serde_json::from_str(&stdout(&mxlab(&["run", "seed-447-ja", "--json"]))).unwrap();
    let notice = dir.join("delay.eml");
    std::fs::write(&notice, seed["artifacts"]["dsn"][0].as_str().unwrap()).unwrap();
    let out = mxlab(&["explain", notice.to_str().unwrap(), "--lang", "ja"]);
    let text = stdout(&out);
    assert!(text.contains("判定     smtp.connect.timeout\n"), "{text}");
    assert!(text.contains("宛先の MX が接続に応答しません"), "{text}");
    assert!(text.contains("原因 smtp.connect.timeout"), "{text}");
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let out = mxlab(&["run", "seed-447", "--lang", "fr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("expected en or ja"));
}
