//! Online payment through the real app and the fake Stripe (`common/fake_payments.rs`): a
//! doctor connects Stripe (keys checked, sealed, never shown again), gets a payment link for a
//! booking, the patient pays on the fake's page, and Stripe's signed webhook confirms it; bad
//! signatures, other doctors' paths and replays change nothing; a webhook that never comes is
//! healed by asking Stripe when the hold ends; cancelling refunds as the policy says.

mod common;

use std::time::Duration;

use common::fake_payments::{stripe_signature, FakePayments};
use common::{open_practice, Backend, OpenPractice, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, Row};

on_both_databases!(
    connecting_stripe_checks_the_keys_and_never_shows_them_again,
    a_paid_link_confirms_the_booking_and_a_cancellation_refunds_it,
    webhook_signatures_are_checked_over_the_raw_bytes,
    a_lost_webhook_is_healed_by_asking_stripe_when_the_hold_ends,
    the_payment_server_functions_act_on_the_callers_own_data_only,
);

/// The doctor's webhook signing secret, their own.
fn secret(doctor: &str) -> String {
    format!("whsec_{doctor}0123456789abcdef")
}

/// The test's main doctor.
const ASHA: &str = "asha";

/// A doctor's own Stripe key, unique to the test (the fake is shared by nothing else).
fn key(doctor: &str) -> String {
    format!("rk_test_{doctor}0123456789abcdefghij")
}

struct Clinic {
    app: TestApp,
    stripe: FakePayments,
    practice: OpenPractice,
    webhook: String,
}

/// An app on `backend` talking to a fake Stripe, and a doctor with an open practice who has
/// connected Stripe (refunds in full until 24 hours before).
async fn clinic(backend: Backend) -> Clinic {
    let stripe = FakePayments::start().await;
    let url = stripe.url();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("STRIPE_API_BASE_URL", &url),
            ("RAZORPAY_API_BASE_URL", &url),
        ],
    )
    .await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let practice = open_practice(&app, &app.client).await;
    let webhook = connect(&app, &app.client, &stripe, ASHA).await;
    Clinic {
        app,
        stripe,
        practice,
        webhook,
    }
}

/// Connects Stripe for the doctor of `browser` with their own key; the webhook URL shown.
async fn connect(app: &TestApp, browser: &Client, stripe: &FakePayments, doctor: &str) -> String {
    stripe.add_stripe_account(&key(doctor), &secret(doctor), None);
    let response = save(app, browser, "stripe", &key(doctor), &secret(doctor)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let settings = app.read_from(browser, "setup/payments").await;
    let shown = settings["connected"]["webhook_url"].as_str().unwrap();
    // Shown under PUBLIC_BASE_URL; the test's server listens on a port of its own.
    let (_, path) = shown.split_once("/payments/").unwrap();
    let webhook = app.url(&format!("/payments/{path}"));
    stripe.add_stripe_account(&key(doctor), &secret(doctor), Some(webhook.clone()));
    webhook
}

async fn save(
    app: &TestApp,
    browser: &Client,
    provider: &str,
    secret: &str,
    webhook_secret: &str,
) -> reqwest::Response {
    let form = [
        ("provider", provider),
        ("key_id", ""),
        ("secret", secret),
        ("webhook_secret", webhook_secret),
        ("refund", "cutoff"),
        ("refund_hours", "24"),
    ];
    app.call_from(browser, "setup/payments/save", &form).await
}

/// Books a voice call by hand at the first free time at least `hours_ahead` away; its id.
async fn book(app: &TestApp, browser: &Client, service: &str, hours_ahead: i64) -> String {
    let earliest = common::webhook::now_ms() + hours_ahead * 3_600_000;
    let mut day = String::new();
    loop {
        let free: Value = app
            .call_from(
                browser,
                "appointments/free",
                &[("service", service), ("day", &day)],
            )
            .await
            .json()
            .await
            .unwrap();
        let start = free["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["starts_at"].as_i64().unwrap())
            .find(|at| *at >= earliest);
        if let Some(start) = start {
            let starts_at = start.to_string();
            let form = [
                ("service", service),
                ("method", "voice"),
                ("starts_at", starts_at.as_str()),
                ("patient_name", "Meera Iyer"),
                ("patient_phone", "+919876543210"),
                ("phone_country", "IN"),
                ("note", ""),
            ];
            let booked: Value = app
                .call_from(browser, "appointments/book", &form)
                .await
                .json()
                .await
                .unwrap();
            return booked["id"].as_str().unwrap().to_owned();
        }
        let days = free["days"].as_array().unwrap();
        let at = days
            .iter()
            .position(|d| Some(d["date"].as_str().unwrap()) == free["day"].as_str());
        day = days[at.map_or(1, |i| i + 1)]["date"]
            .as_str()
            .unwrap()
            .to_owned();
    }
}

/// Asks for a payment link for appointment `id`; the appointment as shown then.
async fn ask_link(app: &TestApp, browser: &Client, id: &str) -> Value {
    let response = app
        .call_from(browser, "appointments/payment-link", &[("id", id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The appointment `id` as the list shows it, once `done` says it is what the test waits for.
async fn shown_when(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..150 {
        let list: Value = app
            .call("appointments", &[("week", ""), ("status", "all")])
            .await
            .json()
            .await
            .unwrap();
        let found = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned();
        if let Some(found) = found.filter(|a| done(a)) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("appointment {id} never got there");
}

fn paid(a: &Value) -> bool {
    a["payment"]["state"]
        .as_str()
        .is_some_and(|s| s.starts_with("Paid"))
}

async fn raw(app: &TestApp, sql: &str) -> Vec<String> {
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    sqlx::query(sql)
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect()
}

async fn connecting_stripe_checks_the_keys_and_never_shows_them_again(backend: Backend) {
    let stripe = FakePayments::start().await;
    let url = stripe.url();
    let app = TestApp::spawn_with(backend, &[("STRIPE_API_BASE_URL", &url)]).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;

    // A key Stripe does not know is refused with the reason, and nothing is kept.
    let response = save(&app, &app.client, "stripe", &key("unknown"), &secret(ASHA)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("does not recognise"));
    // A restricted key without Checkout permission: told apart.
    let narrow = "rk_test_narrow0123456789abcdefghij";
    stripe.add_stripe_key_without_checkout(narrow);
    let body: Value = save(&app, &app.client, "stripe", narrow, &secret(ASHA))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("lacks a permission"));
    // Badly shaped keys never reach Stripe.
    let body: Value = save(&app, &app.client, "stripe", "pk_live_abc", "nope")
        .await
        .json()
        .await
        .unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("publishable"));
    assert!(body["Invalid"]["webhook_secret"].is_string());
    assert_eq!(
        app.read_from(&app.client, "setup/payments").await["connected"],
        Value::Null
    );

    let webhook = connect(&app, &app.client, &stripe, ASHA).await;
    let settings = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(settings["connected"]["key_last4"], "ghij");
    assert_eq!(settings["connected"]["live"], false);
    let text = settings.to_string();
    assert!(
        !text.contains(&key(ASHA)) && !text.contains(&secret(ASHA)),
        "{text}"
    );
    let doctor = raw(&app, "SELECT id FROM doctors").await.remove(0);
    assert!(!webhook.contains(&doctor), "{webhook}");
    // At rest, sealed: the raw row holds neither the key nor the secret.
    let stored = raw(
        &app,
        "SELECT provider || keys_sealed || key_last4 || webhook_ref FROM payment_accounts",
    )
    .await
    .concat();
    assert!(!stored.contains(&key(ASHA)) && !stored.contains(&secret(ASHA)));
    // Saving again with blank keys keeps them and the webhook URL.
    let response = save(&app, &app.client, "stripe", "", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let again = app.read_from(&app.client, "setup/payments").await;
    let shown = again["connected"]["webhook_url"].as_str().unwrap();
    assert!(
        webhook.ends_with(shown.split_once("/payments/").unwrap().1),
        "{shown}"
    );
    assert_eq!(
        app.call("setup/payments/check", &[])
            .await
            .json::<String>()
            .await
            .unwrap(),
        "The keys work: Stripe answered, in test mode."
    );
}

async fn a_paid_link_confirms_the_booking_and_a_cancellation_refunds_it(backend: Backend) {
    let clinic = clinic(backend).await;
    let app = &clinic.app;
    let id = book(app, &app.client, &clinic.practice.consultation, 48).await;
    let asked = ask_link(app, &app.client, &id).await;
    let link = asked["payment"]["link"]
        .as_str()
        .expect("the link is made within the wait");
    let session = clinic.stripe.sessions().pop().unwrap();
    assert!(link.ends_with(&session.id), "{link}");
    // 500.00 INR, in paise, for this appointment, with its idempotency key.
    assert_eq!((session.amount, session.currency.as_str()), (50_000, "inr"));
    assert_eq!(session.client_reference_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        session.idempotency_key,
        Some(format!("appointment:{id}:attempt:1"))
    );

    clinic.stripe.pay(&session.id).await.unwrap();
    let shown = shown_when(app, &id, paid).await;
    assert_eq!(shown["status"], "Confirmed");
    assert_eq!(shown["payment"]["state"], "Paid 500.00 INR with Stripe");
    assert!(shown["payment"]["reference"]
        .as_str()
        .unwrap()
        .contains(&session.id));
    assert_eq!(shown["can_mark_paid"], false);
    // Stripe's retry of the same event changes nothing more.
    clinic.stripe.resend_last_event().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = raw(app, "SELECT event_id FROM payment_events").await;
    assert_eq!(events.len(), 1, "{events:?}");
    // An `expired` event after the payment (out of order) moves nothing backwards.
    let expired = event("evt_late_expiry", "checkout.session.expired", &session.id);
    let now = common::webhook::now_ms() / 1000;
    let signature = stripe_signature(&expired, &secret(ASHA), now);
    assert_eq!(
        post(app, &clinic.webhook, &expired, &signature).await,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = shown_when(app, &id, paid).await;
    assert_eq!(shown["status"], "Confirmed");

    // Cancelled two days ahead: refunded in full, once, with its idempotency key.
    let form = [
        ("id", id.as_str()),
        ("status", "cancelled"),
        ("reason", "Travelling"),
    ];
    assert_eq!(
        app.call("appointments/change", &form).await.status(),
        StatusCode::OK
    );
    let shown = shown_when(app, &id, |a| {
        a["payment"]["refund"]
            .as_str()
            .is_some_and(|r| r.starts_with("Refunded in full"))
    })
    .await;
    assert_eq!(shown["status"], "Cancelled");
    let refunds = clinic.stripe.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, 50_000);
    assert!(refunds[0]
        .idempotency_key
        .as_deref()
        .unwrap()
        .starts_with("refund-"));
}

/// A Stripe event for `session` (paid), as Stripe's body text.
fn paid_event(event_id: &str, session: &str) -> String {
    event(event_id, "checkout.session.completed", session)
}

/// A Stripe event of `kind` about `session`, as Stripe's body text.
fn event(event_id: &str, kind: &str, session: &str) -> String {
    json!({
        "id": event_id, "object": "event", "type": kind,
        "created": common::webhook::now_ms() / 1000,
        "data": {"object": {"id": session, "object": "checkout.session",
            "payment_status": "paid", "payment_intent": "pi_crafted", "amount_total": 50000}}
    })
    .to_string()
}

async fn post(app: &TestApp, url: &str, body: &str, signature: &str) -> StatusCode {
    app.client
        .post(url)
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

async fn webhook_signatures_are_checked_over_the_raw_bytes(backend: Backend) {
    let clinic = clinic(backend).await;
    let app = &clinic.app;
    let url = &clinic.webhook;
    let now = common::webhook::now_ms() / 1000;
    let body = paid_event("evt_crafted_1", "cs_unknown");
    let good = stripe_signature(&body, &secret(ASHA), now);
    let wrong = stripe_signature(&body, "whsec_not_this_one_at_all", now);
    let stale = stripe_signature(&body, &secret(ASHA), now - 301);
    let tampered = body.replace("cs_unknown", "cs_unknowm");
    let v1 = |signature: &str| signature.split("v1=").nth(1).unwrap().to_owned();
    let several = format!("t={now},v1={},v1={}", v1(&wrong), v1(&good));
    for (signature, sent, expected) in [
        (wrong.as_str(), body.as_str(), StatusCode::BAD_REQUEST),
        (stale.as_str(), body.as_str(), StatusCode::BAD_REQUEST),
        (good.as_str(), tampered.as_str(), StatusCode::BAD_REQUEST),
        ("", body.as_str(), StatusCode::BAD_REQUEST),
        ("t=1,v1=zz", body.as_str(), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            post(app, url, sent, signature).await,
            expected,
            "{signature}"
        );
    }
    assert!(raw(app, "SELECT event_id FROM payment_events")
        .await
        .is_empty());
    // An unknown path, and this doctor's path under the other provider: not found.
    let unknown = format!("{}/payments/stripe/{}", app.url(""), "0".repeat(32));
    assert_eq!(
        post(app, &unknown, &body, &good).await,
        StatusCode::NOT_FOUND
    );
    let razorpay = url.replace("/payments/stripe/", "/payments/razorpay/");
    assert_eq!(
        post(app, &razorpay, &body, &good).await,
        StatusCode::NOT_FOUND
    );
    // Another doctor's path with this doctor's signed event: refused, nothing kept.
    let other = app.other_browser();
    app.new_doctor(&other, "Kabir Shah").await;
    open_practice(app, &other).await;
    let theirs = connect(app, &other, &clinic.stripe, "kabir").await;
    assert_eq!(
        post(app, &theirs, &body, &good).await,
        StatusCode::BAD_REQUEST
    );
    assert!(raw(app, "SELECT event_id FROM payment_events")
        .await
        .is_empty());
    // Several v1 while a secret is rolled: one matching is enough; a retry is kept once.
    assert_eq!(post(app, url, &body, &several).await, StatusCode::OK);
    assert_eq!(post(app, url, &body, &good).await, StatusCode::OK);
    assert_eq!(
        raw(app, "SELECT event_id FROM payment_events").await,
        ["evt_crafted_1"]
    );
    let seen = app.read_from(&app.client, "setup/payments").await;
    assert!(seen["connected"]["webhook_seen"].is_string());
}

async fn a_lost_webhook_is_healed_by_asking_stripe_when_the_hold_ends(backend: Backend) {
    let clinic = clinic(backend).await;
    let app = &clinic.app;
    let id = book(app, &app.client, &clinic.practice.consultation, 48).await;
    ask_link(app, &app.client, &id).await;
    let session = clinic.stripe.sessions().pop().unwrap();
    clinic.stripe.set_webhooks(false);
    clinic.stripe.pay(&session.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = shown_when(app, &id, |_| true).await;
    assert_eq!(
        before["payment"]["state"],
        "500.00 INR asked with Stripe, not paid yet"
    );
    // The link's time is up (as if the hold ended a minute ago): the job asks Stripe.
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let past = common::webhook::now_ms() - 61_000;
    sqlx::query("UPDATE payments SET expires_at = $1, next_check_at = $1")
        .bind(past)
        .execute(&mut db)
        .await
        .unwrap();
    let shown = shown_when(app, &id, paid).await;
    assert_eq!(shown["status"], "Confirmed");
    assert!(clinic.stripe.refunds().is_empty());
}

async fn the_payment_server_functions_act_on_the_callers_own_data_only(backend: Backend) {
    let clinic = clinic(backend).await;
    let app = &clinic.app;
    let id = book(app, &app.client, &clinic.practice.consultation, 48).await;
    let other = app.other_browser();
    app.new_doctor(&other, "Kabir Shah").await;
    open_practice(app, &other).await;
    // B sees no payment settings of A's, and cannot act on A's appointment.
    assert_eq!(
        app.read_from(&other, "setup/payments").await["connected"],
        Value::Null
    );
    for function in ["appointments/mark-paid", "appointments/payment-link"] {
        let response = app.call_from(&other, function, &[("id", &id)]).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(&response.status()),
            "{function}: {}",
            response.status()
        );
    }
    // B switching payments off leaves A's connected.
    let form = [
        ("provider", "none"),
        ("key_id", ""),
        ("secret", ""),
        ("webhook_secret", ""),
        ("refund", "manual"),
        ("refund_hours", ""),
    ];
    assert_eq!(
        app.call_from(&other, "setup/payments/save", &form)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(app.read_from(&app.client, "setup/payments").await["connected"].is_object());
    assert!(clinic.stripe.sessions().is_empty());
    // A marks their own appointment paid at the clinic.
    let response = app.call("appointments/mark-paid", &[("id", &id)]).await;
    let shown: Value = response.json().await.unwrap();
    assert_eq!(shown["payment"]["state"], "Paid 500.00 INR at the clinic");
}
