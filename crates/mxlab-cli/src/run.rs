//! `mxlab run`: replay the selected stories, print their reports, and write the HTML pages
//! and the JUnit file asked for.

use std::io::Write;
use std::path::Path;

use mxlab_checker::report::Report;
use mxlab_checker::words;
use mxlab_scenario::Scenario;
use mxlab_vocab::Lang;

use crate::html::{self, IndexEntry, Story};
use crate::progress::Progress;
use crate::select::Selection;
use crate::{EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, junit};

/// Where the reports go besides stdout.
pub struct Outputs<'a> {
    pub json: bool,
    pub html: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    /// The language of stdout's report (text and JSON); the HTML pages and JUnit stay English.
    pub lang: Lang,
}

pub fn run(selection: &Selection<'_>, outputs: &Outputs<'_>) -> u8 {
    let scenarios = match selection.load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut progress = Progress::new(scenarios.len());
    let mut reports: Vec<Report> = Vec::new();
    for scenario in &scenarios {
        progress.start(&scenario.name);
        match mxlab_harness::run(scenario) {
            Ok(report) => {
                progress.done(&scenario.name, report.passed == Some(true));
                reports.push(report);
            }
            Err(e) => {
                progress.finish();
                eprintln!("error: {}: {e}", scenario.source);
                return EXIT_USAGE;
            }
        }
    }
    progress.finish();
    let passed = reports.iter().filter(|r| r.passed == Some(true)).count();
    let failed = reports.len() - passed;
    let summary = words::tally(passed, failed, outputs.lang);
    let mut stdout = std::io::stdout().lock();
    let shown: Vec<Report> = reports
        .iter()
        .map(|r| r.clone().localized(outputs.lang))
        .collect();
    if outputs.json {
        let value = if shown.len() == 1 {
            serde_json::to_string_pretty(&shown[0])
        } else {
            serde_json::to_string_pretty(&shown)
        };
        let _ = writeln!(stdout, "{}", value.expect("reports serialise"));
        if reports.len() > 1 {
            eprintln!("{summary}");
        }
    } else {
        for (i, report) in shown.iter().enumerate() {
            if i > 0 {
                let _ = writeln!(stdout, "\n{}\n", "─".repeat(72));
            }
            let _ = write!(stdout, "{}", report.to_text_in(outputs.lang));
        }
        if reports.len() > 1 {
            let _ = writeln!(stdout, "\n{summary}");
        }
    }
    let _ = stdout.flush();
    if let Some(path) = outputs.html
        && let Err(e) = write_html(path, &scenarios, &reports)
    {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if let Some(path) = outputs.junit
        && let Err(e) = std::fs::write(path, junit::junit(&reports))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_USAGE;
    }
    if failed == 0 { EXIT_OK } else { EXIT_MISMATCH }
}

fn story(scenario: &Scenario) -> Story<'_> {
    Story {
        start: Some(scenario.file.start.0),
        story: &scenario.file.story,
        tags: scenario.tags().collect(),
    }
}

/// One story and a path that is not a directory: that file. Otherwise the path is a
/// directory (made if missing) with one page per story and `index.html`.
fn write_html(path: &Path, scenarios: &[Scenario], reports: &[Report]) -> Result<(), String> {
    let write = |p: &Path, page: String| {
        std::fs::write(p, page).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    let as_dir = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
    if reports.len() == 1 && !as_dir {
        return write(path, html::story_page(&reports[0], &story(&scenarios[0])));
    }
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut entries: Vec<IndexEntry<'_>> = Vec::new();
    for (scenario, report) in scenarios.iter().zip(reports) {
        let file = page_name(&scenario.name, &entries);
        write(
            &path.join(&file),
            html::story_page(report, &story(scenario)),
        )?;
        entries.push(IndexEntry {
            file,
            name: &scenario.name,
            title: &scenario.file.title,
            tags: scenario.tags().collect(),
            passed: report.passed,
            verdict: report.verdict.rule.to_string(),
        });
    }
    write(&path.join("index.html"), html::index_page(&entries))
}

/// `<name>.html` with only safe characters, unique among the pages already written.
fn page_name(name: &str, taken: &[IndexEntry<'_>]) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = if stem == "index" {
        "index-story".to_string()
    } else {
        stem
    };
    let mut file = format!("{stem}.html");
    let mut n = 2;
    while taken.iter().any(|e| e.file == file) {
        file = format!("{stem}-{n}.html");
        n += 1;
    }
    file
}
