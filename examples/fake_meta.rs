//! The fake Meta of the Rust tests (`tests/common/fake_meta.rs`), served on its own so the
//! Playwright tests in `end2end/` can send the browser through the same fake login dialog,
//! and `make demo` can be tried without Meta. Its person manages one Page, "E2E Skin Clinic",
//! linked to @e2e.skin.clinic (Instagram account `e2e-ig-1`). At `/sandbox` a patient writes
//! to that account (`tests/common/sandbox.rs`).
//!
//! `FAKE_META_PORT` (default 3102) is the port on 127.0.0.1. `FAKE_META_WEBHOOK_URL` is the
//! app's `/meta/webhook`: the sandbox delivers patients' messages there, and every message the
//! app sends is echoed there, as Meta does.

#[allow(dead_code)] // the browser tests need only the server, not the tests' helpers
#[path = "../tests/common/fake_meta.rs"]
mod fake_meta;
#[path = "../tests/common/sandbox.rs"]
mod sandbox;

use fake_meta::{FakeMeta, FakePage};

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("FAKE_META_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3102);
    let webhook = std::env::var("FAKE_META_WEBHOOK_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let page = FakePage {
        id: "e2e-page-1",
        name: "E2E Skin Clinic",
        token: "e2e-page-token-1",
        instagram: Some(("e2e-ig-1", "e2e.skin.clinic")),
    };
    let meta = FakeMeta::start_with(([127, 0, 0, 1], port).into(), vec![page], |meta| {
        sandbox::routes(meta, webhook.clone())
    })
    .await;
    if let Some(url) = &webhook {
        meta.echo_to(url);
    }
    println!(
        "fake Meta on {url}; patients write at {url}/sandbox",
        url = meta.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
}
