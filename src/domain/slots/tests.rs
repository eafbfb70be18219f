use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::domain::availability::{parse_day, TimeRange, MINUTES_PER_DAY};

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

/// The instant of a local wall-clock time (its first occurrence).
fn local(zone: &TimeZone, civil: &str) -> i64 {
    let civil: DateTime = civil.parse().unwrap();
    civil
        .to_zoned(zone.clone())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn utc(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

/// The same hours every day of the week.
fn every_day(hours: &str) -> WeeklyHours {
    let day = parse_day(hours).unwrap();
    WeeklyHours(std::array::from_fn(|_| day.clone()))
}

#[derive(Debug)]
struct Case {
    zone: TimeZone,
    week: WeeklyHours,
    blocked: Vec<Interval>,
    busy: Vec<Interval>,
    duration: u32,
    gap: u32,
    notice: u32,
    horizon: u32,
    now: i64,
}

impl Case {
    fn new(zone_name: &str, hours: &str, duration: u32, now: &str) -> Self {
        let zone = zone(zone_name);
        let now = local(&zone, now);
        Self {
            zone,
            week: every_day(hours),
            blocked: vec![],
            busy: vec![],
            duration,
            gap: 0,
            notice: 0,
            horizon: 1,
            now,
        }
    }

    fn query(&self) -> SlotQuery<'_> {
        SlotQuery {
            zone: &self.zone,
            week: &self.week,
            blocked: &self.blocked,
            busy: &self.busy,
            duration_minutes: self.duration,
            gap_minutes: self.gap,
            notice_minutes: self.notice,
            horizon_days: self.horizon,
            now: self.now,
        }
    }

    fn run(&self) -> FreeSlots {
        free_slots(&self.query())
    }

    /// Labels of the free slots on the first day, as `HH:MM`.
    fn first_day(&self) -> Vec<String> {
        let result = self.run();
        let first = result.days[0].date;
        result
            .slots
            .iter()
            .filter(|s| s.local.date == first)
            .map(|s| clock(s.local.minute))
            .collect()
    }

    fn between(&self, from: &str, to: &str) -> Interval {
        Interval {
            start: local(&self.zone, from),
            end: local(&self.zone, to),
        }
    }
}

#[test]
fn a_plain_day_in_kolkata_is_cut_into_back_to_back_slots() {
    let case = Case::new("Asia/Kolkata", "09:00-12:00", 30, "2026-03-09T00:00");
    assert_eq!(
        case.first_day(),
        ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    );
    let first = case.run().slots[0];
    assert_eq!(first.start, utc("2026-03-09T03:30:00Z"));
    assert_eq!(first.end - first.start, 30 * MINUTE_MS);
    assert_eq!(first.local.to_string(), "Mon 9 Mar 2026, 09:00");
}

#[test]
fn the_gap_spaces_the_grid_and_keeps_slots_away_from_busy_times() {
    let mut case = Case::new("Asia/Kolkata", "09:00-12:00", 30, "2026-03-09T00:00");
    case.gap = 10;
    assert_eq!(case.first_day(), ["09:00", "09:40", "10:20", "11:00"]);
    // Booked 09:40-10:10 with this gap: it occupies the time until 10:20.
    case.busy = vec![case.between("2026-03-09T09:40", "2026-03-09T10:20")];
    assert_eq!(case.first_day(), ["09:00", "10:20", "11:00"]);
    // Without the gap the same booking leaves the slot right after it free.
    case.gap = 0;
    case.busy = vec![case.between("2026-03-09T09:30", "2026-03-09T10:00")];
    assert_eq!(
        case.first_day(),
        ["09:00", "10:00", "10:30", "11:00", "11:30"]
    );
}

#[test]
fn an_appointment_keeps_the_gap_it_was_booked_with_after_the_gap_changes() {
    let mut case = Case::new("Asia/Kolkata", "09:00-12:00", 30, "2026-03-09T00:00");
    // 09:00-09:30 booked with a 15-minute gap: the database keeps 09:00-09:45 for it.
    case.busy = vec![case.between("2026-03-09T09:00", "2026-03-09T09:45")];
    // The doctor lowers the gap to 0: 09:30 would end inside that time, so it is not offered.
    assert_eq!(case.first_day(), ["10:00", "10:30", "11:00", "11:30"]);
    // Raised to 30: a slot's own gap must end before the next appointment starts.
    case.gap = 30;
    case.busy = vec![case.between("2026-03-09T10:30", "2026-03-09T11:00")];
    assert_eq!(case.first_day(), ["09:00", "11:00"]);
}

#[test]
fn blocked_ranges_and_overlapping_busy_times_remove_what_they_touch() {
    let mut case = Case::new("Asia/Kolkata", "09:00-12:00", 30, "2026-03-09T00:00");
    case.blocked = vec![case.between("2026-03-09T09:15", "2026-03-09T09:45")];
    case.busy = vec![
        case.between("2026-03-09T10:30", "2026-03-09T11:10"),
        case.between("2026-03-09T10:45", "2026-03-09T11:05"),
    ];
    assert_eq!(case.first_day(), ["10:00", "11:30"]);
}

#[test]
fn notice_and_horizon_bound_the_starts() {
    let mut case = Case::new("Asia/Kolkata", "09:00-12:00", 30, "2026-03-09T10:05");
    case.notice = 60;
    assert_eq!(case.first_day(), ["11:30"]);
    case.horizon = 2;
    let result = case.run();
    let last = result.slots.last().unwrap();
    assert_eq!(last.local.to_string(), "Wed 11 Mar 2026, 10:00");
    assert!(last.start <= case.now + 2 * DAY_MS);
    assert_eq!(
        result.days.iter().map(|d| d.free).collect::<Vec<_>>(),
        [1, 6, 3]
    );
}

#[test]
fn a_blocked_day_shows_as_a_day_without_slots() {
    let mut case = Case::new("Europe/London", "09:00-12:00", 60, "2026-06-01T00:00");
    case.horizon = 3;
    case.blocked = vec![case.between("2026-06-02T00:00", "2026-06-03T00:00")];
    let days = case.run().days;
    assert_eq!(
        days.iter()
            .map(|d| (d.date.day, d.free))
            .collect::<Vec<_>>(),
        [(1, 3), (2, 0), (3, 3), (4, 0)]
    );
}

#[test]
fn new_york_spring_forward_skips_the_missing_hour_without_shifting_the_grid() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT.
    let case = Case::new("America/New_York", "00:00-05:00", 60, "2026-03-08T00:00");
    assert_eq!(case.first_day(), ["00:00", "01:00", "03:00", "04:00"]);
    let slots = case.run().slots;
    assert_eq!(slots[1].end, utc("2026-03-08T07:00:00Z"));
    assert_eq!(slots[2].start, utc("2026-03-08T07:00:00Z"));
}

#[test]
fn a_range_ending_in_the_missing_hour_ends_when_the_clocks_change() {
    let case = Case::new("America/New_York", "00:00-02:30", 60, "2026-03-08T00:00");
    // 01:00 EST + 1 h = 03:00 EDT, the moment the clocks changed: it fits.
    assert_eq!(case.first_day(), ["00:00", "01:00"]);
    // Ending at 02:00, the first minute that does not exist, is the same moment.
    let case = Case::new("America/New_York", "00:00-02:00", 60, "2026-03-08T00:00");
    assert_eq!(case.first_day(), ["00:00", "01:00"]);
    let case = Case::new("America/New_York", "02:30-05:00", 30, "2026-03-08T00:00");
    assert_eq!(case.first_day(), ["03:00", "03:30", "04:00", "04:30"]);
}

#[test]
fn new_york_fall_back_offers_the_repeated_hour_once() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:00-01:59 happens twice.
    let case = Case::new("America/New_York", "00:00-03:00", 30, "2026-11-01T00:00");
    assert_eq!(
        case.first_day(),
        ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    );
    let slots = case.run().slots;
    assert_eq!(slots[2].start, utc("2026-11-01T05:00:00Z"), "first 01:00");
    assert_eq!(slots[4].start, utc("2026-11-01T07:00:00Z"), "02:00 EST");
}

#[test]
fn london_days_of_23_and_25_hours() {
    let spring = Case::new("Europe/London", "00:00-03:00", 30, "2026-03-29T00:00");
    assert_eq!(
        spring.first_day(),
        ["00:00", "00:30", "02:00", "02:30"],
        "01:00-01:59 does not exist"
    );
    let autumn = Case::new("Europe/London", "00:00-03:00", 30, "2026-10-25T00:00");
    assert_eq!(
        autumn.first_day(),
        ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    );
    // Ordinary daytime hours are the same wall-clock times on both days.
    for date in ["2026-03-29", "2026-10-25"] {
        let day = Case::new("Europe/London", "09:00-11:00", 60, &format!("{date}T00:00"));
        assert_eq!(day.first_day(), ["09:00", "10:00"]);
    }
}

#[test]
fn lord_howe_moves_its_clocks_by_half_an_hour() {
    // 2026-10-04: 02:00 becomes 02:30.
    let spring = Case::new("Australia/Lord_Howe", "01:00-04:00", 30, "2026-10-04T00:00");
    assert_eq!(
        spring.first_day(),
        ["01:00", "01:30", "02:30", "03:00", "03:30"]
    );
    // A range ending at 02:30, the first minute after the jump, must not lend the later
    // offset to the times before it (found by the property tests).
    let before_jump = Case::new("Australia/Lord_Howe", "00:00-02:30", 30, "2026-10-04T00:00");
    assert_eq!(
        before_jump.first_day(),
        ["00:00", "00:30", "01:00", "01:30"]
    );
    assert_eq!(
        before_jump.run().slots[0].start,
        utc("2026-10-03T13:30:00Z")
    );
    // 2026-04-05: 02:00 becomes 01:30; 01:30-01:59 happens twice.
    let autumn = Case::new("Australia/Lord_Howe", "01:00-03:00", 30, "2026-04-05T00:00");
    let labels = autumn.first_day();
    assert_eq!(labels, ["01:00", "01:30", "02:00", "02:30"]);
    let slots = autumn.run().slots;
    // The first 01:30 (+11:00) is 14:30 UTC the day before.
    assert_eq!(slots[1].start, utc("2026-04-04T14:30:00Z"));
}

#[test]
fn nothing_when_the_week_is_empty_or_the_horizon_is_before_the_notice() {
    let mut case = Case::new("Asia/Kolkata", "", 30, "2026-03-09T00:00");
    assert!(case.run().slots.is_empty());
    case.week = every_day("09:00-12:00");
    case.notice = 3 * 24 * 60;
    assert_eq!(case.run(), FreeSlots::default());
}

// ---------------------------------------------------------------------------------------
// Properties, over random weeks, zones, busy sets and moments near DST changes.

const ZONES: [&str; 5] = [
    "Asia/Kolkata",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "UTC",
];

/// Moments around which to start: days before each named zone's 2026/2027 changes.
const AROUND: [&str; 9] = [
    "2026-03-06T12:00:00Z",
    "2026-03-27T12:00:00Z",
    "2026-04-02T12:00:00Z",
    "2026-10-01T12:00:00Z",
    "2026-10-22T12:00:00Z",
    "2026-10-29T12:00:00Z",
    "2027-03-12T12:00:00Z",
    "2026-07-01T12:00:00Z",
    "2026-12-31T12:00:00Z",
];

fn arbitrary_day() -> impl Strategy<Value = Vec<TimeRange>> {
    // Up to three disjoint ranges on a 5-minute grid, from sorted cut points.
    prop::collection::vec(0_u16..=288, 0..=6).prop_map(|mut cuts| {
        cuts.sort_unstable();
        cuts.dedup();
        cuts.chunks_exact(2)
            .map(|pair| TimeRange {
                start: pair[0] * 5,
                end: (pair[1] * 5).min(MINUTES_PER_DAY),
            })
            .collect()
    })
}

fn arbitrary_intervals(max: usize) -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((-2 * 24 * 60_i64..30 * 24 * 60, 1_i64..300), 0..max)
}

prop_compose! {
    fn arbitrary_case()(
        zone_name in prop::sample::select(&ZONES[..]),
        week in prop::array::uniform7(arbitrary_day()),
        around in prop::sample::select(&AROUND[..]),
        shift in 0_i64..10 * 24 * 60,
        busy in arbitrary_intervals(40),
        blocked in arbitrary_intervals(5),
        duration in prop::sample::select(&[10_u32, 15, 20, 30, 45, 60, 90][..]),
        gap in prop::sample::select(&[0_u32, 5, 10, 15][..]),
        notice in 0_u32..48 * 60,
        horizon in 1_u32..12,
    ) -> Case {
        let now = utc(around) - shift * MINUTE_MS;
        let span = |(offset, length): &(i64, i64)| Interval {
            start: now + offset * MINUTE_MS,
            end: now + (offset + length) * MINUTE_MS,
        };
        Case {
            zone: zone(zone_name),
            week: WeeklyHours(week),
            busy: busy.iter().map(span).collect(),
            blocked: blocked.iter().map(span).collect(),
            duration,
            gap,
            notice,
            horizon,
            now,
        }
    }
}

/// The instant a wall-clock time means, read through jiff's own disambiguation: the first
/// occurrence of a repeated time, or (for a range boundary) the jump over a skipped one.
fn reference_instant(zone: &TimeZone, date: jiff::civil::Date, minute: u16) -> (i64, bool) {
    let day_start = date.to_datetime(jiff::civil::Time::midnight());
    let civil = day_start
        .checked_add(jiff::SignedDuration::from_mins(i64::from(minute)))
        .unwrap();
    let ambiguous = zone.to_ambiguous_zoned(civil);
    if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
        // The later reading falls at or after the jump (exactly on it for the first skipped
        // minute); `preceding` is strictly before, so look from just past it.
        let after_jump = ambiguous.later().unwrap().timestamp();
        let just_past = after_jump
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap();
        let jump = zone.preceding(just_past).next().unwrap().timestamp();
        (jump.as_millisecond(), false)
    } else {
        (
            ambiguous.earlier().unwrap().timestamp().as_millisecond(),
            true,
        )
    }
}

/// A slow, obviously-correct engine: every grid time of every day, each checked against
/// every interval.
fn reference(case: &Case) -> Vec<(i64, LocalTime)> {
    let duration = i64::from(case.duration) * MINUTE_MS;
    let gap = i64::from(case.gap) * MINUTE_MS;
    let earliest = case.now + i64::from(case.notice) * MINUTE_MS;
    let latest = case.now + i64::from(case.horizon) * DAY_MS;
    let mut out = vec![];
    let mut date = local_date(earliest, &case.zone);
    while date <= local_date(latest, &case.zone) {
        let weekday = date.weekday().to_monday_zero_offset().unsigned_abs();
        for range in &case.week.0[usize::from(weekday)] {
            let (open_start, _) = reference_instant(&case.zone, date, range.start);
            let (open_end, _) = reference_instant(&case.zone, date, range.end);
            let mut minute = range.start;
            while minute < range.end {
                let (start, exists) = reference_instant(&case.zone, date, minute);
                let end = start + duration;
                // The database's rule for appointments, and the gap both sides of a block.
                let clear = case.busy.iter().all(|taken| {
                    taken.start >= taken.end || end + gap <= taken.start || start >= taken.end
                }) && case.blocked.iter().all(|taken| {
                    taken.start >= taken.end || end + gap <= taken.start || start >= taken.end + gap
                });
                if exists
                    && clear
                    && (earliest..=latest).contains(&start)
                    && open_start <= start
                    && end <= open_end
                {
                    let local_date = LocalDate {
                        year: date.year(),
                        month: date.month(),
                        day: date.day(),
                    };
                    out.push((
                        start,
                        LocalTime {
                            date: local_date,
                            weekday,
                            minute,
                        },
                    ));
                }
                minute += u16::try_from(case.duration + case.gap).unwrap();
            }
        }
        date = date.tomorrow().unwrap();
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_engine_agrees_with_the_slow_reference(case in arbitrary_case()) {
        let fast: Vec<_> = case.run().slots.iter().map(|s| (s.start, s.local)).collect();
        prop_assert_eq!(fast, reference(&case));
    }

    #[test]
    fn every_slot_keeps_every_rule(case in arbitrary_case()) {
        let result = case.run();
        let gap = i64::from(case.gap) * MINUTE_MS;
        for pair in result.slots.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "in order, no duplicate start");
            prop_assert!(pair[0].local < pair[1].local, "no label twice");
        }
        for slot in &result.slots {
            prop_assert_eq!(slot.end - slot.start, i64::from(case.duration) * MINUTE_MS);
            prop_assert!(slot.start >= case.now + i64::from(case.notice) * MINUTE_MS);
            prop_assert!(slot.start <= case.now + i64::from(case.horizon) * DAY_MS);
            for taken in &case.blocked {
                let widened = Interval { start: taken.start - gap, end: taken.end + gap };
                let booked = Interval { start: slot.start, end: slot.end };
                prop_assert!(!(widened.start < booked.end && booked.start < widened.end));
            }
            // What the database would store for this booking overlaps no appointment's
            // occupied time (start to clear_until).
            let clear_until = slot.end + gap;
            for taken in case.busy.iter().filter(|t| t.start < t.end) {
                prop_assert!(!(taken.start < clear_until && slot.start < taken.end));
            }
            // The label is what a clock in the doctor's zone shows at the start: a skipped
            // time can never be shown, and the weekday is the date's.
            let shown = Timestamp::from_millisecond(slot.start).unwrap().to_zoned(case.zone.clone());
            prop_assert_eq!(
                (shown.year(), shown.month(), shown.day()),
                (slot.local.date.year, slot.local.date.month, slot.local.date.day)
            );
            prop_assert_eq!(shown.hour() as u16 * 60 + shown.minute() as u16, slot.local.minute);
            prop_assert_eq!(shown.weekday().to_monday_zero_offset().unsigned_abs(), slot.local.weekday);
            // It lies wholly inside one open range of that weekday.
            let date = shown.date();
            let inside = case.week.0[usize::from(slot.local.weekday)].iter().any(|range| {
                reference_instant(&case.zone, date, range.start).0 <= slot.start
                    && slot.end <= reference_instant(&case.zone, date, range.end).0
            });
            prop_assert!(inside);
        }
    }

    #[test]
    fn the_day_summary_counts_the_slots_of_every_day(case in arbitrary_case()) {
        let result = case.run();
        for pair in result.days.windows(2) {
            let (a, b) = (pair[0].date, pair[1].date);
            let next = jiff::civil::date(a.year, a.month, a.day).tomorrow().unwrap();
            prop_assert_eq!((next.year(), next.month(), next.day()), (b.year, b.month, b.day));
        }
        for day in &result.days {
            let count = result.slots.iter().filter(|s| s.local.date == day.date).count();
            prop_assert_eq!(day.free as usize, count);
        }
        let total: u32 = result.days.iter().map(|d| d.free).sum();
        prop_assert_eq!(total as usize, result.slots.len());
    }
}
