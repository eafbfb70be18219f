//! The logs of a whole sign-up, booking, log-in, failed log-in and log-out hold no email,
//! name, patient's name, phone or note, or password, and those of connecting and disconnecting Instagram no token, code or handle,
//! even at debug level, while they do carry ids; neither do those of a patient's DMs reaching
//! the Inbox, a dead letter, and the doctor's reply going out.

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
    logs_of_messages_in_and_out_hold_no_message_text,
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

async fn logs_of_messages_in_and_out_hold_no_message_text(backend: Backend) {
    use common::fake_meta::FakeMeta;
    use common::meta_flow;
    use common::webhook::{deliver, delivery, entry, linked_doctor, page, settled, text_event};

    let logs = capture();
    let meta = FakeMeta::start(vec![]).await;
    let app = meta_flow::app_with_meta(backend, &meta).await;
    let account = "17841400000000011";
    let (browser, _) = linked_doctor(&app, &meta, page("100000000000011", account, "a")).await;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let patient = "6543210987654321";
    let said = "my rash is spreading";
    deliver(
        &app,
        &delivery(vec![
            entry(
                account,
                vec![text_event(patient, account, "mid.log1", now, said)],
            ),
            entry(
                "17841499999999999",
                vec![text_event(
                    "7999",
                    "17841499999999999",
                    "mid.log2",
                    now,
                    said,
                )],
            ),
        ]),
    )
    .await;
    settled(&app).await;
    let list = app
        .call_from(&browser, "inbox", &[("needs_you", "false")])
        .await;
    let list: serde_json::Value = list.json().await.unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let answer = "come in at noon tomorrow";
    let reply = app
        .call_from(&browser, "inbox/reply", &[("id", &id), ("text", answer)])
        .await;
    assert_eq!(reply.status(), reqwest::StatusCode::OK);
    // Sent, and its sending recorded (and logged), before the app stops.
    for _ in 0..100 {
        let thread = app
            .call_from(&browser, "inbox/thread", &[("id", &id)])
            .await;
        let thread: serde_json::Value = thread.json().await.unwrap();
        if thread["messages"].as_array().unwrap().last().unwrap()["state"] == "Sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sent = meta.sent();
    let replied = sent.iter().any(|body| body["message"]["text"] == answer);
    assert!(
        replied,
        "the reply went out (after the assistant's answers)"
    );
    app.stop().await;

    let text = logs.text();
    assert!(text.contains("inbox event applied") && text.contains("message sent"));
    assert!(text.contains("webhook event dead-lettered"));
    for private in [said, answer, patient, "page-token"] {
        assert!(!text.contains(private), "logs contain {private:?}");
    }
}
