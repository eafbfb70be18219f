//! The document shell, the routes, and the dashboard's frame.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::{Lazy, SsrMode, StaticSegment};

use crate::assistant::TryAssistantRoute;
use crate::auth::account::AccountRoute;
use crate::auth::recovery::{ForgotPasswordRoute, ResetPasswordRoute};
use crate::auth::{LoginRoute, LogoutButton, SignupRoute};
use crate::booking::{AppointmentsRoute, NextAppointments};
use crate::dashboard::{current_doctor, DoctorResource};
use crate::error::AppError;
use crate::inbox::InboxRoute;
use crate::instagram::InstagramRoute;
use crate::setup::{
    AssistantRoute, AvailabilityRoute, MethodsFeesRoute, PaymentsRoute, ProfileRoute,
    ServicesRoute, SetupSection,
};

/// The whole HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // The stylesheet under the name the build gave it (a digest with `hash-files`).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Clariva Care"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=Home/>
                <Route path=StaticSegment("signup") view={Lazy::<SignupRoute>::new()}/>
                <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()}/>
                <Route path=StaticSegment("forgot-password") view={Lazy::<ForgotPasswordRoute>::new()}/>
                <Route path=StaticSegment("reset-password") view={Lazy::<ResetPasswordRoute>::new()}/>
                // Rendered whole once its data is in (not streamed out of order): out-of-order
                // streaming left about one dashboard response in a few hundred unfinished under
                // load (leptos-rs/leptos#4851, #4578), and these pages' data are quick reads.
                <ParentRoute path=StaticSegment("dashboard") view=Dashboard ssr=SsrMode::Async>
                    <Route path=StaticSegment("") view={Lazy::<OverviewRoute>::new()}/>
                    <Route path=StaticSegment("appointments") view={Lazy::<AppointmentsRoute>::new()}/>
                    <Route path=StaticSegment("inbox") view={Lazy::<InboxRoute>::new()}/>
                    <Route path=StaticSegment("assistant") view={Lazy::<TryAssistantRoute>::new()}/>
                    <Route path=StaticSegment("instagram") view={Lazy::<InstagramRoute>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()}/>
                    <ParentRoute path=StaticSegment("setup") view=SetupSection>
                        <Route path=StaticSegment("profile") view={Lazy::<ProfileRoute>::new()}/>
                        <Route path=StaticSegment("availability") view={Lazy::<AvailabilityRoute>::new()}/>
                        <Route path=StaticSegment("methods-fees") view={Lazy::<MethodsFeesRoute>::new()}/>
                        <Route path=StaticSegment("services") view={Lazy::<ServicesRoute>::new()}/>
                        <Route path=StaticSegment("payments") view={Lazy::<PaymentsRoute>::new()}/>
                        <Route path=StaticSegment("assistant") view={Lazy::<AssistantRoute>::new()}/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <main class="home">
            <h1>"Clariva Care"</h1>
            <p>"The receptionist in your Instagram DMs: it answers patients, books them into your free times, collects the fee and hands over to your team when asked."</p>
            <p class="actions">
                <a class="button primary" href="/signup">"Create an account"</a>
                <a class="button" href="/login">"Log in"</a>
            </p>
        </main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="home">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to Clariva Care"</a></p>
        </main>
    }
}

/// The frame of every dashboard page: the bar with the doctor's name and "Log out".
#[component]
fn Dashboard() -> impl IntoView {
    // Reloaded on every move within the dashboard, so the checklist and the name follow what
    // the panes just saved.
    let location = leptos_router::hooks::use_location();
    let doctor: DoctorResource =
        Resource::new(move || location.pathname.get(), |_| current_doctor());
    provide_context(doctor);
    // The bar reads a resource of its own: one resource read by two Suspense boundaries (the
    // bar's and the page's) can leave server rendering waiting forever
    // (leptos-rs/leptos#4851, seen here on about one dashboard load in a few hundred).
    let signed_in = Resource::new(|| (), |()| current_doctor());
    let edits = crate::setup::UnsavedEdits::provide();
    view! {
        // In the capture phase, so it runs before the router follows the link.
        <div class="shell" on:click:capture=move |ev| edits.confirm_leaving(&ev)>
        <header class="topbar">
            <A href="/dashboard" attr:class="brand">"Clariva Care"</A>
            <nav aria-label="Dashboard">
                <A href="/dashboard" exact=true>"Overview"</A>
                <A href="/dashboard/inbox">"Inbox"</A>
                <A href="/dashboard/appointments">"Appointments"</A>
                <A href="/dashboard/assistant">"Try your assistant"</A>
                <A href="/dashboard/instagram">"Instagram"</A>
                <A href="/dashboard/setup/profile">"Setup"</A>
                <A href="/dashboard/account">"Account"</A>
            </nav>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    signed_in.await.ok().map(|d| view! { <span class="who">{d.full_name}</span> })
                })}
            </Transition>
            <LogoutButton/>
        </header>
        <main class="dashboard">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    signed_in.await.ok().filter(|d| !d.email_confirmed).map(|_| view! {
                        <p class="banner">"Please confirm your email address with the link we mailed you: it lets you recover your account. " <a href="/dashboard/account">"Send it again"</a></p>
                    })
                })}
            </Transition>
            <Outlet/>
        </main>
        </div>
    }
}

lazy_page!(
    /// The dashboard's overview: greeting and setup checklist.
    OverviewRoute => Overview
);

#[component]
fn Overview() -> impl IntoView {
    let doctor = expect_context::<DoctorResource>();
    // Created here, not inside the Transition that shows it: a resource created while a
    // Suspense renders its children keeps server rendering waiting for it.
    let agenda = Resource::new(|| (), |()| crate::booking::agenda());
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move { match doctor.await {
                Ok(doctor) => view! {
                    <h1>{format!("Welcome, {}", doctor.full_name)}</h1>
                    {(!doctor.offers_a_method).then(|| view! {
                        <p class="alert" role="note">
                            "The assistant cannot book patients until you offer at least one appointment method. "
                            <a href="/dashboard/setup/methods-fees">"Set methods and fees"</a>
                        </p>
                    })}
                    {doctor.instagram.as_ref().filter(|health| health.needs_attention()).map(|health| view! {
                        <p class="alert" role="alert">
                            "Instagram needs attention: " {health.describe()} " "
                            <a class="button primary" href="/auth/meta/start" rel="external">"Reconnect Instagram"</a>
                        </p>
                    })}
                    {(doctor.unread > 0).then(|| view! {
                        <p class="note" role="status">
                            <a href="/dashboard/inbox">{format!("{} unread message{} in your Inbox", doctor.unread, if doctor.unread == 1 { "" } else { "s" })}</a>
                        </p>
                    })}
                    <NextAppointments agenda/>
                    <section class="panel" aria-labelledby="setup-title">
                        <h2 id="setup-title">"Set up your practice"</h2>
                        <ol class="checklist">
                            <li class="done">"Create your Clariva account" <span class="status">"Done"</span></li>
                            <SetupStep done=doctor.has_profile href="/dashboard/setup/profile" title="Describe your practice"/>
                            <SetupStep done=doctor.has_hours href="/dashboard/setup/availability" title="Set your hours and time zone"/>
                            <SetupStep done=doctor.offers_a_method href="/dashboard/setup/methods-fees" title="Set your appointment methods and fees"/>
                            <SetupStep done=doctor.has_services href="/dashboard/setup/services" title="Add your services"/>
                            <SetupStep done=doctor.instagram.is_some() href="/dashboard/instagram" title="Connect your Instagram account"/>
                        </ol>
                        {doctor.cannot_book_until().map(|missing| view! {
                            <p class="warning">
                                {format!("The assistant will answer questions and pass booking requests to you until you {missing}.")}
                            </p>
                        })}
                    </section>
                }.into_any(),
                Err(AppError::Unauthorized) => view! {
                    <p class="alert">"Your session has ended. " <a href="/login?next=/dashboard">"Log in again"</a></p>
                }.into_any(),
                Err(error) => view! { <p class="alert">{error.to_string()}</p> }.into_any(),
            }})}
        </Transition>
    }
}

/// One line of the setup checklist: a link to the pane and whether it is done.
#[component]
fn SetupStep(done: bool, href: &'static str, title: &'static str) -> impl IntoView {
    view! {
        <li class:done=done>
            <a href=href>{title}</a>
            <span class="status">{if done { "Done" } else { "To do" }}</span>
        </li>
    }
}
