//! The story's timeline as the page shows it: runs of alike entries folded (as the text
//! report folds them), and the DNS failures of the query log placed among them, one row per
//! failing question with how often and until when it failed.

use mxlab_checker::report::{Report, TimelineEntry};
use time::OffsetDateTime;

use super::clock;

/// One line of the timeline.
pub struct Row<'a> {
    pub at: &'a str,
    pub event: &'a str,
    pub detail: String,
    /// `ok`, `warn`, `bad`, `info` or `plain`: how the row is coloured.
    pub tone: &'static str,
    /// How many more alike entries were folded into this row, and when the last was.
    pub more: Option<(usize, &'a str)>,
}

/// Folds the report's timeline and merges in the DNS failures.
pub fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut rows = folded(&report.timeline);
    // The story's failures, not the checker's: its own lookups when it investigates (a PTR or
    // a DMARC record the story's DNS does not serve) are evidence in the findings instead.
    let investigated = report
        .timeline
        .iter()
        .find(|e| e.event == "investigate")
        .and_then(|e| clock::parse(&e.at));
    for dns in dns_failures(&report.artifacts.dns_log) {
        let when = clock::parse(dns.at);
        if investigated.is_some() && when >= investigated {
            continue;
        }
        // After every row before it, and after a submission at the same instant: a lookup
        // comes after the message arrived and before the attempt it served ended.
        let pos = rows
            .iter()
            .position(|r| {
                let t = clock::parse(r.at);
                match (t, when) {
                    (Some(t), Some(w)) => t > w || (t == w && r.event != "submitted"),
                    _ => false,
                }
            })
            .unwrap_or(rows.len());
        rows.insert(pos, dns);
    }
    rows
}

fn folded(timeline: &[TimelineEntry]) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut i = 0;
    while i < timeline.len() {
        let e = &timeline[i];
        let mut j = i + 1;
        while j < timeline.len() && timeline[j].event == e.event && timeline[j].alike == e.alike {
            j += 1;
        }
        // As in the text form: two alike entries are shown both, three or more folded.
        if j - i > 2 {
            rows.push(row(e, Some((j - i - 1, timeline[j - 1].at.as_str()))));
        } else {
            rows.extend(timeline[i..j].iter().map(|e| row(e, None)));
        }
        i = j;
    }
    rows
}

fn row<'a>(e: &'a TimelineEntry, more: Option<(usize, &'a str)>) -> Row<'a> {
    Row {
        at: &e.at,
        event: &e.event,
        detail: e.detail.clone(),
        tone: tone(&e.event, &e.detail),
        more,
    }
}

fn tone(event: &str, detail: &str) -> &'static str {
    match event {
        "delivered" => "ok",
        "delay DSN" | "shadow" => "warn",
        "NDR" | "expired" | "DNS" => "bad",
        "investigate" => "info",
        // "#3 hanako@partner.test deferred: 451 …"
        "attempt" => match detail.split_whitespace().nth(2) {
            Some(w) if w.starts_with("delivered") => "ok",
            Some(w) if w.starts_with("deferred") => "warn",
            Some(w) if w.starts_with("failed") => "bad",
            _ => "plain",
        },
        _ => "plain",
    }
}

/// The query log's failures (anything but an answer or a referral), one row per question,
/// server and outcome, at its first occurrence.
fn dns_failures(log: &str) -> Vec<Row<'_>> {
    struct Seen<'a> {
        key: String,
        first: &'a str,
        last: &'a str,
        count: usize,
    }
    let mut seen: Vec<Seen<'_>> = Vec::new();
    for line in log.lines() {
        // `<at> <server> <proto> <name> <type> <outcome…>`
        let mut f = line.splitn(6, ' ');
        let (Some(at), Some(server), Some(_), Some(name), Some(rtype), Some(outcome)) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let answered = outcome.starts_with("NOERROR") && outcome != "NOERROR 0 answers";
        if answered {
            continue;
        }
        let outcome = if outcome == "NOERROR 0 answers" {
            "NOERROR, no record of that type"
        } else {
            outcome
        };
        let server = if server == "dns" {
            String::new()
        } else {
            format!(" from {server}")
        };
        let key = format!("{name} {rtype}: {outcome}{server}");
        match seen.iter_mut().find(|s| s.key == key) {
            Some(s) => {
                s.last = at;
                s.count += 1;
            }
            None => seen.push(Seen {
                key,
                first: at,
                last: at,
                count: 1,
            }),
        }
    }
    let mut out: Vec<Row<'_>> = seen
        .into_iter()
        .map(|s| Row {
            at: s.first,
            event: "DNS",
            detail: s.key,
            tone: "bad",
            more: (s.count > 1).then_some((s.count - 1, s.last)),
        })
        .collect();
    out.sort_by_key(|r| clock::parse(r.at).unwrap_or(OffsetDateTime::UNIX_EPOCH));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_one_row_per_question_and_answers_are_none() {
        let log = "2024-05-08T20:40:00+01:00 ns1.partner.test udp partner.test. MX SERVFAIL (fault: servfail)\n\
                   2024-05-08T20:40:00+01:00 dns udp partner.test. MX NOERROR 1 answer\n\
                   2024-05-08T20:40:00+01:00 dns udp partner.test. A NOERROR 0 answers\n\
                   2024-05-08T20:45:00+01:00 ns1.partner.test udp partner.test. MX SERVFAIL (fault: servfail)\n";
        let rows = dns_failures(log);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].detail,
            "partner.test. MX: SERVFAIL (fault: servfail) from ns1.partner.test"
        );
        assert_eq!(rows[0].more, Some((1, "2024-05-08T20:45:00+01:00")));
        assert_eq!(
            rows[1].detail,
            "partner.test. A: NOERROR, no record of that type"
        );
    }

    #[test]
    fn attempts_are_coloured_by_their_result() {
        assert_eq!(tone("attempt", "#2 a@b.test deferred: 451 4.7.1 x"), "warn");
        assert_eq!(tone("attempt", "#2 a@b.test failed: 550 5.1.1 x"), "bad");
        assert_eq!(tone("delay DSN", ""), "warn");
    }
}
