//! A doctor's time zone, booking rules, weekly hours and blocked times.

use sqlx::Row;

use super::{new_id, now_millis, TenantTx};
use crate::domain::availability::{BookingRules, TimeRange, WeeklyHours};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredAvailability {
    /// `None` until the doctor first saves the pane.
    pub settings: Option<(String, BookingRules)>,
    pub week: WeeklyHours,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    pub id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub all_day: bool,
    pub reason: Option<String>,
}

fn small(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// The doctor's time zone, in which every date and time they see is written (UTC until they
/// save one).
pub async fn zone(tx: &mut TenantTx) -> Result<jiff::tz::TimeZone, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let name: Option<String> =
        sqlx::query("SELECT time_zone FROM availability_settings WHERE doctor_id = $1")
            .bind(doctor.as_str())
            .fetch_optional(conn)
            .await?
            .map(|row| row.try_get("time_zone"))
            .transpose()?;
    Ok(name
        .and_then(|name| jiff::tz::TimeZone::get(&name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC))
}

pub async fn load(tx: &mut TenantTx) -> Result<StoredAvailability, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let settings = sqlx::query(
        "SELECT time_zone, appointment_minutes, gap_minutes, notice_hours, horizon_days,
                hold_minutes
         FROM availability_settings WHERE doctor_id = $1",
    )
    .bind(doctor.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| -> Result<_, sqlx::Error> {
        Ok((
            row.try_get("time_zone")?,
            BookingRules {
                appointment_minutes: small(row.try_get("appointment_minutes")?),
                gap_minutes: small(row.try_get("gap_minutes")?),
                notice_hours: small(row.try_get("notice_hours")?),
                horizon_days: small(row.try_get("horizon_days")?),
                hold_minutes: small(row.try_get("hold_minutes")?),
            },
        ))
    })
    .transpose()?;
    let rows = sqlx::query(
        "SELECT weekday, start_minute, end_minute FROM weekly_hours WHERE doctor_id = $1
         ORDER BY weekday, start_minute",
    )
    .bind(doctor.as_str())
    .fetch_all(conn)
    .await?;
    let mut week = WeeklyHours::default();
    for row in rows {
        let weekday: i64 = row.try_get("weekday")?;
        let (start, end): (i64, i64) = (row.try_get("start_minute")?, row.try_get("end_minute")?);
        if let (Some(day), Ok(start), Ok(end)) = (
            usize::try_from(weekday)
                .ok()
                .and_then(|d| week.0.get_mut(d)),
            u16::try_from(start),
            u16::try_from(end),
        ) {
            day.push(TimeRange { start, end });
        }
    }
    Ok(StoredAvailability { settings, week })
}

/// Saves zone, rules and hours; returns the names of what changed.
pub async fn save(
    tx: &mut TenantTx,
    time_zone: &str,
    rules: BookingRules,
    week: &WeeklyHours,
) -> Result<Vec<String>, sqlx::Error> {
    let old = load(tx).await?;
    let mut changed = Vec::new();
    let (old_zone, old_rules) = old
        .settings
        .map_or((None, None), |(zone, rules)| (Some(zone), Some(rules)));
    if old_zone.as_deref() != Some(time_zone) {
        changed.push("time_zone".to_owned());
    }
    if old_rules != Some(rules) {
        changed.push("booking_rules".to_owned());
    }
    if old.week != *week {
        changed.push("weekly_hours".to_owned());
    }

    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO availability_settings (doctor_id, time_zone, appointment_minutes,
             gap_minutes, notice_hours, horizon_days, hold_minutes, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (doctor_id) DO UPDATE SET
             time_zone = excluded.time_zone,
             appointment_minutes = excluded.appointment_minutes,
             gap_minutes = excluded.gap_minutes, notice_hours = excluded.notice_hours,
             horizon_days = excluded.horizon_days, hold_minutes = excluded.hold_minutes,
             updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(time_zone)
    .bind(i64::from(rules.appointment_minutes))
    .bind(i64::from(rules.gap_minutes))
    .bind(i64::from(rules.notice_hours))
    .bind(i64::from(rules.horizon_days))
    .bind(i64::from(rules.hold_minutes))
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM weekly_hours WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(&mut *conn)
        .await?;
    for (weekday, ranges) in week.0.iter().enumerate() {
        for range in ranges {
            sqlx::query(
                "INSERT INTO weekly_hours (doctor_id, weekday, start_minute, end_minute)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(doctor.as_str())
            .bind(i64::try_from(weekday).unwrap_or(0))
            .bind(i64::from(range.start))
            .bind(i64::from(range.end))
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(changed)
}

/// Blocked ranges that have not ended by `now`, soonest first.
pub async fn upcoming_blocks(tx: &mut TenantTx, now: i64) -> Result<Vec<StoredBlock>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(
        "SELECT id, starts_at, ends_at, all_day, reason FROM blocked_ranges
         WHERE doctor_id = $1 AND ends_at > $2 ORDER BY starts_at, id",
    )
    .bind(doctor.as_str())
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredBlock {
                id: row.try_get("id")?,
                starts_at: row.try_get("starts_at")?,
                ends_at: row.try_get("ends_at")?,
                all_day: row.try_get::<i64, _>("all_day")? != 0,
                reason: row.try_get("reason")?,
            })
        })
        .collect()
}

pub async fn insert_block(
    tx: &mut TenantTx,
    starts_at: i64,
    ends_at: i64,
    all_day: bool,
    reason: Option<&str>,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO blocked_ranges (id, doctor_id, starts_at, ends_at, all_day, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(doctor.as_str())
    .bind(starts_at)
    .bind(ends_at)
    .bind(i64::from(all_day))
    .bind(reason)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(id)
}

/// `false` when the doctor has no blocked range with that id.
pub async fn delete_block(tx: &mut TenantTx, id: &str) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query("DELETE FROM blocked_ranges WHERE doctor_id = $1 AND id = $2")
        .bind(doctor.as_str())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}
