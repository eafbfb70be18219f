//! Each doctor's Instagram conversations: one per patient (Instagram-scoped id) per linked
//! account, the events routed to it waiting to be applied in order, and its messages in and
//! out. Message text and attachments arrive here sealed; this module never opens them.

use std::time::Duration;

use sqlx::Row;

use super::{new_id, Backend, Db, DoctorId, Lookup, TenantTx};
use crate::crypto::seal::Sealed;

/// Finds or starts the conversation with the patient `patient_igsid` on the doctor's account
/// `account_id`, with a patient record for them; the conversation's id.
pub async fn open(
    tx: &mut TenantTx,
    account_id: &str,
    patient_igsid: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO patients (id, doctor_id, name, instagram_id, created_at, updated_at)
         VALUES ($1, $2, '', $3, $4, $4)
         ON CONFLICT (doctor_id, instagram_id) WHERE instagram_id IS NOT NULL DO NOTHING",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(patient_igsid)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let patient_id: String =
        sqlx::query("SELECT id FROM patients WHERE doctor_id = $1 AND instagram_id = $2")
            .bind(doctor.as_str())
            .bind(patient_igsid)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
    sqlx::query(
        "INSERT INTO conversations (id, doctor_id, patient_id, account_id, patient_igsid,
             last_message_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (doctor_id, account_id, patient_igsid) DO NOTHING",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(&patient_id)
    .bind(account_id)
    .bind(patient_igsid)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "SELECT id FROM conversations
         WHERE doctor_id = $1 AND account_id = $2 AND patient_igsid = $3",
    )
    .bind(doctor.as_str())
    .bind(account_id)
    .bind(patient_igsid)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// An event routed to a conversation, waiting to be applied.
pub struct NewEvent<'a> {
    pub conversation_id: &'a str,
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub standby: bool,
    pub occurred_at: i64,
    /// The event as Meta sent it, sealed for the doctor.
    pub event: &'a Sealed,
    pub now: i64,
}

/// Adds an event unless the doctor already has one with its key (Meta sends some twice);
/// whether it was new.
pub async fn add_event(tx: &mut TenantTx, event: &NewEvent<'_>) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "INSERT INTO inbound_events (id, doctor_id, conversation_id, dedupe_key, kind, standby,
             occurred_at, event_sealed, key_id, next_attempt_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (doctor_id, dedupe_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(event.conversation_id)
    .bind(event.dedupe_key)
    .bind(event.kind)
    .bind(i64::from(event.standby))
    .bind(event.occurred_at)
    .bind(&event.event.value)
    .bind(&event.event.key_id)
    .bind(event.now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims up to `limit` conversations with events due, for `lease`, across doctors: each is
/// then worked on by this worker alone, in its doctor's own transactions.
pub async fn claim(
    db: &Db,
    now: i64,
    lease: Duration,
    limit: i64,
) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    INBOX_WORK.claim(db, now, lease, limit).await
}

const INBOX_WORK: Work = Work {
    lookup: Lookup::InboxWork,
    lease_column: "lease_until",
    due: "SELECT 1 FROM inbound_events e WHERE e.conversation_id = c.id
              AND e.state = 'pending' AND e.next_attempt_at <= $2",
};

/// Work on conversations that workers claim with a lease of their own: the lookup that sees
/// every doctor's conversations, the column holding the lease, and what makes one due (a
/// subquery on `c`, the conversation, at `$2`, now).
pub(super) struct Work {
    pub lookup: Lookup,
    pub lease_column: &'static str,
    pub due: &'static str,
}

impl Work {
    /// Claims up to `limit` due conversations for `lease`; on PostgreSQL rows another worker is
    /// claiming are skipped, not waited for. `(doctor, conversation id)` each.
    pub async fn claim(
        &self,
        db: &Db,
        now: i64,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
        let skip_locked = match db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let (lease_column, due) = (self.lease_column, self.due);
        let sql = format!(
            "UPDATE conversations SET {lease_column} = $1
             WHERE id IN (SELECT c.id FROM conversations c
                          WHERE (c.{lease_column} IS NULL OR c.{lease_column} < $2)
                            AND EXISTS ({due})
                          LIMIT $3 {skip_locked})
               AND ({lease_column} IS NULL OR {lease_column} < $2)
             RETURNING doctor_id, id"
        );
        let mut tx = db.lookup_writer(self.lookup, "on").await?;
        let rows = sqlx::query(&sql)
            .bind(now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        super::doctors_and_ids(&rows)
    }

    /// Gives a claimed conversation back.
    pub async fn release(
        &self,
        tx: &mut TenantTx,
        conversation_id: &str,
    ) -> Result<(), sqlx::Error> {
        let (conn, doctor) = tx.parts();
        let sql = format!(
            "UPDATE conversations SET {} = NULL WHERE doctor_id = $1 AND id = $2",
            self.lease_column
        );
        sqlx::query(&sql)
            .bind(doctor.as_str())
            .bind(conversation_id)
            .execute(conn)
            .await
            .map(drop)
    }
}

/// A conversation's patient profile is looked up while its username is unknown (NULL; an
/// empty one means Meta will not tell), three tries at most.
const PROFILE_WORK: Work = Work {
    lookup: Lookup::InboxWork,
    lease_column: "profile_lease_until",
    due: "SELECT 1 WHERE c.username IS NULL AND c.profile_attempts < 3",
};

/// Claims up to `limit` conversations whose patient's profile is still to be looked up,
/// for `lease`: until then no other lookup of theirs starts (a failed one is tried again
/// after it).
pub async fn claim_profiles(
    db: &Db,
    now: i64,
    lease: Duration,
    limit: i64,
) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    PROFILE_WORK.claim(db, now, lease, limit).await
}

/// Counts a try at the conversation's patient profile; the patient's Instagram-scoped id.
pub async fn start_profile(
    tx: &mut TenantTx,
    conversation_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "UPDATE conversations SET profile_attempts = profile_attempts + 1
         WHERE doctor_id = $1 AND id = $2 RETURNING patient_igsid",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| row.try_get("patient_igsid")).transpose()
}

/// What Meta told of the conversation's patient: the @username (empty if none), and the
/// name, which the patient record takes unless it already has one.
pub async fn set_profile(
    tx: &mut TenantTx,
    conversation_id: &str,
    name: Option<&str>,
    username: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE conversations SET username = $3 WHERE doctor_id = $1 AND id = $2")
        .bind(doctor.as_str())
        .bind(conversation_id)
        .bind(username)
        .execute(&mut *conn)
        .await?;
    let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE patients SET name = $3, updated_at = $4
         WHERE doctor_id = $1 AND name = ''
           AND id = (SELECT patient_id FROM conversations WHERE doctor_id = $1 AND id = $2)",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .bind(name)
    .bind(now)
    .execute(conn)
    .await
    .map(drop)
}

/// Gives a claimed conversation back.
pub async fn release(tx: &mut TenantTx, conversation_id: &str) -> Result<(), sqlx::Error> {
    INBOX_WORK.release(tx, conversation_id).await
}

/// A routed event, as stored.
pub struct PendingEvent {
    pub id: String,
    pub kind: String,
    pub event: Sealed,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

/// The conversation's earliest event not yet applied (due or not: later ones wait for it).
pub async fn next_event(
    tx: &mut TenantTx,
    conversation_id: &str,
) -> Result<Option<PendingEvent>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "SELECT id, kind, event_sealed, key_id, attempts, next_attempt_at
         FROM inbound_events
         WHERE doctor_id = $1 AND conversation_id = $2 AND state = 'pending'
         ORDER BY occurred_at, id LIMIT 1",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(PendingEvent {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            event: Sealed {
                value: row.try_get("event_sealed")?,
                key_id: row.try_get("key_id")?,
            },
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
        })
    })
    .transpose()
}

/// Where an event stands after an attempt to apply it.
pub enum EventOutcome {
    Applied,
    /// Failed; tried again at this instant.
    RetryAt(i64),
    /// Failed too often: dead-lettered.
    Failed,
}

pub async fn settle_event(
    tx: &mut TenantTx,
    event_id: &str,
    outcome: EventOutcome,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let (state, next_attempt_at, tried) = match outcome {
        EventOutcome::Applied => ("applied", None, 0),
        EventOutcome::RetryAt(at) => ("pending", Some(at), 1),
        EventOutcome::Failed => ("failed", None, 1),
    };
    sqlx::query(
        "UPDATE inbound_events
         SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), attempts = attempts + $3
         WHERE doctor_id = $4 AND id = $5",
    )
    .bind(state)
    .bind(next_attempt_at)
    .bind(tried)
    .bind(doctor.as_str())
    .bind(event_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Author {
    Patient,
    Assistant,
    /// The doctor or their team: from the dashboard, or from the Instagram app.
    Doctor,
}

impl Author {
    pub fn key(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Assistant => "assistant",
            Self::Doctor => "doctor",
        }
    }
}

/// A message about to be stored; text and attachments sealed for the doctor with `key_id`.
pub struct NewMessage<'a> {
    pub conversation_id: &'a str,
    pub mid: Option<&'a str>,
    pub author: Author,
    pub kind: &'a str,
    pub text: Option<&'a Sealed>,
    pub attachments: Option<&'a Sealed>,
    pub attachment_kind: Option<&'a str>,
    pub sent_at: i64,
    pub delivery: &'a str,
    pub standby: bool,
    pub now: i64,
}

/// Stores a message unless the doctor has one with its mid; whether it was new.
pub async fn add_message(tx: &mut TenantTx, message: &NewMessage<'_>) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let key_id = message
        .text
        .or(message.attachments)
        .map(|s| s.key_id.as_str());
    let done = sqlx::query(
        "INSERT INTO messages (id, doctor_id, conversation_id, mid, author, kind, text_sealed,
             attachments_sealed, attachment_kind, key_id, sent_at, delivery, standby, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (doctor_id, mid) WHERE mid IS NOT NULL DO NOTHING",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(message.conversation_id)
    .bind(message.mid)
    .bind(message.author.key())
    .bind(message.kind)
    .bind(message.text.map(|s| s.value.as_str()))
    .bind(message.attachments.map(|s| s.value.as_str()))
    .bind(message.attachment_kind)
    .bind(key_id)
    .bind(message.sent_at)
    .bind(message.delivery)
    .bind(i64::from(message.standby))
    .bind(message.now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The patient wrote at `at`: the conversation moves up, counts one more unread message and,
/// unless `echo`-like, reopens the 24-hour window.
pub async fn record_inbound(
    tx: &mut TenantTx,
    conversation_id: &str,
    at: i64,
    unread: bool,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE conversations SET
             last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < $1
                                    THEN $1 ELSE last_inbound_at END,
             last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END,
             unread = unread + $2
         WHERE doctor_id = $3 AND id = $4",
    )
    .bind(at)
    .bind(i64::from(unread))
    .bind(doctor.as_str())
    .bind(conversation_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Someone on the doctor's side wrote at `at` (the window stays as it is).
pub async fn record_outbound(
    tx: &mut TenantTx,
    conversation_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE conversations SET
             last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END
         WHERE doctor_id = $2 AND id = $3",
    )
    .bind(at)
    .bind(doctor.as_str())
    .bind(conversation_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Pauses (or resumes) the assistant in a conversation; `needs_human` marks it "Needs you".
pub async fn set_paused(
    tx: &mut TenantTx,
    conversation_id: &str,
    paused: bool,
    needs_human: bool,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE conversations SET assistant_paused = $1, needs_human = $2
         WHERE doctor_id = $3 AND id = $4",
    )
    .bind(i64::from(paused))
    .bind(i64::from(needs_human))
    .bind(doctor.as_str())
    .bind(conversation_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks our own message with this mid delivered (its echo came back); whether one was ours.
pub async fn mark_echoed(tx: &mut TenantTx, mid: &str) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let found = sqlx::query(
        "SELECT delivery FROM messages
         WHERE doctor_id = $1 AND mid = $2 AND author <> 'patient'",
    )
    .bind(doctor.as_str())
    .bind(mid)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(found) = found else {
        return Ok(false);
    };
    let delivery: String = found.try_get("delivery")?;
    if matches!(delivery.as_str(), "queued" | "sent") {
        sqlx::query("UPDATE messages SET delivery = 'delivered' WHERE doctor_id = $1 AND mid = $2")
            .bind(doctor.as_str())
            .bind(mid)
            .execute(conn)
            .await?;
    }
    Ok(true)
}

/// The patient unsent `mid`: its content is dropped and it shows as deleted. Whether it was
/// there (when not, the caller stores a tombstone so the message cannot arrive after).
pub async fn mark_unsent(tx: &mut TenantTx, mid: &str) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE messages SET delivery = 'deleted', text_sealed = NULL,
             attachments_sealed = NULL, attachment_kind = NULL
         WHERE doctor_id = $1 AND mid = $2 AND author = 'patient'",
    )
    .bind(doctor.as_str())
    .bind(mid)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The patient saw our messages up to `mid`.
pub async fn mark_read(
    tx: &mut TenantTx,
    conversation_id: &str,
    mid: &str,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE messages SET delivery = 'read'
         WHERE doctor_id = $1 AND conversation_id = $2 AND author <> 'patient'
           AND delivery IN ('sent', 'delivered')
           AND sent_at <= (SELECT sent_at FROM messages WHERE doctor_id = $1 AND mid = $3)",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .bind(mid)
    .execute(conn)
    .await
    .map(drop)
}

/// The patient reacted to `mid` (`None`: took the reaction back).
pub async fn set_reaction(
    tx: &mut TenantTx,
    mid: &str,
    reaction: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE messages SET reaction = $1 WHERE doctor_id = $2 AND mid = $3")
        .bind(reaction)
        .bind(doctor.as_str())
        .bind(mid)
        .execute(conn)
        .await
        .map(drop)
}

/// The patient edited `mid`: its new text, sealed.
pub async fn replace_text(tx: &mut TenantTx, mid: &str, text: &Sealed) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE messages SET text_sealed = $1, key_id = $2
         WHERE doctor_id = $3 AND mid = $4 AND author = 'patient' AND attachments_sealed IS NULL",
    )
    .bind(&text.value)
    .bind(&text.key_id)
    .bind(doctor.as_str())
    .bind(mid)
    .execute(conn)
    .await
    .map(drop)
}

/// A conversation as the Inbox lists it; the last message's text stays sealed.
pub struct StoredConversation {
    pub id: String,
    pub patient_id: String,
    /// The patient's Instagram-scoped id.
    pub patient_igsid: String,
    pub patient_name: String,
    pub username: Option<String>,
    pub last_message_at: i64,
    pub last_inbound_at: Option<i64>,
    pub unread: i64,
    pub assistant_paused: bool,
    pub needs_human: bool,
    pub last_text: Option<Sealed>,
    pub last_kind: Option<String>,
}

const CONVERSATION: &str =
    "SELECT c.id, c.patient_id, c.patient_igsid, p.name AS patient_name, c.username, c.last_message_at,
        c.last_inbound_at, c.unread, c.assistant_paused, c.needs_human,
        (SELECT m.text_sealed FROM messages m WHERE m.conversation_id = c.id
             AND m.doctor_id = c.doctor_id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) AS last_text,
        (SELECT m.key_id FROM messages m WHERE m.conversation_id = c.id
             AND m.doctor_id = c.doctor_id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) AS last_key,
        (SELECT m.kind FROM messages m WHERE m.conversation_id = c.id
             AND m.doctor_id = c.doctor_id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) AS last_kind
    FROM conversations c JOIN patients p ON p.id = c.patient_id AND p.doctor_id = c.doctor_id";

fn read_conversation(row: &sqlx::any::AnyRow) -> Result<StoredConversation, sqlx::Error> {
    let last_text: Option<String> = row.try_get("last_text")?;
    let last_key: Option<String> = row.try_get("last_key")?;
    Ok(StoredConversation {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        patient_igsid: row.try_get("patient_igsid")?,
        patient_name: row.try_get("patient_name")?,
        username: row.try_get("username")?,
        last_message_at: row.try_get("last_message_at")?,
        last_inbound_at: row.try_get("last_inbound_at")?,
        unread: row.try_get("unread")?,
        assistant_paused: row.try_get::<i64, _>("assistant_paused")? != 0,
        needs_human: row.try_get::<i64, _>("needs_human")? != 0,
        last_text: last_text
            .zip(last_key)
            .map(|(value, key_id)| Sealed { value, key_id }),
        last_kind: row.try_get("last_kind")?,
    })
}

/// The doctor's conversations, newest first; only those that need the doctor if `needs_you`.
pub async fn list(
    tx: &mut TenantTx,
    needs_you: bool,
    limit: i64,
) -> Result<Vec<StoredConversation>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let sql = format!(
        "{CONVERSATION} WHERE c.doctor_id = $1
             AND ($2 = 0 OR c.assistant_paused = 1 OR c.needs_human = 1)
         ORDER BY c.last_message_at DESC, c.id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(doctor.as_str())
        .bind(i64::from(needs_you))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(read_conversation).collect()
}

pub async fn get(
    tx: &mut TenantTx,
    conversation_id: &str,
) -> Result<Option<StoredConversation>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let sql = format!("{CONVERSATION} WHERE c.doctor_id = $1 AND c.id = $2");
    let row = sqlx::query(&sql)
        .bind(doctor.as_str())
        .bind(conversation_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(read_conversation).transpose()
}

/// The doctor has seen the conversation: nothing in it is unread.
pub async fn mark_seen(tx: &mut TenantTx, conversation_id: &str) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE conversations SET unread = 0 WHERE doctor_id = $1 AND id = $2")
        .bind(doctor.as_str())
        .bind(conversation_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Unread messages over all the doctor's conversations.
pub async fn unread_total(tx: &mut TenantTx) -> Result<i64, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row =
        sqlx::query("SELECT CAST(COALESCE(SUM(unread), 0) AS BIGINT) AS n FROM conversations WHERE doctor_id = $1")
            .bind(doctor.as_str())
            .fetch_one(conn)
            .await?;
    row.try_get("n")
}

/// A message as the thread shows it; text and attachments stay sealed.
pub struct StoredMessage {
    pub id: String,
    pub author: String,
    pub kind: String,
    pub text: Option<Sealed>,
    pub attachments: Option<Sealed>,
    pub sent_at: i64,
    pub delivery: String,
    pub failure: Option<String>,
    pub reaction: Option<String>,
}

/// The conversation's latest `limit` messages, oldest first.
pub async fn messages(
    tx: &mut TenantTx,
    conversation_id: &str,
    limit: i64,
) -> Result<Vec<StoredMessage>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(
        "SELECT id, author, kind, text_sealed, attachments_sealed, key_id, sent_at, delivery,
             failure, reaction
         FROM messages WHERE doctor_id = $1 AND conversation_id = $2
         ORDER BY sent_at DESC, id DESC LIMIT $3",
    )
    .bind(doctor.as_str())
    .bind(conversation_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut messages = rows
        .iter()
        .map(|row| {
            let key_id: Option<String> = row.try_get("key_id")?;
            let sealed = |value: Option<String>| {
                value
                    .zip(key_id.clone())
                    .map(|(value, key_id)| Sealed { value, key_id })
            };
            Ok(StoredMessage {
                id: row.try_get("id")?,
                author: row.try_get("author")?,
                kind: row.try_get("kind")?,
                text: sealed(row.try_get("text_sealed")?),
                attachments: sealed(row.try_get("attachments_sealed")?),
                sent_at: row.try_get("sent_at")?,
                delivery: row.try_get("delivery")?,
                failure: row.try_get("failure")?,
                reaction: row.try_get("reaction")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    messages.reverse();
    Ok(messages)
}
