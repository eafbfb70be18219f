//! Online payment on each doctor's own provider account: a pending appointment gets a link
//! (a Stripe Checkout Session or a Razorpay Payment Link) for the method's fee, expiring with
//! the hold; the provider's signed webhook ([`webhook`]) or the payments job's own question
//! ([`jobs`]) settles it ([`settle`]): paid confirms the appointment, unpaid frees the slot,
//! late is refunded. The providers' APIs are in [`crate::providers`], the doctor's sealed
//! keys in [`keys`]. The Payments pane is in the `setup` feature.

pub mod events;
pub mod jobs;
pub mod keys;
mod say;
pub mod settle;
pub mod webhook;

/// The feature's routes: the providers' webhooks, and the page a patient returns to after
/// paying.
pub fn routes() -> axum::Router<crate::context::AppState> {
    use axum::routing::{get, post};

    axum::Router::new()
        .route("/payments/stripe/{webhook_ref}", post(webhook::stripe))
        .route("/payments/razorpay/{webhook_ref}", post(webhook::razorpay))
        .route("/payments/done", get(done))
}

/// Where the provider's page sends the patient after paying (or going back). It confirms
/// nothing: only the provider's webhook, or the payments job asking, does.
async fn done() -> axum::response::Html<&'static str> {
    axum::response::Html(DONE)
}

const DONE: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payment being confirmed</title>
<style>body{font:1.05rem/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2433}</style>
</head><body><main>
<h1>Thank you</h1>
<p>Your payment is being confirmed. You will get a message on Instagram as soon as it is, usually within a minute.</p>
<p>If you did not finish paying, go back to Instagram and tap the payment button again while your time is held.</p>
<p>You can close this page.</p>
</main></body></html>"#;
