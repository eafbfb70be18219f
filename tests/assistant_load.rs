//! The assistant under load (`make load-assistant`; README, "Assistant load"): patients' DMs
//! arrive as signed webhook deliveries at a steady rate, each from one of many conversations
//! walking through a booking, and each DM's latency is measured from the moment it is posted
//! to the moment its turn (the reply queued in the outbox, in the same transaction) was
//! written, through the real worker and database. Ignored in `make test`: it runs for a while
//! and measures rather than asserts; `make load-assistant` runs it on a release build.
//! `LOAD_DATABASE=postgres` runs it on PostgreSQL.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_meta::{FakeMeta, APP_SECRET};
use common::meta_flow::app_with_meta;
use common::webhook::{
    delivery, entry, linked_doctor, now_ms, owner, page, post_signed, settled, sign, text_event,
};
use common::{open_practice, Backend};
use reqwest::StatusCode;
use sqlx::Row;

const ACCOUNT: &str = "17841400000000031";
/// DMs per second, each to one of [`PATIENTS`] conversations in turn.
const RATE: u64 = 200;
const SECONDS: u64 = 10;
const PATIENTS: u64 = 400;
/// What each patient says, one step per DM: every patient walks towards a booking.
const SCRIPT: [&str; 5] = ["hi", "1", "consultation", "voice", "tomorrow"];

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a load run: make load-assistant"]
async fn dm_in_to_reply_in_the_outbox() {
    let backend = match std::env::var("LOAD_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let meta = FakeMeta::start(vec![]).await;
    let app = Arc::new(app_with_meta(backend, &meta).await);
    let (browser, _) = linked_doctor(&app, &meta, page("100000000000031", ACCOUNT, "a")).await;
    open_practice(&app, &browser).await;

    let posted: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let mut running = tokio::task::JoinSet::new();
    let started = Instant::now();
    for n in 0..RATE * SECONDS {
        ticks.tick().await;
        let patient = format!("9{:015}", n % PATIENTS);
        let said = SCRIPT[usize::try_from(n / PATIENTS).unwrap() % SCRIPT.len()];
        let mid = format!("mid.load.{n}");
        let at = now_ms();
        let body = delivery(vec![entry(
            ACCOUNT,
            vec![text_event(&patient, ACCOUNT, &mid, at, said)],
        )]);
        let (app, posted) = (app.clone(), posted.clone());
        running.spawn(async move {
            posted.lock().unwrap().insert(mid, at);
            let body = serde_json::to_vec(&body).unwrap();
            let signature = sign(&body, APP_SECRET);
            post_signed(&app, &body, Some(&signature)).await
        });
    }
    let acked = running.join_all().await;
    let offered = started.elapsed();
    settled(&app).await;
    let refused = acked.iter().filter(|s| **s != StatusCode::OK).count();

    let mut db = owner(&app).await;
    let rows = sqlx::query(
        "SELECT m.mid, m.created_at,
             (SELECT COUNT(*) FROM messages r WHERE r.conversation_id = m.conversation_id
                  AND r.author = 'assistant') AS replies
         FROM messages m WHERE m.author = 'patient'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let posted = posted.lock().unwrap();
    let mut latencies: Vec<i64> = rows
        .iter()
        .map(|row| {
            let mid: String = row.try_get("mid").unwrap();
            let written: i64 = row.try_get("created_at").unwrap();
            written - posted[&mid]
        })
        .collect();
    let unanswered = rows
        .iter()
        .filter(|row| row.try_get::<i64, _>("replies").unwrap() == 0)
        .count();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!("database: {backend:?}");
    println!(
        "{} DMs in {:.1} s ({} conversations, {RATE}/s offered); {refused} not acknowledged",
        latencies.len(),
        offered.as_secs_f64(),
        PATIENTS
    );
    println!(
        "DM posted -> reply in the outbox: median {} ms, p90 {} ms, p99 {} ms, max {} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    println!("conversations without a reply: {unanswered}");
    assert_eq!(latencies.len(), usize::try_from(RATE * SECONDS).unwrap());
}
