//! The payment providers' client against the fake Stripe and Razorpay: key checks (mode,
//! unknown keys, a restricted key without Checkout permission), links made with the right
//! fields, retries that never make a second link, states after paying, closing open and
//! paid links, refunds made once per idempotency key, providers that fail or hang, and the
//! signed webhooks the fake sends; no error ever carries a key or a URL.

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clariva::providers::client::{
    Charge, KeyCheck, Keys, Link, Mode, Payments, ProviderError, State,
};
use common::fake_payments::{razorpay_signature, stripe_signature, FakePayments};
use secrecy::SecretString;

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
    let ProviderError::Permission(message) = &error else {
        panic!("expected a missing permission, got {error:?}");
    };
    assert!(message.contains("rak_checkout_session_read"), "{message}");
    assert_clean(&error);
    let error = payments
        .create(&keys, &charge(APPOINTMENT, 1))
        .await
        .unwrap_err();
    let ProviderError::Permission(message) = &error else {
        panic!("expected a missing permission, got {error:?}");
    };
    assert!(message.contains("rak_checkout_session_write"), "{message}");
    assert_clean(&error);
}

#[tokio::test]
async fn a_key_of_neither_kind_is_refused() {
    let (_fake, payments) = fake().await;
    for keys in [
        stripe("pk_live_51Publishable0000abcd"),
        razorpay("key_abcd", RAZORPAY_SECRET),
    ] {
        let error = payments.check(&keys).await.unwrap_err();
        assert!(matches!(error, ProviderError::Refused(_)), "{error:?}");
        assert_clean(&error);
    }
}

#[tokio::test]
async fn a_stripe_session_is_made_with_stripes_nested_fields() {
    let (fake, payments) = fake().await;
    let link = payments
        .create(&stripe(STRIPE_KEY), &charge(APPOINTMENT, 1))
        .await
        .unwrap();
    assert!(link.reference.starts_with("cs_test_"), "{link:?}");
    assert_eq!(link.url, format!("{}/pay/{}", fake.url(), link.reference));
    let sessions = fake.sessions();
    let [session] = sessions.as_slice() else {
        panic!("one session: {sessions:?}");
    };
    let field = |name: &str| session.form.get(name).map(String::as_str);
    assert_eq!(field("mode"), Some("payment"));
    assert_eq!(field("line_items[0][price_data][currency]"), Some("inr"));
    assert_eq!(
        field("line_items[0][price_data][unit_amount]"),
        Some("50000")
    );
    assert_eq!(
        field("line_items[0][price_data][product_data][name]"),
        Some("Voice call, Mon 7 Dec 09:30")
    );
    assert_eq!(field("line_items[0][quantity]"), Some("1"));
    assert_eq!(field("success_url"), Some(RETURN_URL));
    assert_eq!(field("cancel_url"), Some(RETURN_URL));
    assert_eq!(session.amount, 50_000);
    assert_eq!(session.client_reference_id.as_deref(), Some(APPOINTMENT));
    let expected = serde_json::json!({"appointment_id": APPOINTMENT, "doctor_id": "doctor-7"});
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
    let link = payments
        .create(
            &razorpay(RAZORPAY_ID, RAZORPAY_SECRET),
            &charge(APPOINTMENT, 1),
        )
        .await
        .unwrap();
    assert!(link.reference.starts_with("plink_"), "{link:?}");
    assert_eq!(link.url, format!("{}/pay/{}", fake.url(), link.reference));
    let links = fake.links();
    let [made] = links.as_slice() else {
        panic!("one link: {links:?}");
    };
    let body = &made.body;
    assert_eq!(body["amount"], 50_000);
    assert_eq!(body["currency"], "INR");
    assert_eq!(body["description"], "Voice call, Mon 7 Dec 09:30");
    assert_eq!(body["reference_id"], "0193a0c47e1f70008000000000000001-1");
    assert_eq!(
        body["notes"],
        serde_json::json!({"appointment_id": APPOINTMENT, "doctor_id": "doctor-7"})
    );
    assert_eq!(body["callback_url"], RETURN_URL);
    assert_eq!(body["callback_method"], "get");
    assert_eq!(
        body["notify"],
        serde_json::json!({"sms": false, "email": false})
    );
    assert_eq!(body["reminder_enable"], false);
    assert_eq!(body["accept_partial"], false);
    assert_eq!(made.expire_by, hold_end());
}

#[tokio::test]
async fn a_retried_create_returns_the_same_link_and_makes_no_second_one() {
    let (fake, payments) = fake().await;
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let first = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        let retry = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        assert_eq!(retry, first);
        let again = payments
            .create(&keys, &charge(APPOINTMENT, 2))
            .await
            .unwrap();
        assert_ne!(
            again.reference, first.reference,
            "a new attempt gets a new link"
        );
    }
    assert_eq!(fake.sessions().len(), 2);
    assert_eq!(fake.links().len(), 2);
}

#[tokio::test]
async fn a_paid_link_is_paid_with_the_payment_a_refund_needs() {
    let (fake, payments) = fake().await;
    for (keys, prefix) in [
        (stripe(STRIPE_KEY), "pi_"),
        (razorpay(RAZORPAY_ID, RAZORPAY_SECRET), "pay_"),
    ] {
        let link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        assert_eq!(
            payments.state(&keys, &link.reference).await,
            Ok(State::Open)
        );
        let payment = fake.pay(&link.reference).await.unwrap();
        assert!(payment.starts_with(prefix), "{payment}");
        assert_eq!(
            payments.state(&keys, &link.reference).await,
            Ok(State::Paid {
                payment,
                amount: 50_000
            })
        );
    }
}

#[tokio::test]
async fn a_stripe_payment_by_a_delayed_method_is_open_until_it_settles() {
    let (fake, payments) = fake().await;
    let keys = stripe(STRIPE_KEY);
    let link = payments
        .create(&keys, &charge(APPOINTMENT, 1))
        .await
        .unwrap();
    let payment = fake.pay_delayed(&link.reference).await.unwrap();
    assert_eq!(
        payments.state(&keys, &link.reference).await,
        Ok(State::Open)
    );
    fake.settle(&link.reference).await.unwrap();
    assert_eq!(
        payments.state(&keys, &link.reference).await,
        Ok(State::Paid {
            payment,
            amount: 50_000
        })
    );
}

#[tokio::test]
async fn closing_an_open_link_makes_it_unpayable() {
    let (fake, payments) = fake().await;
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        assert_eq!(
            payments.close(&keys, &link.reference).await,
            Ok(State::Closed)
        );
        assert_eq!(
            payments.state(&keys, &link.reference).await,
            Ok(State::Closed)
        );
        assert!(fake.pay(&link.reference).await.is_err());
        // Closing again is harmless.
        assert_eq!(
            payments.close(&keys, &link.reference).await,
            Ok(State::Closed)
        );
    }
    assert_eq!(fake.sessions()[0].status, "expired");
    assert_eq!(fake.links()[0].status, "cancelled");
}

#[tokio::test]
async fn closing_a_link_paid_meanwhile_answers_paid() {
    let (fake, payments) = fake().await;
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        let payment = fake.pay(&link.reference).await.unwrap();
        assert_eq!(
            payments.close(&keys, &link.reference).await,
            Ok(State::Paid {
                payment,
                amount: 50_000
            })
        );
    }
}

#[tokio::test]
async fn a_link_that_lapsed_is_closed() {
    let (fake, payments) = fake().await;
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        assert!(fake.expire_now(&link.reference).await);
        assert_eq!(
            payments.state(&keys, &link.reference).await,
            Ok(State::Closed)
        );
        assert_eq!(
            payments.close(&keys, &link.reference).await,
            Ok(State::Closed)
        );
    }
}

#[tokio::test]
async fn a_refund_is_made_once_per_idempotency_key() {
    let (fake, payments) = fake().await;
    for (keys, prefix) in [
        (stripe(STRIPE_KEY), "re_"),
        (razorpay(RAZORPAY_ID, RAZORPAY_SECRET), "rfnd_"),
    ] {
        let link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        let payment = fake.pay(&link.reference).await.unwrap();
        let key = format!("refund:{APPOINTMENT}:1");
        let first = payments
            .refund(&keys, &payment, 20_000, &key)
            .await
            .unwrap();
        assert!(first.starts_with(prefix), "{first}");
        let retry = payments
            .refund(&keys, &payment, 20_000, &key)
            .await
            .unwrap();
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
        let error = payments
            .refund(&keys, &payment, 40_000, "refund:another-one")
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Refused(_)), "{error:?}");
        assert_clean(&error);
    }
}

#[tokio::test]
async fn a_refund_key_too_short_for_razorpay_is_refused_before_any_call() {
    let (fake, payments) = fake().await;
    let error = payments
        .refund(&stripe(STRIPE_KEY), "pi_123", 100, "short")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Refused(_)));
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
    let error = payments
        .create(&razorpay(RAZORPAY_ID, RAZORPAY_SECRET), &soon)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::Refused(
            "expire_by should be at least 15 minutes after current time.".into()
        )
    );
    let error = payments
        .state(&stripe(STRIPE_KEY), "cs_test_doesnotexist")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Refused(_)), "{error:?}");
    let error = payments
        .state(&stripe(STRIPE_KEY), "../v1/refunds")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn a_providers_server_error_is_worth_a_retry() {
    let (fake, payments) = fake().await;
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        fake.fail_next(1, 500);
        let error = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
        assert_clean(&error);
        let link: Link = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap();
        assert!(!link.reference.is_empty());
    }
}

#[tokio::test]
async fn an_absent_provider_is_unreachable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let payments = Payments::new(&url, &url);
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let error = payments.check(&keys).await.unwrap_err();
        assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
        assert_clean(&error);
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
    for keys in [stripe(STRIPE_KEY), razorpay(RAZORPAY_ID, RAZORPAY_SECRET)] {
        let started = Instant::now();
        let error = payments
            .create(&keys, &charge(APPOINTMENT, 1))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
        assert_clean(&error);
    }
}

/// A webhook endpoint that keeps what it is sent: headers and body.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let router = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
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

fn header(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn paying_sends_the_providers_signed_webhooks() {
    let (url, received) = webhook_receiver().await;
    let (fake, payments) = fake_with(Some(url)).await;

    let link = payments
        .create(&stripe(STRIPE_KEY), &charge(APPOINTMENT, 1))
        .await
        .unwrap();
    let payment = fake.pay(&link.reference).await.unwrap();
    let (headers, body) = received.lock().unwrap()[0].clone();
    let signature = header(&headers, "stripe-signature");
    let t: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(signature, stripe_signature(&body, STRIPE_WEBHOOK_SECRET, t));
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["object"], "event");
    let session = &event["data"]["object"];
    assert_eq!(session["id"], link.reference.as_str());
    assert_eq!(session["client_reference_id"], APPOINTMENT);
    assert_eq!(session["metadata"]["doctor_id"], "doctor-7");
    assert_eq!(session["payment_intent"], payment.as_str());
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["amount_total"], 50_000);

    let link = payments
        .create(
            &razorpay(RAZORPAY_ID, RAZORPAY_SECRET),
            &charge(APPOINTMENT, 1),
        )
        .await
        .unwrap();
    let payment = fake.pay(&link.reference).await.unwrap();
    let (headers, body) = received.lock().unwrap()[1].clone();
    assert_eq!(
        header(&headers, "x-razorpay-signature"),
        razorpay_signature(&body, RAZORPAY_WEBHOOK_SECRET)
    );
    assert!(!header(&headers, "x-razorpay-event-id").is_empty());
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"], "payment_link.paid");
    let paid = &event["payload"]["payment_link"]["entity"];
    assert_eq!(paid["id"], link.reference.as_str());
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["notes"]["appointment_id"], APPOINTMENT);
    assert_eq!(
        event["payload"]["payment"]["entity"]["id"],
        payment.as_str()
    );
    assert_eq!(event["payload"]["payment"]["entity"]["status"], "captured");

    // Lost webhooks are kept, and can be sent again later (a duplicate, or late).
    fake.set_webhooks(false);
    let link = payments
        .create(&stripe(STRIPE_KEY), &charge(APPOINTMENT, 2))
        .await
        .unwrap();
    fake.expire_now(&link.reference).await;
    assert_eq!(received.lock().unwrap().len(), 2);
    fake.resend_last_event().await;
    let (_, body) = received.lock().unwrap()[2].clone();
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(fake.events().len(), 3);
}

#[tokio::test]
async fn the_hosted_page_pays_and_sends_the_patient_back() {
    let (_fake, payments) = fake().await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let keys = razorpay(RAZORPAY_ID, RAZORPAY_SECRET);
    let link = payments
        .create(&keys, &charge(APPOINTMENT, 1))
        .await
        .unwrap();
    let page = browser
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("INR 500.00"), "{page}");
    assert!(page.contains("Voice call, Mon 7 Dec 09:30"), "{page}");
    assert!(page.contains(">Pay</button>"), "{page}");
    let paid = browser.post(&link.url).send().await.unwrap();
    assert_eq!(paid.status(), reqwest::StatusCode::SEE_OTHER);
    let back = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{RETURN_URL}&razorpay_payment_id=pay_")),
        "{back}"
    );
    assert!(back.contains("razorpay_payment_link_status=paid"), "{back}");
    assert!(back.contains("razorpay_signature="), "{back}");
    let page = browser
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("has been paid"), "{page}");
}

#[tokio::test]
async fn the_browser_tests_steer_the_fake_over_http() {
    let fake = FakePayments::start().await;
    let http = reqwest::Client::new();
    let control = |path: &str| format!("{}/fake/{path}", fake.url());
    let added = http
        .post(control("stripe/accounts"))
        .json(&serde_json::json!({"secret_key": STRIPE_KEY, "webhook_secret": "whsec_e2e"}))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success());
    let added = http
        .post(control("razorpay/accounts"))
        .json(
            &serde_json::json!({"key_id": RAZORPAY_ID, "key_secret": RAZORPAY_SECRET,
                                   "webhook_secret": "e2e", "webhook_url": ""}),
        )
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success());
    let payments = Payments::new(&fake.url(), &fake.url());
    let keys = stripe(STRIPE_KEY);
    let link = payments
        .create(&keys, &charge(APPOINTMENT, 1))
        .await
        .unwrap();
    let paid: serde_json::Value = http
        .post(control(&format!("pay/{}", link.reference)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payment = paid["payment"].as_str().unwrap().to_owned();
    assert_eq!(
        payments.state(&keys, &link.reference).await,
        Ok(State::Paid {
            payment,
            amount: 50_000
        })
    );
    let sessions: serde_json::Value = http
        .get(control("sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions[0]["id"], link.reference.as_str());
    let keys = razorpay(RAZORPAY_ID, RAZORPAY_SECRET);
    assert!(payments.check(&keys).await.is_ok());
    http.post(control("fail-next"))
        .json(&serde_json::json!({"count": 1, "status": 503}))
        .send()
        .await
        .unwrap();
    let error = payments.check(&keys).await.unwrap_err();
    assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
}
