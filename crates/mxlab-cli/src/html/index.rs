//! The index of several stories' pages (`run … --html DIR`).

use std::fmt::Write;

use super::document;
use super::escape::esc;

/// One story's line in the index.
pub struct IndexEntry<'a> {
    /// The page's file name, relative to the index.
    pub file: String,
    pub name: &'a str,
    pub title: &'a str,
    pub tags: Vec<&'a str>,
    pub passed: Option<bool>,
    pub verdict: String,
}

pub fn index_page(entries: &[IndexEntry<'_>]) -> String {
    let passed = entries.iter().filter(|e| e.passed == Some(true)).count();
    let failed = entries.len() - passed;
    let mut o = String::new();
    let _ = write!(
        o,
        "<header>\n<p class=\"brand\">mxlab · mail delivery report</p>\n<h1>{} stories</h1>\n<p class=\"subtitle\">{passed} passed, {failed} failed</p>\n</header>\n<section id=\"stories\"><table>\n<thead><tr><th>Story</th><th>Result</th><th>Verdict</th><th>Tags</th></tr></thead>\n<tbody>\n",
        entries.len()
    );
    for e in entries {
        let (tone, result) = match e.passed {
            Some(true) => ("ok", "passed"),
            Some(false) => ("bad", "failed"),
            None => ("plain", "—"),
        };
        let _ = writeln!(
            o,
            "<tr><td><a href=\"{}\">{}</a><br><span class=\"muted\">{}</span></td><td><span class=\"pill {tone}\">{result}</span></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&e.file),
            esc(e.name),
            esc(e.title),
            esc(&e.verdict),
            e.tags
                .iter()
                .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
    document("stories", &o)
}
