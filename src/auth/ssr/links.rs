//! Links mailed to a doctor (a password reset, an email confirmation): 32 random bytes in the
//! URL, their SHA-256 in `account_links`, at most three of a purpose an hour per account (a
//! mailbox is not to be flooded).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::context::AppState;
use crate::crypto::sha256_hex;
use crate::db::account_links::{self, NewLink, Purpose};
use crate::db::{now_millis, DoctorId};
use crate::error::AppError;

const AN_HOUR_MS: i64 = 60 * 60_000;
const LINKS_AN_HOUR: i64 = 3;

/// A new `purpose` link for `doctor` to `path` on the app, valid for `minutes`; `None` when the
/// hour's links are used up.
pub async fn issue(
    state: &AppState,
    doctor: &DoctorId,
    purpose: Purpose,
    path: &str,
    minutes: i64,
) -> Result<Option<String>, AppError> {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let now = now_millis();
    let link = NewLink {
        purpose,
        token_hash: &sha256_hex(&token),
        now,
        expires_at: now + minutes * 60_000,
    };
    let mut tx = state.db.tenant_writer(doctor).await?;
    let kept =
        account_links::insert_within(&mut tx, &link, (now - AN_HOUR_MS, LINKS_AN_HOUR)).await?;
    tx.commit().await?;
    if !kept {
        tracing::warn!(doctor_id = %doctor, ?purpose, "mailed links: hourly limit reached");
        return Ok(None);
    }
    let base = &state.config.public_base_url;
    Ok(Some(format!("{base}{path}?token={token}")))
}

/// The doctor of the usable `purpose` link with `token`, if there is one.
pub async fn holder(
    state: &AppState,
    purpose: Purpose,
    token: &str,
) -> Result<Option<DoctorId>, AppError> {
    let hash = sha256_hex(token.trim());
    Ok(account_links::doctor(&state.db, purpose, &hash, now_millis()).await?)
}

/// Uses the link with `token` up in the doctor's transaction; whether it was still usable.
pub async fn use_up(
    tx: &mut crate::db::TenantTx,
    purpose: Purpose,
    token: &str,
) -> Result<bool, AppError> {
    let hash = sha256_hex(token.trim());
    Ok(account_links::use_up(tx, purpose, &hash, now_millis()).await?)
}
