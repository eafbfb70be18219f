//! Setting up the practice: the panes a doctor fills in once and edits later.

pub mod assistant;
pub mod availability;
pub mod methods_fees;
pub mod payments;
pub mod profile;
pub mod services;

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::dashboard::DoctorResource;

/// The panes in wizard order: path segment under `/dashboard/setup/`, and title.
pub const STEPS: [(&str, &str); 4] = [
    ("profile", "Profile"),
    ("availability", "Availability"),
    ("methods-fees", "Methods & fees"),
    ("services", "Services"),
];

/// Panes reachable from the Setup tabs only, after the wizard's steps: none of them is needed
/// to start taking bookings.
pub const MORE_PANES: [(&str, &str); 2] = [("payments", "Payments"), ("assistant", "Assistant")];

/// Where the first-time wizard starts; sign-up lands here.
pub const WIZARD_START: &str = "/dashboard/setup/profile?wizard=1";

fn step_url(index: usize) -> String {
    STEPS.get(index).map_or_else(
        || "/dashboard".to_owned(),
        |(key, _)| format!("/dashboard/setup/{key}?wizard=1"),
    )
}

/// Whether the open pane has edits that are not saved yet. The dashboard provides it; panes
/// mark it as the doctor types and clear it when a save succeeds; leaving the page or
/// following a link while it is set asks first.
#[derive(Clone, Copy)]
pub struct UnsavedEdits(RwSignal<bool>);

impl UnsavedEdits {
    /// Provides the flag to the dashboard below, clears it on every move to another page, and
    /// has the browser ask before the tab is closed or reloaded while it is set.
    pub fn provide() -> Self {
        let edits = Self(RwSignal::new(false));
        provide_context(edits);
        let location = use_location();
        Effect::new(move || {
            location.pathname.track();
            edits.0.set(false);
        });
        #[cfg(feature = "hydrate")]
        {
            let handle = window_event_listener(leptos::ev::beforeunload, move |ev| {
                if edits.0.get_untracked() {
                    ev.prevent_default();
                    ev.set_return_value("unsaved");
                }
            });
            on_cleanup(move || handle.remove());
        }
        edits
    }

    fn mark(self) {
        self.0.set(true);
    }

    pub fn clear(self) {
        self.0.set(false);
    }

    /// For a click on a link: with unsaved edits, asks the doctor, and cancels the navigation
    /// unless they choose to leave.
    pub fn confirm_leaving(self, ev: &leptos::ev::MouseEvent) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let on_link = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
                .is_some();
            if on_link && self.0.get_untracked() {
                let leave = window()
                    .confirm_with_message(
                        "You have unsaved changes. Leave this page without saving?",
                    )
                    .unwrap_or(true);
                if leave {
                    self.clear();
                } else {
                    ev.prevent_default();
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }
}

/// Wraps a pane's form: typing in it marks the pane as having unsaved edits.
#[component]
pub fn TracksEdits(children: Children) -> impl IntoView {
    let edits = use_context::<UnsavedEdits>();
    view! {
        <div on:input=move |_| edits.inspect(|e| e.mark()).map(drop).unwrap_or_default()>
            {children()}
        </div>
    }
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
                    .chain(&MORE_PANES)
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
        Suspend::new(async move {
            let signed_in = match doctor {
                Some(doctor) => doctor.await.ok(),
                None => None,
            };
            signed_in.map(|d| format!("Welcome, {}", d.full_name))
        })
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

/// Once a save succeeds, clears the unsaved-edits flag and, in the wizard, moves on to the
/// step after `step`.
pub fn after_save(step: &'static str, saved: Signal<bool>) {
    let wizard = in_wizard();
    let navigate = use_navigate();
    let edits = use_context::<UnsavedEdits>();
    Effect::new(move || {
        if saved.get() {
            if let Some(edits) = edits {
                edits.clear();
            }
        }
        // A pane that is not a step of the wizard stays put.
        let step_at = STEPS.iter().position(|(key, _)| *key == step);
        if let Some(at) = step_at.filter(|_| saved.get() && wizard.get_untracked()) {
            navigate(&step_url(at + 1), Default::default());
        }
    });
}

lazy_page!(
    /// The profile pane.
    ProfileRoute => profile::ProfilePane
);
lazy_page!(
    /// The availability pane.
    AvailabilityRoute => availability::AvailabilityPane
);
lazy_page!(
    /// The methods & fees pane.
    MethodsFeesRoute => methods_fees::MethodsFeesPane
);
lazy_page!(
    /// The services pane.
    ServicesRoute => services::ServicesPane
);
lazy_page!(
    /// The payments pane.
    PaymentsRoute => payments::PaymentsPane
);
lazy_page!(
    /// The assistant pane.
    AssistantRoute => assistant::AssistantPane
);
