//! `--html`: one self-contained page per story, byte-identical for the same run, and what a
//! real browser makes of seed-447's page.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{mxlab, out_dir, output_within, tool};

fn page(name: &str, dir: &Path) -> String {
    let file = dir.join(format!("{name}.html"));
    let out = mxlab(&["run", name, "--html", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    std::fs::read_to_string(&file).unwrap()
}

#[test]
fn seed_page_is_the_whole_story_and_stable() {
    let dir = out_dir("html-seed");
    let html = page("seed-447", &dir);
    insta::assert_snapshot!("seed-447.html", html);
    // Byte-identical for the same run.
    let again = mxlab(&[
        "run",
        "seed-447",
        "--html",
        dir.join("again.html").to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("again.html")).unwrap(),
        html
    );

    for needle in [
        "<time datetime=\"2024-05-09T00:43:00+01:00\">+4 h 03 min</time>",
        "<time datetime=\"2024-05-10T20:40:00+01:00\">+48 h</time>",
        "<span class=\"event\">delay DSN</span>",
        "<span class=\"event\">investigate</span>",
        "… 23 more alike, the last at +3 h 53 min",
        "smtp.connect.timeout",
        "QUEUE.Expired",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pages_fetch_nothing_and_escape_everything() {
    let dir = out_dir("html-self-contained");
    for name in ["seed-447", "greylisting", "dns-servfail", "user-unknown"] {
        let html = page(name, &dir);
        for banned in [
            "<script", "<link", "@import", "url(", "src=", "http://", "https://",
        ] {
            assert!(!html.contains(banned), "{name}: contains {banned:?}");
        }
        // Transcripts and notices quote addresses in angle brackets: they must stay text.
        assert!(!html.contains("<taro@"), "{name}: an unescaped address");
        assert!(!html.contains("<hanako@"), "{name}: an unescaped address");
    }
    let greylisting = std::fs::read_to_string(dir.join("greylisting.html")).unwrap();
    assert!(greylisting.contains("MAIL FROM:&lt;taro@mycompany.test&gt;"));
    // DNS failures are on the timeline.
    let servfail = std::fs::read_to_string(dir.join("dns-servfail.html")).unwrap();
    assert!(servfail.contains("<span class=\"event\">DNS</span><span class=\"detail\">partner.test. MX: SERVFAIL (fault: servfail) from ns1.partner.test"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn several_stories_write_a_directory_with_an_index() {
    let dir = out_dir("html-dir").join("pages");
    let out = mxlab(&["run", "--filter", "spf-", "--html", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let spf: Vec<&str> = mxlab_scenario::catalog::names()
        .filter(|n| n.contains("spf-"))
        .collect();
    assert!(spf.len() > 1);
    for name in &spf {
        assert!(dir.join(format!("{name}.html")).is_file(), "{name}");
        assert!(index.contains(&format!("<a href=\"{name}.html\">{name}</a>")));
    }
    assert!(index.contains(&format!("{} passed, 0 failed", spf.len())));
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

/// Headless Chromium loads seed-447's page and the DOM it builds holds the verdict and the
/// delay DSN at +4 h 03 min on the timeline.
#[test]
fn chromium_renders_the_seed_timeline() {
    let Some(chromium) = tool(
        &["chromium", "chromium-browser", "google-chrome"],
        "chromium",
    ) else {
        return;
    };
    let dir = out_dir("html-chromium");
    page("seed-447", &dir);
    let file = dir.join("seed-447.html");
    let out = output_within(
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("file://{}", file.display())),
        120,
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict =
        element(&dom, "<section id=\"verdict\"", "</section>").expect("a verdict section");
    assert!(verdict.contains("smtp.connect.timeout"), "{verdict}");
    let delay = element(&dom, "ev-delay-dsn\"", "</li>").expect("a delay DSN on the timeline");
    assert!(delay.contains(">+4 h 03 min</time>"), "{delay}");
    assert!(
        delay.contains("1 days, 19 hours and 57 minutes left"),
        "{delay}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The text from `start` up to `end` in the serialized DOM.
fn element<'a>(dom: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = dom.find(start)?;
    let len = dom[from..].find(end)?;
    Some(&dom[from..from + len])
}

#[test]
fn explain_writes_one_page_for_every_notice() {
    let notices =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/notices/heldout/m365");
    let dir = out_dir("html-explain");
    let file = dir.join("notices.html");
    let out = mxlab(&[
        "explain",
        notices.join("534-message-too-big.eml").to_str().unwrap(),
        notices
            .join("54316-expired-connection-refused.eml")
            .to_str()
            .unwrap(),
        "--html",
        file.to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(2), "{}", common::stderr(&out));
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains("id=\"n1-verdict\"") && html.contains("id=\"n2-verdict\""));
    assert!(!html.contains("<script"));
    let _ = std::fs::remove_dir_all(dir);
}
