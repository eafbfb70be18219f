//! Weekly opening hours (wall-clock ranges per weekday, in the doctor's time zone) and the
//! booking rules the slot engine applies.

use serde::{Deserialize, Serialize};

use super::text::{optional_line, quoted};
use super::FieldErrors;

pub const MINUTES_PER_DAY: u16 = 24 * 60;
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Part of a day, in minutes after local midnight: `start < end <= 24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: u16,
    pub end: u16,
}

impl TimeRange {
    pub fn new(start: u16, end: u16) -> Result<Self, String> {
        if end > MINUTES_PER_DAY {
            return Err("A day ends at 24:00.".into());
        }
        if start >= end {
            return Err(format!(
                "{}-{} ends before it starts; write it as start-end.",
                clock(start),
                clock(end)
            ));
        }
        Ok(Self { start, end })
    }
}

/// `HH:MM`, with `24:00` for the end of the day.
pub fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Reads `9:00`, `09:00` or `24:00` as minutes after midnight.
pub fn parse_clock(input: &str) -> Result<u16, String> {
    let text = input.trim();
    let bad = || format!("{} is not a time; use HH:MM, like 09:00.", quoted(text));
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes > 0) {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

/// One day's ranges, as typed: `09:00-13:00, 14:00-18:00`; blank means closed. The result is
/// sorted; overlapping ranges are refused (ranges that only touch are fine).
pub fn parse_day(input: &str) -> Result<Vec<TimeRange>, String> {
    let mut ranges = Vec::new();
    for part in input
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (start, end) = part.split_once('-').ok_or_else(|| {
            format!(
                "{} is not a range; write it like 09:00-13:00.",
                quoted(part)
            )
        })?;
        ranges.push(TimeRange::new(parse_clock(start)?, parse_clock(end)?)?);
    }
    ranges.sort();
    if let Some(pair) = ranges.windows(2).find(|pair| pair[1].start < pair[0].end) {
        return Err(format!(
            "{}-{} overlaps {}-{}.",
            clock(pair[0].start),
            clock(pair[0].end),
            clock(pair[1].start),
            clock(pair[1].end)
        ));
    }
    Ok(ranges)
}

pub fn format_day(ranges: &[TimeRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{}-{}", clock(r.start), clock(r.end)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opening hours for each weekday, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours(pub [Vec<TimeRange>; 7]);

/// How bookings are made: lengths in minutes, notice in hours, horizon in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRules {
    pub appointment_minutes: u32,
    pub gap_minutes: u32,
    pub notice_hours: u32,
    pub horizon_days: u32,
    pub hold_minutes: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            appointment_minutes: 30,
            gap_minutes: 0,
            notice_hours: 2,
            horizon_days: 30,
            hold_minutes: 30,
        }
    }
}

/// One booking rule's form field.
pub struct RuleField {
    pub name: &'static str,
    pub label: &'static str,
    /// How messages name it.
    pub what: &'static str,
    pub min: u32,
    pub max: u32,
}

const fn rule(
    name: &'static str,
    label: &'static str,
    what: &'static str,
    min: u32,
    max: u32,
) -> RuleField {
    RuleField {
        name,
        label,
        what,
        min,
        max,
    }
}

/// The booking rules' fields, in the order [`BookingRules::parse`] takes them.
pub const RULE_FIELDS: [RuleField; 5] = [
    rule(
        "appointment_minutes",
        "Default appointment length (minutes)",
        "appointment length",
        5,
        480,
    ),
    rule(
        "gap_minutes",
        "Gap between appointments (minutes)",
        "gap",
        0,
        240,
    ),
    rule(
        "notice_hours",
        "Minimum notice (hours)",
        "minimum notice",
        0,
        720,
    ),
    rule(
        "horizon_days",
        "Patients may book up to (days ahead)",
        "booking horizon",
        1,
        365,
    ),
    rule(
        "hold_minutes",
        "An unpaid booking holds its slot for (minutes)",
        "unpaid hold",
        5,
        1440,
    ),
];

/// Reads the rule at `index` of [`RULE_FIELDS`].
pub fn parse_rule(index: usize, input: &str) -> Result<u32, String> {
    let RuleField { what, min, max, .. } = RULE_FIELDS[index];
    let value: u32 = input
        .trim()
        .parse()
        .map_err(|_| format!("Enter the {what} as a whole number."))?;
    if !(min..=max).contains(&value) {
        return Err(format!("The {what} must be between {min} and {max}."));
    }
    Ok(value)
}

impl BookingRules {
    /// `inputs` are the five rules' texts in the order of [`RULE_FIELDS`].
    pub fn parse(inputs: [&str; 5], errors: &mut FieldErrors) -> Option<Self> {
        let mut values = [0_u32; 5];
        let mut valid = true;
        for (index, (input, value)) in inputs.iter().zip(&mut values).enumerate() {
            match errors.check(RULE_FIELDS[index].name, parse_rule(index, input)) {
                Some(parsed) => *value = parsed,
                None => valid = false,
            }
        }
        let [appointment_minutes, gap_minutes, notice_hours, horizon_days, hold_minutes] = values;
        valid.then_some(Self {
            appointment_minutes,
            gap_minutes,
            notice_hours,
            horizon_days,
            hold_minutes,
        })
    }
}

/// The form fields of the weekdays, Monday first.
pub const DAY_FIELDS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Parses the seven day inputs, Monday first, reporting each bad day under its field.
pub fn parse_week(days: [&str; 7], errors: &mut FieldErrors) -> Option<WeeklyHours> {
    let mut week = WeeklyHours::default();
    let mut valid = true;
    for (index, input) in days.iter().enumerate() {
        match errors.check(DAY_FIELDS[index], parse_day(input)) {
            Some(ranges) => week.0[index] = ranges,
            None => valid = false,
        }
    }
    valid.then_some(week)
}

pub const MAX_REASON_CHARS: usize = 200;

/// A calendar date in the doctor's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalDate {
    pub year: i16,
    pub month: i8,
    pub day: i8,
}

impl std::fmt::Display for LocalDate {
    /// `YYYY-MM-DD`, what [`parse_date`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The years a date may have: a practice's calendar needs no others, and every day in them
/// (with a week either side) is a valid instant in every zone.
pub const YEARS: std::ops::RangeInclusive<i16> = 2000..=2199;

/// Reads `YYYY-MM-DD` (what a date input sends), in [`YEARS`].
pub fn parse_date(input: &str) -> Result<LocalDate, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("Choose a date.".into());
    }
    let bad = || format!("{} is not a date; use YYYY-MM-DD.", quoted(text));
    let mut parts = text.splitn(3, '-');
    let mut next = |len: usize| {
        parts
            .next()
            .filter(|p| p.len() == len && p.chars().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse::<i16>().ok())
            .ok_or_else(bad)
    };
    let (year, month, day) = (next(4)?, next(2)?, next(2)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1..=days_in_month).contains(&day) {
        return Err(bad());
    }
    if !YEARS.contains(&year) {
        return Err(format!(
            "Choose a date from {} to {}.",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(LocalDate {
        year,
        month: month as i8,
        day: day as i8,
    })
}

/// A blocked time as the doctor enters it: a whole day, or part of one, with a private reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedInput {
    pub date: LocalDate,
    /// `None`: the whole day.
    pub span: Option<TimeRange>,
    pub reason: Option<String>,
}

pub fn reason(input: &str) -> Result<Option<String>, String> {
    optional_line(input, MAX_REASON_CHARS, "A reason")
}

impl BlockedInput {
    pub fn parse(
        date: &str,
        whole_day: bool,
        from: &str,
        to: &str,
        reason_input: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let date = errors.check("date", parse_date(date));
        let span = if whole_day {
            Some(None)
        } else {
            let start = errors.check("from", parse_clock(from));
            let end = errors.check("to", parse_clock(to));
            match (start, end) {
                (Some(start), Some(end)) => {
                    errors.check("to", TimeRange::new(start, end).map(Some))
                }
                _ => None,
            }
        };
        let reason = errors.check("reason", reason(reason_input));
        match (date, span, reason) {
            (Some(date), Some(span), Some(reason)) => Ok(Self { date, span, reason }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_day_with_a_lunch_break_is_two_sorted_ranges() {
        let day = parse_day("14:00-18:00, 9:00-13:00").unwrap();
        assert_eq!(
            day,
            [
                TimeRange {
                    start: 540,
                    end: 780
                },
                TimeRange {
                    start: 840,
                    end: 1080
                }
            ]
        );
        assert_eq!(format_day(&day), "09:00-13:00, 14:00-18:00");
    }

    #[test]
    fn blank_means_closed() {
        assert_eq!(parse_day("  "), Ok(vec![]));
    }

    #[test]
    fn overlapping_ranges_are_refused_with_both_named() {
        let error = parse_day("09:00-13:00, 12:00-14:00").unwrap_err();
        assert_eq!(error, "09:00-13:00 overlaps 12:00-14:00.");
        // Touching is not overlapping.
        assert!(parse_day("09:00-13:00, 13:00-14:00").is_ok());
    }

    #[test]
    fn empty_and_backwards_ranges_are_refused() {
        assert!(parse_day("09:00-09:00").is_err());
        assert!(parse_day("13:00-09:00")
            .unwrap_err()
            .contains("ends before it starts"));
    }

    #[test]
    fn a_day_may_end_at_midnight_but_not_after() {
        assert_eq!(parse_day("20:00-24:00").unwrap()[0].end, 1440);
        assert!(parse_day("20:00-24:30").is_err());
        assert!(parse_day("24:00-24:00").is_err());
    }

    #[test]
    fn malformed_times_say_how_to_write_them() {
        for bad in [
            "9-17",
            "09:00",
            "9.00-17.00",
            "09:60-10:00",
            "25:00-26:00",
            "09:0-10:00",
        ] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booking_rules_are_checked_against_their_limits() {
        let mut errors = FieldErrors::default();
        assert!(BookingRules::parse(["30", "0", "2", "30", "30"], &mut errors).is_some());
        let rules = BookingRules::parse(["2", "x", "2", "0", "30"], &mut errors);
        assert!(rules.is_none());
        for field in ["appointment_minutes", "gap_minutes", "horizon_days"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn dates_are_real_calendar_days() {
        assert_eq!(
            parse_date("2028-02-29").unwrap(),
            LocalDate {
                year: 2028,
                month: 2,
                day: 29
            }
        );
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-04-31",
            "26-1-1",
            "2026/01/01",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_blocked_time_is_a_whole_day_or_a_forward_range() {
        let day = BlockedInput::parse("2026-12-24", true, "", "", " Holiday ").unwrap();
        assert_eq!((day.span, day.reason.as_deref()), (None, Some("Holiday")));
        let part = BlockedInput::parse("2026-12-24", false, "13:00", "15:30", "").unwrap();
        assert_eq!(
            part.span,
            Some(TimeRange {
                start: 780,
                end: 930
            })
        );
        let errors = BlockedInput::parse("2026-12-24", false, "15:00", "13:00", "").unwrap_err();
        assert!(errors.get("to").is_some());
    }

    fn arbitrary_day() -> impl Strategy<Value = Vec<(u16, u16)>> {
        prop::collection::vec((0_u16..=1440, 0_u16..=1440), 0..6)
    }

    proptest! {
        #[test]
        fn an_accepted_day_is_sorted_disjoint_and_round_trips(pairs in arbitrary_day()) {
            let text = pairs
                .iter()
                .map(|(a, b)| format!("{}-{}", clock(*a), clock(*b)))
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(day) = parse_day(&text) {
                for range in &day {
                    prop_assert!(range.start < range.end && range.end <= MINUTES_PER_DAY);
                }
                for pair in day.windows(2) {
                    prop_assert!(pair[0].end <= pair[1].start);
                }
                prop_assert_eq!(parse_day(&format_day(&day)).unwrap(), day);
            }
        }

        #[test]
        fn two_ranges_that_share_a_minute_are_always_refused(start in 0_u16..1400, len in 2_u16..40, shift in 1_u16..40) {
            let first = TimeRange::new(start, (start + len).min(1440)).unwrap();
            let second_start = first.end.saturating_sub(shift).max(first.start);
            let second_end = (first.end + 10).min(1440);
            prop_assume!(second_start < second_end && second_start < first.end);
            let text = format!("{}-{}, {}-{}", clock(first.start), clock(first.end), clock(second_start), clock(second_end));
            prop_assert!(parse_day(&text).is_err());
        }
    }
}
