//! The sender: delivers each conversation's queued messages in order through Meta's Send
//! API. Work is claimed with a lease like the inbox worker's. Meta's answers decide what
//! happens next (reference §6.2): a rejected token flags the link for reconnecting and stops
//! sending for that doctor; a closed 24-hour window, a person who is not available or not
//! found make the message undeliverable with the reason shown to the doctor; a rate limit
//! pauses that account only; anything temporary is tried again with growing pauses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;

use crate::config::Config;
use crate::db::outbox::{self, Sending};
use crate::db::{now_millis, Db, DoctorId, TenantTx};
use crate::domain::outgoing::Extras;
use crate::error::AppError;
use crate::meta::send_api::{Outgoing, SendApi, SendError};

/// Tries before a message is given up as undeliverable.
pub const MAX_ATTEMPTS: i64 = 6;
/// The 24-hour window, and the 7 days `HUMAN_AGENT` allows.
const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
const HUMAN_AGENT_WINDOW_MS: i64 = 7 * WINDOW_MS;
/// Meta allows about 100 sends a second per Instagram account.
const SENDS_PER_SECOND: u32 = 100;
/// How often a message waiting for the doctor to reconnect looks again.
const RECONNECT_CHECK_MS: i64 = 60_000;
/// How long a rate-limited account pauses.
const RATE_LIMIT_PAUSE_MS: i64 = 60_000;
/// How long a claim holds before another sender may take the work over (after a crash).
const LEASE: Duration = Duration::from_secs(15);
const MESSAGES_PER_CLAIM: usize = 50;
/// Conversations of one doctor whose sends are recorded in shared transactions (the worker's
/// reason: on SQLite each commit waits for the disk).
const PER_TRANSACTION: usize = 16;
const POLL: Duration = Duration::from_millis(500);
const BATCH: i64 = 32;

/// Sends until the task is dropped.
pub async fn run(db: Db, config: Arc<Config>, api: Arc<SendApi>) {
    let limiter = Arc::new(RateLimiter::default());
    super::rounds::repeat("sender", POLL, || send_once(&db, &config, &api, &limiter)).await;
}

/// One round: every conversation with messages due; how many conversations.
pub async fn send_once(
    db: &Db,
    config: &Arc<Config>,
    api: &Arc<SendApi>,
    limiter: &Arc<RateLimiter>,
) -> Result<usize, AppError> {
    let due = outbox::claim(db, now_millis(), LEASE, BATCH).await?;
    let groups = super::rounds::by_doctor(due, PER_TRANSACTION);
    Ok(super::rounds::each("sender", groups, |doctor, conversation_ids| {
        let (db, config, api, limiter) = (db.clone(), config.clone(), api.clone(), limiter.clone());
        async move { send_together(&db, &config, &api, &limiter, &doctor, &conversation_ids).await }
    })
    .await)
}

/// Sends the due messages of `conversation_ids` (all `doctor`'s), each conversation's in
/// order: the next message of every conversation at once, then the next, and so on; then
/// gives the conversations back. Each step is recorded for all of them in one transaction.
async fn send_together(
    db: &Db,
    config: &Config,
    api: &SendApi,
    limiter: &RateLimiter,
    doctor: &DoctorId,
    conversation_ids: &[String],
) -> Result<(), AppError> {
    let mut going: Vec<&str> = conversation_ids.iter().map(String::as_str).collect();
    for _ in 0..MESSAGES_PER_CLAIM {
        if going.is_empty() {
            break;
        }
        let now = now_millis();
        let mut tx = db.tenant_writer(doctor).await?;
        let link = outbox::link(&mut tx).await?;
        let mut ready = Vec::new();
        let mut next = Vec::new();
        for conversation_id in going {
            match prepare(
                &mut tx,
                config,
                limiter,
                link.as_ref(),
                conversation_id,
                now,
            )
            .await?
            {
                Step::Send(message) => ready.push(message),
                Step::Next => next.push(conversation_id),
                Step::Stop => {}
            }
        }
        tx.commit().await?;
        if !ready.is_empty() {
            let results = futures::future::join_all(ready.iter().map(|r| r.send(api))).await;
            let mut tx = db.tenant_writer(doctor).await?;
            for (message, result) in ready.iter().zip(results) {
                if settle(&mut tx, message, result).await? {
                    next.push(message.conversation_id);
                }
            }
            tx.commit().await?;
        }
        going = next;
    }
    let mut tx = db.tenant_writer(doctor).await?;
    for conversation_id in conversation_ids {
        outbox::release(&mut tx, conversation_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What to do with a conversation's next message.
enum Step<'a> {
    /// Marked as being sent: send it now.
    Send(Ready<'a>),
    /// Settled without sending (undeliverable): go on with the next message.
    Next,
    /// Nothing due now (none left, or it waits for a retry): the conversation is done.
    Stop,
}

/// A message marked as being sent, with all that sending it takes.
struct Ready<'a> {
    conversation_id: &'a str,
    message_id: String,
    attempts: i64,
    recipient: String,
    text: String,
    extras: Extras,
    human_agent: bool,
    page_id: String,
    token: SecretString,
    now: i64,
}

impl Ready<'_> {
    async fn send(&self, api: &SendApi) -> Result<String, SendError> {
        let outgoing = Outgoing {
            recipient: &self.recipient,
            text: &self.text,
            extras: &self.extras,
            human_agent: self.human_agent,
        };
        api.send(&self.page_id, &self.token, &outgoing).await
    }
}

/// Looks at the conversation's next message: marks it as being sent through the doctor's
/// `link` if it may go now, else settles it (undeliverable, or tried again later).
async fn prepare<'a>(
    tx: &mut TenantTx,
    config: &Config,
    limiter: &RateLimiter,
    link: Option<&outbox::SendingLink>,
    conversation_id: &'a str,
    now: i64,
) -> Result<Step<'a>, AppError> {
    let Some(message) = outbox::next_queued(tx, conversation_id).await? else {
        return Ok(Step::Stop);
    };
    if message.next_attempt_at > now {
        return Ok(Step::Stop);
    }
    let (doctor, id) = (tx.doctor().clone(), message.id.as_str());
    let Some(link) = link else {
        let why = "Not sent: Instagram is not connected.";
        outbox::settle(tx, id, Sending::Undeliverable { why }).await?;
        return Ok(Step::Next);
    };
    let retry_at = if link.token_rejected {
        // Sends stop until the doctor reconnects; the message waits, looked at again later.
        Some(now + RECONNECT_CHECK_MS)
    } else if let Some(until) = link.paused_until.filter(|until| *until > now) {
        Some(until)
    } else if !limiter.admit(&link.page_id, now) {
        Some(now + 1000)
    } else {
        None
    };
    if let Some(at) = retry_at {
        outbox::settle(tx, id, Sending::RetryAt(at)).await?;
        return Ok(Step::Stop);
    }
    let window = Window::at(config, message.last_inbound_at, now, message.human_agent);
    if window == Window::Closed {
        let why = SendError::OutsideWindow.for_doctor();
        outbox::settle(tx, id, Sending::Undeliverable { why: &why }).await?;
        tracing::info!(doctor_id = %doctor, conversation_id, message_id = %id, "message outside the window: not sent");
        return Ok(Step::Next);
    }
    let keys = &config.token_keys;
    let opened = (|| {
        let text = keys.open_text(doctor.as_str(), &message.text)?;
        let extras = match &message.extras {
            Some(sealed) => {
                serde_json::from_str(&keys.open_text(doctor.as_str(), sealed)?).unwrap_or_default()
            }
            None => Extras::default(),
        };
        Ok::<_, crate::crypto::seal::SealError>((text, extras))
    })();
    let ((text, extras), token) = match (opened, page_token(config, &doctor, link)) {
        (Ok(opened), Ok(token)) => (opened, token),
        (Err(error), _) => {
            // The server's keys no longer open it: looked at again later, after a key fix.
            tracing::error!(doctor_id = %doctor, conversation_id, message_id = %id, %error, "outgoing message does not open");
            outbox::settle(tx, id, Sending::RetryAt(now + RECONNECT_CHECK_MS)).await?;
            return Ok(Step::Stop);
        }
        (_, Err(error)) => {
            tracing::error!(doctor_id = %doctor, conversation_id, message_id = %id, %error, "the link's token does not open");
            outbox::settle(tx, id, Sending::RetryAt(now + RECONNECT_CHECK_MS)).await?;
            return Ok(Step::Stop);
        }
    };
    outbox::settle(tx, id, Sending::Started).await?;
    Ok(Step::Send(Ready {
        conversation_id,
        message_id: message.id,
        attempts: message.attempts,
        recipient: message.recipient,
        text,
        extras,
        human_agent: window == Window::HumanAgent,
        page_id: link.page_id.clone(),
        token,
        now,
    }))
}

/// Records Meta's answer to a send; whether to go on with the conversation's next message.
async fn settle(
    tx: &mut TenantTx,
    message: &Ready<'_>,
    result: Result<String, SendError>,
) -> Result<bool, AppError> {
    let (id, now) = (message.message_id.as_str(), message.now);
    let go_on = match &result {
        Ok(mid) => {
            outbox::settle(tx, id, Sending::Sent { mid }).await?;
            true
        }
        Err(SendError::TokenRejected) => {
            outbox::flag_token_rejected(tx).await?;
            let at = now + RECONNECT_CHECK_MS;
            outbox::settle(tx, id, Sending::RetryAt(at)).await?;
            false
        }
        Err(SendError::RateLimited(_)) => {
            let until = now_millis() + RATE_LIMIT_PAUSE_MS;
            outbox::pause_sends(tx, until).await?;
            outbox::settle(tx, id, Sending::RetryAt(until)).await?;
            false
        }
        Err(SendError::Temporary(_)) if message.attempts + 1 < MAX_ATTEMPTS => {
            let at = now_millis() + 1000 * 2_i64.pow(u32::try_from(message.attempts).unwrap_or(5));
            outbox::settle(tx, id, Sending::RetryAt(at)).await?;
            false
        }
        Err(error) => {
            let why = error.for_doctor();
            outbox::settle(tx, id, Sending::Undeliverable { why: &why }).await?;
            true
        }
    };
    let (doctor, conversation_id) = (tx.doctor(), message.conversation_id);
    match result {
        Ok(_) => {
            tracing::info!(doctor_id = %doctor, conversation_id, message_id = %id, "message sent")
        }
        Err(error) => {
            tracing::warn!(doctor_id = %doctor, conversation_id, message_id = %id, %error, "message not sent")
        }
    }
    Ok(go_on)
}

/// Tells the patient the doctor has seen their messages, as Instagram shows it. Best effort:
/// a lost read receipt harms nobody, so it is not queued; nothing is sent outside the 24-hour
/// window or while the link cannot send.
pub async fn mark_seen(
    db: &Db,
    config: &Config,
    api: &SendApi,
    doctor: &DoctorId,
    recipient: &str,
    last_inbound_at: Option<i64>,
) -> Result<(), AppError> {
    let now = now_millis();
    if Window::at(config, last_inbound_at, now, false) != Window::Open {
        return Ok(());
    }
    let mut tx = db.tenant(doctor).await?;
    let link = outbox::link(&mut tx).await?;
    tx.commit().await?;
    let Some(link) = link
        .filter(|link| !link.token_rejected && link.paused_until.is_none_or(|until| until <= now))
    else {
        return Ok(());
    };
    let token = page_token(config, doctor, &link)?;
    api.mark_seen(&link.page_id, &token, recipient)
        .await
        .map_err(|error| AppError::internal("marking seen failed", error))
}

/// The link's Page token, opened.
pub fn page_token(
    config: &Config,
    doctor: &DoctorId,
    link: &outbox::SendingLink,
) -> Result<SecretString, AppError> {
    config
        .token_keys
        .open_text(doctor.as_str(), &link.token)
        .map(SecretString::from)
        .map_err(|error| AppError::internal("stored token does not open", error))
}

/// Whether a message may go out `since_patient` ms after the patient last wrote: within the
/// 24-hour window as a plain reply, or (a person's reply, `META_HUMAN_AGENT` on) within 7 days
/// with the `HUMAN_AGENT` tag. The Inbox asks the same before it takes a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    HumanAgent,
    Closed,
}

impl Window {
    pub fn at(config: &Config, last_inbound_at: Option<i64>, now: i64, by_a_person: bool) -> Self {
        let since_patient = last_inbound_at.map_or(i64::MAX, |at| now - at);
        let human_agent = config.meta.as_ref().is_some_and(|meta| meta.human_agent);
        if since_patient <= WINDOW_MS {
            Self::Open
        } else if by_a_person && human_agent && since_patient <= HUMAN_AGENT_WINDOW_MS {
            Self::HumanAgent
        } else {
            Self::Closed
        }
    }
}

/// At most [`SENDS_PER_SECOND`] sends per account per second, in this process.
#[derive(Default)]
pub struct RateLimiter {
    seen: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    fn admit(&self, account: &str, now: i64) -> bool {
        let second = now / 1000;
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, (at, _)| *at == second);
        let (_, count) = seen.entry(account.to_owned()).or_insert((second, 0));
        *count += 1;
        *count <= SENDS_PER_SECOND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_sends_per_second_and_no_more() {
        let limiter = RateLimiter::default();
        let admitted = (0..150).filter(|_| limiter.admit("page-1", 5_000)).count();
        assert_eq!(admitted, 100);
        assert!(
            limiter.admit("page-2", 5_000),
            "other accounts are not held back"
        );
        assert!(
            limiter.admit("page-1", 6_000),
            "the next second starts afresh"
        );
    }
}
