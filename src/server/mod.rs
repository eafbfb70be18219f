//! The HTTP server: shared state, the router with its layers, start-up and shutdown.

pub mod assets;
mod fn_status;
mod health;
mod input;
pub mod telemetry;
mod web_security;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::handler::Handler;
use axum::routing::get;
use axum::{middleware, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::app::{shell, App};
use crate::auth::ssr::{password, session};
use crate::config::Config;
pub use crate::context::AppState;
use crate::context::Shared;
use crate::db::Db;
use crate::meta::graph::Graph;
use crate::meta::send_api::SendApi;

/// How often housekeeping runs: lapsed holds marked expired (the slot engine frees them on
/// time anyway), lapsed offers of Instagram accounts deleted with their sealed tokens.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Larger request bodies get 413 before any handler reads them.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The app's routes. They depend only on [`App`], so they are worked out once per process:
/// while leptos works them out it holds back every resource first polled anywhere in the
/// process, for good (leptos-rs/leptos#4773), which stalls a page another server of the same
/// process (a test's, say) is rendering at that moment.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = routes();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let page = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    // What is not a route: a file of the site (the browser bundle, precompressed), else the
    // not-found page.
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    let files = assets::files(&state.leptos_options, not_found.with_state(state.clone()));
    let app: Router = Router::new()
        .route("/healthz", get(health::healthz))
        .merge(crate::instagram::routes())
        .merge(crate::mail::dev_routes(&state.config, &state.mailer))
        .merge(crate::auth::ssr::routes())
        .leptos_routes_with_context(&state, routes, context, page)
        .layer(middleware::from_fn(fn_status::server_fn_status))
        .layer(compression())
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::guard,
        ))
        // Meta's webhook, outside the two layers above: it is never a server function
        // (fn_status) nor a doctor's session (the guard), and it is the path whose speed Meta
        // measures. The layers every request passes are added below.
        .merge(crate::inbox::routes())
        .merge(crate::payments::routes())
        .with_state(state.clone());
    // The layers every request passes wrap the router once. Added with `Router::layer` they
    // would sit on each route, and each would clone the rest of that route's stack for every
    // request it passes on: a sixth of the server's time under a burst of webhook deliveries.
    let every_request = ServiceBuilder::new()
        .layer(middleware::map_request(telemetry::drop_unusable_request_id))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(telemetry::trace_layer())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The limited body as axum's own, which axum's middleware takes.
        .map_request(|request: http::Request<_>| request.map(axum::body::Body::new))
        .layer(middleware::from_fn_with_state(
            state,
            web_security::web_security,
        ))
        .layer(middleware::from_fn(input::refuse_nul))
        .service(app);
    Router::new().fallback_service(every_request)
}

/// Pages and server functions compressed as they are sent (brotli at tower-http's quality 4,
/// or gzip): the log-in page's 9,569 bytes of HTML go out as 2,041, for well under a
/// millisecond of work. Answers under 1 KiB are sent as they are (the headers weigh as much);
/// the site's files do not pass through here (they are precompressed: assets.rs), nor do the
/// webhooks' answers. A compressed page goes out whole rather than in streamed pieces; these
/// pages render whole anyway (the dashboard's are SsrMode::Async) or within milliseconds.
fn compression() -> CompressionLayer<impl Predicate> {
    let worth_it = SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new().compress_when(worth_it)
}

/// A server that is bound and ready: the database is migrated and the port is taken.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects and migrates the database, then binds `addr` (port 0 picks a free port).
    pub async fn build(
        config: Config,
        leptos_options: LeptosOptions,
        addr: SocketAddr,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let db = Db::connect(
            &config.database_url,
            config.database_migration_url.as_deref(),
        )
        .await?;
        tracing::info!(backend = ?db.backend(), "database ready");
        password::warm_up().await;
        let listener = TcpListener::bind(addr).await?;
        let (graph, send_api) = match &config.meta {
            Some(app) => {
                let callback = format!("{}/auth/meta/callback", config.public_base_url);
                (
                    Some(Arc::new(Graph::new(app, callback)?)),
                    Some(Arc::new(SendApi::new(app)?)),
                )
            }
            None => (None, None),
        };
        let state = AppState::new(Shared {
            leptos_options,
            db: db.clone(),
            graph,
            send_api,
            deliveries: crate::db::deliveries::DeliveryWriter::start(db.clone()),
            payments: Arc::new(crate::providers::client::Payments::new(
                &config.payment_apis.stripe,
                &config.payment_apis.razorpay,
            )),
            payment_work: Arc::default(),
            mailer: Arc::new(crate::mail::Mailer::new(&config)?),
            config: Arc::new(config),
        });
        Ok(Self {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr()?, "listening");
        let db = self.state.db.clone();
        let mut jobs = vec![
            tokio::spawn(housekeeping(
                db.clone(),
                self.state.config.retention,
                HOUSEKEEPING_EVERY,
            )),
            tokio::spawn(crate::inbox::worker::run(
                db.clone(),
                self.state.config.clone(),
                self.state.deliveries.clone(),
            )),
            tokio::spawn(crate::payments::jobs::run(
                db.clone(),
                self.state.config.clone(),
                self.state.payments.clone(),
                self.state.payment_work.clone(),
            )),
        ];
        if let Some(api) = &self.state.send_api {
            jobs.push(tokio::spawn(crate::inbox::sender::run(
                db.clone(),
                self.state.config.clone(),
                api.clone(),
            )));
        }
        if let Some(graph) = &self.state.graph {
            jobs.push(tokio::spawn(crate::instagram::token_check::run(
                db.clone(),
                graph.clone(),
                self.state.config.clone(),
            )));
            jobs.push(tokio::spawn(crate::inbox::profiles::run(
                db.clone(),
                graph.clone(),
                self.state.config.clone(),
            )));
        }
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        for job in jobs {
            job.abort();
        }
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Every `every` until the task is dropped: marks lapsed holds expired, deletes the accounts
/// offered to pick from whose offer lapsed (their Page tokens with them), and deletes dead
/// letters and processed webhook deliveries older than `retention` keeps them.
async fn housekeeping(db: Db, retention: crate::config::Retention, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = crate::db::now_millis();
        match crate::booking::ssr::expire_lapsed(&db, now).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "lapsed holds expired"),
            Err(error) => tracing::warn!(%error, "sweeping lapsed holds failed"),
        }
        match crate::db::instagram::delete_lapsed_choices(&db, now).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "lapsed Instagram offers deleted"),
            Err(error) => tracing::warn!(%error, "deleting lapsed Instagram offers failed"),
        }
        match crate::inbox::dead_letters::delete_expired(&db, retention, now).await {
            Ok(expired) if expired == Default::default() => {}
            Ok(expired) => tracing::info!(
                deliveries = expired.deliveries,
                dead_letters = expired.letters,
                "expired webhook deliveries and dead letters deleted"
            ),
            Err(error) => tracing::warn!(%error, "deleting expired webhook deliveries failed"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing requests in flight");
}
