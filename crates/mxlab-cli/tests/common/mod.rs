//! Running the real `mxlab` binary, as a user would.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

pub fn mxlab(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(args)
        .output()
        .expect("run mxlab")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// A scenario file in a fresh temporary directory.
pub fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mxlab-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

pub fn catalog_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).unwrap()
}
