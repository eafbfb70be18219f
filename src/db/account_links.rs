//! Links mailed to a doctor: the token of each, kept only as its SHA-256, for one purpose,
//! valid until `expires_at`, usable once.

use sqlx::Row;

use super::{Db, DoctorId, Lookup, TenantTx};

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password.
    Reset,
    /// Confirm the account's email address.
    Verify,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Verify => "verify",
        }
    }
}

/// A new link of the transaction's doctor.
pub struct NewLink<'a> {
    pub purpose: Purpose,
    pub token_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Keeps `link`, unless the doctor was sent `most` links of its purpose since `since`;
/// whether it was kept. The doctor's row is locked first, so requests racing for one account
/// are counted one after another.
pub async fn insert_within(
    tx: &mut TenantTx,
    link: &NewLink<'_>,
    (since, most): (i64, i64),
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE doctors SET id = id WHERE id = $1")
        .bind(doctor.as_str())
        .execute(&mut *conn)
        .await?;
    let sent: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM account_links
         WHERE doctor_id = $1 AND purpose = $2 AND created_at >= $3",
    )
    .bind(doctor.as_str())
    .bind(link.purpose.key())
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    if sent >= most {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO account_links (token_hash, doctor_id, purpose, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(link.token_hash)
    .bind(doctor.as_str())
    .bind(link.purpose.key())
    .bind(link.now)
    .bind(link.expires_at)
    .execute(conn)
    .await?;
    Ok(true)
}

/// The doctor whose `purpose` link hashes to `token_hash`, if it is unused and not expired at
/// `now`.
pub async fn doctor(
    db: &Db,
    purpose: Purpose,
    token_hash: &str,
    now: i64,
) -> Result<Option<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::AccountLink, token_hash).await?;
    let row = sqlx::query(
        "SELECT doctor_id FROM account_links
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.key())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(|row| Ok(DoctorId::from_row(row.try_get("doctor_id")?)))
        .transpose()
}

/// Uses the transaction's doctor's link up, and every other of its purpose with it (a
/// password just set, or an address just confirmed, makes older links worthless); whether
/// this one was still usable.
pub async fn use_up(
    tx: &mut TenantTx,
    purpose: Purpose,
    token_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let used = sqlx::query(
        "UPDATE account_links SET used_at = $4
         WHERE doctor_id = $1 AND purpose = $2 AND token_hash = $3 AND used_at IS NULL
           AND expires_at > $4",
    )
    .bind(doctor.as_str())
    .bind(purpose.key())
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE account_links SET used_at = $3
         WHERE doctor_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(doctor.as_str())
    .bind(purpose.key())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(used == 1)
}
