//! One report as a page: the verdict first, then the recipients, the timeline on the story
//! clock, the findings, the expectations, and the artifacts as the administrator has them.

use std::fmt::Write;

use mxlab_checker::report::Report;
use time::OffsetDateTime;

use super::escape::esc;
use super::{clock, document, timeline};

/// What the page knows of the story beyond its report.
#[derive(Default)]
pub struct Story<'a> {
    /// Story time zero; without it times are shown as the report has them.
    pub start: Option<OffsetDateTime>,
    /// What the user saw, in their words.
    pub story: &'a str,
    pub tags: Vec<&'a str>,
}

/// A scenario run's page.
pub fn story_page(report: &Report, story: &Story<'_>) -> String {
    let title = match (&report.scenario, &report.title) {
        (Some(name), Some(title)) => format!("{name} — {title}"),
        (Some(name), None) => name.clone(),
        _ => report.verdict.rule.to_string(),
    };
    document(&title, &body(report, story, ""))
}

/// `explain`'s page: each notice's report in turn.
pub fn notices_page(reports: &[Report]) -> String {
    let mut out = String::new();
    for (i, report) in reports.iter().enumerate() {
        let prefix = if reports.len() > 1 {
            format!("n{}-", i + 1)
        } else {
            String::new()
        };
        out.push_str(&body(report, &Story::default(), &prefix));
    }
    document("explained notices", &out)
}

fn body(report: &Report, story: &Story<'_>, id: &str) -> String {
    let mut o = String::new();
    header(&mut o, report, story);
    verdict(&mut o, report, id);
    if !story.story.trim().is_empty() {
        let _ = write!(o, "<section id=\"{id}story\"><h2>What the user saw</h2>");
        for para in story.story.trim().split("\n\n") {
            let _ = write!(o, "<p class=\"story\">{}</p>", esc(para.trim()));
        }
        o.push_str("</section>\n");
    }
    recipients(&mut o, report, id);
    timeline_section(&mut o, report, story, id);
    findings(&mut o, report, id);
    expectations(&mut o, report, id);
    artifacts(&mut o, report, id);
    o
}

fn header(o: &mut String, report: &Report, story: &Story<'_>) {
    o.push_str("<header>\n<p class=\"brand\">mxlab · mail delivery report</p>\n");
    if let Some(source) = &report.source {
        let _ = writeln!(o, "<h1>{}</h1>", esc(source));
    }
    if let Some(name) = &report.scenario {
        let _ = writeln!(o, "<h1>{}</h1>", esc(name));
    }
    if let Some(title) = &report.title {
        let _ = writeln!(o, "<p class=\"subtitle\">{}</p>", esc(title));
    }
    if !story.tags.is_empty() {
        o.push_str("<p class=\"tags\">");
        for tag in &story.tags {
            let _ = write!(o, "<span class=\"tag\">{}</span> ", esc(tag));
        }
        o.push_str("</p>\n");
    }
    o.push_str("</header>\n");
}

fn verdict(o: &mut String, report: &Report, id: &str) {
    let rule = report.verdict.rule.to_string();
    let severity = if rule.starts_with("ok.") {
        "ok"
    } else {
        report
            .findings
            .iter()
            .find(|f| f.rule == report.verdict.rule)
            .map_or("info", |f| f.severity.as_str())
    };
    let _ = write!(
        o,
        "<section id=\"{id}verdict\" class=\"verdict sev-{severity}\">\n<p class=\"label\">Verdict</p>\n<p class=\"rule\"><code>{}</code>",
        esc(&rule)
    );
    match report.passed {
        Some(true) => o.push_str(" <span class=\"pill ok\">story matched its expectations</span>"),
        Some(false) => {
            o.push_str(" <span class=\"pill bad\">story did not match its expectations</span>")
        }
        None => {}
    }
    let _ = write!(
        o,
        "</p>\n<p class=\"summary\">{}</p>\n</section>\n",
        esc(&report.verdict.summary)
    );
}

fn outcome_tone(outcome: &str) -> &'static str {
    match outcome {
        "delivered" | "relayed" => "ok",
        "delayed" => "warn",
        "failed" | "expired" => "bad",
        _ => "plain",
    }
}

fn recipients(o: &mut String, report: &Report, id: &str) {
    if report.recipients.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<section id=\"{id}recipients\"><h2>Recipients</h2>\n<table>\n<thead><tr><th>Recipient</th><th>Fate</th><th>Status</th><th>Cause</th><th>Last reply</th></tr></thead>\n<tbody>\n"
    );
    for r in &report.recipients {
        let reason = r
            .notice
            .as_ref()
            .map(|n| {
                format!(
                    "<br><span class=\"muted\">reason {}</span>",
                    esc(&n.reason.to_string())
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr><td class=\"addr\">{}</td><td><span class=\"pill {}\">{}</span></td><td><code>{}</code></td><td><code>{}</code>{reason}<br><span class=\"muted\">{}</span></td><td class=\"diag\">{}</td></tr>",
            esc(&r.address),
            outcome_tone(&r.outcome),
            esc(&r.outcome),
            esc(&r.status),
            esc(&r.cause.rule.to_string()),
            esc(&r.cause.summary),
            esc(&r.diagnostic),
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn timeline_section(o: &mut String, report: &Report, story: &Story<'_>, id: &str) {
    if report.timeline.is_empty() {
        return;
    }
    let _ = writeln!(o, "<section id=\"{id}timeline\"><h2>Timeline</h2>");
    if let Some(start) = story.start {
        let _ = writeln!(
            o,
            "<p class=\"muted\">On the story clock: +0 is {}, when the story starts. Runs of alike retries are folded; DNS failures are shown once per question, at their first occurrence.</p>",
            esc(&clock::local(&rfc3339(start)))
        );
    }
    o.push_str("<ol class=\"timeline\">\n");
    let when = |at: &str| match (story.start, clock::parse(at)) {
        (Some(start), Some(t)) => clock::offset(start, t),
        _ => at.to_string(),
    };
    for row in timeline::rows(report) {
        let slug: String = row
            .event
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let _ = write!(
            o,
            "<li class=\"row tone-{} ev-{slug}\"><time datetime=\"{}\">{}</time><span class=\"local\">{}</span><span class=\"event\">{}</span><span class=\"detail\">{}",
            row.tone,
            esc(row.at),
            esc(&when(row.at)),
            esc(&clock::local(row.at)),
            esc(row.event),
            esc(&row.detail),
        );
        if let Some((n, last)) = row.more {
            let _ = write!(
                o,
                "<span class=\"more\">… {n} more alike, the last at {} ({})</span>",
                esc(&when(last)),
                esc(&clock::local(last))
            );
        }
        o.push_str("</span></li>\n");
    }
    o.push_str("</ol>\n</section>\n");
}

fn findings(o: &mut String, report: &Report, id: &str) {
    if report.findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "<section id=\"{id}findings\"><h2>Findings</h2>");
    for f in &report.findings {
        let sev = f.severity.as_str();
        let _ = write!(
            o,
            "<article class=\"finding sev-{sev}\">\n<p class=\"head\"><span class=\"pill sev-{sev}\">{sev}</span> <code>{}</code>",
            esc(&f.rule.to_string())
        );
        if f.cleared {
            o.push_str(" <span class=\"pill ok\">cleared since</span>");
        }
        let _ = write!(o, "</p>\n<p>{}</p>\n", esc(&f.summary));
        if !f.recipients.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"muted\">For {}</p>",
                esc(&f.recipients.join(", "))
            );
        }
        list(o, "Evidence", "evidence", &f.evidence);
        list(o, "What to do", "remedy", &f.remediation);
        o.push_str("</article>\n");
    }
    o.push_str("</section>\n");
}

fn list(o: &mut String, heading: &str, class: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(o, "<h3>{heading}</h3>\n<ul class=\"{class}\">\n");
    for item in items {
        let _ = writeln!(o, "<li>{}</li>", esc(item));
    }
    o.push_str("</ul>\n");
}

fn expectations(o: &mut String, report: &Report, id: &str) {
    if report.expectations.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<section id=\"{id}expectations\"><h2>Expectations</h2>\n<table>\n<tbody>\n"
    );
    for x in &report.expectations {
        let (tone, mark) = if x.ok {
            ("ok", "held")
        } else {
            ("bad", "FAILED")
        };
        let _ = writeln!(
            o,
            "<tr><td><span class=\"pill {tone}\">{mark}</span></td><td><code>{}</code></td><td class=\"muted\">{}</td></tr>",
            esc(&x.expect),
            esc(&x.detail)
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn subject(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Subject: "))
}

fn artifacts(o: &mut String, report: &Report, id: &str) {
    let a = &report.artifacts;
    if report.source.is_some() {
        return;
    }
    let _ = writeln!(o, "<section id=\"{id}notices\"><h2>Notices</h2>");
    if a.dsn.is_empty() && a.ndr.is_empty() {
        o.push_str("<p class=\"muted\">The sender received no delivery notice.</p>\n");
    }
    for (kind, texts) in [("Delay notice", &a.dsn), ("Non-delivery report", &a.ndr)] {
        for (i, text) in texts.iter().enumerate() {
            let _ = write!(
                o,
                "<details open><summary>{kind} {} — {}</summary>\n<pre>{}</pre>\n</details>\n",
                i + 1,
                esc(subject(text).unwrap_or("(no subject)")),
                esc(text)
            );
        }
    }
    o.push_str("</section>\n");
    let _ = writeln!(
        o,
        "<section id=\"{id}transcripts\"><h2>SMTP transcripts</h2>"
    );
    if a.transcript.is_empty() {
        o.push_str("<p class=\"muted\">No SMTP session reached a remote server's greeting.</p>\n");
    }
    let open = if a.transcript.len() <= 3 { " open" } else { "" };
    for (i, t) in a.transcript.iter().enumerate() {
        let first = t.lines().next().unwrap_or("");
        let _ = write!(
            o,
            "<details{open}><summary>Session {} — {}</summary>\n<pre>{}</pre>\n</details>\n",
            i + 1,
            esc(first),
            esc(t)
        );
    }
    o.push_str("</section>\n");
    let _ = write!(
        o,
        "<section id=\"{id}dns-log\"><h2>DNS log</h2>\n<details><summary>{} queries</summary>\n<pre>{}</pre>\n</details>\n</section>\n",
        a.dns_log.lines().count(),
        esc(&a.dns_log)
    );
    if let Some(log) = &a.tracking_log {
        let _ = write!(
            o,
            "<section id=\"{id}tracking-log\"><h2>Message tracking log</h2>\n<details><summary>{} lines</summary>\n<pre>{}</pre>\n</details>\n</section>\n",
            log.lines().count(),
            esc(log)
        );
    }
    if let Some(queue) = &a.queue {
        let _ = write!(
            o,
            "<section id=\"{id}queue\"><h2>Queue</h2>\n<pre>{}</pre>\n</section>\n",
            esc(queue)
        );
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
