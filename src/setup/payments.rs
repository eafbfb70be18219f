//! The payments pane: whether patients pay online, into the doctor's own Stripe or Razorpay
//! account, with the keys the doctor pastes (sealed at rest, checked with the provider before
//! they are saved, never shown again but for their last four characters); the doctor's
//! webhook URL with the events to tick; and the refund policy.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::TracksEdits;
use crate::domain::payments::{Provider, RefundPolicy};
use crate::error::AppError;
use crate::ui::{
    field_message, load_failed, CopyButton, FieldError, FormAlert, FormField, SaveOutcome,
};

/// The doctor's connected provider, as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    pub provider: Provider,
    pub live: bool,
    pub key_last4: String,
    /// Where the provider delivers the doctor's events.
    pub webhook_url: String,
    /// When the last signed event arrived, on the doctor's clock; `None`: never.
    pub webhook_seen: Option<String>,
    /// Whether the webhook's secret is saved (events are refused until it is).
    pub webhook_secret_saved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentsForm {
    pub connected: Option<Connected>,
    pub refund: RefundPolicy,
    /// Why unpaid holds last longer than the availability pane says, if they do.
    pub hold_note: Option<String>,
    /// The practice's fees the provider cannot charge, with the reasons.
    pub fee_problems: Vec<String>,
}

#[server(endpoint = "setup/payments")]
pub async fn payment_settings() -> Result<PaymentsForm, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let mut tx = db.tenant(doctor).await?;
        let account = crate::db::payments::account(&mut tx).await?;
        let problems = ssr::fee_problems(&mut tx, account.as_ref().map(|a| a.provider)).await?;
        let hold = crate::db::availability::load(&mut tx)
            .await?
            .settings
            .map(|(_, rules)| rules.hold_minutes);
        let zone = crate::db::availability::zone(&mut tx).await?;
        tx.commit().await?;
        let base = &state.config.public_base_url;
        let secret_saved = match &account {
            Some(account) => {
                let opened =
                    crate::payments::keys::open(&state.config.token_keys, doctor, &account.keys)?;
                opened.webhook_secret.is_some()
            }
            None => false,
        };
        Ok(PaymentsForm {
            hold_note: account.as_ref().zip(hold).and_then(|(a, wanted)| {
                crate::domain::payments::hold_minutes(a.provider, wanted).1
            }),
            refund: account
                .as_ref()
                .map_or(RefundPolicy::FullUntil { hours: 24 }, |a| a.refund),
            connected: account.map(|a| Connected {
                provider: a.provider,
                live: a.mode == crate::domain::payments::Mode::Live,
                key_last4: a.key_last4,
                webhook_url: format!("{base}/payments/{}/{}", a.provider.key(), a.webhook_ref),
                webhook_seen: a
                    .webhook_seen_at
                    .map(|at| crate::domain::slots::local_time(at, &zone).to_string()),
                webhook_secret_saved: secret_saved,
            }),
            fee_problems: problems,
        })
    })
    .await
}

/// Saves the pane. `provider` is `none`, `stripe` or `razorpay`. With the provider already
/// connected, blank key fields keep the keys; new keys are checked with the provider first.
#[server(endpoint = "setup/payments/save")]
pub async fn save_payments(
    provider: String,
    key_id: String,
    secret: String,
    webhook_secret: String,
    refund: String,
    refund_hours: String,
) -> Result<(), AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let request = ssr::SaveRequest {
            provider: &provider,
            key_id: &key_id,
            secret: &secret,
            webhook_secret: &webhook_secret,
            refund: &refund,
            refund_hours: &refund_hours,
        };
        ssr::save(&crate::context::state()?, db, doctor, &request).await
    })
    .await
}

/// Asks the provider whether the saved keys still work; what it said, in plain words.
#[server(endpoint = "setup/payments/check")]
pub async fn check_payment_keys() -> Result<String, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        ssr::check_saved(&crate::context::state()?, db, doctor).await
    })
    .await
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::context::AppState;
    use crate::db::{now_millis, Db, DoctorId, TenantTx};
    use crate::domain::money::Currency;
    use crate::domain::payments::{unchargeable, Mode, PastedKeys, Provider, RefundPolicy};
    use crate::domain::FieldErrors;
    use crate::error::AppError;
    use crate::payments::keys;
    use crate::providers::client::{KeyCheck, ProviderError};

    pub struct SaveRequest<'a> {
        pub provider: &'a str,
        pub key_id: &'a str,
        pub secret: &'a str,
        pub webhook_secret: &'a str,
        pub refund: &'a str,
        pub refund_hours: &'a str,
    }

    /// The practice's fees `provider` cannot charge.
    pub async fn fee_problems(
        tx: &mut TenantTx,
        provider: Option<Provider>,
    ) -> Result<Vec<String>, AppError> {
        let Some(provider) = provider else {
            return Ok(Vec::new());
        };
        let methods = crate::db::methods::load(tx).await?;
        let Some(currency) = methods
            .currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
        else {
            return Ok(Vec::new());
        };
        let fees = methods
            .methods
            .iter()
            .filter(|m| m.offered)
            .map(|m| (m.method.label(), m.fee_minor));
        Ok(unchargeable(provider, currency, fees))
    }

    pub async fn save(
        state: &AppState,
        db: &Db,
        doctor: &DoctorId,
        request: &SaveRequest<'_>,
    ) -> Result<(), AppError> {
        let id = crate::context::request_id();
        let provider = match request.provider.trim() {
            "none" => {
                let mut tx = db.tenant_writer(doctor).await?;
                if crate::db::payments::remove_account(&mut tx).await? {
                    let fields = ["provider".to_owned()];
                    crate::db::audit::record(
                        &mut tx,
                        "payments.disconnected",
                        &fields,
                        id.as_deref(),
                    )
                    .await?;
                }
                tx.commit().await?;
                tracing::info!(doctor_id = %doctor, "online payment switched off");
                return Ok(());
            }
            key => Provider::from_key(key).ok_or_else(|| {
                AppError::Invalid(FieldErrors::single("provider", "Choose how patients pay."))
            })?,
        };
        let refund = RefundPolicy::parse(request.refund, request.refund_hours);
        let mut tx = db.tenant(doctor).await?;
        let current = crate::db::payments::account(&mut tx).await?;
        let problems = fee_problems(&mut tx, Some(provider)).await?;
        tx.commit().await?;
        // With this provider connected, a blank field keeps what is saved: the webhook's
        // secret can be added after the key (the webhook needs the URL saving the key shows).
        let saved = match current.filter(|a| a.provider == provider) {
            Some(account) => Some(keys::open(&state.config.token_keys, doctor, &account.keys)?),
            None => None,
        };
        let typed = [request.key_id, request.secret, request.webhook_secret].map(str::trim);
        let new_api_key = saved.is_none() || !(typed[0].is_empty() && typed[1].is_empty());
        let pasted = if saved.is_some() && typed.iter().all(|f| f.is_empty()) {
            None
        } else {
            let kept = saved.as_ref().map(keys::as_fields).unwrap_or_default();
            let [key_id, secret, webhook_secret] = [0, 1, 2].map(|i| {
                if typed[i].is_empty() {
                    kept[i].as_str()
                } else {
                    typed[i]
                }
            });
            Some(PastedKeys::parse(provider, key_id, secret, webhook_secret))
        };
        let mut errors = FieldErrors::default();
        if let Err(e) = &refund {
            merge(&mut errors, e);
        }
        if let Some(Err(e)) = &pasted {
            merge(&mut errors, e);
        }
        if !problems.is_empty() {
            errors.add(
                "provider",
                format!(
                    "Change these fees on Methods & fees first: {}",
                    problems.join(" ")
                ),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let refund = refund.map_err(AppError::Invalid)?;
        let pasted = pasted.transpose().map_err(AppError::Invalid)?;
        // A new API key: the provider is asked before anything is kept.
        if let Some(pasted) = pasted.as_ref().filter(|_| new_api_key) {
            let checked = state.payments.check(&keys::api_keys(pasted)).await;
            verdict(pasted, checked)?;
        }
        let mut tx = db.tenant_writer(doctor).await?;
        let changed = match pasted {
            None => {
                crate::db::payments::set_refund_policy(&mut tx, refund, now_millis()).await?;
                vec!["refund_policy".to_owned()]
            }
            Some(pasted) => {
                let sealed = keys::seal(&state.config.token_keys, doctor, &pasted);
                let account = crate::db::payments::NewAccount {
                    provider,
                    keys: &sealed,
                    key_last4: &pasted.last4(),
                    mode: pasted.mode(),
                    refund,
                    now: now_millis(),
                };
                crate::db::payments::save_account(&mut tx, &account).await?;
                vec!["provider".into(), "keys".into(), "refund_policy".into()]
            }
        };
        crate::db::audit::record(&mut tx, "payments.updated", &changed, id.as_deref()).await?;
        tx.commit().await?;
        tracing::info!(doctor_id = %doctor, provider = provider.key(), "payment settings saved");
        Ok(())
    }

    fn merge(into: &mut FieldErrors, from: &FieldErrors) {
        for field in [
            "provider",
            "key_id",
            "secret",
            "webhook_secret",
            "refund",
            "refund_hours",
        ] {
            if let Some(message) = from.get(field) {
                into.add(field, message);
            }
        }
    }

    /// The provider's answer to new keys as field errors, if it refused them.
    fn verdict(
        pasted: &PastedKeys,
        checked: Result<KeyCheck, ProviderError>,
    ) -> Result<(), AppError> {
        let key_field = "secret";
        let refuse = |field: &str, message: String| {
            Err(AppError::Invalid(FieldErrors::single(field, message)))
        };
        match checked {
            Ok(_) => Ok(()),
            Err(ProviderError::KeyRejected) => refuse(
                key_field,
                format!("{} does not recognise this key. Copy it again from its dashboard.", pasted.provider().label()),
            ),
            Err(ProviderError::Permission(message)) => refuse(
                key_field,
                format!("This key lacks a permission Clariva needs ({message}). Give it write access to Checkout Sessions and Refunds."),
            ),
            Err(ProviderError::Refused(message)) => refuse(key_field, format!("{} refused the key: {message}", pasted.provider().label())),
            Err(ProviderError::Unreachable(_)) => Err(AppError::Conflict(format!(
                "{} could not be reached to check the keys; nothing was saved. Try again in a minute.",
                pasted.provider().label()
            ))),
        }
    }

    pub async fn check_saved(
        state: &AppState,
        db: &Db,
        doctor: &DoctorId,
    ) -> Result<String, AppError> {
        let mut tx = db.tenant(doctor).await?;
        let account = crate::db::payments::account(&mut tx).await?;
        tx.commit().await?;
        let account = account
            .ok_or_else(|| AppError::Conflict("No payment provider is connected.".into()))?;
        let opened = keys::open(&state.config.token_keys, doctor, &account.keys)?;
        let label = account.provider.label();
        Ok(match state.payments.check(&opened.api).await {
            Ok(check) => format!(
                "The keys work: {label} answered, in {} mode.",
                if check.mode == Mode::Live {
                    "live"
                } else {
                    "test"
                }
            ),
            Err(ProviderError::KeyRejected) => {
                format!("{label} no longer recognises the key. Paste a new one below.")
            }
            Err(ProviderError::Permission(message)) => {
                format!("The key lacks a permission: {message}")
            }
            Err(ProviderError::Refused(message)) => format!("{label} refused: {message}"),
            Err(ProviderError::Unreachable(_)) => {
                format!("{label} could not be reached. Try again in a minute.")
            }
        })
    }
}

/// The refund cutoff's hint; its range is the domain's (`MAX_REFUND_HOURS`, two weeks).
const REFUND_HOURS_HINT: &str = "From 0 to 336. Cancelled later than this: no refund.";

#[component]
pub fn PaymentsPane() -> impl IntoView {
    let save = ServerAction::<SavePayments>::new();
    let SaveOutcome {
        error,
        saved,
        succeeded,
    } = SaveOutcome::of(save);
    let loaded = Resource::new(move || succeeded.get(), |_| payment_settings());
    super::after_save("payments", saved);
    view! {
        <h1>"Payments"</h1>
        <p class="lead">"Whether patients pay the fee online when they book, into your own Stripe or Razorpay account. Clariva never holds the money."</p>
        <Transition fallback=|| view! { <p>"Loading your payment settings…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || loaded.get().map(|result| result.map(|form| view! { <PaymentsFields form save error/> }))}
            </ErrorBoundary>
        </Transition>
        <Show when=move || saved.get()>
            <p class="saved" role="status">"Payment settings saved."</p>
        </Show>
    }
}

/// What is connected now: the key's end, the webhook URL to paste, and whether it works.
#[component]
fn ConnectedPanel(connected: Connected) -> impl IntoView {
    let check = ServerAction::<CheckPaymentKeys>::new();
    let provider = connected.provider;
    let events = provider
        .webhook_events()
        .iter()
        .map(|event| view! { <li><code>{*event}</code></li> })
        .collect_view();
    let mode = if connected.live { "live" } else { "test" };
    let seen = match connected.webhook_seen.clone() {
        _ if !connected.webhook_secret_saved => view! {
            <p class="warning" role="note">"One step left: add the webhook in " {provider.label()} "'s dashboard with the URL below, then paste its secret in the form and save. Until then " {provider.label()} "'s events are refused, and payments are confirmed only by asking " {provider.label()} " when a hold ends and once a day, which is slower."</p>
        }
        .into_any(),
        Some(at) => view! { <p>"Last event received: " {at} "."</p> }.into_any(),
        None => view! {
            <p class="warning" role="note">"No event has arrived from " {provider.label()} " yet. Until one does, payments are confirmed by asking " {provider.label()} " when a hold ends and once a day, which is slower. Check the webhook below."</p>
        }
        .into_any(),
    };
    let url = connected.webhook_url.clone();
    view! {
        <section class="panel" aria-labelledby="connected-title">
            <h2 id="connected-title">{provider.label()} " connected (" {mode} " mode)"</h2>
            <p>"API key ending in " <code>{connected.key_last4.clone()}</code> "."</p>
            {seen}
            <h3>"Your webhook"</h3>
            <p>"In " {provider.label()} "'s dashboard, add a webhook endpoint with this URL:"</p>
            <p class="copy-line">
                <input type="text" readonly value=url.clone() aria-label="Webhook URL" id="webhook-url"/>
                <CopyButton text=url label="Copy URL"/>
            </p>
            <p>"Tick these events:"</p>
            <ul>{events}</ul>
            <ActionForm action=check>
                <button type="submit" disabled=move || check.pending().get()>
                    {move || if check.pending().get() { "Checking…" } else { "Check keys" }}
                </button>
            </ActionForm>
            <p role="status">{move || check.value().get().map(|r| r.unwrap_or_else(|e| e.to_string()))}</p>
        </section>
    }
}

#[component]
fn PaymentsFields(
    form: PaymentsForm,
    save: ServerAction<SavePayments>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let chosen = RwSignal::new(form.connected.as_ref().map_or("none", |c| c.provider.key()));
    let connected_to = form.connected.as_ref().map(|c| c.provider);
    let keep_hint = move |provider: Provider| {
        (connected_to == Some(provider)).then_some("Leave blank to keep the saved key.")
    };
    let secret_saved = form
        .connected
        .as_ref()
        .is_some_and(|c| c.webhook_secret_saved);
    let keep_secret_hint = move |provider: Provider| {
        (connected_to == Some(provider) && secret_saved)
            .then_some("Leave blank to keep the saved secret.")
    };
    let (provider_error, refund_error) = (
        field_message(error, "provider"),
        field_message(error, "refund"),
    );
    let (refund_kind, refund_hours) = match form.refund {
        RefundPolicy::FullUntil { hours } => ("cutoff", hours.to_string()),
        RefundPolicy::Manual => ("manual", "24".to_owned()),
    };
    let problems = form
        .fee_problems
        .iter()
        .map(|p| view! { <li>{p.clone()}</li> })
        .collect_view();
    let has_problems = !form.fee_problems.is_empty();
    view! {
        {form.connected.clone().map(|connected| view! { <ConnectedPanel connected/> })}
        {form.hold_note.clone().map(|note| view! { <p class="hint" role="note">{note}</p> })}
        {has_problems.then(|| view! {
            <div class="warning" role="note">
                <p>"These fees cannot be charged online; change them on " <a href="/dashboard/setup/methods-fees">"Methods & fees"</a> ":"</p>
                <ul>{problems}</ul>
            </div>
        })}
        <TracksEdits><ActionForm action=save attr:class="panel form">
            <FormAlert error/>
            <fieldset class="rules"
                aria-describedby=move || provider_error.with(Option::is_some).then_some("provider-error")>
                <legend>"Patients pay"</legend>
                <label class="check">
                    <input type="radio" name="provider" value="none" checked=move || chosen.get() == "none"
                        on:change=move |_| chosen.set("none")/>
                    "At the clinic (no online payment)"
                </label>
                <label class="check">
                    <input type="radio" name="provider" value="stripe" checked=move || chosen.get() == "stripe"
                        on:change=move |_| chosen.set("stripe")/>
                    "Online with Stripe"
                </label>
                <label class="check">
                    <input type="radio" name="provider" value="razorpay" checked=move || chosen.get() == "razorpay"
                        on:change=move |_| chosen.set("razorpay")/>
                    "Online with Razorpay (India)"
                </label>
                <FieldError id="provider-error" message=provider_error/>
            </fieldset>
            <Show when=move || chosen.get() == "stripe">
                <p class="hint">"In Stripe: Developers → API keys → Create restricted key, with write access to Checkout Sessions and Refunds; paste it here and save. Then Developers → Webhooks → Add endpoint, with the URL this pane shows once the key is saved, and paste the endpoint's signing secret here."</p>
                <input type="hidden" name="key_id" value=""/>
                <FormField label="Restricted key" name="secret" input_type="password" autocomplete="off"
                    error hint=keep_hint(Provider::Stripe).unwrap_or("Starts with rk_live_ (or rk_test_ to try things out).")
                    optional=connected_to == Some(Provider::Stripe)/>
                <FormField label="Webhook signing secret" name="webhook_secret" input_type="password" autocomplete="off"
                    error hint=keep_secret_hint(Provider::Stripe).unwrap_or("Starts with whsec_. Leave blank until the webhook exists.")
                    optional=true/>
            </Show>
            <Show when=move || chosen.get() == "razorpay">
                <p class="hint">"In Razorpay: Account & Settings → API keys → Generate key; paste the Key Id and Key Secret here and save. Then Webhooks → Add new webhook, with the URL this pane shows once the keys are saved and a secret of your choosing, typed there and here."</p>
                <FormField label="Key Id" name="key_id" autocomplete="off" error
                    hint=keep_hint(Provider::Razorpay).unwrap_or("Starts with rzp_live_ (or rzp_test_).")
                    optional=connected_to == Some(Provider::Razorpay)/>
                <FormField label="Key Secret" name="secret" input_type="password" autocomplete="off"
                    error hint=keep_hint(Provider::Razorpay).unwrap_or("Shown once, when the key is generated.")
                    optional=connected_to == Some(Provider::Razorpay)/>
                <FormField label="Webhook secret" name="webhook_secret" input_type="password" autocomplete="off"
                    error hint=keep_secret_hint(Provider::Razorpay).unwrap_or("The secret you type when adding the webhook. Leave blank until then.")
                    optional=true/>
            </Show>
            <Show when=move || chosen.get() == "none">
                <input type="hidden" name="key_id" value=""/>
                <input type="hidden" name="secret" value=""/>
                <input type="hidden" name="webhook_secret" value=""/>
            </Show>
            <fieldset class="rules"
                aria-describedby=move || refund_error.with(Option::is_some).then_some("refund-error")>
                <legend>"When a paid appointment is cancelled"</legend>
                <label class="check">
                    <input type="radio" name="refund" value="cutoff" checked=refund_kind == "cutoff"/>
                    "Refund in full if cancelled at least this many hours before:"
                </label>
                <FormField label="Hours before" name="refund_hours" input_type="number" value=refund_hours error
                    hint=REFUND_HOURS_HINT/>
                <label class="check">
                    <input type="radio" name="refund" value="manual" checked=refund_kind == "manual"/>
                    "Never refund by itself: I refund from the provider's dashboard"
                </label>
                <FieldError id="refund-error" message=refund_error/>
            </fieldset>
            <button type="submit" class="primary" disabled=move || save.pending().get()>
                {move || if save.pending().get() { "Checking keys and saving…" } else { "Save payment settings" }}
            </button>
        </ActionForm></TracksEdits>
    }
}
