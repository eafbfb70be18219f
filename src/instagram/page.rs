//! The Instagram pane: connect through Meta, pick an account when there are several, see the
//! link, its health and the assistant's buttons (with a retry when Meta did not take them),
//! disconnect after confirming.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    instagram_status, AccountChoice, ChooseAccount, Disconnect, InstagramPane, LinkView, Outcome,
    RetryMenu, GUIDE, META_HELP_URL,
};
use crate::error::AppError;
use crate::ui::load_failed;

lazy_page!(
    /// The Instagram pane.
    InstagramRoute => InstagramPage
);

/// Where "Connect Instagram" goes: the server's start of Meta's login dialog (a full page
/// load, not a route of this app).
const START: &str = "/auth/meta/start";

#[component]
fn InstagramPage() -> impl IntoView {
    let choose = ServerAction::<ChooseAccount>::new();
    let disconnect = ServerAction::<Disconnect>::new();
    let retry = ServerAction::<RetryMenu>::new();
    let pane = Resource::new(
        move || {
            (
                choose.version().get(),
                disconnect.version().get(),
                retry.version().get(),
            )
        },
        |_| instagram_status(),
    );
    // What the trip through Meta's dialog came to: shown until the doctor does something here,
    // and dropped from the address bar so that a reload does not tell it again.
    let arrived_with = use_query_map()
        .with_untracked(|query| query.get("result"))
        .and_then(|code| Outcome::from_code(&code));
    Effect::new(move |_| {
        if arrived_with.is_some() {
            forget_outcome_in_address();
        }
    });
    let outcome = move || {
        let acted = choose.version().get() + disconnect.version().get() > 0;
        arrived_with.filter(|_| !acted)
    };
    let chose = move || matches!(choose.value().get(), Some(Ok(())));
    let disconnected = move || matches!(disconnect.value().get(), Some(Ok(())));
    let failed = move || {
        [
            choose.value().get(),
            disconnect.value().get(),
            retry.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    };
    view! {
        <h1>"Instagram"</h1>
        <p class="lead">"The assistant answers the DMs sent to the Instagram account you connect here."</p>
        {move || outcome().map(|outcome| view! { <OutcomeNote outcome/> })}
        {move || chose().then(|| view! { <OutcomeNote outcome=Outcome::Connected/> })}
        {move || disconnected().then(|| view! {
            <p class="saved" role="status">"Instagram is disconnected. The assistant no longer answers its DMs."</p>
        })}
        {move || failed().map(|error| view! { <p class="alert" role="alert">{error.to_string()}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || Suspend::new(async move { Ok::<_, AppError>(match pane.await {
                Ok(pane) => view! { <PaneBody pane choose disconnect retry/> }.into_any(),
                Err(AppError::Unauthorized) => view! {
                    <p class="alert">"Your session has ended. " <a href="/login?next=/dashboard/instagram">"Log in again"</a></p>
                }.into_any(),
                Err(error) => return Err(error),
            })})}
            </ErrorBoundary>
        </Transition>
    }
}

/// Replaces `/dashboard/instagram?result=…` by `/dashboard/instagram` in the address bar and
/// history, without a navigation.
#[cfg(feature = "hydrate")]
fn forget_outcome_in_address() {
    if let Some(history) = web_sys::window().and_then(|window| window.history().ok()) {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("/dashboard/instagram"),
        );
    }
}

/// Effects do not run on the server.
#[cfg(not(feature = "hydrate"))]
fn forget_outcome_in_address() {}

#[component]
fn OutcomeNote(outcome: Outcome) -> impl IntoView {
    let help = (outcome == Outcome::NoEligibleAccount).then(|| {
        view! {
            " "
            <a href=META_HELP_URL target="_blank" rel="external noopener">
                "How to link Instagram to a Facebook Page"
            </a>
        }
    });
    if outcome.is_success() {
        view! { <p class="saved" role="status">{outcome.message()}</p> }.into_any()
    } else {
        view! { <p class="alert" role="alert">{outcome.message()}{help}</p> }.into_any()
    }
}

#[component]
fn PaneBody(
    pane: InstagramPane,
    choose: ServerAction<ChooseAccount>,
    disconnect: ServerAction<Disconnect>,
    retry: ServerAction<RetryMenu>,
) -> impl IntoView {
    let InstagramPane {
        meta_configured,
        link,
        choices,
    } = pane;
    view! {
        {(!meta_configured).then(|| view! {
            <section class="panel" aria-labelledby="meta-title">
                <h2 id="meta-title">"Not available on this server yet"</h2>
                <p>{Outcome::NotConfigured.message()}</p>
                <p class="hint">"Your clinic's administrator (whoever runs Clariva Care for you) sets Instagram up once for this server, as "
                    <a href=GUIDE rel="external">"the guide for administrators"</a>
                    " describes. Then this page offers to connect your account."</p>
            </section>
        })}
        {(!choices.is_empty()).then(|| view! { <Choices choices choose/> })}
        {match link {
            Some(link) => view! { <Connected link disconnect retry meta_configured/> }.into_any(),
            None => view! {
                <section class="panel" aria-labelledby="link-title">
                    <h2 id="link-title">"Not connected"</h2>
                    <p>"Connect the Instagram professional account your patients message. You log in with Facebook and allow Clariva Care to manage that account's messages; the account must be linked to a Facebook Page you manage."</p>
                    {meta_configured.then(|| view! {
                        <a class="button primary" href=START rel="external">"Connect Instagram"</a>
                    })}
                </section>
            }.into_any(),
        }}
    }
}

#[component]
fn Choices(choices: Vec<AccountChoice>, choose: ServerAction<ChooseAccount>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="choose-title">
            <h2 id="choose-title">"Choose the Instagram account"</h2>
            <p>"The assistant answers one account. Pick the one your patients message."</p>
            <ul class="choices">
                {choices.into_iter().map(|choice| view! {
                    <li>
                        <ActionForm action=choose>
                            <input type="hidden" name="page_id" value=choice.page_id/>
                            <span>{format!("@{} (Page: {})", choice.username, choice.page_name)}</span>
                            " "
                            <button type="submit" class="primary" disabled=move || choose.pending().get()>
                                {format!("Connect @{}", choice.username)}
                            </button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Connected(
    link: LinkView,
    disconnect: ServerAction<Disconnect>,
    retry: ServerAction<RetryMenu>,
    meta_configured: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let attention = link.health.needs_attention();
    let offer_retry = link.menu.needs_attention() && meta_configured;
    let menu = link.menu.describe();
    let username = link.username.clone();
    view! {
        <section class="panel" aria-labelledby="link-title">
            <h2 id="link-title">{format!("Connected as @{}", link.username)}</h2>
            <dl class="facts">
                <dt>"Facebook Page"</dt><dd>{link.page_name}</dd>
                <dt>"Connected since"</dt><dd>{link.connected_on}</dd>
                <dt>"Connection"</dt><dd>{link.health.describe()}</dd>
                {(!offer_retry).then(|| view! { <dt>"Buttons"</dt><dd>{menu.clone()}</dd> })}
            </dl>
            {offer_retry.then(|| view! {
                <ActionForm action=retry>
                    <p class="alert" role="alert">{menu.clone()} " "
                        <button type="submit" class="primary" disabled=move || retry.pending().get()>"Try again"</button>
                    </p>
                </ActionForm>
            })}
            {(attention && meta_configured).then(|| view! {
                <p class="alert" role="alert">"This connection needs attention. "
                    <a class="button primary" href=START rel="external">"Reconnect Instagram"</a>
                </p>
            })}
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Disconnect"</button>
                }
            >
                <div class="confirm" role="group" aria-label="Confirm disconnecting">
                    <p>{format!("The assistant stops answering DMs sent to @{username}. Your conversations and appointments stay.")}</p>
                    <ActionForm action=disconnect>
                        <button type="submit" class="danger" disabled=move || disconnect.pending().get()>"Yes, disconnect"</button>
                        " "
                        <button type="button" on:click=move |_| confirming.set(false)>"Keep connected"</button>
                    </ActionForm>
                </div>
            </Show>
        </section>
    }
}
