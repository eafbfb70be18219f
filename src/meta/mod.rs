//! Meta's side of the wire: the login dialog and Graph API client ([`graph`]), the
//! `signed_request` of Meta's app callbacks ([`signed_request`]) and the events of an
//! Instagram messaging webhook delivery ([`delivery`]). Features (Instagram today,
//! the webhook and the assistant next) use these; nothing here knows a feature.

pub mod delivery;
pub mod graph;
pub mod signed_request;
pub mod webhook_signature;
