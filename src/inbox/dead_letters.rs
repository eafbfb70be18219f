//! What operators do with the dead letters (`clariva dead-letters`, docs/meta-setup.md):
//! count them by reason and account, look at one (ids and reason, never the event), replay
//! an account's letters once a doctor has connected it, and purge them; and the retention
//! housekeeping applies to letters and processed deliveries. Each command returns what to
//! print; nothing here prints.

use std::fmt;

use crate::config::{Config, Retention};
use crate::db::deliveries::{self, DeadLetter, NewDelivery};
use crate::db::{self, Db};

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// Why a command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("no dead letter has the id {0}")]
    NoSuchLetter(String),
    #[error("no doctor has connected the Instagram account {0}; its letters wait until one does")]
    NotConnected(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Letters not yet replayed, by reason and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts(pub Vec<Count>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub reason: String,
    /// `""` when the part named no account.
    pub account_id: String,
    pub letters: i64,
}

pub async fn counts(db: &Db) -> Result<Counts, DeadLetterError> {
    let rows = deliveries::dead_letter_counts(db).await?;
    Ok(Counts(
        rows.into_iter()
            .map(|(reason, account_id, letters)| Count {
                reason,
                account_id,
                letters,
            })
            .collect(),
    ))
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "No dead letters waiting.");
        }
        let width = self
            .0
            .iter()
            .map(|count| account(&count.account_id).len())
            .max()
            .unwrap_or(0)
            .max("account".len());
        writeln!(f, "{:<16} {:<width$} letters", "reason", "account")?;
        for count in &self.0 {
            writeln!(
                f,
                "{:<16} {:<width$} {}",
                count.reason,
                account(&count.account_id),
                count.letters
            )?;
        }
        Ok(())
    }
}

/// One letter as operators see it: ids, reason, error and times, never the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown(pub DeadLetter);

pub async fn show(db: &Db, id: &str) -> Result<Shown, DeadLetterError> {
    deliveries::dead_letter(db, id)
        .await?
        .map(Shown)
        .ok_or_else(|| DeadLetterError::NoSuchLetter(id.to_owned()))
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = &self.0;
        writeln!(f, "letter    {}", letter.id)?;
        writeln!(f, "reason    {}", letter.reason)?;
        writeln!(f, "account   {}", account(&letter.account_id))?;
        writeln!(
            f,
            "delivery  {} (part {})",
            letter.delivery_id, letter.position
        )?;
        writeln!(f, "error     {}", letter.error.as_deref().unwrap_or("-"))?;
        writeln!(f, "created   {}", instant(letter.created_at))?;
        match letter.replayed_at {
            Some(at) => writeln!(f, "replayed  {}", instant(at)),
            None => writeln!(f, "replayed  not yet"),
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub account_id: String,
    pub doctor_id: String,
    /// Letters stored again as new deliveries (and marked replayed).
    pub letters: usize,
    /// Letters whose key is no longer listed in `TOKEN_KEYS`: left as they are.
    pub unopenable: usize,
}

/// Stores each of the account's waiting `unknown_account` and `disconnected` letters again
/// as a new delivery,
/// sealed under its new id, and marks the letter replayed, one transaction per letter; the
/// worker then routes them to the account's doctor. Refused while no doctor has connected the
/// account. A letter is replayed once; events are unique per doctor by their key, so even a
/// letter forced through twice lands once.
pub async fn replay(
    db: &Db,
    config: &Config,
    account_id: &str,
) -> Result<Replayed, DeadLetterError> {
    let doctor = db::instagram::doctor_for(db, account_id)
        .await?
        .ok_or_else(|| DeadLetterError::NotConnected(account_id.to_owned()))?;
    let mut replayed = Replayed {
        account_id: account_id.to_owned(),
        doctor_id: doctor.as_str().to_owned(),
        letters: 0,
        unopenable: 0,
    };
    for (letter_id, sealed) in deliveries::letters_for_account(db, account_id).await? {
        let body = match config.token_keys.open_bytes(&letter_id, &sealed) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(letter_id, %error, "a dead letter does not open");
                replayed.unopenable += 1;
                continue;
            }
        };
        let id = db::new_id();
        let delivery = NewDelivery {
            body: config.token_keys.seal_bytes(&id, &body),
            id,
        };
        if deliveries::replay_dead_letter(db, &letter_id, &delivery, db::now_millis()).await? {
            tracing::info!(letter_id, delivery_id = %delivery.id, doctor_id = %doctor, "dead letter replayed");
            replayed.letters += 1;
        }
    }
    Ok(replayed)
}

impl fmt::Display for Replayed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Replayed {} letter(s) of account {} as new deliveries, for doctor {}.",
            self.letters, self.account_id, self.doctor_id
        )?;
        if self.unopenable > 0 {
            writeln!(
                f,
                "{} letter(s) do not open with any key in TOKEN_KEYS and were left as they are.",
                self.unopenable
            )?;
        }
        Ok(())
    }
}

/// Which letters a purge deletes, replayed or not: those matching every filter given, all of
/// them when none is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    pub account_id: Option<String>,
    pub older_than_days: Option<u32>,
}

/// What a purge deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub purge: Purge,
    pub deleted: u64,
}

/// Deletes the letters `purge` names; `now` is when "older than" counts from.
pub async fn purge(db: &Db, purge: &Purge, now: i64) -> Result<Purged, DeadLetterError> {
    let before = purge
        .older_than_days
        .map(|days| now.saturating_sub(i64::from(days) * DAY_MILLIS));
    let deleted = deliveries::purge_dead_letters(db, purge.account_id.as_deref(), before).await?;
    Ok(Purged {
        purge: purge.clone(),
        deleted,
    })
}

impl fmt::Display for Purged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deleted {} dead letter(s)", self.deleted)?;
        match (&self.purge.account_id, self.purge.older_than_days) {
            (None, None) => write!(f, " (all of them)")?,
            (account_id, days) => {
                if let Some(account_id) = account_id {
                    write!(f, " of account {account_id}")?;
                }
                if let Some(days) = days {
                    write!(f, " created more than {days} day(s) ago")?;
                }
            }
        }
        writeln!(f, ".")
    }
}

/// What one retention sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub deliveries: u64,
    pub letters: u64,
}

/// Deletes deliveries processed, and letters written, longer ago than `retention` keeps them
/// (housekeeping calls this; a delivery not yet processed is always kept).
pub async fn delete_expired(
    db: &Db,
    retention: Retention,
    now: i64,
) -> Result<Expired, sqlx::Error> {
    let before = |days: u32| now.saturating_sub(i64::from(days) * DAY_MILLIS);
    Ok(Expired {
        deliveries: deliveries::delete_processed(db, before(retention.delivery_days)).await?,
        letters: deliveries::delete_dead_letters(db, before(retention.dead_letter_days)).await?,
    })
}

fn account(id: &str) -> &str {
    if id.is_empty() {
        "(none)"
    } else {
        id
    }
}

/// An instant as UTC, like `2026-11-27T10:15:00.123Z`.
fn instant(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map_or_else(|_| millis.to_string(), |at| at.to_string())
}
