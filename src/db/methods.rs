//! A doctor's currency and appointment methods.

use sqlx::Row;

use super::{now_millis, TenantTx};
use crate::domain::methods::{AppointmentMethod, MethodSetting, MethodsAndFees};

/// What is stored; a method never saved is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredMethods {
    pub currency: Option<String>,
    pub methods: Vec<MethodSetting>,
}

impl StoredMethods {
    pub fn get(&self, method: AppointmentMethod) -> Option<&MethodSetting> {
        self.methods.iter().find(|m| m.method == method)
    }

    /// The methods the practice offers, in order.
    pub fn offered(&self) -> Vec<AppointmentMethod> {
        self.methods
            .iter()
            .filter(|m| m.offered)
            .map(|m| m.method)
            .collect()
    }
}

pub async fn load(tx: &mut TenantTx) -> Result<StoredMethods, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let currency = sqlx::query("SELECT currency FROM fee_settings WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get("currency"))
        .transpose()?;
    let rows = sqlx::query(
        "SELECT method, offered, fee_minor, instructions FROM method_settings WHERE doctor_id = $1",
    )
    .bind(doctor.as_str())
    .fetch_all(conn)
    .await?;
    let mut methods = Vec::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get("method")?;
        // The CHECK constraint keeps unknown keys out; skip rather than fail if one appears.
        let Some(method) = AppointmentMethod::from_key(&key) else {
            continue;
        };
        methods.push(MethodSetting {
            method,
            offered: row.try_get::<i64, _>("offered")? != 0,
            fee_minor: row.try_get("fee_minor")?,
            instructions: row.try_get("instructions")?,
        });
    }
    methods.sort_by_key(|m| m.method);
    Ok(StoredMethods { currency, methods })
}

/// Saves currency and methods; returns the names of the fields whose value changed.
pub async fn save(tx: &mut TenantTx, new: &MethodsAndFees) -> Result<Vec<String>, sqlx::Error> {
    let old = load(tx).await?;
    let mut changed = Vec::new();
    if old.currency.as_deref() != Some(new.currency.code) {
        changed.push("currency".to_owned());
    }
    for setting in &new.methods {
        let before = old.get(setting.method);
        let key = setting.method.key();
        if before.map(|b| b.offered) != Some(setting.offered) {
            changed.push(format!("{key}_offered"));
        }
        if before.map(|b| b.fee_minor) != Some(setting.fee_minor) {
            changed.push(format!("{key}_fee"));
        }
        if before.map(|b| &b.instructions) != Some(&setting.instructions) {
            changed.push(format!("{key}_instructions"));
        }
    }

    let now = now_millis();
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO fee_settings (doctor_id, currency, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (doctor_id) DO UPDATE SET
             currency = excluded.currency, updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(new.currency.code)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for setting in &new.methods {
        sqlx::query(
            "INSERT INTO method_settings
                 (doctor_id, method, offered, fee_minor, instructions, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (doctor_id, method) DO UPDATE SET
                 offered = excluded.offered, fee_minor = excluded.fee_minor,
                 instructions = excluded.instructions, updated_at = excluded.updated_at",
        )
        .bind(doctor.as_str())
        .bind(setting.method.key())
        .bind(i64::from(setting.offered))
        .bind(setting.fee_minor)
        .bind(setting.instructions.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(changed)
}
