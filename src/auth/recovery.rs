//! The pages of "Forgot password?": ask for a link by email, then choose a new password from
//! the link (see `ssr::recovery`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AuthCard, EmailField, NewPasswordField};
use crate::error::AppError;
use crate::ui::FormAlert;

/// Mails a link to choose a new password, if the address has an account; answers the same
/// either way.
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    let state = crate::context::state()?;
    super::ssr::recovery::ask(&state, &email)
}

/// Sets the new password from a mailed link, ends every session of the account, and signs in
/// here.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let state = crate::context::state()?;
    let session = super::ssr::recovery::reset(&state, &token, &password).await?;
    super::set_session_cookie(super::ssr::session::set_cookie(
        &session,
        state.config.cookies_secure(),
    ));
    leptos_axum::redirect("/dashboard");
    Ok(())
}

lazy_page!(
    /// "Forgot password?".
    ForgotPasswordRoute => ForgotPasswordPage
);
lazy_page!(
    /// The mailed link's page: choose a new password.
    ResetPasswordRoute => ResetPasswordPage
);

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <AuthCard title="Forgot your password?">
            <p>"Enter your account's email address and we'll mail you a link to choose a new password."</p>
            <ActionForm action=action>
                <FormAlert error=error/>
                <EmailField error autocomplete="username"/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Sending…" } else { "Email me a link" }}
                </button>
            </ActionForm>
            <Show when=sent>
                <p class="saved" role="status">"If an account uses that address, a link is on its way. It works once, for one hour; check your spam folder if it hasn't arrived in a few minutes."</p>
            </Show>
            <p class="switch">"Remembered it? " <a href="/login">"Log in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <AuthCard title="Choose a new password">
            <ActionForm action=action>
                <FormAlert error=error/>
                <input type="hidden" name="token" value=token/>
                <NewPasswordField error label="New password"
                    hint="At least 10 characters. Every device signed in to your account is logged out."/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Saving…" } else { "Set new password" }}
                </button>
            </ActionForm>
            <p class="switch"><a href="/forgot-password">"Ask for a new link"</a></p>
        </AuthCard>
    }
}
