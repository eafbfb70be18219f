//! The Account page: change the password, and log out of the other devices.

use leptos::prelude::*;

use crate::domain::account::NewPassword;
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
                <FormField
                    label="New password"
                    name="password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 10 characters. Your other devices are logged out."
                    error=error
                    validate=|v| NewPassword::parse(v).map(drop)
                />
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
