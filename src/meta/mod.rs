//! Meta's side of the wire: the login dialog and Graph API client ([`graph`]) and the
//! `signed_request` of Meta's app callbacks ([`signed_request`]). Features (Instagram today,
//! the webhook and the assistant next) use these; nothing here knows a feature.

pub mod graph;
pub mod signed_request;
