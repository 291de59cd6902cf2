//! eMAG's timestamps: `YYYY-mm-dd HH:ii:ss` with no zone, meaning the platform's local time.
//! They are parsed once, at the edge, into UTC, correctly across daylight-saving changes.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// eMAG's timestamp format.
pub const EMAG_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Parse an eMAG timestamp in `tz` into UTC.
///
/// A local time that happens twice (the autumn change) is read as the first occurrence; one
/// that does not exist (the spring gap) is read as the instant the clocks jumped to.
pub fn parse_local(text: &str, tz: Tz) -> Result<DateTime<Utc>> {
    if let Some(naive) = parse_exact(text.trim()) {
        return Ok(resolve(naive, tz));
    }
    let naive = NaiveDateTime::parse_from_str(text.trim(), EMAG_FORMAT).map_err(|e| {
        Error::invalid_argument(format!(
            "{text:?} is not an eMAG timestamp (YYYY-mm-dd HH:ii:ss): {e}"
        ))
    })?;
    Ok(resolve(naive, tz))
}

/// Parse an instant given as an eMAG timestamp (read in `tz`) or as RFC 3339 with an offset.
pub fn parse_instant(text: &str, tz: Tz) -> Result<DateTime<Utc>> {
    let t = text.trim();
    parse_local(t, tz).or_else(|_| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                Error::invalid_argument(format!(
                    "{:?} is neither an eMAG timestamp (YYYY-mm-dd HH:ii:ss) nor RFC 3339",
                    t.chars().take(40).collect::<String>()
                ))
            })
    })
}

/// The usual form, exactly `YYYY-mm-dd HH:ii:ss`, read without interpreting a format string
/// (a sync reads two per order); anything else is left to chrono's parser.
fn parse_exact(t: &str) -> Option<NaiveDateTime> {
    let b = t.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    date.and_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)
}

fn resolve(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In the gap: move forward minute by minute to the first valid local time.
            let mut probe = naive;
            for _ in 0..180 {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&naive)
        }
    }
}

/// Format a UTC instant as an eMAG timestamp in `tz`.
pub fn format_local(instant: DateTime<Utc>, tz: Tz) -> String {
    instant.with_timezone(&tz).format(EMAG_FORMAT).to_string()
}

/// Add one calendar month (clamping the day: Jan 31 -> Feb 28/29).
pub fn add_month(naive: NaiveDateTime) -> NaiveDateTime {
    naive
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDateTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Bucharest;

    #[test]
    fn the_exact_form_reads_as_chrono_reads_it() {
        for t in [
            "2025-07-01 12:00:00",
            "2024-02-29 23:59:59",
            "0001-01-01 00:00:00",
            "2025-02-29 10:00:00",
            "2025-13-01 10:00:00",
            "2025-07-01 24:00:00",
            "2025-07-01 12:60:00",
            "2025-07-0a 12:00:00",
            "2025/07/01 12:00:00",
            "2025-07-01T12:00:00",
            "2025-7-1 1:2:3",
            "+025-07-01 12:00:00",
        ] {
            let chrono = NaiveDateTime::parse_from_str(t, EMAG_FORMAT).ok();
            if let Some(fast) = parse_exact(t) {
                assert_eq!(Some(fast), chrono, "{t}");
            }
            assert_eq!(
                parse_local(t, Bucharest).ok(),
                chrono.map(|n| resolve(n, Bucharest)),
                "{t}"
            );
        }
    }

    #[test]
    fn summer_and_winter_offsets() {
        let summer = parse_local("2025-07-01 12:00:00", Bucharest).unwrap();
        assert_eq!(summer.to_rfc3339(), "2025-07-01T09:00:00+00:00");
        let winter = parse_local("2025-01-15 12:00:00", Bucharest).unwrap();
        assert_eq!(winter.to_rfc3339(), "2025-01-15T10:00:00+00:00");
        assert_eq!(format_local(winter, Bucharest), "2025-01-15 12:00:00");
    }

    #[test]
    fn dst_gap_and_overlap() {
        // 2025-03-30 03:00 local does not exist in Bucharest (clocks jump 03:00 -> 04:00).
        let gap = parse_local("2025-03-30 03:30:00", Bucharest).unwrap();
        assert_eq!(gap.to_rfc3339(), "2025-03-30T01:00:00+00:00");
        // 2025-10-26 03:30 local happens twice; the first is 00:30 UTC.
        let overlap = parse_local("2025-10-26 03:30:00", Bucharest).unwrap();
        assert_eq!(overlap.to_rfc3339(), "2025-10-26T00:30:00+00:00");
    }

    #[test]
    fn instants_in_either_form() {
        let a = parse_instant("2025-07-01 12:00:00", Bucharest).unwrap();
        let b = parse_instant("2025-07-01T09:00:00Z", Bucharest).unwrap();
        let c = parse_instant("2025-07-01T12:00:00+03:00", Bucharest).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse_instant("soon", Bucharest).is_err());
    }

    #[test]
    fn bad_text_is_an_invalid_argument() {
        assert!(parse_local("2025-13-01 00:00:00", Bucharest).is_err());
        assert!(parse_local("yesterday", Bucharest).is_err());
    }
}
