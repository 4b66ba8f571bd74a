//! End-to-end tests live beside this file; the library holds what several of them share.

pub mod notices;

use std::path::PathBuf;

/// The scenario files in `scenarios/<dir>`, sorted by name.
pub fn scenario_files(dir: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}
