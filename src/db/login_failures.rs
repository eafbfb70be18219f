//! Counts of recent log-in and sign-up attempts, per throttle key (an email's keyed hash, or
//! a client address). The policy (when to slow down, when to refuse) lives in `auth`.

use sqlx::Row;

use super::{now_millis, Db};

/// What charging one attempt to a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// The attempt may be checked; it is the `count`-th within the window.
    Admitted { count: u32 },
    /// The allowance is used up until this instant (epoch ms).
    Refused { until: i64 },
}

/// Counts one more attempt against `key`, before it is checked, so parallel attempts cannot
/// all pass. Within `window_ms` of the first counted attempt, the `allowance`-th is the last
/// admitted: it locks the key for `window_ms`, and later ones are refused until the lock
/// passes. Keys whose window and lock have both passed are swept here, so the table stays as
/// small as the recent attempts.
pub async fn charge(
    db: &Db,
    key: &str,
    window_ms: i64,
    allowance: u32,
) -> Result<Charge, sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "DELETE FROM login_failures
         WHERE first_failed_at <= $1 - $2 AND (locked_until IS NULL OR locked_until <= $1)",
    )
    .bind(now)
    .bind(window_ms)
    .execute(db.pool())
    .await?;
    // A row whose window and lock have passed starts again at 1.
    let row = sqlx::query(
        "INSERT INTO login_failures (throttle_key, failures, first_failed_at, locked_until)
         VALUES ($1, 1, $2, NULL)
         ON CONFLICT (throttle_key) DO UPDATE SET
             failures = CASE WHEN login_failures.first_failed_at <= $2 - $3
                                  AND COALESCE(login_failures.locked_until, 0) <= $2
                             THEN 1 ELSE login_failures.failures + 1 END,
             first_failed_at = CASE WHEN login_failures.first_failed_at <= $2 - $3
                                        AND COALESCE(login_failures.locked_until, 0) <= $2
                                    THEN $2 ELSE login_failures.first_failed_at END
         RETURNING failures, locked_until",
    )
    .bind(key)
    .bind(now)
    .bind(window_ms)
    .fetch_one(db.pool())
    .await?;
    let count = count(row.try_get("failures")?);
    let locked_until: Option<i64> = row.try_get("locked_until")?;
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Ok(Charge::Refused { until });
    }
    if count > allowance {
        // Another attempt reached the allowance and is about to set the lock.
        return Ok(Charge::Refused {
            until: now + window_ms,
        });
    }
    if count == allowance {
        sqlx::query("UPDATE login_failures SET locked_until = $2 WHERE throttle_key = $1")
            .bind(key)
            .bind(now + window_ms)
            .execute(db.pool())
            .await?;
    }
    Ok(Charge::Admitted { count })
}

/// Takes back one counted attempt of `key` that turned out well (a successful sign-up).
pub async fn refund(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_failures SET failures = failures - 1
         WHERE throttle_key = $1 AND failures > 0 AND locked_until IS NULL",
    )
    .bind(key)
    .execute(db.pool())
    .await
    .map(drop)
}

/// Forgets the failures of `key` (after a successful log-in).
pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
        .bind(key)
        .execute(db.pool())
        .await
        .map(drop)
}

fn count(failures: i64) -> u32 {
    u32::try_from(failures).unwrap_or(u32::MAX)
}
