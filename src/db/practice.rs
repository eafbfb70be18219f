//! A doctor's practice profile.

use sqlx::Row;

use super::{now_millis, TenantTx};
use crate::domain::profile::Profile;

/// The profile as stored; fields the doctor has not filled are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredProfile {
    pub full_name: String,
    pub email: String,
    pub practice_name: Option<String>,
    pub phone: Option<String>,
    pub phone_country: Option<String>,
    pub address: Option<String>,
    pub public_note: Option<String>,
}

pub async fn profile(tx: &mut TenantTx) -> Result<Option<StoredProfile>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT d.full_name, d.email, p.practice_name, p.phone, p.phone_country, p.address,
                p.public_note
         FROM doctors d LEFT JOIN practice_profiles p ON p.doctor_id = d.id
         WHERE d.id = $1",
    )
    .bind(doctor.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(StoredProfile {
            full_name: row.try_get("full_name")?,
            email: row.try_get("email")?,
            practice_name: row.try_get("practice_name")?,
            phone: row.try_get("phone")?,
            phone_country: row.try_get("phone_country")?,
            address: row.try_get("address")?,
            public_note: row.try_get("public_note")?,
        })
    })
    .transpose()
}

/// The doctor's name and which setup steps are done, as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeSummary {
    pub full_name: String,
    pub has_profile: bool,
    /// A time zone and at least one open range.
    pub has_hours: bool,
    pub offers_a_method: bool,
    /// At least one live service.
    pub has_services: bool,
}

/// One query, run on every dashboard page: existence checks only, nothing loaded.
pub async fn summary(tx: &mut TenantTx) -> Result<Option<PracticeSummary>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT d.full_name,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM practice_profiles WHERE doctor_id = d.id)
                  THEN 1 ELSE 0 END AS BIGINT) AS has_profile,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM availability_settings WHERE doctor_id = d.id)
                       AND EXISTS (SELECT 1 FROM weekly_hours WHERE doctor_id = d.id)
                  THEN 1 ELSE 0 END AS BIGINT) AS has_hours,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM method_settings
                                    WHERE doctor_id = d.id AND offered = 1)
                  THEN 1 ELSE 0 END AS BIGINT) AS offers_a_method,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM services
                                    WHERE doctor_id = d.id AND archived_at IS NULL)
                  THEN 1 ELSE 0 END AS BIGINT) AS has_services
         FROM doctors d WHERE d.id = $1",
    )
    .bind(doctor.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let flag = |column: &str| row.try_get::<i64, _>(column).map(|v| v != 0);
        Ok(PracticeSummary {
            full_name: row.try_get("full_name")?,
            has_profile: flag("has_profile")?,
            has_hours: flag("has_hours")?,
            offers_a_method: flag("offers_a_method")?,
            has_services: flag("has_services")?,
        })
    })
    .transpose()
}

/// Saves the profile; returns the names of the fields whose value changed.
pub async fn save(tx: &mut TenantTx, new: &Profile) -> Result<Vec<String>, sqlx::Error> {
    let old = profile(tx).await?.unwrap_or_default();
    let changed: Vec<String> = [
        (
            "full_name",
            old.full_name.as_str() != new.full_name.as_str(),
        ),
        (
            "practice_name",
            old.practice_name.as_deref() != Some(new.practice_name.as_str()),
        ),
        (
            "phone",
            old.phone.as_deref() != new.phone.as_ref().map(|p| p.as_str()),
        ),
        ("phone_country", old.phone_country != new.phone_country),
        ("address", old.address != new.address),
        ("public_note", old.public_note != new.public_note),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect();

    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE doctors SET full_name = $2 WHERE id = $1")
        .bind(doctor.as_str())
        .bind(new.full_name.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO practice_profiles
             (doctor_id, practice_name, phone, phone_country, address, public_note, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (doctor_id) DO UPDATE SET
             practice_name = excluded.practice_name, phone = excluded.phone,
             phone_country = excluded.phone_country, address = excluded.address,
             public_note = excluded.public_note, updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(&new.practice_name)
    .bind(new.phone.as_ref().map(|p| p.as_str().to_owned()))
    .bind(new.phone_country.clone())
    .bind(new.address.clone())
    .bind(new.public_note.clone())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(changed)
}
