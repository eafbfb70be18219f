//! The payments job: applies the provider events the webhooks kept, and does each payment's
//! due step with its provider: make the link, ask about it once its hold has ended (webhooks
//! get lost) and close it if unpaid, refund it. Once a day it asks the providers about every
//! payment still open or changed lately, so a doctor whose webhook is misconfigured still gets
//! the right states.
//!
//! A step reads what it needs and pushes the payment's next look a lease ahead in one
//! transaction, calls the provider with no transaction open, then records the answer in
//! another: a crash in between repeats the step after the lease, and the provider's
//! idempotency (the key per appointment and attempt) makes the repeat harmless.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;

use super::{keys, settle};
use crate::config::Config;
use crate::db::payments::{
    self as store, EventKind, Payee, PaymentStatus, RefundState, StoredPayment,
};
use crate::db::{now_millis, Db, DoctorId};
use crate::domain::appointments::Status;
use crate::domain::money::Currency;
use crate::domain::payments::Provider;
use crate::error::AppError;
use crate::providers::client::{Charge, Keys, Payments, ProviderError, State};

/// How long the job sleeps with nothing to wake it.
const POLL: Duration = Duration::from_secs(1);
/// How far a step pushes its payment's next look while it calls the provider.
const LEASE_MS: i64 = 60_000;
/// The longest wait between tries to reach a provider.
const MAX_BACKOFF_MS: i64 = 5 * 60_000;
/// When the reconciliation first runs after start, how often after that, and how far back
/// "changed lately" reaches.
const RECONCILE_FIRST: Duration = Duration::from_secs(5 * 60);
const RECONCILE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
const RECONCILE_SINCE_MS: i64 = 2 * 24 * 60 * 60_000;
/// At most this many events and payments a round.
const BATCH: i64 = 50;
/// At most this many payments' steps at once (each holds a connection only around its call).
const STEPS_AT_ONCE: usize = 8;

/// Runs until the task is dropped; `wake` is notified when a webhook keeps an event.
pub async fn run(db: Db, config: Arc<Config>, client: Arc<Payments>, wake: Arc<Notify>) {
    // The first a few minutes after start (a process restarted daily still reconciles).
    let mut reconcile_at = tokio::time::Instant::now() + RECONCILE_FIRST;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
        if let Err(error) = round(&db, &config, &client).await {
            tracing::warn!(%error, "payments round failed");
        }
        if tokio::time::Instant::now() >= reconcile_at {
            reconcile_at = tokio::time::Instant::now() + RECONCILE_EVERY;
            match reconcile(&db, &config, &client).await {
                Ok(asked) => tracing::info!(asked, "payments reconciled"),
                Err(error) => tracing::warn!(%error, "payments reconciliation failed"),
            }
        }
    }
}

/// Applies the events waiting, then does the due steps; how many of each.
pub async fn round(
    db: &Db,
    config: &Config,
    client: &Payments,
) -> Result<(usize, usize), AppError> {
    let events = store::unapplied(db, BATCH).await?;
    for (doctor, provider, event_id) in &events {
        if let Err(error) = apply_event(db, config, doctor, *provider, event_id).await {
            tracing::warn!(doctor_id = %doctor, event_id, %error, "payment event not applied");
        }
    }
    // Steps overlap their provider calls: one slow provider does not hold up the others.
    let due = store::due(db, now_millis(), BATCH).await?;
    futures::stream::iter(&due)
        .for_each_concurrent(STEPS_AT_ONCE, async |(doctor, id)| {
            if let Err(error) = step(db, config, client, doctor, id).await {
                tracing::warn!(doctor_id = %doctor, payment_id = %id, %error, "payment step failed");
            }
        })
        .await;
    Ok((events.len(), due.len()))
}

/// Applies one kept event, in the transaction that marks it applied. An event about a link
/// the app does not know (another app's, on the same provider account) is marked and left.
async fn apply_event(
    db: &Db,
    config: &Config,
    doctor: &DoctorId,
    provider: Provider,
    event_id: &str,
) -> Result<(), AppError> {
    let now = now_millis();
    let mut tx = db.tenant_writer(doctor).await?;
    let Some(event) = store::take_event(&mut tx, provider, event_id, now).await? else {
        return Ok(());
    };
    if let Some(payment) = store::by_reference(&mut tx, provider, &event.reference).await? {
        match (event.kind, event.payment.as_deref()) {
            (EventKind::Paid, Some(paid_with)) => {
                let with = settle::PaidWith {
                    payment: paid_with,
                    amount: event.amount,
                };
                settle::paid(&mut tx, config, &payment, &with, now).await?;
            }
            (EventKind::Paid, None) => {
                tracing::warn!(doctor_id = %doctor, event_id, "paid event without a payment id; asking the provider");
                let change = store::Change {
                    next_check_at: Some(Some(now)),
                    ..store::Change::default()
                };
                store::change(&mut tx, &payment.id, payment.status, &change, now).await?;
            }
            (EventKind::Closed, _) => settle::closed(&mut tx, config, &payment, now).await?,
        }
    }
    tx.commit().await?;
    Ok(())
}

/// What a step needs, read in one transaction.
struct Due {
    payment: StoredPayment,
    provider: Provider,
    keys: Keys,
    /// The appointment still wants this payment: it is live, and nothing newer (a payment at
    /// the clinic) replaced it.
    wanted: bool,
    description: String,
}

/// Does the payment's due step with its provider.
async fn step(
    db: &Db,
    config: &Config,
    client: &Payments,
    doctor: &DoctorId,
    id: &str,
) -> Result<(), AppError> {
    let now = now_millis();
    let Some(due) = take(db, config, doctor, id, now).await? else {
        return Ok(());
    };
    let payment = &due.payment;
    match payment.status {
        PaymentStatus::Creating if due.wanted => {
            create(db, config, client, doctor, &due, now).await
        }
        PaymentStatus::Creating => {
            // Cancelled, expired or paid otherwise before its link was made: nothing to pay.
            write(db, doctor, async |tx| {
                settle::closed(tx, config, payment, now).await
            })
            .await
        }
        PaymentStatus::Open | PaymentStatus::Closed => {
            let ended = now >= payment.expires_at;
            let reference = payment.reference.as_deref().unwrap_or_default();
            let answer = if (ended || !due.wanted) && payment.status == PaymentStatus::Open {
                client.close(&due.keys, reference).await
            } else {
                client.state(&due.keys, reference).await
            };
            match answer {
                Ok(state) => {
                    write(db, doctor, async |tx| match state {
                        State::Paid {
                            payment: paid_with,
                            amount,
                        } => {
                            let with = settle::PaidWith {
                                payment: &paid_with,
                                amount: Some(amount),
                            };
                            settle::paid(tx, config, payment, &with, now).await
                        }
                        State::Closed => settle::closed(tx, config, payment, now).await,
                        State::Open => {
                            let change = store::Change {
                                next_check_at: Some(Some(payment.expires_at + settle::GRACE_MS)),
                                ..store::Change::default()
                            };
                            store::change(tx, &payment.id, payment.status, &change, now).await?;
                            Ok(())
                        }
                    })
                    .await
                }
                Err(error) => retry_or_fail(db, config, doctor, payment, &error, now).await,
            }
        }
        PaymentStatus::Paid if payment.refund_state == Some(RefundState::Due) => {
            let refund_minor = payment.refund_minor.unwrap_or(payment.amount_minor);
            let amount = match Currency::parse(&payment.currency)
                .and_then(|c| due.provider.units(c, refund_minor))
            {
                Ok(amount) => amount,
                Err(why) => {
                    return write(db, doctor, async |tx| {
                        settle::refunded(tx, config, payment, Err(&why), now).await
                    })
                    .await
                }
            };
            let paid_with = payment.provider_payment.as_deref().unwrap_or_default();
            let key = format!("refund-{}", payment.id);
            match client.refund(&due.keys, paid_with, amount, &key).await {
                Ok(reference) => {
                    write(db, doctor, async |tx| {
                        settle::refunded(tx, config, payment, Ok(&reference), now).await
                    })
                    .await
                }
                Err(error @ ProviderError::Unreachable(_)) => {
                    retry_or_fail(db, config, doctor, payment, &error, now).await
                }
                Err(error) => {
                    let why = error.to_string();
                    write(db, doctor, async |tx| {
                        settle::refunded(tx, config, payment, Err(&why), now).await
                    })
                    .await
                }
            }
        }
        PaymentStatus::Paid | PaymentStatus::Failed => {
            let change = store::Change {
                next_check_at: Some(None),
                ..store::Change::default()
            };
            write(db, doctor, async |tx| {
                store::change(tx, &payment.id, payment.status, &change, now).await?;
                Ok(())
            })
            .await
        }
    }
}

/// Reads the step's payment and what goes with it, and leases it; `None` if there is nothing
/// to do (gone, not due any more, or paid to the clinic).
async fn take(
    db: &Db,
    config: &Config,
    doctor: &DoctorId,
    id: &str,
    now: i64,
) -> Result<Option<Due>, AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let Some(payment) = store::get(&mut tx, id).await? else {
        return Ok(None);
    };
    let Payee::Provider(provider) = payment.payee else {
        return Ok(None);
    };
    let lease = store::Change {
        next_check_at: Some(Some(now + LEASE_MS)),
        ..store::Change::default()
    };
    store::change(&mut tx, id, payment.status, &lease, now).await?;
    let account = store::account(&mut tx).await?;
    let appointment = crate::db::appointments::get(&mut tx, &payment.appointment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(account) = account.filter(|a| a.provider == provider) else {
        // Online payment was switched off, or moved to another provider, since.
        let problem = format!("{} is no longer connected.", provider.label());
        settle::failed(&mut tx, config, &payment, &problem).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let zone = crate::db::availability::zone(&mut tx).await?;
    let latest = store::latest_for(&mut tx, &payment.appointment_id).await?;
    tx.commit().await?;
    let wanted = matches!(
        appointment.status,
        Status::Held | Status::PendingPayment | Status::Confirmed
    ) && latest.is_some_and(|l| l.id == payment.id);
    let opened = keys::open(&config.token_keys, doctor, &account.keys)?;
    let when = crate::domain::slots::local_time(appointment.starts_at, &zone);
    Ok(Some(Due {
        provider,
        keys: opened.api,
        wanted,
        description: format!(
            "{}, {}: {when}",
            appointment.service_name,
            appointment.method.label()
        ),
        payment,
    }))
}

/// Makes the payment's link.
async fn create(
    db: &Db,
    config: &Config,
    client: &Payments,
    doctor: &DoctorId,
    due: &Due,
    now: i64,
) -> Result<(), AppError> {
    let payment = &due.payment;
    let amount = match Currency::parse(&payment.currency)
        .and_then(|c| due.provider.amount(c, payment.amount_minor))
    {
        Ok(amount) => amount,
        Err(why) => {
            return write(db, doctor, async |tx| {
                settle::failed(tx, config, payment, &why).await
            })
            .await
        }
    };
    // The provider's link stops at the hold's end, within what the provider allows.
    let latest = now + i64::from(due.provider.max_link_minutes()) * 60_000;
    let return_url = format!("{}/payments/done", config.public_base_url);
    let charge = Charge {
        appointment_id: &payment.appointment_id,
        doctor_id: doctor.as_str(),
        attempt: u32::try_from(payment.attempt).unwrap_or(1),
        amount,
        currency: &payment.currency,
        description: &due.description,
        expires_at: payment.expires_at.min(latest) / 1000,
        return_url: &return_url,
    };
    match client.create(&due.keys, &charge).await {
        Ok(link) => {
            write(db, doctor, async |tx| {
                settle::opened(tx, config, payment, &link.reference, &link.url).await
            })
            .await
        }
        Err(error) => retry_or_fail(db, config, doctor, payment, &error, now).await,
    }
}

/// A provider that could not be reached is tried again with backoff (a link until its hold
/// ends); one that refused gets the payment marked failed with its reason.
async fn retry_or_fail(
    db: &Db,
    config: &Config,
    doctor: &DoctorId,
    payment: &StoredPayment,
    error: &ProviderError,
    now: i64,
) -> Result<(), AppError> {
    let unreachable = matches!(error, ProviderError::Unreachable(_));
    let too_late = payment.status == PaymentStatus::Creating && now >= payment.expires_at;
    tracing::warn!(doctor_id = %doctor, payment_id = %payment.id, unreachable, "payment provider call failed");
    write(db, doctor, async |tx| {
        if unreachable && !too_late {
            let backoff = (5_000_i64 << payment.tries.clamp(0, 10)).min(MAX_BACKOFF_MS);
            let change = store::Change {
                next_check_at: Some(Some(now + backoff)),
                failed_try: true,
                ..store::Change::default()
            };
            store::change(tx, &payment.id, payment.status, &change, now).await?;
            Ok(())
        } else if payment.status == PaymentStatus::Creating {
            settle::failed(tx, config, payment, &problem(error)).await
        } else if payment.status == PaymentStatus::Paid {
            settle::refunded(tx, config, payment, Err(&problem(error)), now).await
        } else {
            // Asking about an open link failed for good (the key was revoked, say): the hold
            // ends as if unpaid, and reconciliation asks again later.
            settle::closed(tx, config, payment, now).await
        }
    })
    .await
}

/// The doctor's words for a provider's refusal.
pub fn problem(error: &ProviderError) -> String {
    match error {
        ProviderError::KeyRejected => {
            "The provider no longer accepts the API key; paste a new one on the Payments pane."
                .into()
        }
        ProviderError::Permission(message) => {
            format!("The API key lacks a permission: {message}")
        }
        ProviderError::Refused(message) => format!("The provider refused: {message}"),
        ProviderError::Unreachable(_) => "The provider could not be reached.".into(),
    }
}

/// Runs `work` in the doctor's writing transaction and commits it.
async fn write<F>(db: &Db, doctor: &DoctorId, work: F) -> Result<(), AppError>
where
    F: AsyncFnOnce(&mut crate::db::TenantTx) -> Result<(), AppError>,
{
    let mut tx = db.tenant_writer(doctor).await?;
    work(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks the providers about every payment still open or changed lately, and applies what
/// they say; how many were asked.
pub async fn reconcile(db: &Db, config: &Config, client: &Payments) -> Result<usize, AppError> {
    let now = now_millis();
    let mut asked = 0;
    for doctor in store::with_accounts(db).await? {
        let mut tx = db.tenant(&doctor).await?;
        let account = store::account(&mut tx).await?;
        let payments = store::to_reconcile(&mut tx, now - RECONCILE_SINCE_MS).await?;
        tx.commit().await?;
        let Some(account) = account else { continue };
        let opened = keys::open(&config.token_keys, &doctor, &account.keys)?;
        for payment in payments {
            if payment.payee != Payee::Provider(account.provider) {
                continue;
            }
            let reference = payment.reference.as_deref().unwrap_or_default();
            asked += 1;
            match client.state(&opened.api, reference).await {
                Ok(State::Paid {
                    payment: paid_with,
                    amount,
                }) if payment.status != PaymentStatus::Paid => {
                    tracing::warn!(doctor_id = %doctor, payment_id = %payment.id, "reconciliation found a payment no webhook reported");
                    let with = settle::PaidWith {
                        payment: &paid_with,
                        amount: Some(amount),
                    };
                    write(db, &doctor, async |tx| {
                        settle::paid(tx, config, &payment, &with, now_millis()).await
                    })
                    .await?;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(doctor_id = %doctor, payment_id = %payment.id, %error, "reconciliation could not ask the provider");
                }
            }
        }
    }
    Ok(asked)
}
