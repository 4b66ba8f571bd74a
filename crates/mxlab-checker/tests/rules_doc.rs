//! docs/rules.md is the catalog, generated: this fails when the file is stale, and
//! `MXLAB_BLESS=1` rewrites it.

#[test]
fn docs_rules_md_is_the_catalog() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let want = mxlab_checker::rules::markdown();
    if std::env::var_os("MXLAB_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: run `MXLAB_BLESS=1 cargo test -p mxlab-checker --test rules_doc`"
    );
}
