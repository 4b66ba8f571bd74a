//! docs/rules.md and docs/rules.ja.md are the catalog, generated: this fails when a file is
//! stale, and `MXLAB_BLESS=1` rewrites them.

use mxlab_checker::rules::doc;
use mxlab_vocab::Lang;

#[test]
fn docs_rules_md_is_the_catalog() {
    for lang in Lang::ALL {
        let name = doc::file_name(lang);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(name);
        let want = doc::markdown_in(lang);
        if std::env::var_os("MXLAB_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/{name} is stale: run `MXLAB_BLESS=1 cargo test -p mxlab-checker --test rules_doc`"
        );
    }
}
