//! The fake Meta of the Rust tests (`tests/common/fake_meta.rs`), served on its own so the
//! Playwright tests in `end2end/` can send the browser through the same fake login dialog.
//! Its person manages one Page, "E2E Skin Clinic", linked to @e2e.skin.clinic.
//!
//! `FAKE_META_PORT` (default 3102) is the port on 127.0.0.1.

#[allow(dead_code)] // the browser tests need only the server, not the tests' helpers
#[path = "../tests/common/fake_meta.rs"]
mod fake_meta;

use fake_meta::{FakeMeta, FakePage};

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("FAKE_META_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3102);
    let page = FakePage {
        id: "e2e-page-1",
        name: "E2E Skin Clinic",
        token: "e2e-page-token-1",
        instagram: Some(("e2e-ig-1", "e2e.skin.clinic")),
    };
    let meta = FakeMeta::start_on(([127, 0, 0, 1], port).into(), vec![page]).await;
    println!("fake Meta on {}", meta.base_url());
    let _ = tokio::signal::ctrl_c().await;
}
