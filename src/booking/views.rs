//! The server side of the appointment pages: stored appointments and free slots turned into
//! what the dashboard shows, in the doctor's time zone.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::ssr::{live_service, practice, slots, Practice};
use super::{
    AgendaView, AppointmentView, AppointmentsView, BookingChoices, CalendarDay, DayChoice,
    FreeTimesView, MethodChoice, ServiceChoice,
};
use crate::db::appointments::{self as store, StoredAppointment};
use crate::db::payments::StoredPayment;
use crate::db::{self, Db, DoctorId, TenantTx};
use crate::domain::appointments::{check_change, SlotChoice, Status};
use crate::domain::availability::{clock, parse_date, MINUTES_PER_DAY};
use crate::domain::money::Currency;
use crate::domain::slots::{civil, local, local_time, DayLabel, DAY_MS};
use crate::error::AppError;

fn weekday(date: Date) -> u8 {
    date.weekday().to_monday_zero_offset().unsigned_abs()
}

/// `09:30–10:00` after the start's day and time.
fn describe(appointment: &StoredAppointment, zone: &TimeZone) -> (String, u16, u16) {
    let start = local_time(appointment.starts_at, zone);
    let end = local_time(appointment.ends_at, zone);
    let end_minute = if end.date > start.date {
        MINUTES_PER_DAY
    } else {
        end.minute
    };
    (
        format!("{start}–{}", clock(end_minute)),
        start.minute,
        end_minute,
    )
}

/// What every appointment of one page is shown with: the doctor's zone, now, the latest
/// payment of each appointment, and whether a payment provider is connected.
struct Shown<'a> {
    zone: &'a TimeZone,
    now: i64,
    payments: HashMap<String, StoredPayment>,
    online: bool,
}

impl Shown<'_> {
    fn view(&self, appointment: &StoredAppointment) -> AppointmentView {
        let payment = self.payments.get(&appointment.id);
        let unpaid = super::payment::ssr::unpaid(appointment, payment);
        AppointmentView {
            payment: payment.map(|p| super::payment::ssr::view(p, self.zone)),
            can_mark_paid: unpaid && appointment.fee_minor > 0,
            can_ask_payment: unpaid && appointment.fee_minor > 0 && self.online,
            ..view(appointment, self.zone, self.now)
        }
    }
}

/// Whether the doctor has a payment provider connected.
async fn online(tx: &mut TenantTx) -> Result<bool, AppError> {
    Ok(db::payments::account(tx).await?.is_some())
}

fn view(appointment: &StoredAppointment, zone: &TimeZone, now: i64) -> AppointmentView {
    let (when, start_minute, end_minute) = describe(appointment, zone);
    let timing = appointment.timing(now);
    let fee = Currency::parse(&appointment.currency).map_or_else(
        |_| format!("{} {}", appointment.fee_minor, appointment.currency),
        |c| format!("{} {}", c.format_amount(appointment.fee_minor), c.code),
    );
    AppointmentView {
        id: appointment.id.clone(),
        when,
        date: local_time(appointment.starts_at, zone).date.to_string(),
        start_minute,
        end_minute,
        patient_name: appointment.patient_name.clone(),
        on_file_as: Some(appointment.patient_on_file.clone())
            .filter(|name| *name != appointment.patient_name),
        patient_phone: appointment.patient_phone.clone().unwrap_or_default(),
        note: appointment.note.clone(),
        service_name: appointment.service_name.clone(),
        method: appointment.method.label().to_owned(),
        fee,
        status: appointment.status,
        source: appointment.source.label().to_owned(),
        hold_expires: appointment
            .hold_expires_at
            .filter(|_| appointment.status.lapses())
            .map(|at| local_time(at, zone).to_string()),
        cancel_reason: appointment.cancel_reason.clone(),
        actions: crate::domain::appointments::DOCTOR_CHANGES
            .into_iter()
            .filter(|to| check_change(appointment.status, *to, timing).is_ok())
            .collect(),
        payment: None,
        can_mark_paid: false,
        can_ask_payment: false,
    }
}

/// One appointment's view, after a change.
pub async fn one(
    db: &Db,
    doctor: &DoctorId,
    appointment: &StoredAppointment,
    now: i64,
) -> Result<AppointmentView, AppError> {
    let mut tx = db.tenant(doctor).await?;
    let practice = practice(&mut tx).await?;
    let payments = db::payments::latest_for(&mut tx, &appointment.id)
        .await?
        .map(|p| (p.appointment_id.clone(), p))
        .into_iter()
        .collect();
    let shown = Shown {
        zone: &practice.zone,
        now,
        payments,
        online: online(&mut tx).await?,
    };
    tx.commit().await?;
    Ok(shown.view(appointment))
}

/// Whether an appointment belongs in the list under `filter`.
fn listed(appointment: &StoredAppointment, filter: &str, now: i64) -> bool {
    match filter {
        "all" => true,
        "" | "upcoming" => {
            appointment.ends_at > now
                && matches!(
                    appointment.status,
                    Status::Held | Status::PendingPayment | Status::Confirmed
                )
        }
        key => Status::from_key(key) == Some(appointment.status),
    }
}

/// How far back and ahead the list looks.
const LIST_PAST_DAYS: i64 = 90;
const LIST_AHEAD_DAYS: i64 = 366;

pub async fn appointments(
    db: &Db,
    doctor: &DoctorId,
    week: &str,
    filter: &str,
) -> Result<AppointmentsView, AppError> {
    let now = db::now_millis();
    let mut tx = db.tenant(doctor).await?;
    let practice = practice(&mut tx).await?;
    let zone = &practice.zone;
    let today = local_time(now, zone).date;
    let shown = if week.trim().is_empty() {
        today
    } else {
        parse_date(week)
            .map_err(|e| AppError::Invalid(crate::domain::FieldErrors::single("week", e)))?
    };
    let shown = civil(shown).ok_or(AppError::NotFound)?;
    let monday = shown
        .checked_sub(jiff::Span::new().days(i64::from(weekday(shown))))
        .map_err(|e| AppError::internal("week start", e))?;
    let day = |offset: i64| {
        monday
            .checked_add(jiff::Span::new().days(offset))
            .map_err(|e| AppError::internal("week day", e))
    };
    let start_of = |date: Date| -> Result<i64, AppError> {
        Ok(date
            .to_zoned(zone.clone())
            .map_err(|e| AppError::internal("local midnight", e))?
            .timestamp()
            .as_millisecond())
    };
    let (week_from, week_to) = (start_of(monday)?, start_of(day(7)?)?);
    let in_week = store::between(&mut tx, week_from, week_to).await?;
    let (list_from, list_to) = (
        now - LIST_PAST_DAYS * DAY_MS,
        now + LIST_AHEAD_DAYS * DAY_MS,
    );
    let listed_rows = store::between(&mut tx, list_from, list_to).await?;
    let mut payments = db::payments::latest_between(&mut tx, list_from, list_to).await?;
    payments.extend(db::payments::latest_between(&mut tx, week_from, week_to).await?);
    let shown = Shown {
        zone,
        now,
        payments,
        online: online(&mut tx).await?,
    };
    tx.commit().await?;

    let mut days = Vec::with_capacity(7);
    for offset in 0..7 {
        let date = day(offset)?;
        days.push(CalendarDay {
            label: DayLabel(local(date), weekday(date)).to_string(),
            appointments: in_week
                .iter()
                .filter(|a| a.status.occupies_time())
                .filter(|a| local_time(a.starts_at, zone).date == local(date))
                .map(|a| shown.view(a))
                .collect(),
        });
    }
    let opening = practice.week.0.iter().flatten();
    let first_hour = opening.clone().map(|r| r.start / 60).min().unwrap_or(8);
    let last_hour = opening.map(|r| r.end.div_ceil(60)).max().unwrap_or(18);
    let (first_hour, last_hour) = days.iter().flat_map(|d| &d.appointments).fold(
        (first_hour, last_hour),
        |(first, last), a| {
            (
                first.min(a.start_minute / 60),
                last.max(a.end_minute.div_ceil(60)),
            )
        },
    );
    let sunday = day(6)?;
    Ok(AppointmentsView {
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        week_label: format!(
            "{} – {}",
            DayLabel(local(monday), 0),
            DayLabel(local(sunday), 6)
        ),
        previous_week: local(day(-7)?).to_string(),
        next_week: local(day(7)?).to_string(),
        days,
        first_hour,
        last_hour: last_hour.max(first_hour + 1),
        list: listed_rows
            .iter()
            .filter(|a| listed(a, filter, now))
            .map(|a| shown.view(a))
            .collect(),
    })
}

/// How many upcoming appointments the dashboard home lists after today's.
const AGENDA_NEXT: usize = 5;

pub async fn agenda(db: &Db, doctor: &DoctorId) -> Result<AgendaView, AppError> {
    let now = db::now_millis();
    let mut tx = db.tenant(doctor).await?;
    let practice = match practice(&mut tx).await {
        Ok(practice) => practice,
        // No hours yet, so nothing can have been booked.
        Err(AppError::Conflict(_)) => {
            tx.commit().await?;
            return Ok(AgendaView {
                today: vec![],
                next: vec![],
            });
        }
        Err(error) => return Err(error),
    };
    let zone = &practice.zone;
    let rows = store::between(&mut tx, now - DAY_MS, now + LIST_AHEAD_DAYS * DAY_MS).await?;
    tx.commit().await?;
    let today = local_time(now, zone).date;
    let live = rows.iter().filter(|a| {
        matches!(
            a.status,
            Status::Held | Status::PendingPayment | Status::Confirmed
        )
    });
    let (todays, later): (Vec<_>, Vec<_>) =
        live.partition(|a| local_time(a.starts_at, zone).date == today);
    Ok(AgendaView {
        today: todays.iter().map(|a| view(a, zone, now)).collect(),
        next: later
            .iter()
            .filter(|a| a.starts_at > now)
            .take(AGENDA_NEXT)
            .map(|a| view(a, zone, now))
            .collect(),
    })
}

pub async fn options(db: &Db, doctor: &DoctorId) -> Result<BookingChoices, AppError> {
    let mut tx = db.tenant(doctor).await?;
    let phone_country = db::practice::profile(&mut tx)
        .await?
        .and_then(|p| p.phone_country)
        .unwrap_or_default();
    let practice = match practice(&mut tx).await {
        Ok(practice) => practice,
        Err(AppError::Conflict(missing)) => {
            tx.commit().await?;
            return Ok(BookingChoices {
                services: vec![],
                missing: Some(missing),
                phone_country,
            });
        }
        Err(error) => return Err(error),
    };
    let services = bookable_services(&mut tx, &practice).await?;
    tx.commit().await?;
    let missing = services.is_empty().then(|| {
        "Add a service that allows one of the methods you offer (Setup → Services) before booking."
            .to_owned()
    });
    Ok(BookingChoices {
        services,
        missing,
        phone_country,
    })
}

/// The live services that can be booked, each with the offered methods it allows, in the
/// doctor's order.
async fn bookable_services(
    tx: &mut TenantTx,
    practice: &Practice,
) -> Result<Vec<ServiceChoice>, AppError> {
    let methods = db::methods::load(tx).await?;
    let currency = methods
        .currency
        .as_deref()
        .and_then(|c| Currency::parse(c).ok());
    Ok(db::services::list(tx)
        .await?
        .into_iter()
        .filter(|s| !s.archived)
        .map(|s| ServiceChoice {
            minutes: s
                .duration_minutes
                .unwrap_or(practice.rules.appointment_minutes),
            methods: s
                .methods
                .iter()
                .filter_map(|m| methods.get(*m).filter(|setting| setting.offered))
                .map(|setting| MethodChoice {
                    key: setting.method.key().to_owned(),
                    label: setting.method.label().to_owned(),
                    fee: currency.map_or_else(String::new, |c| {
                        format!("{} {}", c.format_amount(setting.fee_minor), c.code)
                    }),
                })
                .collect(),
            id: s.id,
            name: s.name,
        })
        .filter(|s| !s.methods.is_empty())
        .collect())
}

/// Free times of `service` (blank: the first bookable one) on `day` (blank: the first day
/// with any).
pub async fn free_times(
    db: &Db,
    doctor: &DoctorId,
    service: &str,
    day: &str,
) -> Result<FreeTimesView, AppError> {
    let now = db::now_millis();
    let mut tx = db.tenant(doctor).await?;
    let practice = practice(&mut tx).await?;
    let service = if service.trim().is_empty() {
        bookable_services(&mut tx, &practice)
            .await?
            .into_iter()
            .next()
            .map(|s| s.id)
            .unwrap_or_default()
    } else {
        service.to_owned()
    };
    // The times depend on the service's length only, not on the method.
    let (_, minutes) = live_service(&mut tx, &practice, &service).await?;
    let free = slots(&mut tx, &practice, minutes, now).await?;
    tx.commit().await?;
    let wanted = (!day.trim().is_empty())
        .then(|| parse_date(day))
        .transpose()
        .map_err(|e| AppError::Invalid(crate::domain::FieldErrors::single("day", e)))?;
    let chosen = wanted
        .or_else(|| free.days.iter().find(|d| d.free > 0).map(|d| d.date))
        .or_else(|| free.days.first().map(|d| d.date));
    Ok(FreeTimesView {
        days: free
            .days
            .iter()
            .map(|d| DayChoice {
                date: d.date.to_string(),
                label: DayLabel(d.date, d.weekday).to_string(),
                free: d.free,
            })
            .collect(),
        day: chosen.map(|d| d.to_string()).unwrap_or_default(),
        times: free
            .slots
            .iter()
            .filter(|s| Some(s.local.date) == chosen)
            .map(|s| SlotChoice {
                starts_at: s.start,
                date: s.local.date.to_string(),
                label: clock(s.local.minute),
            })
            .collect(),
    })
}
