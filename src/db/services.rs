//! A doctor's services. Names are unique among live services (a partial unique index), so an
//! archived service's name can be used again.

use sqlx::Row;

use super::{new_id, now_millis, TenantTx};
use crate::domain::methods::AppointmentMethod;
use crate::domain::services::{name_key, ServiceDraft};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredService {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub duration_minutes: Option<u32>,
    pub methods: Vec<AppointmentMethod>,
    pub archived: bool,
}

fn methods_column(methods: &[AppointmentMethod]) -> String {
    methods
        .iter()
        .map(|m| m.key())
        .collect::<Vec<_>>()
        .join(",")
}

/// Live services in the doctor's order, then archived ones.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<StoredService>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(
        "SELECT id, name, description, duration_minutes, methods, archived_at FROM services
         WHERE doctor_id = $1
         ORDER BY CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END, position, id",
    )
    .bind(doctor.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let methods: String = row.try_get("methods")?;
            let duration: Option<i64> = row.try_get("duration_minutes")?;
            let archived_at: Option<i64> = row.try_get("archived_at")?;
            Ok(StoredService {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                duration_minutes: duration.and_then(|d| u32::try_from(d).ok()),
                methods: methods
                    .split(',')
                    .filter_map(AppointmentMethod::from_key)
                    .collect(),
                archived: archived_at.is_some(),
            })
        })
        .collect()
}

/// Adds a service at the end of the list; its id.
pub async fn insert(tx: &mut TenantTx, draft: &ServiceDraft) -> Result<String, sqlx::Error> {
    let id = new_id();
    let now = now_millis();
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO services (id, doctor_id, name, name_key, description, duration_minutes,
                               methods, position, archived_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM services WHERE doctor_id = $2),
                 NULL, $8, $8)",
    )
    .bind(&id)
    .bind(doctor.as_str())
    .bind(&draft.name)
    .bind(name_key(&draft.name))
    .bind(draft.description.clone())
    .bind(draft.duration_minutes.map(i64::from))
    .bind(methods_column(&draft.methods))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Replaces a service's fields; `false` when the doctor has no service with that id.
pub async fn update(
    tx: &mut TenantTx,
    id: &str,
    draft: &ServiceDraft,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query(
        "UPDATE services SET name = $3, name_key = $4, description = $5, duration_minutes = $6,
                             methods = $7, updated_at = $8
         WHERE doctor_id = $1 AND id = $2",
    )
    .bind(doctor.as_str())
    .bind(id)
    .bind(&draft.name)
    .bind(name_key(&draft.name))
    .bind(draft.description.clone())
    .bind(draft.duration_minutes.map(i64::from))
    .bind(methods_column(&draft.methods))
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Archives or restores; `false` when the doctor has no such service in the other state.
pub async fn set_archived(
    tx: &mut TenantTx,
    id: &str,
    archived: bool,
) -> Result<bool, sqlx::Error> {
    let now = now_millis();
    let (conn, doctor) = tx.parts();
    let result = sqlx::query(
        "UPDATE services SET archived_at = $3, updated_at = $4,
                position = (SELECT COALESCE(MAX(position), 0) + 1 FROM services WHERE doctor_id = $1)
         WHERE doctor_id = $1 AND id = $2 AND (archived_at IS NULL) = $5",
    )
    .bind(doctor.as_str())
    .bind(id)
    .bind(archived.then_some(now))
    .bind(now)
    .bind(archived)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Swaps a live service with its neighbour above (`up`) or below; `false` when the doctor has
/// no such live service. At either end of the list nothing moves.
pub async fn shift(tx: &mut TenantTx, id: &str, up: bool) -> Result<bool, sqlx::Error> {
    let live: Vec<String> = list(tx)
        .await?
        .into_iter()
        .filter(|s| !s.archived)
        .map(|s| s.id)
        .collect();
    let Some(at) = live.iter().position(|s| s == id) else {
        return Ok(false);
    };
    let target = if up {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|t| *t < live.len())
    };
    let Some(target) = target else {
        return Ok(true);
    };
    let mut order = live;
    order.swap(at, target);
    let (conn, doctor) = tx.parts();
    for (position, service) in order.iter().enumerate() {
        sqlx::query("UPDATE services SET position = $3 WHERE doctor_id = $1 AND id = $2")
            .bind(doctor.as_str())
            .bind(service)
            .bind(i64::try_from(position).unwrap_or(i64::MAX) + 1)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}
