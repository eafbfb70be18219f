//! The booking assistant through the real app: a patient's DMs arrive as signed webhook
//! deliveries, the worker runs the engine, the replies go out through the fake Send API with
//! their quick replies, and what the patient confirms is booked in the doctor's calendar.

mod common;

use std::time::Duration;

use common::fake_meta::FakeMeta;
use common::meta_flow::app_with_meta;
use common::webhook::{
    count, deliver, delivery, entry, linked_doctor, now_ms, page, settled, text_event,
};
use common::{open_practice, Backend, TestApp};
use serde_json::{json, Value};

on_both_databases!(
    a_patient_books_by_tapping_and_the_booking_is_in_the_calendar,
    a_patient_books_by_typing_only,
    a_patient_moves_then_cancels_their_appointment,
    a_time_booked_meanwhile_is_not_booked_twice_and_the_nearest_are_offered,
    a_tap_on_an_old_list_is_answered_but_never_acted_on,
    asking_for_a_human_pauses_the_assistant_until_the_doctor_resumes_it,
    a_reply_from_the_dashboard_pauses_the_assistant,
    a_message_answered_after_the_window_closed_gets_no_reply,
    a_duplicate_delivery_gets_no_second_reply,
);

const ACCOUNT: &str = "17841400000000021";
const PATIENT: &str = "7654321098765432";

/// A patient's DMs to [`ACCOUNT`], each a delivery of its own with a fresh message id.
struct Patient<'a> {
    app: &'a TestApp,
    meta: &'a FakeMeta,
    said: i64,
}

impl<'a> Patient<'a> {
    fn new(app: &'a TestApp, meta: &'a FakeMeta) -> Self {
        Self { app, meta, said: 0 }
    }

    /// Taps through a booking of the first free voice consultation up to its summary; the
    /// time's title and the summary.
    async fn tap_to_the_summary(&mut self) -> (String, Vec<Value>) {
        let menu = self.text("hi").await;
        assert!(texts(&menu).contains("automated assistant"), "{menu:?}");
        let services = self.tap(&menu, "Book").await;
        let methods = self.tap(&services, "Consultation").await;
        let fee = texts(&methods);
        assert!(fee.contains("Voice call: 500.00 INR"), "{methods:?}");
        let days = self.tap(&methods, "Voice call").await;
        let first_day = quick_replies(&days)[0].0.clone();
        let times = self.tap(&days, &first_day).await;
        assert!(texts(&times).contains("(Asia/Kolkata time)"), "{times:?}");
        let first_time = quick_replies(&times)[0].0.clone();
        self.tap(&times, &first_time).await;
        self.text("Ravi Kumar").await;
        // No country is set in this practice's profile: the number needs its code.
        let summary = self.text("+91 98765 43210").await;
        assert!(texts(&summary).contains("+919876543210"), "{summary:?}");
        (first_time, summary)
    }

    async fn send(&mut self, message: Value) -> Vec<Value> {
        self.send_at(message, now_ms()).await
    }

    async fn send_at(&mut self, message: Value, at: i64) -> Vec<Value> {
        let before = self.meta.sent().len();
        self.said += 1;
        let at = at + self.said;
        let mut event = json!({"sender": {"id": PATIENT}, "recipient": {"id": ACCOUNT},
                               "timestamp": at, "message": message});
        event["message"]["mid"] = json!(format!("mid.assistant.{}", self.said));
        deliver(self.app, &delivery(vec![entry(ACCOUNT, vec![event])])).await;
        settled(self.app).await;
        self.replies_after(before).await
    }

    async fn text(&mut self, text: &str) -> Vec<Value> {
        self.send(json!({"text": text})).await
    }

    /// Taps the quick reply titled `title` among `replies`.
    async fn tap(&mut self, replies: &[Value], title: &str) -> Vec<Value> {
        let payload = quick_replies(replies)
            .into_iter()
            .find(|(t, _)| t == title)
            .unwrap_or_else(|| panic!("no quick reply {title:?} in {replies:?}"))
            .1;
        self.send(json!({"text": title, "quick_reply": {"payload": payload}}))
            .await
    }

    /// The Send API bodies after the first `before`, once the outbox is empty.
    async fn replies_after(&self, before: usize) -> Vec<Value> {
        for _ in 0..200 {
            let queued = count(
                self.app,
                "SELECT COUNT(*) FROM messages WHERE delivery IN ('queued', 'sending')",
            )
            .await;
            if queued == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.meta.sent().split_off(before)
    }
}

fn quick_replies(replies: &[Value]) -> Vec<(String, String)> {
    replies
        .iter()
        .filter_map(|body| body["message"]["quick_replies"].as_array())
        .flatten()
        .map(|q| {
            (
                q["title"].as_str().unwrap().to_owned(),
                q["payload"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn texts(replies: &[Value]) -> String {
    replies
        .iter()
        .filter_map(|body| body["message"]["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn a_patient_books_by_tapping_and_the_booking_is_in_the_calendar(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, _, doctor) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    let (first_time, summary) = patient.tap_to_the_summary().await;
    let confirmed = patient.tap(&summary, "Confirm").await;
    assert!(texts(&confirmed).contains("You're booked"), "{confirmed:?}");

    let booked = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM appointments a JOIN conversations c
                 ON c.patient_id = a.patient_id AND c.doctor_id = a.doctor_id
             WHERE a.doctor_id = '{doctor}' AND a.source = 'instagram'
               AND a.status = 'confirmed' AND c.patient_igsid = '{PATIENT}'"
        ),
    )
    .await;
    assert_eq!(
        booked, 1,
        "one confirmed booking, on the Instagram patient's record"
    );

    // The patient sees it under "My appointments".
    let mine = patient
        .send(json!({"text": "My appointments", "quick_reply": {"payload": "MY_APPOINTMENTS"}}))
        .await;
    assert!(texts(&mine).contains(&first_time), "{mine:?}");
}

/// An app with a fake Meta and a doctor linked to [`ACCOUNT`] whose practice takes bookings
/// ([`open_practice`]); the doctor's browser and id.
async fn open_clinic(backend: Backend, meta: &FakeMeta) -> (TestApp, reqwest::Client, String) {
    let app = app_with_meta(backend, meta).await;
    let (browser, doctor) = linked_doctor(&app, meta, page("100000000000021", ACCOUNT, "a")).await;
    open_practice(&app, &browser).await;
    (app, browser, doctor)
}

/// The doctor's appointments booked over Instagram with this status.
async fn instagram_bookings(app: &TestApp, status: &str) -> i64 {
    count(
        app,
        &format!(
            "SELECT COUNT(*) FROM appointments WHERE source = 'instagram' AND status = '{status}'"
        ),
    )
    .await
}

async fn a_patient_books_by_typing_only(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, _, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    let menu = patient.text("hello").await;
    assert!(texts(&menu).contains("1. Book"), "{menu:?}");
    patient.text("1").await;
    let methods = patient.text("consultation").await;
    assert!(
        texts(&methods).contains("2. Voice call: 500.00 INR"),
        "{methods:?}"
    );
    let days = patient.text("voice").await;
    assert!(texts(&days).contains("Which day"), "{days:?}");
    let name = patient.text("tomorrow at 10:30").await;
    assert!(texts(&name).contains("What name"), "{name:?}");
    patient.text("Meera Shah").await;
    let summary = patient.text("+91 91234 56789").await;
    assert!(
        texts(&summary).contains(", 10:30 (Asia/Kolkata time)"),
        "{summary:?}"
    );
    let booked = patient.text("confirm").await;
    assert!(texts(&booked).contains("You're booked"), "{booked:?}");
    assert_eq!(instagram_bookings(&app, "confirmed").await, 1);
}

async fn a_patient_moves_then_cancels_their_appointment(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, _, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    patient.text("hi").await;
    for said in [
        "1",
        "consultation",
        "voice",
        "tomorrow at 10:30",
        "Meera Shah",
    ] {
        patient.text(said).await;
    }
    patient.text("+91 91234 56789").await;
    patient.text("confirm").await;

    patient.text("2").await; // My appointments
    let choices = patient.text("1").await;
    let when = patient.tap(&choices, "Reschedule").await;
    let day = quick_replies(&when)[1].0.clone();
    let times = patient.tap(&when, &day).await;
    let time = quick_replies(&times)[2].0.clone();
    let check = patient.tap(&times, &time).await;
    assert!(texts(&check).contains("Move your appointment"), "{check:?}");
    let moved = patient.tap(&check, "Confirm").await;
    assert!(texts(&moved).contains("is now on"), "{moved:?}");
    assert_eq!(
        instagram_bookings(&app, "confirmed").await,
        1,
        "one appointment kept"
    );
    let old = count(
        &app,
        "SELECT COUNT(*) FROM appointments WHERE cancel_reason = 'Moved'",
    )
    .await;
    assert_eq!(old, 1, "the old time was given up");

    patient.text("2").await;
    let choices = patient.text("1").await;
    let asked = patient.tap(&choices, "Cancel it").await;
    assert!(
        texts(&asked).contains("why are you cancelling"),
        "{asked:?}"
    );
    let done = patient.text("Feeling better, thank you").await;
    assert!(texts(&done).contains("is cancelled"), "{done:?}");
    assert_eq!(instagram_bookings(&app, "confirmed").await, 0);
    let reason = count(
        &app,
        "SELECT COUNT(*) FROM appointments WHERE cancel_reason = 'Feeling better, thank you'",
    )
    .await;
    assert_eq!(reason, 1);
}

async fn a_time_booked_meanwhile_is_not_booked_twice_and_the_nearest_are_offered(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, browser, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    let (first_time, summary) = patient.tap_to_the_summary().await;

    // The doctor books the same (first free) time from the dashboard meanwhile.
    let services = app.read_from(&browser, "setup/services").await;
    let consultation = services["services"][0]["id"].as_str().unwrap().to_owned();
    let booked = common::book_first_free(
        &app,
        &browser,
        &consultation,
        common::Patient("Walk In", "+91 90000 00000", "IN", ""),
    )
    .await;
    assert!(booked.status().is_success());

    let answer = patient.tap(&summary, "Confirm").await;
    assert!(texts(&answer).contains("just taken"), "{answer:?}");
    let offered = quick_replies(&answer);
    assert!(
        offered.len() >= 3 && !offered.iter().any(|(t, _)| *t == first_time),
        "{offered:?}"
    );
    assert_eq!(
        instagram_bookings(&app, "confirmed").await,
        0,
        "nothing booked twice"
    );
    let again = patient.tap(&answer, &offered[0].0.clone()).await;
    let done = patient.tap(&again, "Confirm").await;
    assert!(texts(&done).contains("You're booked"), "{done:?}");
    assert_eq!(instagram_bookings(&app, "confirmed").await, 1);
}

async fn a_tap_on_an_old_list_is_answered_but_never_acted_on(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, _, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    let menu = patient.text("hi").await;
    let services = patient.tap(&menu, "Book").await;
    patient.tap(&services, "Consultation").await;
    let stale = patient.tap(&menu, "Fees & hours").await;
    assert!(texts(&stale).contains("out of date"), "{stale:?}");
    assert!(
        !texts(&stale).contains("Fees:"),
        "the old tap did nothing: {stale:?}"
    );
    assert!(
        texts(&stale).contains("How would you like to meet?"),
        "{stale:?}"
    );
}

async fn a_reply_from_the_dashboard_pauses_the_assistant(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, browser, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    patient.text("hi").await;
    let list = app
        .call_from(&browser, "inbox", &[("needs_you", "false")])
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let reply = [
        ("id", id.as_str()),
        ("text", "Dr. Rao here, how can I help?"),
    ];
    let replied = app.call_from(&browser, "inbox/reply", &reply).await;
    assert!(replied.status().is_success());
    patient.replies_after(0).await;
    assert!(
        patient.text("Can I come today?").await.is_empty(),
        "the assistant stepped back"
    );
}

async fn a_message_answered_after_the_window_closed_gets_no_reply(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let (app, _, _) = open_clinic(backend, &meta).await;
    let mut patient = Patient::new(&app, &meta);
    let day_ago = now_ms() - 25 * 60 * 60 * 1000;
    let replies = patient.send_at(json!({"text": "hi"}), day_ago).await;
    assert!(replies.is_empty(), "Meta would refuse it: {replies:?}");
    let stored = count(
        &app,
        "SELECT COUNT(*) FROM messages WHERE author = 'patient'",
    )
    .await;
    assert_eq!(stored, 1, "the doctor still sees the message");
}

async fn asking_for_a_human_pauses_the_assistant_until_the_doctor_resumes_it(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, _) = linked_doctor(&app, &meta, page("100000000000021", ACCOUNT, "a")).await;
    let mut patient = Patient::new(&app, &meta);
    patient.text("hi").await;
    let handed = patient.text("human").await;
    assert!(
        texts(&handed).contains("passed your message to the clinic"),
        "{handed:?}"
    );
    assert!(
        patient.text("hello?").await.is_empty(),
        "the assistant stays quiet"
    );

    let list = app
        .call_from(&browser, "inbox", &[("needs_you", "true")])
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    assert_eq!(list.len(), 1, "the conversation needs the doctor");
    let id = list[0]["id"].as_str().unwrap();
    let resumed = app
        .call_from(
            &browser,
            "inbox/assistant",
            &[("id", id), ("paused", "false")],
        )
        .await;
    assert!(resumed.status().is_success());
    let menu = patient.text("menu").await;
    assert!(
        texts(&menu).contains("What would you like to do?"),
        "{menu:?}"
    );
}

async fn a_duplicate_delivery_gets_no_second_reply(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    linked_doctor(&app, &meta, page("100000000000021", ACCOUNT, "a")).await;
    let body = delivery(vec![entry(
        ACCOUNT,
        vec![text_event(PATIENT, ACCOUNT, "mid.once", now_ms(), "hi")],
    )]);
    deliver(&app, &body).await;
    settled(&app).await;
    let patient = Patient::new(&app, &meta);
    let first = patient.replies_after(0).await.len();
    assert!(first > 0);
    deliver(&app, &body).await;
    settled(&app).await;
    assert_eq!(
        patient.replies_after(0).await.len(),
        first,
        "no second reply"
    );
}
