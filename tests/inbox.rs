//! The Inbox through the real app: a patient's DM reaches the doctor's conversation list and
//! thread, a reply goes out through the outbox and Meta's Send API (the fake), Meta's errors
//! do what the reference says, the assistant pauses and resumes, and no doctor reaches
//! another's conversations.

mod common;

use std::time::Duration;

use common::fake_meta::FakeMeta;
use common::meta_flow::{app_with_meta, restart};
use common::webhook::{
    count, deliver, delivery, entry, linked_doctor, now_ms, owner, page, settled, text_event,
};
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

on_both_databases!(
    a_patients_message_reaches_the_inbox_and_opening_it_marks_it_read,
    no_doctor_reaches_another_doctors_conversations,
    a_reply_goes_out_through_the_send_api_and_its_echo_marks_it_delivered,
    a_reply_after_the_window_closed_is_refused_with_the_reason,
    meta_errors_flag_the_link_or_the_message_as_the_reference_says,
    pausing_the_assistant_puts_the_conversation_under_needs_you,
    an_echo_that_beats_the_send_answer_is_not_taken_for_a_takeover,
    the_patients_name_comes_from_metas_profile_api_once_per_conversation,
    a_reply_waiting_to_be_sent_survives_a_restart,
    an_event_that_fails_is_tried_again_alone_and_the_rest_of_its_round_is_applied,
);

const ACCOUNT: &str = "17841400000000011";
const PATIENT: &str = "6543210987654321";

/// A doctor linked to [`ACCOUNT`] whose patient wrote `text` at `at`; the doctor's browser and
/// the conversation's id.
async fn conversation_with(
    app: &TestApp,
    meta: &FakeMeta,
    text: &str,
    at: i64,
) -> (Client, String) {
    let (browser, _) = linked_doctor(app, meta, page("100000000000011", ACCOUNT, "a")).await;
    // These tests are about the doctor's Inbox: the assistant (tests/assistant.rs) is off, so
    // every message sent is the doctor's.
    let off = [
        ("greeting", ""),
        ("booking_mode", "confirm"),
        ("emergency_line", ""),
    ];
    let saved = app.call_from(&browser, "setup/assistant/save", &off).await;
    assert_eq!(saved.status(), StatusCode::OK);
    deliver(
        app,
        &delivery(vec![entry(
            ACCOUNT,
            vec![text_event(PATIENT, ACCOUNT, "mid.p1", at, text)],
        )]),
    )
    .await;
    settled(app).await;
    let list = inbox(app, &browser, false).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    (browser, id)
}

async fn inbox(app: &TestApp, browser: &Client, needs_you: bool) -> Vec<Value> {
    let response = app
        .call_from(browser, "inbox", &[("needs_you", &needs_you.to_string())])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Vec<Value>>().await.unwrap()
}

async fn open_thread(app: &TestApp, browser: &Client, id: &str) -> Value {
    let response = app.call_from(browser, "inbox/thread", &[("id", id)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The thread's newest message.
fn last_message(thread: &Value) -> Value {
    thread["messages"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap()
}

/// Waits until the thread's last message is in `state`; the thread. Up to 20 s: a message
/// whose sending a stopped app had claimed waits for the claim to lapse (15 s).
async fn last_message_in(app: &TestApp, browser: &Client, id: &str, state: &str) -> Value {
    for _ in 0..200 {
        let thread = open_thread(app, browser, id).await;
        let last = last_message(&thread);
        if last["state"] == state {
            return thread;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the last message never reached {state}");
}

async fn a_patients_message_reaches_the_inbox_and_opening_it_marks_it_read(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Can I book for Friday?", now_ms()).await;
    let list = inbox(&app, &browser, false).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["who"], "Instagram user");
    assert_eq!(list[0]["preview"], "Can I book for Friday?");
    assert_eq!(list[0]["unread"], 1);
    assert_eq!(list[0]["needs_you"], false);
    let doctor = app.read_from(&browser, "current_doctor").await;
    assert_eq!(doctor["unread"], 1, "the dashboard home counts it");

    let thread = open_thread(&app, &browser, &id).await;
    let messages = thread["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["side"], "Patient");
    assert_eq!(messages[0]["text"], "Can I book for Friday?");
    assert_eq!(thread["reply_blocked"], Value::Null);
    assert_eq!(
        inbox(&app, &browser, false).await[0]["unread"],
        0,
        "opened: read"
    );
    // The patient sees "Seen": once, for the opening that found unread messages.
    let seen = [(PATIENT.to_owned(), "mark_seen".to_owned())];
    for _ in 0..50 {
        if !meta.sender_actions().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(meta.sender_actions(), seen);
    open_thread(&app, &browser, &id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(meta.sender_actions(), seen, "nothing new to see");
    app.stop().await;
}

async fn a_reply_waiting_to_be_sent_survives_a_restart(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Open today?", now_ms()).await;
    // Meta is down for the first try: the reply waits in the outbox for the next.
    meta.fail_sends(&[(2, 0)]);
    let response = app
        .call_from(
            &browser,
            "inbox/reply",
            &[("id", &id), ("text", "Until six.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tried = || meta.requests().iter().any(|r| r.contains("/messages"));
    for _ in 0..100 {
        if tried() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tried(), "the first try reached Meta");
    assert!(meta.sent().is_empty());

    let app = restart(app, &meta).await;
    last_message_in(&app, &browser, &id, "Sent").await;
    let sent = meta.sent();
    assert_eq!(sent.len(), 1, "sent once, after the restart");
    assert_eq!(sent[0]["message"]["text"], "Until six.");
    app.stop().await;
}

/// How many times the app asked Meta's user profile API about `igsid`.
fn profile_calls(meta: &FakeMeta, igsid: &str) -> usize {
    let call = format!("profile {igsid}");
    meta.calls().iter().filter(|c| **c == call).count()
}

async fn the_patients_name_comes_from_metas_profile_api_once_per_conversation(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    meta.add_person(PATIENT, "Asha Verma", "asha.verma");
    let app = app_with_meta(backend, &meta).await;
    let (browser, _) = conversation_with(&app, &meta, "Hi", now_ms()).await;
    let mut who = Value::Null;
    for _ in 0..100 {
        who = inbox(&app, &browser, false).await[0]["who"].clone();
        if who != "Instagram user" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(who, "Asha Verma (@asha.verma)");

    // A second message, and a patient Meta will not tell about (no consent): one lookup each.
    let stranger = "7000000000000001";
    let more = vec![
        text_event(PATIENT, ACCOUNT, "mid.p2", now_ms(), "Still there?"),
        text_event(stranger, ACCOUNT, "mid.s1", now_ms(), "Hello"),
    ];
    deliver(&app, &delivery(vec![entry(ACCOUNT, more)])).await;
    settled(&app).await;
    for _ in 0..100 {
        if profile_calls(&meta, stranger) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Two more rounds of the lookup (one a second) to see nothing is asked again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(profile_calls(&meta, PATIENT), 1);
    assert_eq!(
        profile_calls(&meta, stranger),
        1,
        "a refusal is not retried"
    );
    let list = inbox(&app, &browser, false).await;
    let names: Vec<_> = list.iter().map(|c| c["who"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Asha Verma (@asha.verma)"));
    assert!(names.contains(&"Instagram user"));
    app.stop().await;
}

async fn no_doctor_reaches_another_doctors_conversations(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (_, id) = conversation_with(&app, &meta, "private", now_ms()).await;
    let other = app.other_browser();
    app.new_doctor(&other, "Dr. Other").await;
    assert!(inbox(&app, &other, false).await.is_empty());
    for (function, form) in [
        ("inbox/thread", vec![("id", id.as_str())]),
        ("inbox/reply", vec![("id", id.as_str()), ("text", "hello")]),
        (
            "inbox/assistant",
            vec![("id", id.as_str()), ("paused", "true")],
        ),
    ] {
        let response = app.call_from(&other, function, &form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
    }
    let signed_out = app.other_browser();
    let response = app
        .call_from(&signed_out, "inbox", &[("needs_you", "false")])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM messages WHERE author <> 'patient'"
        )
        .await,
        0
    );
    app.stop().await;
}

async fn a_reply_goes_out_through_the_send_api_and_its_echo_marks_it_delivered(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Hello?", now_ms()).await;
    let long = format!("Yes. {}", "We open at nine. ".repeat(80));
    let response = app
        .call_from(&browser, "inbox/reply", &[("id", &id), ("text", &long)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let thread = last_message_in(&app, &browser, &id, "Sent").await;
    let sent = meta.sent();
    assert!(
        sent.len() >= 2,
        "over 1,000 bytes goes out as several messages"
    );
    for body in &sent {
        assert_eq!(body["recipient"]["id"], PATIENT);
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert!(body["message"]["text"].as_str().unwrap().len() <= 1000);
    }
    let doctor_side: Vec<_> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["side"] == "Doctor")
        .collect();
    assert_eq!(doctor_side.len(), sent.len());

    // The doctor's reply paused the assistant; the doctor resumes it.
    assert_eq!(
        thread["paused"], true,
        "a person answered: the assistant steps back"
    );
    let resumed = app
        .call_from(
            &browser,
            "inbox/assistant",
            &[("id", &id), ("paused", "false")],
        )
        .await;
    assert_eq!(resumed.status(), StatusCode::OK);
    // Meta echoes what we sent: the message is then delivered, and the assistant stays on.
    let mid = meta.sent_ids().last().cloned().unwrap();
    let echo = json!({"sender": {"id": ACCOUNT}, "recipient": {"id": PATIENT},
                      "timestamp": now_ms(), "message": {"mid": mid, "text": "…", "is_echo": true}});
    deliver(&app, &delivery(vec![entry(ACCOUNT, vec![echo])])).await;
    settled(&app).await;
    let thread = open_thread(&app, &browser, &id).await;
    let last = last_message(&thread);
    assert_eq!(last["state"], "Delivered");
    assert_eq!(thread["paused"], false, "our own echo is not a takeover");
    app.stop().await;
}

async fn a_reply_after_the_window_closed_is_refused_with_the_reason(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let two_days_ago = now_ms() - 2 * 24 * 60 * 60 * 1000;
    let (browser, id) = conversation_with(&app, &meta, "old", two_days_ago).await;
    let thread = open_thread(&app, &browser, &id).await;
    assert!(thread["reply_blocked"]
        .as_str()
        .unwrap()
        .contains("24 hours"));
    let response = app
        .call_from(
            &browser,
            "inbox/reply",
            &[("id", &id), ("text", "Sorry for the delay")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("24 hours"));
    for blank in ["", "   "] {
        let response = app
            .call_from(&browser, "inbox/reply", &[("id", &id), ("text", blank)])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(meta.sent().is_empty());
    app.stop().await;
}

async fn meta_errors_flag_the_link_or_the_message_as_the_reference_says(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Hello?", now_ms()).await;
    let reply = |text: &'static str| {
        let (app, browser, id) = (&app, &browser, id.clone());
        async move {
            let response = app
                .call_from(browser, "inbox/reply", &[("id", &id), ("text", text)])
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    // The person is not available: undeliverable, with the reason; the next one goes out.
    meta.fail_sends(&[(551, 1_545_041)]);
    reply("first").await;
    let thread = last_message_in(&app, &browser, &id, "Not delivered").await;
    let last = last_message(&thread);
    assert!(last["failure"]
        .as_str()
        .unwrap()
        .contains("isn't available"));

    // Outside the window as Instagram reports it.
    meta.fail_sends(&[(10, 2_534_022)]);
    reply("second").await;
    let thread = last_message_in(&app, &browser, &id, "Not delivered").await;
    let last = last_message(&thread);
    assert!(last["failure"].as_str().unwrap().contains("24 hours"));

    // A temporary failure is tried again and goes out.
    meta.fail_sends(&[(2, 0)]);
    reply("third").await;
    last_message_in(&app, &browser, &id, "Sent").await;

    // A rejected token: the link is flagged for reconnecting and the message waits.
    meta.fail_sends(&[(190, 460)]);
    reply("fourth").await;
    for _ in 0..100 {
        let pane = app.read_from(&browser, "instagram").await;
        if pane["link"]["health"] == "Rejected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pane = app.read_from(&browser, "instagram").await;
    assert_eq!(pane["link"]["health"], "Rejected");
    let thread = open_thread(&app, &browser, &id).await;
    let last = last_message(&thread);
    assert_eq!(
        last["state"], "Sending",
        "it waits for the doctor to reconnect"
    );
    app.stop().await;
}

async fn pausing_the_assistant_puts_the_conversation_under_needs_you(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Hello?", now_ms()).await;
    assert!(inbox(&app, &browser, true).await.is_empty());
    let pause = app
        .call_from(
            &browser,
            "inbox/assistant",
            &[("id", &id), ("paused", "true")],
        )
        .await;
    assert_eq!(pause.status(), StatusCode::OK);
    let needing = inbox(&app, &browser, true).await;
    assert_eq!(needing.len(), 1);
    assert_eq!(needing[0]["needs_you"], true);
    assert_eq!(open_thread(&app, &browser, &id).await["paused"], true);
    let resume = app
        .call_from(
            &browser,
            "inbox/assistant",
            &[("id", &id), ("paused", "false")],
        )
        .await;
    assert_eq!(resume.status(), StatusCode::OK);
    assert!(inbox(&app, &browser, true).await.is_empty());
    let audited = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('assistant.paused', 'assistant.resumed')",
    )
    .await;
    assert_eq!(audited, 2);
    app.stop().await;
}

async fn an_echo_that_beats_the_send_answer_is_not_taken_for_a_takeover(backend: Backend) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Hello?", now_ms()).await;
    // Meta's echo reaches the webhook while our send still waits for Meta's answer.
    meta.echo_to(&app.url("/meta/webhook"));
    let response = app
        .call_from(
            &browser,
            "inbox/reply",
            &[("id", &id), ("text", "On my way")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let thread = last_message_in(&app, &browser, &id, "Delivered").await;
    // Taken for a reply from the Instagram app, the echo would be a second message.
    let from_us = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["side"] == "Doctor")
        .count();
    assert_eq!(from_us, 1, "the echo is the same message, not a second one");
    app.stop().await;
}

/// The worker applies several conversations' events in one transaction: one that fails is
/// undone alone (a savepoint), tried again later, and the others stand.
async fn an_event_that_fails_is_tried_again_alone_and_the_rest_of_its_round_is_applied(
    backend: Backend,
) {
    let meta = FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (browser, id) = conversation_with(&app, &meta, "Hello?", now_ms()).await;
    // A message of ours is being sent in this conversation (and stays so): an echo of a
    // message we do not know waits for the send's answer, so applying it fails for now.
    let mut db = owner(&app).await;
    sqlx::query(
        "INSERT INTO messages (id, doctor_id, conversation_id, author, kind, text_sealed, key_id,
             sent_at, delivery, human_agent, next_attempt_at, created_at)
         SELECT 'in-flight', doctor_id, id, 'doctor', 'text', 'sealed', 'k1', $1, 'sending', 0,
             $2, $1
         FROM conversations WHERE id = $3",
    )
    .bind(now_ms())
    .bind(now_ms() + 3_600_000)
    .bind(&id)
    .execute(&mut db)
    .await
    .unwrap();
    let echo = json!({"sender": {"id": ACCOUNT}, "recipient": {"id": PATIENT},
                      "timestamp": now_ms(), "message": {"mid": "mid.app.1", "text": "From the app", "is_echo": true}});
    let other = text_event("7000000000000002", ACCOUNT, "mid.b1", now_ms(), "Hi there");
    deliver(&app, &delivery(vec![entry(ACCOUNT, vec![echo, other])])).await;

    let other_applied = "SELECT COUNT(*) FROM messages WHERE mid = 'mid.b1'";
    let echo_tried = "SELECT COUNT(*) FROM inbound_events
                      WHERE kind = 'echo' AND state = 'pending' AND attempts >= 1";
    for _ in 0..100 {
        if count(&app, other_applied).await == 1 && count(&app, echo_tried).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(&app, other_applied).await,
        1,
        "the other patient's message stands"
    );
    assert_eq!(
        count(&app, echo_tried).await,
        1,
        "the echo waits for another try"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM messages WHERE mid = 'mid.app.1'"
        )
        .await,
        0
    );

    // The send is answered: the next try takes the echo for a reply from the Instagram app.
    sqlx::query("UPDATE messages SET delivery = 'sent' WHERE id = 'in-flight'")
        .execute(&mut db)
        .await
        .unwrap();
    settled(&app).await;
    let thread = open_thread(&app, &browser, &id).await;
    assert_eq!(
        thread["paused"], true,
        "a reply from the app pauses the assistant"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM messages WHERE mid = 'mid.app.1'"
        )
        .await,
        1
    );
    app.stop().await;
}
