//! The booking assistant: each doctor's settings, and each conversation's state in the engine
//! (sealed; this module never opens it).

use sqlx::Row;

use super::{now_millis, TenantTx};
use crate::crypto::seal::Sealed;
use crate::domain::assistant::{AssistantSettings, BookingMode};

/// The doctor's settings; the defaults ([`AssistantSettings::default`]) until they save some.
pub async fn load(tx: &mut TenantTx) -> Result<AssistantSettings, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT enabled, greeting, booking_mode, emergency_line
         FROM assistant_settings WHERE doctor_id = $1",
    )
    .bind(doctor.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(AssistantSettings::default());
    };
    let mode: String = row.try_get("booking_mode")?;
    Ok(AssistantSettings {
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        greeting: row.try_get("greeting")?,
        // The CHECK constraint keeps unknown keys out; fall back rather than fail if one appears.
        booking_mode: BookingMode::from_key(&mode).unwrap_or_default(),
        emergency_line: row.try_get("emergency_line")?,
    })
}

/// Saves the settings; returns the names of the fields whose value changed.
pub async fn save(tx: &mut TenantTx, new: &AssistantSettings) -> Result<Vec<String>, sqlx::Error> {
    let old = load(tx).await?;
    let changed: Vec<String> = [
        ("enabled", old.enabled != new.enabled),
        ("greeting", old.greeting != new.greeting),
        ("booking_mode", old.booking_mode != new.booking_mode),
        ("emergency_line", old.emergency_line != new.emergency_line),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect();

    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO assistant_settings
             (doctor_id, enabled, greeting, booking_mode, emergency_line, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (doctor_id) DO UPDATE SET
             enabled = excluded.enabled, greeting = excluded.greeting,
             booking_mode = excluded.booking_mode, emergency_line = excluded.emergency_line,
             updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(i64::from(new.enabled))
    .bind(new.greeting.clone())
    .bind(new.booking_mode.key())
    .bind(new.emergency_line.clone())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(changed)
}

/// The engine's sealed state of one of the doctor's conversations and its version (how many
/// times it was saved); `None` when none was saved yet (the version is then 0) or the
/// conversation is not the doctor's.
pub async fn load_state(
    tx: &mut TenantTx,
    conversation_id: &str,
) -> Result<Option<(Sealed, i64)>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT assistant_state_sealed, assistant_key_id, assistant_version
         FROM conversations WHERE doctor_id = $1 AND id = $2",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let value: Option<String> = row.try_get("assistant_state_sealed")?;
    let key_id: Option<String> = row.try_get("assistant_key_id")?;
    let version: i64 = row.try_get("assistant_version")?;
    Ok(value
        .zip(key_id)
        .map(|(value, key_id)| (Sealed { key_id, value }, version)))
}

/// Stores the conversation's state if it is still at `expected_version` (what
/// [`load_state`] gave, or 0 for a first save), moving it to the next version; `false` when
/// another save came first (load again and redo the step) or the conversation is not the
/// doctor's.
pub async fn save_state(
    tx: &mut TenantTx,
    conversation_id: &str,
    state: &Sealed,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE conversations SET assistant_state_sealed = $1, assistant_key_id = $2,
             assistant_version = assistant_version + 1
         WHERE doctor_id = $3 AND id = $4 AND assistant_version = $5",
    )
    .bind(&state.value)
    .bind(&state.key_id)
    .bind(doctor.as_str())
    .bind(conversation_id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
