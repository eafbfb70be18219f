//! The Account page: the email address and whether it is confirmed (with the link sent again
//! on request), changing the password, and logging out of the other devices.

use leptos::prelude::*;

use super::NewPasswordField;
use crate::error::AppError;
use crate::ui::{FormAlert, FormField};

/// Changes the signed-in doctor's password, given the current one; every other session ends,
/// and the account's address is told.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, password: String) -> Result<(), AppError> {
    let state = crate::context::state()?;
    let signed_in = crate::context::signed_in().ok_or(AppError::Unauthorized)?;
    super::ssr::recovery::change(&state, &signed_in, current, &password).await
}

/// The signed-in doctor's address, and whether it is confirmed.
#[server(endpoint = "account")]
pub async fn account_email() -> Result<(String, bool), AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let account = crate::db::doctors::account(&mut tx).await?;
        tx.commit().await?;
        let account = account.ok_or(AppError::Unauthorized)?;
        Ok((account.email, account.email_confirmed))
    })
    .await
}

/// Mails the signed-in doctor a new link to confirm their address.
#[server(endpoint = "account/confirm-email")]
pub async fn send_confirmation() -> Result<(), AppError> {
    let state = crate::context::state()?;
    let signed_in = crate::context::signed_in().ok_or(AppError::Unauthorized)?;
    super::ssr::verify::resend(&state, &signed_in.doctor).await
}

lazy_page!(
    /// The doctor's account.
    AccountRoute => AccountPage
);

#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let changed = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <h1>"Your account"</h1>
        <EmailPanel/>
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            <ActionForm action=action attr:class="form">
                <FormAlert error=error/>
                <FormField
                    label="Current password"
                    name="current"
                    input_type="password"
                    autocomplete="current-password"
                    error=error
                />
                <NewPasswordField error label="New password"
                    hint="At least 10 characters. Your other devices are logged out."/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
            <Show when=changed>
                <p class="saved" role="status">"Password changed. Your other devices were logged out."</p>
            </Show>
        </section>
        <super::LogOutOthers/>
    }
}

/// The address, whether it is confirmed, and what the confirmation link just did.
#[component]
fn EmailPanel() -> impl IntoView {
    let resend = ServerAction::<SendConfirmation>::new();
    let loaded = Resource::new(|| (), |()| account_email());
    let query = leptos_router::hooks::use_query_map();
    let outcome = move || match query.read().get("email").as_deref() {
        Some("confirmed") => Some("Thank you: your email address is confirmed."),
        Some("expired") => Some("That link has expired or was used already. Send a new one below."),
        Some("failed") => Some("The link could not be checked just now. Try it again in a minute."),
        _ => None,
    };
    let sent = move || {
        resend.value().get().map(|r| match r {
            Ok(()) => "A new link is on its way; it works for three days.".to_owned(),
            Err(error) => error.to_string(),
        })
    };
    view! {
        <section class="panel" aria-labelledby="email-title">
            <h2 id="email-title">"Email address"</h2>
            {move || outcome().map(|text| view! { <p class="saved">{text}</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded.await.ok().map(|(email, confirmed)| view! {
                        <p>{email} {if confirmed { " (confirmed)" } else { " (not confirmed yet)" }}</p>
                        {(!confirmed).then(|| view! {
                            <ActionForm action=resend attr:class="form">
                                <button type="submit" class="button" disabled=move || resend.pending().get()>
                                    "Send the confirmation link again"
                                </button>
                            </ActionForm>
                        })}
                    })
                })}
            </Transition>
            <p role="status">{sent}</p>
        </section>
    }
}
