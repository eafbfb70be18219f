//! `/meta/webhook`, the address Meta delivers Instagram messages to. `GET` answers Meta's
//! subscription check; `POST` checks the delivery's signature over its raw bytes, stores it
//! sealed, and answers 200 once it is committed. Nothing else happens in the request: the
//! worker ([`super::worker`]) reads, routes and applies deliveries afterwards, so an ack never
//! waits for routing, the assistant or Meta.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use crate::context::AppState;
use crate::db::deliveries::NewDelivery;
use crate::meta::webhook_signature;

/// Deliveries refused for their signature since the process started (in each warning).
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Meta's subscription check: `hub.mode=subscribe` with our verify token gets the challenge
/// back as plain text; anything else 403.
pub async fn verify_subscription(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(meta) = &state.config.meta else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let challenge = param("hub.challenge");
    let token_matches = crate::crypto::same_secret(
        param("hub.verify_token").as_bytes(),
        meta.verify_token.expose_secret().as_bytes(),
    );
    let challenge_plain = !challenge.is_empty()
        && challenge.len() <= 128
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if param("hub.mode") == "subscribe" && token_matches && challenge_plain {
        tracing::info!("webhook subscription verified");
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            challenge.to_owned(),
        )
            .into_response()
    } else {
        tracing::warn!("webhook subscription check refused");
        StatusCode::FORBIDDEN.into_response()
    }
}

/// A delivery: refused unless Meta signed these exact bytes; else stored, then 200.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(meta) = &state.config.meta else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .map(|value| value.as_bytes());
    if let Err(rejected) = webhook_signature::verify(signature, &body, &meta.app_secret) {
        let refused = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            reason = rejected.reason(),
            refused,
            bytes = body.len(),
            "webhook delivery refused: bad signature"
        );
        let status = match rejected {
            webhook_signature::Rejected::Missing => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        return status.into_response();
    }
    let id = crate::db::new_id();
    let sealed = state.config.token_keys.seal_bytes(&id, &body);
    match state
        .deliveries
        .store(NewDelivery {
            id: id.clone(),
            body: sealed,
        })
        .await
    {
        Ok(()) => {
            tracing::debug!(delivery_id = %id, bytes = body.len(), "webhook delivery stored");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Err(error) => {
            tracing::error!(delivery_id = %id, %error, "webhook delivery not stored");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "5")],
            )
                .into_response()
        }
    }
}
