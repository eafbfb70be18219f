//! Re-sealing every stored Instagram token, and every doctor's payment provider keys, under
//! the current key, for key rotation: list a new key first in `TOKEN_KEYS`, run
//! `clariva reseal-tokens` (`make reseal-tokens`), then remove the old key.
//! docs/meta-setup.md says when.

use crate::crypto::seal::TokenKeys;
use crate::db::{self, Db, DoctorId};

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Tokens now sealed with the current key.
    pub resealed: usize,
    /// Tokens that do not open with any listed key (their doctors must reconnect).
    pub unopenable: usize,
}

/// Re-seals every link's token and every payment account's keys that another key sealed,
/// each in its doctor's own transaction. Offered accounts (kept for ten minutes) are left to
/// lapse.
pub async fn reseal_all(db: &Db, keys: &TokenKeys) -> Result<Resealed, sqlx::Error> {
    let mut done = Resealed::default();
    let mut count = |outcome: Option<bool>| match outcome {
        Some(true) => done.resealed += 1,
        Some(false) => done.unopenable += 1,
        None => {}
    };
    for doctor in db::instagram::sealed_with_other_keys(db, keys.current()).await? {
        count(reseal(db, keys, &doctor).await?);
    }
    for doctor in db::payments::sealed_with_other_keys(db, keys.current()).await? {
        count(reseal_payment_keys(db, keys, &doctor).await?);
    }
    Ok(done)
}

/// Whether the doctor's payment keys were re-sealed (`None`: no account any more, or it
/// changed).
async fn reseal_payment_keys(
    db: &Db,
    keys: &TokenKeys,
    doctor: &DoctorId,
) -> Result<Option<bool>, sqlx::Error> {
    let mut tx = db.tenant_writer(doctor).await?;
    let Some(account) = db::payments::account(&mut tx).await? else {
        return Ok(None);
    };
    let opened = match keys.open(doctor.as_str(), &account.keys) {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(doctor_id = %doctor, %error, "payment keys do not open");
            return Ok(Some(false));
        }
    };
    let new = keys.seal(doctor.as_str(), &opened);
    let replaced = db::payments::replace_keys(&mut tx, &account.keys, &new).await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, key_id = keys.current(), "payment keys re-sealed");
    Ok(replaced.then_some(true))
}

/// Whether the doctor's token was re-sealed (`None`: no link any more, or it changed).
async fn reseal(db: &Db, keys: &TokenKeys, doctor: &DoctorId) -> Result<Option<bool>, sqlx::Error> {
    let mut tx = db.tenant_writer(doctor).await?;
    let Some(link) = db::instagram::get(&mut tx).await? else {
        return Ok(None);
    };
    let token = match keys.open(doctor.as_str(), &link.token) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(doctor_id = %doctor, %error, "an Instagram token does not open");
            return Ok(Some(false));
        }
    };
    let replaced =
        db::instagram::replace_token(&mut tx, &link.token, &keys.seal(doctor.as_str(), &token))
            .await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, key_id = keys.current(), "Instagram token re-sealed");
    Ok(replaced.then_some(true))
}
