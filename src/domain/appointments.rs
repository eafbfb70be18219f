//! Appointments and their life: the statuses, which changes between them are allowed and when,
//! and the patient details a booking carries.

use serde::{Deserialize, Serialize};

use super::profile::Phone;
use super::text::{optional_line, optional_text};
use super::FieldErrors;

pub const MAX_PATIENT_NAME_CHARS: usize = 120;
pub const MAX_PATIENT_NOTE_CHARS: usize = 1000;
pub const MAX_CANCEL_REASON_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Kept for the patient while they decide or pay; lapses at its hold expiry.
    Held,
    /// A payment link was sent; lapses at its hold expiry like a hold.
    PendingPayment,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
    /// A hold or pending payment that lapsed.
    Expired,
}

impl Status {
    pub const ALL: [Self; 7] = [
        Self::Held,
        Self::PendingPayment,
        Self::Confirmed,
        Self::Cancelled,
        Self::Completed,
        Self::NoShow,
        Self::Expired,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::PendingPayment => "pending_payment",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
            Self::NoShow => "no_show",
            Self::Expired => "expired",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Held => "Held",
            Self::PendingPayment => "Awaiting payment",
            Self::Confirmed => "Confirmed",
            Self::Cancelled => "Cancelled",
            Self::Completed => "Completed",
            Self::NoShow => "No-show",
            Self::Expired => "Expired",
        }
    }

    /// Whether it keeps its time from being booked again (a hold only until its expiry).
    pub fn occupies_time(self) -> bool {
        !matches!(self, Self::Cancelled | Self::Expired)
    }

    /// Held or awaiting payment: it lapses at its hold expiry.
    pub fn lapses(self) -> bool {
        matches!(self, Self::Held | Self::PendingPayment)
    }

    /// The statuses it may move to, ignoring timing.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::Held => &[
                Self::PendingPayment,
                Self::Confirmed,
                Self::Cancelled,
                Self::Expired,
            ],
            Self::PendingPayment => &[Self::Confirmed, Self::Cancelled, Self::Expired],
            Self::Confirmed => &[Self::Completed, Self::NoShow, Self::Cancelled],
            Self::Cancelled | Self::Completed | Self::NoShow | Self::Expired => &[],
        }
    }
}

/// A free start time offered for booking, labelled in the doctor's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotChoice {
    /// UTC epoch milliseconds.
    pub starts_at: i64,
    /// The local date, `2026-12-07`.
    pub date: String,
    /// `Mon 7 Dec 2026, 09:30`.
    pub label: String,
}

/// The changes a doctor makes from the dashboard, in the order their buttons show; the others
/// (payment, expiry) happen on their own.
pub const DOCTOR_CHANGES: [Status; 4] = [
    Status::Confirmed,
    Status::Completed,
    Status::NoShow,
    Status::Cancelled,
];

/// What a status change is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub starts_at: i64,
    pub ends_at: i64,
    pub hold_expires_at: Option<i64>,
    pub now: i64,
}

impl Timing {
    fn hold_lapsed(&self) -> bool {
        self.hold_expires_at.is_some_and(|at| at <= self.now)
    }
}

/// Whether `from` may become `to` now; the reason when not.
pub fn check_change(from: Status, to: Status, timing: Timing) -> Result<(), String> {
    if from == to {
        return Err(format!("It is already {}.", to.label().to_lowercase()));
    }
    if !from.next().contains(&to) {
        return Err(match from.next() {
            [] => format!(
                "A {} appointment cannot be changed.",
                from.label().to_lowercase()
            ),
            _ => format!(
                "A {} appointment cannot become {}.",
                from.label().to_lowercase(),
                to.label().to_lowercase()
            ),
        });
    }
    match to {
        Status::Completed | Status::NoShow if timing.now < timing.starts_at => Err(format!(
            "It can be marked {} once it has started.",
            to.label().to_lowercase()
        )),
        Status::Cancelled if timing.now >= timing.ends_at => {
            Err("It has already ended; mark it completed or no-show instead.".into())
        }
        Status::Expired if !timing.hold_lapsed() => Err("Its hold has not lapsed yet.".into()),
        Status::PendingPayment | Status::Confirmed if from.lapses() && timing.hold_lapsed() => {
            Err("Its hold has lapsed; book the time again.".into())
        }
        _ => Ok(()),
    }
}

/// Where a booking came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Instagram,
    Dashboard,
    AssistantPreview,
}

impl Source {
    pub fn key(self) -> &'static str {
        match self {
            Self::Instagram => "instagram",
            Self::Dashboard => "dashboard",
            Self::AssistantPreview => "assistant_preview",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Instagram, Self::Dashboard, Self::AssistantPreview]
            .into_iter()
            .find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Instagram => "Instagram",
            Self::Dashboard => "Dashboard",
            Self::AssistantPreview => "Assistant preview",
        }
    }
}

pub fn patient_name(input: &str) -> Result<String, String> {
    optional_line(input, MAX_PATIENT_NAME_CHARS, "A name")?
        .ok_or_else(|| "Enter the patient's name.".to_owned())
}

pub fn patient_note(input: &str) -> Result<Option<String>, String> {
    optional_text(input, MAX_PATIENT_NOTE_CHARS, "A note")
}

pub fn cancel_reason(input: &str) -> Result<String, String> {
    optional_line(input, MAX_CANCEL_REASON_CHARS, "A reason")?
        .ok_or_else(|| "Say why it is cancelled; the reason stays with the appointment.".to_owned())
}

/// A patient as the doctor enters them when booking by hand.
#[derive(Clone, PartialEq, Eq)]
pub struct PatientInput {
    pub name: String,
    pub phone: Phone,
    pub note: Option<String>,
}

/// A patient's name, phone and note are personal data: never in a log line or a panic.
impl std::fmt::Debug for PatientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientInput { .. }")
    }
}

impl PatientInput {
    pub fn parse(name: &str, phone: &str, country: &str, note: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("patient_name", patient_name(name));
        let phone = errors.check(
            "patient_phone",
            if phone.trim().is_empty() {
                Err("Enter the patient's phone number.".to_owned())
            } else {
                Phone::parse(phone, country)
            },
        );
        let note = errors.check("note", patient_note(note));
        match (name, phone, note) {
            (Some(name), Some(phone), Some(note)) => Ok(Self { name, phone, note }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HOUR: i64 = 3_600_000;

    fn timing(now: i64) -> Timing {
        Timing {
            starts_at: 10 * HOUR,
            ends_at: 11 * HOUR,
            hold_expires_at: Some(5 * HOUR),
            now,
        }
    }

    #[test]
    fn keys_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_key(status.key()), Some(status));
        }
        assert_eq!(Status::from_key("booked"), None);
        for source in [
            Source::Instagram,
            Source::Dashboard,
            Source::AssistantPreview,
        ] {
            assert_eq!(Source::from_key(source.key()), Some(source));
        }
    }

    #[test]
    fn a_confirmed_appointment_is_completed_or_missed_only_once_it_started() {
        let change = |to, now| check_change(Status::Confirmed, to, timing(now));
        assert_eq!(
            change(Status::Completed, 9 * HOUR).unwrap_err(),
            "It can be marked completed once it has started."
        );
        assert!(change(Status::Completed, 10 * HOUR).is_ok());
        assert!(change(Status::NoShow, 12 * HOUR).is_ok());
        assert!(change(Status::Cancelled, 9 * HOUR).is_ok());
        assert_eq!(
            change(Status::Cancelled, 11 * HOUR).unwrap_err(),
            "It has already ended; mark it completed or no-show instead."
        );
    }

    #[test]
    fn holds_expire_only_after_their_expiry_and_cannot_be_confirmed_after_it() {
        let change = |to, now| check_change(Status::Held, to, timing(now));
        assert!(change(Status::Expired, 4 * HOUR).is_err());
        assert!(change(Status::Expired, 5 * HOUR).is_ok());
        assert!(change(Status::Confirmed, 4 * HOUR).is_ok());
        assert!(change(Status::Confirmed, 5 * HOUR).is_err());
        assert!(change(Status::PendingPayment, 4 * HOUR).is_ok());
    }

    #[test]
    fn final_statuses_never_change() {
        for from in [
            Status::Cancelled,
            Status::Completed,
            Status::NoShow,
            Status::Expired,
        ] {
            for to in Status::ALL {
                assert!(check_change(from, to, timing(10 * HOUR)).is_err());
            }
        }
        assert_eq!(
            check_change(Status::Cancelled, Status::Confirmed, timing(0)).unwrap_err(),
            "A cancelled appointment cannot be changed."
        );
        assert_eq!(
            check_change(Status::Confirmed, Status::Held, timing(0)).unwrap_err(),
            "A confirmed appointment cannot become held."
        );
    }

    #[test]
    fn a_manual_booking_needs_a_name_and_a_phone() {
        let errors = PatientInput::parse(" ", "", "GB", "").unwrap_err();
        assert!(errors.get("patient_name").is_some());
        assert!(errors.get("patient_phone").is_some());
        let patient = PatientInput::parse(" Asha Rao ", "098765 43210", "IN", "").unwrap();
        assert_eq!(patient.name, "Asha Rao");
        assert_eq!(patient.phone.as_str(), "+919876543210");
        let shown = format!("{patient:?} {:?}", patient.phone);
        assert!(
            !shown.contains("Asha") && !shown.contains("98765"),
            "{shown}"
        );
        assert!(cancel_reason("  ").is_err());
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(&Status::ALL[..])
    }

    proptest! {
        #[test]
        fn allowed_changes_follow_the_table(from in any_status(), to in any_status(), now in 0_i64..24 * HOUR) {
            let allowed = check_change(from, to, timing(now)).is_ok();
            if allowed {
                prop_assert!(from.next().contains(&to));
                // Nothing leaves a final status, and nothing returns to a hold.
                prop_assert!(!from.next().is_empty() && to != Status::Held);
            }
            if !from.next().contains(&to) {
                prop_assert!(!allowed);
            }
        }
    }
}
