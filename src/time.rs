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
