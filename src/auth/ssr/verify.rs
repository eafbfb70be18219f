//! Confirming the account's email address: a link mailed at sign-up (and again on request),
//! valid for three days. Until it is used the dashboard shows a banner; nothing is blocked for
//! it yet.

use axum::extract::{Query, State};
use axum::response::Redirect;
use serde::Deserialize;

use super::links;
use crate::context::AppState;
use crate::db::{self, account_links::Purpose, now_millis, DoctorId};
use crate::error::AppError;
use crate::mail::Mail;

const LINK_MINUTES: i64 = 3 * 24 * 60;

/// Mails `doctor` a link to confirm `email`, in the background.
pub fn send(state: &AppState, doctor: &DoctorId, email: String) {
    let state = state.clone();
    let doctor = doctor.clone();
    tokio::spawn(async move {
        if let Err(error) = mail_link(&state, &doctor, email).await {
            tracing::warn!(doctor_id = %doctor, %error, "email confirmation link not sent");
        }
    });
}

async fn mail_link(state: &AppState, doctor: &DoctorId, email: String) -> Result<(), AppError> {
    let path = "/verify-email";
    let Some(link) = links::issue(state, doctor, Purpose::Verify, path, LINK_MINUTES).await? else {
        return Ok(());
    };
    let mail = Mail {
        to: email,
        subject: "Confirm your Clariva email address".into(),
        body: format!(
            "Welcome to Clariva Care.\n\nPlease confirm that this is your address, so that you \
             can recover your account if you forget your password:\n{link}\n\nThe link works \
             for three days. If you did not sign up, ignore this mail.\n"
        ),
    };
    state.mailer.send(&mail).await?;
    tracing::info!(doctor_id = %doctor, "email confirmation link sent");
    Ok(())
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// `GET /verify-email?token=…`: confirms the address, then shows the Account page saying how
/// it went (a used, expired or made-up link says so there).
pub async fn open_link(State(state): State<AppState>, Query(query): Query<LinkQuery>) -> Redirect {
    let outcome = match confirm(&state, &query.token).await {
        Ok(true) => "confirmed",
        Ok(false) => "expired",
        Err(error) => {
            tracing::warn!(%error, "email confirmation failed");
            "failed"
        }
    };
    Redirect::to(&format!("/dashboard/account?email={outcome}"))
}

async fn confirm(state: &AppState, token: &str) -> Result<bool, AppError> {
    let Some(doctor) = links::holder(state, Purpose::Verify, token).await? else {
        return Ok(false);
    };
    let mut tx = state.db.tenant_writer(&doctor).await?;
    if !links::use_up(&mut tx, Purpose::Verify, token).await? {
        return Ok(false);
    }
    db::doctors::set_email_confirmed(&mut tx, now_millis()).await?;
    db::audit::record(&mut tx, "email.confirmed", &[], None).await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, "email address confirmed");
    Ok(true)
}

/// Mails the signed-in doctor a new link, unless their address is confirmed already.
pub async fn resend(state: &AppState, doctor: &DoctorId) -> Result<(), AppError> {
    let mut tx = state.db.tenant(doctor).await?;
    let account = db::doctors::account(&mut tx).await?;
    tx.commit().await?;
    let account = account.ok_or(AppError::Unauthorized)?;
    if account.email_confirmed {
        return Err(AppError::Conflict(
            "Your address is confirmed already.".into(),
        ));
    }
    send(state, doctor, account.email);
    Ok(())
}
