//! Online payment through the real app, the fake Meta and the fake Stripe and Razorpay
//! (`common/fake_payments.rs`): a doctor connects a provider (keys checked, sealed, never shown
//! or logged again); a patient who books in DMs gets a Pay button, and the provider's signed
//! webhook confirms the booking; bad signatures, other doctors' paths, replays and
//! out-of-order events change nothing; a webhook that never comes is healed by asking the
//! provider when the hold ends, an unpaid hold frees its time, a payment that comes too late
//! is refunded, and cancelling refunds as the policy says; fees a provider cannot charge are
//! refused, and the others reach it in its own units.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::fake_meta::FakeMeta;
use common::fake_payments::{razorpay_signature, stripe_signature, FakePayments};
use common::meta_flow::app_with_meta_and;
use common::webhook::{count, deliver, delivery, entry, now_ms, owner, page, settled, text_event};
use common::{open_practice, setup_call, Backend, OpenPractice, TestApp, OFFER_TEXT_AND_VOICE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Connection, Row};

on_both_databases!(
    connecting_stripe_checks_the_keys_and_never_shows_them_again,
    a_patient_pays_by_stripe_and_the_booking_is_confirmed,
    a_patient_pays_by_razorpay_and_the_booking_is_confirmed,
    webhook_signatures_are_checked_over_the_raw_bytes,
    a_signature_time_out_of_range_is_refused,
    a_razorpay_event_needs_its_signature_and_its_id,
    duplicate_and_out_of_order_events_change_nothing_more,
    a_lost_webhook_is_healed_when_the_hold_ends,
    an_unpaid_hold_lapses_frees_the_slot_and_the_patient_is_told,
    a_late_payment_is_refunded_in_full,
    a_payment_after_the_booking_was_cancelled_is_refunded_and_the_patient_told_why,
    a_second_payment_for_an_appointment_paid_at_the_clinic_is_refunded,
    a_payment_of_another_amount_than_the_fee_confirms_nothing_and_is_refunded,
    reconciling_finds_a_payment_no_webhook_reported,
    a_patient_who_cancels_in_dms_is_refunded_as_the_policy_says,
    stripe_is_connected_key_first_and_its_webhook_secret_after,
    refund_policy_edges,
    the_payment_server_functions_act_on_the_callers_own_data_only,
    fees_below_the_providers_minimum_are_refused_and_amounts_reach_it_in_its_units,
);

/// The test's main doctor.
const ASHA: &str = "asha";
/// Asha's Instagram account, and the patient who writes to it.
const ACCOUNT: &str = "17841400000000031";
const PATIENT: &str = "7654321098760031";
/// What the patient types to reach the summary of tomorrow's 10:30 voice consultation.
const TO_THE_SUMMARY: [&str; 7] = [
    "hi",
    "1",
    "consultation",
    "voice",
    "tomorrow at 10:30",
    "Ravi Kumar",
    "+91 98765 43210",
];
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// The doctor's webhook signing secret, their own.
fn secret(doctor: &str) -> String {
    format!("whsec_{doctor}0123456789abcdef")
}

/// A doctor's own Stripe key, unique to the test (the fake is shared by nothing else).
fn stripe_key(doctor: &str) -> String {
    format!("rk_test_{doctor}0123456789abcdefghij")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Stripe,
    Razorpay,
}

/// A link as the fake recorded it (a Checkout Session or a Payment Link).
#[derive(Debug)]
struct Link {
    reference: String,
    /// In the provider's units, and its currency in capitals.
    amount: i64,
    currency: String,
    /// Unix seconds.
    expires_at: i64,
    /// What makes a retried create harmless: Stripe's `Idempotency-Key`, Razorpay's
    /// `reference_id`.
    once: Option<String>,
}

impl Provider {
    fn key(self) -> &'static str {
        match self {
            Self::Stripe => "stripe",
            Self::Razorpay => "razorpay",
        }
    }

    /// The doctor's keys as the Payments pane takes them: key id, secret, webhook secret.
    fn keys(self, doctor: &str) -> [String; 3] {
        match self {
            Self::Stripe => [String::new(), stripe_key(doctor), secret(doctor)],
            Self::Razorpay => [
                format!("rzp_test_{doctor}12345678"),
                format!("{doctor}-razorpay-key-secret"),
                secret(doctor),
            ],
        }
    }

    /// Adds the doctor's account to the fake, delivering its events to `webhook`.
    fn add_account(self, fake: &FakePayments, doctor: &str, webhook: Option<String>) {
        let [key_id, api, hook] = self.keys(doctor);
        match self {
            Self::Stripe => fake.add_stripe_account(&api, &hook, webhook),
            Self::Razorpay => fake.add_razorpay_account(&key_id, &api, &hook, webhook),
        }
    }

    /// The last link the fake made.
    fn last_link(self, fake: &FakePayments) -> Link {
        match self {
            Self::Stripe => {
                let s = fake.sessions().pop().expect("a Checkout Session");
                Link {
                    reference: s.id,
                    amount: s.amount,
                    currency: s.currency.to_uppercase(),
                    expires_at: s.expires_at,
                    once: s.idempotency_key,
                }
            }
            Self::Razorpay => {
                let l = fake.links().pop().expect("a Payment Link");
                Link {
                    reference: l.id,
                    amount: l.amount,
                    currency: l.currency.to_uppercase(),
                    expires_at: l.expire_by,
                    once: l.reference_id,
                }
            }
        }
    }

    /// What the app makes each link of appointment `id`'s first attempt unique by.
    fn first_attempt(self, id: &str) -> String {
        match self {
            Self::Stripe => format!("appointment:{id}:attempt:1"),
            Self::Razorpay => format!("{}-1", id.replace('-', "")),
        }
    }

    /// The shortest link the provider makes, in minutes: the least a hold for it lasts.
    fn shortest_link_minutes(self) -> i64 {
        match self {
            Self::Stripe => 30,
            Self::Razorpay => 15,
        }
    }
}

/// The file this test binary's logs go to, at debug level; `None` under `TEST_LOG` (which
/// shows them instead).
fn log_file() -> Option<&'static PathBuf> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    FILE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            return None;
        }
        // One file, rewritten each run: cargo's scratch directory for integration tests.
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("payments.log");
        let file = std::fs::File::create(&path).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(Mutex::new(file))
            .with_ansi(false);
        subscriber.try_init().ok().map(|()| path)
    })
    .as_ref()
}

/// No key or secret of `doctor`'s, of either provider, is in the logs so far (every test of
/// this binary uses the same ones).
fn assert_no_secret_logged(doctor: &str) {
    let Some(path) = log_file() else { return };
    let logs = std::fs::read_to_string(path).unwrap();
    assert!(logs.contains("payment settings saved"), "logs captured");
    for provider in [Provider::Stripe, Provider::Razorpay] {
        for secret in provider.keys(doctor).iter().filter(|s| !s.is_empty()) {
            assert!(!logs.contains(secret.as_str()), "{secret} is in the logs");
        }
    }
}

/// The app, configured with a fake Meta and the fake providers.
async fn apps(backend: Backend) -> (TestApp, FakeMeta, FakePayments) {
    log_file();
    let meta = FakeMeta::start(vec![]).await;
    let fake = FakePayments::start().await;
    let url = fake.url();
    let vars = [
        ("STRIPE_API_BASE_URL", url.as_str()),
        ("RAZORPAY_API_BASE_URL", url.as_str()),
    ];
    let app = app_with_meta_and(backend, &meta, &vars).await;
    (app, meta, fake)
}

struct Clinic {
    app: TestApp,
    meta: FakeMeta,
    fake: FakePayments,
    provider: Provider,
    practice: OpenPractice,
    webhook: String,
}

/// An app with a fake Meta and the fake providers, and a doctor (signed in on `app.client`)
/// linked to [`ACCOUNT`], with an open practice whose DM bookings need online payment through
/// `provider` (refunds in full until 24 hours before).
async fn clinic(backend: Backend, provider: Provider) -> Clinic {
    let (app, meta, fake) = apps(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    meta.set_pages(vec![page("100000000000031", ACCOUNT, "Asha Rao")]);
    let linked = common::meta_flow::connect(&app, &app.client).await;
    assert_eq!(linked, "connected");
    let practice = open_practice(&app, &app.client).await;
    // Online payment is refused until a provider is connected.
    assert!(booking_mode(&app, "payment").await.is_client_error());
    let webhook = connect(&app, &app.client, &fake, provider, ASHA).await;
    assert_eq!(booking_mode(&app, "payment").await, StatusCode::OK);
    Clinic {
        app,
        meta,
        fake,
        provider,
        practice,
        webhook,
    }
}

async fn booking_mode(app: &TestApp, mode: &str) -> StatusCode {
    let form = [
        ("enabled", "on"),
        ("greeting", ""),
        ("booking_mode", mode),
        ("emergency_line", ""),
    ];
    app.call("setup/assistant/save", &form).await.status()
}

/// Saves the Payments pane from `browser`: `fields` over the defaults (no provider, blank
/// keys, refunds in full until 24 hours before).
async fn save(app: &TestApp, browser: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("provider", "none"),
        ("refund", "cutoff"),
        ("refund_hours", "24"),
    ];
    form.extend(["key_id", "secret", "webhook_secret"].map(|name| (name, "")));
    for (name, value) in fields {
        form.iter_mut().find(|(n, _)| n == name).unwrap().1 = *value;
    }
    app.call_from(browser, "setup/payments/save", &form).await
}

/// Pastes `doctor`'s keys of `provider` on the Payments pane of `browser`.
async fn save_keys(
    app: &TestApp,
    browser: &Client,
    provider: Provider,
    doctor: &str,
) -> reqwest::Response {
    let [key_id, api, hook] = provider.keys(doctor);
    let form = [
        ("provider", provider.key()),
        ("key_id", key_id.as_str()),
        ("secret", api.as_str()),
        ("webhook_secret", hook.as_str()),
    ];
    save(app, browser, &form).await
}

/// Connects `provider` for the doctor of `browser` with their own keys; the webhook URL shown,
/// on the test's server, which the fake then delivers their events to.
async fn connect(
    app: &TestApp,
    browser: &Client,
    fake: &FakePayments,
    provider: Provider,
    doctor: &str,
) -> String {
    provider.add_account(fake, doctor, None);
    let response = save_keys(app, browser, provider, doctor).await;
    assert_eq!(response.status(), StatusCode::OK);
    let settings = app.read_from(browser, "setup/payments").await;
    let webhook = on_test_server(app, &settings);
    provider.add_account(fake, doctor, Some(webhook.clone()));
    webhook
}

/// The webhook URL the pane shows in `settings`, on the test's server: it is shown under
/// PUBLIC_BASE_URL, and the test's server listens on a port of its own.
fn on_test_server(app: &TestApp, settings: &Value) -> String {
    let shown = settings["connected"]["webhook_url"].as_str().unwrap();
    let (_, path) = shown.split_once("/payments/").unwrap();
    app.url(&format!("/payments/{path}"))
}

/// Polls `check` every 100 ms until it is `Ok`, for up to 20 s; `Err` says what it saw.
async fn eventually<T, F>(what: &str, mut check: impl FnMut() -> F) -> T
where
    F: Future<Output = Result<T, String>>,
{
    let mut seen = String::new();
    for _ in 0..200 {
        match check().await {
            Ok(found) => return found,
            Err(now) => seen = now,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 20 s for {what}; last seen: {seen}");
}

/// What `bodies` (Send API bodies) say, plain text or a button template's, a line each.
fn said(bodies: &[Value]) -> String {
    let text = |body: &Value| {
        let message = &body["message"];
        let template = &message["attachment"]["payload"]["text"];
        message["text"]
            .as_str()
            .or(template.as_str())
            .map(str::to_owned)
    };
    bodies
        .iter()
        .filter_map(text)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Clinic {
    /// The patient's DM `text`, delivered as Meta does; what the app sent back once its
    /// outbox is empty.
    async fn dm(&self, text: &str) -> Vec<Value> {
        let before = self.meta.sent().len();
        let mid = format!("mid.payments.{}", uuid::Uuid::new_v4().simple());
        let event = text_event(PATIENT, ACCOUNT, &mid, now_ms(), text);
        deliver(&self.app, &delivery(vec![entry(ACCOUNT, vec![event])])).await;
        settled(&self.app).await;
        let app = &self.app;
        let waiting = "SELECT COUNT(*) FROM messages WHERE delivery IN ('queued', 'sending')";
        eventually("the outbox", move || async move {
            match count(app, waiting).await {
                0 => Ok(()),
                n => Err(format!("{n} messages to send")),
            }
        })
        .await;
        self.meta.sent().split_off(before)
    }

    /// The patient books tomorrow's 10:30 voice consultation in DMs; the appointment's id, once
    /// the assistant has said it is kept until paid.
    async fn book_in_dms(&self) -> String {
        for text in TO_THE_SUMMARY {
            self.dm(text).await;
        }
        let kept = said(&self.dm("confirm").await);
        assert!(
            kept.contains("I've kept") && kept.contains("It is confirmed once the fee is paid"),
            "{kept}"
        );
        let newest = "SELECT id FROM appointments WHERE source = 'instagram'
                      ORDER BY created_at DESC";
        raw(&self.app, newest).await.swap_remove(0)
    }

    /// The first message the patient was sent that says `words`, once it has gone out.
    async fn told(&self, words: &str) -> Value {
        let meta = &self.meta;
        eventually(words, move || async move {
            let sent = meta.sent();
            let found = sent
                .iter()
                .find(|b| said(std::slice::from_ref(b)).contains(words));
            found.cloned().ok_or_else(|| said(&sent))
        })
        .await
    }

    /// How many messages the patient was sent that say `words`.
    fn times_told(&self, words: &str) -> usize {
        let sent = self.meta.sent();
        sent.iter()
            .filter(|b| said(std::slice::from_ref(b)).contains(words))
            .count()
    }

    /// The patient books in DMs and gets the Pay button; the appointment's id and its link.
    async fn held_for_payment(&self) -> (String, Link) {
        let id = self.book_in_dms().await;
        let (_, link) = self.pay_button().await;
        (id, link)
    }

    /// The patient books in DMs and pays, but the provider's webhook is lost (webhooks stay
    /// off); the appointment's id, its link and the provider's payment id.
    async fn paid_unheard(&self) -> (String, Link, String) {
        let (id, link) = self.held_for_payment().await;
        self.fake.set_webhooks(false);
        let paid_with = self.fake.pay(&link.reference).await.unwrap();
        (id, link, paid_with)
    }

    /// The patient's Pay button; the link the fake made for it.
    async fn pay_button(&self) -> (Value, Link) {
        let asked = self.told("please pay the fee of 500.00 INR").await;
        let button = asked["message"]["attachment"]["payload"]["buttons"][0].clone();
        (button, self.provider.last_link(&self.fake))
    }
}

/// The rows `sql` selects, read through the owner's connection.
async fn rows(app: &TestApp, sql: &str) -> Vec<AnyRow> {
    let mut db = owner(app).await;
    let rows = sqlx::query(sql).fetch_all(&mut db).await.unwrap();
    db.close().await.unwrap();
    rows
}

/// The first column of the rows `sql` selects, as text.
async fn raw(app: &TestApp, sql: &str) -> Vec<String> {
    let rows = rows(app, sql).await;
    rows.iter().map(|row| row.get::<String, _>(0)).collect()
}

/// A number `sql` selects.
async fn number(app: &TestApp, sql: &str) -> i64 {
    rows(app, sql).await[0].get::<i64, _>(0)
}

/// Appointment `id`'s status, its latest payment's status and refund state, as stored:
/// `pending_payment open -`.
async fn stored(app: &TestApp, id: &str) -> String {
    let sql = format!(
        "SELECT a.status || ' ' || COALESCE(p.status, '-') || ' ' || COALESCE(p.refund_state, '-')
         FROM appointments a LEFT JOIN payments p ON p.appointment_id = a.id
         WHERE a.id = '{id}' ORDER BY p.attempt DESC"
    );
    raw(app, &sql).await.swap_remove(0)
}

/// Waits until appointment `id` is stored as `want` (see [`stored`]).
async fn until_stored(app: &TestApp, id: &str, want: &str) {
    eventually(want, move || async move {
        let now = stored(app, id).await;
        if now == want {
            Ok(())
        } else {
            Err(now)
        }
    })
    .await;
}

/// Waits until the kept event `event_id` has been applied by the payments job.
async fn applied(app: &TestApp, event_id: &str) {
    let sql = format!(
        "SELECT COUNT(*) FROM payment_events WHERE event_id = '{event_id}' AND applied_at IS NOT NULL"
    );
    let sql = sql.as_str();
    eventually(event_id, move || async move {
        match count(app, sql).await {
            1 => Ok(()),
            n => Err(format!("{n} applied")),
        }
    })
    .await;
}

/// As if appointment `id`'s hold had ended a minute ago: the payments job asks the provider
/// about its link now (webhooks get lost), and closes it if unpaid.
async fn hold_ended(app: &TestApp, id: &str) {
    let past = now_ms() - 61_000;
    let mut db = owner(app).await;
    for sql in [
        "UPDATE appointments SET hold_expires_at = $1 WHERE id = $2",
        "UPDATE payments SET expires_at = $1, next_check_at = $1 WHERE appointment_id = $2",
    ] {
        let query = sqlx::query(sql).bind(past).bind(id);
        query.execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
}

/// Books a voice call by hand at `starts_at`; the answer.
async fn book_at(app: &TestApp, service: &str, starts_at: i64) -> reqwest::Response {
    let starts_at = starts_at.to_string();
    let form = [
        ("service", service),
        ("method", "voice"),
        ("starts_at", starts_at.as_str()),
        ("patient_name", "Meera Iyer"),
        ("patient_phone", "+919876543210"),
        ("phone_country", "IN"),
        ("note", ""),
    ];
    app.call("appointments/book", &form).await
}

/// Books a voice call by hand at the first free time at least `minutes` from now; its id.
async fn book(app: &TestApp, service: &str, minutes: i64) -> String {
    let earliest = now_ms() + minutes * MINUTE;
    let mut day = String::new();
    loop {
        let free: Value = app
            .call("appointments/free", &[("service", service), ("day", &day)])
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
            let booked: Value = book_at(app, service, start).await.json().await.unwrap();
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

/// Appointment `id` as the doctor's list shows it.
async fn shown(app: &TestApp, id: &str) -> Value {
    let list: Value = app
        .call("appointments", &[("week", ""), ("status", "all")])
        .await
        .json()
        .await
        .unwrap();
    let all = list["list"].as_array().unwrap();
    all.iter().find(|a| a["id"] == id).cloned().unwrap()
}

/// A voice call booked by hand at least `minutes` ahead, its link asked from the dashboard
/// and paid on the fake's page; its id and the provider's payment id.
async fn paid_by_hand(clinic: &Clinic, minutes: i64) -> (String, String) {
    let app = &clinic.app;
    let id = book(app, &clinic.practice.consultation, minutes).await;
    let asked = ask_link(app, &app.client, &id).await;
    let link = clinic.provider.last_link(&clinic.fake);
    let offered = asked["payment"]["link"]
        .as_str()
        .expect("the link, within the wait");
    assert!(offered.ends_with(&link.reference), "{offered}");
    let paid_with = clinic.fake.pay(&link.reference).await.unwrap();
    until_stored(app, &id, "confirmed paid -").await;
    (id, paid_with)
}

async fn cancel(app: &TestApp, id: &str) {
    let form = [
        ("id", id),
        ("status", "cancelled"),
        ("reason", "Travelling"),
    ];
    let response = app.call("appointments/change", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A Stripe event of `kind` about `session` (paid 500.00 INR with `pi_crafted`), as Stripe's
/// body text.
fn event(event_id: &str, kind: &str, session: &str) -> String {
    event_paid_with(event_id, kind, session, "pi_crafted", 50_000)
}

/// A Stripe event of `kind` about `session`, paid with `payment` for `amount` (paise).
fn event_paid_with(
    event_id: &str,
    kind: &str,
    session: &str,
    payment: &str,
    amount: i64,
) -> String {
    json!({
        "id": event_id, "object": "event", "type": kind,
        "created": now_ms() / 1000,
        "data": {"object": {"id": session, "object": "checkout.session",
            "payment_status": "paid", "payment_intent": payment, "amount_total": amount}}
    })
    .to_string()
}

/// A Stripe event saying `session` was paid, as Stripe's body text.
fn paid_event(event_id: &str, session: &str) -> String {
    event(event_id, "checkout.session.completed", session)
}

/// `body` signed now with `doctor`'s Stripe webhook secret, as `Stripe-Signature`.
fn signed_by(doctor: &str, body: &str) -> String {
    stripe_signature(body, &secret(doctor), now_ms() / 1000)
}

/// Posts `body` to `url` with these headers; the status.
async fn post(app: &TestApp, url: &str, body: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut request = app
        .client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status()
}

/// Posts `body` to `url` with this `Stripe-Signature`; the status.
async fn post_stripe(app: &TestApp, url: &str, body: &str, signature: &str) -> StatusCode {
    post(app, url, body, &[("stripe-signature", signature)]).await
}

/// Every text value in `table`, joined.
async fn all_text(app: &TestApp, table: &str) -> String {
    let rows = rows(app, &format!("SELECT * FROM {table}")).await;
    let cells = rows.iter().flat_map(|row| {
        (0..row.len()).filter_map(move |i| row.try_get::<Option<String>, _>(i).ok().flatten())
    });
    cells.collect::<Vec<_>>().join("\n")
}

async fn connecting_stripe_checks_the_keys_and_never_shows_them_again(backend: Backend) {
    let (app, _meta, stripe) = apps(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let [_, key, hook] = Provider::Stripe.keys(ASHA);

    // A key Stripe does not know is refused with the reason, and nothing is kept.
    let response = save_keys(&app, &app.client, Provider::Stripe, "unknown").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("does not recognise"));
    // A restricted key without Checkout permission: told apart.
    let narrow = "rk_test_narrow0123456789abcdefghij";
    stripe.add_stripe_key_without_checkout(narrow);
    let form = [
        ("provider", "stripe"),
        ("secret", narrow),
        ("webhook_secret", hook.as_str()),
    ];
    let body: Value = save(&app, &app.client, &form).await.json().await.unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("lacks a permission"));
    // Badly shaped keys never reach Stripe.
    let form = [
        ("provider", "stripe"),
        ("secret", "pk_live_abc"),
        ("webhook_secret", "nope"),
    ];
    let body: Value = save(&app, &app.client, &form).await.json().await.unwrap();
    assert!(body["Invalid"]["secret"]
        .as_str()
        .unwrap()
        .contains("publishable"));
    assert!(body["Invalid"]["webhook_secret"].is_string());
    assert_eq!(
        app.read_from(&app.client, "setup/payments").await["connected"],
        Value::Null
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM payment_accounts").await,
        0
    );

    // Good keys: the answer and the pane show neither, only the key's last four.
    Provider::Stripe.add_account(&stripe, ASHA, None);
    let response = save_keys(&app, &app.client, Provider::Stripe, ASHA).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = response.text().await.unwrap();
    assert!(
        !answer.contains(&key) && !answer.contains(&hook),
        "{answer}"
    );
    let settings = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(settings["connected"]["provider"], "Stripe");
    assert_eq!(settings["connected"]["key_last4"], "ghij");
    assert_eq!(settings["connected"]["live"], false);
    // The practice holds for 15 minutes; Stripe's links last at least 30.
    let note = settings["hold_note"].as_str().unwrap_or_default();
    assert!(note.contains("held for 35 minutes, not 15"), "{settings}");
    let text = settings.to_string();
    assert!(!text.contains(&key) && !text.contains(&hook), "{text}");
    // The webhook's path is opaque: not the doctor's id.
    let webhook = settings["connected"]["webhook_url"].as_str().unwrap();
    let doctor = raw(&app, "SELECT id FROM doctors").await.remove(0);
    assert!(webhook.contains("/payments/stripe/"), "{webhook}");
    assert!(!webhook.contains(&doctor), "{webhook}");
    // At rest, sealed: no table holds the key or the secret.
    for table in [
        "payment_accounts",
        "payments",
        "payment_events",
        "audit_log",
    ] {
        let stored = all_text(&app, table).await;
        assert!(!stored.contains(&key) && !stored.contains(&hook), "{table}");
    }
    // Saving again with blank keys keeps them and the webhook URL.
    let response = save(&app, &app.client, &[("provider", "stripe")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let again = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(again["connected"]["webhook_url"], webhook);
    assert_eq!(
        app.call("setup/payments/check", &[])
            .await
            .json::<String>()
            .await
            .unwrap(),
        "The keys work: Stripe answered, in test mode."
    );
    assert_no_secret_logged(ASHA);
}

async fn a_patient_pays_by_stripe_and_the_booking_is_confirmed(backend: Backend) {
    pays_in_dms(backend, Provider::Stripe).await;
}

async fn a_patient_pays_by_razorpay_and_the_booking_is_confirmed(backend: Backend) {
    pays_in_dms(backend, Provider::Razorpay).await;
}

/// A patient books in DMs, gets the Pay button for a link of the fee that lasts as long as
/// the hold, pays on the provider's page, and is confirmed and told.
async fn pays_in_dms(backend: Backend, provider: Provider) {
    let clinic = clinic(backend, provider).await;
    let app = &clinic.app;
    let id = clinic.book_in_dms().await;
    let kept = format!("SELECT hold_expires_at - created_at FROM appointments WHERE id = '{id}'");
    assert!(number(app, &kept).await >= provider.shortest_link_minutes() * MINUTE);
    let hold = format!("SELECT hold_expires_at FROM appointments WHERE id = '{id}'");
    let hold = number(app, &hold).await;

    let (button, link) = clinic.pay_button().await;
    assert_eq!(button["type"], "web_url");
    assert_eq!(button["title"], "Pay 500.00 INR");
    let url = button["url"].as_str().unwrap();
    assert!(
        url.starts_with(&clinic.fake.url()) && url.ends_with(&link.reference),
        "{url}"
    );
    assert_eq!(reqwest::get(url).await.unwrap().status(), StatusCode::OK);
    assert_eq!((link.amount, link.currency.as_str()), (50_000, "INR"));
    assert_eq!(
        link.expires_at,
        hold / 1000,
        "the link lasts as long as the hold"
    );
    assert_eq!(link.once, Some(provider.first_attempt(&id)));
    assert_eq!(stored(app, &id).await, "pending_payment open -");

    let paid_with = clinic.fake.pay(&link.reference).await.unwrap();
    until_stored(app, &id, "confirmed paid -").await;
    let thanks = clinic.told("Payment received, thank you.").await;
    let thanks = said(&[thanks]);
    assert!(
        thanks.contains("Your appointment on") && thanks.contains("is confirmed."),
        "{thanks}"
    );
    let sql = format!("SELECT provider_payment FROM payments WHERE appointment_id = '{id}'");
    assert_eq!(raw(app, &sql).await, [paid_with]);
    let audit = common::audit_actions(&app.database.url, &id).await;
    assert!(audit.contains(&"appointment.paid".to_owned()), "{audit:?}");
    assert_no_secret_logged(ASHA);
}

async fn webhook_signatures_are_checked_over_the_raw_bytes(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let url = &clinic.webhook;
    let now = now_ms() / 1000;
    let body = paid_event("evt_crafted_1", "cs_unknown");
    let good = stripe_signature(&body, &secret(ASHA), now);
    let wrong = stripe_signature(&body, "whsec_not_this_one_at_all", now);
    let stale = stripe_signature(&body, &secret(ASHA), now - 301);
    let tampered = body.replace("cs_unknown", "cs_unknowm");
    let v1 = |signature: &str| signature.split("v1=").nth(1).unwrap().to_owned();
    let several = format!("t={now},v1={},v1={}", v1(&wrong), v1(&good));
    for (signature, sent) in [
        (wrong.as_str(), body.as_str()),
        (stale.as_str(), body.as_str()),
        (good.as_str(), tampered.as_str()),
        ("", body.as_str()),
        ("t=1,v1=zz", body.as_str()),
    ] {
        let status = post_stripe(app, url, sent, signature).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{signature}");
    }
    assert_eq!(post(app, url, &body, &[]).await, StatusCode::BAD_REQUEST);
    // Signed, but not Stripe's event format.
    let unreadable = "{\"id\": 1}";
    let signed = stripe_signature(unreadable, &secret(ASHA), now);
    let status = post_stripe(app, url, unreadable, &signed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(count(app, "SELECT COUNT(*) FROM payment_events").await, 0);
    // An unknown path, and this doctor's path under the other provider: not found.
    let unknown = format!("{}/payments/stripe/{}", app.url(""), "0".repeat(32));
    assert_eq!(
        post_stripe(app, &unknown, &body, &good).await,
        StatusCode::NOT_FOUND
    );
    let razorpay = url.replace("/payments/stripe/", "/payments/razorpay/");
    assert_eq!(
        post_stripe(app, &razorpay, &body, &good).await,
        StatusCode::NOT_FOUND
    );
    // Several v1 while a secret is rolled: one matching is enough; a retry is kept once.
    assert_eq!(post_stripe(app, url, &body, &several).await, StatusCode::OK);
    assert_eq!(post_stripe(app, url, &body, &good).await, StatusCode::OK);
    assert_eq!(
        raw(app, "SELECT event_id FROM payment_events").await,
        ["evt_crafted_1"]
    );
    let seen = app.read_from(&app.client, "setup/payments").await;
    assert!(seen["connected"]["webhook_seen"].is_string());
}

/// A `Stripe-Signature` whose time is as far from ours as an i64 goes is stale like any
/// other: answered 400, not a crash.
async fn a_signature_time_out_of_range_is_refused(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let body = paid_event("evt_far_past", "cs_unknown");
    let good = signed_by(ASHA, &body);
    let v1 = good.split("v1=").nth(1).unwrap();
    for t in [i64::MIN, i64::MAX] {
        let signature = format!("t={t},v1={v1}");
        let answer = clinic
            .app
            .client
            .post(&clinic.webhook)
            .header("stripe-signature", &signature)
            .body(body.clone())
            .send()
            .await
            .map(|r| r.status());
        assert_eq!(
            answer.map_err(|e| e.to_string()),
            Ok(StatusCode::BAD_REQUEST),
            "{signature}"
        );
    }
    let kept = count(&clinic.app, "SELECT COUNT(*) FROM payment_events").await;
    assert_eq!(kept, 0);
}

async fn a_razorpay_event_needs_its_signature_and_its_id(backend: Backend) {
    let clinic = clinic(backend, Provider::Razorpay).await;
    let app = &clinic.app;
    let url = &clinic.webhook;
    let body = json!({
        "entity": "event", "event": "payment_link.paid",
        "payload": {
            "payment_link": {"entity": {"id": "plink_unknown", "amount_paid": 50000}},
            "payment": {"entity": {"id": "pay_crafted", "amount": 50000}}
        }
    })
    .to_string();
    let good = razorpay_signature(&body, &secret(ASHA));
    let wrong = razorpay_signature(&body, "not-this-webhook-secret");
    let signature = "x-razorpay-signature";
    let id = "x-razorpay-event-id";
    for headers in [
        vec![(signature, good.as_str())],
        vec![(signature, good.as_str()), (id, "")],
        vec![(signature, wrong.as_str()), (id, "evt_rzp_1")],
        vec![(id, "evt_rzp_1")],
    ] {
        let status = post(app, url, &body, &headers).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{headers:?}");
    }
    assert_eq!(count(app, "SELECT COUNT(*) FROM payment_events").await, 0);
    let headers = [(signature, good.as_str()), (id, "evt_rzp_1")];
    assert_eq!(post(app, url, &body, &headers).await, StatusCode::OK);
    assert_eq!(post(app, url, &body, &headers).await, StatusCode::OK);
    assert_eq!(
        raw(app, "SELECT event_id FROM payment_events").await,
        ["evt_rzp_1"]
    );
}

async fn duplicate_and_out_of_order_events_change_nothing_more(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let (id, link) = clinic.held_for_payment().await;
    clinic.fake.pay(&link.reference).await.unwrap();
    until_stored(app, &id, "confirmed paid -").await;
    let thanks = "Payment received, thank you.";
    clinic.told(thanks).await;
    let paid_at = format!("SELECT paid_at FROM payments WHERE appointment_id = '{id}'");
    let first_paid_at = number(app, &paid_at).await;

    // Stripe's retry of the same event (signed anew) is answered, and kept only once.
    clinic.fake.resend_last_event().await;
    let last = clinic.fake.events().pop().unwrap();
    assert_eq!(last.deliveries, [200, 200]);
    assert_eq!(count(app, "SELECT COUNT(*) FROM payment_events").await, 1);
    // An `expired` event after the payment (out of order) moves nothing backwards.
    let expired = event(
        "evt_late_expiry",
        "checkout.session.expired",
        &link.reference,
    );
    let status = post_stripe(app, &clinic.webhook, &expired, &signed_by(ASHA, &expired)).await;
    assert_eq!(status, StatusCode::OK);
    applied(app, "evt_late_expiry").await;
    // The same payment reported again under another event id changes nothing either.
    let again = paid_event("evt_paid_again", &link.reference);
    let status = post_stripe(app, &clinic.webhook, &again, &signed_by(ASHA, &again)).await;
    assert_eq!(status, StatusCode::OK);
    applied(app, "evt_paid_again").await;

    assert_eq!(stored(app, &id).await, "confirmed paid -");
    assert_eq!(number(app, &paid_at).await, first_paid_at);
    let audit = common::audit_actions(&app.database.url, &id).await;
    let paid = audit.iter().filter(|a| *a == "appointment.paid").count();
    assert_eq!(paid, 1, "{audit:?}");
    clinic.dm("thanks").await;
    assert_eq!(clinic.times_told(thanks), 1, "one confirmation");
    assert_eq!(clinic.times_told("not paid for in time"), 0);
}

async fn a_lost_webhook_is_healed_when_the_hold_ends(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let (id, link) = clinic.held_for_payment().await;
    clinic.fake.set_webhooks(false);
    clinic.fake.pay(&link.reference).await.unwrap();
    let lost = clinic.fake.events().pop().unwrap();
    assert!(lost.deliveries.is_empty(), "{lost:?}");
    assert_eq!(stored(app, &id).await, "pending_payment open -");

    // The hold ended a minute ago: the job asks Stripe, which says paid.
    hold_ended(app, &id).await;
    until_stored(app, &id, "confirmed paid -").await;
    clinic.told("Payment received, thank you.").await;
    assert!(clinic.fake.refunds().is_empty());
    assert_eq!(clinic.times_told("not paid for in time"), 0);
}

async fn an_unpaid_hold_lapses_frees_the_slot_and_the_patient_is_told(backend: Backend) {
    let clinic = clinic(backend, Provider::Razorpay).await;
    let app = &clinic.app;
    let (id, link) = clinic.held_for_payment().await;

    hold_ended(app, &id).await;
    until_stored(app, &id, "expired closed -").await;
    // The link can no longer be paid: Razorpay's link was cancelled.
    let closed = clinic
        .fake
        .links()
        .into_iter()
        .find(|l| l.id == link.reference);
    assert_eq!(closed.unwrap().status, "cancelled");
    assert!(clinic.fake.pay(&link.reference).await.is_err());
    let lapsed = clinic
        .told("was not paid for in time, so it has been freed. Would you like to book again?")
        .await;
    assert_eq!(lapsed["message"]["quick_replies"][0]["title"], "Book");
    let audit = common::audit_actions(&app.database.url, &id).await;
    assert!(
        audit.contains(&"appointment.expired".to_owned()),
        "{audit:?}"
    );

    // The time is free again: the patient books it once more.
    let again = clinic.book_in_dms().await;
    assert_ne!(again, id);
    let starts = "SELECT starts_at FROM appointments WHERE id IN";
    let times = rows(app, &format!("{starts} ('{id}', '{again}')")).await;
    assert_eq!(times.len(), 2);
    assert_eq!(times[0].get::<i64, _>(0), times[1].get::<i64, _>(0));
    assert_eq!(
        stored(app, &again).await.split(' ').next(),
        Some("pending_payment")
    );
}

async fn a_late_payment_is_refunded_in_full(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let (id, link) = clinic.held_for_payment().await;
    // The patient pays by a method that settles later; the hold ends before it does, and the
    // doctor gives the time to someone else.
    clinic.fake.pay_delayed(&link.reference).await.unwrap();
    hold_ended(app, &id).await;
    until_stored(app, &id, "expired closed -").await;
    let starts_at = format!("SELECT starts_at FROM appointments WHERE id = '{id}'");
    let starts_at = number(app, &starts_at).await;
    let taken = book_at(app, &clinic.practice.consultation, starts_at).await;
    assert_eq!(taken.status(), StatusCode::OK);

    clinic.fake.settle(&link.reference).await.unwrap();
    until_stored(app, &id, "expired paid refunded").await;
    let reason = format!("SELECT refund_reason FROM payments WHERE appointment_id = '{id}'");
    assert_eq!(raw(app, &reason).await, ["late"]);
    let refunds = clinic.fake.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let session = clinic.fake.sessions().pop().unwrap();
    assert_eq!(Some(&refunds[0].payment), session.payment_intent.as_ref());
    assert_eq!(refunds[0].amount, 50_000);
    let payment = format!("SELECT id FROM payments WHERE appointment_id = '{id}'");
    let payment = raw(app, &payment).await.remove(0);
    assert_eq!(
        refunds[0].idempotency_key,
        Some(format!("refund-{payment}"))
    );
    let late = said(&[clinic.told("came after the time on").await]);
    assert!(
        late.contains("given to someone else, so it is being refunded in full"),
        "{late}"
    );
    // The time stays with the booking that took it.
    let kept =
        "SELECT COUNT(*) FROM appointments WHERE source = 'dashboard' AND status = 'confirmed'";
    assert_eq!(count(app, kept).await, 1);
}

/// The refund the payments job made of appointment `id`'s provider payment: its state, reason
/// and the amount asked back (minor units), once it is no longer due.
async fn refund_of(app: &TestApp, id: &str) -> String {
    let sql = format!(
        "SELECT refund_state || ' ' || refund_reason || ' ' || refund_minor FROM payments
         WHERE appointment_id = '{id}' AND provider <> 'clinic' AND refund_state <> 'due'"
    );
    let sql = sql.as_str();
    eventually("the refund", move || async move {
        raw(app, sql)
            .await
            .pop()
            .ok_or_else(|| "no refund settled".to_owned())
    })
    .await
}

async fn a_payment_after_the_booking_was_cancelled_is_refunded_and_the_patient_told_why(
    backend: Backend,
) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    // The patient pays, but Stripe's webhook is lost; the doctor cancels meanwhile.
    let (id, _, paid_with) = clinic.paid_unheard().await;
    cancel(app, &id).await;

    // Closing the link, the job learns it was paid: refunded in full, as a late payment.
    until_stored(app, &id, "cancelled paid refunded").await;
    assert_eq!(refund_of(app, &id).await, "refunded late 50000");
    let refunds = clinic.fake.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(
        (refunds[0].payment.as_str(), refunds[0].amount),
        (paid_with.as_str(), 50_000)
    );
    let told = said(&[clinic.told("came after the booking on").await]);
    assert!(
        told.contains("was cancelled, so it is being refunded in full"),
        "{told}"
    );
    assert_eq!(clinic.times_told("given to someone else"), 0);
    let refund = shown(app, &id).await["payment"]["refund"].clone();
    assert!(
        refund
            .as_str()
            .unwrap()
            .contains("paid after the time was no longer kept for it"),
        "{refund}"
    );
}

async fn a_second_payment_for_an_appointment_paid_at_the_clinic_is_refunded(backend: Backend) {
    let clinic = clinic(backend, Provider::Razorpay).await;
    let app = &clinic.app;
    // The patient pays the link (its webhook lost) and, not knowing, pays at the desk too.
    let (id, _, paid_with) = clinic.paid_unheard().await;
    let marked = app.call("appointments/mark-paid", &[("id", &id)]).await;
    assert_eq!(marked.status(), StatusCode::OK);

    // The job closes the link the appointment no longer needs, finds it paid, and refunds it.
    assert_eq!(refund_of(app, &id).await, "refunded duplicate 50000");
    let refunds = clinic.fake.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].payment, paid_with);
    let status = format!("SELECT status FROM appointments WHERE id = '{id}'");
    assert_eq!(raw(app, &status).await, ["confirmed"]);
    let told = said(&[clinic
        .told("was already paid, so this second payment")
        .await]);
    assert!(told.contains("The appointment stays confirmed."), "{told}");
    // Confirmed once, by the desk: no second "payment received".
    assert_eq!(clinic.times_told("Payment received, thank you."), 0);
    let audit = common::audit_actions(&app.database.url, &id).await;
    let paid = audit.iter().filter(|a| *a == "appointment.paid").count();
    assert_eq!(paid, 1, "{audit:?}");
}

async fn a_payment_of_another_amount_than_the_fee_confirms_nothing_and_is_refunded(
    backend: Backend,
) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let (id, link, paid_with) = clinic.paid_unheard().await;
    // Stripe reports 400.00 INR paid for the 500.00 INR fee.
    let body = event_paid_with(
        "evt_short",
        "checkout.session.completed",
        &link.reference,
        &paid_with,
        40_000,
    );
    let status = post_stripe(app, &clinic.webhook, &body, &signed_by(ASHA, &body)).await;
    assert_eq!(status, StatusCode::OK);
    applied(app, "evt_short").await;

    // Not confirmed: the time is freed, and what was paid goes back in full.
    assert_eq!(refund_of(app, &id).await, "refunded mismatch 40000");
    assert_eq!(stored(app, &id).await, "expired paid refunded");
    let refunds = clinic.fake.refunds();
    assert_eq!(
        (refunds[0].payment.as_str(), refunds[0].amount),
        (paid_with.as_str(), 40_000)
    );
    let told = clinic
        .told("The payment of 400.00 INR was not the fee of 500.00 INR")
        .await;
    assert_eq!(told["message"]["quick_replies"][0]["title"], "Book");
    assert_eq!(clinic.times_told("Payment received, thank you."), 0);
    let state = shown(app, &id).await["payment"]["state"].clone();
    assert_eq!(
        state,
        "Paid 400.00 INR with Stripe, not the fee of 500.00 INR"
    );
}

async fn reconciling_finds_a_payment_no_webhook_reported(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    // The doctor's webhook is misconfigured: nothing reaches the app.
    let (id, _, _) = clinic.paid_unheard().await;
    assert_eq!(stored(app, &id).await, "pending_payment open -");

    // The operator's command (the daily run's work, now): Stripe is asked, and says paid.
    let printed = reconcile(&clinic);
    assert!(printed.contains("1 payment(s) asked about"), "{printed}");
    assert_eq!(stored(app, &id).await, "confirmed paid -");
    clinic.told("Payment received, thank you.").await;

    // Asked again, it changes nothing more.
    reconcile(&clinic);
    clinic.dm("thanks").await;
    assert_eq!(clinic.times_told("Payment received, thank you."), 1);
}

/// `clariva reconcile-payments` run as an operator runs it, configured like the clinic's
/// app; what it printed, once it succeeded.
fn reconcile(clinic: &Clinic) -> String {
    let app = &clinic.app;
    let output = common::binary::server(&app.database.data_dir, &[])
        .envs(common::meta_flow::meta_vars(&clinic.meta))
        .env("DATABASE_URL", &app.database.app_url)
        .env("DATABASE_MIGRATION_URL", &app.database.url)
        .env("STRIPE_API_BASE_URL", clinic.fake.url())
        .env("RAZORPAY_API_BASE_URL", clinic.fake.url())
        .arg("reconcile-payments")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let logged = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{printed} {logged}");
    printed
}

async fn stripe_is_connected_key_first_and_its_webhook_secret_after(backend: Backend) {
    let (app, _meta, fake) = apps(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let [_, key, hook] = Provider::Stripe.keys(ASHA);
    Provider::Stripe.add_account(&fake, ASHA, None);

    // Only the key: connected, with the URL to add the webhook with in Stripe.
    let only_key = [("provider", "stripe"), ("secret", key.as_str())];
    assert_eq!(
        save(&app, &app.client, &only_key).await.status(),
        StatusCode::OK
    );
    let settings = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(settings["connected"]["webhook_secret_saved"], false);
    let shown = settings["connected"]["webhook_url"].clone();
    let webhook = on_test_server(&app, &settings);
    // Until its secret is saved, Stripe's events are refused: nothing checks them.
    let body = paid_event("evt_too_soon", "cs_test_nobody");
    let signed = signed_by(ASHA, &body);
    assert_eq!(
        post_stripe(&app, &webhook, &body, &signed).await,
        StatusCode::BAD_REQUEST
    );

    // A secret of the wrong shape is refused alone; the key stays.
    let bad = save(
        &app,
        &app.client,
        &[("provider", "stripe"), ("webhook_secret", "nope")],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = bad.json().await.unwrap();
    assert!(
        refused["Invalid"]["webhook_secret"].is_string(),
        "{refused}"
    );
    assert!(refused["Invalid"]["secret"].is_null(), "{refused}");

    // The signing secret alone: kept with the saved key, which Stripe is not asked about again
    // (it cannot be reached now); the URL stays.
    fake.fail_next(1, 500);
    let only_secret = [("provider", "stripe"), ("webhook_secret", hook.as_str())];
    assert_eq!(
        save(&app, &app.client, &only_secret).await.status(),
        StatusCode::OK
    );
    let settings = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(settings["connected"]["webhook_secret_saved"], true);
    assert_eq!(settings["connected"]["webhook_url"], shown);
    assert_eq!(settings["connected"]["key_last4"], "ghij");
    let checked: String = app
        .call("setup/payments/check", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(checked.contains("could not be reached"), "{checked}");
    assert_eq!(
        app.call("setup/payments/check", &[])
            .await
            .json::<String>()
            .await
            .unwrap(),
        "The keys work: Stripe answered, in test mode."
    );
    // Now its events are taken.
    let signed = signed_by(ASHA, &body);
    assert_eq!(
        post_stripe(&app, &webhook, &body, &signed).await,
        StatusCode::OK
    );
    for table in ["payment_accounts", "audit_log"] {
        let stored = all_text(&app, table).await;
        assert!(!stored.contains(&key) && !stored.contains(&hook), "{table}");
    }
    assert_no_secret_logged(ASHA);
}

async fn refund_policy_edges(backend: Backend) {
    // Razorpay here; Stripe's refunds are in `a_late_payment_is_refunded_in_full`.
    let clinic = clinic(backend, Provider::Razorpay).await;
    let app = &clinic.app;
    let starts = |id: &str| format!("SELECT starts_at FROM appointments WHERE id = '{id}'");

    // Paid from a link the doctor asked for on the dashboard.
    let (early, paid_with) = paid_by_hand(&clinic, 24 * 60 + 5).await;
    let shown_paid = shown(app, &early).await;
    assert_eq!(
        shown_paid["payment"]["state"],
        "Paid 500.00 INR with Razorpay"
    );
    assert!(shown_paid["payment"]["reference"]
        .as_str()
        .unwrap()
        .contains(&paid_with));
    assert_eq!(shown_paid["can_mark_paid"], false);
    // Cancelled just before the 24-hour cutoff: refunded in full, once.
    assert!(number(app, &starts(&early)).await - now_ms() >= 24 * HOUR);
    cancel(app, &early).await;
    until_stored(app, &early, "cancelled paid refunded").await;
    let refunds = clinic.fake.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (refunds[0].payment.as_str(), refunds[0].amount),
        (paid_with.as_str(), 50_000)
    );
    assert!(refunds[0]
        .idempotency_key
        .as_deref()
        .unwrap()
        .starts_with("refund-"));
    let refund = shown(app, &early).await["payment"]["refund"].clone();
    assert!(
        refund.as_str().unwrap().starts_with("Refunded in full"),
        "{refund}"
    );

    // Cancelled just after it: nothing is refunded.
    let (late, _) = paid_by_hand(&clinic, 23 * 60 + 30).await;
    assert!(number(app, &starts(&late)).await - now_ms() < 24 * HOUR);
    cancel(app, &late).await;
    assert_eq!(stored(app, &late).await, "cancelled paid -");

    // Refunds left to the doctor: marked so, and the provider is not asked.
    let manual = [("provider", "razorpay"), ("refund", "manual")];
    assert_eq!(
        save(app, &app.client, &manual).await.status(),
        StatusCode::OK
    );
    let (left, _) = paid_by_hand(&clinic, 48 * 60).await;
    cancel(app, &left).await;
    assert_eq!(stored(app, &left).await, "cancelled paid manual");
    let shown_left = shown(app, &left).await["payment"]["refund"].clone();
    assert!(
        shown_left
            .as_str()
            .unwrap()
            .starts_with("Not refunded by itself"),
        "{shown_left}"
    );
    assert_eq!(clinic.fake.refunds().len(), 1);

    // A cutoff of 0 hours: refunded whenever cancelled before it starts, and a patient who
    // booked in DMs is told.
    let until_start = [("provider", "razorpay"), ("refund_hours", "0")];
    assert_eq!(
        save(app, &app.client, &until_start).await.status(),
        StatusCode::OK
    );
    let (id, link) = clinic.held_for_payment().await;
    clinic.fake.pay(&link.reference).await.unwrap();
    until_stored(app, &id, "confirmed paid -").await;
    cancel(app, &id).await;
    until_stored(app, &id, "cancelled paid refunded").await;
    assert_eq!(clinic.fake.refunds().len(), 2);
    clinic
        .told("Your payment of 500.00 INR has been refunded in full.")
        .await;
}

async fn a_patient_who_cancels_in_dms_is_refunded_as_the_policy_says(backend: Backend) {
    let clinic = clinic(backend, Provider::Razorpay).await;
    let app = &clinic.app;
    // Refunds in full whenever cancelled before the start.
    let until_start = [("provider", "razorpay"), ("refund_hours", "0")];
    assert_eq!(
        save(app, &app.client, &until_start).await.status(),
        StatusCode::OK
    );
    let (id, link) = clinic.held_for_payment().await;
    let paid_with = clinic.fake.pay(&link.reference).await.unwrap();
    until_stored(app, &id, "confirmed paid -").await;

    clinic.dm("2").await; // My appointments
    clinic.dm("1").await;
    let asked = said(&clinic.dm("Cancel it").await);
    assert!(asked.contains("why are you cancelling"), "{asked}");
    let done = said(&clinic.dm("Feeling better, thank you").await);
    assert!(done.contains("is cancelled"), "{done}");

    until_stored(app, &id, "cancelled paid refunded").await;
    let refunds = clinic.fake.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(
        (refunds[0].payment.as_str(), refunds[0].amount),
        (paid_with.as_str(), 50_000)
    );
    clinic
        .told("Your payment of 500.00 INR has been refunded in full.")
        .await;
}

async fn the_payment_server_functions_act_on_the_callers_own_data_only(backend: Backend) {
    let clinic = clinic(backend, Provider::Stripe).await;
    let app = &clinic.app;
    let id = book(app, &clinic.practice.consultation, 48 * 60).await;
    ask_link(app, &app.client, &id).await;
    let session = clinic.fake.sessions().pop().unwrap();
    let other = app.other_browser();
    app.new_doctor(&other, "Kabir Shah").await;
    open_practice(app, &other).await;
    // B sees no payment settings of A's, checks no keys of A's, and cannot act on A's
    // appointment.
    assert_eq!(
        app.read_from(&other, "setup/payments").await["connected"],
        Value::Null
    );
    let check = app.call_from(&other, "setup/payments/check", &[]).await;
    assert_eq!(check.status(), StatusCode::CONFLICT);
    for function in ["appointments/mark-paid", "appointments/payment-link"] {
        let response = app.call_from(&other, function, &[("id", &id)]).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(&response.status()),
            "{function}: {}",
            response.status()
        );
    }
    // B switching payments off leaves A's connected.
    let off = save(app, &other, &[("refund", "manual")]).await;
    assert_eq!(off.status(), StatusCode::OK);
    let mine = app.read_from(&app.client, "setup/payments").await;
    assert_eq!(mine["connected"]["provider"], "Stripe");
    assert_eq!(clinic.fake.sessions().len(), 1);

    // B connects their own Stripe: their path does not take A's signed events.
    let theirs = connect(app, &other, &clinic.fake, Provider::Stripe, "kabir").await;
    assert_ne!(theirs, clinic.webhook);
    let body = paid_event("evt_a_signed", &session.id);
    let status = post_stripe(app, &theirs, &body, &signed_by(ASHA, &body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(count(app, "SELECT COUNT(*) FROM payment_events").await, 0);
    // B's own signed event naming A's session is B's to keep, and pays nothing of A's.
    let body = paid_event("evt_b_signed", &session.id);
    let status = post_stripe(app, &theirs, &body, &signed_by("kabir", &body)).await;
    assert_eq!(status, StatusCode::OK);
    applied(app, "evt_b_signed").await;
    assert_eq!(stored(app, &id).await, "confirmed open -");

    // A marks their own appointment paid at the clinic.
    let response = app.call("appointments/mark-paid", &[("id", &id)]).await;
    let shown: Value = response.json().await.unwrap();
    assert_eq!(shown["payment"]["state"], "Paid 500.00 INR at the clinic");
}

/// Offers text and voice calls at `fee` in `currency`; the answer.
async fn set_fees(app: &TestApp, currency: &str, fee: &str) -> reqwest::Response {
    let mut form = OFFER_TEXT_AND_VOICE.to_vec();
    for (name, value) in &mut form {
        match *name {
            "currency" => *value = currency,
            "text_fee" | "voice_fee" => *value = fee,
            _ => {}
        }
    }
    setup_call(app, &app.client, "methods-fees/save", &form).await
}

async fn fees_below_the_providers_minimum_are_refused_and_amounts_reach_it_in_its_units(
    backend: Backend,
) {
    let (app, _meta, fake) = apps(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let practice = open_practice(&app, &app.client).await;

    // Below the provider's smallest charge: connecting is refused with the reason.
    for (provider, currency, fee, why) in [
        (
            Provider::Stripe,
            "USD",
            "0.40",
            "Stripe cannot charge less than 0.50 USD.",
        ),
        (
            Provider::Razorpay,
            "INR",
            "0.50",
            "Razorpay cannot charge less than 1.00 INR.",
        ),
    ] {
        assert_eq!(set_fees(&app, currency, fee).await.status(), StatusCode::OK);
        provider.add_account(&fake, ASHA, None);
        let response = save_keys(&app, &app.client, provider, ASHA).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        let refused = body["Invalid"]["provider"].as_str().unwrap_or_default();
        assert!(refused.contains(why), "{body}");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM payment_accounts").await,
        0
    );

    // A zero-decimal fee reaches Stripe in whole yen.
    assert_eq!(set_fees(&app, "JPY", "1500").await.status(), StatusCode::OK);
    connect(&app, &app.client, &fake, Provider::Stripe, ASHA).await;
    let link = linked_amount(&app, &fake, Provider::Stripe, &practice).await;
    assert_eq!(link, (1_500, "JPY".to_owned()));
    // Once connected, a fee Stripe cannot charge is refused on Methods & fees.
    let refused = set_fees(&app, "USD", "0.40").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    let why = body["Invalid"]["voice_fee"].as_str().unwrap_or_default();
    assert!(
        why.contains("Stripe cannot charge less than 0.50 USD."),
        "{body}"
    );
    // A three-decimal fee reaches Stripe and Razorpay in fils, and one finer than their steps
    // of ten is refused.
    assert_eq!(
        set_fees(&app, "KWD", "12.340").await.status(),
        StatusCode::OK
    );
    let link = linked_amount(&app, &fake, Provider::Stripe, &practice).await;
    assert_eq!(link, (12_340, "KWD".to_owned()));
    let refused = set_fees(&app, "KWD", "12.345").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    connect(&app, &app.client, &fake, Provider::Razorpay, ASHA).await;
    let link = linked_amount(&app, &fake, Provider::Razorpay, &practice).await;
    assert_eq!(link, (12_340, "KWD".to_owned()));
}

/// A voice call booked by hand two days ahead and its link asked for: the amount and currency
/// the provider was asked for.
async fn linked_amount(
    app: &TestApp,
    fake: &FakePayments,
    provider: Provider,
    practice: &OpenPractice,
) -> (i64, String) {
    let id = book(app, &practice.consultation, 48 * 60).await;
    let asked = ask_link(app, &app.client, &id).await;
    assert!(asked["payment"]["link"].is_string(), "{asked}");
    let link = provider.last_link(fake);
    (link.amount, link.currency)
}
