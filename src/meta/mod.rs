//! Meta's side of the wire: the login dialog and Graph API client ([`graph`]), the
//! `signed_request` of Meta's app callbacks ([`signed_request`]) and the events of an
//! Instagram messaging webhook delivery ([`delivery`]). Features (Instagram today,
//! the webhook and the assistant next) use these; nothing here knows a feature.

pub mod delivery;
pub mod graph;
pub mod send_api;
pub mod signed_request;
pub mod webhook_signature;

/// `appsecret_proof` for a call made with `token`: HMAC-SHA256 of the token keyed with the
/// app secret, in hex. Meta requires it on every call made with a user or Page token.
pub fn appsecret_proof(app_secret: &secrecy::SecretString, token: &str) -> String {
    use hmac::{Hmac, Mac};
    use secrecy::ExposeSecret;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(app_secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(token.as_bytes());
    crate::crypto::hex(&mac.finalize().into_bytes())
}
