//! Instagram messages reaching the right doctor. Meta delivers every patient's DM to
//! `/meta/webhook` ([`intake`]), which stores it sealed and answers at once; the worker
//! ([`worker`]) splits each delivery into events routed by the receiving account
//! ([`routing`]) and applies them to the doctor's conversations in order ([`apply`]).
//! Replies go through the outbox ([`crate::db::outbox`]) and the sender ([`sender`]). Patients' names
//! come from Meta's user profile API ([`profiles`]). The doctor reads and answers in the
//! Inbox ([`threads`], its page in `page`). Conversations and messages are in
//! [`crate::db::conversations`], deliveries and dead letters in [`crate::db::deliveries`].

#[cfg(feature = "ssr")]
pub mod apply;
#[cfg(feature = "ssr")]
pub mod dead_letters;
#[cfg(feature = "ssr")]
pub mod intake;
mod page;
#[cfg(feature = "ssr")]
pub mod profiles;
#[cfg(feature = "ssr")]
mod rounds;
#[cfg(feature = "ssr")]
pub mod routing;
#[cfg(feature = "ssr")]
pub mod sender;
pub mod threads;
#[cfg(feature = "ssr")]
pub mod worker;

pub use page::InboxRoute;

/// The feature's routes besides its pages and server functions: Meta's webhook.
#[cfg(feature = "ssr")]
pub fn routes() -> axum::Router<crate::context::AppState> {
    use axum::routing::get;

    axum::Router::new().route(
        "/meta/webhook",
        get(intake::verify_subscription).post(intake::receive),
    )
}
