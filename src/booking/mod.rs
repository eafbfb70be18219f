//! Appointments: the dashboard's list and week calendar, manual booking into free slots, and
//! status changes. The engine behind them is [`crate::domain::slots`]; the transactions that
//! keep two bookings from taking one time are in [`ssr`].

mod page;
pub mod payment;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
mod views;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use page::{AppointmentsRoute, NextAppointments};

use crate::domain::appointments::{SlotChoice, Status};
use crate::error::AppError;

/// One appointment as the dashboard shows it, times in the doctor's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentView {
    pub id: String,
    /// `Mon 7 Dec 2026, 09:30–10:00`.
    pub when: String,
    /// The local date, `2026-12-07`.
    pub date: String,
    /// Local minutes after midnight, for the calendar.
    pub start_minute: u16,
    pub end_minute: u16,
    /// The name typed for this booking.
    pub patient_name: String,
    /// The patient record's name, when it differs from the one typed for this booking.
    pub on_file_as: Option<String>,
    pub patient_phone: String,
    /// The note typed for this booking.
    pub note: Option<String>,
    pub service_name: String,
    pub method: String,
    /// `500.00 INR`.
    pub fee: String,
    pub status: Status,
    pub source: String,
    pub hold_expires: Option<String>,
    pub cancel_reason: Option<String>,
    /// The changes the doctor may make now.
    pub actions: Vec<Status>,
    /// Its latest payment, if one was asked for or made.
    pub payment: Option<payment::PaymentView>,
    /// Nothing is paid or asked yet: "Mark paid at the clinic" applies.
    pub can_mark_paid: bool,
    /// Like `can_mark_paid`, with a payment provider connected: "Payment link" applies.
    pub can_ask_payment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub label: String,
    pub appointments: Vec<AppointmentView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentsView {
    pub zone: String,
    /// `7–13 Dec 2026`.
    pub week_label: String,
    /// Mondays, `YYYY-MM-DD`, for the week arrows.
    pub previous_week: String,
    pub next_week: String,
    /// Monday first.
    pub days: Vec<CalendarDay>,
    /// The hours the calendar spans.
    pub first_hour: u16,
    pub last_hour: u16,
    /// The list under the filter, in time order.
    pub list: Vec<AppointmentView>,
}

/// A method a service can be booked by, with its fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodChoice {
    pub key: String,
    pub label: String,
    pub fee: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChoice {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    pub methods: Vec<MethodChoice>,
}

/// What the booking form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingChoices {
    /// Services with at least one offered method.
    pub services: Vec<ServiceChoice>,
    /// Why nothing can be booked yet, if so.
    pub missing: Option<String>,
    /// The doctor's own phone country, as the hint for patients' numbers.
    pub phone_country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayChoice {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `Mon 7 Dec 2026`.
    pub label: String,
    pub free: u32,
}

/// Free times for one service: every day up to the horizon, and the times of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeTimesView {
    pub days: Vec<DayChoice>,
    /// The day whose times are listed: the one asked for, else the first with a free time.
    pub day: String,
    pub times: Vec<SlotChoice>,
}

/// Today's appointments and the next few, for the dashboard home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaView {
    pub today: Vec<AppointmentView>,
    pub next: Vec<AppointmentView>,
}

/// The calendar for the week of `week` (a date, blank: this week) and the list under `status`
/// (`upcoming`, `all`, or a status key).
#[server(endpoint = "appointments")]
pub async fn list_appointments(week: String, status: String) -> Result<AppointmentsView, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        views::appointments(db, doctor, &week, &status).await
    })
    .await
}

#[server(endpoint = "appointments/agenda")]
pub async fn agenda() -> Result<AgendaView, AppError> {
    crate::context::for_doctor(async |db, doctor| views::agenda(db, doctor).await).await
}

#[server(endpoint = "appointments/options")]
pub async fn booking_options() -> Result<BookingChoices, AppError> {
    crate::context::for_doctor(async |db, doctor| views::options(db, doctor).await).await
}

/// Free times for `service` on `day` (`YYYY-MM-DD`, blank: the first day with any).
#[server(endpoint = "appointments/free")]
pub async fn free_times(service: String, day: String) -> Result<FreeTimesView, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        views::free_times(db, doctor, &service, &day).await
    })
    .await
}

/// Books a patient by hand into a free time; confirmed at once.
#[server(endpoint = "appointments/book")]
pub async fn book_appointment(
    service: String,
    method: String,
    starts_at: String,
    patient_name: String,
    patient_phone: String,
    phone_country: String,
    note: String,
) -> Result<AppointmentView, AppError> {
    use crate::domain::appointments::{PatientInput, Source};
    use crate::domain::methods::AppointmentMethod;

    crate::context::for_doctor(async |db, doctor| {
        let patient = PatientInput::parse(&patient_name, &patient_phone, &phone_country, &note);
        let mut errors = patient.as_ref().err().cloned().unwrap_or_default();
        let starts = errors.check(
            "starts_at",
            starts_at
                .trim()
                .parse::<i64>()
                .map_err(|_| "Choose a free time.".to_owned()),
        );
        let (Some(starts_at), Ok(patient)) = (starts, patient) else {
            return Err(AppError::Invalid(errors));
        };
        let request = ssr::BookingRequest {
            service_id: &service,
            method: AppointmentMethod::from_key(&method),
            starts_at,
            patient: &patient,
            patient_id: None,
            status: Status::Confirmed,
            source: Source::Dashboard,
            hold: ssr::Hold::AsSet,
        };
        let now = crate::db::now_millis();
        let id = crate::context::request_id();
        let booked = ssr::book(db, doctor, &request, now, id.as_deref()).await?;
        views::one(db, doctor, &booked, now).await
    })
    .await
}

/// Cancels (with a reason), confirms, or marks an appointment completed or no-show.
#[server(endpoint = "appointments/change")]
pub async fn change_appointment(
    id: String,
    status: String,
    reason: String,
) -> Result<AppointmentView, AppError> {
    use crate::domain::appointments::cancel_reason;
    use crate::domain::FieldErrors;

    crate::context::for_doctor(async |db, doctor| {
        let to = Status::from_key(&status)
            .filter(|s| crate::domain::appointments::DOCTOR_CHANGES.contains(s))
            .ok_or_else(|| AppError::Conflict("That is not a change you can make.".into()))?;
        let reason = match to {
            Status::Cancelled => Some(
                cancel_reason(&reason)
                    .map_err(|e| AppError::Invalid(FieldErrors::single("reason", e)))?,
            ),
            _ => None,
        };
        let now = crate::db::now_millis();
        let request_id = crate::context::request_id();
        let changed = ssr::change_status(
            db,
            doctor,
            &id,
            to,
            reason.as_deref(),
            now,
            request_id.as_deref(),
        )
        .await?;
        views::one(db, doctor, &changed, now).await
    })
    .await
}
