//! The story clock: report times (RFC 3339, the scenario's own offset) as offsets from the
//! story's start, the way the stories are told ("the delay DSN at +4 h 03 min").

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Reads a report's `at`.
pub fn parse(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &Rfc3339).ok()
}

/// `+4 h 03 min`, `+48 h`, `+3 min`, `+0 min`, `+5 min 21 s`; `−…` before the start.
pub fn offset(start: OffsetDateTime, at: OffsetDateTime) -> String {
    let d = at - start;
    let sign = if d.is_negative() { "−" } else { "+" };
    let secs = d.whole_seconds().unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    match (h, m) {
        (0, m) => out.push_str(&format!("{m} min")),
        (h, 0) => out.push_str(&format!("{h} h")),
        (h, m) => out.push_str(&format!("{h} h {m:02} min")),
    }
    if s > 0 {
        out.push_str(&format!(" {s} s"));
    }
    out
}

/// `2024-05-08 20:43:00 +01:00`: the local time as the administrator's clock showed it.
pub fn local(at: &str) -> String {
    match parse(at) {
        Some(t) => {
            let (oh, om, _) = t.offset().as_hms();
            let sign = if oh < 0 || om < 0 { '-' } else { '+' };
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                oh.unsigned_abs(),
                om.unsigned_abs()
            )
        }
        None => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> OffsetDateTime {
        parse(s).unwrap()
    }

    #[test]
    fn offsets_read_as_the_stories_tell_them() {
        let start = t("2024-05-08T20:40:00+01:00");
        assert_eq!(offset(start, t("2024-05-09T00:43:00+01:00")), "+4 h 03 min");
        assert_eq!(offset(start, t("2024-05-10T20:40:00+01:00")), "+48 h");
        assert_eq!(offset(start, t("2024-05-08T20:43:00+01:00")), "+3 min");
        assert_eq!(offset(start, start), "+0 min");
        assert_eq!(offset(start, t("2024-05-08T20:45:21+01:00")), "+5 min 21 s");
        assert_eq!(offset(start, t("2024-05-08T19:40:00Z")), "+0 min");
    }

    #[test]
    fn local_time_keeps_the_offset() {
        assert_eq!(
            local("2024-05-09T00:43:00+01:00"),
            "2024-05-09 00:43:00 +01:00"
        );
        assert_eq!(local("not a time"), "not a time");
    }
}
