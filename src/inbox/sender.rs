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
use crate::db::{now_millis, Db, DoctorId};
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
    Ok(
        super::rounds::each("sender", due, |doctor, conversation_id| {
            let (db, config, api, limiter) =
                (db.clone(), config.clone(), api.clone(), limiter.clone());
            async move { drain(&db, &config, &api, &limiter, &doctor, &conversation_id).await }
        })
        .await,
    )
}

/// Sends the conversation's due messages in order, then gives it back.
async fn drain(
    db: &Db,
    config: &Config,
    api: &SendApi,
    limiter: &RateLimiter,
    doctor: &DoctorId,
    conversation_id: &str,
) -> Result<(), AppError> {
    for _ in 0..MESSAGES_PER_CLAIM {
        if !send_next(db, config, api, limiter, doctor, conversation_id).await? {
            break;
        }
    }
    let mut tx = db.tenant_writer(doctor).await?;
    outbox::release(&mut tx, conversation_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends the conversation's next message if it is due; whether to go on with the next.
async fn send_next(
    db: &Db,
    config: &Config,
    api: &SendApi,
    limiter: &RateLimiter,
    doctor: &DoctorId,
    conversation_id: &str,
) -> Result<bool, AppError> {
    let now = now_millis();
    let mut tx = db.tenant_writer(doctor).await?;
    let Some(message) = outbox::next_queued(&mut tx, conversation_id).await? else {
        return Ok(false);
    };
    if message.next_attempt_at > now {
        return Ok(false);
    }
    let Some(link) = outbox::link(&mut tx).await? else {
        let why = "Not sent: Instagram is not connected.";
        outbox::settle(&mut tx, &message.id, Sending::Undeliverable { why }).await?;
        tx.commit().await?;
        return Ok(true);
    };
    if link.token_rejected {
        // Sends stop until the doctor reconnects; the message waits, looked at again later.
        outbox::settle(
            &mut tx,
            &message.id,
            Sending::RetryAt(now + RECONNECT_CHECK_MS),
        )
        .await?;
        tx.commit().await?;
        return Ok(false);
    }
    if let Some(until) = link.paused_until.filter(|until| *until > now) {
        outbox::settle(&mut tx, &message.id, Sending::RetryAt(until)).await?;
        tx.commit().await?;
        return Ok(false);
    }
    if !limiter.admit(&link.page_id, now) {
        outbox::settle(&mut tx, &message.id, Sending::RetryAt(now + 1000)).await?;
        tx.commit().await?;
        return Ok(false);
    }
    let window = Window::at(config, message.last_inbound_at, now, message.human_agent);
    if window == Window::Closed {
        let why = SendError::OutsideWindow.for_doctor();
        outbox::settle(&mut tx, &message.id, Sending::Undeliverable { why: &why }).await?;
        tx.commit().await?;
        tracing::info!(doctor_id = %doctor, conversation_id, message_id = %message.id, "message outside the window: not sent");
        return Ok(true);
    }
    let token = page_token(config, doctor, &link)?;
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
    let (text, extras) =
        opened.map_err(|error| AppError::internal("outgoing message does not open", error))?;
    outbox::settle(&mut tx, &message.id, Sending::Started).await?;
    tx.commit().await?;

    let outgoing = Outgoing {
        recipient: &message.recipient,
        text: &text,
        extras: &extras,
        human_agent: window == Window::HumanAgent,
    };
    let result = api.send(&link.page_id, &token, &outgoing).await;
    let mut tx = db.tenant_writer(doctor).await?;
    let go_on = match &result {
        Ok(mid) => {
            outbox::settle(&mut tx, &message.id, Sending::Sent { mid }).await?;
            true
        }
        Err(SendError::TokenRejected) => {
            outbox::flag_token_rejected(&mut tx).await?;
            let at = now + RECONNECT_CHECK_MS;
            outbox::settle(&mut tx, &message.id, Sending::RetryAt(at)).await?;
            false
        }
        Err(SendError::RateLimited(_)) => {
            let until = now_millis() + RATE_LIMIT_PAUSE_MS;
            outbox::pause_sends(&mut tx, until).await?;
            outbox::settle(&mut tx, &message.id, Sending::RetryAt(until)).await?;
            false
        }
        Err(SendError::Temporary(_)) if message.attempts + 1 < MAX_ATTEMPTS => {
            let at = now_millis() + 1000 * 2_i64.pow(u32::try_from(message.attempts).unwrap_or(5));
            outbox::settle(&mut tx, &message.id, Sending::RetryAt(at)).await?;
            false
        }
        Err(error) => {
            let why = error.for_doctor();
            outbox::settle(&mut tx, &message.id, Sending::Undeliverable { why: &why }).await?;
            true
        }
    };
    tx.commit().await?;
    match result {
        Ok(_) => {
            tracing::info!(doctor_id = %doctor, conversation_id, message_id = %message.id, "message sent")
        }
        Err(error) => {
            tracing::warn!(doctor_id = %doctor, conversation_id, message_id = %message.id, %error, "message not sent")
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
