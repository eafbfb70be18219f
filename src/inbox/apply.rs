//! The worker's second step: a routed event changes its conversation. Events of one
//! conversation are applied one at a time in the order they happened (the worker holds the
//! conversation's lease); each in its doctor's transaction together with the marks that it
//! was applied, so a crash applies it again or not at all, never half.

use serde::Serialize;

use crate::assistant::engine::Said;
use crate::assistant::turn;
use crate::config::Config;
use crate::db::conversations::{self, Author, NewMessage, PendingEvent};
use crate::db::{now_millis, outbox, DoctorId, TenantTx};
use crate::domain::outgoing::Extras;
use crate::error::AppError;
use crate::meta::delivery::{self, EventKind, Message};

/// Applies `pending` (an event of `conversation_id`) in `tx`.
pub async fn apply(
    tx: &mut TenantTx,
    config: &Config,
    doctor: &DoctorId,
    conversation_id: &str,
    pending: &PendingEvent,
) -> Result<(), AppError> {
    let body = config
        .token_keys
        .open_bytes(doctor.as_str(), &pending.event)
        .map_err(|error| AppError::internal("stored event does not open", error))?;
    let event = delivery::split(&body)
        .ok()
        .and_then(|parts| parts.into_iter().next())
        .and_then(|part| part.event.ok())
        .ok_or_else(|| AppError::internal("stored event unreadable", pending.id.as_str()))?;
    let seal = |text: &str| {
        config
            .token_keys
            .seal_bytes(doctor.as_str(), text.as_bytes())
    };
    let at = event.occurred_at;
    let standby = event.standby;
    match &event.kind {
        EventKind::Message(message) => {
            let content = Content::of(message, seal);
            let new = conversations::add_message(
                tx,
                &content.message(conversation_id, Author::Patient, "received", at, standby),
            )
            .await?;
            conversations::record_inbound(tx, conversation_id, at, new).await?;
            let said = match (&message.quick_reply, &message.text) {
                (Some(payload), _) => Said::Payload(payload.clone()),
                (None, Some(text)) => Said::Text(text.clone()),
                (None, None) => Said::Other,
            };
            if new && !standby {
                answer(tx, config, conversation_id, said, at).await?;
            }
        }
        EventKind::Echo(message) => {
            if !conversations::mark_echoed(tx, &message.mid).await? {
                if crate::db::outbox::sending_in(tx, conversation_id).await? {
                    // Meta may echo our message before answering our send: wait for the
                    // answer (the worker tries again shortly) before deciding whose it is.
                    return Err(AppError::Busy);
                }
                // Not sent by us: someone answered from the Instagram app. Their reply is the
                // doctor's, and the assistant steps back from this conversation.
                let content = Content::of(message, seal);
                conversations::add_message(
                    tx,
                    &content.message(conversation_id, Author::Doctor, "delivered", at, standby),
                )
                .await?;
                conversations::record_outbound(tx, conversation_id, at).await?;
                conversations::set_paused(tx, conversation_id, true, false).await?;
                tracing::info!(doctor_id = %doctor, conversation_id, "reply from the Instagram app: assistant paused");
            }
        }
        EventKind::Unsent { mid } => {
            if !conversations::mark_unsent(tx, mid).await? {
                // Unsent before we saw it: a tombstone keeps the message from arriving later.
                let tombstone = Content::default();
                let mut message =
                    tombstone.message(conversation_id, Author::Patient, "deleted", at, standby);
                message.mid = Some(mid);
                message.kind = "unsent";
                conversations::add_message(tx, &message).await?;
            }
        }
        EventKind::Unsupported { mid } => {
            let content = Content::default();
            let mut message =
                content.message(conversation_id, Author::Patient, "received", at, standby);
            message.mid = Some(mid);
            message.kind = "unsupported";
            let new = conversations::add_message(tx, &message).await?;
            conversations::record_inbound(tx, conversation_id, at, new).await?;
        }
        EventKind::Postback {
            mid,
            title,
            payload,
        } => {
            let content = Content {
                text: title.as_deref().map(seal),
                ..Content::default()
            };
            let mut message =
                content.message(conversation_id, Author::Patient, "received", at, standby);
            message.mid = mid.as_deref();
            message.kind = "postback";
            let new = conversations::add_message(tx, &message).await?;
            conversations::record_inbound(tx, conversation_id, at, new).await?;
            if let (true, false, Some(payload)) = (new, standby, payload) {
                let said = Said::Payload(payload.clone());
                answer(tx, config, conversation_id, said, at).await?;
            }
        }
        EventKind::Read { mid } => conversations::mark_read(tx, conversation_id, mid).await?,
        EventKind::Reaction {
            mid,
            react,
            reaction,
            ..
        } => {
            let reaction = react.then(|| reaction.as_deref().unwrap_or("other"));
            conversations::set_reaction(tx, mid, reaction).await?;
        }
        EventKind::Referral { .. } => {
            conversations::record_inbound(tx, conversation_id, at, false).await?;
        }
        EventKind::Edit { mid, text } => {
            if let Some(text) = text {
                conversations::replace_text(tx, mid, &seal(text)).await?;
            }
        }
        EventKind::Other { .. } => {}
    }
    Ok(())
}

/// The assistant's answer to what the patient said, queued in the same transaction.
async fn answer(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
    said: Said,
    at: i64,
) -> Result<(), AppError> {
    let replies = turn::answer(tx, config, conversation_id, said, at, now_millis()).await?;
    for reply in replies {
        let extras = Extras {
            quick_replies: reply.quick_replies,
            buttons: Vec::new(),
        };
        let author = Author::Assistant;
        outbox::queue_text(
            tx,
            &config.token_keys,
            conversation_id,
            author,
            &reply.text,
            extras,
        )
        .await?;
    }
    Ok(())
}

/// A message's content, sealed for its doctor.
#[derive(Default)]
struct Content<'a> {
    mid: Option<&'a str>,
    kind: &'static str,
    text: Option<crate::crypto::seal::Sealed>,
    attachments: Option<crate::crypto::seal::Sealed>,
    attachment_kind: Option<&'a str>,
}

#[derive(Serialize)]
struct StoredAttachment<'a> {
    kind: &'a str,
    url: Option<&'a str>,
}

impl<'a> Content<'a> {
    fn of(message: &'a Message, seal: impl Fn(&str) -> crate::crypto::seal::Sealed) -> Self {
        let story = message.story_url.as_deref().map(|url| StoredAttachment {
            kind: "story",
            url: Some(url),
        });
        let list: Vec<_> = story
            .into_iter()
            .chain(message.attachments.iter().map(|a| StoredAttachment {
                kind: &a.kind,
                url: a.url.as_deref(),
            }))
            .collect();
        let attachments =
            (!list.is_empty()).then(|| seal(&serde_json::to_string(&list).unwrap_or_default()));
        let kind = if message.story_url.is_some() {
            "story_reply"
        } else if !message.attachments.is_empty() {
            "attachment"
        } else {
            "text"
        };
        Self {
            mid: Some(&message.mid),
            kind,
            text: message.text.as_deref().map(&seal),
            attachments,
            attachment_kind: message.attachments.first().map(|a| a.kind.as_str()),
        }
    }

    fn message(
        &'a self,
        conversation_id: &'a str,
        author: Author,
        delivery: &'a str,
        sent_at: i64,
        standby: bool,
    ) -> NewMessage<'a> {
        NewMessage {
            conversation_id,
            mid: self.mid,
            author,
            kind: if self.kind.is_empty() {
                "text"
            } else {
                self.kind
            },
            text: self.text.as_ref(),
            attachments: self.attachments.as_ref(),
            attachment_kind: self.attachment_kind,
            sent_at,
            delivery,
            standby,
            now: now_millis(),
        }
    }
}
