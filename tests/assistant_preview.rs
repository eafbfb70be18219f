//! "Try your assistant" over HTTP: the doctor chats with their own assistant through
//! `assistant/try`, carrying the engine's state from turn to turn as the page does. A dry run
//! through to "Confirm" says what it would book and books nothing; it needs a session; bad
//! input gets field errors and an unreadable state starts afresh, never a 5xx; and each doctor
//! tries only their own practice, even with another doctor's state in hand. And until the
//! assistant can book, the dashboard's checklist says what it does meanwhile.

mod common;

use common::webhook::count;
use common::{open_practice, Backend, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::Value;

on_both_databases!(
    a_dry_run_through_to_confirm_would_book_and_books_nothing,
    trying_the_assistant_needs_a_session,
    bad_input_gets_field_errors_and_an_unreadable_state_starts_afresh,
    each_doctor_tries_only_their_own_practice,
    the_checklist_says_the_assistant_passes_booking_requests_on_until_it_can_book,
);

/// A dry-run conversation in one browser, keeping the state and version between turns.
struct Chat<'a> {
    app: &'a TestApp,
    browser: &'a Client,
    state: String,
    version: i64,
}

impl<'a> Chat<'a> {
    fn new(app: &'a TestApp, browser: &'a Client) -> Self {
        Self {
            app,
            browser,
            state: String::new(),
            version: 0,
        }
    }

    async fn send(&mut self, text: &str, payload: &str) -> Value {
        let version = self.version.to_string();
        let form = [
            ("text", text),
            ("payload", payload),
            ("state", self.state.as_str()),
            ("version", version.as_str()),
        ];
        let response = self
            .app
            .call_from(self.browser, "assistant/try", &form)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{text:?} {payload:?}");
        let turn: Value = response.json().await.unwrap();
        self.state = turn["state"].as_str().unwrap().to_owned();
        self.version = turn["version"].as_i64().unwrap();
        turn
    }

    async fn say(&mut self, text: &str) -> Value {
        self.send(text, "").await
    }

    /// Taps the quick reply titled `title` of `turn`, as the page does: its title as the text.
    async fn tap(&mut self, turn: &Value, title: &str) -> Value {
        let payload = quick_replies(turn)
            .into_iter()
            .find(|(t, _)| t == title)
            .unwrap_or_else(|| panic!("no quick reply {title:?} in {turn}"))
            .1;
        self.send(title, &payload).await
    }
}

fn quick_replies(turn: &Value) -> Vec<(String, String)> {
    turn["replies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["quick_replies"].as_array().unwrap())
        .map(|q| {
            (
                q["title"].as_str().unwrap().to_owned(),
                q["payload"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn texts(turn: &Value) -> String {
    turn["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn a_dry_run_through_to_confirm_would_book_and_books_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let mut chat = Chat::new(&app, &app.client);

    let menu = chat.say("hi").await;
    assert!(texts(&menu).contains("automated assistant"), "{menu}");
    assert_eq!(menu["effect"], Value::Null);
    let services = chat.tap(&menu, "Book").await;
    let methods = chat.tap(&services, "Consultation").await;
    assert!(
        texts(&methods).contains("Voice call: 500.00 INR"),
        "{methods}"
    );
    let days = chat.tap(&methods, "Voice call").await;
    let first_day = quick_replies(&days)[0].0.clone();
    let times = chat.tap(&days, &first_day).await;
    assert!(texts(&times).contains("(Asia/Kolkata time)"), "{times}");
    let first_time = quick_replies(&times)[0].0.clone();
    chat.tap(&times, &first_time).await;
    chat.say("Ravi Kumar").await;
    let summary = chat.say("+91 98765 43210").await;
    assert!(texts(&summary).contains("+919876543210"), "{summary}");
    let confirmed = chat.tap(&summary, "Confirm").await;

    // The assistant answers as it would a patient, and says what it would have done.
    assert!(texts(&confirmed).contains("You're booked"), "{confirmed}");
    let would = confirmed["effect"]["what"].as_str().unwrap();
    assert!(
        would.starts_with("Would book: Consultation, Voice call, ")
            && would.contains(&first_time)
            && would.ends_with("(Asia/Kolkata time) for Ravi Kumar"),
        "{would}"
    );
    assert_eq!(
        confirmed["effect"]["dry_run"],
        "Dry run: nothing was booked."
    );

    // Nothing was booked or held (a hold is a row too), no patient or conversation was
    // stored, nothing was queued for Instagram.
    for table in ["appointments", "patients", "conversations", "messages"] {
        let rows = count(&app, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(rows, 0, "{table}");
    }
}

async fn trying_the_assistant_needs_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = [
        ("text", "hi"),
        ("payload", ""),
        ("state", ""),
        ("version", "0"),
    ];
    let response = app.call("assistant/try", &form).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let page = app.get("/dashboard/assistant").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);

    // Signed in, the page is there and linked from the dashboard's bar.
    app.new_doctor(&app.client, "Asha Rao").await;
    let page = app.get("/dashboard/assistant").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Try your assistant"), "{html}");
    assert!(html.contains("dry run"), "{html}");
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(dashboard.contains(r#"href="/dashboard/assistant""#));
}

async fn bad_input_gets_field_errors_and_an_unreadable_state_starts_afresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let long = "a".repeat(1001);
    let tapped_nonsense = "x".repeat(65);
    for (text, payload, message) in [
        ("", "", "Type a message first."),
        ("   \n ", "", "Type a message first."),
        (long.as_str(), "", "Keep a message under 1000 characters."),
        (
            "Book",
            tapped_nonsense.as_str(),
            "That option is not one of the assistant's. Start over.",
        ),
    ] {
        let form = [
            ("text", text),
            ("payload", payload),
            ("state", ""),
            ("version", "0"),
        ];
        let response = app.call("assistant/try", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{text:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["text"], message, "{body}");
    }
    // A version that is not a number is refused as a bad request, not a failure.
    let form = [
        ("text", "hi"),
        ("payload", ""),
        ("state", ""),
        ("version", "seven"),
    ];
    let response = app.call("assistant/try", &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A state that does not read, or a version that is not ours, is a new conversation.
    let mid_flow = {
        let mut chat = Chat::new(&app, &app.client);
        let menu = chat.say("hi").await;
        chat.tap(&menu, "Book").await;
        chat.state
    };
    for (state, version) in [
        ("{\"step\": \"Confirm\", \"picks\": 42", "3"),
        ("null", "3"),
        ("\u{1}garbage\u{7f}", "1"),
        ("[\"Book\", {\"Service\": \"elsewhere\"}]", "2"),
        (mid_flow.as_str(), "-1"),
        (mid_flow.as_str(), "9223372036854775807"),
    ] {
        let form = [
            ("text", "Consultation"),
            ("payload", "a4:0"),
            ("state", state),
            ("version", version),
        ];
        let response = app.call("assistant/try", &form).await;
        assert_eq!(response.status(), StatusCode::OK, "{state:?} {version}");
        let turn: Value = response.json().await.unwrap();
        assert!(
            texts(&turn).contains("automated assistant"),
            "greeted afresh: {turn}"
        );
        assert_eq!(turn["version"], 1, "{turn}");
        assert_eq!(turn["effect"], Value::Null);
    }
}

async fn each_doctor_tries_only_their_own_practice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let mut hers = Chat::new(&app, &app.client);
    let menu = hers.say("hi").await;
    let services = hers.tap(&menu, "Book").await;
    assert!(texts(&services).contains("Consultation"), "{services}");

    // Ben has set nothing up: his assistant greets in his name and cannot book.
    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;
    let mut his = Chat::new(&app, &other);
    let menu = his.say("hi").await;
    assert!(texts(&menu).contains("Ben Okafor"), "{menu}");
    assert!(!texts(&menu).contains("Asha Rao"), "{menu}");
    let book = his.tap(&menu, "Book").await;
    assert!(
        texts(&book).contains("Booking by message isn't available"),
        "{book}"
    );
    assert_eq!(
        book["effect"]["what"],
        "Would hand the conversation to your team and pause the assistant in it"
    );

    // With Asha's state in hand, Ben still gets only his own practice: her service's id
    // means nothing in his.
    his.state = hers.state.clone();
    his.version = hers.version;
    let tapped = his.tap(&services, "Consultation").await;
    let said = texts(&tapped);
    assert!(!said.contains("500.00 INR"), "{said}");
    assert!(!said.contains("Voice call"), "{said}");
    assert!(
        said.contains("Booking by message isn't available"),
        "{said}"
    );
    assert_ne!(
        tapped["effect"]["what"]
            .as_str()
            .map(|w| w.starts_with("Would book")),
        Some(true)
    );

    // And Asha's own chat carries on with her practice.
    let methods = hers.tap(&services, "Consultation").await;
    assert!(
        texts(&methods).contains("Voice call: 500.00 INR"),
        "{methods}"
    );
}

async fn the_checklist_says_the_assistant_passes_booking_requests_on_until_it_can_book(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains(
            "The assistant will answer questions and pass booking requests to you until you \
             set your hours and time zone, offer an appointment method and add a service."
        ),
        "{dashboard}"
    );
    open_practice(&app, &app.client).await;
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        !dashboard.contains("pass booking requests to you"),
        "{dashboard}"
    );
}
