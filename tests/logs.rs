//! The logs of a whole sign-up, booking, log-in, failed log-in and log-out hold no email,
//! name, patient's name, phone or note, or password, and those of connecting and disconnecting Instagram no token, code or handle,
//! even at debug level, while they do carry ids.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Backend, TestApp};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One subscriber for this whole test binary, so both databases' runs are captured.
fn capture() -> CapturedLogs {
    static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("debug"))
            .with_writer(logs.clone())
            .with_ansi(false)
            .init();
        logs
    })
    .clone()
}

on_both_databases!(
    logs_of_sign_up_and_log_in_hold_no_personal_data,
    logs_of_connecting_and_disconnecting_instagram_hold_no_token,
);

async fn logs_of_sign_up_and_log_in_hold_no_personal_data(backend: Backend) {
    let logs = capture();
    let app = TestApp::spawn(backend).await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("Zephyrine {marker}");
    let email = format!("zephyrine.{marker}@clinic.example");
    let password = format!("pw-{marker}-secret");

    app.sign_up(&name, &email, &password).await;
    app.get("/dashboard").await;
    // A booking by hand, with a patient's name, phone and note.
    let services = common::open_practice(&app, &app.client).await;
    let patient = format!("Quillon {marker}");
    let note = format!("note-{marker}");
    let booking = common::book_first_free(
        &app,
        &app.client,
        &services.consultation,
        common::Patient(&patient, "+44 7700 900461", "GB", &note),
    )
    .await;
    assert_eq!(booking.status(), reqwest::StatusCode::OK);
    app.log_out().await;
    app.log_in(&email, "a wrong password entirely").await;
    app.log_in(&email, &password).await;
    app.get("/dashboard").await;
    app.log_out().await;
    app.stop().await;

    let text = logs.text();
    assert!(text.contains("logged in"), "the flow was logged at all");
    assert!(
        text.contains("appointment booked"),
        "the booking was logged"
    );
    assert!(text.contains("doctor_id="), "logs carry ids");
    for secret in [
        &*marker,
        &*name,
        &*email,
        &*password,
        "Zephyrine",
        "zephyrine",
        "Quillon",
        "7700900461",
        "7700 900461",
    ] {
        assert!(!text.contains(secret), "logs contain {secret:?}");
    }
}

async fn logs_of_connecting_and_disconnecting_instagram_hold_no_token(backend: Backend) {
    use common::fake_meta::{self, FakeMeta, FakePage};
    use common::meta_flow;

    let logs = capture();
    let meta = FakeMeta::start(vec![FakePage {
        id: "page-logs",
        name: "Logged Clinic",
        token: "page-token-logs",
        instagram: Some(("ig-logs", "logged.clinic")),
    }])
    .await;
    let app = meta_flow::app_with_meta(backend, &meta).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    assert_eq!(meta_flow::connect(&app, &app.client).await, "connected");
    app.get("/dashboard/instagram").await;
    let response = app.call("instagram/disconnect", &[]).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    app.stop().await;

    let text = logs.text();
    assert!(text.contains("Instagram connected") && text.contains("Instagram disconnected"));
    assert!(text.contains("instagram_id=ig-logs"), "logs carry ids");
    for secret in [
        fake_meta::GOOD_CODE,
        fake_meta::SHORT_TOKEN,
        fake_meta::LONG_TOKEN,
        fake_meta::APP_SECRET,
        "page-token-logs",
        "logged.clinic",
        "Logged Clinic",
    ] {
        assert!(!text.contains(secret), "logs contain {secret:?}");
    }
}
