//! Doctor accounts: the sign-up and log-in pages, log-out, the other devices' sessions, the
//! Account page (`account`: change the password), and recovering a forgotten password
//! (`recovery`).

pub mod account;
pub mod recovery;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::domain::account::{Email, FullName, NewPassword};
use crate::error::AppError;
use crate::ui::{FormAlert, FormField};

#[server(endpoint = "create_account")]
pub async fn create_account(
    full_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use crate::context::state;
    use crate::domain::account::SignUp;

    let state = state()?;
    let form = SignUp::parse(&full_name, &email, &password).map_err(AppError::Invalid)?;
    let client = ssr::client_address(&state)?;
    let session = ssr::create_account(&state, form, client).await?;
    set_session_cookie(ssr::session::set_cookie(
        &session,
        state.config.cookies_secure(),
    ));
    leptos_axum::redirect(crate::setup::WIZARD_START);
    Ok(())
}

#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::context::state;
    use crate::domain::account::local_redirect_target;

    let state = state()?;
    let client = ssr::client_address(&state)?;
    // A session id the browser had before is dropped: log-in always starts afresh.
    ssr::log_out(&state, crate::context::signed_in()).await?;
    let session = ssr::log_in(&state, &email, password, client).await?;
    set_session_cookie(ssr::session::set_cookie(
        &session,
        state.config.cookies_secure(),
    ));
    leptos_axum::redirect(local_redirect_target(&next).unwrap_or("/dashboard"));
    Ok(())
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use crate::context::state;

    let state = state()?;
    ssr::log_out(&state, crate::context::signed_in()).await?;
    set_session_cookie(ssr::session::clear_cookie(state.config.cookies_secure()));
    leptos_axum::redirect("/login");
    Ok(())
}

/// Ends the doctor's sessions everywhere but in this browser; how many ended.
#[server(endpoint = "log_out_others")]
pub async fn log_out_others() -> Result<u64, AppError> {
    let state = crate::context::state()?;
    let signed_in = crate::context::signed_in().ok_or(AppError::Unauthorized)?;
    ssr::log_out_others(&state, &signed_in).await
}

#[cfg(feature = "ssr")]
pub(crate) fn set_session_cookie(cookie: http::HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::SET_COOKIE, cookie);
    }
}

lazy_page!(
    /// The sign-up page.
    SignupRoute => SignupPage
);
lazy_page!(
    /// The log-in page.
    LoginRoute => LoginPage
);

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<CreateAccount>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <AuthCard title="Create your Clariva account">
            <ActionForm action=action>
                <FormAlert error=error/>
                <FormField
                    label="Full name"
                    name="full_name"
                    input_type="text"
                    autocomplete="name"
                    error=error
                    validate=|v| FullName::parse(v).map(drop)
                />
                <EmailField error autocomplete="email"/>
                <NewPasswordField error label="Password" hint="At least 10 characters."/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <AuthCard title="Log in to Clariva">
            <ActionForm action=action>
                <FormAlert error=error/>
                <input type="hidden" name="next" value=next/>
                <EmailField error autocomplete="username"/>
                <FormField
                    label="Password"
                    name="password"
                    input_type="password"
                    autocomplete="current-password"
                    error=error
                />
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="switch"><a href="/forgot-password">"Forgot password?"</a></p>
            <p class="switch">"New to Clariva? " <a href="/signup">"Create an account"</a></p>
        </AuthCard>
    }
}

/// The email field of the account forms: `autocomplete` is `email` where an account is made,
/// `username` where one is named.
#[component]
pub(crate) fn EmailField(
    #[prop(into)] error: Signal<Option<AppError>>,
    autocomplete: &'static str,
) -> impl IntoView {
    view! {
        <FormField label="Email" name="email" input_type="email" autocomplete=autocomplete error
            validate=|v| Email::parse(v).map(drop)/>
    }
}

/// A new password's field (`password`), checked against the length rules as it is typed.
#[component]
pub(crate) fn NewPasswordField(
    #[prop(into)] error: Signal<Option<AppError>>,
    label: &'static str,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <FormField label name="password" input_type="password" autocomplete="new-password" hint
            error validate=|v| NewPassword::parse(v).map(drop)/>
    }
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <main class="auth">
            <div class="card">
                <p class="brand">"Clariva Care"</p>
                <h1>{title}</h1>
                {children()}
            </div>
        </main>
    }
}

/// "Log out of every other device", with how many sessions it ended.
#[component]
pub fn LogOutOthers() -> impl IntoView {
    let action = ServerAction::<LogOutOthers>::new();
    let result = move || {
        action.value().get().map(|result| match result {
            Ok(0) => "You were not logged in anywhere else.".to_owned(),
            Ok(1) => "Logged out of 1 other device.".to_owned(),
            Ok(n) => format!("Logged out of {n} other devices."),
            Err(error) => error.to_string(),
        })
    };
    view! {
        <section class="panel" aria-labelledby="devices-title">
            <h2 id="devices-title">"Your devices"</h2>
            <p>"Sessions end after 30 days, or after 7 days without use. Lost a phone or used a shared computer?"</p>
            <ActionForm action=action attr:class="form">
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    "Log out of every other device"
                </button>
            </ActionForm>
            <p role="status">{result}</p>
        </section>
    }
}

/// The dashboard's "Log out" button.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action=action attr:class="logout">
            <button type="submit" disabled=move || action.pending().get()>"Log out"</button>
        </ActionForm>
    }
}
