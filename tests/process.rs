//! The server binary as an operator runs it: refuses a bad production configuration with a
//! message naming the variable, and stops cleanly on SIGTERM.

mod common;

use std::process::Command;
use std::time::Duration;

use common::binary::{listening_address, server, temp_dir};

#[test]
fn production_without_a_secret_key_refuses_to_start_and_names_it() {
    let dir = temp_dir();
    let output = server(
        &dir,
        &[
            ("APP_ENV", "production"),
            ("PUBLIC_BASE_URL", "https://clariva.example"),
        ],
    )
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SECRET_KEY"), "{stderr}");
    assert!(!dir.join("clariva.db").exists(), "nothing was created");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = temp_dir();
    let mut child = server(&dir, &[]).spawn().unwrap();
    let addr = listening_address(&mut child);

    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert!(
        dir.join("clariva.db").exists(),
        "SQLite file created on start"
    );
    assert!(dir.join("secret_key").exists(), "development key generated");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reseal_tokens_runs_against_the_database_and_says_what_it_did() {
    let dir = temp_dir();
    let output = server(
        &dir,
        &[(
            "TOKEN_KEYS",
            "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,k1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        )],
    )
    .arg("reseal-tokens")
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("0 token(s) and payment key set(s) re-sealed with key k2"),
        "{stdout}"
    );
}
