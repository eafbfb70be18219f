//! Meta's app callbacks, called by Meta (not by a browser) with a `signed_request`:
//! deauthorization (a person removed the app) and data deletion (a person asks for their data
//! to be deleted). Both disconnect every link that person made; a request whose signature does
//! not verify with the app secret changes nothing. Data deletion answers with a confirmation
//! code and the address of a page saying what was done, as Meta requires.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::context::AppState;
use crate::db::{self, meta_connect};
use crate::error::AppError;
use crate::meta::signed_request::{self, SignedRequest};

#[derive(Deserialize)]
pub struct SignedForm {
    signed_request: String,
}

/// The request, if its signature verifies with the app secret (400 otherwise).
fn verified(state: &AppState, form: &SignedForm) -> Result<SignedRequest, AppError> {
    let meta = state
        .config
        .meta
        .as_ref()
        .ok_or(AppError::Instagram(super::Outcome::NotConfigured))?;
    let now = db::now_millis() / 1000;
    signed_request::verify(&form.signed_request, &meta.app_secret, now).map_err(|rejected| {
        tracing::warn!(%rejected, "Meta app callback refused");
        AppError::Request("invalid signed_request".into())
    })
}

/// Disconnects every link the person made, and withdraws the accounts their login offered;
/// how many links were removed.
async fn forget(state: &AppState, meta_user_id: &str, action: &str) -> Result<i64, AppError> {
    db::instagram::withdraw_choices_of_meta_user(&state.db, meta_user_id).await?;
    let fields = db::instagram::AUDITED_FIELDS.map(String::from);
    let mut removed = 0;
    for doctor in db::instagram::doctors_of_meta_user(&state.db, meta_user_id).await? {
        let mut tx = state.db.tenant_writer(&doctor).await?;
        // The doctor may have disconnected since the lookup.
        let link = db::instagram::remove(&mut tx).await?;
        if link.is_some() {
            db::audit::record(&mut tx, action, &fields, None).await?;
        }
        tx.commit().await?;
        if link.is_some() {
            removed += 1;
            tracing::info!(doctor_id = %doctor, action, "Instagram disconnected by Meta's callback");
        }
    }
    Ok(removed)
}

/// `POST /meta/deauthorize`.
pub async fn deauthorize(State(state): State<AppState>, Form(form): Form<SignedForm>) -> Response {
    let answer = async {
        let request = verified(&state, &form)?;
        forget(&state, &request.user_id, "instagram.deauthorized").await?;
        Ok::<_, AppError>(Json(json!({"success": true})))
    };
    match answer.await {
        Ok(json) => json.into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /meta/data-deletion`.
pub async fn data_deletion(
    State(state): State<AppState>,
    Form(form): Form<SignedForm>,
) -> Response {
    let answer = async {
        let request = verified(&state, &form)?;
        let removed = forget(&state, &request.user_id, "instagram.deleted_on_request").await?;
        let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        meta_connect::record_deletion(&state.db, &code, removed).await?;
        tracing::info!(links_removed = removed, "Meta data-deletion request done");
        Ok::<_, AppError>(Json(json!({
            "url": format!("{}/meta/deletion/{code}", state.config.public_base_url),
            "confirmation_code": code,
        })))
    };
    match answer.await {
        Ok(json) => json.into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /meta/deletion/{code}`: what became of a data-deletion request.
pub async fn deletion_status(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    match meta_connect::deletion(&state.db, &code).await {
        Ok(Some(request)) => {
            let day = super::connect::day(request.requested_at, &jiff::tz::TimeZone::UTC);
            let removed = match request.links_removed {
                0 => "No Instagram connection was linked to your Facebook account.".to_owned(),
                1 => "The Instagram connection made with your Facebook account was removed, with its access token.".to_owned(),
                n => format!("The {n} Instagram connections made with your Facebook account were removed, with their access tokens."),
            };
            // Found, so `code` is one of ours: base64url, nothing to escape.
            Html(page(&format!(
                "<p>Request <code>{code}</code>, received on {day}, is complete.</p><p>{removed}</p>"
            )))
            .into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(page(
                "<p>There is no data-deletion request with this confirmation code.</p>",
            )),
        )
            .into_response(),
        Err(error) => AppError::from(error).into_response(),
    }
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Data deletion – Clariva Care</title></head>\
         <body><main><h1>Data deletion request</h1>{body}</main></body></html>"
    )
}
