//! Doctor accounts.

use sqlx::Row;

use super::{new_id, now_millis, Db, DoctorId, Lookup, TenantTx};
use crate::domain::account::{Email, FullName};

/// What log-in needs to check a password.
pub struct Credentials {
    pub doctor_id: DoctorId,
    pub password_hash: String,
}

/// Creates an account; `None` when the email already has one (the unique index decides,
/// so two sign-ups racing for one email cannot both win).
pub async fn insert(
    db: &Db,
    full_name: &FullName,
    email: &Email,
    password_hash: &str,
) -> Result<Option<DoctorId>, sqlx::Error> {
    // The new doctor's own transaction: the only rows a sign-up may write are theirs.
    let id = DoctorId::from_row(new_id());
    let mut tx = db.tenant_writer(&id).await?;
    let (conn, _) = tx.parts();
    let row = sqlx::query(
        "INSERT INTO doctors (id, email, full_name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING
         RETURNING id",
    )
    .bind(id.as_str())
    .bind(email.as_str())
    .bind(full_name.as_str())
    .bind(password_hash)
    .bind(now_millis())
    .fetch_optional(conn)
    .await?;
    tx.commit().await?;
    Ok(row.map(|_| id))
}

pub async fn credentials(db: &Db, email: &Email) -> Result<Option<Credentials>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::LoginEmail, email.as_str()).await?;
    let row = sqlx::query("SELECT id, password_hash FROM doctors WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.map(|row| {
        Ok(Credentials {
            doctor_id: DoctorId::from_row(row.try_get("id")?),
            password_hash: row.try_get("password_hash")?,
        })
    })
    .transpose()
}

/// What the Account page and a password change read of the transaction's doctor.
pub struct Account {
    pub email: String,
    pub password_hash: String,
    pub email_confirmed: bool,
}

pub async fn account(tx: &mut TenantTx) -> Result<Option<Account>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row =
        sqlx::query("SELECT email, password_hash, email_verified_at FROM doctors WHERE id = $1")
            .bind(doctor.as_str())
            .fetch_optional(conn)
            .await?;
    row.map(|row| {
        Ok(Account {
            email: row.try_get("email")?,
            password_hash: row.try_get("password_hash")?,
            email_confirmed: row
                .try_get::<Option<i64>, _>("email_verified_at")?
                .is_some(),
        })
    })
    .transpose()
}

/// Marks the transaction's doctor's address confirmed (once: the first time stays).
pub async fn set_email_confirmed(tx: &mut TenantTx, now: i64) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE doctors SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1",
    )
    .bind(doctor.as_str())
    .bind(now)
    .execute(conn)
    .await
    .map(drop)
}

/// Replaces the transaction's doctor's password hash.
pub async fn set_password(tx: &mut TenantTx, password_hash: &str) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE doctors SET password_hash = $2 WHERE id = $1")
        .bind(doctor.as_str())
        .bind(password_hash)
        .execute(conn)
        .await
        .map(drop)
}
