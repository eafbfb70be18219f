//! Counts of recent failed log-ins, per throttle key (an email's keyed hash, or a client
//! address). The policy (when to slow down, when to refuse) lives in `auth`.

use sqlx::Row;

use super::{now_millis, Db};

/// The recent failures of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// Failures since the window opened.
    pub count: u32,
    /// Refused until this instant (epoch ms), if refused.
    pub locked_until: Option<i64>,
}

/// The failures of `key` within the last `window_ms`.
pub async fn recent(db: &Db, key: &str, window_ms: i64) -> Result<Failures, sqlx::Error> {
    let now = now_millis();
    let row = sqlx::query(
        "SELECT failures, first_failed_at, locked_until FROM login_failures WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Failures::default());
    };
    let first_failed_at: i64 = row.try_get("first_failed_at")?;
    let locked_until: Option<i64> = row.try_get("locked_until")?;
    Ok(Failures {
        count: if first_failed_at > now - window_ms {
            count(row.try_get("failures")?)
        } else {
            0
        },
        locked_until: locked_until.filter(|until| *until > now),
    })
}

/// Records one more failure of `key`; when that makes `lock_after`, the key is refused for
/// `window_ms` and its count starts again. Keys whose window and lock have both passed are
/// swept here, so the table stays as small as the recent failures.
pub async fn record(
    db: &Db,
    key: &str,
    window_ms: i64,
    lock_after: u32,
) -> Result<Failures, sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "DELETE FROM login_failures
         WHERE first_failed_at <= $1 - $2 AND (locked_until IS NULL OR locked_until <= $1)",
    )
    .bind(now)
    .bind(window_ms)
    .execute(db.pool())
    .await?;
    let row = sqlx::query(
        "INSERT INTO login_failures (throttle_key, failures, first_failed_at, locked_until)
         VALUES ($1, 1, $2, NULL)
         ON CONFLICT (throttle_key) DO UPDATE SET
             failures = CASE WHEN login_failures.first_failed_at <= $2 - $3
                             THEN 1 ELSE login_failures.failures + 1 END,
             first_failed_at = CASE WHEN login_failures.first_failed_at <= $2 - $3
                                    THEN $2 ELSE login_failures.first_failed_at END
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(window_ms)
    .fetch_one(db.pool())
    .await?;
    let failures = count(row.try_get("failures")?);
    if failures < lock_after {
        return Ok(Failures {
            count: failures,
            locked_until: None,
        });
    }
    let locked_until = now + window_ms;
    sqlx::query(
        "UPDATE login_failures SET failures = 0, first_failed_at = $2, locked_until = $3
         WHERE throttle_key = $1",
    )
    .bind(key)
    .bind(now)
    .bind(locked_until)
    .execute(db.pool())
    .await?;
    Ok(Failures {
        count: 0,
        locked_until: Some(locked_until),
    })
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
