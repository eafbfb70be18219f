//! Booking on the server: the doctor's settings read into a slot query, bookings checked and
//! written in one transaction, status changes, and the sweeper that expires lapsed holds.
//! "Now" is an argument everywhere, so tests can move the clock.

use jiff::tz::TimeZone;

use crate::db::appointments::{self as store, NewAppointment, StoredAppointment};
use crate::db::services::StoredService;
use crate::db::{self, Db, DoctorId, TenantTx};
use crate::domain::appointments::{check_change, PatientInput, SlotChoice, Source, Status};
use crate::domain::availability::{BookingRules, WeeklyHours};
use crate::domain::methods::AppointmentMethod;
use crate::domain::slots::{free_slots, FreeSlots, Interval, SlotQuery, DAY_MS, MINUTE_MS};
use crate::domain::FieldErrors;
use crate::error::AppError;

/// How many other times a refused booking suggests.
const ALTERNATIVES: usize = 3;

/// The settings the slot engine reads.
pub struct Practice {
    pub zone: TimeZone,
    pub rules: BookingRules,
    pub week: WeeklyHours,
}

pub async fn practice(tx: &mut TenantTx) -> Result<Practice, AppError> {
    let stored = db::availability::load(tx).await?;
    let Some((zone_name, rules)) = stored.settings else {
        return Err(AppError::Conflict(
            "Set your time zone and weekly hours (Setup → Availability) before booking.".into(),
        ));
    };
    let zone = crate::setup::availability::ssr::zone(&zone_name)
        .map_err(|e| AppError::internal("stored zone unknown", e))?;
    Ok(Practice {
        zone,
        rules,
        week: stored.week,
    })
}

/// A service and method that can be booked, with what it costs.
pub struct Bookable {
    pub service_id: String,
    pub duration_minutes: u32,
    pub method: AppointmentMethod,
    pub fee_minor: i64,
    pub currency: String,
}

/// A live service of the doctor's and its length in minutes.
pub async fn live_service(
    tx: &mut TenantTx,
    practice: &Practice,
    service_id: &str,
) -> Result<(StoredService, u32), AppError> {
    let service = db::services::list(tx)
        .await?
        .into_iter()
        .find(|s| s.id == service_id && !s.archived)
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("service", "Choose a service.")))?;
    let minutes = service
        .duration_minutes
        .unwrap_or(practice.rules.appointment_minutes);
    Ok((service, minutes))
}

/// Checks that the service is live and allows `method`, and that the practice offers it.
pub async fn bookable(
    tx: &mut TenantTx,
    practice: &Practice,
    service_id: &str,
    method: Option<AppointmentMethod>,
) -> Result<Bookable, AppError> {
    let (service, duration_minutes) = live_service(tx, practice, service_id).await?;
    let methods = db::methods::load(tx).await?;
    let chosen = method
        .filter(|m| service.methods.contains(m))
        .and_then(|m| methods.get(m).filter(|setting| setting.offered));
    let (Some(setting), Some(currency)) = (chosen, methods.currency.clone()) else {
        return Err(AppError::Invalid(FieldErrors::single(
            "method",
            "Choose one of the methods this service allows.",
        )));
    };
    Ok(Bookable {
        service_id: service.id,
        duration_minutes,
        method: setting.method,
        fee_minor: setting.fee_minor,
        currency,
    })
}

/// Free slots of `duration_minutes` from `now` to the horizon.
pub async fn slots(
    tx: &mut TenantTx,
    practice: &Practice,
    duration_minutes: u32,
    now: i64,
) -> Result<FreeSlots, AppError> {
    let until = now + i64::from(practice.rules.horizon_days + 1) * DAY_MS;
    let busy = store::busy(tx, now - DAY_MS, until, now).await?;
    let blocked: Vec<Interval> = db::availability::upcoming_blocks(tx, now)
        .await?
        .iter()
        .map(|b| Interval {
            start: b.starts_at,
            end: b.ends_at,
        })
        .collect();
    Ok(free_slots(&query(
        practice,
        duration_minutes,
        &blocked,
        &busy,
        now,
    )))
}

fn query<'a>(
    practice: &'a Practice,
    duration_minutes: u32,
    blocked: &'a [Interval],
    busy: &'a [Interval],
    now: i64,
) -> SlotQuery<'a> {
    SlotQuery {
        zone: &practice.zone,
        week: &practice.week,
        blocked,
        busy,
        duration_minutes,
        gap_minutes: practice.rules.gap_minutes,
        notice_minutes: practice.rules.notice_hours * 60,
        horizon_days: practice.rules.horizon_days,
        now,
    }
}

/// The free times nearest to `wanted`, in time order.
fn nearest(slots: &FreeSlots, wanted: i64) -> Vec<SlotChoice> {
    let mut near: Vec<_> = slots.slots.iter().collect();
    near.sort_by_key(|s| ((s.start - wanted).abs(), s.start));
    near.truncate(ALTERNATIVES);
    near.sort_by_key(|s| s.start);
    near.iter()
        .map(|s| SlotChoice {
            starts_at: s.start,
            date: s.local.date.to_string(),
            label: s.local.to_string(),
        })
        .collect()
}

/// What a booking asks for. Its `Debug` shows no patient details (see [`PatientInput`]).
#[derive(Debug, Clone)]
pub struct BookingRequest<'a> {
    pub service_id: &'a str,
    pub method: Option<AppointmentMethod>,
    pub starts_at: i64,
    pub patient: &'a PatientInput,
    /// The patient record the booking belongs to (the Instagram user booking in a DM); `None`
    /// finds or makes one by the phone typed.
    pub patient_id: Option<&'a str>,
    /// `Confirmed`, or `Held` / `PendingPayment` to keep the time until the hold expires.
    pub status: Status,
    pub source: Source,
    /// How long a `Held` or `PendingPayment` booking keeps its time.
    pub hold: Hold,
}

/// How long a hold lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// As the availability pane says.
    AsSet,
    /// As the availability pane says, but at least this many minutes (a payment provider's
    /// shortest link).
    AtLeast(u32),
    /// Until this instant (a moved hold keeps its end).
    Until(i64),
}

/// Books a free slot. The slot is checked again inside the transaction that writes it, and the
/// database refuses an overlap the check could not see (a booking committed meanwhile): either
/// way the answer is [`AppError::SlotTaken`] with the nearest free times.
pub async fn book(
    db: &Db,
    doctor: &DoctorId,
    request: &BookingRequest<'_>,
    now: i64,
    request_id: Option<&str>,
) -> Result<StoredAppointment, AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let booked = book_in(&mut tx, request, now, request_id).await?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, appointment_id = %booked.id, status = request.status.key(), "appointment booked");
    Ok(booked)
}

/// [`book`] in the caller's writing transaction: the booking commits with it (the assistant's
/// booking together with the conversation's next state and its replies). A lost race rolls
/// back only the booking's own writes.
pub async fn book_in(
    tx: &mut TenantTx,
    request: &BookingRequest<'_>,
    now: i64,
    request_id: Option<&str>,
) -> Result<StoredAppointment, AppError> {
    let practice = practice(tx).await?;
    let bookable = bookable(tx, &practice, request.service_id, request.method).await?;
    // Far outside the horizon cannot be a slot (and would overflow the sums below).
    let horizon = i64::from(practice.rules.horizon_days + 1) * DAY_MS;
    if !(now - DAY_MS..=now + horizon).contains(&request.starts_at) {
        return Err(not_a_slot());
    }
    let duration = i64::from(bookable.duration_minutes) * MINUTE_MS;
    let gap = i64::from(practice.rules.gap_minutes) * MINUTE_MS;
    let span = Interval {
        start: request.starts_at,
        end: request.starts_at + duration,
    };
    // What this booking will occupy: the database's overlap rule compares these spans.
    let occupied = Interval {
        start: span.start,
        end: span.end + gap,
    };
    // Holds that lapsed on this time are expired first, so the database sees the time free.
    for id in store::lapsed_overlapping(tx, occupied, now).await? {
        store::expire(tx, &id, now, request_id).await?;
    }
    let free = slots(tx, &practice, bookable.duration_minutes, now).await?;
    if !free.slots.iter().any(|s| s.start == span.start) {
        let open = free_slots(&query(&practice, bookable.duration_minutes, &[], &[], now));
        return Err(if open.slots.iter().any(|s| s.start == span.start) {
            AppError::SlotTaken(nearest(&free, span.start))
        } else {
            not_a_slot()
        });
    }
    let patient_id = match request.patient_id {
        Some(id) => {
            store::give_phone(tx, id, request.patient).await?;
            id.to_owned()
        }
        None => store::patient_by_phone(tx, request.patient).await?,
    };
    let new = NewAppointment {
        patient_id: &patient_id,
        patient: request.patient,
        service_id: &bookable.service_id,
        method: bookable.method,
        span,
        clear_until: occupied.end,
        status: request.status,
        fee_minor: bookable.fee_minor,
        currency: &bookable.currency,
        source: request.source,
        hold_expires_at: request.status.lapses().then(|| match request.hold {
            Hold::AsSet => now + i64::from(practice.rules.hold_minutes) * MINUTE_MS,
            Hold::AtLeast(least) => {
                now + i64::from(practice.rules.hold_minutes.max(least)) * MINUTE_MS
            }
            Hold::Until(at) => at,
        }),
    };
    // On PostgreSQL a refused statement spoils its transaction; a savepoint keeps the
    // caller's transaction usable after a lost race.
    tx.savepoint("SAVEPOINT booking").await?;
    let id = match store::insert(tx, &new).await {
        Ok(id) => id,
        Err(error) if store::is_overlap(&error) => {
            tx.savepoint("ROLLBACK TO SAVEPOINT booking").await?;
            tracing::info!(doctor_id = %tx.doctor(), "booking lost a race for its slot");
            let free = slots(tx, &practice, bookable.duration_minutes, now).await?;
            return Err(AppError::SlotTaken(nearest(&free, span.start)));
        }
        Err(error) => return Err(error.into()),
    };
    tx.savepoint("RELEASE SAVEPOINT booking").await?;
    let fields = [
        request.status.key().to_owned(),
        request.source.key().to_owned(),
    ];
    db::audit::record_about(tx, "appointment.booked", Some(&id), &fields, request_id).await?;
    store::get(tx, &id)
        .await?
        .ok_or_else(|| AppError::internal("booked appointment not found", &id))
}

/// The refusal of a time that is no slot at all (not one that was taken).
fn not_a_slot() -> AppError {
    AppError::Invalid(FieldErrors::single(
        "starts_at",
        "That time cannot be booked; pick one of the free times.",
    ))
}

/// Changes an appointment's status if the state machine allows it now; audited.
pub async fn change_status(
    db: &Db,
    doctor: &DoctorId,
    id: &str,
    to: Status,
    cancel_reason: Option<&str>,
    now: i64,
    request_id: Option<&str>,
) -> Result<StoredAppointment, AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let current = store::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let timing = current.timing(now);
    check_change(current.status, to, timing).map_err(AppError::Conflict)?;
    if !store::set_status(&mut tx, id, current.status, to, cancel_reason).await? {
        return Err(AppError::Conflict(
            "It was changed meanwhile; reload to see it.".into(),
        ));
    }
    let action = format!("appointment.{}", to.key());
    let fields = [format!("status:{}", current.status.key())];
    db::audit::record_about(&mut tx, &action, Some(id), &fields, request_id).await?;
    let changed = store::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if to == Status::Cancelled {
        crate::payments::settle::cancelled(&mut tx, &changed, now).await?;
    }
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, appointment_id = %id, status = to.key(), "appointment changed");
    Ok(changed)
}

/// Whether an appointment starting at `starts_at` may still be moved or cancelled by the
/// patient at `now`: not within the practice's notice period.
pub fn changeable_by_patient(rules: &BookingRules, starts_at: i64, now: i64) -> bool {
    starts_at - now >= i64::from(rules.notice_hours) * 60 * MINUTE_MS
}

/// The patient's own appointment `id`, if they may still change it now.
async fn patients_changeable(
    tx: &mut TenantTx,
    id: &str,
    patient_id: &str,
    now: i64,
) -> Result<StoredAppointment, AppError> {
    let practice = practice(tx).await?;
    let current = store::get(tx, id).await?.ok_or(AppError::NotFound)?;
    if current.patient_id != patient_id {
        return Err(AppError::NotFound);
    }
    if !changeable_by_patient(&practice.rules, current.starts_at, now) {
        return Err(AppError::Conflict("Within the notice period.".into()));
    }
    Ok(current)
}

/// The patient cancels their appointment `id` with `reason`, in the caller's transaction.
pub async fn cancel_for_patient(
    tx: &mut TenantTx,
    id: &str,
    patient_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), AppError> {
    let current = patients_changeable(tx, id, patient_id, now).await?;
    check_change(current.status, Status::Cancelled, current.timing(now))
        .map_err(AppError::Conflict)?;
    if !store::set_status(tx, id, current.status, Status::Cancelled, Some(reason)).await? {
        return Err(AppError::Busy);
    }
    let fields = [format!("status:{}", current.status.key())];
    db::audit::record_about(tx, "appointment.cancelled", Some(id), &fields, None).await?;
    crate::payments::settle::cancelled(tx, &current, now).await
}

/// The patient moves their appointment `id` to `starts_at`, in the caller's transaction: the
/// old time is given up only if the new one is booked (same service, method, patient, fee
/// rules and status); otherwise nothing changes and the error says why.
pub async fn move_for_patient(
    tx: &mut TenantTx,
    id: &str,
    patient_id: &str,
    starts_at: i64,
    now: i64,
) -> Result<StoredAppointment, AppError> {
    let current = patients_changeable(tx, id, patient_id, now).await?;
    check_change(current.status, Status::Cancelled, current.timing(now))
        .map_err(AppError::Conflict)?;
    let phone = current.patient_phone.clone().unwrap_or_default();
    let patient = PatientInput::parse(&current.patient_name, &phone, "", "")
        .map_err(|_| AppError::Conflict("The appointment has no phone number to keep.".into()))?;
    tx.savepoint("SAVEPOINT moving").await?;
    let moved = async {
        if !store::set_status(tx, id, current.status, Status::Cancelled, Some("Moved")).await? {
            return Err(AppError::Busy);
        }
        let request = BookingRequest {
            service_id: &current.service_id,
            method: Some(current.method),
            starts_at,
            patient: &patient,
            patient_id: Some(patient_id),
            status: current.status,
            source: Source::Instagram,
            hold: current.hold_expires_at.map_or(Hold::AsSet, Hold::Until),
        };
        book_in(tx, &request, now, None).await
    }
    .await;
    match moved {
        Ok(booked) => {
            tx.savepoint("RELEASE SAVEPOINT moving").await?;
            let fields = [format!("to:{}", booked.id)];
            db::audit::record_about(tx, "appointment.moved", Some(id), &fields, None).await?;
            // Its payment (a link still open, or the fee paid) goes with it.
            db::payments::follow(tx, id, &booked.id).await?;
            Ok(booked)
        }
        Err(error) => {
            tx.savepoint("ROLLBACK TO SAVEPOINT moving").await?;
            tx.savepoint("RELEASE SAVEPOINT moving").await?;
            Err(error)
        }
    }
}

/// Marks every doctor's lapsed holds expired; how many.
pub async fn expire_lapsed(db: &Db, now: i64) -> Result<usize, AppError> {
    let lapsed = store::all_lapsed(db, now).await?;
    for (doctor, id) in &lapsed {
        let mut tx = db.tenant_writer(doctor).await?;
        store::expire(&mut tx, id, now, None).await?;
        tx.commit().await?;
    }
    Ok(lapsed.len())
}
