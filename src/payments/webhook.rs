//! `/payments/stripe/<ref>` and `/payments/razorpay/<ref>`: where each doctor's provider
//! delivers their events. `<ref>` is the opaque path segment the doctor pasted into the
//! provider's dashboard; it names the doctor, and their webhook secret checks the signature
//! over the raw bytes. A verified event is kept (once: a retry of a kept event changes
//! nothing) and answered 200 at once; the payments job ([`super::jobs`]) applies it.
//!
//! Answers: 404 for a path that is no doctor's (or another provider's), 400 for a missing,
//! malformed, stale or wrong signature, for a doctor who has not saved the webhook's secret
//! yet, and for a body that is not the provider's event format (nothing changes), 200
//! otherwise, 503 when the event could not be kept (the provider retries).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{events, keys};
use crate::context::AppState;
use crate::db::payments::{self as store, ProviderEvent};
use crate::db::{now_millis, DoctorId};
use crate::domain::payments::Provider;
use crate::providers::signature;

pub async fn stripe(
    State(state): State<AppState>,
    Path(webhook_ref): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&state, Provider::Stripe, &webhook_ref, &headers, &body).await
}

pub async fn razorpay(
    State(state): State<AppState>,
    Path(webhook_ref): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&state, Provider::Razorpay, &webhook_ref, &headers, &body).await
}

async fn receive(
    state: &AppState,
    provider: Provider,
    webhook_ref: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let found = match store::account_by_webhook(&state.db, provider, webhook_ref).await {
        Ok(found) => found,
        Err(error) => return unavailable(provider, None, &error),
    };
    let Some((doctor, account)) = found else {
        tracing::warn!(
            provider = provider.key(),
            "payment webhook for no doctor's path"
        );
        return StatusCode::NOT_FOUND.into_response();
    };
    let opened = match keys::open(&state.config.token_keys, &doctor, &account.keys) {
        Ok(opened) => opened,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let Some(secret) = &opened.webhook_secret else {
        // Nothing to check the signature with until the doctor saves the webhook's secret.
        tracing::warn!(doctor_id = %doctor, provider = provider.key(), reason = "no webhook secret saved", "payment webhook refused");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let header = |name: &str| headers.get(name).map(|value| value.as_bytes());
    let event = match provider {
        Provider::Stripe => signature::stripe(
            header("stripe-signature"),
            body,
            secret,
            now_millis() / 1000,
        )
        .map_err(|r| r.reason())
        .and_then(|()| events::stripe(body).map_err(|_| "unreadable")),
        Provider::Razorpay => signature::razorpay(header("x-razorpay-signature"), body, secret)
            .map_err(|r| r.reason())
            .and_then(|()| {
                let id = header("x-razorpay-event-id")
                    .and_then(|id| std::str::from_utf8(id).ok())
                    .filter(|id| !id.is_empty() && id.len() <= 100)
                    .ok_or("no event id")?;
                events::razorpay(id, body).map_err(|_| "unreadable")
            }),
    };
    match event {
        Err(reason) => {
            tracing::warn!(doctor_id = %doctor, provider = provider.key(), reason, "payment webhook refused");
            StatusCode::BAD_REQUEST.into_response()
        }
        Ok(None) => {
            // Verified, but not an event the app acts on; it still shows the webhook works.
            keep(state, &doctor, provider, None).await
        }
        Ok(Some(event)) => keep(state, &doctor, provider, Some(&event)).await,
    }
}

/// Keeps `event` (if any) and notes the doctor's webhook works, then wakes the payments job.
async fn keep(
    state: &AppState,
    doctor: &DoctorId,
    provider: Provider,
    event: Option<&ProviderEvent>,
) -> Response {
    let now = now_millis();
    let kept = async {
        let mut tx = state.db.tenant_writer(doctor).await?;
        let new = match event {
            Some(event) => store::record_event(&mut tx, event, now).await?,
            None => store::webhook_seen(&mut tx, now).await.map(|()| false)?,
        };
        tx.commit().await?;
        Ok::<_, sqlx::Error>(new)
    }
    .await;
    match kept {
        Ok(new) => {
            if let Some(event) = event {
                tracing::info!(doctor_id = %doctor, provider = provider.key(), event_id = %event.event_id, new, "payment event received");
            }
            if new {
                state.payment_work.notify_one();
            }
            StatusCode::OK.into_response()
        }
        Err(error) => unavailable(provider, Some(doctor), &error),
    }
}

fn unavailable(provider: Provider, doctor: Option<&DoctorId>, error: &sqlx::Error) -> Response {
    tracing::error!(doctor_id = ?doctor, provider = provider.key(), %error, "payment webhook not kept");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "5")],
    )
        .into_response()
}
