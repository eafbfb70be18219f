//! Online payment as stored: each doctor's provider account (keys sealed), the payments asked
//! of it for appointments, and the provider events received. The only way from a provider's
//! delivery to a doctor is the opaque path segment of their webhook URL: [`account_by_webhook`].

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, Db, DoctorId, Lookup, TenantTx};
use crate::crypto::seal::Sealed;
use crate::domain::payments::{Mode, Provider, RefundPolicy};

/// A doctor's provider account; the keys stay sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub provider: Provider,
    pub keys: Sealed,
    pub key_last4: String,
    pub mode: Mode,
    pub webhook_ref: String,
    pub webhook_seen_at: Option<i64>,
    pub refund: RefundPolicy,
    pub connected_at: i64,
}

/// An account about to be stored for the transaction's doctor.
pub struct NewAccount<'a> {
    pub provider: Provider,
    pub keys: &'a Sealed,
    pub key_last4: &'a str,
    pub mode: Mode,
    pub refund: RefundPolicy,
    pub now: i64,
}

fn unknown(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unknown value {value:?}").into(),
    }
}

fn provider(row: &AnyRow) -> Result<Provider, sqlx::Error> {
    let key: String = row.try_get("provider")?;
    Provider::from_key(&key).ok_or_else(|| unknown("provider", &key))
}

fn small(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

fn read_account(row: &AnyRow) -> Result<StoredAccount, sqlx::Error> {
    let mode: String = row.try_get("mode")?;
    Ok(StoredAccount {
        provider: provider(row)?,
        keys: Sealed {
            key_id: row.try_get("keys_key_id")?,
            value: row.try_get("keys_sealed")?,
        },
        key_last4: row.try_get("key_last4")?,
        mode: Mode::from_key(&mode).ok_or_else(|| unknown("mode", &mode))?,
        webhook_ref: row.try_get("webhook_ref")?,
        webhook_seen_at: row.try_get("webhook_seen_at")?,
        refund: RefundPolicy::from_cutoff(small(row.try_get("refund_cutoff_hours")?)),
        connected_at: row.try_get("connected_at")?,
    })
}

const ACCOUNT: &str = "SELECT doctor_id, provider, keys_sealed, keys_key_id, key_last4, mode,
        webhook_ref, webhook_seen_at, refund_cutoff_hours, connected_at
    FROM payment_accounts";

/// The doctor's provider account; `None`: no online payment.
pub async fn account(tx: &mut TenantTx) -> Result<Option<StoredAccount>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!("{ACCOUNT} WHERE doctor_id = $1"))
        .bind(doctor.as_str())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(read_account)
        .transpose()
}

/// Stores the doctor's account. The webhook path stays what it was while the provider stays
/// the same (the doctor pasted it into the provider's dashboard); a new provider gets a new one.
pub async fn save_account(tx: &mut TenantTx, new: &NewAccount<'_>) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO payment_accounts (doctor_id, provider, keys_sealed, keys_key_id, key_last4,
             mode, webhook_ref, webhook_seen_at, refund_cutoff_hours, connected_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $9)
         ON CONFLICT (doctor_id) DO UPDATE SET
             webhook_ref = CASE WHEN payment_accounts.provider = excluded.provider
                 THEN payment_accounts.webhook_ref ELSE excluded.webhook_ref END,
             webhook_seen_at = CASE WHEN payment_accounts.provider = excluded.provider
                 THEN payment_accounts.webhook_seen_at ELSE NULL END,
             provider = excluded.provider, keys_sealed = excluded.keys_sealed,
             keys_key_id = excluded.keys_key_id, key_last4 = excluded.key_last4,
             mode = excluded.mode, refund_cutoff_hours = excluded.refund_cutoff_hours,
             connected_at = excluded.connected_at, updated_at = excluded.updated_at",
    )
    .bind(doctor.as_str())
    .bind(new.provider.key())
    .bind(&new.keys.value)
    .bind(&new.keys.key_id)
    .bind(new.key_last4)
    .bind(new.mode.key())
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(new.refund.cutoff_hours().map(i64::from))
    .bind(new.now)
    .execute(conn)
    .await
    .map(drop)
}

/// Every doctor with a provider account (the daily reconciliation).
pub async fn with_accounts(db: &Db) -> Result<Vec<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::PaymentWork, "on").await?;
    let rows = sqlx::query("SELECT doctor_id FROM payment_accounts ORDER BY doctor_id")
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    super::doctor_ids(&rows)
}

/// Every doctor whose provider keys another key than `key_id` sealed (re-sealing after a key
/// rotation).
pub async fn sealed_with_other_keys(db: &Db, key_id: &str) -> Result<Vec<DoctorId>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::PaymentWork, "on").await?;
    let rows = sqlx::query(
        "SELECT doctor_id FROM payment_accounts WHERE keys_key_id <> $1 ORDER BY doctor_id",
    )
    .bind(key_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    super::doctor_ids(&rows)
}

/// Puts `new` in place of the doctor's sealed keys if they are still `old`.
pub async fn replace_keys(
    tx: &mut TenantTx,
    old: &Sealed,
    new: &Sealed,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE payment_accounts SET keys_sealed = $3, keys_key_id = $4
         WHERE doctor_id = $1 AND keys_sealed = $2",
    )
    .bind(doctor.as_str())
    .bind(&old.value)
    .bind(&new.value)
    .bind(&new.key_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes only the refund policy of the doctor's account; whether there is one.
pub async fn set_refund_policy(
    tx: &mut TenantTx,
    refund: RefundPolicy,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE payment_accounts SET refund_cutoff_hours = $2, updated_at = $3
         WHERE doctor_id = $1",
    )
    .bind(doctor.as_str())
    .bind(refund.cutoff_hours().map(i64::from))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the doctor's account and its sealed keys: no online payment from now on.
pub async fn remove_account(tx: &mut TenantTx) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query("DELETE FROM payment_accounts WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The doctor and account a provider's delivery to `/payments/<provider>/<webhook_ref>` is
/// for, if that path is one of ours for that provider.
pub async fn account_by_webhook(
    db: &Db,
    provider: Provider,
    webhook_ref: &str,
) -> Result<Option<(DoctorId, StoredAccount)>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::PaymentWebhook, webhook_ref).await?;
    let row = sqlx::query(&format!(
        "{ACCOUNT} WHERE webhook_ref = $1 AND provider = $2"
    ))
    .bind(webhook_ref)
    .bind(provider.key())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(|row| {
        Ok((
            DoctorId::from_row(row.try_get("doctor_id")?),
            read_account(&row)?,
        ))
    })
    .transpose()
}

/// Where a payment stands with the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Asked for, its link not made yet.
    Creating,
    /// Its link was made and sent; it can be paid until it expires.
    Open,
    Paid,
    /// Expired or cancelled unpaid.
    Closed,
    /// The provider refused to make the link; `problem` says why.
    Failed,
}

impl PaymentStatus {
    const ALL: [Self; 5] = [
        Self::Creating,
        Self::Open,
        Self::Paid,
        Self::Closed,
        Self::Failed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Closed => "closed",
            Self::Failed => "failed",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A refund's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// To be asked of the provider (again, after a failure to reach it).
    Due,
    Refunded,
    /// The provider refused it; the doctor refunds by hand.
    Failed,
    /// The policy leaves it to the doctor.
    Manual,
}

impl RefundState {
    pub fn key(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
            Self::Manual => "manual",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        [Self::Due, Self::Refunded, Self::Failed, Self::Manual]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

/// Why a paid fee is refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundReason {
    /// The appointment was cancelled within the policy.
    Cancelled,
    /// The payment came after its time was no longer kept for it (given to someone else,
    /// passed, or the booking cancelled).
    Late,
    /// The appointment was already paid (at the clinic, or by another payment).
    Duplicate,
    /// The amount paid was not the fee asked.
    Mismatch,
}

impl RefundReason {
    pub fn key(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::Late => "late",
            Self::Duplicate => "duplicate",
            Self::Mismatch => "mismatch",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        [Self::Cancelled, Self::Late, Self::Duplicate, Self::Mismatch]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

/// Who takes the fee: a provider, or the clinic's desk ("mark paid at the clinic").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payee {
    Provider(Provider),
    Clinic,
}

impl Payee {
    fn key(self) -> &'static str {
        match self {
            Self::Provider(provider) => provider.key(),
            Self::Clinic => "clinic",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayment {
    pub id: String,
    pub appointment_id: String,
    pub attempt: i64,
    pub payee: Payee,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub conversation_id: Option<String>,
    pub reference: Option<String>,
    pub url: Option<String>,
    pub expires_at: i64,
    pub problem: Option<String>,
    pub provider_payment: Option<String>,
    pub paid_at: Option<i64>,
    pub refund_state: Option<RefundState>,
    pub refund_reason: Option<RefundReason>,
    pub refund_reference: Option<String>,
    pub refund_minor: Option<i64>,
    pub tries: i64,
}

const PAYMENT: &str = "SELECT id, appointment_id, attempt, provider, amount_minor, currency,
        status, conversation_id, reference, url, expires_at, problem, provider_payment, paid_at,
        refund_state, refund_reason, refund_reference, refund_minor, tries
    FROM payments";

fn read_payment(row: &AnyRow) -> Result<StoredPayment, sqlx::Error> {
    let payee: String = row.try_get("provider")?;
    let status: String = row.try_get("status")?;
    let refund_state: Option<String> = row.try_get("refund_state")?;
    let refund_reason: Option<String> = row.try_get("refund_reason")?;
    Ok(StoredPayment {
        id: row.try_get("id")?,
        appointment_id: row.try_get("appointment_id")?,
        attempt: row.try_get("attempt")?,
        payee: match Provider::from_key(&payee) {
            Some(provider) => Payee::Provider(provider),
            None if payee == "clinic" => Payee::Clinic,
            None => return Err(unknown("provider", &payee)),
        },
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        status: PaymentStatus::from_key(&status).ok_or_else(|| unknown("status", &status))?,
        conversation_id: row.try_get("conversation_id")?,
        reference: row.try_get("reference")?,
        url: row.try_get("url")?,
        expires_at: row.try_get("expires_at")?,
        problem: row.try_get("problem")?,
        provider_payment: row.try_get("provider_payment")?,
        paid_at: row.try_get("paid_at")?,
        refund_state: refund_state
            .map(|s| RefundState::from_key(&s).ok_or_else(|| unknown("refund_state", &s)))
            .transpose()?,
        refund_reason: refund_reason
            .map(|s| RefundReason::from_key(&s).ok_or_else(|| unknown("refund_reason", &s)))
            .transpose()?,
        refund_reference: row.try_get("refund_reference")?,
        refund_minor: row.try_get("refund_minor")?,
        tries: row.try_get("tries")?,
    })
}

/// A payment about to be asked for.
pub struct NewPayment<'a> {
    pub appointment_id: &'a str,
    pub payee: Payee,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub conversation_id: Option<&'a str>,
    pub expires_at: i64,
    pub now: i64,
}

/// Records a payment to ask for, as the appointment's next attempt: `Creating`, due now (the
/// payments job makes its link); paid at once when the clinic took it. Its id.
pub async fn insert(tx: &mut TenantTx, new: &NewPayment<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    let (status, paid_at, next_check_at) = match new.payee {
        Payee::Provider(_) => (PaymentStatus::Creating, None, Some(new.now)),
        Payee::Clinic => (PaymentStatus::Paid, Some(new.now), None),
    };
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO payments (id, doctor_id, appointment_id, attempt, provider, amount_minor,
             currency, status, conversation_id, expires_at, paid_at, next_check_at, created_at,
             updated_at)
         VALUES ($1, $2, $3,
             (SELECT COALESCE(MAX(attempt), 0) + 1 FROM payments
              WHERE doctor_id = $2 AND appointment_id = $3),
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(doctor.as_str())
    .bind(new.appointment_id)
    .bind(new.payee.key())
    .bind(new.amount_minor)
    .bind(new.currency)
    .bind(status.key())
    .bind(new.conversation_id)
    .bind(new.expires_at)
    .bind(paid_at)
    .bind(next_check_at)
    .bind(new.now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Gives the payments of appointment `from` to appointment `to` (the same booking, moved).
pub async fn follow(tx: &mut TenantTx, from: &str, to: &str) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE payments SET appointment_id = $3 WHERE doctor_id = $1 AND appointment_id = $2",
    )
    .bind(doctor.as_str())
    .bind(from)
    .bind(to)
    .execute(conn)
    .await
    .map(drop)
}

/// One of the doctor's payments.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<StoredPayment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!("{PAYMENT} WHERE doctor_id = $1 AND id = $2"))
        .bind(doctor.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(read_payment)
        .transpose()
}

/// The latest payment of one of the doctor's appointments.
pub async fn latest_for(
    tx: &mut TenantTx,
    appointment_id: &str,
) -> Result<Option<StoredPayment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "{PAYMENT} WHERE doctor_id = $1 AND appointment_id = $2 ORDER BY attempt DESC LIMIT 1"
    ))
    .bind(doctor.as_str())
    .bind(appointment_id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(read_payment)
    .transpose()
}

/// Whether appointment `appointment_id` has a paid payment other than `except` (paid at the
/// clinic, or through another link) that is not being refunded.
pub async fn paid_otherwise(
    tx: &mut TenantTx,
    appointment_id: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM payments WHERE doctor_id = $1 AND appointment_id = $2 AND id <> $3
         AND status = 'paid' AND COALESCE(refund_state, '') NOT IN ('due', 'refunded') LIMIT 1",
    )
    .bind(doctor.as_str())
    .bind(appointment_id)
    .bind(except)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The latest payment of each of the doctor's appointments starting in `[from, to)`, by
/// appointment id.
pub async fn latest_between(
    tx: &mut TenantTx,
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<String, StoredPayment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(&format!(
        "{PAYMENT} WHERE doctor_id = $1 AND appointment_id IN
             (SELECT id FROM appointments WHERE doctor_id = $1 AND starts_at >= $2
                  AND starts_at < $3)
         ORDER BY attempt"
    ))
    .bind(doctor.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    let mut latest = std::collections::HashMap::new();
    for row in &rows {
        let payment = read_payment(row)?;
        latest.insert(payment.appointment_id.clone(), payment);
    }
    Ok(latest)
}

/// The doctor's payment with the provider's `reference` (a session or link id).
pub async fn by_reference(
    tx: &mut TenantTx,
    provider: Provider,
    reference: &str,
) -> Result<Option<StoredPayment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "{PAYMENT} WHERE doctor_id = $1 AND provider = $2 AND reference = $3"
    ))
    .bind(doctor.as_str())
    .bind(provider.key())
    .bind(reference)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(read_payment)
    .transpose()
}

/// A change to a payment row, as the payments job and the webhook make them. `None` leaves a
/// column as it is.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub status: Option<PaymentStatus>,
    pub reference: Option<&'a str>,
    pub url: Option<&'a str>,
    pub problem: Option<&'a str>,
    pub provider_payment: Option<&'a str>,
    pub paid_at: Option<i64>,
    pub refund_state: Option<RefundState>,
    pub refund_reason: Option<RefundReason>,
    pub refund_reference: Option<&'a str>,
    pub refund_minor: Option<i64>,
    /// When to look at it next; `Some(None)` for never.
    pub next_check_at: Option<Option<i64>>,
    /// Count this as a failed try (the count is reset when the status changes).
    pub failed_try: bool,
}

/// Applies `change` to the doctor's payment `id` if it is still in `from`; whether it was.
pub async fn change(
    tx: &mut TenantTx,
    id: &str,
    from: PaymentStatus,
    change: &Change<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "UPDATE payments SET
             status = COALESCE($4, status),
             reference = COALESCE($5, reference),
             url = COALESCE($6, url),
             problem = COALESCE($7, problem),
             provider_payment = COALESCE($8, provider_payment),
             paid_at = COALESCE($9, paid_at),
             refund_state = COALESCE($10, refund_state),
             refund_reason = COALESCE($11, refund_reason),
             refund_reference = COALESCE($12, refund_reference),
             refund_minor = COALESCE($13, refund_minor),
             next_check_at = CASE WHEN $14 = 1 THEN $15 ELSE next_check_at END,
             tries = CASE WHEN $16 = 1 THEN tries + 1 WHEN $4 IS NOT NULL THEN 0 ELSE tries END,
             updated_at = $17
         WHERE doctor_id = $1 AND id = $2 AND status = $3",
    )
    .bind(doctor.as_str())
    .bind(id)
    .bind(from.key())
    .bind(change.status.map(PaymentStatus::key))
    .bind(change.reference)
    .bind(change.url)
    .bind(change.problem)
    .bind(change.provider_payment)
    .bind(change.paid_at)
    .bind(change.refund_state.map(RefundState::key))
    .bind(change.refund_reason.map(RefundReason::key))
    .bind(change.refund_reference)
    .bind(change.refund_minor)
    .bind(i64::from(change.next_check_at.is_some()))
    .bind(change.next_check_at.flatten())
    .bind(i64::from(change.failed_try))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every doctor's payments due a look by `now`, oldest first: `(doctor, payment id)`.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::PaymentWork, "on").await?;
    let rows = sqlx::query(
        "SELECT doctor_id, id FROM payments WHERE next_check_at <= $1
         ORDER BY next_check_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    super::doctors_and_ids(&rows)
}

/// The doctor's payments to ask the provider about in the daily reconciliation: still open,
/// or changed since `since`, with a link.
pub async fn to_reconcile(
    tx: &mut TenantTx,
    since: i64,
) -> Result<Vec<StoredPayment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "{PAYMENT} WHERE doctor_id = $1 AND reference IS NOT NULL
             AND (status = 'open' OR updated_at >= $2)"
    ))
    .bind(doctor.as_str())
    .bind(since)
    .fetch_all(conn)
    .await?
    .iter()
    .map(read_payment)
    .collect()
}

/// What a provider's event says of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Paid, with the provider's payment id and amount.
    Paid,
    /// Expired or cancelled.
    Closed,
}

impl EventKind {
    fn key(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Closed => "closed",
        }
    }
}

/// A verified provider event, as kept until it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: Provider,
    pub event_id: String,
    pub reference: String,
    pub kind: EventKind,
    pub payment: Option<String>,
    pub amount: Option<i64>,
}

/// Keeps a verified event for the transaction's doctor, and notes that their webhook works;
/// whether it is new (a provider's retry of one already kept is not).
pub async fn record_event(
    tx: &mut TenantTx,
    event: &ProviderEvent,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let done = sqlx::query(
        "INSERT INTO payment_events (doctor_id, provider, event_id, reference, kind, payment,
             amount, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (doctor_id, provider, event_id) DO NOTHING",
    )
    .bind(doctor.as_str())
    .bind(event.provider.key())
    .bind(&event.event_id)
    .bind(&event.reference)
    .bind(event.kind.key())
    .bind(event.payment.as_deref())
    .bind(event.amount)
    .bind(now)
    .execute(conn)
    .await?;
    webhook_seen(tx, now).await?;
    Ok(done.rows_affected() == 1)
}

/// Notes that a signed delivery from the doctor's provider verified at `now`.
pub async fn webhook_seen(tx: &mut TenantTx, now: i64) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query("UPDATE payment_accounts SET webhook_seen_at = $2 WHERE doctor_id = $1")
        .bind(doctor.as_str())
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
}

/// Every doctor's events not applied yet, oldest first: `(doctor, provider, event id)`.
pub async fn unapplied(
    db: &Db,
    limit: i64,
) -> Result<Vec<(DoctorId, Provider, String)>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::PaymentWork, "on").await?;
    let rows = sqlx::query(
        "SELECT doctor_id, provider, event_id FROM payment_events WHERE applied_at IS NULL
         ORDER BY received_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            Ok((
                DoctorId::from_row(row.try_get("doctor_id")?),
                provider(row)?,
                row.try_get("event_id")?,
            ))
        })
        .collect()
}

/// Takes one of the doctor's unapplied events, marking it applied (in the transaction that
/// applies it); `None` if it was applied meanwhile.
pub async fn take_event(
    tx: &mut TenantTx,
    provider_: Provider,
    event_id: &str,
    now: i64,
) -> Result<Option<ProviderEvent>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let row = sqlx::query(
        "UPDATE payment_events SET applied_at = $4
         WHERE doctor_id = $1 AND provider = $2 AND event_id = $3 AND applied_at IS NULL
         RETURNING provider, event_id, reference, kind, payment, amount",
    )
    .bind(doctor.as_str())
    .bind(provider_.key())
    .bind(event_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let kind: String = row.try_get("kind")?;
        Ok(ProviderEvent {
            provider: provider(&row)?,
            event_id: row.try_get("event_id")?,
            reference: row.try_get("reference")?,
            kind: match kind.as_str() {
                "paid" => EventKind::Paid,
                "closed" => EventKind::Closed,
                _ => return Err(unknown("kind", &kind)),
            },
            payment: row.try_get("payment")?,
            amount: row.try_get("amount")?,
        })
    })
    .transpose()
}
