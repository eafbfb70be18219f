//! An appointment's payment as the dashboard shows it (amount, provider, reference, when it
//! was paid, refund), and what the doctor can do about it: mark it paid at the clinic, or get
//! a payment link to send the patient themselves (a booking made by hand).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppointmentView;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// `Paid 500.00 INR with Stripe`, `Link sent, not paid yet`, …
    pub state: String,
    /// The provider's reference (`cs_…`, `plink_…`) and payment (`pi_…`, `pay_…`).
    pub reference: Option<String>,
    /// When it was paid, on the doctor's clock.
    pub paid: Option<String>,
    /// The link to pay at, while it can be paid.
    pub link: Option<String>,
    /// The refund's state, if there is one.
    pub refund: Option<String>,
    /// Why the provider refused something, for the doctor.
    pub problem: Option<String>,
}

/// Records that the patient paid the fee at the clinic; an appointment held for payment is
/// confirmed.
#[server(endpoint = "appointments/mark-paid")]
pub async fn mark_paid(id: String) -> Result<AppointmentView, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let now = crate::db::now_millis();
        let request_id = crate::context::request_id();
        let changed = ssr::mark_paid(db, doctor, &id, now, request_id.as_deref()).await?;
        super::views::one(db, doctor, &changed, now).await
    })
    .await
}

/// Makes a payment link for a booking made by hand, to send the patient; it stays payable
/// until the appointment starts (a Stripe link for at most 24 hours). Waits a few seconds for
/// the provider, so the answer usually carries the link.
#[server(endpoint = "appointments/payment-link")]
pub async fn payment_link(id: String) -> Result<AppointmentView, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let now = crate::db::now_millis();
        let request_id = crate::context::request_id();
        let asked = ssr::ask_link(db, doctor, &id, now, request_id.as_deref()).await?;
        state.payment_work.notify_one();
        let changed = ssr::wait_for_link(db, doctor, &asked).await?;
        super::views::one(db, doctor, &changed, crate::db::now_millis()).await
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::time::Duration;

    use jiff::tz::TimeZone;

    use super::PaymentView;
    use crate::db::appointments::{self as appointments, StoredAppointment};
    use crate::db::payments::{
        self as store, Payee, PaymentStatus, RefundReason, RefundState, StoredPayment,
    };
    use crate::db::{Db, DoctorId};
    use crate::domain::appointments::Status;
    use crate::domain::money::Currency;
    use crate::domain::slots::local_time;
    use crate::error::AppError;

    /// How long "Payment link" waits for the provider before answering without the link.
    const LINK_WAIT: Duration = Duration::from_secs(8);

    pub fn view(payment: &StoredPayment, zone: &TimeZone) -> PaymentView {
        let money = |minor: i64| {
            Currency::parse(&payment.currency).map_or_else(
                |_| format!("{minor} {}", payment.currency),
                |c| format!("{} {}", c.format_amount(minor), c.code),
            )
        };
        let fee = money(payment.amount_minor);
        let via = match payment.payee {
            Payee::Provider(provider) => provider.label(),
            Payee::Clinic => "at the clinic",
        };
        let state = match payment.status {
            PaymentStatus::Creating => format!("Making a {via} link for {fee}…"),
            PaymentStatus::Open => format!("{fee} asked with {via}, not paid yet"),
            PaymentStatus::Paid if payment.payee == Payee::Clinic => {
                format!("Paid {fee} at the clinic")
            }
            PaymentStatus::Paid if payment.refund_reason == Some(RefundReason::Mismatch) => {
                let paid = money(payment.refund_minor.unwrap_or(payment.amount_minor));
                format!("Paid {paid} with {via}, not the fee of {fee}")
            }
            PaymentStatus::Paid => format!("Paid {fee} with {via}"),
            PaymentStatus::Closed => format!("{fee} not paid; the link has closed"),
            PaymentStatus::Failed => format!("No {via} link could be made"),
        };
        let refund = payment.refund_state.map(|refund| {
            let why = match payment.refund_reason {
                Some(RefundReason::Late) => "it was paid after the time was no longer kept for it",
                Some(RefundReason::Duplicate) => "the appointment was already paid",
                Some(RefundReason::Mismatch) => "the amount paid was not the fee",
                Some(RefundReason::Cancelled) | None => "the appointment was cancelled",
            };
            match refund {
                RefundState::Due => format!("Refund in full under way ({why})."),
                RefundState::Refunded => format!(
                    "Refunded in full ({why}){}.",
                    payment
                        .refund_reference
                        .as_deref()
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default()
                ),
                RefundState::Failed => {
                    format!("The refund failed ({why}); refund it from the provider's dashboard.")
                }
                RefundState::Manual => {
                    format!("Not refunded by itself ({why}); your policy leaves refunds to you.")
                }
            }
        });
        let reference = [
            payment.reference.as_deref(),
            payment.provider_payment.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        PaymentView {
            state,
            reference: Some(reference).filter(|r| !r.is_empty()),
            paid: payment.paid_at.map(|at| local_time(at, zone).to_string()),
            link: payment
                .url
                .clone()
                .filter(|_| payment.status == PaymentStatus::Open),
            refund,
            problem: payment.problem.clone(),
        }
    }

    /// Whether an appointment is still to be paid: it is live and nothing is paid or asked.
    pub fn unpaid(appointment: &StoredAppointment, payment: Option<&StoredPayment>) -> bool {
        matches!(
            appointment.status,
            Status::Held | Status::PendingPayment | Status::Confirmed
        ) && !payment.is_some_and(|p| {
            matches!(
                p.status,
                PaymentStatus::Paid | PaymentStatus::Open | PaymentStatus::Creating
            )
        })
    }

    pub async fn mark_paid(
        db: &Db,
        doctor: &DoctorId,
        id: &str,
        now: i64,
        request_id: Option<&str>,
    ) -> Result<StoredAppointment, AppError> {
        let mut tx = db.tenant_writer(doctor).await?;
        let appointment = appointments::get(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let latest = store::latest_for(&mut tx, id).await?;
        if latest
            .as_ref()
            .is_some_and(|p| p.status == PaymentStatus::Paid)
        {
            return Err(AppError::Conflict("It is already paid.".into()));
        }
        if !matches!(
            appointment.status,
            Status::Held | Status::PendingPayment | Status::Confirmed
        ) {
            return Err(AppError::Conflict(format!(
                "A {} appointment cannot be marked paid.",
                appointment.status.label().to_lowercase()
            )));
        }
        let new = store::NewPayment {
            appointment_id: id,
            payee: Payee::Clinic,
            amount_minor: appointment.fee_minor,
            currency: &appointment.currency,
            conversation_id: None,
            expires_at: now,
            now,
        };
        store::insert(&mut tx, &new).await?;
        // A link still out is closed by the payments job, which sees the appointment paid.
        if let Some(open) = latest.filter(|p| p.status == PaymentStatus::Open) {
            let close = store::Change {
                next_check_at: Some(Some(now)),
                ..store::Change::default()
            };
            store::change(&mut tx, &open.id, open.status, &close, now).await?;
        }
        if appointment.status != Status::Confirmed {
            appointments::set_status(&mut tx, id, appointment.status, Status::Confirmed, None)
                .await?;
        }
        let fields = ["payment:clinic".to_owned()];
        crate::db::audit::record_about(&mut tx, "appointment.paid", Some(id), &fields, request_id)
            .await?;
        let changed = appointments::get(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        tx.commit().await?;
        tracing::info!(doctor_id = %doctor, appointment_id = %id, "marked paid at the clinic");
        Ok(changed)
    }

    /// Asks for a link for appointment `id`; the payment's id.
    pub async fn ask_link(
        db: &Db,
        doctor: &DoctorId,
        id: &str,
        now: i64,
        request_id: Option<&str>,
    ) -> Result<String, AppError> {
        let mut tx = db.tenant_writer(doctor).await?;
        let appointment = appointments::get(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let latest = store::latest_for(&mut tx, id).await?;
        if !unpaid(&appointment, latest.as_ref()) {
            return Err(AppError::Conflict(
                "It is already paid, or a link is already out.".into(),
            ));
        }
        let account = store::account(&mut tx).await?.ok_or_else(|| {
            AppError::Conflict("Connect Stripe or Razorpay on Setup → Payments first.".into())
        })?;
        let provider = account.provider;
        let latest_end = now + i64::from(provider.max_link_minutes()) * 60_000;
        let expires_at = appointment
            .hold_expires_at
            .filter(|_| appointment.status.lapses())
            .unwrap_or(appointment.starts_at)
            .min(latest_end);
        if expires_at < now + i64::from(provider.min_hold_minutes()) * 60_000 {
            return Err(AppError::Conflict(format!(
                "It starts too soon: a {} link stays open at least {} minutes.",
                provider.label(),
                provider.min_hold_minutes()
            )));
        }
        let currency = Currency::parse(&appointment.currency)
            .map_err(|_| AppError::Conflict("The fee's currency is not one we support.".into()))?;
        provider
            .amount(currency, appointment.fee_minor)
            .map_err(AppError::Conflict)?;
        let new = store::NewPayment {
            appointment_id: id,
            payee: Payee::Provider(provider),
            amount_minor: appointment.fee_minor,
            currency: &appointment.currency,
            conversation_id: None,
            expires_at,
            now,
        };
        let payment = store::insert(&mut tx, &new).await?;
        let fields = [format!("payment:{}", provider.key())];
        crate::db::audit::record_about(
            &mut tx,
            "appointment.payment_asked",
            Some(id),
            &fields,
            request_id,
        )
        .await?;
        tx.commit().await?;
        Ok(payment)
    }

    /// The appointment of payment `id` once its link is made or refused, or after
    /// [`LINK_WAIT`] (still being made).
    pub async fn wait_for_link(
        db: &Db,
        doctor: &DoctorId,
        id: &str,
    ) -> Result<StoredAppointment, AppError> {
        let deadline = tokio::time::Instant::now() + LINK_WAIT;
        loop {
            let mut tx = db.tenant(doctor).await?;
            let payment = store::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
            let appointment = appointments::get(&mut tx, &payment.appointment_id)
                .await?
                .ok_or(AppError::NotFound)?;
            tx.commit().await?;
            if payment.status != PaymentStatus::Creating || tokio::time::Instant::now() >= deadline
            {
                return Ok(appointment);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
