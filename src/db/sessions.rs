//! Log-in sessions. Rows hold a hash of the cookie's token, never the token.

use sqlx::Row;

use super::{now_millis, Db, DoctorId, Lookup, TenantTx};

pub async fn insert(
    db: &Db,
    token_hash: &str,
    doctor: &DoctorId,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    let mut tx = db.tenant_writer(doctor).await?;
    let (conn, doctor) = tx.parts();
    // Sweep this doctor's expired sessions while we are here.
    sqlx::query("DELETE FROM sessions WHERE doctor_id = $1 AND expires_at <= $2")
        .bind(doctor.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, doctor_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $3)",
    )
    .bind(token_hash)
    .bind(doctor.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    tx.commit().await
}

/// How long a session may go unused before it ends.
pub const IDLE_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// How stale `last_seen_at` may get before a request writes it again (not on every request).
const SEEN_EVERY_MS: i64 = 60 * 60 * 1000;

/// The doctor of a live session: not past its lifetime, and used within [`IDLE_MS`]. Marks it
/// used (at most once an hour).
pub async fn doctor(db: &Db, token_hash: &str, now: i64) -> Result<Option<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::SessionHash, token_hash).await?;
    let row = sqlx::query(
        "SELECT doctor_id, last_seen_at FROM sessions
         WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
    )
    .bind(token_hash)
    .bind(now)
    .bind(now - IDLE_MS)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.commit().await?;
        return Ok(None);
    };
    tx.commit().await?;
    let doctor = DoctorId::from_row(row.try_get("doctor_id")?);
    let last_seen_at: i64 = row.try_get("last_seen_at")?;
    if last_seen_at < now - SEEN_EVERY_MS {
        // In the doctor's own transaction: the policy checks an updated row's doctor.
        let mut tx = db.tenant_writer(&doctor).await?;
        let (conn, doctor) = tx.parts();
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $3 WHERE doctor_id = $1 AND token_hash = $2",
        )
        .bind(doctor.as_str())
        .bind(token_hash)
        .bind(now)
        .execute(conn)
        .await?;
        tx.commit().await?;
    }
    Ok(Some(doctor))
}

/// Ends every session of the transaction's doctor but the one with `keep` as its hash; how
/// many ended.
pub async fn delete_others(tx: &mut TenantTx, keep: &str) -> Result<u64, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query("DELETE FROM sessions WHERE doctor_id = $1 AND token_hash <> $2")
        .bind(doctor.as_str())
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// Ends every session of the transaction's doctor; how many ended.
pub async fn delete_all(tx: &mut TenantTx) -> Result<u64, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query("DELETE FROM sessions WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

pub async fn delete(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.lookup(Lookup::SessionHash, token_hash).await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
