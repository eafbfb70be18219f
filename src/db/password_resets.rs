//! Password resets: the token of a single-use link, kept only as its SHA-256, valid until
//! `expires_at`.

use sqlx::Row;

use super::{Db, DoctorId, Lookup, TenantTx};

/// Keeps a new reset of the transaction's doctor, unless they asked for `most` since `since`
/// already; whether it was kept. The doctor's row is locked first, so requests racing for one
/// account are counted one after another.
pub async fn insert_within(
    tx: &mut TenantTx,
    token_hash: &str,
    now: i64,
    expires_at: i64,
    (since, most): (i64, i64),
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE doctors SET id = id WHERE id = $1")
        .bind(doctor.as_str())
        .execute(&mut *conn)
        .await?;
    let asked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM password_resets WHERE doctor_id = $1 AND created_at >= $2",
    )
    .bind(doctor.as_str())
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    if asked >= most {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO password_resets (token_hash, doctor_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(doctor.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(true)
}

/// The doctor whose reset hashes to `token_hash`, if it is unused and not expired at `now`.
pub async fn doctor(db: &Db, token_hash: &str, now: i64) -> Result<Option<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::ResetToken, token_hash).await?;
    let row = sqlx::query(
        "SELECT doctor_id FROM password_resets
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(|row| Ok(DoctorId::from_row(row.try_get("doctor_id")?)))
        .transpose()
}

/// Uses the transaction's doctor's reset up, and every other of theirs with it (a password
/// just set makes older links worthless); whether this one was still usable.
pub async fn use_up(tx: &mut TenantTx, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let used = sqlx::query(
        "UPDATE password_resets SET used_at = $3
         WHERE doctor_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(doctor.as_str())
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("UPDATE password_resets SET used_at = $2 WHERE doctor_id = $1 AND used_at IS NULL")
        .bind(doctor.as_str())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(used == 1)
}
