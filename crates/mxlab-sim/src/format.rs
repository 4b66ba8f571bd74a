//! Date forms that mail artifacts use.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{OffsetDateTime, UtcOffset};

/// RFC 5322 date-time, as in Date: and Arrival-Date: (`Wed, 08 May 2024 20:40:00 +0100`).
pub fn rfc5322(t: OffsetDateTime) -> String {
    t.format(&Rfc2822).unwrap_or_else(|_| rfc3339(t))
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .expect("story times are within RFC 3339's range")
}

/// The US form Exchange prints in a DSN's diagnostic lines: `5/9/2024 12:33:21 AM`.
pub fn exchange_local(t: OffsetDateTime) -> String {
    let (hour12, meridiem) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        hour12,
        t.minute(),
        t.second(),
        meridiem
    )
}

/// Message tracking logs are in UTC with milliseconds: `2024-05-08T19:40:00.000Z`.
pub fn tracking(t: OffsetDateTime) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute(),
        u.second(),
        u.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn forms() {
        let t = datetime!(2024-05-09 00:33:21 +1);
        assert_eq!(rfc5322(t), "Thu, 09 May 2024 00:33:21 +0100");
        assert_eq!(exchange_local(t), "5/9/2024 12:33:21 AM");
        assert_eq!(tracking(t), "2024-05-08T23:33:21.000Z");
        assert_eq!(
            exchange_local(datetime!(2024-05-08 20:40 +1)),
            "5/8/2024 8:40:00 PM"
        );
    }
}
