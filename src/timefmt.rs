//! Times as people read them: UTC dates and rough spans.

/// `2026-11-25 19:40:05` (UTC) for unix milliseconds.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A span rounded to what matters: `45 s`, `12 min`, `3 h 5 min`, `2 d 1 h`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 86_400, s / 3600 % 24, s / 60 % 60) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Unix milliseconds of a UTC calendar date and time; `None` when a field
/// is out of range.
pub fn unix_ms(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of civil_from_days.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + i64::from(hh * 3600 + mm * 60 + ss)) * 1000)
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's
/// civil-from-days algorithm for the proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc(951_827_696_000), "2000-02-29 12:34:56");
        // 2026-11-25 19:40:05 UTC.
        assert_eq!(utc(1_795_635_605_000), "2026-11-25 19:40:05");
    }

    #[test]
    fn calendar_dates_turn_back_into_unix_time() {
        assert_eq!(unix_ms(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(unix_ms(2000, 2, 29, 12, 34, 56), Some(951_827_696_000));
        assert_eq!(unix_ms(2026, 11, 25, 19, 40, 5), Some(1_795_635_605_000));
        assert_eq!(unix_ms(2026, 13, 1, 0, 0, 0), None);
    }

    #[test]
    fn spans_keep_the_units_that_matter() {
        assert_eq!(span(45_000), "45 s");
        assert_eq!(span(12 * 60_000 + 5_000), "12 min");
        assert_eq!(span(3_600_000), "1 h");
        assert_eq!(span(3 * 3_600_000 + 5 * 60_000), "3 h 5 min");
        assert_eq!(span(49 * 3_600_000), "2 d 1 h");
    }
}
