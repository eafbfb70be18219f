//! Each doctor's link to their Instagram account, and the only way from an Instagram account
//! or Facebook Page id to a doctor: [`doctor_for`]. There is no default doctor.

use sqlx::Row;

use super::{now_millis, Db, DoctorId, TenantTx};
use crate::instagram::seal::Sealed;

/// A link as stored; the token stays sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    pub page_id: String,
    pub instagram_id: String,
    pub username: String,
    pub page_name: String,
    pub token: Sealed,
    pub token_expires_at: Option<i64>,
    pub token_rejected: bool,
    pub connected_at: i64,
}

/// A link about to be stored for the transaction's doctor.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub page_id: &'a str,
    pub instagram_id: &'a str,
    pub username: &'a str,
    pub page_name: &'a str,
    pub token: &'a Sealed,
    pub token_expires_at: Option<i64>,
}

/// Links the doctor to an account, replacing any link they had. An account or Page already
/// linked to another doctor makes the database refuse it: see
/// [`super::is_unique_violation`].
pub async fn save(tx: &mut TenantTx, link: &NewLink<'_>) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO instagram_links (doctor_id, page_id, instagram_id, username, page_name,
             token_sealed, token_key_id, token_expires_at, token_rejected, connected_at,
             updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)
         ON CONFLICT (doctor_id) DO UPDATE SET
             page_id = excluded.page_id, instagram_id = excluded.instagram_id,
             username = excluded.username, page_name = excluded.page_name,
             token_sealed = excluded.token_sealed, token_key_id = excluded.token_key_id,
             token_expires_at = excluded.token_expires_at, token_rejected = 0,
             connected_at = excluded.connected_at, updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(link.page_id)
    .bind(link.instagram_id)
    .bind(link.username)
    .bind(link.page_name)
    .bind(&link.token.value)
    .bind(&link.token.key_id)
    .bind(link.token_expires_at)
    .bind(now_millis())
    .execute(conn)
    .await
    .map(drop)
}

fn read(row: &sqlx::any::AnyRow) -> Result<StoredLink, sqlx::Error> {
    Ok(StoredLink {
        page_id: row.try_get("page_id")?,
        instagram_id: row.try_get("instagram_id")?,
        username: row.try_get("username")?,
        page_name: row.try_get("page_name")?,
        token: Sealed {
            key_id: row.try_get("token_key_id")?,
            value: row.try_get("token_sealed")?,
        },
        token_expires_at: row.try_get("token_expires_at")?,
        token_rejected: row.try_get::<i64, _>("token_rejected")? != 0,
        connected_at: row.try_get("connected_at")?,
    })
}

const COLUMNS: &str = "page_id, instagram_id, username, page_name, token_sealed, token_key_id,
    token_expires_at, token_rejected, connected_at";

pub async fn get(tx: &mut TenantTx) -> Result<Option<StoredLink>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instagram_links WHERE doctor_id = $1"
    ))
    .bind(doctor.as_str())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(read)
    .transpose()
}

/// Deletes the doctor's link (token and ids with it); the link it was, if any.
pub async fn remove(tx: &mut TenantTx) -> Result<Option<StoredLink>, sqlx::Error> {
    let link = get(tx).await?;
    let (conn, doctor) = tx.parts();
    sqlx::query("DELETE FROM instagram_links WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(conn)
        .await?;
    Ok(link)
}

/// The doctor whose linked Instagram account or Facebook Page has this id: how every delivery
/// from Meta finds its doctor. `None` for an id no doctor has linked.
pub async fn doctor_for(
    db: &Db,
    account_or_page_id: &str,
) -> Result<Option<DoctorId>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT doctor_id FROM instagram_links WHERE instagram_id = $1 OR page_id = $1",
    )
    .bind(account_or_page_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| row.try_get("doctor_id").map(DoctorId::from_row))
        .transpose()
}
