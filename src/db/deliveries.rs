//! Meta's webhook deliveries as received, before anyone knows whose they are, and the dead
//! letters no doctor took. Neither belongs to a doctor; both are sealed (see the migration).
//!
//! Deliveries are stored by one writer task that commits every delivery waiting at that
//! moment in one transaction (group commit): concurrent deliveries share one commit (one
//! fsync on SQLite) instead of queueing for one each, and each request is answered as soon
//! as the commit that holds it is done.

use std::fmt::Write;
use std::time::Duration;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot, watch};

use super::{now_millis, Backend, Db};
use crate::crypto::seal::Sealed;

/// At most this many deliveries go into one commit (5 bound values each).
const MAX_BATCH: usize = 256;
/// Deliveries waiting for the writer beyond this make their requests wait to be queued.
const QUEUE: usize = 4096;
/// A request whose delivery is not committed by then is answered 503 (Meta retries).
const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// A delivery ready to store: its id (the associated data its body is sealed with) and body.
pub struct NewDelivery {
    pub id: String,
    pub body: Sealed,
}

/// Why a delivery was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the delivery writer has stopped")]
    Stopped,
    #[error("the delivery was not committed in time")]
    TimedOut,
    #[error("the database refused the deliveries: {0}")]
    Database(String),
}

struct Queued {
    delivery: NewDelivery,
    received_at: i64,
    committed: oneshot::Sender<Result<(), String>>,
}

/// The handle requests store deliveries through; cheap to clone.
#[derive(Clone)]
pub struct DeliveryWriter {
    queue: mpsc::Sender<Queued>,
    committed: watch::Receiver<u64>,
}

impl DeliveryWriter {
    /// Starts the writer task on `db`; it ends when the last handle is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        let (count, committed) = watch::channel(0);
        tokio::spawn(write_batches(db, incoming, count));
        Self { queue, committed }
    }

    /// Stores `delivery`; returns once it is committed.
    pub async fn store(&self, delivery: NewDelivery) -> Result<(), StoreError> {
        let (committed, outcome) = oneshot::channel();
        let queued = Queued {
            delivery,
            received_at: now_millis(),
            committed,
        };
        let stored = async {
            self.queue
                .send(queued)
                .await
                .map_err(|_| StoreError::Stopped)?;
            outcome
                .await
                .map_err(|_| StoreError::Stopped)?
                .map_err(StoreError::Database)
        };
        tokio::time::timeout(COMMIT_WAIT, stored)
            .await
            .map_err(|_| StoreError::TimedOut)?
    }

    /// How many deliveries wait for the writer: requests whose acknowledgement waits.
    pub fn waiting(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// How many deliveries have been committed since the writer started; the worker waits
    /// for it to change when it has nothing to do.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }
}

async fn write_batches(
    db: Db,
    mut incoming: mpsc::Receiver<Queued>,
    committed: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = insert(&db, &batch).await.map_err(|error| error.to_string());
        match &outcome {
            Ok(()) => committed.send_modify(|count| *count += batch.len() as u64),
            Err(error) => tracing::error!(%error, count = batch.len(), "storing deliveries failed"),
        }
        for queued in batch.drain(..) {
            let _ = queued.committed.send(outcome.clone());
        }
    }
}

async fn insert(db: &Db, batch: &[Queued]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, received_at, body_sealed, key_id, next_attempt_at)
         VALUES {}",
        placeholders(db.backend(), 1, batch.len(), 5)
    );
    let mut query = sqlx::query(&sql);
    for queued in batch {
        query = query
            .bind(&queued.delivery.id)
            .bind(queued.received_at)
            .bind(&queued.delivery.body.value)
            .bind(&queued.delivery.body.key_id)
            .bind(queued.received_at);
    }
    // One statement is a transaction of its own, committed (on SQLite, synced to disk) before
    // it returns: no BEGIN and COMMIT round trips to the connection.
    query.execute(db.writer()).await.map(drop)
}

/// `rows` groups of `columns` placeholders for a statement's values, numbered from `first`:
/// `($1, $2), ($3, $4)` on PostgreSQL; on SQLite plain `(?, ?), (?, ?)`, bound in order.
/// SQLite keeps `$n` names in a list it searches from the start when it parses each one and
/// again for every value bound, so a batch named that way costs time quadratic in its size.
fn placeholders(backend: Backend, first: usize, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * (columns * 6 + 4));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", first + row * columns + column);
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// A stored delivery a worker has claimed.
pub struct ClaimedDelivery {
    pub id: String,
    pub body: Sealed,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
}

/// Claims up to `limit` deliveries that are due, for `lease` (another worker may take one
/// whose lease ran out: its worker stopped). On PostgreSQL rows another worker is claiming
/// are skipped, not waited for.
pub async fn claim(
    db: &Db,
    now: i64,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
    let skip_locked = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM webhook_deliveries
                      WHERE processed_at IS NULL AND next_attempt_at <= $2
                        AND (lease_until IS NULL OR lease_until < $2)
                      ORDER BY id LIMIT $3 {skip_locked})
           AND (lease_until IS NULL OR lease_until < $2)
         RETURNING id, body_sealed, key_id, attempts"
    );
    let rows = sqlx::query(&sql)
        .bind(now + millis(lease))
        .bind(now)
        .bind(limit)
        .fetch_all(db.writer())
        .await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(ClaimedDelivery {
                id: row.try_get("id")?,
                body: Sealed {
                    value: row.try_get("body_sealed")?,
                    key_id: row.try_get("key_id")?,
                },
                attempts: row.try_get("attempts")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(claimed)
}

/// Stores the dead letters of a batch of deliveries and marks those deliveries split, in one
/// transaction (one commit for the batch). Letters are stored once per part of a delivery, so
/// a batch split twice (a crash in between) adds nothing.
pub async fn finish(
    db: &Db,
    letters: &[NewDeadLetter],
    processed: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.writer().begin().await?;
    for letters in letters.chunks(MAX_BATCH) {
        insert_letters(db.backend(), &mut tx, letters, now).await?;
    }
    for ids in processed.chunks(MAX_BATCH) {
        let sql = format!(
            "UPDATE webhook_deliveries SET processed_at = {}, lease_until = NULL
             WHERE id IN {}",
            placeholders(db.backend(), 1, 1, 1),
            placeholders(db.backend(), 2, 1, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(now);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Puts a delivery back to be tried again at `next_attempt_at`.
pub async fn retry_later(db: &Db, id: &str, next_attempt_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $1, lease_until = NULL WHERE id = $2",
    )
    .bind(next_attempt_at)
    .bind(id)
    .execute(db.writer())
    .await
    .map(drop)
}

/// Deletes deliveries processed before `before`; how many.
pub async fn delete_processed(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE processed_at < $1")
        .bind(before)
        .execute(db.writer())
        .await
        .map(|done| done.rows_affected())
}

/// Why no doctor took a part of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// For an Instagram account (or Page) no doctor has linked.
    UnknownAccount,
    /// For an account (or Page) its doctor disconnected.
    Disconnected,
    /// Not an event we could read.
    Unparseable,
    /// Kept failing; the letter says how.
    Failed,
}

impl DeadReason {
    pub fn key(self) -> &'static str {
        match self {
            Self::UnknownAccount => "unknown_account",
            Self::Disconnected => "disconnected",
            Self::Unparseable => "unparseable",
            Self::Failed => "failed",
        }
    }
}

/// A part of a delivery no doctor took, ready to store.
pub struct NewDeadLetter {
    pub id: String,
    /// The delivery it came from (for a failed event: the event's id).
    pub delivery_id: String,
    pub position: u32,
    pub reason: DeadReason,
    pub account_id: String,
    /// The part as a delivery of its own, sealed with `id` as associated data.
    pub event: Sealed,
    pub error: Option<String>,
}

/// Stores one dead letter (an event that kept failing).
pub async fn add_dead_letter(db: &Db, letter: &NewDeadLetter) -> Result<(), sqlx::Error> {
    let mut tx = db.writer().begin().await?;
    insert_letters(
        db.backend(),
        &mut tx,
        std::slice::from_ref(letter),
        now_millis(),
    )
    .await?;
    tx.commit().await
}

/// Inserts `letters` in one statement (nine values each).
async fn insert_letters(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    letters: &[NewDeadLetter],
    now: i64,
) -> Result<(), sqlx::Error> {
    if letters.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO dead_letters (id, delivery_id, position, reason, account_id, event_sealed,
             key_id, error, created_at)
         VALUES {}
         ON CONFLICT (delivery_id, position) DO NOTHING",
        placeholders(backend, 1, letters.len(), 9)
    );
    let mut query = sqlx::query(&sql);
    for letter in letters {
        query = query
            .bind(&letter.id)
            .bind(&letter.delivery_id)
            .bind(i64::from(letter.position))
            .bind(letter.reason.key())
            .bind(&letter.account_id)
            .bind(&letter.event.value)
            .bind(&letter.event.key_id)
            .bind(letter.error.as_deref())
            .bind(now);
    }
    query.execute(conn).await.map(drop)
}

/// A dead letter as operators see it: ids and the reason, never the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: String,
    pub delivery_id: String,
    pub position: i64,
    pub reason: String,
    pub account_id: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub replayed_at: Option<i64>,
}

/// Letters not yet replayed, by reason and account: `(reason, account, count)`.
pub async fn dead_letter_counts(db: &Db) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT reason, account_id, COUNT(*) AS letters FROM dead_letters
         WHERE replayed_at IS NULL GROUP BY reason, account_id ORDER BY reason, account_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("reason")?,
                row.try_get("account_id")?,
                row.try_get("letters")?,
            ))
        })
        .collect()
}

pub async fn dead_letter(db: &Db, id: &str) -> Result<Option<DeadLetter>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, delivery_id, position, reason, account_id, error, created_at, replayed_at
         FROM dead_letters WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(DeadLetter {
            id: row.try_get("id")?,
            delivery_id: row.try_get("delivery_id")?,
            position: row.try_get("position")?,
            reason: row.try_get("reason")?,
            account_id: row.try_get("account_id")?,
            error: row.try_get("error")?,
            created_at: row.try_get("created_at")?,
            replayed_at: row.try_get("replayed_at")?,
        })
    })
    .transpose()
}

/// An account's letters waiting for it (reason `unknown_account` or `disconnected`, not yet
/// replayed), with
/// their sealed events: `(letter id, sealed event)`.
pub async fn letters_for_account(
    db: &Db,
    account_id: &str,
) -> Result<Vec<(String, Sealed)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, event_sealed, key_id FROM dead_letters
         WHERE account_id = $1 AND reason IN ('unknown_account', 'disconnected')
           AND replayed_at IS NULL
         ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                Sealed {
                    value: row.try_get("event_sealed")?,
                    key_id: row.try_get("key_id")?,
                },
            ))
        })
        .collect()
}

/// Deletes letters created before `before`; how many.
pub async fn delete_dead_letters(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM dead_letters WHERE created_at < $1")
        .bind(before)
        .execute(db.writer())
        .await
        .map(|done| done.rows_affected())
}

/// Stores `delivery` (received now) and marks the dead letter `letter_id` replayed, in one
/// transaction; the worker then routes the delivery like any other. `false`: the letter was
/// already replayed (or is gone), and nothing was stored.
pub async fn replay_dead_letter(
    db: &Db,
    letter_id: &str,
    delivery: &NewDelivery,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.writer().begin().await?;
    let marked = sqlx::query(
        "UPDATE dead_letters SET replayed_at = $1 WHERE id = $2 AND replayed_at IS NULL",
    )
    .bind(now)
    .bind(letter_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, received_at, body_sealed, key_id, next_attempt_at)
         VALUES ($1, $2, $3, $4, $2)",
    )
    .bind(&delivery.id)
    .bind(now)
    .bind(&delivery.body.value)
    .bind(&delivery.body.key_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes the letters of `account_id` (any account: `None`) created before `before` (any
/// time: `None`), replayed or not; how many.
pub async fn purge_dead_letters(
    db: &Db,
    account_id: Option<&str>,
    before: Option<i64>,
) -> Result<u64, sqlx::Error> {
    let mut conditions = Vec::new();
    if account_id.is_some() {
        conditions.push(format!("account_id = ${}", conditions.len() + 1));
    }
    if before.is_some() {
        conditions.push(format!("created_at < ${}", conditions.len() + 1));
    }
    let sql = if conditions.is_empty() {
        "DELETE FROM dead_letters".to_owned()
    } else {
        format!(
            "DELETE FROM dead_letters WHERE {}",
            conditions.join(" AND ")
        )
    };
    let mut query = sqlx::query(&sql);
    if let Some(account_id) = account_id {
        query = query.bind(account_id);
    }
    if let Some(before) = before {
        query = query.bind(before);
    }
    query
        .execute(db.writer())
        .await
        .map(|done| done.rows_affected())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
