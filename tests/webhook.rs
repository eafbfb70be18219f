//! `/meta/webhook` and the inbox worker, through the real app: Meta's subscription check, the
//! signature over raw bytes (with the reference fixtures and their listed signatures), routing
//! to each doctor by the receiving account, dead letters, duplicates and order, and sealing at
//! rest.

mod common;

use common::fake_meta::{self, FakeMeta};
use common::meta_flow::{another_instance, app_with_meta};
use common::webhook::{
    count, deliver, delivery, entry, linked_doctor, owner, page, post_signed, settled, sign,
    text_event, thread,
};
use common::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

on_both_databases!(
    the_subscription_check_answers_the_challenge_only_to_our_token,
    fixtures_with_their_signatures_are_stored_and_anything_else_is_refused,
    a_body_over_one_mebibyte_gets_413,
    a_batched_delivery_reaches_each_doctor_and_dead_letters_the_unknown_account,
    echoes_unsent_standby_and_reactions_change_the_thread_as_meta_means,
    duplicates_land_once_and_the_thread_is_in_the_order_things_happened,
    message_text_is_sealed_everywhere_it_is_stored,
    a_disconnected_doctors_account_is_dead_lettered_as_disconnected,
);

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/meta-fixtures"
);

/// Doctor A's and B's Instagram accounts and Pages, as the fixtures name them.
const ACCOUNT_A: &str = "17841400000000011";
const ACCOUNT_B: &str = "17841400000000022";
const UNKNOWN_ACCOUNT: &str = "17841499999999999";
const PATIENT_A: &str = "6543210987654321";
const PATIENT_B: &str = "7234567890123456";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// The signature the fixtures' README lists for `name`.
fn listed_signature(name: &str) -> String {
    let readme = std::fs::read_to_string(format!("{FIXTURES}/README.md")).unwrap();
    let line = readme
        .lines()
        .find(|line| line.starts_with(name))
        .unwrap_or_else(|| panic!("no signature listed for {name}"));
    line.split_whitespace().last().unwrap().to_owned()
}

async fn the_subscription_check_answers_the_challenge_only_to_our_token(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let check = |query: &'static str| {
        let app = &app;
        async move { app.get(&format!("/meta/webhook?{query}")).await }
    };
    let good =
        check("hub.mode=subscribe&hub.verify_token=fake-verify-token&hub.challenge=1158201444")
            .await;
    assert_eq!(good.status(), StatusCode::OK);
    assert!(good.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(good.text().await.unwrap(), "1158201444");
    for bad in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=fake-verify-token&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=fake-verify-token",
        "hub.mode=subscribe&hub.verify_token=fake-verify-token&hub.challenge=%3Cscript%3E",
        "",
    ] {
        assert_eq!(check(bad).await.status(), StatusCode::FORBIDDEN, "{bad}");
    }
    app.stop().await;
}

async fn fixtures_with_their_signatures_are_stored_and_anything_else_is_refused(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let body = fixture(name);
        let signature = listed_signature(name);
        assert_eq!(
            post_signed(&app, &body, Some(&signature)).await,
            StatusCode::OK,
            "{name}"
        );
    }
    let stored = count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await;
    assert_eq!(stored, i64::try_from(names.len()).unwrap());

    let body = fixture("01_text_message.json");
    let signature = listed_signature("01_text_message.json");
    let mut changed = body.clone();
    changed[40] ^= 1;
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    let refused = [
        (
            changed.as_slice(),
            Some(signature.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            reserialised.as_slice(),
            Some(signature.clone()),
            StatusCode::FORBIDDEN,
        ),
        (body.as_slice(), None, StatusCode::UNAUTHORIZED),
        (
            body.as_slice(),
            Some(sign(&body, "another_secret")),
            StatusCode::FORBIDDEN,
        ),
        (
            body.as_slice(),
            Some("sha256=nothex".to_owned()),
            StatusCode::FORBIDDEN,
        ),
        (
            body.as_slice(),
            Some(signature.replace("sha256=", "sha1=")),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (i, (body, signature, status)) in refused.into_iter().enumerate() {
        assert_eq!(
            post_signed(&app, body, signature.as_deref()).await,
            status,
            "case {i}"
        );
    }
    let after = count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await;
    assert_eq!(after, stored, "nothing refused was stored");
    app.stop().await;
}

async fn a_body_over_one_mebibyte_gets_413(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let text = "a".repeat(1024 * 1024);
    let body = serde_json::to_vec(&delivery(vec![entry(
        ACCOUNT_A,
        vec![text_event(PATIENT_A, ACCOUNT_A, "mid.big", 1, &text)],
    )]))
    .unwrap();
    let signature = sign(&body, fake_meta::APP_SECRET);
    assert_eq!(
        post_signed(&app, &body, Some(&signature)).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );
    app.stop().await;
}

async fn a_batched_delivery_reaches_each_doctor_and_dead_letters_the_unknown_account(
    backend: Backend,
) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (_, doctor_a) = linked_doctor(&app, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    let (_, doctor_b) = linked_doctor(&app, &meta, page("100000000000022", ACCOUNT_B, "b")).await;
    deliver(
        &app,
        &delivery(vec![
            entry(
                ACCOUNT_A,
                vec![text_event(
                    PATIENT_A,
                    ACCOUNT_A,
                    "mid.a1",
                    1_767_225_600_100,
                    "hello A",
                )],
            ),
            entry(
                ACCOUNT_B,
                vec![
                    text_event(PATIENT_B, ACCOUNT_B, "mid.b1", 1_767_225_600_200, "hello B"),
                    text_event(PATIENT_B, ACCOUNT_B, "mid.b2", 1_767_225_600_300, "again B"),
                ],
            ),
            entry(
                UNKNOWN_ACCOUNT,
                vec![text_event(
                    "7999999999999999",
                    UNKNOWN_ACCOUNT,
                    "mid.u1",
                    1,
                    "anyone?",
                )],
            ),
            json!({"id": ACCOUNT_A, "time": 1, "messaging": [{"sender": {"id": PATIENT_A}}]}),
        ]),
    )
    .await;
    // Meta's dashboard test: acknowledged, then dropped without a tenant or a letter.
    let test = fixture("10_dashboard_test_event.json");
    let signature = listed_signature("10_dashboard_test_event.json");
    assert_eq!(
        post_signed(&app, &test, Some(&signature)).await,
        StatusCode::OK
    );
    settled(&app).await;

    let a = thread(&app, &doctor_a).await;
    let b = thread(&app, &doctor_b).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].2.as_deref(), Some("mid.a1"));
    assert_eq!(
        b.iter().map(|m| m.2.clone().unwrap()).collect::<Vec<_>>(),
        ["mid.b1", "mid.b2"]
    );
    assert!(b.iter().all(|m| m.0 == "patient" && m.3 == "received"));
    let conversations = count(&app, "SELECT COUNT(*) FROM conversations").await;
    assert_eq!(conversations, 2);

    let mut db = owner(&app).await;
    let letters =
        sqlx::query("SELECT reason, account_id FROM dead_letters ORDER BY reason, account_id")
            .fetch_all(&mut db)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get::<String, _>(0).unwrap(),
                    r.try_get::<String, _>(1).unwrap(),
                )
            })
            .collect::<Vec<_>>();
    assert_eq!(
        letters,
        [
            ("unknown_account".to_owned(), UNKNOWN_ACCOUNT.to_owned()),
            ("unparseable".to_owned(), ACCOUNT_A.to_owned()),
        ]
    );
    let window: Option<i64> =
        sqlx::query("SELECT last_inbound_at FROM conversations WHERE doctor_id = $1")
            .bind(&doctor_b)
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    assert_eq!(window, Some(1_767_225_600_300));
    app.stop().await;
}

async fn a_disconnected_doctors_account_is_dead_lettered_as_disconnected(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, _) = linked_doctor(&app, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    let response = app.call_from(&browser, "instagram/disconnect", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let late = text_event(
        PATIENT_A,
        ACCOUNT_A,
        "mid.late",
        1_767_225_600_100,
        "still there?",
    );
    deliver(&app, &delivery(vec![entry(ACCOUNT_A, vec![late])])).await;
    settled(&app).await;
    let mut db = owner(&app).await;
    let letter = sqlx::query("SELECT reason, account_id FROM dead_letters")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(letter.try_get::<String, _>(0).unwrap(), "disconnected");
    assert_eq!(letter.try_get::<String, _>(1).unwrap(), ACCOUNT_A);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

async fn echoes_unsent_standby_and_reactions_change_the_thread_as_meta_means(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (_, doctor) = linked_doctor(&app, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    for name in [
        "01_text_message.json",
        "05_image_attachment.json",
        "09_standby_not_in_control.json",
    ] {
        assert_eq!(
            post_signed(&app, &fixture(name), Some(&listed_signature(name))).await,
            StatusCode::OK
        );
    }
    settled(&app).await;
    let before_echo = count(&app, "SELECT last_inbound_at FROM conversations").await;
    let echo = "04_echo_human_reply_from_instagram_app.json";
    assert_eq!(
        post_signed(&app, &fixture(echo), Some(&listed_signature(echo))).await,
        StatusCode::OK
    );
    // The patient unsends their first message; reacts to, and reads, the doctor's reply.
    let first: Value = serde_json::from_slice(&fixture("01_text_message.json")).unwrap();
    let first_mid = first["entry"][0]["messaging"][0]["message"]["mid"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply: Value = serde_json::from_slice(&fixture(echo)).unwrap();
    let reply_mid = reply["entry"][0]["messaging"][0]["message"]["mid"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = 1_767_225_800_000_i64;
    let from_patient = |extra: Value, at: i64| {
        let mut event = json!({"sender": {"id": PATIENT_A}, "recipient": {"id": ACCOUNT_A},
                               "timestamp": at});
        event
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        event
    };
    deliver(
        &app,
        &delivery(vec![entry(
            ACCOUNT_A,
            vec![
                from_patient(
                    json!({"message": {"mid": first_mid, "is_deleted": true}}),
                    at,
                ),
                from_patient(
                    json!({"reaction": {"mid": reply_mid, "action": "react",
                                        "reaction": "love", "emoji": "\u{2764}"}}),
                    at + 1,
                ),
                from_patient(json!({"read": {"mid": reply_mid}}), at + 2),
                // Unsent before it ever arrived: the late original must not appear.
                from_patient(
                    json!({"message": {"mid": "mid.late", "is_deleted": true}}),
                    at + 3,
                ),
            ],
        )]),
    )
    .await;
    settled(&app).await;
    deliver(
        &app,
        &delivery(vec![entry(
            ACCOUNT_A,
            vec![text_event(
                PATIENT_A,
                ACCOUNT_A,
                "mid.late",
                at - 10,
                "oops",
            )],
        )]),
    )
    .await;
    settled(&app).await;

    let messages = thread(&app, &doctor).await;
    let find = |mid: &str| {
        messages
            .iter()
            .find(|m| m.2.as_deref() == Some(mid))
            .unwrap_or_else(|| panic!("{mid} missing from {messages:?}"))
            .clone()
    };
    assert_eq!(find(&first_mid).3, "deleted");
    assert_eq!(
        find(&reply_mid).0,
        "doctor",
        "a reply from the Instagram app"
    );
    let late = find("mid.late");
    assert_eq!((late.1.as_str(), late.3.as_str()), ("unsent", "deleted"));
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.2.as_deref() == Some("mid.late"))
            .count(),
        1
    );
    let mut db = owner(&app).await;
    let row = sqlx::query(
        "SELECT assistant_paused, last_inbound_at FROM conversations WHERE doctor_id = $1",
    )
    .bind(&doctor)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        row.try_get::<i64, _>(0).unwrap(),
        1,
        "the assistant steps back"
    );
    let window: i64 = row.try_get(1).unwrap();
    assert!(window >= before_echo, "an echo never moves the window");
    let reaction: Option<String> = sqlx::query("SELECT reaction FROM messages WHERE mid = $1")
        .bind(&reply_mid)
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(reaction.as_deref(), Some("love"));
    let standby: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE standby = 1")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(standby, 1, "standby events are kept");
    app.stop().await;
}

async fn duplicates_land_once_and_the_thread_is_in_the_order_things_happened(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (_, doctor) = linked_doctor(&app, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    let body = fixture("01_text_message.json");
    let signature = listed_signature("01_text_message.json");
    for _ in 0..5 {
        assert_eq!(
            post_signed(&app, &body, Some(&signature)).await,
            StatusCode::OK
        );
    }
    // Later messages first: Meta's retries reorder deliveries.
    for (mid, at) in [("mid.3", 3_000), ("mid.1", 1_000), ("mid.2", 2_000)] {
        let at = 1_767_225_700_000 + at;
        deliver(
            &app,
            &delivery(vec![entry(
                ACCOUNT_A,
                vec![text_event(PATIENT_A, ACCOUNT_A, mid, at, mid)],
            )]),
        )
        .await;
    }
    settled(&app).await;
    let mids: Vec<String> = thread(&app, &doctor)
        .await
        .into_iter()
        .filter_map(|m| m.2)
        .collect();
    assert_eq!(mids.len(), 4, "{mids:?}");
    assert_eq!(&mids[1..], ["mid.1", "mid.2", "mid.3"]);
    let unread = count(&app, "SELECT unread FROM conversations").await;
    assert_eq!(unread, 4, "a duplicate is not unread twice");
    app.stop().await;
}

async fn message_text_is_sealed_everywhere_it_is_stored(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let _ = linked_doctor(&app, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    for name in ["01_text_message.json", "05_image_attachment.json"] {
        assert_eq!(
            post_signed(&app, &fixture(name), Some(&listed_signature(name))).await,
            StatusCode::OK
        );
    }
    deliver(
        &app,
        &delivery(vec![entry(
            UNKNOWN_ACCOUNT,
            vec![text_event(
                "7999999999999999",
                UNKNOWN_ACCOUNT,
                "mid.u",
                1,
                "secret symptom",
            )],
        )]),
    )
    .await;
    settled(&app).await;
    let mut db = owner(&app).await;
    for (table, columns) in [
        ("webhook_deliveries", "body_sealed"),
        ("inbound_events", "event_sealed"),
        ("dead_letters", "event_sealed"),
        (
            "messages",
            "COALESCE(text_sealed, '') || COALESCE(attachments_sealed, '')",
        ),
    ] {
        let rows = sqlx::query(&format!("SELECT {columns} FROM {table}"))
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table} holds something");
        for row in rows {
            let stored: String = row.try_get(0).unwrap();
            for plain in [
                "puedo",
                "agendar",
                "lookaside",
                "secret symptom",
                "ma\\u00f1ana",
            ] {
                assert!(
                    !stored.contains(plain),
                    "{table} holds {plain:?} in plain form"
                );
            }
        }
    }
    app.stop().await;
}

/// Two instances of the app on one PostgreSQL database, both taking deliveries and both
/// running the worker: every event is applied once, each conversation in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database_apply_every_event_once() {
    if !common::postgres_available() {
        return;
    }
    let meta = FakeMeta::start(vec![]).await;
    let first = app_with_meta(Backend::Postgres, &meta).await;
    let (_, doctor) = linked_doctor(&first, &meta, page("100000000000011", ACCOUNT_A, "a")).await;
    let second = another_instance(&first, &meta).await;
    let patients: Vec<String> = (0..8).map(|p| format!("65432109876{p:05}")).collect();
    let base = 1_767_225_600_000_i64;
    for round in 0..10_i64 {
        let events = patients
            .iter()
            .map(|patient| {
                let mid = format!("mid.{patient}.{round}");
                text_event(patient, ACCOUNT_A, &mid, base + round, &mid)
            })
            .collect();
        let body = delivery(vec![entry(ACCOUNT_A, events)]);
        // Each delivery reaches both instances, as Meta's retries might.
        deliver(&first, &body).await;
        deliver(&second, &body).await;
    }
    settled(&first).await;
    let messages = thread(&first, &doctor).await;
    assert_eq!(messages.len(), patients.len() * 10, "each message once");
    let mut db = owner(&first).await;
    for patient in &patients {
        let mids: Vec<String> = sqlx::query(
            "SELECT m.mid FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.patient_igsid = $1 ORDER BY m.sent_at",
        )
        .bind(patient)
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
        let expected: Vec<String> = (0..10).map(|r| format!("mid.{patient}.{r}")).collect();
        assert_eq!(mids, expected);
    }
    let unread = count(
        &first,
        "SELECT CAST(SUM(unread) AS BIGINT) FROM conversations",
    )
    .await;
    assert_eq!(unread, i64::try_from(patients.len() * 10).unwrap());
    let leftover = count(
        &first,
        "SELECT COUNT(*) FROM inbound_events WHERE state <> 'applied'",
    )
    .await;
    assert_eq!(leftover, 0);
    second.stop().await;
    first.stop().await;
}
