//! Each doctor's link to their Instagram account, and the only way from an Instagram account
//! or Facebook Page id to a doctor: [`doctor_for`]. There is no default doctor.

use sqlx::Row;

use super::{now_millis, Db, DoctorId, Lookup, TenantTx};
use crate::crypto::seal::Sealed;

/// What connecting, disconnecting or replacing a link changes, as the audit log names it.
pub const AUDITED_FIELDS: [&str; 5] = ["page_id", "instagram_id", "username", "page_name", "token"];

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
    /// The Facebook user who connected it, as Meta's app callbacks name them.
    pub meta_user_id: Option<String>,
    /// The permissions the last check found the token was not granted (empty when none were,
    /// or it was not checked since it was connected).
    pub missing_scopes: Vec<String>,
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
    pub meta_user_id: &'a str,
}

/// Links the doctor to an account, replacing any link they had (and what was checked of it:
/// the new token is checked afresh). An account or Page already linked to another doctor makes
/// the database refuse it: see [`super::is_unique_violation`].
pub async fn save(tx: &mut TenantTx, link: &NewLink<'_>) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO instagram_links (doctor_id, page_id, instagram_id, username, page_name,
             token_sealed, token_key_id, token_expires_at, token_rejected, connected_at,
             updated_at, meta_user_id, token_checked_at, missing_scopes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9, $10, NULL, NULL)
         ON CONFLICT (doctor_id) DO UPDATE SET
             page_id = excluded.page_id, instagram_id = excluded.instagram_id,
             username = excluded.username, page_name = excluded.page_name,
             token_sealed = excluded.token_sealed, token_key_id = excluded.token_key_id,
             token_expires_at = excluded.token_expires_at, token_rejected = 0,
             connected_at = excluded.connected_at, updated_at = excluded.updated_at,
             meta_user_id = excluded.meta_user_id, token_checked_at = NULL,
             missing_scopes = NULL",
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
    .bind(link.meta_user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM disconnected_accounts WHERE account_id IN ($1, $2)")
        .bind(link.page_id)
        .bind(link.instagram_id)
        .execute(conn)
        .await
        .map(drop)
}

/// The sealed token of a link's or a choice's row.
fn sealed(row: &sqlx::any::AnyRow) -> Result<Sealed, sqlx::Error> {
    Ok(Sealed {
        key_id: row.try_get("token_key_id")?,
        value: row.try_get("token_sealed")?,
    })
}

/// The doctors of rows that have a `doctor_id`.
fn read(row: &sqlx::any::AnyRow) -> Result<StoredLink, sqlx::Error> {
    Ok(StoredLink {
        page_id: row.try_get("page_id")?,
        instagram_id: row.try_get("instagram_id")?,
        username: row.try_get("username")?,
        page_name: row.try_get("page_name")?,
        token: sealed(row)?,
        token_expires_at: row.try_get("token_expires_at")?,
        token_rejected: row.try_get::<i64, _>("token_rejected")? != 0,
        connected_at: row.try_get("connected_at")?,
        meta_user_id: row.try_get("meta_user_id")?,
        missing_scopes: row
            .try_get::<Option<String>, _>("missing_scopes")?
            .map(|list| {
                list.split(',')
                    .filter(|scope| !scope.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

const COLUMNS: &str = "page_id, instagram_id, username, page_name, token_sealed, token_key_id,
    token_expires_at, token_rejected, connected_at, meta_user_id, missing_scopes";

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

/// Deletes the doctor's link (token with it) and remembers its account and Page ids as
/// disconnected; the link it was, if any.
pub async fn remove(tx: &mut TenantTx) -> Result<Option<StoredLink>, sqlx::Error> {
    let link = get(tx).await?;
    let (conn, doctor) = tx.parts();
    sqlx::query("DELETE FROM instagram_links WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(&mut *conn)
        .await?;
    for id in link
        .iter()
        .flat_map(|link| [&link.instagram_id, &link.page_id])
    {
        sqlx::query(
            "INSERT INTO disconnected_accounts (account_id, disconnected_at) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET disconnected_at = excluded.disconnected_at",
        )
        .bind(id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    }
    Ok(link)
}

/// Whether a doctor disconnected the account or Page with this id (and nobody linked it
/// again since).
pub async fn was_disconnected(db: &Db, account_or_page_id: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS found FROM disconnected_accounts WHERE account_id = $1")
        .bind(account_or_page_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.is_some())
}

/// The doctor whose linked Instagram account or Facebook Page has this id: how every delivery
/// from Meta finds its doctor. `None` for an id no doctor has linked.
pub async fn doctor_for(
    db: &Db,
    account_or_page_id: &str,
) -> Result<Option<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::MetaAccount, account_or_page_id).await?;
    let row = sqlx::query(
        "SELECT doctor_id FROM instagram_links WHERE instagram_id = $1 OR page_id = $1",
    )
    .bind(account_or_page_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(|row| row.try_get("doctor_id").map(DoctorId::from_row))
        .transpose()
}

/// Records what Meta said of the doctor's token when it was last checked (when it stops
/// working, whether it was refused, which permissions it lacks), if the link still holds that
/// token.
pub async fn record_check(
    tx: &mut TenantTx,
    checked: &Sealed,
    expires_at: Option<i64>,
    rejected: bool,
    missing_scopes: &[String],
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let missing = (!missing_scopes.is_empty()).then(|| missing_scopes.join(","));
    sqlx::query(
        "UPDATE instagram_links SET token_expires_at = $2, token_rejected = $3,
             token_checked_at = $4, missing_scopes = $6
         WHERE doctor_id = $1 AND token_sealed = $5",
    )
    .bind(doctor.as_str())
    .bind(expires_at)
    .bind(i64::from(rejected))
    .bind(now_millis())
    .bind(&checked.value)
    .bind(missing)
    .execute(conn)
    .await
    .map(drop)
}

/// Every doctor with a link whose token was not checked since `checked_before`: the daily
/// check's work list, across doctors (it then works in each doctor's own transaction).
pub async fn unchecked_since(db: &Db, checked_before: i64) -> Result<Vec<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::EveryLink, "on").await?;
    let rows = sqlx::query(
        "SELECT doctor_id FROM instagram_links
         WHERE token_checked_at IS NULL OR token_checked_at < $1 ORDER BY doctor_id",
    )
    .bind(checked_before)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    super::doctor_ids(&rows)
}

/// Every doctor with a link whose token is sealed with another key than `key_id`.
pub async fn sealed_with_other_keys(db: &Db, key_id: &str) -> Result<Vec<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::EveryLink, "on").await?;
    let rows = sqlx::query(
        "SELECT doctor_id FROM instagram_links WHERE token_key_id <> $1 ORDER BY doctor_id",
    )
    .bind(key_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    super::doctor_ids(&rows)
}

/// Puts `new` in place of the doctor's sealed token if it is still `old` (the doctor may
/// have reconnected meanwhile); whether it was replaced.
pub async fn replace_token(
    tx: &mut TenantTx,
    old: &Sealed,
    new: &Sealed,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query(
        "UPDATE instagram_links SET token_sealed = $3, token_key_id = $4
         WHERE doctor_id = $1 AND token_sealed = $2",
    )
    .bind(doctor.as_str())
    .bind(&old.value)
    .bind(&new.value)
    .bind(&new.key_id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The doctors whose links were made by this Facebook user (Meta's callbacks name the user).
pub async fn doctors_of_meta_user(
    db: &Db,
    meta_user_id: &str,
) -> Result<Vec<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::MetaUser, meta_user_id).await?;
    let rows = sqlx::query("SELECT doctor_id FROM instagram_links WHERE meta_user_id = $1")
        .bind(meta_user_id)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    super::doctor_ids(&rows)
}

/// An account offered to the doctor to pick, when they manage several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub page_id: String,
    pub instagram_id: String,
    pub username: String,
    pub page_name: String,
    pub meta_user_id: String,
    pub token: Sealed,
}

/// How long the accounts stay offered: as long as a login dialog's state.
const CHOICES_LAST_MS: i64 = 10 * 60 * 1000;

/// Offers these accounts to the doctor, in place of any offered before.
pub async fn offer_choices(tx: &mut TenantTx, choices: &[Choice]) -> Result<(), sqlx::Error> {
    clear_choices(tx).await?;
    let expires_at = now_millis() + CHOICES_LAST_MS;
    for choice in choices {
        let (conn, doctor) = tx.parts();
        sqlx::query(
            "INSERT INTO instagram_choices (doctor_id, page_id, instagram_id, username,
                 page_name, meta_user_id, token_sealed, token_key_id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(doctor.as_str())
        .bind(&choice.page_id)
        .bind(&choice.instagram_id)
        .bind(&choice.username)
        .bind(&choice.page_name)
        .bind(&choice.meta_user_id)
        .bind(&choice.token.value)
        .bind(&choice.token.key_id)
        .bind(expires_at)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// The accounts on offer that have not expired, by Page name.
pub async fn choices(tx: &mut TenantTx) -> Result<Vec<Choice>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "SELECT page_id, instagram_id, username, page_name, meta_user_id, token_sealed,
             token_key_id
         FROM instagram_choices WHERE doctor_id = $1 AND expires_at > $2
         ORDER BY page_name, page_id",
    )
    .bind(doctor.as_str())
    .bind(now_millis())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Choice {
            page_id: row.try_get("page_id")?,
            instagram_id: row.try_get("instagram_id")?,
            username: row.try_get("username")?,
            page_name: row.try_get("page_name")?,
            meta_user_id: row.try_get("meta_user_id")?,
            token: sealed(row)?,
        })
    })
    .collect()
}

/// Withdraws every account on offer that this Facebook user's login found, for any doctor.
pub async fn withdraw_choices_of_meta_user(db: &Db, meta_user_id: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.lookup(Lookup::MetaUser, meta_user_id).await?;
    sqlx::query("DELETE FROM instagram_choices WHERE meta_user_id = $1")
        .bind(meta_user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Deletes every doctor's offered accounts whose offer lapsed by `now`, sealed Page tokens
/// and all; how many.
pub async fn delete_lapsed_choices(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.lookup(Lookup::LapsedOffers, "on").await?;
    let deleted = sqlx::query("DELETE FROM instagram_choices WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}

pub async fn clear_choices(tx: &mut TenantTx) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("DELETE FROM instagram_choices WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(conn)
        .await
        .map(drop)
}
