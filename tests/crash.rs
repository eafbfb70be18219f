//! The real server binary killed with SIGKILL while Meta delivers at a steady rate, then
//! started again on the same database: every delivery that was acknowledged with 200 is
//! applied exactly once, and nothing that got an error is half applied.

mod common;

use std::collections::HashMap;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clariva::crypto::seal::TokenKeys;
use common::binary::{listening_address, server, temp_dir};
use common::fake_meta::APP_SECRET;
use common::meta_flow::KEYS;
use common::webhook::{delivery, entry, sign, text_event};
use secrecy::SecretString;
use sqlx::{AnyConnection, Connection, Row};

const ACCOUNT: &str = "17841400000000011";
const DOCTOR: &str = "0192f0c0-0000-7000-8000-000000000001";

fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = server(
        dir,
        &[
            ("TOKEN_KEYS", KEYS),
            ("META_APP_ID", "crash-test"),
            ("META_APP_SECRET", APP_SECRET),
            ("META_VERIFY_TOKEN", "verify"),
            // No Graph API here: the daily token check fails quietly.
            ("META_GRAPH_BASE_URL", "http://127.0.0.1:9"),
        ],
    )
    .spawn()
    .unwrap();
    let addr = listening_address(&mut child);
    (child, addr)
}

/// A doctor linked to [`ACCOUNT`], written straight into the database.
async fn link_a_doctor(db: &mut AnyConnection) {
    let keys = TokenKeys::parse(KEYS).unwrap();
    let token = keys.seal(DOCTOR, &SecretString::from("page-token"));
    sqlx::query(
        "INSERT INTO doctors (id, email, full_name, password_hash, created_at)
         VALUES ($1, 'crash@example.com', 'Dr. Crash', 'x', 0)",
    )
    .bind(DOCTOR)
    .execute(&mut *db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO instagram_links (doctor_id, page_id, instagram_id, username, page_name,
             token_sealed, token_key_id, connected_at, updated_at)
         VALUES ($1, '100000000000011', $2, 'crash', 'Crash', $3, $4, 0, 0)",
    )
    .bind(DOCTOR)
    .bind(ACCOUNT)
    .bind(&token.value)
    .bind(&token.key_id)
    .execute(&mut *db)
    .await
    .unwrap();
}

/// Posts one delivery; whether the server acknowledged it with 200.
async fn post(client: &reqwest::Client, addr: &str, mid: &str, at: i64) -> bool {
    let body = serde_json::to_vec(&delivery(vec![entry(
        ACCOUNT,
        vec![text_event("6543210987654321", ACCOUNT, mid, at, mid)],
    )]))
    .unwrap();
    let sent = client
        .post(format!("http://{addr}/meta/webhook"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(&body, APP_SECRET))
        .body(body)
        .send()
        .await;
    matches!(sent, Ok(response) if response.status() == reqwest::StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_stream_every_acknowledged_delivery_is_applied_exactly_once() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/clariva.db", dir.display());
    let (mut child, addr) = start(&dir);
    sqlx::any::install_default_drivers();
    let mut db = AnyConnection::connect(&url).await.unwrap();
    link_a_doctor(&mut db).await;

    // Four senders at a steady pace; the server is killed while they send.
    let acked: Arc<Mutex<HashMap<String, bool>>> = Arc::default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let (client, addr, acked) = (client.clone(), addr.clone(), acked.clone());
            tokio::spawn(async move {
                for n in 0..150_i64 {
                    let mid = format!("mid.crash.{sender}.{n}");
                    let ok = post(&client, &addr, &mid, 1_767_225_600_000 + n).await;
                    acked.lock().unwrap().insert(mid, ok);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill().unwrap(); // SIGKILL: no shutdown of any kind
    child.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let ok: Vec<&String> = acked
        .iter()
        .filter(|(_, ok)| **ok)
        .map(|(m, _)| m)
        .collect();
    let refused = acked.len() - ok.len();
    assert!(ok.len() > 20, "some deliveries got through before the kill");
    assert!(refused > 20, "some were refused after it");

    let (mut child, _) = start(&dir);
    let settled = async {
        loop {
            let waiting: i64 = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE processed_at IS NULL)
                      + (SELECT COUNT(*) FROM inbound_events WHERE state = 'pending')",
            )
            .fetch_one(&mut db)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
            if waiting == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // Work the killed server had claimed is taken over once its lease (15 s) runs out.
    tokio::time::timeout(Duration::from_secs(60), settled)
        .await
        .expect("the restarted worker finished the stored work");
    let rows = sqlx::query("SELECT mid FROM messages WHERE doctor_id = $1")
        .bind(DOCTOR)
        .fetch_all(&mut db)
        .await
        .unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.try_get(0).unwrap()).collect();
    for mid in &ok {
        let copies = stored.iter().filter(|s| s == mid).count();
        assert_eq!(copies, 1, "{mid} was acknowledged: applied exactly once");
    }
    // What was not acknowledged is either wholly applied (committed just before the kill)
    // or absent: no event without its message, none left pending.
    let applied: i64 = sqlx::query("SELECT COUNT(*) FROM inbound_events WHERE state = 'applied'")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(applied, i64::try_from(stored.len()).unwrap());
    let unread: i64 = sqlx::query("SELECT unread FROM conversations WHERE doctor_id = $1")
        .bind(DOCTOR)
        .fetch_one(&mut db)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(unread, i64::try_from(stored.len()).unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
