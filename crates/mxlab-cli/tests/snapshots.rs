//! The whole report a user sees, text and JSON, for every built-in story. A change to any
//! byte of a report shows up here for review (`cargo insta review`).

mod common;

use common::{mxlab, stdout};

#[test]
fn reports() {
    for name in mxlab_scenario::catalog::names() {
        let text = stdout(&mxlab(&["run", name]));
        insta::assert_snapshot!(format!("{name}.txt"), text);
        let json = stdout(&mxlab(&["run", name, "--json"]));
        insta::assert_snapshot!(format!("{name}.json"), json);
    }
}

/// The seed's report in Japanese: headings, labels, summaries and remediation as a Japanese
/// Exchange administrator reads them, what the report quotes unchanged.
#[test]
fn seed_in_japanese() {
    let text = stdout(&mxlab(&["run", "seed-447", "--lang", "ja"]));
    insta::assert_snapshot!("seed-447.ja.txt", text);
}
