//! The assistant pane: whether the assistant answers Instagram DMs, its greeting, how the
//! bookings it takes are confirmed, and its line about emergencies.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{SaveButton, TracksEdits};
use crate::domain::assistant::{self, BookingMode, DEFAULT_EMERGENCY_LINE};
use crate::error::AppError;
use crate::ui::{field_message, load_failed, FieldError, FormAlert, FormField, SaveOutcome};

/// The settings as the form shows them; blank strings for the texts left to the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantForm {
    pub enabled: bool,
    pub greeting: String,
    pub booking_mode: BookingMode,
    pub emergency_line: String,
    /// What the assistant says first when `greeting` is blank (it names the practice).
    pub default_greeting: String,
    /// Whether a payment provider is connected (online payment can be chosen).
    pub payments: bool,
}

#[server(endpoint = "setup/assistant")]
pub async fn assistant_settings() -> Result<AssistantForm, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let profile = crate::db::practice::profile(&mut tx)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let stored = crate::db::assistant::load(&mut tx).await?;
        let payments = crate::db::payments::account(&mut tx).await?.is_some();
        tx.commit().await?;
        let practice = profile.practice_name.unwrap_or(profile.full_name);
        Ok(AssistantForm {
            enabled: stored.enabled,
            greeting: stored.greeting.unwrap_or_default(),
            booking_mode: stored.booking_mode,
            emergency_line: stored.emergency_line.unwrap_or_default(),
            default_greeting: assistant::default_greeting(&practice),
            payments,
        })
    })
    .await
}

#[server(endpoint = "setup/assistant/save")]
pub async fn save_assistant(
    enabled: Option<String>,
    greeting: String,
    booking_mode: String,
    emergency_line: String,
) -> Result<(), AppError> {
    use crate::context::request_id;
    use crate::domain::assistant::AssistantSettings;

    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let payments = crate::db::payments::account(&mut tx).await?.is_some();
        tx.commit().await?;
        let settings = AssistantSettings::parse(
            enabled.is_some(),
            &greeting,
            &booking_mode,
            &emergency_line,
            payments,
        )
        .map_err(AppError::Invalid)?;
        let id = request_id();
        let write = async |tx: &mut _| crate::db::assistant::save(tx, &settings).await;
        crate::db::audit::save_settings(db, doctor, "assistant.updated", id.as_deref(), write)
            .await?;
        // The Instagram buttons follow the switch: up while it is on, down while it is off.
        // Meta refusing them does not undo the save; the Instagram pane says so.
        crate::instagram::menu::refresh(&crate::context::state()?, doctor).await;
        Ok(())
    })
    .await
}

#[component]
pub fn AssistantPane() -> impl IntoView {
    let save = ServerAction::<SaveAssistant>::new();
    let SaveOutcome {
        error,
        saved,
        succeeded,
    } = SaveOutcome::of(save);
    let loaded = Resource::new(move || succeeded.get(), |_| assistant_settings());
    super::after_save("assistant", saved);
    view! {
        <h1>"Assistant"</h1>
        <p class="lead">"How the assistant answers patients who message your practice on Instagram."</p>
        <Transition fallback=|| view! { <p>"Loading your assistant settings…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || loaded.get().map(|result| result.map(|form| view! { <AssistantFields form save error/> }))}
            </ErrorBoundary>
        </Transition>
        <Show when=move || saved.get()>
            <p class="saved" role="status">"Assistant settings saved."</p>
        </Show>
    }
}

#[component]
fn AssistantFields(
    form: AssistantForm,
    save: ServerAction<SaveAssistant>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let mode_error = field_message(error, "booking_mode");
    let modes = BookingMode::ALL
        .into_iter()
        .map(|mode| {
            let note = mode.unavailable(form.payments);
            view! {
                <label class="check">
                    <input type="radio" name="booking_mode" value=mode.key()
                        checked=mode == form.booking_mode disabled=note.is_some()/>
                    {mode.label()}
                </label>
                {note.map(|note| view! { <p class="hint">{note}</p> })}
            }
        })
        .collect_view();
    view! {
        <TracksEdits><ActionForm action=save attr:class="panel form">
            <FormAlert error/>
            <label class="check">
                <input type="checkbox" name="enabled" value="on" checked=form.enabled/>
                "Answer Instagram messages with the assistant"
            </label>
            <p class="hint">"Off: every message waits for you in the inbox."</p>
            <FormField
                label="Greeting"
                name="greeting"
                value=form.greeting
                placeholder=form.default_greeting
                hint="Optional, one line, up to 300 characters. Left blank, the assistant says what is shown here."
                error
                optional=true
                validate=|v| assistant::greeting(v).map(drop)
            />
            <fieldset class="rules"
                aria-describedby=move || mode_error.with(Option::is_some).then_some("booking_mode-error")>
                <legend>"New bookings are"</legend>
                {modes}
                <FieldError id="booking_mode-error" message=mode_error/>
            </fieldset>
            <FormField
                label="Emergency line"
                name="emergency_line"
                value=form.emergency_line
                placeholder=DEFAULT_EMERGENCY_LINE
                hint="Sent when a message sounds urgent. Optional, one line, up to 300 characters."
                error
                optional=true
                validate=|v| assistant::emergency_line(v).map(drop)
            />
            <SaveButton pending=save.pending() label="Save assistant settings"/>
        </ActionForm></TracksEdits>
    }
}
