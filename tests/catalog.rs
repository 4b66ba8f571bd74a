//! The built-in catalog as a regression suite: every story loads, passes, and is the same
//! every time; every file in scenarios/ is built in.

#[test]
fn every_scenario_file_is_in_the_catalog() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml")
                .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    files.sort();
    let built_in: Vec<&str> = mxlab_scenario::catalog::names().collect();
    assert_eq!(files, built_in);
}

#[test]
fn every_story_passes_and_replays_identically() {
    for name in mxlab_scenario::catalog::names() {
        let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
        let first = mxlab_harness::run(&scenario).unwrap();
        let failed: Vec<_> = first.expectations.iter().filter(|x| !x.ok).collect();
        assert_eq!(first.passed, Some(true), "{name}: {failed:?}");
        let again = mxlab_harness::run(&scenario).unwrap();
        assert_eq!(
            first.to_text(),
            again.to_text(),
            "{name} replays identically"
        );
    }
}
