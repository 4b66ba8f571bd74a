//! Builds the scenario catalog into the binary: every `scenarios/*.toml` at the workspace root,
//! in name order, so `mxlab run missing-mx` works from any directory.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "toml").then(|| {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                (name, path.canonicalize().unwrap())
            })
        })
        .collect();
    entries.sort();
    let mut code = String::from(
        "/// (name, file text) of every built-in scenario, by name.\npub static CATALOG: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &entries {
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("catalog.rs");
    std::fs::write(out, code).unwrap();
}
