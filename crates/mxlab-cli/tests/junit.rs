//! `--junit`: one test case per story, the failed expectations as the failure, valid against
//! Jenkins' JUnit schema. docs/junit-10.xsd is a copy of
//! https://github.com/jenkinsci/xunit-plugin/blob/8c515de2804b3fd591a3b0f1ff8908a1b1a41887/src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
//! checked with Debian's xmllint (libxml2-utils).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{catalog_text, mxlab, out_dir, scenario_file, tool};

fn xsd() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/junit-10.xsd")
}

fn assert_schema_valid(xml: &Path) {
    let Some(xmllint) = tool(&["xmllint"], "libxml2-utils") else {
        return;
    };
    let out = Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(xsd())
        .arg(xml)
        .output()
        .expect("run xmllint");
    assert!(
        out.status.success(),
        "{} does not validate:\n{}",
        xml.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn all_gives_one_valid_test_case_per_story() {
    let dir = out_dir("junit-all");
    let file = dir.join("out.xml");
    let out = mxlab(&["run", "--all", "--junit", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let xml = std::fs::read_to_string(&file).unwrap();
    let n = mxlab_scenario::catalog::names().count();
    assert_eq!(xml.matches("<testcase ").count(), n);
    for name in mxlab_scenario::catalog::names() {
        assert!(
            xml.contains(&format!("<testcase name=\"{name}\" ")),
            "{name}"
        );
    }
    assert!(xml.contains(&format!("tests=\"{n}\" failures=\"0\"")));
    assert!(!xml.contains("<failure"));
    assert_schema_valid(&file);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failed_expectation_is_the_failure_message() {
    let text = catalog_text("healthy")
        .replace("verdict = \"ok.delivered\"", "verdict = \"dns.mx.missing\"");
    assert!(text.contains("dns.mx.missing"));
    let story = scenario_file("junit-wrong", &text);
    let dir = out_dir("junit-wrong");
    let file = dir.join("out.xml");
    let out = mxlab(&[
        "run",
        story.to_str().unwrap(),
        "healthy",
        "--junit",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(
        xml.contains("<failure type=\"expectation\" message=\"2 expectations failed: verdict dns.mx.missing — got ok.delivered"),
        "{xml}"
    );
    assert_schema_valid(&file);
    let _ = std::fs::remove_dir_all(dir);
}
