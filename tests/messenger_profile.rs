//! The assistant's buttons on Instagram, end to end against the fake Meta: connecting puts up
//! four ice breakers and the same four in the persistent menu, with the engine's payloads and
//! the catalogue's titles; saving the assistant settings with it off takes them down and on
//! again puts them back; Meta failing leaves the connection and the save working, the
//! Instagram pane says why, and trying again from there mends it; disconnecting takes them
//! down.

mod common;

use clariva::assistant::catalogue::{MENU_BOOK, MENU_FEES, MENU_MINE, TALK};
use clariva::assistant::engine::{BOOK, FEES, HUMAN, MINE};
use common::fake_meta::{FakeMeta, FakePage};
use common::meta_flow::app_with_meta;
use common::webhook::linked_doctor;
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

on_both_databases!(
    connecting_sets_four_ice_breakers_and_the_menu_with_the_engines_payloads,
    turning_the_assistant_off_removes_the_buttons_and_on_again_sets_them,
    a_failing_meta_leaves_the_connection_working_and_the_pane_shows_why,
    a_failed_removal_is_shown_and_retried,
    disconnecting_takes_the_buttons_down,
);

const PAGE: &str = "100000000000031";

fn clinic() -> FakePage {
    FakePage {
        id: PAGE,
        name: "Rao Skin Clinic",
        token: "page-token-menu",
        instagram: Some(("17841400000000031", "raoskin")),
    }
}

/// The four buttons as the assistant names them: (title, payload).
fn buttons() -> [(&'static str, &'static str); 4] {
    [
        (MENU_BOOK, BOOK),
        (MENU_MINE, MINE),
        (MENU_FEES, FEES),
        (TALK, HUMAN),
    ]
}

/// The profile Meta should hold while the assistant is on.
fn assistant_profile() -> Value {
    let questions: Vec<Value> = buttons()
        .iter()
        .map(|(title, payload)| json!({"question": title, "payload": payload}))
        .collect();
    let menu: Vec<Value> = buttons()
        .iter()
        .map(|(title, payload)| json!({"type": "postback", "title": title, "payload": payload}))
        .collect();
    json!({
        "ice_breakers": [{"call_to_actions": questions, "locale": "default"}],
        "persistent_menu": [{"locale": "default", "call_to_actions": menu}],
    })
}

async fn world(backend: Backend) -> (TestApp, FakeMeta, Client) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, _) = linked_doctor(&app, &meta, clinic()).await;
    (app, meta, browser)
}

/// The Instagram pane's data: the link's buttons.
async fn menu_on_pane(app: &TestApp, browser: &Client) -> Value {
    let pane = app.read_from(browser, "instagram").await;
    assert!(!pane["link"].is_null(), "still connected: {pane}");
    pane["link"]["menu"].clone()
}

/// Saves the assistant settings with the assistant on or off; the save must succeed.
async fn save_assistant(app: &TestApp, browser: &Client, on: bool) {
    let mut form = vec![
        ("greeting", ""),
        ("booking_mode", "confirm"),
        ("emergency_line", ""),
    ];
    if on {
        form.push(("enabled", "on"));
    }
    let response = app.call_from(browser, "setup/assistant/save", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let settings = app.read_from(browser, "setup/assistant").await;
    assert_eq!(settings["enabled"], on, "the save stands");
}

async fn retry(app: &TestApp, browser: &Client) {
    let response = app.call_from(browser, "instagram/menu", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn connecting_sets_four_ice_breakers_and_the_menu_with_the_engines_payloads(
    backend: Backend,
) {
    let (app, meta, browser) = world(backend).await;
    assert_eq!(meta.messenger_profile(PAGE), Some(assistant_profile()));
    let set = meta
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST /v21.0/me/messenger_profile?"))
        .collect::<Vec<_>>();
    assert_eq!(set.len(), 1, "set once");
    assert!(set[0].contains("platform=instagram"), "{}", set[0]);
    let menu = menu_on_pane(&app, &browser).await;
    assert!(menu["Offered"]["since"].is_string(), "{menu}");
    app.stop().await;
}

async fn turning_the_assistant_off_removes_the_buttons_and_on_again_sets_them(backend: Backend) {
    let (app, meta, browser) = world(backend).await;
    save_assistant(&app, &browser, false).await;
    assert_eq!(meta.messenger_profile(PAGE), None);
    assert!(meta.calls().contains(&format!("delete profile {PAGE}")));
    assert_eq!(menu_on_pane(&app, &browser).await, json!("Off"));

    save_assistant(&app, &browser, true).await;
    assert_eq!(meta.messenger_profile(PAGE), Some(assistant_profile()));
    assert!(menu_on_pane(&app, &browser).await["Offered"].is_object());
    app.stop().await;
}

async fn a_failing_meta_leaves_the_connection_working_and_the_pane_shows_why(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    meta.fail_profiles(1);
    let (browser, _) = linked_doctor(&app, &meta, clinic()).await;
    assert_eq!(meta.messenger_profile(PAGE), None);
    let pane = app.read_from(&browser, "instagram").await;
    assert_eq!(
        pane["link"]["username"], "raoskin",
        "connected all the same"
    );
    let failed = &pane["link"]["menu"]["Failed"];
    assert_eq!(failed["setting"], true, "{pane}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.contains("unexpected error"),
        "Meta's reason: {reason}"
    );
    assert!(!reason.contains("page-token-menu"), "no token in {reason}");

    let html = browser
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Instagram&#x27;s menu could not be set")
            || html.contains("Instagram's menu could not be set"),
        "the pane says so"
    );
    assert!(html.contains("Try again"));

    // Saving the settings while Meta fails still saves them.
    meta.fail_profiles(1);
    save_assistant(&app, &browser, true).await;
    assert!(menu_on_pane(&app, &browser).await["Failed"].is_object());

    retry(&app, &browser).await;
    assert_eq!(meta.messenger_profile(PAGE), Some(assistant_profile()));
    assert!(menu_on_pane(&app, &browser).await["Offered"].is_object());
    app.stop().await;
}

async fn a_failed_removal_is_shown_and_retried(backend: Backend) {
    let (app, meta, browser) = world(backend).await;
    meta.fail_profiles(1);
    save_assistant(&app, &browser, false).await;
    assert_eq!(
        meta.messenger_profile(PAGE),
        Some(assistant_profile()),
        "still up"
    );
    let menu = menu_on_pane(&app, &browser).await;
    assert_eq!(menu["Failed"]["setting"], false, "{menu}");

    retry(&app, &browser).await;
    assert_eq!(meta.messenger_profile(PAGE), None);
    assert_eq!(menu_on_pane(&app, &browser).await, json!("Off"));
    app.stop().await;
}

async fn disconnecting_takes_the_buttons_down(backend: Backend) {
    let (app, meta, browser) = world(backend).await;
    let response = app.call_from(&browser, "instagram/disconnect", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(meta.messenger_profile(PAGE), None);
    app.stop().await;
}
