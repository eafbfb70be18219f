//! Setting up the practice: the panes a doctor fills in once and edits later.

pub mod availability;
pub mod methods_fees;
pub mod profile;
pub mod services;

use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyView;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::{lazy_route, LazyRoute};

use crate::app::DoctorResource;

/// The panes in wizard order: path segment under `/dashboard/setup/`, and title.
pub const STEPS: [(&str, &str); 4] = [
    ("profile", "Profile"),
    ("availability", "Availability"),
    ("methods-fees", "Methods & fees"),
    ("services", "Services"),
];

/// Where the first-time wizard starts; sign-up lands here.
pub const WIZARD_START: &str = "/dashboard/setup/profile?wizard=1";

fn step_url(index: usize) -> String {
    STEPS.get(index).map_or_else(
        || "/dashboard".to_owned(),
        |(key, _)| format!("/dashboard/setup/{key}?wizard=1"),
    )
}

/// Whether the pane is shown as a step of the first-time wizard (`?wizard=1`).
fn in_wizard() -> Memo<bool> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("wizard").is_some())
}

/// The Setup section: tabs over the panes, or, in the wizard, the steps with Back and Skip.
#[component]
pub fn SetupSection() -> impl IntoView {
    let wizard = in_wizard();
    let location = use_location();
    let current = Memo::new(move |_| {
        let path = location.pathname.get();
        STEPS
            .iter()
            .position(|(key, _)| path.ends_with(key))
            .unwrap_or(0)
    });
    let tabs = || {
        view! {
            <nav class="tabs" aria-label="Setup">
                {STEPS
                    .iter()
                    .map(|(key, title)| view! { <A href=format!("/dashboard/setup/{key}")>{*title}</A> })
                    .collect_view()}
            </nav>
        }
    };
    view! {
        <Show when=move || wizard.get() fallback=tabs>
            <WizardHeader current/>
        </Show>
        <Outlet/>
    }
}

#[component]
fn WizardHeader(current: Memo<usize>) -> impl IntoView {
    let doctor = use_context::<DoctorResource>();
    let greeting = move || {
        doctor
            .and_then(|d| d.get())
            .and_then(Result::ok)
            .map(|d| format!("Welcome, {}", d.full_name))
    };
    view! {
        <div class="wizard">
            <Transition fallback=|| ()>
                <p class="greeting">{greeting}</p>
            </Transition>
            <p class="lead">"Let's set up your practice. Every step can be changed later under Setup."</p>
            <ol class="steps" aria-label="Setup steps">
                {STEPS.iter().enumerate().map(|(index, (_, title))| view! {
                    <li aria-current=move || (current.get() == index).then_some("step")
                        class:done=move || index < current.get()>
                        {format!("{}. {title}", index + 1)}
                    </li>
                }).collect_view()}
            </ol>
            <p class="wizard-nav">
                <Show when=move || current.get() != 0>
                    <a href=move || step_url(current.get().saturating_sub(1))>"Back"</a>
                </Show>
                <a href=move || step_url(current.get() + 1)>
                    {move || if current.get() + 1 == STEPS.len() { "Finish setup" } else { "Skip for now" }}
                </a>
            </p>
        </div>
    }
}

/// A pane's submit button: "Save and continue" in the wizard, progress while saving.
#[component]
pub fn SaveButton(#[prop(into)] pending: Signal<bool>, label: &'static str) -> impl IntoView {
    let wizard = in_wizard();
    view! {
        <button type="submit" class="primary" disabled=move || pending.get()>
            {move || match (pending.get(), wizard.get()) {
                (true, _) => "Saving…",
                (false, true) => "Save and continue",
                (false, false) => label,
            }}
        </button>
    }
}

/// In the wizard, moves on to the step after `step` once a save succeeds.
pub fn continue_after_save(step: &'static str, saved: Signal<bool>) {
    let wizard = in_wizard();
    let navigate = use_navigate();
    Effect::new(move || {
        if saved.get() && wizard.get_untracked() {
            let next = STEPS
                .iter()
                .position(|(key, _)| *key == step)
                .map_or(0, |i| i + 1);
            navigate(&step_url(next), Default::default());
        }
    });
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
