//! What a payment's outcome changes, in the doctor's transaction: the payment row, the
//! appointment, the audit log, and the patient's DM (queued in the same transaction). Called
//! with what a provider said (a webhook event, or an answer to the payments job); nothing here
//! calls a provider. Nothing moves backwards from paid.

use crate::config::Config;
use crate::db::appointments::{self as appointments, StoredAppointment};
use crate::db::conversations::Author;
use crate::db::payments::{
    self as store, Change, PaymentStatus, RefundReason, RefundState, StoredPayment,
};
use crate::db::TenantTx;
use crate::domain::appointments::Status;
use crate::domain::money::Currency;
use crate::domain::outgoing::{Button, Extras, QuickReply};
use crate::domain::payments::Refund;
use crate::domain::slots::local_time;
use crate::error::AppError;

use super::say;

/// A minute after a hold ends the provider is asked about it: a payment made in its last
/// seconds has reached the provider by then.
pub const GRACE_MS: i64 = 60_000;

/// The appointment, its start on the doctor's clock, the zone's name and the fee shown.
struct Told {
    appointment: StoredAppointment,
    when: String,
    zone: String,
    clock: jiff::tz::TimeZone,
    fee: String,
}

async fn told(tx: &mut TenantTx, payment: &StoredPayment) -> Result<Told, AppError> {
    let appointment = appointments::get(tx, &payment.appointment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let zone = crate::db::availability::zone(tx).await?;
    let fee = Currency::parse(&payment.currency).map_or_else(
        |_| format!("{} {}", payment.amount_minor, payment.currency),
        |c| format!("{} {}", c.format_amount(payment.amount_minor), c.code),
    );
    Ok(Told {
        when: local_time(appointment.starts_at, &zone).to_string(),
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        clock: zone,
        appointment,
        fee,
    })
}

/// Queues `text` to the patient of `payment`, if they booked in DMs.
async fn tell(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    text: &str,
    extras: Extras,
) -> Result<(), AppError> {
    let Some(conversation) = payment.conversation_id.as_deref() else {
        return Ok(());
    };
    let keys = &config.token_keys;
    crate::db::outbox::queue_text(tx, keys, conversation, Author::Assistant, text, extras).await?;
    Ok(())
}

/// A "Book" quick reply: the assistant's menu button, so a tap starts a booking.
fn book_again() -> Extras {
    Extras {
        quick_replies: vec![QuickReply {
            title: crate::domain::assistant::BOOK.title.to_owned(),
            payload: crate::domain::assistant::BOOK.payload.to_owned(),
        }],
        buttons: Vec::new(),
    }
}

/// A booking `appointment` awaits payment through `provider`: the payment is recorded for the
/// payments job to make its link (and the patient of `conversation_id` gets it). A free
/// appointment needs no payment and is confirmed at once.
pub async fn ask(
    tx: &mut TenantTx,
    appointment: &StoredAppointment,
    provider: crate::domain::payments::Provider,
    conversation_id: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    if appointment.fee_minor == 0 {
        let id = appointment.id.as_str();
        appointments::set_status(tx, id, appointment.status, Status::Confirmed, None).await?;
        return Ok(());
    }
    let new = store::NewPayment {
        appointment_id: &appointment.id,
        payee: store::Payee::Provider(provider),
        amount_minor: appointment.fee_minor,
        currency: &appointment.currency,
        conversation_id,
        expires_at: appointment.hold_expires_at.unwrap_or(now),
        now,
    };
    let id = store::insert(tx, &new).await?;
    tracing::info!(doctor_id = %tx.doctor(), appointment_id = %appointment.id, payment_id = %id, provider = provider.key(), "payment asked for");
    Ok(())
}

/// The link was made: the payment is open until its hold ends, and the patient gets the
/// "Pay" button.
pub async fn opened(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    reference: &str,
    url: &str,
) -> Result<(), AppError> {
    let now = crate::db::now_millis();
    let change = Change {
        status: Some(PaymentStatus::Open),
        reference: Some(reference),
        url: Some(url),
        next_check_at: Some(Some(payment.expires_at + GRACE_MS)),
        ..Change::default()
    };
    if !store::change(tx, &payment.id, PaymentStatus::Creating, &change, now).await? {
        return Ok(());
    }
    let told = told(tx, payment).await?;
    let until = local_time(payment.expires_at, &told.clock).to_string();
    let what = format!(
        "{}, {}",
        told.appointment.service_name,
        told.appointment.method.label()
    );
    let text = say::pay(&what, &told.when, &told.zone, &told.fee, &until);
    let extras = Extras {
        quick_replies: Vec::new(),
        buttons: vec![Button::Link {
            title: say::pay_button(&told.fee),
            url: url.to_owned(),
        }],
    };
    tell(tx, config, payment, &text, extras).await
}

/// The provider refused to make the link (`problem` says why, for the doctor): the patient's
/// conversation goes to the clinic's team.
pub async fn failed(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    problem: &str,
) -> Result<(), AppError> {
    let now = crate::db::now_millis();
    let change = Change {
        status: Some(PaymentStatus::Failed),
        problem: Some(problem),
        next_check_at: Some(None),
        ..Change::default()
    };
    if !store::change(tx, &payment.id, payment.status, &change, now).await? {
        return Ok(());
    }
    tracing::warn!(doctor_id = %tx.doctor(), payment_id = %payment.id, "payment link refused by the provider");
    if let Some(conversation) = payment.conversation_id.as_deref() {
        crate::db::conversations::set_paused(tx, conversation, true, true).await?;
    }
    tell(tx, config, payment, say::LINK_FAILED, Extras::default()).await
}

/// What a provider says was paid: its payment id (what a refund names) and the amount, in
/// the provider's units, where it says.
pub struct PaidWith<'a> {
    pub payment: &'a str,
    pub amount: Option<i64>,
}

/// The provider says it was paid. The appointment is confirmed if the amount is the fee asked,
/// nothing else paid it, and its time is still its own; otherwise the payment is refunded in
/// full and the patient is told why.
pub async fn paid(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    with: &PaidWith<'_>,
    now: i64,
) -> Result<(), AppError> {
    if payment.status == PaymentStatus::Paid {
        return Ok(());
    }
    let change = Change {
        status: Some(PaymentStatus::Paid),
        provider_payment: Some(with.payment),
        paid_at: Some(now),
        next_check_at: Some(None),
        ..Change::default()
    };
    if !store::change(tx, &payment.id, payment.status, &change, now).await? {
        return Ok(());
    }
    let told = told(tx, payment).await?;
    let id = told.appointment.id.as_str();
    let refund = if let Some(paid_minor) = mismatch(payment, with.amount) {
        Refunding::Mismatch { paid_minor }
    } else if store::paid_otherwise(tx, id, &payment.id).await? {
        Refunding::Duplicate
    } else if confirm(tx, &told.appointment, now).await? {
        let fields = ["payment:paid".to_owned()];
        crate::db::audit::record_about(tx, "appointment.paid", Some(id), &fields, None).await?;
        tracing::info!(doctor_id = %tx.doctor(), appointment_id = %id, payment_id = %payment.id, "appointment paid and confirmed");
        let text = say::confirmed(&told.when, &told.zone);
        return tell(tx, config, payment, &text, Extras::default()).await;
    } else {
        Refunding::Late
    };
    refund_unwanted(tx, config, payment, &told, &refund, now).await
}

/// Why a payment the provider took is refunded by itself.
enum Refunding {
    /// Its time was no longer kept for it.
    Late,
    /// The appointment was paid already.
    Duplicate,
    /// The amount was not the fee: `paid_minor` was paid, in the currency's minor units.
    Mismatch { paid_minor: i64 },
}

/// The amount paid in the currency's minor units, if the provider reported one that is not the
/// fee asked.
fn mismatch(payment: &StoredPayment, amount: Option<i64>) -> Option<i64> {
    let store::Payee::Provider(provider) = payment.payee else {
        return None;
    };
    let currency = Currency::parse(&payment.currency).ok()?;
    let asked = provider.units(currency, payment.amount_minor).ok()?;
    amount
        .filter(|paid| *paid != asked)
        .map(|paid| provider.minor(currency, paid))
}

/// Refunds a payment the appointment did not take, in full, and tells the patient why. A
/// wrong amount does not keep the time: an appointment still awaiting payment is expired.
async fn refund_unwanted(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    told: &Told,
    refund: &Refunding,
    now: i64,
) -> Result<(), AppError> {
    let id = told.appointment.id.as_str();
    let (reason, refund_minor) = match refund {
        Refunding::Late => (RefundReason::Late, payment.amount_minor),
        Refunding::Duplicate => (RefundReason::Duplicate, payment.amount_minor),
        Refunding::Mismatch { paid_minor } => (RefundReason::Mismatch, *paid_minor),
    };
    let change = Change {
        refund_state: Some(RefundState::Due),
        refund_reason: Some(reason),
        refund_minor: Some(refund_minor),
        next_check_at: Some(Some(now)),
        ..Change::default()
    };
    store::change(tx, &payment.id, PaymentStatus::Paid, &change, now).await?;
    let fields = [format!("payment:{}", reason.key())];
    crate::db::audit::record_about(tx, "appointment.payment_refunded", Some(id), &fields, None)
        .await?;
    tracing::info!(doctor_id = %tx.doctor(), appointment_id = %id, payment_id = %payment.id, reason = reason.key(), "payment not taken; refunding");
    let (text, extras) = match refund {
        Refunding::Duplicate => (say::paid_twice(&told.when, &told.fee), Extras::default()),
        Refunding::Mismatch { paid_minor } => {
            let status = told.appointment.status;
            if status == Status::PendingPayment {
                appointments::set_status(tx, id, status, Status::Expired, None).await?;
            }
            let paid = Currency::parse(&payment.currency).map_or_else(
                |_| told.fee.clone(),
                |c| format!("{} {}", c.format_amount(*paid_minor), c.code),
            );
            (say::wrong_amount(&paid, &told.fee), book_again())
        }
        Refunding::Late => {
            let status = told.appointment.status;
            let text = if status == Status::Cancelled {
                say::late_for_cancelled(&told.when, &told.fee)
            } else if status == Status::Expired && told.appointment.starts_at > now {
                say::late(&told.when, &told.fee)
            } else {
                say::late_for_past(&told.when, &told.fee)
            };
            (text, book_again())
        }
    };
    tell(tx, config, payment, &text, extras).await
}

/// Confirms a paid appointment whose time is still its own: awaiting payment (its time is
/// kept until it is expired, even past its hold), or expired while nobody took the time and
/// before it starts. Whether it is confirmed now.
async fn confirm(
    tx: &mut TenantTx,
    appointment: &StoredAppointment,
    now: i64,
) -> Result<bool, AppError> {
    let id = appointment.id.as_str();
    match appointment.status {
        Status::Confirmed => Ok(true),
        Status::PendingPayment | Status::Held => {
            Ok(
                appointments::set_status(tx, id, appointment.status, Status::Confirmed, None)
                    .await?,
            )
        }
        Status::Expired if appointment.starts_at > now => {
            // Taking the time back fails if another booking holds it now.
            tx.savepoint("SAVEPOINT retake").await?;
            match appointments::set_status(tx, id, Status::Expired, Status::Confirmed, None).await {
                Ok(done) => {
                    tx.savepoint("RELEASE SAVEPOINT retake").await?;
                    Ok(done)
                }
                Err(error) if appointments::is_overlap(&error) => {
                    tx.savepoint("ROLLBACK TO SAVEPOINT retake").await?;
                    tx.savepoint("RELEASE SAVEPOINT retake").await?;
                    Ok(false)
                }
                Err(error) => Err(error.into()),
            }
        }
        _ => Ok(false),
    }
}

/// The link can no longer be paid (expired, cancelled, or closed by the payments job): the
/// appointment still awaiting it is expired, freeing its time, and the patient is told.
pub async fn closed(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    now: i64,
) -> Result<(), AppError> {
    let change = Change {
        status: Some(PaymentStatus::Closed),
        next_check_at: Some(None),
        ..Change::default()
    };
    let from = payment.status;
    if !matches!(
        from,
        PaymentStatus::Open | PaymentStatus::Closed | PaymentStatus::Creating
    ) || !store::change(tx, &payment.id, from, &change, now).await?
    {
        return Ok(());
    }
    let told = told(tx, payment).await?;
    let id = told.appointment.id.as_str();
    if told.appointment.status != Status::PendingPayment
        || !appointments::set_status(tx, id, Status::PendingPayment, Status::Expired, None).await?
    {
        return Ok(());
    }
    let fields = ["status:pending_payment".to_owned()];
    crate::db::audit::record_about(tx, "appointment.expired", Some(id), &fields, None).await?;
    tracing::info!(doctor_id = %tx.doctor(), appointment_id = %id, "unpaid hold lapsed");
    tell(tx, config, payment, &say::lapsed(&told.when), book_again()).await
}

/// An appointment was cancelled (by the doctor or the patient): a link still open is closed by
/// the payments job, and a paid fee is refunded as the doctor's policy says (the job asks the
/// provider, and tells the patient once it is refunded).
pub async fn cancelled(
    tx: &mut TenantTx,
    appointment: &StoredAppointment,
    now: i64,
) -> Result<(), AppError> {
    let Some(payment) = store::latest_for(tx, &appointment.id).await? else {
        return Ok(());
    };
    match payment.status {
        // The payments job closes the link (or finds it paid, and refunds it as late).
        PaymentStatus::Open | PaymentStatus::Creating => {
            let change = Change {
                next_check_at: Some(Some(now)),
                ..Change::default()
            };
            store::change(tx, &payment.id, payment.status, &change, now).await?;
            return Ok(());
        }
        PaymentStatus::Paid if payment.refund_state.is_none() => {}
        _ => return Ok(()),
    }
    let policy = store::account(tx)
        .await?
        .map_or(crate::domain::payments::RefundPolicy::Manual, |a| a.refund);
    let state = match (payment.payee, policy.on_cancel(appointment.starts_at, now)) {
        (store::Payee::Clinic, _) | (_, Refund::Manual) => RefundState::Manual,
        (_, Refund::None) => return Ok(()),
        (_, Refund::Full) => RefundState::Due,
    };
    let change = Change {
        refund_state: Some(state),
        refund_reason: Some(RefundReason::Cancelled),
        refund_minor: Some(payment.amount_minor),
        next_check_at: Some((state == RefundState::Due).then_some(now)),
        ..Change::default()
    };
    store::change(tx, &payment.id, PaymentStatus::Paid, &change, now).await?;
    tracing::info!(doctor_id = %tx.doctor(), appointment_id = %appointment.id, refund = state.key(), "paid appointment cancelled");
    Ok(())
}

/// What the provider said of a refund: made (`Ok` with its id; a patient who cancelled is
/// told), or refused (`Err` with why, for the doctor).
pub async fn refunded(
    tx: &mut TenantTx,
    config: &Config,
    payment: &StoredPayment,
    outcome: Result<&str, &str>,
    now: i64,
) -> Result<(), AppError> {
    let change = match outcome {
        Ok(reference) => Change {
            refund_state: Some(RefundState::Refunded),
            refund_reference: Some(reference),
            next_check_at: Some(None),
            ..Change::default()
        },
        Err(problem) => Change {
            refund_state: Some(RefundState::Failed),
            problem: Some(problem),
            next_check_at: Some(None),
            ..Change::default()
        },
    };
    if !store::change(tx, &payment.id, PaymentStatus::Paid, &change, now).await? {
        return Ok(());
    }
    tracing::info!(doctor_id = %tx.doctor(), payment_id = %payment.id, refunded = outcome.is_ok(), "refund settled");
    if outcome.is_ok() && payment.refund_reason == Some(RefundReason::Cancelled) {
        let told = told(tx, payment).await?;
        tell(
            tx,
            config,
            payment,
            &say::refunded(&told.fee),
            Extras::default(),
        )
        .await?;
    }
    Ok(())
}
