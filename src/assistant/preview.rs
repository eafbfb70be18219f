//! "Try your assistant": the doctor chats with their own assistant as a patient would. The
//! same engine answers from their real settings and free times, but as a dry run: nothing is
//! booked or held, nothing goes to Instagram, nothing is stored in a conversation. The
//! browser keeps the engine's state between turns and sends it back with the next one; the
//! state names only the doctor's own services and times, and each turn checks it against a
//! fresh snapshot of the practice, so a state that was tampered with can mislead nobody but
//! the doctor who sent it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::outgoing::QuickReply;
use crate::error::AppError;

/// The longest message the doctor may type (Instagram's own limit is 1,000 bytes).
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// One message of the assistant's, as Instagram would show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantMessage {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
}

/// What the assistant would have done, had a patient said this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WouldDo {
    /// `Would book: Consultation, Video call, Tue 8 Dec 2026, 11:30 (Asia/Kolkata time) for
    /// Ravi Kumar`.
    pub what: String,
    /// `Dry run: nothing was booked.`
    pub dry_run: String,
}

/// One turn of the dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedTurn {
    pub replies: Vec<AssistantMessage>,
    pub effect: Option<WouldDo>,
    /// The engine's state after the turn (JSON), to send back with the next one.
    pub state: String,
    /// Its version: the quick replies' payloads carry it.
    pub version: i64,
    /// Whether the assistant answers patients now (Setup → Assistant); the dry run works
    /// either way.
    pub answers_patients: bool,
}

/// What the doctor typed, trimmed: not blank, and no longer than a patient could send.
pub fn typed_message(input: &str) -> Result<String, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("Type a message first.".into());
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(format!(
            "Keep a message under {MAX_MESSAGE_CHARS} characters."
        ));
    }
    Ok(text.to_owned())
}

/// Answers `text` (what the doctor typed), or `payload` (the quick reply they tapped, whose
/// title is `text`) as the assistant would answer a patient, from the engine's `state` (JSON;
/// blank or unreadable: a new conversation) at `version`.
#[server(endpoint = "assistant/try")]
pub async fn try_assistant(
    text: String,
    payload: String,
    state: String,
    version: i64,
) -> Result<TriedTurn, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        dry_run::turn(db, doctor, &text, &payload, &state, version).await
    })
    .await
}

#[cfg(feature = "ssr")]
mod dry_run {
    use jiff::tz::TimeZone;

    use super::{typed_message, AssistantMessage, TriedTurn, WouldDo};
    use crate::assistant::engine::{self, Effect, Practice, Said, State, Turn};
    use crate::assistant::turn;
    use crate::db::{self, Db, DoctorId};
    use crate::domain::assistant::BookingMode;
    use crate::domain::slots::local_time;
    use crate::domain::FieldErrors;
    use crate::error::AppError;

    /// Payloads are ours (`a3:1`, `BOOK`); anything longer was not.
    const MAX_PAYLOAD_CHARS: usize = 64;
    /// Far more turns than a doctor takes; a larger version was not ours either.
    const MAX_VERSION: i64 = 1_000_000;

    pub async fn turn(
        db: &Db,
        doctor: &DoctorId,
        text: &str,
        payload: &str,
        state: &str,
        version: i64,
    ) -> Result<TriedTurn, AppError> {
        let said = said(text, payload).map_err(AppError::Invalid)?;
        let (state, version) = resume(state, version);
        let now = db::now_millis();
        let mut tx = db.tenant(doctor).await?;
        let settings = db::assistant::load(&mut tx).await?;
        let practice = turn::practice(&mut tx, &settings, None, now).await?;
        tx.commit().await?;
        let plan = engine::reply(
            &state,
            &Turn {
                said,
                at: now,
                now,
                version,
                practice: &practice,
            },
        );
        let state = serde_json::to_string(&plan.state)
            .map_err(|error| AppError::internal("assistant state unwritable", error))?;
        tracing::info!(doctor_id = %doctor, step = ?plan.state.step, "assistant tried");
        Ok(TriedTurn {
            replies: plan
                .messages
                .into_iter()
                .map(|m| AssistantMessage {
                    text: m.text,
                    quick_replies: m.quick_replies,
                })
                .collect(),
            effect: plan.effect.map(|effect| would_do(&effect, &practice)),
            state,
            version: version + 1,
            answers_patients: settings.enabled,
        })
    }

    /// The tapped payload, else the typed text.
    fn said(text: &str, payload: &str) -> Result<Said, FieldErrors> {
        let payload = payload.trim();
        if payload.is_empty() {
            return typed_message(text)
                .map(Said::Text)
                .map_err(|message| FieldErrors::single("text", message));
        }
        if payload.chars().count() > MAX_PAYLOAD_CHARS {
            return Err(FieldErrors::single(
                "text",
                "That option is not one of the assistant's. Start over.",
            ));
        }
        Ok(Said::Payload(payload.to_owned()))
    }

    /// The state the browser kept, or a new conversation when it does not read.
    fn resume(state: &str, version: i64) -> (State, i64) {
        match serde_json::from_str::<State>(state) {
            Ok(state) if (0..MAX_VERSION).contains(&version) => (state, version),
            _ => (State::default(), 0),
        }
    }

    /// The effect in the doctor's words.
    pub fn would_do(effect: &Effect, practice: &Practice) -> WouldDo {
        let zone = TimeZone::get(&practice.zone).unwrap_or(TimeZone::UTC);
        let when = |start: i64| format!("{} ({} time)", local_time(start, &zone), practice.zone);
        let (what, undone) = match effect {
            Effect::Book {
                service_id,
                method,
                start,
                name,
                ..
            } => {
                let service = practice
                    .services
                    .iter()
                    .find(|s| &s.id == service_id)
                    .map_or("a service", |s| s.name.as_str());
                let held = match practice.mode {
                    BookingMode::Confirm => "",
                    BookingMode::Approval => ", held for your approval",
                    BookingMode::Payment => ", held until it is paid",
                };
                let what = format!(
                    "Would book: {service}, {}, {} for {name}{held}",
                    method.label(),
                    when(*start)
                );
                (what, "booked")
            }
            Effect::Move { start, .. } => (
                format!("Would move the appointment to {}", when(*start)),
                "moved",
            ),
            Effect::Cancel { reason, .. } => (
                format!("Would cancel the appointment, saying why: {reason}"),
                "cancelled",
            ),
            Effect::Handoff { urgent } => {
                let what = if *urgent {
                    "Would hand the conversation to your team as urgent"
                } else {
                    "Would hand the conversation to your team"
                };
                (
                    format!("{what} and pause the assistant in it"),
                    "handed over",
                )
            }
        };
        WouldDo {
            what,
            dry_run: format!("Dry run: nothing was {undone}."),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::assistant::engine::Service;
        use crate::domain::availability::LocalDate;
        use crate::domain::methods::AppointmentMethod;

        fn practice(mode: BookingMode) -> Practice {
            Practice {
                name: "Rao Family Clinic".into(),
                greeting: "Hi!".into(),
                emergency_line: "Call 112.".into(),
                zone: "Asia/Kolkata".into(),
                country: "IN".into(),
                mode,
                services: vec![Service {
                    id: "s1".into(),
                    name: "Consultation".into(),
                    minutes: 30,
                    methods: vec![AppointmentMethod::Video],
                }],
                methods: vec![],
                hours: vec![],
                closed: vec![],
                address: None,
                note: None,
                notice_hours: 0,
                today: LocalDate {
                    year: 2026,
                    month: 12,
                    day: 7,
                },
                free: vec![],
                upcoming: vec![],
                instagram_name: None,
            }
        }

        /// Tue 8 Dec 2026, 11:30 in Kolkata (06:00 UTC).
        const START: i64 = 1_796_709_600_000;

        fn book() -> Effect {
            Effect::Book {
                service_id: "s1".into(),
                method: AppointmentMethod::Video,
                start: START,
                name: "Ravi Kumar".into(),
                phone: "+919876543210".into(),
            }
        }

        #[test]
        fn a_booking_is_described_in_the_practices_time_and_marked_a_dry_run() {
            let would = would_do(&book(), &practice(BookingMode::Confirm));
            assert_eq!(
                would.what,
                "Would book: Consultation, Video call, Tue 8 Dec 2026, 11:30 (Asia/Kolkata time) \
                 for Ravi Kumar"
            );
            assert_eq!(would.dry_run, "Dry run: nothing was booked.");
            let held = would_do(&book(), &practice(BookingMode::Approval));
            assert!(held.what.ends_with(", held for your approval"), "{held:?}");
        }

        #[test]
        fn a_handoff_says_the_team_would_take_over() {
            let would = would_do(
                &Effect::Handoff { urgent: false },
                &practice(BookingMode::Confirm),
            );
            assert!(
                would
                    .what
                    .starts_with("Would hand the conversation to your team"),
                "{would:?}"
            );
            assert_eq!(would.dry_run, "Dry run: nothing was handed over.");
        }

        #[test]
        fn a_state_that_does_not_read_starts_afresh() {
            assert_eq!(resume("{not json", 7), (State::default(), 0));
            assert_eq!(resume("", 3), (State::default(), 0));
            let saved = serde_json::to_string(&State {
                misunderstood: 2,
                ..State::default()
            })
            .unwrap();
            assert_eq!(resume(&saved, 4).1, 4);
            assert_eq!(resume(&saved, -1), (State::default(), 0));
            assert_eq!(resume(&saved, i64::MAX), (State::default(), 0));
        }

        #[test]
        fn blank_text_is_refused_and_a_payload_wins_over_its_title() {
            let blank = said("   ", "").unwrap_err();
            assert_eq!(blank.get("text"), Some("Type a message first."));
            assert!(matches!(said("Book", "BOOK"), Ok(Said::Payload(p)) if p == "BOOK"));
            assert!(matches!(said(" hi ", ""), Ok(Said::Text(t)) if t == "hi"));
            assert!(said("x", &"a".repeat(65)).is_err());
        }
    }
}
