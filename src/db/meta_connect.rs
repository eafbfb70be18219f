//! What connecting through Meta leaves behind outside a doctor's link: the single-use states
//! of login dialogs in progress, and the record of Meta's data-deletion requests.

use sqlx::Row;

use super::{now_millis, Db, DoctorId, Lookup};

/// A login dialog in progress, as stored under the hash of its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    pub doctor: DoctorId,
    pub session_hash: String,
    pub expires_at: i64,
}

/// Remembers a state for `doctor`'s session, sweeping the doctor's states that have expired.
pub async fn insert_state(
    db: &Db,
    state_hash: &str,
    state: &StoredState,
) -> Result<(), sqlx::Error> {
    let mut tx = db.tenant_writer(&state.doctor).await?;
    let (conn, _) = tx.parts();
    sqlx::query("DELETE FROM meta_connect_states WHERE doctor_id = $1 AND expires_at <= $2")
        .bind(state.doctor.as_str())
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO meta_connect_states (state_hash, doctor_id, session_hash, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(state_hash)
    .bind(state.doctor.as_str())
    .bind(&state.session_hash)
    .bind(state.expires_at)
    .execute(conn)
    .await?;
    tx.commit().await
}

/// Takes a state out, expired or not, so that it can be used once at most: of two callbacks
/// with the same state only one finds it.
pub async fn take_state(db: &Db, state_hash: &str) -> Result<Option<StoredState>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::ConnectState, state_hash).await?;
    let row = sqlx::query(
        "DELETE FROM meta_connect_states WHERE state_hash = $1
         RETURNING doctor_id, session_hash, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(|row| {
        Ok(StoredState {
            doctor: DoctorId::from_row(row.try_get("doctor_id")?),
            session_hash: row.try_get("session_hash")?,
            expires_at: row.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// A data-deletion request from Meta, as its status page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequest {
    pub links_removed: i64,
    pub requested_at: i64,
}

pub async fn record_deletion(
    db: &Db,
    confirmation_code: &str,
    links_removed: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO meta_deletion_requests (confirmation_code, links_removed, requested_at)
         VALUES ($1, $2, $3)",
    )
    .bind(confirmation_code)
    .bind(links_removed)
    .bind(now_millis())
    .execute(db.pool())
    .await
    .map(drop)
}

pub async fn deletion(
    db: &Db,
    confirmation_code: &str,
) -> Result<Option<DeletionRequest>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT links_removed, requested_at FROM meta_deletion_requests
         WHERE confirmation_code = $1",
    )
    .bind(confirmation_code)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(DeletionRequest {
            links_removed: row.try_get("links_removed")?,
            requested_at: row.try_get("requested_at")?,
        })
    })
    .transpose()
}
