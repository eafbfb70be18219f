//! What the Inbox shows and does, as server functions: the doctor's conversations, one
//! thread, a reply (queued in the outbox), and pausing or resuming the assistant. Every one
//! works on the signed-in doctor's rows only; another doctor's conversation id answers
//! "not found", like one that does not exist.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many conversations the list shows, and how many messages a thread.
pub const LIST_LIMIT: i64 = 200;
pub const THREAD_LIMIT: i64 = 300;
/// The longest reply the box takes (Instagram gets it as several messages if need be).
pub const MAX_REPLY_CHARS: usize = 4000;

/// Who wrote a message, as the thread tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Patient,
    Assistant,
    Doctor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    /// The patient's name and @username, or "Instagram user" until Meta tells us.
    pub who: String,
    pub preview: String,
    /// When the last message came, in the doctor's time zone.
    pub at: String,
    pub unread: i64,
    /// The assistant is paused or the patient asked for a person.
    pub needs_you: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub kind: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub side: Side,
    pub text: Option<String>,
    pub attachments: Vec<AttachmentView>,
    /// What the message is when it has no text: "Unsent by the patient", say.
    pub note: Option<String>,
    pub at: String,
    /// For messages to the patient: "Sending", "Sent", "Delivered", "Seen", "Not delivered".
    pub state: Option<String>,
    /// Why it was not delivered.
    pub failure: Option<String>,
    pub reaction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: String,
    pub who: String,
    pub paused: bool,
    pub needs_you: bool,
    /// Why the doctor cannot reply now (the 24-hour window closed), if so.
    pub reply_blocked: Option<String>,
    pub messages: Vec<MessageView>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use jiff::tz::TimeZone;
    use jiff::Timestamp;

    use crate::config::Config;
    use crate::db::conversations::StoredConversation;
    use crate::inbox::sender::Window;

    /// `at` as the Inbox shows it: the time today, else the day and time.
    pub fn when(at: i64, zone: &TimeZone, now: i64) -> String {
        let show = |ms: i64| {
            Timestamp::from_millisecond(ms)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_zoned(zone.clone())
        };
        let (at, now) = (show(at), show(now));
        if at.date() == now.date() {
            at.strftime("%H:%M").to_string()
        } else if at.year() == now.year() {
            at.strftime("%-d %b, %H:%M").to_string()
        } else {
            at.strftime("%-d %b %Y, %H:%M").to_string()
        }
    }

    /// The patient as the Inbox names them: "Asha Verma (@asha.verma)", either part alone,
    /// or "Instagram user" while Meta has told neither.
    pub fn who(conversation: &StoredConversation) -> String {
        let name = conversation.patient_name.trim();
        let username = conversation
            .username
            .as_deref()
            .filter(|username| !username.is_empty());
        match (name, username) {
            ("", None) => "Instagram user".to_owned(),
            ("", Some(username)) => format!("@{username}"),
            (name, None) => name.to_owned(),
            (name, Some(username)) => format!("{name} (@{username})"),
        }
    }

    /// Why a reply typed now could not be sent, if it could not.
    pub fn reply_blocked(
        config: &Config,
        last_inbound_at: Option<i64>,
        now: i64,
    ) -> Option<String> {
        let human_agent = config.meta.as_ref().is_some_and(|meta| meta.human_agent);
        (Window::at(config, last_inbound_at, now, true) == Window::Closed).then(|| {
            if human_agent {
                "The patient last wrote more than 7 days ago: Instagram does not allow a reply now. It opens again when they write.".to_owned()
            } else {
                "The patient last wrote more than 24 hours ago: Instagram allows replies only within 24 hours of their last message. It opens again when they write.".to_owned()
            }
        })
    }

    /// A message's text for the list: its first line, cut short.
    pub fn preview(text: &str) -> String {
        let line = text.lines().next().unwrap_or_default();
        let short: String = line.chars().take(80).collect();
        if short.len() < line.len() {
            format!("{short}…")
        } else {
            short
        }
    }

    /// What a message without text is, for the doctor.
    pub fn note(kind: &str, delivery: &str) -> Option<String> {
        if delivery == "deleted" {
            return Some("Unsent by the patient".into());
        }
        match kind {
            "unsupported" => Some("Sent something Instagram cannot show here".into()),
            "attachment" => Some("Sent an attachment".into()),
            "story_reply" => Some("Replied to your story".into()),
            _ => None,
        }
    }

    pub fn state(author: &str, delivery: &str) -> Option<String> {
        if author == "patient" {
            return None;
        }
        Some(
            match delivery {
                "queued" | "sending" => "Sending",
                "sent" => "Sent",
                "delivered" => "Delivered",
                "read" => "Seen",
                "undeliverable" => "Not delivered",
                _ => return None,
            }
            .to_owned(),
        )
    }
}

/// The signed-in doctor's conversations, newest first (only those that need them, if
/// `needs_you`).
#[server(endpoint = "inbox")]
pub async fn conversations(needs_you: bool) -> Result<Vec<ConversationSummary>, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let keys = &state.config.token_keys;
        let mut tx = db.tenant(doctor).await?;
        let zone = crate::db::availability::zone(&mut tx).await?;
        let stored = crate::db::conversations::list(&mut tx, needs_you, LIST_LIMIT).await?;
        tx.commit().await?;
        let now = crate::db::now_millis();
        Ok(stored
            .iter()
            .map(|c| {
                let text = c
                    .last_text
                    .as_ref()
                    .and_then(|sealed| keys.open_text(doctor.as_str(), sealed).ok());
                let preview = text.as_deref().map(ssr::preview).unwrap_or_else(|| {
                    ssr::note(c.last_kind.as_deref().unwrap_or_default(), "").unwrap_or_default()
                });
                ConversationSummary {
                    id: c.id.clone(),
                    who: ssr::who(c),
                    preview,
                    at: ssr::when(c.last_message_at, &zone, now),
                    unread: c.unread,
                    needs_you: c.assistant_paused || c.needs_human,
                }
            })
            .collect())
    })
    .await
}

/// Sends Instagram's "Seen" to the patient in the background (the page need not wait).
#[cfg(feature = "ssr")]
fn tell_patient_seen(
    state: &crate::context::AppState,
    doctor: &crate::db::DoctorId,
    conversation: &crate::db::conversations::StoredConversation,
) {
    let Some(api) = state.send_api.clone() else {
        return;
    };
    let (db, config, doctor) = (state.db.clone(), state.config.clone(), doctor.clone());
    let (id, patient) = (conversation.id.clone(), conversation.patient_igsid.clone());
    let last_inbound_at = conversation.last_inbound_at;
    tokio::spawn(async move {
        let seen =
            crate::inbox::sender::mark_seen(&db, &config, &api, &doctor, &patient, last_inbound_at);
        if let Err(error) = seen.await {
            tracing::warn!(doctor_id = %doctor, conversation_id = id, %error, "telling the patient their messages were seen failed");
        }
    });
}

/// One conversation with its latest messages; opening it marks it read (and tells the
/// patient so, as Instagram's "Seen").
#[server(endpoint = "inbox/thread")]
pub async fn thread(id: String) -> Result<ThreadView, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let keys = &state.config.token_keys;
        let mut tx = db.tenant_writer(doctor).await?;
        let conversation = crate::db::conversations::get(&mut tx, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let zone = crate::db::availability::zone(&mut tx).await?;
        let stored = crate::db::conversations::messages(&mut tx, &id, THREAD_LIMIT).await?;
        crate::db::conversations::mark_seen(&mut tx, &id).await?;
        tx.commit().await?;
        if conversation.unread > 0 {
            tell_patient_seen(&state, doctor, &conversation);
        }
        let now = crate::db::now_millis();
        let open = |sealed: &Option<crate::crypto::seal::Sealed>| {
            sealed
                .as_ref()
                .and_then(|s| keys.open_text(doctor.as_str(), s).ok())
        };
        let messages = stored
            .iter()
            .map(|m| MessageView {
                id: m.id.clone(),
                side: match m.author.as_str() {
                    "patient" => Side::Patient,
                    "assistant" => Side::Assistant,
                    _ => Side::Doctor,
                },
                text: open(&m.text),
                attachments: open(&m.attachments)
                    .and_then(|json| serde_json::from_str::<Vec<serde_json::Value>>(&json).ok())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| AttachmentView {
                        kind: a["kind"].as_str().unwrap_or("file").to_owned(),
                        url: a["url"].as_str().map(str::to_owned),
                    })
                    .collect(),
                note: ssr::note(&m.kind, &m.delivery),
                at: ssr::when(m.sent_at, &zone, now),
                state: ssr::state(&m.author, &m.delivery),
                failure: m.failure.clone(),
                reaction: m.reaction.clone(),
            })
            .collect();
        Ok(ThreadView {
            who: ssr::who(&conversation),
            paused: conversation.assistant_paused,
            needs_you: conversation.assistant_paused || conversation.needs_human,
            reply_blocked: ssr::reply_blocked(&state.config, conversation.last_inbound_at, now),
            id: conversation.id,
            messages,
        })
    })
    .await
}

/// Queues the doctor's reply; the sender delivers it.
#[server(endpoint = "inbox/reply")]
pub async fn reply(id: String, text: String) -> Result<(), AppError> {
    use crate::domain::FieldErrors;

    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let text = text.trim();
        if text.is_empty() {
            return Err(AppError::Invalid(FieldErrors::single(
                "text",
                "Write a reply first.",
            )));
        }
        if text.chars().count() > MAX_REPLY_CHARS {
            return Err(AppError::Invalid(FieldErrors::single(
                "text",
                format!("Keep a reply under {MAX_REPLY_CHARS} characters."),
            )));
        }
        let mut tx = db.tenant_writer(doctor).await?;
        let conversation = crate::db::conversations::get(&mut tx, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let now = crate::db::now_millis();
        if let Some(why) = ssr::reply_blocked(&state.config, conversation.last_inbound_at, now) {
            return Err(AppError::Invalid(FieldErrors::single("text", why)));
        }
        let author = crate::db::conversations::Author::Doctor;
        let extras = crate::domain::outgoing::Extras::default();
        let keys = &state.config.token_keys;
        crate::db::outbox::queue_text(&mut tx, keys, &id, author, text, extras).await?;
        // A person answers now: the assistant steps back, as for a reply from the Instagram
        // app, until the doctor resumes it.
        crate::db::conversations::set_paused(&mut tx, &id, true, false).await?;
        tx.commit().await?;
        tracing::info!(doctor_id = %doctor, conversation_id = %id, "reply queued");
        Ok(())
    })
    .await
}

/// Pauses the assistant in a conversation (the doctor's team answers), or resumes it.
#[server(endpoint = "inbox/assistant")]
pub async fn set_assistant(id: String, paused: bool) -> Result<(), AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant_writer(doctor).await?;
        if !crate::db::conversations::set_paused(&mut tx, &id, paused, false).await? {
            return Err(AppError::NotFound);
        }
        let action = if paused {
            "assistant.paused"
        } else {
            "assistant.resumed"
        };
        let request_id = crate::context::request_id();
        let subject = format!("conversation:{id}");
        crate::db::audit::record(&mut tx, action, &[subject], request_id.as_deref()).await?;
        tx.commit().await?;
        tracing::info!(doctor_id = %doctor, conversation_id = %id, paused, "assistant switched");
        Ok(())
    })
    .await
}
