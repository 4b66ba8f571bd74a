//! Date forms that mail artifacts use, as `time` format descriptions (checked at compile
//! time), or the well-known RFC forms where one fits.

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// `5/9/2024 12:33:21 AM`: month, day and hour without padding, a 12-hour clock.
const EXCHANGE_LOCAL: &[BorrowedFormatItem<'static>] = format_description!(
    "[month padding:none]/[day padding:none]/[year] [hour repr:12 padding:none]:[minute]:[second] [period]"
);

/// `2024-05-08T19:40:00.000Z`: always milliseconds, always UTC written as `Z`.
const TRACKING: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `20240508204000`: the date part of the Message-IDs the sending server makes.
const COMPACT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day][hour][minute][second]");

/// Every component these descriptions name is present in an `OffsetDateTime`, and a story's
/// year is four digits (the loader keeps it within 1970..=9000), so formatting cannot fail.
fn with(t: OffsetDateTime, description: &[BorrowedFormatItem<'_>]) -> String {
    t.format(description)
        .expect("an OffsetDateTime has every component of the description")
}

/// RFC 5322 date-time, as in Date: and Arrival-Date: (`Wed, 08 May 2024 20:40:00 +0100`).
pub fn rfc5322(t: OffsetDateTime) -> String {
    // RFC 2822's form refuses years before 1900, which a story never has.
    t.format(&Rfc2822).unwrap_or_else(|_| rfc3339(t))
}

/// RFC 3339, as in reports' timelines (`2024-05-08T20:40:00+01:00`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .expect("story times are within RFC 3339's range")
}

/// The US form Exchange prints in a DSN's diagnostic lines: `5/9/2024 12:33:21 AM`.
pub fn exchange_local(t: OffsetDateTime) -> String {
    with(t, EXCHANGE_LOCAL)
}

/// Message tracking logs are in UTC with milliseconds: `2024-05-08T19:40:00.000Z`.
pub fn tracking(t: OffsetDateTime) -> String {
    with(t.to_offset(UtcOffset::UTC), TRACKING)
}

/// The date in a Message-ID's left part: `20240508204000`, in the sender's own offset.
pub fn compact(t: OffsetDateTime) -> String {
    with(t, COMPACT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn forms() {
        let t = datetime!(2024-05-09 00:33:21 +1);
        assert_eq!(rfc5322(t), "Thu, 09 May 2024 00:33:21 +0100");
        assert_eq!(rfc3339(t), "2024-05-09T00:33:21+01:00");
        assert_eq!(exchange_local(t), "5/9/2024 12:33:21 AM");
        assert_eq!(tracking(t), "2024-05-08T23:33:21.000Z");
        assert_eq!(compact(t), "20240509003321");
        assert_eq!(
            exchange_local(datetime!(2024-05-08 20:40 +1)),
            "5/8/2024 8:40:00 PM"
        );
        assert_eq!(
            exchange_local(datetime!(2024-12-31 12:05:09 +0)),
            "12/31/2024 12:05:09 PM"
        );
        assert_eq!(
            tracking(datetime!(2024-05-08 20:40:00.1239 +1)),
            "2024-05-08T19:40:00.123Z",
            "milliseconds are cut, never rounded"
        );
    }

    /// The descriptions against the arithmetic they replaced, over the loader's whole range.
    #[test]
    fn descriptions_match_the_hand_written_forms() {
        fn by_hand(t: OffsetDateTime) -> (String, String, String) {
            let (hour12, meridiem) = match t.hour() {
                0 => (12, "AM"),
                h @ 1..=11 => (h, "AM"),
                12 => (12, "PM"),
                h => (h - 12, "PM"),
            };
            let local = format!(
                "{}/{}/{} {}:{:02}:{:02} {}",
                u8::from(t.month()),
                t.day(),
                t.year(),
                hour12,
                t.minute(),
                t.second(),
                meridiem
            );
            let u = t.to_offset(UtcOffset::UTC);
            let tracking = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                u.year(),
                u8::from(u.month()),
                u.day(),
                u.hour(),
                u.minute(),
                u.second(),
                u.millisecond()
            );
            let compact = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            (local, tracking, compact)
        }
        let first = datetime!(1970-01-01 00:00 +0).unix_timestamp();
        let last = datetime!(9000-12-31 23:59:59 +0).unix_timestamp();
        // A prime step visits every hour, minute and second over the range.
        for (i, seconds) in (first..last).step_by(7_919_993).enumerate() {
            let offset = UtcOffset::from_whole_seconds((i as i32 % 49 - 24) * 1800).unwrap();
            let t = OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_millisecond((i % 1000) as u16)
                .unwrap()
                .to_offset(offset);
            assert_eq!(
                (exchange_local(t), tracking(t), compact(t)),
                by_hand(t),
                "{t}"
            );
        }
    }
}
