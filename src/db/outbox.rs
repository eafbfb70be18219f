//! The outbox: outgoing messages (rows of `messages` by the assistant or the doctor) from
//! queued to sent or undeliverable, and the sender's claims on conversations. Text and
//! extras are sealed before they are stored.

use std::time::Duration;

use sqlx::Row;

use super::conversations::{Author, Work};
use super::{new_id, now_millis, Db, DoctorId, Lookup, TenantTx};
use crate::crypto::seal::{Sealed, TokenKeys};
use crate::domain::outgoing::{split_text, Extras, MAX_TEXT_BYTES};

/// An outgoing message about to be queued.
pub struct NewOutgoing<'a> {
    pub conversation_id: &'a str,
    pub author: Author,
    pub text: &'a Sealed,
    /// Quick replies or buttons (JSON), sealed with the same key as `text`.
    pub extras: Option<&'a Sealed>,
    /// Typed by a person: may go out with the `HUMAN_AGENT` tag after the 24-hour window.
    pub human_agent: bool,
    pub now: i64,
}

/// Queues `text` (with `extras` on its last part) from `author` in the caller's transaction
/// (with the change that causes it), split into Instagram-sized messages and sealed for the
/// transaction's doctor; the sender delivers them afterwards. The ids of the messages.
pub async fn queue_text(
    tx: &mut TenantTx,
    keys: &TokenKeys,
    conversation_id: &str,
    author: Author,
    text: &str,
    extras: Extras,
) -> Result<Vec<String>, sqlx::Error> {
    let parts = split_text(text, MAX_TEXT_BYTES);
    let extras = extras.within_limits();
    let doctor = tx.doctor().clone();
    let seal = |text: &str| keys.seal_bytes(doctor.as_str(), text.as_bytes());
    let mut ids = Vec::with_capacity(parts.len());
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let text = seal(part);
        let extras = (i == last && !extras.is_empty())
            .then(|| seal(&serde_json::to_string(&extras).unwrap_or_default()));
        let message = NewOutgoing {
            conversation_id,
            author,
            text: &text,
            extras: extras.as_ref(),
            human_agent: author == Author::Doctor,
            now: now_millis(),
        };
        ids.push(queue(tx, &message).await?);
    }
    Ok(ids)
}

/// Queues a message; its id.
pub async fn queue(tx: &mut TenantTx, message: &NewOutgoing<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO messages (id, doctor_id, conversation_id, author, kind, text_sealed,
             payload_sealed, key_id, sent_at, delivery, human_agent, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 'text', $5, $6, $7, $8, 'queued', $9, $8, $8)",
    )
    .bind(&id)
    .bind(doctor.as_str())
    .bind(message.conversation_id)
    .bind(message.author.key())
    .bind(&message.text.value)
    .bind(message.extras.map(|e| e.value.as_str()))
    .bind(&message.text.key_id)
    .bind(message.now)
    .bind(i64::from(message.human_agent))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE conversations SET
             last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END
         WHERE doctor_id = $2 AND id = $3",
    )
    .bind(message.now)
    .bind(doctor.as_str())
    .bind(message.conversation_id)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Claims up to `limit` conversations with messages due to send, for `lease`, across doctors.
pub async fn claim(
    db: &Db,
    now: i64,
    lease: Duration,
    limit: i64,
) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    OUTBOX_WORK.claim(db, now, lease, limit).await
}

const OUTBOX_WORK: Work = Work {
    lookup: Lookup::OutboxWork,
    lease_column: "send_lease_until",
    due: "SELECT 1 FROM messages m WHERE m.conversation_id = c.id
              AND m.delivery IN ('queued', 'sending') AND m.next_attempt_at <= $2",
};

/// Gives a claimed conversation back.
pub async fn release(tx: &mut TenantTx, conversation_id: &str) -> Result<(), sqlx::Error> {
    OUTBOX_WORK.release(tx, conversation_id).await
}

/// A queued message, with what sending it needs.
pub struct Queued {
    pub id: String,
    pub text: Sealed,
    pub extras: Option<Sealed>,
    pub human_agent: bool,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The patient's Instagram-scoped id.
    pub recipient: String,
    /// When the patient last wrote: the 24-hour window.
    pub last_inbound_at: Option<i64>,
}

/// The conversation's oldest message not yet sent (due or not: later ones wait for it).
pub async fn next_queued(
    tx: &mut TenantTx,
    conversation_id: &str,
) -> Result<Option<Queued>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT m.id, m.text_sealed, m.payload_sealed, m.key_id, m.human_agent, m.attempts,
             m.next_attempt_at, c.patient_igsid, c.last_inbound_at
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
             AND c.doctor_id = m.doctor_id
         WHERE m.doctor_id = $1 AND m.conversation_id = $2 AND m.delivery IN ('queued', 'sending')
         ORDER BY m.created_at, m.id LIMIT 1",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let key_id: String = row.try_get("key_id")?;
        let sealed = |value: String| Sealed {
            value,
            key_id: key_id.clone(),
        };
        Ok(Queued {
            id: row.try_get("id")?,
            text: sealed(row.try_get("text_sealed")?),
            extras: row
                .try_get::<Option<String>, _>("payload_sealed")?
                .map(sealed),
            human_agent: row.try_get::<i64, _>("human_agent")? != 0,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row
                .try_get::<Option<i64>, _>("next_attempt_at")?
                .unwrap_or(0),
            recipient: row.try_get("patient_igsid")?,
            last_inbound_at: row.try_get("last_inbound_at")?,
        })
    })
    .transpose()
}

/// Where a message stands after a try.
pub enum Sending<'a> {
    /// Being sent now: an echo of it may come before Meta's answer.
    Started,
    Sent {
        mid: &'a str,
    },
    /// Try again then.
    RetryAt(i64),
    Undeliverable {
        why: &'a str,
    },
}

pub async fn settle(
    tx: &mut TenantTx,
    message_id: &str,
    outcome: Sending<'_>,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let (delivery, mid, failure, next, tried) = match outcome {
        Sending::Started => ("sending", None, None, None, 1),
        Sending::Sent { mid } => ("sent", Some(mid), None, None, 0),
        Sending::RetryAt(at) => ("queued", None, None, Some(at), 0),
        Sending::Undeliverable { why } => ("undeliverable", None, Some(why), None, 0),
    };
    sqlx::query(
        "UPDATE messages SET delivery = $1, mid = COALESCE($2, mid), failure = $3,
             next_attempt_at = COALESCE($4, next_attempt_at), attempts = attempts + $5
         WHERE doctor_id = $6 AND id = $7",
    )
    .bind(delivery)
    .bind(mid)
    .bind(failure)
    .bind(next)
    .bind(tried)
    .bind(doctor.as_str())
    .bind(message_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Whether a message of the conversation is being sent right now (its echo may come first).
pub async fn sending_in(tx: &mut TenantTx, conversation_id: &str) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM messages
         WHERE doctor_id = $1 AND conversation_id = $2 AND delivery = 'sending'",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// The doctor's link as the sender needs it: the Page, its sealed token, whether Meta still
/// takes the token, and until when Meta asked us to slow down.
pub struct SendingLink {
    pub page_id: String,
    pub token: Sealed,
    pub token_rejected: bool,
    pub paused_until: Option<i64>,
}

pub async fn link(tx: &mut TenantTx) -> Result<Option<SendingLink>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT page_id, token_sealed, token_key_id, token_rejected, sends_paused_until
         FROM instagram_links WHERE doctor_id = $1",
    )
    .bind(doctor.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(SendingLink {
            page_id: row.try_get("page_id")?,
            token: Sealed {
                value: row.try_get("token_sealed")?,
                key_id: row.try_get("token_key_id")?,
            },
            token_rejected: row.try_get::<i64, _>("token_rejected")? != 0,
            paused_until: row.try_get("sends_paused_until")?,
        })
    })
    .transpose()
}

/// Meta refused the link's token while sending: the doctor must reconnect; sends stop.
pub async fn flag_token_rejected(tx: &mut TenantTx) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE instagram_links SET token_rejected = 1 WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(conn)
        .await
        .map(drop)
}

/// Meta asked us to slow down: no sends for this doctor's account before `until`.
pub async fn pause_sends(tx: &mut TenantTx, until: i64) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE instagram_links SET sends_paused_until = $1 WHERE doctor_id = $2")
        .bind(until)
        .bind(doctor.as_str())
        .execute(conn)
        .await
        .map(drop)
}
