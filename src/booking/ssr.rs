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
    /// `Confirmed`, or `Held` / `PendingPayment` to keep the time until the hold expires.
    pub status: Status,
    pub source: Source,
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
    let practice = practice(&mut tx).await?;
    let bookable = bookable(&mut tx, &practice, request.service_id, request.method).await?;
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
    for id in store::lapsed_overlapping(&mut tx, occupied, now).await? {
        expire(&mut tx, &id, now, request_id).await?;
    }
    let free = slots(&mut tx, &practice, bookable.duration_minutes, now).await?;
    if !free.slots.iter().any(|s| s.start == span.start) {
        let open = free_slots(&query(&practice, bookable.duration_minutes, &[], &[], now));
        return Err(if open.slots.iter().any(|s| s.start == span.start) {
            AppError::SlotTaken(nearest(&free, span.start))
        } else {
            not_a_slot()
        });
    }
    let patient_id = store::patient_by_phone(&mut tx, request.patient).await?;
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
        hold_expires_at: request
            .status
            .lapses()
            .then(|| now + i64::from(practice.rules.hold_minutes) * MINUTE_MS),
    };
    let id = match store::insert(&mut tx, &new).await {
        Ok(id) => id,
        Err(error) if store::is_overlap(&error) => {
            drop(tx);
            tracing::info!(doctor_id = %doctor, "booking lost a race for its slot");
            return Err(taken_meanwhile(db, doctor, &bookable, span.start, now).await);
        }
        Err(error) => return Err(error.into()),
    };
    let fields = [
        request.status.key().to_owned(),
        request.source.key().to_owned(),
    ];
    db::audit::record_about(
        &mut tx,
        "appointment.booked",
        Some(&id),
        &fields,
        request_id,
    )
    .await?;
    let booked = store::get(&mut tx, &id)
        .await?
        .ok_or_else(|| AppError::internal("booked appointment not found", &id))?;
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, appointment_id = %id, status = request.status.key(), "appointment booked");
    Ok(booked)
}

/// The refusal of a time that is no slot at all (not one that was taken).
fn not_a_slot() -> AppError {
    AppError::Invalid(FieldErrors::single(
        "starts_at",
        "That time cannot be booked; pick one of the free times.",
    ))
}

/// The refusal for a booking that lost its slot to one committed meanwhile.
async fn taken_meanwhile(
    db: &Db,
    doctor: &DoctorId,
    bookable: &Bookable,
    wanted: i64,
    now: i64,
) -> AppError {
    let alternatives = async {
        let mut tx = db.tenant(doctor).await?;
        let practice = practice(&mut tx).await?;
        let free = slots(&mut tx, &practice, bookable.duration_minutes, now).await?;
        Ok::<_, AppError>(nearest(&free, wanted))
    };
    match alternatives.await {
        Ok(alternatives) => AppError::SlotTaken(alternatives),
        Err(error) => error,
    }
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
    tx.commit().await?;
    tracing::info!(doctor_id = %doctor, appointment_id = %id, status = to.key(), "appointment changed");
    Ok(changed)
}

/// Marks one lapsed hold expired, in the caller's transaction; audited.
async fn expire(
    tx: &mut TenantTx,
    id: &str,
    now: i64,
    request_id: Option<&str>,
) -> Result<(), AppError> {
    let Some(current) = store::get(tx, id).await? else {
        return Ok(());
    };
    let timing = current.timing(now);
    if check_change(current.status, Status::Expired, timing).is_ok()
        && store::set_status(tx, id, current.status, Status::Expired, None).await?
    {
        let fields = [format!("status:{}", current.status.key())];
        db::audit::record_about(tx, "appointment.expired", Some(id), &fields, request_id).await?;
    }
    Ok(())
}

/// Marks every doctor's lapsed holds expired; how many.
pub async fn expire_lapsed(db: &Db, now: i64) -> Result<usize, AppError> {
    let lapsed = store::all_lapsed(db, now).await?;
    for (doctor, id) in &lapsed {
        let mut tx = db.tenant_writer(doctor).await?;
        expire(&mut tx, id, now, None).await?;
        tx.commit().await?;
    }
    Ok(lapsed.len())
}
