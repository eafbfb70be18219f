//! Queuing a message to send: it is written to the outbox in the caller's transaction (with
//! the change that causes it), split into Instagram-sized messages, sealed; the sender
//! ([`super::sender`]) delivers it afterwards.

use crate::config::Config;
use crate::db::conversations::Author;
use crate::db::outbox::{self, NewOutgoing};
use crate::db::{now_millis, DoctorId, TenantTx};
use crate::domain::outgoing::{split_text, Extras, MAX_TEXT_BYTES};

/// Queues `text` (with `extras` on its last part) from `author`; the ids of the messages.
pub async fn queue(
    tx: &mut TenantTx,
    config: &Config,
    doctor: &DoctorId,
    conversation_id: &str,
    author: Author,
    text: &str,
    extras: Extras,
) -> Result<Vec<String>, sqlx::Error> {
    let parts = split_text(text, MAX_TEXT_BYTES);
    let extras = extras.within_limits();
    let seal = |text: &str| {
        config
            .token_keys
            .seal_bytes(doctor.as_str(), text.as_bytes())
    };
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
        ids.push(outbox::queue(tx, &message).await?);
    }
    Ok(ids)
}
