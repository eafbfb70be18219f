//! Log-in sessions. Rows hold a hash of the cookie's token, never the token.

use sqlx::Row;

use super::{now_millis, Db, DoctorId, Lookup};

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
        "INSERT INTO sessions (token_hash, doctor_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(doctor.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    tx.commit().await
}

/// The doctor of a live session.
pub async fn doctor(db: &Db, token_hash: &str) -> Result<Option<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::SessionHash, token_hash).await?;
    let row =
        sqlx::query("SELECT doctor_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now_millis())
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    row.map(|row| row.try_get("doctor_id").map(DoctorId::from_row))
        .transpose()
}

pub async fn delete(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.lookup(Lookup::SessionHash, token_hash).await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
