//! Passwords after sign-up. "Forgot password?": a single-use link, valid for an hour, mailed
//! to the account's address. Asking answers the same whether or not the address has an
//! account, in the same time (the lookup and the mail happen after the answer); using the
//! link sets the new password and ends every session of the account. Changing the password
//! when signed in needs the current one, ends the other sessions, and mails the address.

use super::{links, password, session, NewSession};
use crate::context::{AppState, SignedIn};
use crate::db::{self, account_links::Purpose};
use crate::domain::account::{Email, NewPassword};
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::mail::Mail;

/// How long a link works.
const LINK_MINUTES: i64 = 60;

/// Asks for a link for `email`: mailed in the background if the address has an account.
pub fn ask(state: &AppState, email: &str) -> Result<(), AppError> {
    let email =
        Email::parse(email).map_err(|why| AppError::Invalid(FieldErrors::single("email", why)))?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = mail_link(&state, &email).await {
            tracing::warn!(%error, "password reset link not sent");
        }
    });
    Ok(())
}

async fn mail_link(state: &AppState, email: &Email) -> Result<(), AppError> {
    let Some(found) = db::doctors::credentials(&state.db, email).await? else {
        tracing::info!("password reset asked for an address with no account");
        return Ok(());
    };
    let doctor = found.doctor_id;
    let path = "/reset-password";
    let Some(link) = links::issue(state, &doctor, Purpose::Reset, path, LINK_MINUTES).await? else {
        return Ok(());
    };
    let mail = Mail {
        to: email.as_str().to_owned(),
        subject: "Choose a new Clariva password".into(),
        body: format!(
            "Someone, hopefully you, asked to reset the password of your Clariva Care \
             account.\n\nChoose a new password here (the link works once, for one \
             hour):\n{link}\n\nIf it was not you, ignore this mail: your password stays as it \
             is.\n"
        ),
    };
    state.mailer.send(&mail).await?;
    tracing::info!(doctor_id = %doctor, "password reset link sent");
    Ok(())
}

/// Sets `password` for the account whose link carries `token`, ends all its sessions and
/// starts a new one here.
pub async fn reset(state: &AppState, token: &str, password: &str) -> Result<NewSession, AppError> {
    let password = NewPassword::parse(password)
        .map_err(|why| AppError::Invalid(FieldErrors::single("password", why)))?;
    let gone = || {
        AppError::Conflict(
            "This link has expired or was used already. Ask for a new one below.".into(),
        )
    };
    let doctor = links::holder(state, Purpose::Reset, token)
        .await?
        .ok_or_else(gone)?;
    let hash = password::hash(password).await?;
    let mut tx = state.db.tenant_writer(&doctor).await?;
    if !links::use_up(&mut tx, Purpose::Reset, token).await? {
        return Err(gone());
    }
    db::doctors::set_password(&mut tx, &hash).await?;
    let ended = db::sessions::delete_all(&mut tx).await?;
    let fields = [format!("sessions:{ended}")];
    let request_id = crate::context::request_id();
    db::audit::record(&mut tx, "password.reset", &fields, request_id.as_deref()).await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, ended, "password reset");
    session::start(state, &doctor).await
}

/// Sets `password` for the signed-in doctor once `current` is theirs; ends their other
/// sessions, and tells their address (in the background).
pub async fn change(
    state: &AppState,
    signed_in: &SignedIn,
    current: String,
    password: &str,
) -> Result<(), AppError> {
    let new = NewPassword::parse(password)
        .map_err(|why| AppError::Invalid(FieldErrors::single("password", why)))?;
    let doctor = &signed_in.doctor;
    let mut tx = state.db.tenant(doctor).await?;
    let account = db::doctors::account(&mut tx).await?;
    tx.commit().await?;
    let account = account.ok_or(AppError::Unauthorized)?;
    if !password::verify(current, Some(account.password_hash)).await? {
        return Err(AppError::Invalid(FieldErrors::single(
            "current",
            "That is not your current password.",
        )));
    }
    let hash = password::hash(new).await?;
    let mut tx = state.db.tenant_writer(doctor).await?;
    db::doctors::set_password(&mut tx, &hash).await?;
    let ended = db::sessions::delete_others(&mut tx, &signed_in.token_hash).await?;
    let fields = [format!("sessions:{ended}")];
    let request_id = crate::context::request_id();
    db::audit::record(&mut tx, "password.changed", &fields, request_id.as_deref()).await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, ended, "password changed");
    let mail = Mail {
        to: account.email,
        subject: "Your Clariva password was changed".into(),
        body: format!(
            "The password of your Clariva Care account was just changed, and every other \
             device was logged out.\n\nIf that was not you, choose a new password now:\n{}/forgot-password\n",
            state.config.public_base_url
        ),
    };
    let state = state.clone();
    let doctor = doctor.clone();
    tokio::spawn(async move {
        if let Err(error) = state.mailer.send(&mail).await {
            tracing::warn!(doctor_id = %doctor, %error, "password change not mailed");
        }
    });
    Ok(())
}
