//! The payment providers' client against the fake Stripe and Razorpay: key checks (mode,
//! unknown keys, a restricted key without Checkout permission), links made with the right
//! fields, retries that never make a second link, states after paying, closing open and
//! paid links, refunds made once per idempotency key, providers that fail or hang, and the
//! signed webhooks the fake sends; no error ever carries a key or a URL.

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use clariva::providers::client::{
    Charge, KeyCheck, Keys, Link, Mode, Payments, ProviderError, State,
};
use common::fake_payments::{razorpay_signature, stripe_signature, FakePayments};
use secrecy::SecretString;
use serde_json::{json, Value};

const STRIPE_KEY: &str = "sk_test_51FakeStripeSecretKey0000000000abcd";
const STRIPE_LIVE_KEY: &str = "sk_live_51FakeStripeSecretKey0000000000wxyz";
const RESTRICTED_KEY: &str = "rk_test_51FakeRestrictedKeyNoCheckout0000q9z8";
const STRIPE_WEBHOOK_SECRET: &str = "whsec_fake_stripe_webhook_secret";
const RAZORPAY_ID: &str = "rzp_test_FakeKeyId0001";
const RAZORPAY_LIVE_ID: &str = "rzp_live_FakeKeyId0002";
const RAZORPAY_SECRET: &str = "fakeRazorpayKeySecret0001";
const RAZORPAY_WEBHOOK_SECRET: &str = "fake_razorpay_webhook_secret";
const APPOINTMENT: &str = "0193a0c4-7e1f-7000-8000-000000000001";
const RETURN_URL: &str = "https://clariva.example/pay/return?appointment=1";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn stripe(key: &str) -> Keys {
    Keys::Stripe {
        secret_key: SecretString::from(key),
    }
}

fn razorpay(key_id: &str, secret: &str) -> Keys {
    Keys::Razorpay {
        key_id: key_id.into(),
        key_secret: SecretString::from(secret),
    }
}

/// The end of every test's hold: an hour after the first asks (one instant, so a retry sends
/// the very same request).
fn hold_end() -> i64 {
    static END: OnceLock<i64> = OnceLock::new();
    *END.get_or_init(|| now() + 3600)
}

/// An hour's hold on a INR 500.00 voice call.
fn charge(appointment_id: &str, attempt: u32) -> Charge<'_> {
    Charge {
        appointment_id,
        doctor_id: "doctor-7",
        attempt,
        amount: 50_000,
        currency: "INR",
        description: "Voice call, Mon 7 Dec 09:30",
        expires_at: hold_end(),
        return_url: RETURN_URL,
    }
}

/// The fake with one account of each provider (webhooks to `webhook_url`), and a client.
async fn fake_with(webhook_url: Option<String>) -> (FakePayments, Payments) {
    let fake = FakePayments::start().await;
    fake.add_stripe_account(STRIPE_KEY, STRIPE_WEBHOOK_SECRET, webhook_url.clone());
    fake.add_stripe_account(STRIPE_LIVE_KEY, STRIPE_WEBHOOK_SECRET, None);
    fake.add_stripe_key_without_checkout(RESTRICTED_KEY);
    fake.add_razorpay_account(
        RAZORPAY_ID,
        RAZORPAY_SECRET,
        RAZORPAY_WEBHOOK_SECRET,
        webhook_url,
    );
    fake.add_razorpay_account(RAZORPAY_LIVE_ID, RAZORPAY_SECRET, "unused", None);
    let payments = Payments::new(&fake.url(), &fake.url());
    (fake, payments)
}

async fn fake() -> (FakePayments, Payments) {
    fake_with(None).await
}

/// The test keys of each provider.
fn both_keys() -> [Keys; 2] {
    [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)]
}

/// Paid in full, INR 500.00, by `payment`.
fn paid(payment: String) -> Result<State, ProviderError> {
    Ok(State::Paid {
        payment,
        amount: 50_000,
    })
}

/// A link for the first attempt at the appointment, and the keys it was made with.
struct Made<'a> {
    payments: &'a Payments,
    keys: Keys,
    link: Link,
}

impl<'a> Made<'a> {
    async fn new(payments: &'a Payments, keys: Keys) -> Self {
        let link = payments.create(&keys, &charge(APPOINTMENT, 1)).await;
        Self {
            payments,
            link: link.unwrap(),
            keys,
        }
    }

    fn reference(&self) -> &str {
        &self.link.reference
    }

    async fn state(&self) -> Result<State, ProviderError> {
        self.payments.state(&self.keys, self.reference()).await
    }

    async fn close(&self) -> Result<State, ProviderError> {
        self.payments.close(&self.keys, self.reference()).await
    }

    async fn refund(&self, payment: &str, amount: i64, key: &str) -> Result<String, ProviderError> {
        self.payments.refund(&self.keys, payment, amount, key).await
    }
}

/// The error names neither a key, a secret nor an address.
fn assert_clean(error: &ProviderError) {
    for shown in [error.to_string(), format!("{error:?}")] {
        for secret in [
            STRIPE_KEY,
            STRIPE_LIVE_KEY,
            RESTRICTED_KEY,
            RAZORPAY_SECRET,
            "abcd",
            "q9z8",
            "http://",
            "127.0.0.1",
        ] {
            assert!(!shown.contains(secret), "{shown:?} contains {secret:?}");
        }
    }
}

/// A refusal, naming no secret.
fn assert_refused(error: &ProviderError) {
    assert!(matches!(error, ProviderError::Refused(_)), "{error:?}");
    assert_clean(error);
}

/// Worth a retry, naming no secret.
fn assert_unreachable(error: &ProviderError) {
    assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
    assert_clean(error);
}

/// A missing `permission`, naming no secret.
fn assert_missing_permission(error: &ProviderError, permission: &str) {
    let ProviderError::Permission(message) = error else {
        panic!("expected a missing permission, got {error:?}");
    };
    assert!(message.contains(permission), "{message}");
    assert_clean(error);
}

#[tokio::test]
async fn a_good_key_is_checked_and_its_mode_told() {
    let (_fake, payments) = fake().await;
    let cases = [
        (stripe(STRIPE_KEY), Mode::Test),
        (stripe(STRIPE_LIVE_KEY), Mode::Live),
        (razorpay(RAZORPAY_ID, RAZORPAY_SECRET), Mode::Test),
        (razorpay(RAZORPAY_LIVE_ID, RAZORPAY_SECRET), Mode::Live),
    ];
    for (keys, mode) in cases {
        assert_eq!(payments.check(&keys).await, Ok(KeyCheck { mode }));
    }
}

#[tokio::test]
async fn an_unknown_key_is_rejected() {
    let (_fake, payments) = fake().await;
    for keys in [
        stripe("sk_test_51UnknownKey000000000000abcd"),
        razorpay(RAZORPAY_ID, "wrong-secret-abcd"),
        razorpay("rzp_test_Unknown0000", RAZORPAY_SECRET),
    ] {
        let error = payments.check(&keys).await.unwrap_err();
        assert_eq!(error, ProviderError::KeyRejected);
        assert_clean(&error);
        let error = payments.create(&keys, &charge(APPOINTMENT, 1)).await;
        assert_eq!(error, Err(ProviderError::KeyRejected));
    }
}

#[tokio::test]
async fn a_restricted_key_without_checkout_permission_is_told_apart() {
    let (_fake, payments) = fake().await;
    let keys = stripe(RESTRICTED_KEY);
    let error = payments.check(&keys).await.unwrap_err();
    assert_missing_permission(&error, "rak_checkout_session_read");
    let error = payments.create(&keys, &charge(APPOINTMENT, 1)).await;
    assert_missing_permission(&error.unwrap_err(), "rak_checkout_session_write");
}

#[tokio::test]
async fn a_key_of_neither_kind_is_refused() {
    let (_fake, payments) = fake().await;
    for keys in [
        stripe("pk_live_51Publishable0000abcd"),
        razorpay("key_abcd", RAZORPAY_SECRET),
    ] {
        assert_refused(&payments.check(&keys).await.unwrap_err());
    }
}

#[tokio::test]
async fn a_stripe_session_is_made_with_stripes_nested_fields() {
    let (fake, payments) = fake().await;
    let link = Made::new(&payments, stripe(STRIPE_KEY)).await.link;
    assert!(link.reference.starts_with("cs_test_"), "{link:?}");
    assert_eq!(link.url, format!("{}/pay/{}", fake.url(), link.reference));
    let sessions = fake.sessions();
    let [session] = sessions.as_slice() else {
        panic!("one session: {sessions:?}");
    };
    for (name, sent) in [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "inr"),
        ("line_items[0][price_data][unit_amount]", "50000"),
        (
            "line_items[0][price_data][product_data][name]",
            "Voice call, Mon 7 Dec 09:30",
        ),
        ("line_items[0][quantity]", "1"),
        ("success_url", RETURN_URL),
        ("cancel_url", RETURN_URL),
    ] {
        assert_eq!(
            session.form.get(name).map(String::as_str),
            Some(sent),
            "{name}"
        );
    }
    assert_eq!(session.amount, 50_000);
    assert_eq!(session.client_reference_id.as_deref(), Some(APPOINTMENT));
    let expected = json!({"appointment_id": APPOINTMENT, "doctor_id": "doctor-7"});
    assert_eq!(session.metadata, expected);
    assert_eq!(session.payment_intent_metadata, expected);
    assert_eq!(
        session.idempotency_key.as_deref(),
        Some(format!("appointment:{APPOINTMENT}:attempt:1").as_str())
    );
    assert_eq!(session.expires_at, hold_end());
}

#[tokio::test]
async fn a_razorpay_link_is_made_with_razorpays_fields() {
    let (fake, payments) = fake().await;
    let link = Made::new(&payments, razorpay(RAZORPAY_ID, RAZORPAY_SECRET))
        .await
        .link;
    assert!(link.reference.starts_with("plink_"), "{link:?}");
    assert_eq!(link.url, format!("{}/pay/{}", fake.url(), link.reference));
    let links = fake.links();
    let [made] = links.as_slice() else {
        panic!("one link: {links:?}");
    };
    for (field, sent) in [
        ("amount", json!(50_000)),
        ("currency", json!("INR")),
        ("description", json!("Voice call, Mon 7 Dec 09:30")),
        ("reference_id", json!("0193a0c47e1f70008000000000000001-1")),
        (
            "notes",
            json!({"appointment_id": APPOINTMENT, "doctor_id": "doctor-7"}),
        ),
        ("callback_url", json!(RETURN_URL)),
        ("callback_method", json!("get")),
        ("notify", json!({"sms": false, "email": false})),
        ("reminder_enable", json!(false)),
        ("accept_partial", json!(false)),
    ] {
        assert_eq!(made.body[field], sent, "{field}");
    }
    assert_eq!(made.expire_by, hold_end());
}

#[tokio::test]
async fn a_retried_create_returns_the_same_link_and_makes_no_second_one() {
    let (fake, payments) = fake().await;
    for keys in both_keys() {
        let first = Made::new(&payments, keys).await;
        let retry = Made::new(&payments, first.keys).await;
        assert_eq!(retry.link, first.link);
        let again = payments.create(&retry.keys, &charge(APPOINTMENT, 2)).await;
        assert_ne!(
            again.unwrap().reference,
            first.link.reference,
            "a new attempt gets a new link"
        );
    }
    assert_eq!(fake.sessions().len(), 2);
    assert_eq!(fake.links().len(), 2);
}

#[tokio::test]
async fn a_paid_link_is_paid_with_the_payment_a_refund_needs() {
    let (fake, payments) = fake().await;
    for (keys, prefix) in both_keys().into_iter().zip(["pi_", "pay_"]) {
        let made = Made::new(&payments, keys).await;
        assert_eq!(made.state().await, Ok(State::Open));
        let payment = fake.pay(made.reference()).await.unwrap();
        assert!(payment.starts_with(prefix), "{payment}");
        assert_eq!(made.state().await, paid(payment));
    }
}

#[tokio::test]
async fn a_stripe_payment_by_a_delayed_method_is_open_until_it_settles() {
    let (fake, payments) = fake().await;
    let made = Made::new(&payments, stripe(STRIPE_KEY)).await;
    let payment = fake.pay_delayed(made.reference()).await.unwrap();
    assert_eq!(made.state().await, Ok(State::Open));
    fake.settle(made.reference()).await.unwrap();
    assert_eq!(made.state().await, paid(payment));
}

#[tokio::test]
async fn closing_an_open_link_makes_it_unpayable() {
    let (fake, payments) = fake().await;
    for keys in both_keys() {
        let made = Made::new(&payments, keys).await;
        assert_eq!(made.close().await, Ok(State::Closed));
        assert_eq!(made.state().await, Ok(State::Closed));
        assert!(fake.pay(made.reference()).await.is_err());
        // Closing again is harmless.
        assert_eq!(made.close().await, Ok(State::Closed));
    }
    assert_eq!(fake.sessions()[0].status, "expired");
    assert_eq!(fake.links()[0].status, "cancelled");
}

#[tokio::test]
async fn closing_a_link_paid_meanwhile_answers_paid() {
    let (fake, payments) = fake().await;
    for keys in both_keys() {
        let made = Made::new(&payments, keys).await;
        let payment = fake.pay(made.reference()).await.unwrap();
        assert_eq!(made.close().await, paid(payment));
    }
}

#[tokio::test]
async fn a_link_that_lapsed_is_closed() {
    let (fake, payments) = fake().await;
    for keys in both_keys() {
        let made = Made::new(&payments, keys).await;
        assert!(fake.expire_now(made.reference()).await);
        assert_eq!(made.state().await, Ok(State::Closed));
        assert_eq!(made.close().await, Ok(State::Closed));
    }
}

#[tokio::test]
async fn a_refund_is_made_once_per_idempotency_key() {
    let (fake, payments) = fake().await;
    for (keys, prefix) in both_keys().into_iter().zip(["re_", "rfnd_"]) {
        let made = Made::new(&payments, keys).await;
        let payment = fake.pay(made.reference()).await.unwrap();
        let key = format!("refund:{APPOINTMENT}:1");
        let first = made.refund(&payment, 20_000, &key).await.unwrap();
        assert!(first.starts_with(prefix), "{first}");
        let retry = made.refund(&payment, 20_000, &key).await.unwrap();
        assert_eq!(retry, first);
        let refunds: Vec<_> = fake
            .refunds()
            .into_iter()
            .filter(|r| r.payment == payment)
            .collect();
        assert_eq!(refunds.len(), 1, "{refunds:?}");
        assert_eq!(refunds[0].amount, 20_000);
        assert_eq!(refunds[0].idempotency_key.as_deref(), Some(key.as_str()));
        // More than is left is refused, with the provider's message.
        let error = made.refund(&payment, 40_000, "refund:another-one").await;
        assert_refused(&error.unwrap_err());
    }
}

#[tokio::test]
async fn a_refund_key_too_short_for_razorpay_is_refused_before_any_call() {
    let (fake, payments) = fake().await;
    let error = payments
        .refund(&stripe(STRIPE_KEY), "pi_123", 100, "short")
        .await;
    assert_refused(&error.unwrap_err());
    assert!(fake.refunds().is_empty());
}

#[tokio::test]
async fn what_the_provider_refuses_comes_back_with_its_message() {
    let (_fake, payments) = fake().await;
    let soon = Charge {
        expires_at: now() + 10 * 60,
        ..charge(APPOINTMENT, 1)
    };
    let error = payments
        .create(&stripe(STRIPE_KEY), &soon)
        .await
        .unwrap_err();
    let ProviderError::Refused(message) = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("at least 30 minutes"), "{message}");
    let keys = razorpay(RAZORPAY_ID, RAZORPAY_SECRET);
    let error = payments.create(&keys, &soon).await.unwrap_err();
    let late = "expire_by should be at least 15 minutes after current time.";
    assert_eq!(error, ProviderError::Refused(late.into()));
    for reference in ["cs_test_doesnotexist", "../v1/refunds"] {
        let error = payments.state(&stripe(STRIPE_KEY), reference).await;
        assert_refused(&error.unwrap_err());
    }
}

#[tokio::test]
async fn a_providers_server_error_is_worth_a_retry() {
    let (fake, payments) = fake().await;
    for keys in both_keys() {
        fake.fail_next(1, 500);
        let error = payments.create(&keys, &charge(APPOINTMENT, 1)).await;
        assert_unreachable(&error.unwrap_err());
        let made = Made::new(&payments, keys).await;
        assert!(!made.link.reference.is_empty());
    }
}

#[tokio::test]
async fn an_absent_provider_is_unreachable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let payments = Payments::new(&url, &url);
    for keys in both_keys() {
        assert_unreachable(&payments.check(&keys).await.unwrap_err());
    }
}

#[tokio::test]
async fn a_hung_provider_is_unreachable_within_the_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let payments = Payments::new(&url, &url).with_timeout(Duration::from_millis(500));
    for keys in both_keys() {
        let started = Instant::now();
        let error = payments.create(&keys, &charge(APPOINTMENT, 1)).await;
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_unreachable(&error.unwrap_err());
    }
}

/// What a webhook endpoint was sent: headers and body, of each delivery.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook endpoint that keeps what it is sent.
async fn webhook_receiver() -> (String, Received) {
    let received = Received::default();
    let kept = received.clone();
    let router = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

/// The `index`th delivery: its headers, its body and the event in it.
fn delivery(received: &Received, index: usize) -> (HeaderMap, String, Value) {
    let (headers, body) = received.lock().unwrap()[index].clone();
    let event = serde_json::from_str(&body).unwrap();
    (headers, body, event)
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn paying_sends_the_providers_signed_webhooks() {
    let (url, received) = webhook_receiver().await;
    let (fake, payments) = fake_with(Some(url)).await;

    let made = Made::new(&payments, stripe(STRIPE_KEY)).await;
    let payment = fake.pay(made.reference()).await.unwrap();
    let (headers, body, event) = delivery(&received, 0);
    let signature = header(&headers, "stripe-signature");
    let t: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(signature, stripe_signature(&body, STRIPE_WEBHOOK_SECRET, t));
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["object"], "event");
    let session = &event["data"]["object"];
    assert_eq!(session["id"], made.reference());
    assert_eq!(session["client_reference_id"], APPOINTMENT);
    assert_eq!(session["metadata"]["doctor_id"], "doctor-7");
    assert_eq!(session["payment_intent"], payment.as_str());
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["amount_total"], 50_000);

    let made = Made::new(&payments, razorpay(RAZORPAY_ID, RAZORPAY_SECRET)).await;
    let payment = fake.pay(made.reference()).await.unwrap();
    let (headers, body, event) = delivery(&received, 1);
    assert_eq!(
        header(&headers, "x-razorpay-signature"),
        razorpay_signature(&body, RAZORPAY_WEBHOOK_SECRET)
    );
    assert!(!header(&headers, "x-razorpay-event-id").is_empty());
    assert_eq!(event["event"], "payment_link.paid");
    let paid = &event["payload"]["payment_link"]["entity"];
    assert_eq!(paid["id"], made.reference());
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["notes"]["appointment_id"], APPOINTMENT);
    let captured = &event["payload"]["payment"]["entity"];
    assert_eq!(captured["id"], payment.as_str());
    assert_eq!(captured["status"], "captured");

    // Lost webhooks are kept, and can be sent again later (a duplicate, or late).
    fake.set_webhooks(false);
    let link = payments
        .create(&stripe(STRIPE_KEY), &charge(APPOINTMENT, 2))
        .await
        .unwrap();
    fake.expire_now(&link.reference).await;
    assert_eq!(received.lock().unwrap().len(), 2);
    fake.resend_last_event().await;
    let (_, _, event) = delivery(&received, 2);
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(fake.events().len(), 3);
}

/// Sends `request`; it must get an answer.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_hosted_page_pays_and_sends_the_patient_back() {
    let (_fake, payments) = fake().await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let link = Made::new(&payments, razorpay(RAZORPAY_ID, RAZORPAY_SECRET))
        .await
        .link;
    let page = send(browser.get(&link.url)).await.text().await.unwrap();
    assert!(page.contains("INR 500.00"), "{page}");
    assert!(page.contains("Voice call, Mon 7 Dec 09:30"), "{page}");
    assert!(page.contains(">Pay</button>"), "{page}");
    let paid = send(browser.post(&link.url)).await;
    assert_eq!(paid.status(), reqwest::StatusCode::SEE_OTHER);
    let back = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{RETURN_URL}&razorpay_payment_id=pay_")),
        "{back}"
    );
    assert!(back.contains("razorpay_payment_link_status=paid"), "{back}");
    assert!(back.contains("razorpay_signature="), "{back}");
    let page = send(browser.get(&link.url)).await.text().await.unwrap();
    assert!(page.contains("has been paid"), "{page}");
}

#[tokio::test]
async fn the_browser_tests_steer_the_fake_over_http() {
    let fake = FakePayments::start().await;
    let http = reqwest::Client::new();
    let control = |path: &str| format!("{}/fake/{path}", fake.url());
    let account = json!({"secret_key": STRIPE_KEY, "webhook_secret": "whsec_e2e"});
    let added = send(http.post(control("stripe/accounts")).json(&account)).await;
    assert!(added.status().is_success());
    let account = json!({"key_id": RAZORPAY_ID, "key_secret": RAZORPAY_SECRET,
                         "webhook_secret": "e2e", "webhook_url": ""});
    let added = send(http.post(control("razorpay/accounts")).json(&account)).await;
    assert!(added.status().is_success());
    let payments = Payments::new(&fake.url(), &fake.url());
    let made = Made::new(&payments, stripe(STRIPE_KEY)).await;
    let pay = http.post(control(&format!("pay/{}", made.reference())));
    let paid_now: Value = send(pay).await.json().await.unwrap();
    let payment = paid_now["payment"].as_str().unwrap().to_owned();
    assert_eq!(made.state().await, paid(payment));
    let sessions: Value = send(http.get(control("sessions")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions[0]["id"], made.reference());
    let keys = razorpay(RAZORPAY_ID, RAZORPAY_SECRET);
    assert!(payments.check(&keys).await.is_ok());
    let failures = json!({"count": 1, "status": 503});
    send(http.post(control("fail-next")).json(&failures)).await;
    assert_unreachable(&payments.check(&keys).await.unwrap_err());
}
