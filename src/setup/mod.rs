//! Setting up the practice: the panes a doctor fills in once and edits later.

pub mod availability;
pub mod methods_fees;
pub mod profile;
pub mod services;

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

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
