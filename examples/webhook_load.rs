//! A load generator for `/meta/webhook`: posts unique deliveries, each signed as Meta signs
//! them, and reports what the server sustained. It measures, with the same client in the
//! same run:
//!
//! 1. the app's ack latency (median, p99) at a steady rate, first, while the server has no
//!    backlog of deliveries to split;
//! 2. the requests per second of a bare axum handler that answers 200, at full speed. It is
//!    served by a process of its own (this program, started again with `--bare`), as the app
//!    is: both servers share the machine with the client in the same way;
//! 3. the requests per second of the app's `/meta/webhook`, at full speed.
//!
//! `make load-webhook` starts the release server and runs this against it. By hand:
//! `cargo run --release --features ssr --example webhook_load -- <webhook URL> <app secret>`,
//! with `LOAD_SECONDS` (default 10), `LOAD_RATE` (default 1000 per second) and
//! `LOAD_CONCURRENCY` (default 64) in the environment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clariva::meta::webhook_signature;
use secrecy::SecretString;

/// The account the deliveries are for (no doctor: the worker dead-letters them).
const ACCOUNT: &str = "17841400000000099";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A delivery no other run or request has sent: its mid carries the run and the sequence.
fn delivery(run: u128, n: u64) -> Vec<u8> {
    format!(
        r#"{{"object":"instagram","entry":[{{"time":1767225600981,"id":"{ACCOUNT}","messaging":[{{"sender":{{"id":"6543210987654321"}},"recipient":{{"id":"{ACCOUNT}"}},"timestamp":1767225600412,"message":{{"mid":"load.{run}.{n}","text":"Hola doctora, \u00bfpuedo agendar una cita para ma\u00f1ana? \ud83d\ude4f"}}}}]}}]}}"#
    )
    .into_bytes()
}

struct Target {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
    run: u128,
    sent: AtomicU64,
}

impl Target {
    /// Posts the next delivery; its latency, or None if it was not acknowledged.
    async fn post(&self) -> Option<Duration> {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let body = delivery(self.run, n);
        let signature = webhook_signature::sign(&body, &self.secret);
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await
            .ok()?;
        response.status().is_success().then(|| started.elapsed())
    }
}

/// Full speed with `concurrency` requests in flight for `seconds`: acknowledged per second,
/// and how many failed.
async fn saturate(target: Arc<Target>, concurrency: u64, seconds: u64) -> (f64, u64) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let failed = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (target, failed, acked) = (target.clone(), failed.clone(), acked.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    match target.post().await {
                        Some(_) => acked.fetch_add(1, Ordering::Relaxed),
                        None => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (
        acked.load(Ordering::Relaxed) as f64 / elapsed,
        failed.load(Ordering::Relaxed),
    )
}

/// `rate` requests per second for `seconds`, each started on schedule: sorted latencies, and
/// how many failed.
async fn steady(target: Arc<Target>, rate: u64, seconds: u64) -> (Vec<Duration>, u64) {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..rate * seconds {
        ticks.tick().await;
        let target = target.clone();
        running.spawn(async move { target.post().await });
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    while let Some(done) = running.join_next().await {
        match done.ok().flatten() {
            Some(latency) => latencies.push(latency),
            None => failed += 1,
        }
    }
    latencies.sort();
    (latencies, failed)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

/// Serves the bare handler on a free port, prints its URL on the first line of stdout, and
/// runs until killed.
async fn serve_bare() {
    let router = axum::Router::new().route("/", axum::routing::post(|| async { "EVENT_RECEIVED" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("http://{}/", listener.local_addr().unwrap());
    axum::serve(listener, router).await.unwrap();
}

/// The bare server: this program again, with `--bare`; killed when dropped.
struct BareServer {
    process: std::process::Child,
    url: String,
}

impl BareServer {
    fn start() -> Self {
        use std::io::BufRead;
        let mut process = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--bare")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the bare server starts");
        let mut url = String::new();
        std::io::BufReader::new(process.stdout.take().unwrap())
            .read_line(&mut url)
            .expect("the bare server says where it listens");
        Self {
            process,
            url: url.trim().to_owned(),
        }
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--bare") {
        serve_bare().await;
        return;
    }
    let (Some(url), Some(secret)) = (args.next(), args.next()) else {
        eprintln!("usage: webhook_load <webhook URL> <app secret>");
        std::process::exit(2);
    };
    let seconds = setting("LOAD_SECONDS", 10);
    let rate = setting("LOAD_RATE", 1000);
    let concurrency = setting("LOAD_CONCURRENCY", 64);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let target = |url: String| {
        Arc::new(Target {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            url,
            secret: SecretString::from(secret.clone()),
            run,
            sent: AtomicU64::new(0),
        })
    };

    let bare_server = BareServer::start();
    let bare = target(bare_server.url.clone());
    let webhook = target(url.clone());
    // Warm the connections up.
    steady(webhook.clone(), 100, 1).await;

    let (latencies, failed) = steady(webhook.clone(), rate, seconds).await;
    println!("steady {rate} deliveries/s for {seconds} s on /meta/webhook:");
    println!(
        "  acknowledged {} ({failed} failed); median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );

    saturate(bare.clone(), concurrency, 1).await;
    let (bare_rps, bare_failed) = saturate(bare, concurrency, seconds).await;
    drop(bare_server);
    let (webhook_rps, webhook_failed) = saturate(webhook, concurrency, seconds).await;
    println!("full speed, {concurrency} in flight, {seconds} s each:");
    println!("  bare axum handler: {bare_rps:>9.0} requests/s ({bare_failed} failed)");
    println!("  /meta/webhook:     {webhook_rps:>9.0} requests/s ({webhook_failed} failed)");
    println!("  ratio:             {:>9.2}", webhook_rps / bare_rps);
}
