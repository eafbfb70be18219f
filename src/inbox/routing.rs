//! The worker's first step: stored deliveries become events, each routed to its doctor by
//! the business account it was sent to, and nothing else. Meta's dashboard test (`entry.id`
//! "0") is logged and dropped; a part for an account no doctor linked, or one that cannot be
//! read, becomes a dead letter. A delivery may hold several doctors and unknown accounts:
//! each part goes its own way.
//!
//! A batch of deliveries is written in a few transactions (one per doctor, then one for the
//! dead letters and the marks that the deliveries are split), not one per part: on SQLite
//! every commit waits for the disk, and the webhook's own commits wait behind the worker's.
//! Splitting a batch twice (a crash between its transactions) changes nothing: events are
//! unique per doctor by their key, dead letters per part of a delivery.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::config::Config;
use crate::db::conversations::{self, NewEvent};
use crate::db::deliveries::{self, DeadReason, NewDeadLetter};
use crate::db::{now_millis, Db, DoctorId};
use crate::error::AppError;
use crate::meta::delivery::{self, Event, Part};

/// What splitting a batch did, for the log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub routed: usize,
    pub duplicates: usize,
    pub dead: usize,
    pub tests: usize,
}

/// A batch being split: events by doctor, dead letters, and the doctors already looked up.
struct Batch<'a> {
    config: &'a Config,
    by_doctor: BTreeMap<String, (DoctorId, Vec<(Event, Value)>)>,
    letters: Vec<NewDeadLetter>,
    doctors: HashMap<String, Option<DoctorId>>,
    /// Whether each unlinked account was disconnected, as looked up in this batch.
    disconnected: HashMap<String, bool>,
    split: Split,
}

/// Splits `bodies` (stored deliveries: id and opened body) into events for their doctors.
pub async fn split_batch(
    db: &Db,
    config: &Config,
    bodies: &[(String, Vec<u8>)],
) -> Result<Split, AppError> {
    let mut batch = Batch {
        config,
        by_doctor: BTreeMap::new(),
        letters: Vec::new(),
        doctors: HashMap::new(),
        disconnected: HashMap::new(),
        split: Split::default(),
    };
    for (delivery_id, body) in bodies {
        batch.add(db, delivery_id, body).await?;
    }
    let now = now_millis();
    for (doctor, events) in batch.by_doctor.into_values() {
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
                batch.split.routed += 1;
            } else {
                batch.split.duplicates += 1;
            }
        }
        tx.commit().await?;
    }
    let processed: Vec<String> = bodies.iter().map(|(id, _)| id.clone()).collect();
    deliveries::finish(db, &batch.letters, &processed, now).await?;
    Ok(batch.split)
}

impl Batch<'_> {
    async fn add(&mut self, db: &Db, delivery_id: &str, body: &[u8]) -> Result<(), AppError> {
        let parts = match delivery::split(body) {
            Ok(parts) => parts,
            Err(why) => {
                tracing::warn!(delivery_id, %why, "webhook delivery unreadable: dead-lettered");
                let letter = (delivery_id, 0, "", DeadReason::Unparseable, Some(why.0));
                self.letter(letter, body);
                return Ok(());
            }
        };
        for part in parts {
            if part.entry_id == "0" {
                tracing::info!(delivery_id, "Meta's test delivery received and dropped");
                self.split.tests += 1;
                continue;
            }
            let body = single_part_body(&part);
            let (reason, error) = match part.event {
                Ok(event) => match self.doctor_of(db, &event).await? {
                    Some(doctor) => {
                        self.by_doctor
                            .entry(doctor.as_str().to_owned())
                            .or_insert_with(|| (doctor, Vec::new()))
                            .1
                            .push((event, body));
                        continue;
                    }
                    None => (self.unlinked(db, &part.entry_id).await?, None),
                },
                Err(why) => (DeadReason::Unparseable, Some(why.0)),
            };
            tracing::warn!(delivery_id, account_id = %part.entry_id, reason = reason.key(), "webhook event dead-lettered");
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let letter = (
                delivery_id,
                part.position,
                part.entry_id.as_str(),
                reason,
                error,
            );
            self.letter(letter, &bytes);
        }
        Ok(())
    }

    /// Adds a dead letter: (delivery, position, account, reason, error), and its body.
    fn letter(
        &mut self,
        (delivery_id, position, account_id, reason, error): (
            &str,
            u32,
            &str,
            DeadReason,
            Option<String>,
        ),
        body: &[u8],
    ) {
        let id = crate::db::new_id();
        let event = self.config.token_keys.seal_bytes(&id, body);
        self.letters.push(NewDeadLetter {
            id,
            delivery_id: delivery_id.to_owned(),
            position,
            reason,
            account_id: account_id.to_owned(),
            event,
            error,
        });
        self.split.dead += 1;
    }

    /// Why nobody took an event for `account_id`: its doctor disconnected it, or no doctor
    /// ever linked it.
    async fn unlinked(&mut self, db: &Db, account_id: &str) -> Result<DeadReason, AppError> {
        let disconnected = match self.disconnected.get(account_id) {
            Some(known) => *known,
            None => {
                let found = crate::db::instagram::was_disconnected(db, account_id).await?;
                self.disconnected.insert(account_id.to_owned(), found);
                found
            }
        };
        Ok(if disconnected {
            DeadReason::Disconnected
        } else {
            DeadReason::UnknownAccount
        })
    }

    /// The doctor who linked the account the event was sent to (or, failing that, one of the
    /// other ids it names: the Page id, say). `None`: nobody's.
    async fn doctor_of(&mut self, db: &Db, event: &Event) -> Result<Option<DoctorId>, AppError> {
        for id in std::iter::once(&event.account_id).chain(&event.fallback_ids) {
            if id.is_empty() {
                continue;
            }
            let doctor = match self.doctors.get(id) {
                Some(known) => known.clone(),
                None => {
                    let found = crate::db::instagram::doctor_for(db, id).await?;
                    self.doctors.insert(id.clone(), found.clone());
                    found
                }
            };
            if doctor.is_some() {
                return Ok(doctor);
            }
        }
        Ok(None)
    }
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
