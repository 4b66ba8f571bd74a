//! JUnit XML for CI: one test case per story, its failed expectations as the failure. Written
//! by hand: a few escaped elements (`format!` does it); the shape is the one Jenkins' schema
//! (docs/junit-10.xsd) describes. No times: a report holds no wall-clock time.

use std::fmt::Write;

use mxlab_checker::report::Report;

/// The document for a run's reports.
pub fn junit(reports: &[Report]) -> String {
    let failures = reports.iter().filter(|r| r.passed != Some(true)).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"mxlab\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">\n  <testsuite name=\"mxlab run\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        n = reports.len()
    );
    for r in reports {
        let name = r.scenario.as_deref().unwrap_or("scenario");
        let _ = writeln!(
            o,
            "    <testcase name=\"{}\" classname=\"mxlab.scenario\">",
            attr(name)
        );
        if r.passed != Some(true) {
            let failed: Vec<String> = r
                .expectations
                .iter()
                .filter(|x| !x.ok)
                .map(|x| {
                    if x.detail.is_empty() {
                        x.expect.clone()
                    } else {
                        format!("{} — {}", x.expect, x.detail)
                    }
                })
                .collect();
            let message = match failed.len() {
                0 => "the story did not match its expectations".to_string(),
                1 => format!("expectation failed: {}", failed[0]),
                n => format!("{n} expectations failed: {}", failed.join("; ")),
            };
            let _ = writeln!(
                o,
                "      <failure type=\"expectation\" message=\"{}\">{}</failure>",
                attr(&message),
                text(&failed.join("\n"))
            );
        }
        let verdict = format!(
            "{}\nverdict {}: {}\n",
            r.title.as_deref().unwrap_or(name),
            r.verdict.rule,
            r.verdict.summary
        );
        let _ = writeln!(o, "      <system-out>{}</system-out>", text(&verdict));
        o.push_str("    </testcase>\n");
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}

/// Text content: markup escaped, and characters XML 1.0 cannot hold replaced.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value in double quotes; line ends kept as character references.
fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_cannot_break_the_document() {
        assert_eq!(text("<a> & \u{1b}b"), "&lt;a&gt; &amp; \u{FFFD}b");
        assert_eq!(attr("say \"x\"\nthen"), "say &quot;x&quot;&#10;then");
    }
}
