//! Choosing stories: `--filter` (a part of the name) and `--tag`, with or without `--all`;
//! `mxlab list` with the tags last; progress on stderr, a bar only on a terminal.

mod common;

use common::{mxlab, stderr, stdout};

fn names_run(args: &[&str]) -> Vec<String> {
    let out = mxlab(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    match value {
        serde_json::Value::Array(reports) => reports
            .iter()
            .map(|r| r["scenario"].as_str().unwrap().to_string())
            .collect(),
        one => vec![one["scenario"].as_str().unwrap().to_string()],
    }
}

#[test]
fn filter_is_a_part_of_the_name() {
    let expected: Vec<String> = mxlab_scenario::catalog::names()
        .filter(|n| n.contains("spf"))
        .map(String::from)
        .collect();
    assert!(expected.len() > 2);
    assert_eq!(names_run(&["run", "--filter", "spf", "--json"]), expected);
    assert_eq!(
        names_run(&["run", "--all", "--filter", "SPF", "--json"]),
        expected
    );
}

#[test]
fn tags_select_and_combine_with_the_filter() {
    assert_eq!(
        names_run(&["run", "--tag", "seed", "--json"]),
        ["seed-447", "seed-447-ja"]
    );
    let tls = names_run(&["run", "--tag", "tls", "--json"]);
    assert!(tls.contains(&"starttls".to_string()) && tls.contains(&"tls-failure".to_string()));
    assert_eq!(
        names_run(&["run", "--tag", "dns", "--filter", "mx", "--json"]),
        [
            "implicit-mx",
            "missing-mx",
            "mx-target-unresolvable",
            "null-mx"
        ]
    );
    // Named scenarios are narrowed too.
    assert_eq!(
        names_run(&["run", "healthy", "seed-447", "--tag", "seed", "--json"]),
        ["seed-447"]
    );
}

#[test]
fn nothing_selected_is_a_usage_error() {
    let out = mxlab(&["run", "--filter", "no-such-story", "--tag", "dns"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no scenario matches --filter no-such-story --tag dns"));
    let out = mxlab(&["run"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_shows_tags_last() {
    let out = mxlab(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let seed = text.lines().find(|l| l.starts_with("seed-447 ")).unwrap();
    assert!(
        seed.ends_with("[seed, smtp, connect, timeout, expired]"),
        "{seed}"
    );
    assert_eq!(
        text.lines().count(),
        mxlab_scenario::catalog::names().count()
    );
    assert!(
        text.lines().all(|l| l.ends_with(']')),
        "every story is tagged"
    );
}

#[test]
fn a_pipe_gets_plain_progress_lines() {
    let out = mxlab(&["run", "--filter", "spf-"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let n = mxlab_scenario::catalog::names()
        .filter(|n| n.contains("spf-"))
        .count();
    assert_eq!(err.lines().count(), n, "{err}");
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with(&format!("[1/{n}] ok   spf-")),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no terminal codes on a pipe: {err:?}"
    );
    // One story: no progress at all.
    assert_eq!(stderr(&mxlab(&["run", "healthy"])), "");
}

/// Under a pseudo-terminal (util-linux `script`), stderr is a terminal: a bar is drawn with
/// terminal codes instead of plain lines.
#[test]
fn a_terminal_gets_a_progress_bar() {
    let Some(script) = common::tool(&["script"], "bsdutils") else {
        return;
    };
    let cmd = format!(
        "{} run --filter spf- >/dev/null",
        env!("CARGO_BIN_EXE_mxlab")
    );
    let out = common::output_within(
        std::process::Command::new(script).args(["-qec", &cmd, "/dev/null"]),
        120,
    );
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(seen.contains('\u{1b}'), "no bar drawn: {seen:?}");
    assert!(
        !seen.contains("] ok   spf-"),
        "plain lines on a terminal: {seen:?}"
    );
}
