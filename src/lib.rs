//! Clariva Care: a receptionist for doctors that lives in Instagram DMs.
//!
//! One crate, built twice: with `ssr` it is the axum server (see `main.rs`), with `hydrate`
//! the WASM bundle that makes the server-rendered pages interactive. A tour:
//!
//! - [`app`]: the HTML shell, the routes and the dashboard frame.
//! - [`domain`]: pure rules (form fields, later hours, money, slots), for both targets.
//! - [`auth`]: sign-up, log-in, log-out; sessions and the request guard (`auth::ssr`).
//! - [`dashboard`]: the signed-in doctor as the dashboard frame shows them.
//! - [`setup`]: the practice setup panes: profile, availability, methods and fees, services.
//! - [`booking`]: appointments: the calendar and list, manual booking, status changes.
//! - [`instagram`]: the link to each doctor's Instagram account (token sealing so far).
//! - [`inbox`]: Instagram DMs reaching the right doctor: the webhook and its worker.
//! - [`assistant`]: the booking assistant that answers them, and "Try your assistant".
//! - `payments` (server only): fees paid by link on each doctor's own Stripe or Razorpay
//!   account, the providers' webhooks, and the job that settles payments; `providers`, the
//!   providers' APIs and webhook signatures.
//! - [`ui`]: shared form components.
//! - [`error`]: [`error::AppError`], the one error type.
//! - `config`, `db`, `server`, `mail` (server only): configuration, the database and its
//!   repositories, the router with its start-up and shutdown, and mail to doctors.
#![recursion_limit = "256"]

/// Declares a page whose code is split into a WASM chunk of its own (built with
/// `cargo leptos --split`) and fetched when the page is first opened, so the bundle every page
/// loads does not grow with each page. Pages load their own data.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> leptos::tachys::view::any_view::AnyView {
                leptos::prelude::IntoAny::into_any($page())
            }
        }
    };
}

pub mod app;
pub mod assistant;
pub mod auth;
pub mod booking;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod inbox;
pub mod instagram;
pub mod setup;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod meta;
#[cfg(feature = "ssr")]
pub mod payments;
#[cfg(feature = "ssr")]
pub mod providers;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page (fetching the lazily loaded
/// chunk of the current route first), then marks `<body>` with `data-hydrated` so browser tests
/// know the page is interactive.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.body())
    else {
        return;
    };
    // What `leptos::mount::hydrate_lazy` does, plus the mark once hydration has finished.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
