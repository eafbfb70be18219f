//! The assistant pane's server functions over HTTP: the defaults before anything is saved,
//! saving and reading back, each validation error, online payment refused until payments
//! exist, 401 without a session, and one doctor never seeing or changing another's settings;
//! and the conversation state the engine keeps, saved only over the version it read.

mod common;

use clariva::crypto::seal::Sealed;
use clariva::db::{self, Db, DoctorId};
use clariva::domain::account::Email;
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use sqlx::{Connection, Row};

on_both_databases!(
    a_doctor_who_saved_nothing_gets_the_defaults,
    a_doctor_saves_the_settings_and_reads_them_back,
    each_invalid_field_is_reported_and_nothing_is_saved,
    online_payment_is_refused_until_payments_are_set_up,
    every_change_is_audited_by_field_name_only,
    the_settings_need_a_session,
    doctors_see_and_change_only_their_own_settings,
    a_conversations_state_is_saved_only_over_the_version_read,
);

const DEFAULT_GREETING: &str = "Hi! I'm the automated assistant of Rao Family Clinic. I can \
     book, move or cancel appointments and answer questions about fees and hours.";

fn settings_form<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("enabled", "on"),
        (
            "greeting",
            "Hello! This is the Rao clinic's booking assistant.",
        ),
        ("booking_mode", "approval"),
        (
            "emergency_line",
            "In an emergency call 112 or go to City Hospital.",
        ),
    ];
    for (name, value) in overrides {
        form.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
    }
    form
}

/// A signed-up doctor whose practice is named "Rao Family Clinic".
async fn signed_up(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let profile = [
        ("full_name", "Asha Rao"),
        ("practice_name", "Rao Family Clinic"),
        ("phone", ""),
        ("phone_country", ""),
        ("address", ""),
        ("public_note", ""),
    ];
    let response = app.call("setup/profile/save", &profile).await;
    assert_eq!(response.status(), StatusCode::OK);
    app
}

async fn read_settings(app: &TestApp, browser: &Client) -> serde_json::Value {
    app.read_from(browser, "setup/assistant").await
}

async fn save(app: &TestApp, browser: &Client, form: &[(&str, &str)]) -> reqwest::Response {
    app.call_from(browser, "setup/assistant/save", form).await
}

async fn a_doctor_who_saved_nothing_gets_the_defaults(backend: Backend) {
    let app = signed_up(backend).await;
    let settings = read_settings(&app, &app.client).await;
    assert_eq!(settings["enabled"], true);
    assert_eq!(settings["greeting"], "");
    assert_eq!(settings["booking_mode"], "confirm");
    assert_eq!(settings["emergency_line"], "");
    assert_eq!(settings["default_greeting"], DEFAULT_GREETING);

    // The page offers the three modes, online payment not yet.
    let page = app.get("/dashboard/setup/assistant").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for text in [
        "Confirmed at once",
        "Wait for my approval",
        "Need online payment",
        "Connect Stripe or Razorpay on the Payments pane first.",
        "If this is an emergency, call your local emergency number now.",
        "automated assistant of Rao Family Clinic",
    ] {
        assert!(html.contains(text), "{text}");
    }
}

async fn a_doctor_saves_the_settings_and_reads_them_back(backend: Backend) {
    let app = signed_up(backend).await;
    let form = settings_form(&[("greeting", "  Hello from the Rao clinic!  ")]);
    assert_eq!(
        save(&app, &app.client, &form).await.status(),
        StatusCode::OK
    );
    let saved = read_settings(&app, &app.client).await;
    assert_eq!(saved["enabled"], true);
    assert_eq!(saved["greeting"], "Hello from the Rao clinic!", "trimmed");
    assert_eq!(saved["booking_mode"], "approval");
    assert_eq!(
        saved["emergency_line"],
        "In an emergency call 112 or go to City Hospital."
    );

    // An unchecked box is not sent: the assistant is off. Blank texts go back to the defaults.
    let off = [
        ("greeting", " "),
        ("booking_mode", "confirm"),
        ("emergency_line", ""),
    ];
    assert_eq!(save(&app, &app.client, &off).await.status(), StatusCode::OK);
    let saved = read_settings(&app, &app.client).await;
    assert_eq!(saved["enabled"], false);
    assert_eq!(saved["greeting"], "");
    assert_eq!(saved["booking_mode"], "confirm");
    assert_eq!(saved["emergency_line"], "");
}

async fn each_invalid_field_is_reported_and_nothing_is_saved(backend: Backend) {
    let app = signed_up(backend).await;
    let too_long = "a".repeat(301);
    for (field, value, message) in [
        (
            "greeting",
            too_long.as_str(),
            "A greeting has at most 300 characters.",
        ),
        (
            "greeting",
            "Hello\u{7}there",
            "A greeting cannot contain control characters.",
        ),
        ("greeting", "Hello\nthere", "A greeting fits on one line."),
        (
            "emergency_line",
            too_long.as_str(),
            "The emergency line has at most 300 characters.",
        ),
        (
            "emergency_line",
            "Call\u{1b}112",
            "The emergency line cannot contain control characters.",
        ),
        (
            "booking_mode",
            "instant",
            "Choose how bookings are confirmed.",
        ),
    ] {
        let response = save(&app, &app.client, &settings_form(&[(field, value)])).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value:?}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"][field], message, "{field}: {body}");
    }
    let stored = read_settings(&app, &app.client).await;
    assert_eq!(
        (stored["greeting"].as_str(), stored["booking_mode"].as_str()),
        (Some(""), Some("confirm")),
        "nothing was saved"
    );
}

async fn online_payment_is_refused_until_payments_are_set_up(backend: Backend) {
    let app = signed_up(backend).await;
    let response = save(
        &app,
        &app.client,
        &settings_form(&[("booking_mode", "payment")]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["Invalid"]["booking_mode"],
        "Need online payment is not available yet. Connect Stripe or Razorpay on the Payments pane first."
    );
    assert_eq!(
        read_settings(&app, &app.client).await["booking_mode"],
        "confirm"
    );
}

async fn every_change_is_audited_by_field_name_only(backend: Backend) {
    let app = signed_up(backend).await;
    save(&app, &app.client, &settings_form(&[])).await;
    save(&app, &app.client, &settings_form(&[])).await; // no change, no row
    let greeting = [("greeting", "Welcome to the clinic.")];
    save(&app, &app.client, &settings_form(&greeting)).await;

    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT changed_fields FROM audit_log WHERE action = 'assistant.updated'
         ORDER BY created_at, id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let fields: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    // The first save leaves `enabled` as it was (on by default).
    assert_eq!(
        fields,
        ["greeting,booking_mode,emergency_line", "greeting"],
        "{fields:?}"
    );
}

async fn the_settings_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in ["setup/assistant", "setup/assistant/save"] {
        let response = app.call(function, &settings_form(&[])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
    let page = app.get("/dashboard/setup/assistant").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

async fn doctors_see_and_change_only_their_own_settings(backend: Backend) {
    let app = signed_up(backend).await;
    save(&app, &app.client, &settings_form(&[])).await;

    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;
    let theirs = read_settings(&app, &other).await;
    assert_eq!(theirs["greeting"], "", "Ben sees the defaults, not Asha's");
    assert_eq!(theirs["booking_mode"], "confirm");
    assert!(theirs["default_greeting"]
        .as_str()
        .unwrap()
        .contains("assistant of Ben Okafor"));

    // Ben turning his assistant off leaves Asha's as she saved it.
    let off = [
        ("greeting", "Ben's clinic here."),
        ("booking_mode", "confirm"),
        ("emergency_line", ""),
    ];
    assert_eq!(save(&app, &other, &off).await.status(), StatusCode::OK);
    let hers = read_settings(&app, &app.client).await;
    assert_eq!(hers["enabled"], true);
    assert_eq!(
        hers["greeting"],
        "Hello! This is the Rao clinic's booking assistant."
    );
    assert_eq!(hers["booking_mode"], "approval");
    assert_eq!(read_settings(&app, &other).await["enabled"], false);
}

async fn doctor_id(app: &TestApp, db: &Db, name: &str) -> DoctorId {
    let email = app.new_doctor(&app.other_browser(), name).await;
    db::doctors::credentials(db, &Email::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .doctor_id
}

fn sealed(value: &str) -> Sealed {
    Sealed {
        key_id: "k1".into(),
        value: value.into(),
    }
}

/// The conversation's state and version as `doctor`'s transaction reads them.
async fn state_of(db: &Db, doctor: &DoctorId, conversation: &str) -> Option<(Sealed, i64)> {
    let mut tx = db.tenant(doctor).await.unwrap();
    let state = db::assistant::load_state(&mut tx, conversation)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    state
}

/// Saves `value` as the conversation's state over `expected`, in `doctor`'s transaction;
/// whether it was stored.
async fn save_state(
    db: &Db,
    doctor: &DoctorId,
    conversation: &str,
    value: &str,
    expected: i64,
) -> bool {
    let mut tx = db.tenant_writer(doctor).await.unwrap();
    let saved = db::assistant::save_state(&mut tx, conversation, &sealed(value), expected)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    saved
}

async fn a_conversations_state_is_saved_only_over_the_version_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let asha = doctor_id(&app, &db, "Asha Rao").await;
    let ben = doctor_id(&app, &db, "Ben Okafor").await;
    let mut tx = db.tenant_writer(&asha).await.unwrap();
    let conversation = db::conversations::open(&mut tx, "17841400000000011", "6543210", 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(state_of(&db, &asha, &conversation).await, None);
    assert!(save_state(&db, &asha, &conversation, "one", 0).await);
    // A second writer that also read version 0 loses, and changes nothing.
    assert!(!save_state(&db, &asha, &conversation, "stale", 0).await);
    assert_eq!(
        state_of(&db, &asha, &conversation).await,
        Some((sealed("one"), 1))
    );
    assert!(save_state(&db, &asha, &conversation, "two", 1).await);

    // Another doctor neither reads nor overwrites it.
    assert_eq!(state_of(&db, &ben, &conversation).await, None);
    assert!(!save_state(&db, &ben, &conversation, "ben", 2).await);
    assert_eq!(
        state_of(&db, &asha, &conversation).await,
        Some((sealed("two"), 2))
    );
    db.close().await;
}
