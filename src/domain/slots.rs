//! The slot engine: which start times a patient may book, from the doctor's weekly hours in
//! their time zone, minus blocked ranges and busy intervals, within notice and horizon.
//!
//! Pure (no I/O, "now" is an input) and server-only: it needs the time zone database, which
//! the browser bundle does not carry.
//!
//! # The rules
//! - Candidate starts lie on a grid per open range: the range's start, then every
//!   `duration + gap` minutes of wall-clock time, so 09:00, 09:40, 10:20 for 30-minute
//!   appointments with a 10-minute gap.
//! - A slot `[start, start + duration)` (real elapsed time) must lie wholly inside one open
//!   range, must start no earlier than `now + notice` and no later than `now + horizon`, and
//!   must not come within `gap` of any blocked range.
//! - Appointments occupy their time as the database's overlap rule reads it: from their start
//!   to their `clear_until` (their end plus the gap in force when they were booked). A slot
//!   together with today's gap after it, `[start, start + duration + gap)`, must not overlap
//!   any of them. So the engine offers exactly what the database accepts, even after the
//!   doctor changes the gap.
//! - Daylight saving, as a doctor reads a clock on the wall:
//!   - a wall-clock time that does not exist that day (the hour skipped when clocks go
//!     forward) is never offered; the grid is not shifted, so the next grid time that exists
//!     is offered as usual;
//!   - a wall-clock time that occurs twice (the hour repeated when clocks go back) is offered
//!     once, at its first occurrence; the repeated hour is not offered again, so no label
//!     is ever shown twice;
//!   - a range that starts or ends inside a skipped hour starts or ends at the moment the
//!     clocks change; one that starts or ends inside a repeated hour uses its first occurrence.
//!
//! # Cost
//! Busy and blocked intervals are sorted and merged once; candidates come out in time order
//! and are checked with one pointer sweeping the merged list, so a query costs
//! O(candidates + intervals · log intervals), never their product. Wall-clock times are
//! turned into instants with arithmetic on a cached UTC offset; the time zone database is
//! consulted only within two days of a transition.

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::availability::{clock, LocalDate, WeeklyHours, WEEKDAYS};

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// A half-open span of time, `[start, end)`, in UTC epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: i64,
    pub end: i64,
}

/// Everything the engine needs to answer "when can this be booked?".
#[derive(Debug, Clone, Copy)]
pub struct SlotQuery<'a> {
    pub zone: &'a TimeZone,
    pub week: &'a WeeklyHours,
    /// Times the doctor blocked, in any order.
    pub blocked: &'a [Interval],
    /// The time live appointments and unexpired holds occupy (start to `clear_until`), in
    /// any order, overlapping or not.
    pub busy: &'a [Interval],
    pub duration_minutes: u32,
    pub gap_minutes: u32,
    pub notice_minutes: u32,
    pub horizon_days: u32,
    /// UTC epoch milliseconds.
    pub now: i64,
}

/// A free start time with its label in the doctor's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: i64,
    pub end: i64,
    pub local: LocalTime,
}

/// A wall-clock time in the doctor's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalTime {
    pub date: LocalDate,
    /// 0 = Monday.
    pub weekday: u8,
    /// Minutes after local midnight.
    pub minute: u16,
}

impl fmt::Display for LocalTime {
    /// `Mon 7 Dec 2026, 09:30`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}",
            DayLabel(self.date, self.weekday),
            clock(self.minute)
        )
    }
}

/// `Mon 7 Dec 2026`.
pub struct DayLabel(pub LocalDate, pub u8);

impl fmt::Display for DayLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let DayLabel(date, weekday) = self;
        let month = MONTHS[usize::try_from(date.month - 1).unwrap_or(0) % 12];
        let day = &WEEKDAYS[usize::from(*weekday) % 7][..3];
        write!(f, "{day} {} {month} {}", date.day, date.year)
    }
}

/// How many slots one local day has, for date pickers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySummary {
    pub date: LocalDate,
    /// 0 = Monday.
    pub weekday: u8,
    pub free: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeSlots {
    /// In time order, no two with the same start or the same label.
    pub slots: Vec<Slot>,
    /// Every local day from the first bookable moment to the horizon, in order.
    pub days: Vec<DaySummary>,
}

/// The free slots for one service under the doctor's settings.
pub fn free_slots(query: &SlotQuery) -> FreeSlots {
    let duration = i64::from(query.duration_minutes.max(1)) * MINUTE_MS;
    let gap = i64::from(query.gap_minutes) * MINUTE_MS;
    let step = duration + gap;
    let earliest = query.now + i64::from(query.notice_minutes) * MINUTE_MS;
    let latest = query.now + i64::from(query.horizon_days) * DAY_MS;
    let mut out = FreeSlots::default();
    if latest < earliest {
        return out;
    }
    let taken = merged(
        query
            .blocked
            .iter()
            .map(|b| widened(b, gap, gap))
            .chain(query.busy.iter().map(|b| widened(b, gap, 0))),
    );
    let mut sweep = Sweep {
        taken: &taken,
        next: 0,
    };
    let mut clock = WallClock::new(query.zone);

    let mut date = local_date(earliest, query.zone);
    let last = local_date(latest, query.zone);
    let mut day_wall = wall_millis(date.to_datetime(Time::midnight()));
    while date <= last {
        let weekday = date.weekday().to_monday_zero_offset().unsigned_abs();
        let local_date = LocalDate {
            year: date.year(),
            month: date.month(),
            day: date.day(),
        };
        let mut free = 0;
        for range in &query.week.0[usize::from(weekday)] {
            let open = Interval {
                start: clock.boundary(day_wall + i64::from(range.start) * MINUTE_MS),
                end: clock.boundary(day_wall + i64::from(range.end) * MINUTE_MS),
            };
            let mut minute = range.start;
            while minute < range.end {
                let wall = day_wall + i64::from(minute) * MINUTE_MS;
                if let Some(start) = clock.start(wall) {
                    let slot = Interval {
                        start,
                        end: start + duration,
                    };
                    if start >= earliest
                        && start <= latest
                        && open.start <= slot.start
                        && slot.end <= open.end
                        && sweep.is_free(slot)
                    {
                        free += 1;
                        out.slots.push(Slot {
                            start,
                            end: slot.end,
                            local: LocalTime {
                                date: local_date,
                                weekday,
                                minute,
                            },
                        });
                    }
                }
                minute = minute.saturating_add(u16::try_from(step / MINUTE_MS).unwrap_or(u16::MAX));
            }
        }
        out.days.push(DaySummary {
            date: local_date,
            weekday,
            free,
        });
        let Ok(next) = date.tomorrow() else { break };
        date = next;
        day_wall += DAY_MS;
    }
    out
}

/// The span no slot may touch because of `taken`: a slot `[s, e)` is clear of `taken` with
/// `before` before it and `after` after it exactly when it is clear of the widened span.
fn widened(taken: &Interval, before: i64, after: i64) -> Interval {
    Interval {
        start: taken.start.saturating_sub(before),
        end: taken.end.saturating_add(after),
    }
}

/// The intervals sorted and merged into disjoint spans (empty ones dropped).
fn merged(intervals: impl Iterator<Item = Interval>) -> Vec<Interval> {
    let mut widened: Vec<Interval> = intervals.filter(|i| i.start < i.end).collect();
    widened.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(widened.len());
    for interval in widened {
        match merged.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => merged.push(interval),
        }
    }
    merged
}

/// Checks candidates, which must come in time order, against the merged taken spans.
struct Sweep<'a> {
    taken: &'a [Interval],
    next: usize,
}

impl Sweep<'_> {
    fn is_free(&mut self, slot: Interval) -> bool {
        while self
            .taken
            .get(self.next)
            .is_some_and(|t| t.end <= slot.start)
        {
            self.next += 1;
        }
        self.taken
            .get(self.next)
            .is_none_or(|t| t.start >= slot.end)
    }
}

/// A wall-clock time read in a zone, by the rules in the module documentation.
enum Reading {
    /// It occurs once (or twice, and this is the first time).
    At(i64),
    /// It never occurs: the clocks jumped over it at this instant.
    Skipped { clocks_changed: i64 },
}

/// Wall-clock milliseconds (local time counted as if it were UTC) to instants. Keeps the
/// offset of the stretch between two transitions, minus two days at either end (no UTC offset
/// change reaches that far), where a wall-clock time can only mean one instant.
struct WallClock<'z> {
    zone: &'z TimeZone,
    offset: i64,
    /// Instants where `offset` is the only reading.
    certain: Interval,
}

impl<'z> WallClock<'z> {
    const MARGIN: i64 = 2 * DAY_MS;

    fn new(zone: &'z TimeZone) -> Self {
        Self {
            zone,
            offset: 0,
            certain: Interval { start: 0, end: 0 },
        }
    }

    /// A candidate start: a skipped time is not offered.
    fn start(&mut self, wall: i64) -> Option<i64> {
        match self.read(wall) {
            Reading::At(instant) => Some(instant),
            Reading::Skipped { .. } => None,
        }
    }

    /// A range boundary: a skipped time means the moment the clocks changed.
    fn boundary(&mut self, wall: i64) -> i64 {
        match self.read(wall) {
            Reading::At(instant) => instant,
            Reading::Skipped { clocks_changed } => clocks_changed,
        }
    }

    fn read(&mut self, wall: i64) -> Reading {
        let guess = wall - self.offset;
        if self.certain.start <= guess && guess < self.certain.end {
            return Reading::At(guess);
        }
        let Ok(as_if_utc) = Timestamp::from_millisecond(wall) else {
            return Reading::At(guess);
        };
        let civil = Offset::UTC.to_datetime(as_if_utc);
        match self.zone.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => {
                let instant = wall - offset_millis(offset);
                self.remember(instant, offset);
                Reading::At(instant)
            }
            AmbiguousOffset::Fold { before, .. } => Reading::At(wall - offset_millis(before)),
            AmbiguousOffset::Gap { after, .. } => {
                // Read with the later offset the time falls before the jump, so the next
                // transition from there is the jump itself.
                let early = wall - offset_millis(after);
                let clocks_changed = Timestamp::from_millisecond(early)
                    .ok()
                    .and_then(|t| self.zone.following(t).next())
                    .map_or(early, |t| t.timestamp().as_millisecond());
                Reading::Skipped { clocks_changed }
            }
        }
    }

    fn remember(&mut self, instant: i64, offset: Offset) {
        let Ok(at) = Timestamp::from_millisecond(instant) else {
            return;
        };
        // The stretch holding `at` began at the last transition at or before it; `preceding`
        // looks strictly before, so ask from just past `at` (an instant can be a transition
        // itself: the first minute after clocks jump forward).
        let just_past = at
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap_or(at);
        let after_previous = self
            .zone
            .preceding(just_past)
            .next()
            .map_or(i64::MIN / 2, |t| t.timestamp().as_millisecond());
        let before_next = self
            .zone
            .following(at)
            .next()
            .map_or(i64::MAX / 2, |t| t.timestamp().as_millisecond());
        self.offset = offset_millis(offset);
        self.certain = Interval {
            start: after_previous + Self::MARGIN,
            end: before_next - Self::MARGIN,
        };
    }
}

fn offset_millis(offset: Offset) -> i64 {
    i64::from(offset.seconds()) * 1000
}

/// Local wall-clock time counted in milliseconds as if it were UTC.
fn wall_millis(civil: DateTime) -> i64 {
    Offset::UTC
        .to_timestamp(civil)
        .map_or(0, |t| t.as_millisecond())
}

/// The doctor's calendar date at an instant.
fn local_date(instant: i64, zone: &TimeZone) -> Date {
    Timestamp::from_millisecond(instant)
        .unwrap_or_default()
        .to_zoned(zone.clone())
        .date()
}

/// What the doctor's clock shows at an instant.
pub fn local_time(instant: i64, zone: &TimeZone) -> LocalTime {
    let shown = Timestamp::from_millisecond(instant)
        .unwrap_or_default()
        .to_zoned(zone.clone());
    LocalTime {
        date: LocalDate {
            year: shown.year(),
            month: shown.month(),
            day: shown.day(),
        },
        weekday: shown.weekday().to_monday_zero_offset().unsigned_abs(),
        minute: u16::try_from(shown.hour()).unwrap_or(0) * 60
            + u16::try_from(shown.minute()).unwrap_or(0),
    }
}

/// `date` as jiff's calendar date, for date arithmetic; `None` for an impossible date.
pub fn civil(date: LocalDate) -> Option<Date> {
    Date::new(date.year, date.month, date.day).ok()
}

/// jiff's calendar date as the practice's.
pub fn local(date: Date) -> LocalDate {
    LocalDate {
        year: date.year(),
        month: date.month(),
        day: date.day(),
    }
}

#[cfg(test)]
mod tests;
