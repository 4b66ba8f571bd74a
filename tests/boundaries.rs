//! The checker sees only what an administrator could: nothing in its dependency tree knows
//! the scenario, the simulator or the fake servers, or mints the fake servers' certificates.
//! Read from the manifests, so a new dependency that breaks the boundary fails here.

use std::collections::BTreeSet;
use std::path::Path;

fn dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(krate)
        .join("Cargo.toml");
    let doc: toml::Value = toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_checker_depends_on_no_part_of_the_simulation() {
    let mut seen = BTreeSet::new();
    let mut todo = vec!["mxlab-checker".to_string()];
    while let Some(k) = todo.pop() {
        for d in dependencies(&k) {
            if seen.insert(d.clone()) && d.starts_with("mxlab-") {
                todo.push(d);
            }
        }
    }
    for forbidden in [
        "mxlab-scenario",
        "mxlab-sim",
        "mxlab-dns",
        "mxlab-smtp",
        "mxlab-harness",
        "mxlab-ca",
        "rcgen",
    ] {
        assert!(
            !seen.contains(forbidden),
            "mxlab-checker reaches {forbidden}: {seen:?}"
        );
    }
    assert!(seen.contains("mxlab-vocab"), "{seen:?}");
}
