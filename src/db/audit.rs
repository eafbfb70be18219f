//! The audit log: one row per change to a doctor's settings, in the same transaction as the
//! change, so a change is never without its row (and the other way round).

use super::{new_id, now_millis, Db, DoctorId, TenantTx};

/// Saves some of a doctor's settings in one transaction: `write` stores them and names the
/// fields (or rows, as `service:<id>`) it changed; those are audited as `action` (nothing
/// is, when nothing changed); then it commits and logs the doctor, the action and how many
/// fields changed. Every settings pane saves through here.
pub async fn save_settings<E: From<sqlx::Error>>(
    db: &Db,
    doctor: &DoctorId,
    action: &'static str,
    request_id: Option<&str>,
    write: impl AsyncFnOnce(&mut TenantTx) -> Result<Vec<String>, E>,
) -> Result<(), E> {
    let mut tx = db.tenant_writer(doctor).await?;
    let changed = write(&mut tx).await?;
    if !changed.is_empty() {
        record(&mut tx, action, &changed, request_id).await?;
    }
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, action, changed = changed.len(), "settings saved");
    Ok(())
}

/// Records that `action` changed `fields` (names, never values) of the transaction's doctor.
pub async fn record(
    tx: &mut TenantTx,
    action: &str,
    fields: &[String],
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    record_about(tx, action, None, fields, request_id).await
}

/// Like [`record`], for a change to one row (an appointment, say), named by its id.
pub async fn record_about(
    tx: &mut TenantTx,
    action: &str,
    subject_id: Option<&str>,
    fields: &[String],
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO audit_log (id, doctor_id, action, changed_fields, request_id, created_at,
             subject_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(action)
    .bind(fields.join(","))
    .bind(request_id)
    .bind(now_millis())
    .bind(subject_id)
    .execute(conn)
    .await
    .map(drop)
}
