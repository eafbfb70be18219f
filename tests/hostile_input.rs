//! Whatever a client sends, a server function answers with a field error or a 4xx, never a
//! 5xx: random and hostile values (proptest strategies: any text, control characters, long
//! strings, numbers at the edges of i64, far dates, markup) for every argument of every
//! server function, one argument at a time or missing, from a signed-in doctor with an open
//! practice and from a signed-out browser.

mod common;

use common::fake_meta::{self, FakeMeta};
use common::{open_practice, Backend, TestApp};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Client;

on_both_databases!(random_arguments_never_get_a_server_error);

/// Every server function with its arguments and an ordinary value for each.
const FUNCTIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "create_account",
        &[
            ("full_name", "Asha Rao"),
            ("email", "a@b.example"),
            ("password", "a long password"),
        ],
    ),
    (
        "log_in",
        &[
            ("email", "a@b.example"),
            ("password", "a long password"),
            ("next", "/dashboard"),
        ],
    ),
    ("log_out", &[]),
    ("log_out_others", &[]),
    ("current_doctor", &[]),
    ("appointments", &[("week", ""), ("status", "upcoming")]),
    ("appointments/agenda", &[]),
    ("appointments/options", &[]),
    ("appointments/free", &[("service", ""), ("day", "")]),
    (
        "appointments/book",
        &[
            ("service", ""),
            ("method", "voice"),
            ("starts_at", "0"),
            ("patient_name", "Meera Iyer"),
            ("patient_phone", "+919876543210"),
            ("phone_country", "IN"),
            ("note", ""),
        ],
    ),
    (
        "appointments/change",
        &[("id", "x"), ("status", "cancelled"), ("reason", "moved")],
    ),
    ("setup/services", &[]),
    (
        "setup/services/save",
        &[
            ("id", ""),
            ("name", "Check-up"),
            ("description", ""),
            ("duration", "30"),
            ("method_text", "on"),
            ("method_voice", "on"),
            ("method_video", "on"),
        ],
    ),
    ("setup/services/archive", &[("id", "x")]),
    ("setup/services/restore", &[("id", "x")]),
    ("setup/services/move", &[("id", "x"), ("up", "true")]),
    ("setup/profile", &[]),
    (
        "setup/profile/save",
        &[
            ("full_name", "Asha Rao"),
            ("practice_name", "Rao Clinic"),
            ("phone", ""),
            ("phone_country", ""),
            ("address", ""),
            ("public_note", ""),
        ],
    ),
    ("setup/methods-fees", &[]),
    (
        "setup/methods-fees/save",
        &[
            ("currency", "INR"),
            ("text_offered", "on"),
            ("text_fee", "200"),
            ("text_instructions", ""),
            ("voice_offered", "on"),
            ("voice_fee", "500"),
            ("voice_instructions", ""),
            ("video_offered", "on"),
            ("video_fee", "900"),
            ("video_instructions", ""),
        ],
    ),
    ("setup/availability", &[]),
    (
        "setup/availability/save",
        &[
            ("time_zone", "Asia/Kolkata"),
            ("monday", "09:00-17:00"),
            ("tuesday", ""),
            ("wednesday", ""),
            ("thursday", ""),
            ("friday", ""),
            ("saturday", ""),
            ("sunday", ""),
            ("appointment_minutes", "30"),
            ("gap_minutes", "0"),
            ("notice_hours", "0"),
            ("horizon_days", "7"),
            ("hold_minutes", "15"),
        ],
    ),
    ("setup/blocked", &[]),
    (
        "setup/blocked/add",
        &[
            ("date", "2030-01-01"),
            ("whole_day", "on"),
            ("from", ""),
            ("to", ""),
            ("reason", ""),
        ],
    ),
    ("setup/blocked/remove", &[("id", "x")]),
    ("instagram", &[]),
    ("instagram/choose", &[("page_id", "x")]),
    ("instagram/disconnect", &[]),
    ("setup/payments", &[]),
    (
        "setup/payments/save",
        &[
            ("provider", "none"),
            ("key_id", ""),
            ("secret", ""),
            ("webhook_secret", ""),
            ("refund", "cutoff"),
            ("refund_hours", "24"),
        ],
    ),
    ("setup/payments/check", &[]),
    ("appointments/mark-paid", &[("id", "x")]),
    ("appointments/payment-link", &[("id", "x")]),
];

/// Values a careless or hostile client might send.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[\\x00-\\x1f%<>\"';&=+]{0,12}",
        "-?[0-9]{1,30}",
        prop::sample::select(vec![
            i64::MAX.to_string(),
            i64::MIN.to_string(),
            (i64::MAX - 1).to_string(),
            u64::MAX.to_string(),
            "9999-12-31".into(),
            "0000-01-01".into(),
            "2026-02-30".into(),
            "<script>alert(1)</script>".into(),
            "\0".into(),
            "%00".into(),
            "NaN".into(),
            "1e308".into(),
            "Etc/GMT+99".into(),
            "../../etc/passwd".into(),
            "x".repeat(100_000),
            "99:99-25:61".into(),
        ]),
        "[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}",
    ]
}

async fn post(app: &TestApp, browser: &Client, function: &str, form: &[(&str, String)]) -> u16 {
    browser
        .post(app.url(&format!("/api/{function}")))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn random_arguments_never_get_a_server_error(backend: Backend) {
    // With a Meta app (the fake), so Meta's routes check their input rather than say that
    // Instagram is not set up.
    let meta = FakeMeta::start(vec![]).await;
    let base = meta.base_url();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LOGIN_LOCK_AFTER_PER_CLIENT", "100000"),
            ("SIGNUP_LIMIT_PER_CLIENT", "100000"),
            ("META_APP_ID", fake_meta::APP_ID),
            ("META_APP_SECRET", fake_meta::APP_SECRET),
            ("META_VERIFY_TOKEN", "fake-verify-token"),
            ("META_DIALOG_BASE_URL", &base),
            ("META_GRAPH_BASE_URL", &base),
        ],
    )
    .await;
    app.new_doctor(&app.client, "Asha Rao").await;
    open_practice(&app, &app.client).await;
    let mut runner = TestRunner::default();
    let values = hostile();
    let mut calls = 0;
    for (function, args) in FUNCTIONS {
        // Each argument: a few random values, then missing; and all of them random at once.
        for target in 0..=args.len() {
            for round in 0..6 {
                let form: Vec<(&str, String)> = args
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(*i == target && round == 5))
                    .map(|(i, (name, ordinary))| {
                        let random = i == target || target == args.len();
                        let value = if random {
                            values.new_tree(&mut runner).unwrap().current()
                        } else {
                            (*ordinary).to_owned()
                        };
                        (*name, value)
                    })
                    .collect();
                // Public functions from a browser of their own, so the doctor stays signed in.
                let public = matches!(*function, "create_account" | "log_in" | "log_out");
                let browser = if public {
                    app.other_browser()
                } else {
                    app.client.clone()
                };
                let status = post(&app, &browser, function, &form).await;
                calls += 1;
                let shown: Vec<_> = form
                    .iter()
                    .map(|(k, v)| (k, v.chars().take(60).collect::<String>()))
                    .collect();
                assert!(status < 500, "{function} answered {status} to {shown:?}");
            }
        }
        // And signed out: 401 (or a 4xx), never a 5xx.
        let status = post(&app, &app.other_browser(), function, &[]).await;
        assert!(status < 500, "{function} signed out answered {status}");
    }
    // Routes outside /api, with random query values and path segments.
    for _ in 0..40 {
        // Addresses have a length limit of their own; bodies were tried at full length above.
        let mut value = || -> String {
            values
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .chars()
                .take(2000)
                .collect()
        };
        let query = |pairs: &[(&str, String)]| {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        };
        let code: String = form_urlencoded::byte_serialize(value().as_bytes()).collect();
        let requests = [
            (
                "GET",
                format!(
                    "/auth/meta/callback?{}",
                    query(&[("state", value()), ("code", value())])
                ),
            ),
            (
                "GET",
                format!(
                    "/auth/meta/callback?{}",
                    query(&[("error", value()), ("error_reason", value())])
                ),
            ),
            ("GET", "/auth/meta/start".to_owned()),
            ("GET", format!("/meta/deletion/{code}")),
            (
                "GET",
                format!(
                    "/dashboard/appointments?{}",
                    query(&[("week", value()), ("status", value())])
                ),
            ),
            ("GET", format!("/login?{}", query(&[("next", value())]))),
            (
                "POST",
                format!(
                    "/meta/deauthorize?{}",
                    query(&[("signed_request", value())])
                ),
            ),
            ("POST", "/meta/data-deletion".to_owned()),
            ("POST", format!("/payments/stripe/{code}")),
            ("POST", format!("/payments/razorpay/{code}")),
            (
                "GET",
                format!("/payments/done?{}", query(&[("session_id", value())])),
            ),
        ];
        for (method, path) in requests {
            let request = match method {
                "GET" => app.client.get(app.url(&path)),
                _ => app
                    .client
                    .post(app.url(&path))
                    .form(&[("signed_request", value())]),
            };
            let status = request.send().await.unwrap().status().as_u16();
            calls += 1;
            assert!(status < 500, "{method} {path:.200} answered {status}");
        }
    }
    assert!(calls > 600, "{calls} calls");
}
