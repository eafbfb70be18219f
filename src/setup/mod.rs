//! Setting up the practice: the panes a doctor fills in once and edits later.

pub mod availability;
pub mod methods_fees;
pub mod profile;
pub mod services;

use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyView;
use leptos_router::components::{Outlet, A};
use leptos_router::{lazy_route, LazyRoute};

/// The Setup section: tabs over the panes.
#[component]
pub fn SetupSection() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Setup">
            <A href="/dashboard/setup/profile">"Profile"</A>
            <A href="/dashboard/setup/availability">"Availability"</A>
            <A href="/dashboard/setup/methods-fees">"Methods & fees"</A>
            <A href="/dashboard/setup/services">"Services"</A>
        </nav>
        <Outlet/>
    }
}

// Each pane is a lazy route: its code is split into a WASM chunk of its own (built with
// `cargo leptos --split`) and fetched when the pane is first opened, so the bundle every page
// loads does not grow with each pane. The panes load their own data.

/// The profile pane, loaded on demand.
pub struct ProfileRoute;

#[lazy_route]
impl LazyRoute for ProfileRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <profile::ProfilePane/> }.into_any()
    }
}

/// The availability pane, loaded on demand.
pub struct AvailabilityRoute;

#[lazy_route]
impl LazyRoute for AvailabilityRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <availability::AvailabilityPane/> }.into_any()
    }
}

/// The methods & fees pane, loaded on demand.
pub struct MethodsFeesRoute;

#[lazy_route]
impl LazyRoute for MethodsFeesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <methods_fees::MethodsFeesPane/> }.into_any()
    }
}

/// The services pane, loaded on demand.
pub struct ServicesRoute;

#[lazy_route]
impl LazyRoute for ServicesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <services::ServicesPane/> }.into_any()
    }
}
