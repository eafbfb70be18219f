//! The worker's first step: a stored delivery becomes events, each routed to its doctor by
//! the business account it was sent to, and nothing else. Meta's dashboard test (`entry.id`
//! "0") is logged and dropped; a part for an account no doctor linked, or one that cannot be
//! read, becomes a dead letter. A delivery may hold several doctors and unknown accounts:
//! each part goes its own way.
//!
//! Splitting a delivery twice (a crash between the steps) changes nothing: events are unique
//! per doctor by their key, dead letters per part of a delivery.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::config::Config;
use crate::db::conversations::{self, NewEvent};
use crate::db::deliveries::{self, DeadReason, NewDeadLetter};
use crate::db::{now_millis, Db, DoctorId};
use crate::error::AppError;
use crate::meta::delivery::{self, Event, Part};

/// What splitting one delivery did, for the log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub routed: usize,
    pub duplicates: usize,
    pub dead: usize,
    pub tests: usize,
}

/// Splits the delivery `body` (stored as `delivery_id`) into events for their doctors.
pub async fn split_delivery(
    db: &Db,
    config: &Config,
    delivery_id: &str,
    body: &[u8],
) -> Result<Split, AppError> {
    let mut split = Split::default();
    let parts = match delivery::split(body) {
        Ok(parts) => parts,
        Err(why) => {
            tracing::warn!(delivery_id, %why, "webhook delivery unreadable: dead-lettered");
            let letter = Letter {
                delivery_id,
                position: 0,
                account_id: "",
                reason: DeadReason::Unparseable,
                error: Some(&why.0),
            };
            letter.store(db, config, body).await?;
            split.dead += 1;
            return Ok(split);
        }
    };
    let mut by_doctor: BTreeMap<String, (DoctorId, Vec<(Event, Value)>)> = BTreeMap::new();
    for part in parts {
        if part.entry_id == "0" {
            tracing::info!(delivery_id, "Meta's test delivery received and dropped");
            split.tests += 1;
            continue;
        }
        let body = single_part_body(&part);
        let (reason, error) = match part.event {
            Ok(event) => match doctor_of(db, &event).await? {
                Some(doctor) => {
                    by_doctor
                        .entry(doctor.as_str().to_owned())
                        .or_insert_with(|| (doctor, Vec::new()))
                        .1
                        .push((event, body));
                    continue;
                }
                None => (DeadReason::UnknownAccount, None),
            },
            Err(why) => (DeadReason::Unparseable, Some(why.0)),
        };
        let letter = Letter {
            delivery_id,
            position: part.position,
            account_id: &part.entry_id,
            reason,
            error: error.as_deref(),
        };
        let body = serde_json::to_vec(&body).unwrap_or_default();
        letter.store(db, config, &body).await?;
        tracing::warn!(delivery_id, account_id = %part.entry_id, reason = reason.key(), "webhook event dead-lettered");
        split.dead += 1;
    }
    let now = now_millis();
    for (doctor, events) in by_doctor.into_values() {
        let mut tx = db.tenant_writer(&doctor).await?;
        for (event, body) in &events {
            let conversation_id =
                conversations::open(&mut tx, &event.account_id, &event.patient_id, now).await?;
            let body = serde_json::to_vec(body).unwrap_or_default();
            let sealed = config.token_keys.seal_bytes(doctor.as_str(), &body);
            let new = conversations::add_event(
                &mut tx,
                &NewEvent {
                    conversation_id: &conversation_id,
                    dedupe_key: &event.dedupe_key(),
                    kind: event.kind_name(),
                    standby: event.standby,
                    occurred_at: event.occurred_at,
                    event: &sealed,
                    now,
                },
            )
            .await?;
            if new {
                split.routed += 1;
            } else {
                split.duplicates += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(split)
}

/// The doctor who linked the account the event was sent to (or, failing that, one of the
/// other ids it names: the Page id, say). `None`: nobody's.
async fn doctor_of(db: &Db, event: &Event) -> Result<Option<DoctorId>, sqlx::Error> {
    for id in std::iter::once(&event.account_id).chain(&event.fallback_ids) {
        if id.is_empty() {
            continue;
        }
        if let Some(doctor) = crate::db::instagram::doctor_for(db, id).await? {
            return Ok(Some(doctor));
        }
    }
    Ok(None)
}

/// One part as a delivery of its own, as Meta would have sent it alone: what is stored for an
/// event or a dead letter, so a replay or the apply step reads it with the same parser.
fn single_part_body(part: &Part) -> Value {
    json!({
        "object": "instagram",
        "entry": [{
            "id": part.entry_id,
            "time": part.entry_time,
            part.container.key(): [part.raw],
        }],
    })
}

/// A part of a delivery on its way to the dead letters.
struct Letter<'a> {
    delivery_id: &'a str,
    position: u32,
    account_id: &'a str,
    reason: DeadReason,
    error: Option<&'a str>,
}

impl Letter<'_> {
    async fn store(&self, db: &Db, config: &Config, body: &[u8]) -> Result<(), sqlx::Error> {
        let id = crate::db::new_id();
        let sealed = config.token_keys.seal_bytes(&id, body);
        deliveries::add_dead_letter(
            db,
            &NewDeadLetter {
                id: &id,
                delivery_id: self.delivery_id,
                position: self.position,
                reason: self.reason,
                account_id: self.account_id,
                event: &sealed,
                error: self.error,
            },
        )
        .await
    }
}
