//! What every handler and server function of a feature can reach: the shared state, the
//! signed-in doctor, the request's id. Features depend on this, never on `server` (which
//! assembles the features into the router).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::Config;
use crate::db::{Db, DoctorId};
use crate::error::AppError;
use crate::meta::graph::Graph;

/// What every handler and server function can reach, behind one `Arc`: axum clones the state
/// for every layer and extractor a request passes (ten times or so for a webhook delivery), and
/// field by field that was a dozen reference counts each time, a tenth of the server's time
/// under a burst of deliveries. Fields read through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// Meta's endpoints, when the Meta app is configured.
    pub graph: Option<Arc<Graph>>,
    /// Meta's Send API, likewise.
    pub send_api: Option<Arc<crate::meta::send_api::SendApi>>,
    /// Stores Meta's webhook deliveries, many to a commit.
    pub deliveries: crate::db::deliveries::DeliveryWriter,
    /// The payment providers' APIs (Stripe and Razorpay, each doctor with their own keys).
    pub payments: Arc<crate::providers::client::Payments>,
    /// Wakes the payments job: a provider event was kept, or a payment needs its link now.
    pub payment_work: Arc<tokio::sync::Notify>,
    /// Mail to doctors.
    pub mailer: Arc<crate::mail::Mailer>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What leptos_axum's handlers take from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state of the request being served, for server functions.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("no app state in context", "AppState missing"))
}

/// The id of the request being served (see the request-id layers), for audit rows.
pub fn request_id() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    request_id_in(&parts.headers)
}

/// The request id among a plain handler's request headers.
pub fn request_id_in(headers: &http::HeaderMap) -> Option<String> {
    let id = headers.get("x-request-id")?.to_str().ok()?;
    Some(id.to_owned())
}

impl AppState {
    /// Meta's endpoints, if an operator has set up the Meta app.
    pub fn graph(&self) -> Result<&Graph, AppError> {
        self.graph.as_deref().ok_or(AppError::Instagram(
            crate::domain::instagram::Outcome::NotConfigured,
        ))
    }
}

/// The signed-in doctor of this request, put in the request's extensions by the session
/// guard (`auth::ssr::session::guard`).
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub doctor: DoctorId,
    pub token_hash: String,
}

/// The request's session, as the guard resolved it.
pub fn signed_in() -> Option<SignedIn> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<SignedIn>()
        .cloned()
}

/// Runs a server function's `work` for the signed-in doctor (401 without one).
pub async fn for_doctor<T>(
    work: impl AsyncFnOnce(&Db, &DoctorId) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let state = state()?;
    let doctor = signed_in()
        .map(|s| s.doctor)
        .ok_or(AppError::Unauthorized)?;
    work(&state.db, &doctor).await
}
