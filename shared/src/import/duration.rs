//! Attendance durations as webinar tools and spreadsheets write them.
//!
//! Accepted forms, with surrounding spaces ignored:
//! - `H:MM:SS` or `HH:MM:SS`, such as `01:18:25` (Blackboard Collaborate).
//!   Fractional seconds such as `0:45:10.5` are accepted.
//! - Two parts, `H:MM`, such as `1:15` for 75 minutes. Two parts are read
//!   as hours and minutes, not minutes and seconds, because Excel's `h:mm`
//!   time format drops the seconds and webinar attendance is usually
//!   counted in hours and minutes. The second part must be below 60.
//! - A plain number in the column's unit, such as `75` or `75.5` minutes.
//!   The unit is minutes unless the header names another, as in
//!   "Duration (seconds)". A decimal comma (`75,5`) is accepted.
//! - Numbers with units, such as `71 min`, `1 hour 5 minutes` or `1h 5m`.

/// Unit of plain numbers in a duration column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationUnit {
    Seconds,
    Minutes,
    Hours,
}

impl DurationUnit {
    fn seconds(self) -> f64 {
        match self {
            DurationUnit::Seconds => 1.0,
            DurationUnit::Minutes => 60.0,
            DurationUnit::Hours => 3600.0,
        }
    }
}

/// Parses a duration and returns it in whole seconds, rounded down.
/// Returns `None` for an empty, negative or unreadable value.
pub fn parse_seconds(value: &str, unit: DurationUnit) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let seconds = if value.contains(':') {
        parse_clock(value)?
    } else if let Some(number) = parse_number(value) {
        number * unit.seconds()
    } else {
        parse_with_units(value)?
    };
    // `as` saturates for values beyond u64, and NaN cannot occur because
    // only digits reach `parse`.
    seconds.is_finite().then_some(seconds as u64)
}

/// Parses `H:MM:SS` or `H:MM`.
fn parse_clock(value: &str) -> Option<f64> {
    let mut parts = value.split(':');
    let hours = parse_digits(parts.next()?)?;
    let minutes = parse_digits(parts.next()?)?;
    let seconds = match parts.next() {
        Some(part) => parse_number(part).filter(|seconds| *seconds < 60.0)?,
        None => 0.0,
    };
    if parts.next().is_some() || minutes >= 60 {
        return None;
    }
    Some(hours as f64 * 3600.0 + minutes as f64 * 60.0 + seconds)
}

fn parse_digits(part: &str) -> Option<u64> {
    if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Parses an unsigned decimal number with `.` or `,` as decimal separator.
fn parse_number(value: &str) -> Option<f64> {
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'.' || byte == b',')
        && value.bytes().any(|byte| byte.is_ascii_digit())
        && value
            .bytes()
            .filter(|byte| *byte == b'.' || *byte == b',')
            .count()
            <= 1;
    if !valid {
        return None;
    }
    value.replace(',', ".").parse().ok()
}

/// Parses numbers followed by units, such as `1 hour 5 minutes`, `1h 5m`
/// or `71 min`. Each number needs a unit.
fn parse_with_units(value: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = value;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(rest.len());
        let number = parse_number(&rest[..number_end])?;
        rest = rest[number_end..].trim_start();

        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = unit_seconds(&rest[..unit_end])?;
        total += number * unit;
        rest = rest[unit_end..].trim_start_matches([' ', ',']);
    }
    Some(total)
}

fn unit_seconds(unit: &str) -> Option<f64> {
    let unit = unit.to_ascii_lowercase();
    match unit.as_str() {
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(3600.0),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60.0),
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_durations_are_parsed() {
        for (value, seconds) in [
            ("01:18:25", 4705),
            ("1:18:25", 4705),
            ("00:07:00", 420),
            ("100:00:00", 360_000),
            ("0:45:10.5", 2710),
            (" 1:15 ", 4500),
            ("0:45", 2700),
        ] {
            assert_eq!(
                parse_seconds(value, DurationUnit::Minutes),
                Some(seconds),
                "{value}"
            );
        }
    }

    #[test]
    fn plain_numbers_use_column_unit() {
        assert_eq!(parse_seconds("75", DurationUnit::Minutes), Some(4500));
        assert_eq!(parse_seconds("44.5", DurationUnit::Minutes), Some(2670));
        assert_eq!(parse_seconds("44,5", DurationUnit::Minutes), Some(2670));
        assert_eq!(parse_seconds("2700", DurationUnit::Seconds), Some(2700));
        assert_eq!(parse_seconds("1.5", DurationUnit::Hours), Some(5400));
    }

    #[test]
    fn durations_with_units_are_parsed() {
        for (value, seconds) in [
            ("71 min", 4260),
            ("1 hour 5 minutes", 3900),
            ("1h 5m", 3900),
            ("1h5m30s", 3930),
            ("2 hrs, 10 mins", 7800),
            ("45 Minutes", 2700),
        ] {
            assert_eq!(
                parse_seconds(value, DurationUnit::Minutes),
                Some(seconds),
                "{value}"
            );
        }
    }

    #[test]
    fn invalid_durations_are_rejected() {
        for value in [
            "",
            "  ",
            "abc",
            "-5",
            "1:75",
            "1:2:3:4",
            "1::2",
            "1:30:61",
            "1.2.3",
            "5 parsecs",
            "min",
            ":",
        ] {
            assert_eq!(
                parse_seconds(value, DurationUnit::Minutes),
                None,
                "{value:?}"
            );
        }
    }
}
