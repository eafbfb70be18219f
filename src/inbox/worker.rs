//! The inbox worker: splits stored deliveries into routed events ([`super::routing`]) and
//! applies each conversation's events in order ([`super::apply`]). Work is claimed with a
//! lease, so several app instances on one PostgreSQL database share it without applying
//! anything twice (rows another instance is claiming are skipped), and a stopped instance's
//! work is taken over when its lease runs out. Failures are tried again with growing pauses;
//! after [`MAX_ATTEMPTS`] the event goes to the dead letters and its conversation moves on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{apply, routing};
use crate::config::Config;
use crate::db::conversations::{self, EventOutcome};
use crate::db::deliveries::{self, DeadReason, DeliveryWriter, NewDeadLetter};
use crate::db::{now_millis, Db, DoctorId, TenantTx};
use crate::error::AppError;

/// Tries before a delivery or an event is given up (about four minutes of pauses).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claim holds before another worker may take the work over (after a crash, say).
/// A conversation is given back after at most [`EVENTS_PER_CLAIM`] events, well within it.
const LEASE: Duration = Duration::from_secs(15);
const EVENTS_PER_CLAIM: usize = 100;
/// Conversations of one doctor applied in one transaction. On SQLite the database has one
/// writer and each commit waits for the disk: a round commits a few times, not twice a
/// conversation; on PostgreSQL the groups run at once.
const PER_TRANSACTION: usize = 4;
/// How often the worker looks for due work when nothing new arrives (retries, leases).
const POLL: Duration = Duration::from_secs(1);
/// Deliveries split, and conversations applied, per round.
const BATCH: i64 = 64;
/// The pause before a round once the work due is done, so that deliveries arriving together
/// are split together: the worker then takes the database's writer a few times a batch, not a
/// few times a delivery, and the webhook's acknowledgements seldom wait behind it.
const GATHER: Duration = Duration::from_millis(5);
/// Acknowledgements first: while acknowledgements wait for the database (the delivery writer
/// has deliveries queued), the worker pauses this many times as long as its last round took,
/// so the webhook (and the database's one writer on SQLite) gets three quarters of the time.
/// Meta slows or drops an endpoint that acknowledges slowly; what is acknowledged is
/// committed, so the worker catches up afterwards. When no acknowledgement waits, the worker
/// goes on at full speed: a steady stream of patients' messages is answered as it arrives
/// (README, "Webhook load" and "Assistant load").
const YIELD_TO_ACKS: u32 = 3;

/// Runs until the task is dropped.
pub async fn run(db: Db, config: Arc<Config>, deliveries: DeliveryWriter) {
    let mut committed = deliveries.committed();
    loop {
        committed.borrow_and_update();
        let started = Instant::now();
        let round = work_once(&db, &config).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "inbox worker round failed");
            Round::default()
        });
        let pause = if round.more_due {
            if deliveries.waiting() == 0 {
                Duration::ZERO
            } else {
                (started.elapsed() * YIELD_TO_ACKS).max(GATHER)
            }
        } else {
            if round.done == 0 {
                tokio::select! {
                    _ = committed.changed() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            GATHER
        };
        tokio::time::sleep(pause).await;
    }
}

/// What a round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    /// Deliveries split and conversations applied.
    pub done: usize,
    /// Whether a claim came back full: more is probably due already.
    pub more_due: bool,
}

/// One round: splits the deliveries due, then applies the conversations due.
pub async fn work_once(db: &Db, config: &Arc<Config>) -> Result<Round, AppError> {
    let now = now_millis();
    let claimed = deliveries::claim(db, now, LEASE, BATCH).await?;
    let mut round = Round {
        done: claimed.len(),
        more_due: claimed.len() as i64 == BATCH,
    };
    let mut opened = Vec::with_capacity(claimed.len());
    let mut failed = Vec::new();
    for delivery in &claimed {
        match config.token_keys.open_bytes(&delivery.id, &delivery.body) {
            Ok(body) => opened.push((delivery.id.clone(), body)),
            Err(error) => failed.push((delivery, error.to_string())),
        }
    }
    if !opened.is_empty() {
        match routing::split_batch(db, config, &opened).await {
            Ok(split) => tracing::info!(
                deliveries = opened.len(),
                routed = split.routed,
                duplicates = split.duplicates,
                dead = split.dead,
                tests = split.tests,
                "webhook deliveries split"
            ),
            Err(error) => {
                let error = error.to_string();
                failed.extend(
                    claimed
                        .iter()
                        .filter(|d| opened.iter().any(|(id, _)| *id == d.id))
                        .map(|d| (d, error.clone())),
                );
            }
        }
    }
    for (delivery, error) in failed {
        if delivery.attempts >= MAX_ATTEMPTS {
            tracing::error!(delivery_id = %delivery.id, %error, "webhook delivery given up");
            deliveries::finish(db, &[], std::slice::from_ref(&delivery.id), now_millis()).await?;
        } else {
            tracing::warn!(delivery_id = %delivery.id, %error, attempts = delivery.attempts, "webhook delivery failed: will retry");
            let at = now_millis() + backoff(delivery.attempts);
            deliveries::retry_later(db, &delivery.id, at).await?;
        }
    }
    let due = conversations::claim(db, now_millis(), LEASE, BATCH).await?;
    round.done += due.len();
    round.more_due |= due.len() as i64 == BATCH;
    let groups = super::rounds::by_doctor(due, PER_TRANSACTION);
    super::rounds::each("inbox worker", groups, |doctor, conversation_ids| {
        let (db, config) = (db.clone(), config.clone());
        async move { apply_together(&db, &config, &doctor, &conversation_ids).await }
    })
    .await;
    Ok(round)
}

/// Applies the due events of `conversation_ids` (all `doctor`'s) in one transaction and gives
/// the conversations back in it; an event that fails is undone alone (a savepoint) and tried
/// again later, or dead-lettered.
async fn apply_together(
    db: &Db,
    config: &Config,
    doctor: &DoctorId,
    conversation_ids: &[String],
) -> Result<(), AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let mut letters = Vec::new();
    for conversation_id in conversation_ids {
        drain(&mut tx, config, conversation_id, &mut letters).await?;
        conversations::release(&mut tx, conversation_id).await?;
    }
    tx.commit().await?;
    for letter in &letters {
        deliveries::add_dead_letter(db, letter).await?;
    }
    Ok(())
}

/// Applies the conversation's events in order while they are due; the dead letters of those
/// given up go to `letters`.
async fn drain(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
    letters: &mut Vec<NewDeadLetter>,
) -> Result<(), AppError> {
    let doctor = tx.doctor().clone();
    for _ in 0..EVENTS_PER_CLAIM {
        let Some(event) = conversations::next_event(tx, conversation_id).await? else {
            break;
        };
        if event.next_attempt_at > now_millis() {
            break;
        }
        tx.savepoint("SAVEPOINT event").await?;
        match apply::apply(tx, config, &doctor, conversation_id, &event).await {
            Ok(()) => {
                tx.savepoint("RELEASE SAVEPOINT event").await?;
                conversations::settle_event(tx, &event.id, EventOutcome::Applied).await?;
                tracing::info!(doctor_id = %doctor, conversation_id, event_id = %event.id, kind = %event.kind, "inbox event applied");
            }
            Err(error) => {
                tx.savepoint("ROLLBACK TO SAVEPOINT event").await?;
                tx.savepoint("RELEASE SAVEPOINT event").await?;
                letters.extend(settle_failure(tx, config, conversation_id, &event, &error).await?);
            }
        }
    }
    Ok(())
}

/// Records a failed attempt: retried later, or given up after [`MAX_ATTEMPTS`] with the dead
/// letter to keep.
async fn settle_failure(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
    event: &conversations::PendingEvent,
    error: &AppError,
) -> Result<Option<NewDeadLetter>, AppError> {
    let doctor = tx.doctor().clone();
    let attempts = event.attempts + 1;
    if attempts < MAX_ATTEMPTS {
        tracing::warn!(doctor_id = %doctor, conversation_id, event_id = %event.id, attempts, %error, "inbox event failed: will retry");
        let at = now_millis() + backoff(attempts);
        conversations::settle_event(tx, &event.id, EventOutcome::RetryAt(at)).await?;
        return Ok(None);
    }
    tracing::error!(doctor_id = %doctor, conversation_id, event_id = %event.id, %error, "inbox event dead-lettered");
    conversations::settle_event(tx, &event.id, EventOutcome::Failed).await?;
    let body = config
        .token_keys
        .open_bytes(doctor.as_str(), &event.event)
        .unwrap_or_default();
    let id = crate::db::new_id();
    Ok(Some(NewDeadLetter {
        event: config.token_keys.seal_bytes(&id, &body),
        id,
        delivery_id: event.id.clone(),
        position: 0,
        reason: DeadReason::Failed,
        account_id: String::new(),
        error: Some(error.to_string()),
    }))
}

/// The pause before attempt `attempts + 1`: 1 s, 2 s, 4 s, … at most 2 minutes.
fn backoff(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 7)).unwrap_or(7);
    1000 * 2_i64.pow(exponent)
}
