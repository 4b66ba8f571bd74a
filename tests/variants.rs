//! The held-out variants (scenarios/variants/): stories written apart from the rules — other
//! vendors' wordings, recipients reordered, faults fixed before the admin looks, mail
//! delivered before an outage — must pass as the catalog does.

use std::path::PathBuf;

fn variants() -> Vec<PathBuf> {
    mxlab_e2e::scenario_files("variants")
}

#[test]
fn every_variant_passes() {
    let files = variants();
    // Two or more for each story of the catalog.
    for name in mxlab_scenario::catalog::names() {
        let n = files
            .iter()
            .filter(|p| {
                p.file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{name}--"))
            })
            .count();
        assert!(n >= 2, "{name} has {n} variants");
    }
    let mut failed = Vec::new();
    for path in &files {
        let scenario = mxlab_scenario::load_path(path).unwrap_or_else(|e| panic!("{e}"));
        let report = mxlab_harness::run(&scenario).unwrap();
        if report.passed != Some(true) {
            let why: Vec<_> = report
                .expectations
                .iter()
                .filter(|x| !x.ok)
                .map(|x| format!("{} ({})", x.expect, x.detail))
                .collect();
            failed.push(format!("{}: {}", path.display(), why.join("; ")));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
