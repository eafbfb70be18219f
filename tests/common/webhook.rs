//! Meta's webhook as the tests drive it: deliveries built and signed as Meta sends them,
//! doctors linked through the fake Meta, the inbox worker awaited, and what it stored read
//! back through the owner's connection.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Connection, Row};

use super::fake_meta::{self, FakeMeta, FakePage};
use super::meta_flow::connect;
use super::TestApp;

/// A Page with token `page-token` whose linked Instagram account is `account`.
pub fn page(id: &'static str, account: &'static str, name: &'static str) -> FakePage {
    FakePage {
        id,
        name,
        token: "page-token",
        instagram: Some((account, name)),
    }
}

/// The `X-Hub-Signature-256` Meta sends with `body`.
pub fn sign(body: &[u8], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// Posts `body` to `/meta/webhook` with `signature`; the status.
pub async fn post_signed(app: &TestApp, body: &[u8], signature: Option<&str>) -> StatusCode {
    let mut request = app
        .client
        .post(app.url("/meta/webhook"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.unwrap().status()
}

/// Posts `delivery` signed as Meta signs it; it must be acknowledged.
pub async fn deliver(app: &TestApp, delivery: &Value) {
    let body = serde_json::to_vec(delivery).unwrap();
    let signature = sign(&body, fake_meta::APP_SECRET);
    assert_eq!(
        post_signed(app, &body, Some(&signature)).await,
        StatusCode::OK
    );
}

/// A connection as the tables' owner, to look at the raw rows.
pub async fn owner(app: &TestApp) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&app.database.url).await.unwrap()
}

/// The number `sql` selects.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut db = owner(app).await;
    let n = sqlx::query(sql)
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    db.close().await.unwrap();
    n
}

/// Waits until every stored delivery is split and every routed event applied.
pub async fn settled(app: &TestApp) {
    for _ in 0..200 {
        let waiting = count(
            app,
            "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE processed_at IS NULL)
                  + (SELECT COUNT(*) FROM inbound_events WHERE state = 'pending')",
        )
        .await;
        if waiting == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the inbox worker did not settle");
}

/// A signed-in doctor whose Instagram link is `page` (the fake offers only that Page).
pub async fn linked_doctor(app: &TestApp, meta: &FakeMeta, page: FakePage) -> (Client, String) {
    let browser = app.other_browser();
    let email = app.new_doctor(&browser, "Dr. Linked").await;
    meta.set_pages(vec![page]);
    assert_eq!(connect(app, &browser).await, "connected");
    let mut db = owner(app).await;
    let id: String = sqlx::query("SELECT id FROM doctors WHERE email = $1")
        .bind(&email)
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    (browser, id)
}

/// A doctor's stored messages, oldest first: `(author, kind, mid, delivery)`.
pub async fn thread(app: &TestApp, doctor: &str) -> Vec<(String, String, Option<String>, String)> {
    let mut db = owner(app).await;
    let rows = sqlx::query(
        "SELECT author, kind, mid, delivery FROM messages WHERE doctor_id = $1
         ORDER BY sent_at, id",
    )
    .bind(doctor)
    .fetch_all(&mut db)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("author").unwrap(),
                r.try_get("kind").unwrap(),
                r.try_get("mid").unwrap(),
                r.try_get("delivery").unwrap(),
            )
        })
        .collect()
}

/// Now, in epoch milliseconds (Meta's timestamps).
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A patient's text message to `account`, as Meta sends it.
pub fn text_event(patient: &str, account: &str, mid: &str, at: i64, text: &str) -> Value {
    json!({"sender": {"id": patient}, "recipient": {"id": account}, "timestamp": at,
           "message": {"mid": mid, "text": text}})
}

/// A delivery of these entries.
pub fn delivery(entries: Vec<Value>) -> Value {
    json!({"object": "instagram", "entry": entries})
}

/// An entry for `account` with these messaging events.
pub fn entry(account: &str, messaging: Vec<Value>) -> Value {
    json!({"id": account, "time": 1_767_225_600_000_i64, "messaging": messaging})
}
