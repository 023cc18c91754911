//! Times as the people using Valued read and type them: UK time (Europe/London from the IANA
//! database, GMT in winter and BST in summer), never a fixed offset. Every page, email and message
//! that shows a time shows it through here, labelled "(UK time)"; in the hour that happens twice
//! when the clocks go back, the label says which of the two it is ("(UK time, BST)", then "(UK
//! time, GMT)").
//!
//! Admins type times the same way: [`parse_input`] reads a `datetime-local` value as UK time and
//! refuses a time the clocks skip or repeat, saying when the change is.

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::London;
use chrono_tz::Tz;

/// A `datetime-local` input's value: `2027-06-01T10:00`.
pub const INPUT: &str = "%Y-%m-%dT%H:%M";

/// A message's timestamp as a time, to the second.
pub fn of(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, 0))
}

fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&London)
}

/// "(UK time)", naming GMT or BST only where the wall-clock time happens twice.
fn label(local: &DateTime<Tz>) -> String {
    match London.from_local_datetime(&local.naive_local()) {
        LocalResult::Single(_) => "(UK time)".into(),
        _ => format!("(UK time, {})", local.format("%Z")),
    }
}

/// The year and month an instant falls in, in UK time: 00:30 BST on 1 November is November's.
pub fn month(at: DateTime<Utc>) -> (i32, u32) {
    let local = local(at);
    (local.year(), local.month())
}

/// "1 June 2027 at 10:00 (UK time)".
pub fn when(at: DateTime<Utc>) -> String {
    let local = local(at);
    format!("{} {}", local.format("%-d %B %Y at %H:%M"), label(&local))
}

/// [`when`] of a message's timestamp.
pub fn when_of(at: Option<&prost_types::Timestamp>) -> Option<String> {
    of(at).map(when)
}

/// To the second, for records: "1 June 2027 at 10:00:05 (UK time)".
pub fn when_exactly(at: DateTime<Utc>) -> String {
    let local = local(at);
    format!(
        "{} {}",
        local.format("%-d %B %Y at %H:%M:%S"),
        label(&local)
    )
}

/// The time of day alone, for a moment later today: "10:00 (UK time)".
pub fn time_of_day(at: DateTime<Utc>) -> String {
    let local = local(at);
    format!("{} {}", local.format("%H:%M"), label(&local))
}

/// The day it is in the UK: "1 June 2027".
pub fn day(at: DateTime<Utc>) -> String {
    local(at).format("%-d %B %Y").to_string()
}

/// The hour starting at `start` (UK offsets are whole hours, so a UTC hour is a UK hour):
/// "1 June 2027, 10:00 to 10:59 (UK time)".
pub fn hour(start: DateTime<Utc>) -> String {
    let local = local(start);
    format!(
        "{}, {} to {} {}",
        local.format("%-d %B %Y"),
        local.format("%H:%M"),
        local.format("%H:59"),
        label(&local)
    )
}

/// Short, for a chart's axis: "1 Dec 09:00".
pub fn short(at: DateTime<Utc>) -> String {
    local(at).format("%-d %b %H:%M").to_string()
}

/// `at` as a `datetime-local` input shows it, in UK time.
pub fn input(at: DateTime<Utc>) -> String {
    local(at).format(INPUT).to_string()
}

/// Why a typed time is not one moment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedTime {
    #[error("not a date and time")]
    NotATime,
    /// The clocks go forward over it.
    #[error(
        "There is no {typed} on {day} in the UK: the clocks go forward from {from} to {to} that \
         night. Enter a time before {from} or from {to}",
        typed = .0.typed, day = .0.day, from = .0.from, to = .0.to
    )]
    Skipped(ClockChange),
    /// The clocks go back over it, so it happens twice.
    #[error(
        "{typed} on {day} happens twice in the UK: the clocks go back from {to} to {from} that \
         night. Enter a time before {from} or from {to}",
        typed = .0.typed, day = .0.day, from = .0.from, to = .0.to
    )]
    Repeated(ClockChange),
}

/// A typed time at a clock change: the clocks go forward from `from` to `to`, or back from `to`
/// to `from`, on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockChange {
    typed: String,
    day: String,
    from: String,
    to: String,
}

/// A `datetime-local` value read as UK time.
pub fn parse_input(typed: &str) -> Result<DateTime<Utc>, TypedTime> {
    let naive =
        NaiveDateTime::parse_from_str(typed.trim(), INPUT).map_err(|_| TypedTime::NotATime)?;
    let found = London.from_local_datetime(&naive);
    if let LocalResult::Single(at) = found {
        return Ok(at.with_timezone(&Utc));
    }
    let (from, to) = change_around(naive);
    let change = ClockChange {
        typed: naive.format("%H:%M").to_string(),
        day: naive.format("%-d %B %Y").to_string(),
        from,
        to,
    };
    Err(if matches!(found, LocalResult::None) {
        TypedTime::Skipped(change)
    } else {
        TypedTime::Repeated(change)
    })
}

/// The wall-clock times that a clock change near `naive` skips or repeats, as `(from, to)`: the
/// clocks go forward from `from` to `to`, or back from `to` to `from`. The UK changes on the hour,
/// between the offsets in force a day before and a day after.
fn change_around(naive: NaiveDateTime) -> (String, String) {
    let offset = |naive: NaiveDateTime| {
        London
            .from_local_datetime(&naive)
            .earliest()
            .map_or(TimeDelta::zero(), |at| {
                TimeDelta::seconds(i64::from(at.offset().fix().local_minus_utc()))
            })
    };
    let before = offset(naive - TimeDelta::days(1));
    let after = offset(naive + TimeDelta::days(1));
    let (early, late) = if before < after {
        (before, after)
    } else {
        (after, before)
    };
    // The change's instant: the hour that `naive`, read with the smaller offset, falls in.
    let change = (naive - early)
        .and_utc()
        .timestamp()
        .div_euclid(3600)
        .saturating_mul(3600);
    let at = |offset: TimeDelta| {
        DateTime::from_timestamp(change, 0)
            .map(|utc| (utc.naive_utc() + offset).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    (at(early), at(late))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn winter_is_gmt_and_summer_is_bst_both_read_as_uk_time() {
        check(
            &[
                (
                    when,
                    "2026-12-01T09:00:00Z",
                    "1 December 2026 at 09:00 (UK time)",
                ),
                (
                    when,
                    "2027-06-01T09:00:00Z",
                    "1 June 2027 at 10:00 (UK time)",
                ),
                (
                    when_exactly,
                    "2027-06-01T09:00:05Z",
                    "1 June 2027 at 10:00:05 (UK time)",
                ),
                (time_of_day, "2027-06-01T09:00:00Z", "10:00 (UK time)"),
                (time_of_day, "2026-12-01T09:00:00Z", "09:00 (UK time)"),
                // Late evening in summer is already the next day in the UK.
                (day, "2027-06-01T23:30:00Z", "2 June 2027"),
                (day, "2026-12-01T23:30:00Z", "1 December 2026"),
            ],
            &[],
        );
    }

    /// How a time is shown: [`when`], [`hour`], [`day`]…
    type Show = fn(DateTime<Utc>) -> String;

    /// Each UTC time as its function shows it, and each `(typed, UTC)` pair as [`parse_input`]
    /// reads it.
    fn check(shown: &[(Show, &str, &str)], typed: &[(&str, &str)]) {
        for (show, at, expected) in shown {
            assert_eq!(show(utc(at)), *expected, "{at}");
        }
        for (text, at) in typed {
            assert_eq!(parse_input(text), Ok(utc(at)), "{text}");
        }
    }

    #[test]
    fn across_the_clocks_going_forward() {
        // 28 March 2027: 01:00 GMT becomes 02:00 BST.
        check(
            &[
                (
                    when,
                    "2027-03-28T00:59:00Z",
                    "28 March 2027 at 00:59 (UK time)",
                ),
                (
                    when,
                    "2027-03-28T01:00:00Z",
                    "28 March 2027 at 02:00 (UK time)",
                ),
                (
                    hour,
                    "2027-03-28T00:00:00Z",
                    "28 March 2027, 00:00 to 00:59 (UK time)",
                ),
                (
                    hour,
                    "2027-03-28T01:00:00Z",
                    "28 March 2027, 02:00 to 02:59 (UK time)",
                ),
            ],
            &[
                ("2027-03-28T00:30", "2027-03-28T00:30:00Z"),
                ("2027-03-28T02:00", "2027-03-28T01:00:00Z"),
            ],
        );
        let skipped = parse_input("2027-03-28T01:30").unwrap_err();
        assert_eq!(
            skipped.to_string(),
            "There is no 01:30 on 28 March 2027 in the UK: the clocks go forward from 01:00 to \
             02:00 that night. Enter a time before 01:00 or from 02:00"
        );
    }

    #[test]
    fn across_the_clocks_going_back() {
        // 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:00 to 01:59 happens twice.
        check(
            &[
                (
                    when,
                    "2026-10-24T23:59:00Z",
                    "25 October 2026 at 00:59 (UK time)",
                ),
                (
                    when,
                    "2026-10-25T00:30:00Z",
                    "25 October 2026 at 01:30 (UK time, BST)",
                ),
                (
                    when,
                    "2026-10-25T01:30:00Z",
                    "25 October 2026 at 01:30 (UK time, GMT)",
                ),
                (
                    when,
                    "2026-10-25T02:00:00Z",
                    "25 October 2026 at 02:00 (UK time)",
                ),
                (
                    hour,
                    "2026-10-25T00:00:00Z",
                    "25 October 2026, 01:00 to 01:59 (UK time, BST)",
                ),
                (
                    hour,
                    "2026-10-25T01:00:00Z",
                    "25 October 2026, 01:00 to 01:59 (UK time, GMT)",
                ),
            ],
            &[
                ("2026-10-25T00:59", "2026-10-24T23:59:00Z"),
                ("2026-10-25T02:00", "2026-10-25T02:00:00Z"),
            ],
        );
        let repeated = parse_input("2026-10-25T01:15").unwrap_err();
        assert_eq!(
            repeated.to_string(),
            "01:15 on 25 October 2026 happens twice in the UK: the clocks go back from 02:00 to \
             01:00 that night. Enter a time before 01:00 or from 02:00"
        );
    }

    #[test]
    fn typed_times_round_trip_in_both_seasons() {
        for at in ["2026-12-01T09:00:00Z", "2027-06-01T09:00:00Z"] {
            let at = utc(at);
            assert_eq!(parse_input(&input(at)), Ok(at));
        }
        assert_eq!(input(utc("2027-06-01T09:00:00Z")), "2027-06-01T10:00");
        assert_eq!(parse_input("next week"), Err(TypedTime::NotATime));
        assert_eq!(parse_input(""), Err(TypedTime::NotATime));
    }
}
