//! Server side of accounts: the plain functions the server functions call (and tests can).

pub mod links;
pub mod password;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod verify;

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use leptos::prelude::use_context;

use crate::context::{AppState, SignedIn};
use crate::db;
use crate::domain::account::{Email, SignUp};
use crate::domain::FieldErrors;
use crate::error::AppError;
pub use session::NewSession;

/// The account routes that are not pages: the email confirmation link.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/verify-email", axum::routing::get(verify::open_link))
}

/// Creates the account and its first session, under the sign-up throttle of `client`.
pub async fn create_account(
    state: &AppState,
    form: SignUp,
    client: IpAddr,
) -> Result<NewSession, AppError> {
    let SignUp {
        full_name,
        email,
        password,
    } = form;
    let attempt = throttle::SignUpAttempt::charge(state, client).await?;
    let hash = password::hash(password).await?;
    let doctor = db::doctors::insert(&state.db, &full_name, &email, &hash)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(FieldErrors::single(
                "email",
                "An account with this email already exists. Log in instead.",
            ))
        })?;
    attempt.succeeded(state).await?;
    tracing::info!(doctor_id = %doctor, "account created");
    verify::send(state, &doctor, email.as_str().to_owned());
    session::start(state, &doctor).await
}

/// Checks the credentials under the throttle and starts a new session.
pub async fn log_in(
    state: &AppState,
    email_input: &str,
    password: String,
    client: IpAddr,
) -> Result<NewSession, AppError> {
    // A malformed email cannot have an account; it still gets the same answer and cost.
    let email = Email::parse(email_input).ok();
    let identifier = email.as_ref().map_or(email_input.trim(), Email::as_str);
    let mut attempt = throttle::Attempt::new(&state.config, identifier, client);
    attempt.charge(state).await?;
    let found = match &email {
        Some(email) => db::doctors::credentials(&state.db, email).await?,
        None => None,
    };
    let (doctor, stored) = match found {
        Some(found) => (Some(found.doctor_id), Some(found.password_hash)),
        None => (None, None),
    };
    let matches = password::verify(password, stored).await?;
    match doctor.filter(|_| matches) {
        Some(doctor) => {
            attempt.succeeded(state).await?;
            tracing::info!(doctor_id = %doctor, "logged in");
            session::start(state, &doctor).await
        }
        None => {
            tracing::info!("log-in failed");
            Err(attempt.failed(state))
        }
    }
}

/// Ends the current session, if any.
pub async fn log_out(state: &AppState, signed_in: Option<SignedIn>) -> Result<(), AppError> {
    if let Some(signed_in) = signed_in {
        db::sessions::delete(&state.db, &signed_in.token_hash).await?;
        tracing::info!(doctor_id = %signed_in.doctor, "logged out");
    }
    Ok(())
}

/// Ends the doctor's sessions on every other device (browser); how many ended. Audited.
pub async fn log_out_others(state: &AppState, signed_in: &SignedIn) -> Result<u64, AppError> {
    let mut tx = state.db.tenant_writer(&signed_in.doctor).await?;
    let ended = db::sessions::delete_others(&mut tx, &signed_in.token_hash).await?;
    let fields = [format!("sessions:{ended}")];
    let request_id = crate::context::request_id();
    db::audit::record(
        &mut tx,
        "sessions.ended_others",
        &fields,
        request_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %signed_in.doctor, ended, "logged out of other devices");
    Ok(ended)
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop behind a trusted proxy.
pub fn client_address(state: &AppState) -> Result<IpAddr, AppError> {
    let parts = use_context::<Parts>()
        .ok_or_else(|| AppError::internal("no request context", "Parts missing"))?;
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| {
            // The hop our proxy appended is the last one; earlier ones the client could forge.
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .ok_or_else(|| AppError::internal("no client address", "ConnectInfo missing"))
}
