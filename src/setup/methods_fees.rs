//! The methods & fees pane: the currency, and for text/chat, voice and video calls whether
//! each is offered, its fee and the instructions a patient gets once booked.
// The save function takes one argument per form field, as server functions do.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{SaveButton, TracksEdits};
use crate::domain::methods::{self, AppointmentMethod, MethodInput};
use crate::domain::money::{Currency, CURRENCIES};
use crate::error::AppError;
use crate::ui::{load_failed, FormAlert, FormField, SaveOutcome};

/// The pane's values as the form shows them (fees formatted in the currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodsFeesForm {
    pub currency: String,
    pub methods: Vec<(AppointmentMethod, MethodInput)>,
}

#[server(endpoint = "setup/methods-fees")]
pub async fn methods_fees() -> Result<MethodsFeesForm, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let stored = crate::db::methods::load(&mut tx).await?;
        tx.commit().await?;
        let currency = stored
            .currency
            .as_deref()
            .and_then(|code| Currency::parse(code).ok());
        let methods = AppointmentMethod::ALL
            .into_iter()
            .map(|method| {
                let input = stored
                    .get(method)
                    .map_or_else(MethodInput::default, |s| MethodInput {
                        offered: s.offered,
                        fee: currency
                            .map(|c| c.format_amount(s.fee_minor))
                            .unwrap_or_default(),
                        instructions: s.instructions.clone().unwrap_or_default(),
                    });
                (method, input)
            })
            .collect();
        Ok(MethodsFeesForm {
            currency: currency.map(|c| c.code.to_owned()).unwrap_or_default(),
            methods,
        })
    })
    .await
}

#[server(endpoint = "setup/methods-fees/save")]
pub async fn save_methods_fees(
    currency: String,
    text_offered: Option<String>,
    text_fee: String,
    text_instructions: String,
    voice_offered: Option<String>,
    voice_fee: String,
    voice_instructions: String,
    video_offered: Option<String>,
    video_fee: String,
    video_instructions: String,
) -> Result<(), AppError> {
    use crate::context::request_id;
    use crate::domain::methods::MethodsAndFees;

    crate::context::for_doctor(async |db, doctor| {
        let input = |offered: Option<String>, fee: String, instructions: String| MethodInput {
            offered: offered.is_some(),
            fee,
            instructions,
        };
        let parsed = MethodsAndFees::parse(
            &currency,
            &[
                (
                    AppointmentMethod::Text,
                    input(text_offered, text_fee, text_instructions),
                ),
                (
                    AppointmentMethod::Voice,
                    input(voice_offered, voice_fee, voice_instructions),
                ),
                (
                    AppointmentMethod::Video,
                    input(video_offered, video_fee, video_instructions),
                ),
            ],
        )
        .map_err(AppError::Invalid)?;
        // With online payment, each offered fee must be one the provider can charge.
        let mut tx = db.tenant(doctor).await?;
        let provider = crate::db::payments::account(&mut tx)
            .await?
            .map(|a| a.provider);
        tx.commit().await?;
        if let Some(provider) = provider {
            let mut errors = crate::domain::FieldErrors::default();
            for method in parsed
                .methods
                .iter()
                .filter(|m| m.offered && m.fee_minor > 0)
            {
                if let Err(why) = provider.amount(parsed.currency, method.fee_minor) {
                    errors.add(&format!("{}_fee", method.method.key()), why);
                }
            }
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
        }
        let id = request_id();
        let write = async |tx: &mut _| crate::db::methods::save(tx, &parsed).await;
        crate::db::audit::save_settings(db, doctor, "methods_fees.updated", id.as_deref(), write)
            .await?;
        Ok(())
    })
    .await
}

#[component]
pub fn MethodsFeesPane() -> impl IntoView {
    let save = ServerAction::<SaveMethodsFees>::new();
    let SaveOutcome {
        error,
        saved,
        succeeded,
    } = SaveOutcome::of(save);
    let loaded = Resource::new(move || succeeded.get(), |_| methods_fees());
    super::after_save("methods-fees", saved);
    view! {
        <h1>"Appointment methods & fees"</h1>
        <p class="lead">"How patients can see you and what each costs. Offer at least one method so the assistant can book."</p>
        <Transition fallback=|| view! { <p>"Loading your fees…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || loaded.get().map(|result| result.map(|form| view! { <MethodsFeesFields form save error/> }))}
            </ErrorBoundary>
        </Transition>
        <Show when=move || saved.get()>
            <p class="saved" role="status">"Methods and fees saved."</p>
        </Show>
    }
}

#[component]
fn MethodsFeesFields(
    form: MethodsFeesForm,
    save: ServerAction<SaveMethodsFees>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let currency = RwSignal::new(form.currency);
    view! {
        <TracksEdits><ActionForm action=save attr:class="panel form">
            <FormAlert error/>
            <FormField
                label="Currency"
                name="currency"
                bind=currency
                error
                hint="Type to search, e.g. INR, USD, JPY."
                list="currencies"
                validate=|v| Currency::parse(v).map(drop)
            />
            <datalist id="currencies">
                {CURRENCIES
                    .iter()
                    .map(|c| view! { <option value=c.code>{c.name}</option> })
                    .collect_view()}
            </datalist>
            {form
                .methods
                .into_iter()
                .map(|(method, input)| view! { <MethodFieldset method input currency error/> })
                .collect_view()}
            <SaveButton pending=save.pending() label="Save methods & fees"/>
        </ActionForm></TracksEdits>
    }
}

#[component]
fn MethodFieldset(
    method: AppointmentMethod,
    input: MethodInput,
    currency: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let fee = RwSignal::new(input.fee);
    let (fee_label, fee_name, instructions_label, instructions_name, offered_name) = match method {
        AppointmentMethod::Text => (
            "Text/chat fee",
            "text_fee",
            "Text/chat instructions",
            "text_instructions",
            "text_offered",
        ),
        AppointmentMethod::Voice => (
            "Voice call fee",
            "voice_fee",
            "Voice call instructions",
            "voice_instructions",
            "voice_offered",
        ),
        AppointmentMethod::Video => (
            "Video call fee",
            "video_fee",
            "Video call instructions",
            "video_instructions",
            "video_offered",
        ),
    };
    view! {
        <fieldset class="method">
            <legend>{method.label()}</legend>
            <label class="check">
                <input type="checkbox" name=offered_name value="on" checked=input.offered/>
                {format!("Offer {}", method.label().to_lowercase())}
            </label>
            <FormField
                label=fee_label
                name=fee_name
                input_type="text"
                bind=fee
                error
                optional=true
                hint="In your currency; 0 for free."
                validate=|v| {
                    if v.trim().starts_with('-') { Err("A fee cannot be negative.".into()) } else { Ok(()) }
                }
            />
            <FeeReading fee currency name=fee_name/>
            <FormField
                label=instructions_label
                name=instructions_name
                value=input.instructions
                error
                optional=true
                multiline=true
                hint="Sent to the patient once booked, e.g. the number that will call or the video link."
                validate=|v| methods::instructions(v).map(drop)
            />
        </fieldset>
    }
}

/// How the fee as typed will be saved, in the chosen currency: "Reads as 4,990.00 EUR", or
/// why it cannot be read, before the doctor saves.
#[component]
fn FeeReading(
    fee: RwSignal<String>,
    currency: RwSignal<String>,
    name: &'static str,
) -> impl IntoView {
    let reading = move || {
        let typed = fee.get();
        let currency = Currency::parse(&currency.get()).ok()?;
        (!typed.trim().is_empty()).then(|| {
            currency.parse_amount(&typed).map(|minor| {
                format!(
                    "Reads as {} {}",
                    currency.format_amount(minor),
                    currency.code
                )
            })
        })
    };
    view! {
        <p
            class="fee-reading"
            id=format!("{name}-reading")
            class:unreadable=move || matches!(reading(), Some(Err(_)))
            aria-live="polite"
        >
            {move || match reading() {
                Some(Ok(text) | Err(text)) => text,
                None => String::new(),
            }}
        </p>
    }
}
