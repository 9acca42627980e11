//! Time as a value: [`UnixTime`] and its `YYYY-MM-DDTHH:MM:SSZ` form (parsing into
//! the model's error lives in `time_text.rs`, so that this module, which the errors
//! name, imports nothing of them).
//!
//! Nothing in this crate reads a clock. Every function that depends on time takes
//! `now: UnixTime`, so the same inputs always give the same outputs.

use std::fmt;
use std::time::Duration;

/// A point in time: whole seconds since 1970-01-01T00:00:00Z.
///
/// Its JSON form is the service's timestamp, `YYYY-MM-DDTHH:MM:SSZ` in UTC with no
/// fractional seconds (the mobile SDKs fail to parse fractions). Years 1970..=9999 are
/// representable in that form; [`UnixTime::MAX`] is the last second of 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(u64);

const SECONDS_PER_DAY: u64 = 86_400;
/// 9999-12-31T23:59:59Z.
const MAX_SECONDS: u64 = 253_402_300_799;

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);
    /// 9999-12-31T23:59:59Z, the last instant the timestamp format can write.
    pub const MAX: Self = Self(MAX_SECONDS);

    /// The time `seconds` after the epoch, clamped to [`UnixTime::MAX`].
    #[must_use]
    pub const fn from_secs(seconds: u64) -> Self {
        if seconds > MAX_SECONDS {
            Self(MAX_SECONDS)
        } else {
            Self(seconds)
        }
    }

    /// Seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + duration` (whole seconds), clamped to [`UnixTime::MAX`].
    #[must_use]
    pub const fn saturating_add(self, duration: Duration) -> Self {
        Self::from_secs(self.0.saturating_add(duration.as_secs()))
    }

    /// `self - duration` (whole seconds), clamped to the epoch.
    #[must_use]
    pub const fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_secs()))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_secs(self.0.saturating_sub(earlier.0))
    }

    /// The civil date and time in UTC: (year, month, day, hour, minute, second).
    #[must_use]
    pub fn to_civil(self) -> (u64, u64, u64, u64, u64, u64) {
        let days = self.0 / SECONDS_PER_DAY;
        let rem = self.0 % SECONDS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        (year, month, day, rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second) = self.to_civil();
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        )
    }
}

impl serde::Serialize for UnixTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for UnixTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`
/// restricted to non-negative day counts.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01; `None` before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

pub(crate) fn parse_timestamp(text: &str) -> Option<UnixTime> {
    let bytes: &[u8; 20] = text.as_bytes().try_into().ok()?;
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'Z',
    ] = *bytes
    else {
        return None;
    };
    let number = |digits: &[u8]| -> Option<u64> {
        digits.iter().try_fold(0_u64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[mo0, mo1])?;
    let day = number(&[d0, d1])?;
    let hour = number(&[h0, h1])?;
    let minute = number(&[mi0, mi1])?;
    let second = number(&[s0, s1])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some(UnixTime(
        days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
    ))
}

/// A `SystemTime` the caller read (this crate reads no clock), truncated to whole
/// seconds and clamped to [`UnixTime::MAX`]. A time before the epoch is refused.
impl TryFrom<std::time::SystemTime> for UnixTime {
    type Error = std::time::SystemTimeError;

    fn try_from(time: std::time::SystemTime) -> Result<Self, Self::Error> {
        Ok(Self::from_secs(
            time.duration_since(std::time::UNIX_EPOCH)?.as_secs(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(UnixTime::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixTime::from_secs(1_735_689_900).to_string(),
            "2025-01-01T00:05:00Z"
        );
        assert_eq!(
            UnixTime::from_secs(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(UnixTime::MAX.to_string(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn converts_system_times_whole_seconds_and_refuses_the_pre_epoch() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = UNIX_EPOCH + Duration::from_millis(1_735_689_900_999);
        assert_eq!(
            UnixTime::try_from(at).unwrap(),
            UnixTime::from_secs(1_735_689_900)
        );
        assert!(UnixTime::try_from(UNIX_EPOCH - Duration::from_secs(1)).is_err());
        let far = UNIX_EPOCH + Duration::from_secs(MAX_SECONDS + 10);
        assert_eq!(UnixTime::try_from(far).unwrap(), UnixTime::MAX);
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2025-01-01T00:05:00",
            "2025-01-01T00:05:00.000Z",
            "2025-01-01 00:05:00Z",
            "2025-13-01T00:05:00Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:60Z",
            "1969-12-31T23:59:59Z",
            "+025-01-01T00:05:00Z",
            "２025-01-01T00:05:00Z",
        ] {
            assert!(UnixTime::parse_rfc3339(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn saturates_at_bounds() {
        assert_eq!(UnixTime::from_secs(u64::MAX), UnixTime::MAX);
        assert_eq!(
            UnixTime::MAX.saturating_add(Duration::from_secs(1)),
            UnixTime::MAX
        );
        assert_eq!(
            UnixTime::EPOCH.saturating_sub(Duration::from_secs(1)),
            UnixTime::EPOCH
        );
    }

    /// Our calendar against the `time` crate's, on every day from 1970-01-01 to
    /// 9999-12-31: the date `to_civil` gives, and the day the text of that date
    /// parses to.
    #[test]
    fn every_day_agrees_with_the_time_crate() {
        let last_day = MAX_SECONDS / SECONDS_PER_DAY;
        for day in 0..=last_day {
            let seconds = day * SECONDS_PER_DAY + 86_399;
            let theirs =
                time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap()).unwrap();
            let (year, month, day_of_month, hour, minute, second) =
                UnixTime::from_secs(seconds).to_civil();
            assert_eq!(
                (year, month, day_of_month, hour, minute, second),
                (
                    u64::try_from(theirs.year()).unwrap(),
                    u64::from(u8::from(theirs.month())),
                    u64::from(theirs.day()),
                    23,
                    59,
                    59
                ),
                "day {day}"
            );
            let text = format!("{year:04}-{month:02}-{day_of_month:02}T00:00:00Z");
            assert_eq!(
                parse_timestamp(&text).map(UnixTime::as_secs),
                Some(day * SECONDS_PER_DAY),
                "{text}"
            );
        }
    }

    /// The instant `time` gives for these fields, if it is a valid date and time
    /// in 1970..=9999 (the range `UnixTime` holds).
    fn time_crate_instant([year, month, day, hour, minute, second]: [u64; 6]) -> Option<u64> {
        let small = |field: u64| u8::try_from(field).ok();
        let date = time::Date::from_calendar_date(
            i32::try_from(year).ok()?,
            time::Month::try_from(small(month)?).ok()?,
            small(day)?,
        )
        .ok()?;
        let time = time::Time::from_hms(small(hour)?, small(minute)?, small(second)?).ok()?;
        u64::try_from(date.with_time(time).assume_utc().unix_timestamp()).ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Parsing agrees with `time` on any fields in the form's digits, valid or not
        /// (month 13, February 29 of a common year, 24:00, a leap second, 1969).
        #[test]
        fn parse_agrees_with_the_time_crate(
            year in 1900..=9999_u64,
            month in 0..=13_u64,
            day in 0..=32_u64,
            hour in 0..=24_u64,
            minute in 0..=60_u64,
            second in 0..=60_u64,
        ) {
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
            prop_assert_eq!(
                parse_timestamp(&text).map(UnixTime::as_secs),
                time_crate_instant([year, month, day, hour, minute, second]),
                "{}", text
            );
        }

        /// `to_civil` agrees with `time` on any second `UnixTime` holds.
        #[test]
        fn civil_agrees_with_the_time_crate(seconds in 0..=MAX_SECONDS) {
            let theirs =
                time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap()).unwrap();
            prop_assert_eq!(
                UnixTime::from_secs(seconds).to_civil(),
                (
                    u64::try_from(theirs.year()).unwrap(),
                    u64::from(u8::from(theirs.month())),
                    u64::from(theirs.day()),
                    u64::from(theirs.hour()),
                    u64::from(theirs.minute()),
                    u64::from(theirs.second()),
                )
            );
        }
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(seconds in 0..=MAX_SECONDS) {
            let time = UnixTime::from_secs(seconds);
            let text = time.to_string();
            prop_assert_eq!(text.len(), 20);
            prop_assert_eq!(UnixTime::parse_rfc3339(&text).unwrap(), time);
        }

        #[test]
        fn json_round_trip(seconds in 0..=MAX_SECONDS) {
            let time = UnixTime::from_secs(seconds);
            let json = serde_json::to_string(&time).unwrap();
            prop_assert_eq!(serde_json::from_str::<UnixTime>(&json).unwrap(), time);
        }
    }
}
