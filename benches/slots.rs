//! The free-slot query the assistant and the dashboard run: 90 days ahead, three opening
//! ranges a day, 30-minute slots, 20 blocked ranges, and 500 busy intervals (then 5,000, to
//! see how it scales). Run with `cargo bench --features ssr --bench slots`.

use clariva::domain::availability::{parse_day, WeeklyHours};
use clariva::domain::slots::{free_slots, Interval, SlotQuery, DAY_MS, MINUTE_MS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jiff::tz::TimeZone;

/// 2027-02-01T00:00Z: the 90 days cross London's March change.
const NOW: i64 = 1_801_267_200_000;

/// A fixed pseudo-random sequence, so every run measures the same query.
fn sequence(seed: u64) -> impl Iterator<Item = u64> {
    std::iter::successors(Some(seed), |x| {
        Some(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        )
    })
    .map(|x| x >> 33)
}

/// `count` 30-minute intervals on the half-hour grid within the 90 days.
fn intervals(count: usize, seed: u64, length: i64) -> Vec<Interval> {
    sequence(seed)
        .take(count)
        .map(|r| {
            let start = NOW + (r as i64 % (90 * 48)) * 30 * MINUTE_MS;
            Interval {
                start,
                end: start + length,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let zone = TimeZone::get("Europe/London").unwrap();
    let day = parse_day("09:00-12:00, 13:00-17:00, 18:00-20:00").unwrap();
    let week = WeeklyHours(std::array::from_fn(|_| day.clone()));
    let blocked = intervals(20, 7, 3 * 60 * MINUTE_MS);
    let mut group = c.benchmark_group("free slots, 90 days");
    for busy_count in [500, 5_000] {
        let busy = intervals(busy_count, 11, 30 * MINUTE_MS);
        let query = SlotQuery {
            zone: &zone,
            week: &week,
            blocked: &blocked,
            busy: &busy,
            duration_minutes: 30,
            gap_minutes: 0,
            notice_minutes: 120,
            horizon_days: 90,
            now: NOW,
        };
        let found = free_slots(&query);
        assert_eq!(found.days.len(), 91);
        assert!(found.slots.len() > 100 && found.slots.len() < 90 * 18);
        assert!(found.slots.last().unwrap().start <= NOW + 90 * DAY_MS);
        group.bench_with_input(
            BenchmarkId::new("busy intervals", busy_count),
            &query,
            |b, q| b.iter(|| free_slots(std::hint::black_box(q))),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
