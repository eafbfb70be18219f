//! The engine's adapter: for a patient's message, in the transaction that records it, loads
//! the doctor's practice as the engine sees it, runs the engine, applies its effect (a
//! booking, a move, a cancellation, a handoff) and saves the new state if no other turn saved
//! one meanwhile; the caller queues the replies in the same transaction. One transaction: a
//! crash answers the message again or not at all, never half, and never twice.

use jiff::tz::TimeZone;

use super::engine::{
    self, Effect, Failure, Method, Outgoing, Practice, Said, Service, State, Turn, Upcoming,
};
use crate::booking::ssr::{self as booking, BookingRequest, Hold};
use crate::config::Config;
use crate::db::conversations::{self, StoredConversation};
use crate::db::{self, TenantTx};
use crate::domain::appointments::{PatientInput, Source, Status};
use crate::domain::assistant::{AssistantSettings, BookingMode};
use crate::domain::availability::{format_day, WEEKDAYS};
use crate::domain::money::Currency;
use crate::domain::payments::Provider;
use crate::domain::slots::{local_time, DayLabel};
use crate::error::AppError;

/// Answers what the patient said in `conversation_id` at `at`: the replies to queue, none
/// when the assistant is off for the practice or paused in this conversation.
pub async fn answer(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
    said: Said,
    at: i64,
    now: i64,
) -> Result<Vec<Outgoing>, AppError> {
    let mut settings = db::assistant::load(tx).await?;
    // Online payment needs a provider: without one (switched off since), bookings wait for
    // the doctor's approval instead.
    let payee = match settings.booking_mode {
        BookingMode::Payment => db::payments::account(tx).await?.map(|a| a.provider),
        BookingMode::Confirm | BookingMode::Approval => None,
    };
    if settings.booking_mode == BookingMode::Payment && payee.is_none() {
        settings.booking_mode = BookingMode::Approval;
    }
    let Some(conversation) = conversations::get(tx, conversation_id).await? else {
        return Ok(Vec::new());
    };
    if !settings.enabled || conversation.assistant_paused {
        return Ok(Vec::new());
    }
    let (state, version) = load_state(tx, config, conversation_id).await?;
    let practice = practice(tx, &settings, Some(&conversation), now).await?;
    let turn = Turn {
        said,
        at,
        now,
        version,
        practice: &practice,
    };
    let plan = engine::reply(&state, &turn);
    let plan = match &plan.effect {
        Some(effect) => match apply(tx, effect, (&settings, payee), &conversation, now).await {
            Ok(()) => plan,
            Err(failure) => {
                let fallback = engine::failed(&state, &failure, &turn);
                if let Some(effect @ Effect::Handoff { .. }) = &fallback.effect {
                    apply(tx, effect, (&settings, payee), &conversation, now)
                        .await
                        .map_err(|_| AppError::Busy)?;
                }
                fallback
            }
        },
        None => plan,
    };
    save(tx, config, conversation_id, &plan.state, version).await?;
    tracing::info!(
        doctor_id = %tx.doctor(),
        conversation_id,
        step = ?plan.state.step,
        replies = plan.messages.len(),
        "assistant answered"
    );
    Ok(plan.messages)
}

async fn load_state(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
) -> Result<(State, i64), AppError> {
    let Some((sealed, version)) = db::assistant::load_state(tx, conversation_id).await? else {
        return Ok((State::default(), 0));
    };
    let bytes = config
        .token_keys
        .open_bytes(tx.doctor().as_str(), &sealed)
        .map_err(|error| AppError::internal("assistant state does not open", error))?;
    // A state from an older engine that no longer reads starts the conversation afresh.
    Ok((serde_json::from_slice(&bytes).unwrap_or_default(), version))
}

/// Saves the new state if it is still at `version`.
async fn save(
    tx: &mut TenantTx,
    config: &Config,
    conversation_id: &str,
    state: &State,
    version: i64,
) -> Result<(), AppError> {
    let doctor = tx.doctor().clone();
    let json = serde_json::to_vec(state)
        .map_err(|error| AppError::internal("assistant state unwritable", error))?;
    let sealed = config.token_keys.seal_bytes(doctor.as_str(), &json);
    if !db::assistant::save_state(tx, conversation_id, &sealed, version).await? {
        // Another turn of this conversation saved first: the worker tries this event again.
        return Err(AppError::Busy);
    }
    Ok(())
}

/// Applies `effect`; what the engine should tell the patient when it cannot be applied.
/// `payee` is the provider a booking is paid through: `Some` exactly when the settings' mode
/// is online payment.
async fn apply(
    tx: &mut TenantTx,
    effect: &Effect,
    (settings, payee): (&AssistantSettings, Option<Provider>),
    conversation: &StoredConversation,
    now: i64,
) -> Result<(), Failure> {
    let patient_id = conversation.patient_id.as_str();
    let result = match effect {
        Effect::Book {
            service_id,
            method,
            start,
            name,
            phone,
        } => {
            let patient = PatientInput::parse(name, phone, "", "").map_err(|_| Failure::Refused)?;
            let request = BookingRequest {
                service_id,
                method: Some(*method),
                starts_at: *start,
                patient: &patient,
                patient_id: Some(patient_id),
                status: match settings.booking_mode {
                    BookingMode::Confirm => Status::Confirmed,
                    BookingMode::Approval => Status::Held,
                    BookingMode::Payment => Status::PendingPayment,
                },
                source: Source::Instagram,
                hold: payee.map_or(Hold::AsSet, |p| Hold::AtLeast(p.shortest_hold_minutes())),
            };
            match booking::book_in(tx, &request, now, None).await {
                Ok(booked) => match payee {
                    Some(provider) => {
                        crate::payments::settle::ask(
                            tx,
                            &booked,
                            provider,
                            Some(&conversation.id),
                            now,
                        )
                        .await
                    }
                    None => Ok(()),
                },
                Err(error) => Err(error),
            }
        }
        Effect::Move {
            appointment_id,
            start,
        } => booking::move_for_patient(tx, appointment_id, patient_id, *start, now)
            .await
            .map(drop),
        Effect::Cancel {
            appointment_id,
            reason,
        } => booking::cancel_for_patient(tx, appointment_id, patient_id, reason, now).await,
        Effect::Handoff { urgent } => {
            let paused = conversations::set_paused(tx, &conversation.id, true, true).await;
            tracing::info!(doctor_id = %tx.doctor(), conversation_id = %conversation.id, urgent, "assistant handed the conversation to the clinic");
            paused.map(drop).map_err(AppError::from)
        }
    };
    result.map_err(|error| match error {
        AppError::SlotTaken(choices) => {
            Failure::Taken(choices.iter().map(|choice| choice.starts_at).collect())
        }
        error => {
            tracing::warn!(doctor_id = %tx.doctor(), conversation_id = %conversation.id, %error, "assistant's effect refused");
            Failure::Refused
        }
    })
}

/// The practice as the engine sees it now: the setup panes, free times, and the upcoming
/// appointments and Instagram name of the patient of `conversation`; without one (the
/// doctor trying their assistant) no appointments and no name.
pub async fn practice(
    tx: &mut TenantTx,
    settings: &AssistantSettings,
    conversation: Option<&StoredConversation>,
    now: i64,
) -> Result<Practice, AppError> {
    let profile = db::practice::profile(tx).await?.unwrap_or_default();
    let name = profile
        .practice_name
        .clone()
        .unwrap_or(profile.full_name.clone());
    let stored = db::methods::load(tx).await?;
    let currency = stored
        .currency
        .as_deref()
        .and_then(|c| Currency::parse(c).ok());
    let methods: Vec<Method> = currency
        .map(|currency| {
            stored
                .methods
                .iter()
                .filter(|m| m.offered)
                .map(|m| Method {
                    method: m.method,
                    fee: format!("{} {}", currency.format_amount(m.fee_minor), currency.code),
                    instructions: m.instructions.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let hours_set = match booking::practice(tx).await {
        Ok(practice) => Some(practice),
        Err(AppError::Conflict(_)) => None,
        Err(error) => return Err(error),
    };
    let mut practice = Practice {
        greeting: disclosed(settings.greeting_for(&name)),
        emergency_line: settings.emergency_line_or_default().to_owned(),
        name,
        zone: "UTC".into(),
        country: profile.phone_country.clone().unwrap_or_default(),
        mode: settings.booking_mode,
        services: Vec::new(),
        methods,
        hours: Vec::new(),
        closed: Vec::new(),
        address: profile.address.clone(),
        note: profile.public_note.clone(),
        notice_hours: 0,
        today: local_time(now, &TimeZone::UTC).date,
        free: Vec::new(),
        upcoming: Vec::new(),
        instagram_name: conversation
            .map(|c| c.patient_name.clone())
            .filter(|n| !n.is_empty()),
    };
    let Some(setup) = hours_set else {
        return Ok(practice);
    };
    practice.zone = setup.zone.iana_name().unwrap_or("UTC").to_owned();
    practice.today = local_time(now, &setup.zone).date;
    practice.notice_hours = setup.rules.notice_hours;
    practice.hours = (0..7)
        .map(|day| {
            let ranges = &setup.week.0[day];
            let short = &WEEKDAYS[day][..3];
            if ranges.is_empty() {
                format!("{short} {}", super::catalogue::CLOSED)
            } else {
                format!("{short} {}", format_day(ranges))
            }
        })
        .collect();
    practice.closed = db::availability::upcoming_blocks(tx, now)
        .await?
        .iter()
        .filter(|block| block.all_day)
        .take(5)
        .map(|block| {
            let local = local_time(block.starts_at, &setup.zone);
            DayLabel(local.date, local.weekday).to_string()
        })
        .collect();
    let offered: Vec<_> = practice.methods.iter().map(|m| m.method).collect();
    for service in db::services::list(tx)
        .await?
        .into_iter()
        .filter(|s| !s.archived)
    {
        let minutes = service
            .duration_minutes
            .unwrap_or(setup.rules.appointment_minutes);
        if !practice.free.iter().any(|(length, _)| *length == minutes) {
            let free = booking::slots(tx, &setup, minutes, now).await?;
            practice.free.push((minutes, free));
        }
        practice.services.push(Service {
            id: service.id,
            name: service.name,
            minutes,
            methods: service
                .methods
                .into_iter()
                .filter(|m| offered.contains(m))
                .collect(),
        });
    }
    let Some(conversation) = conversation else {
        return Ok(practice);
    };
    practice.upcoming = db::appointments::upcoming_for_patient(tx, &conversation.patient_id, now)
        .await?
        .into_iter()
        .map(|a| Upcoming {
            label: local_time(a.starts_at, &setup.zone).to_string(),
            changeable: booking::changeable_by_patient(&setup.rules, a.starts_at, now),
            id: a.id,
            service_id: a.service_id,
            method: a.method,
            starts_at: a.starts_at,
        })
        .collect();
    Ok(practice)
}

/// The greeting, saying that an automated assistant answers (Meta's policy and some laws ask
/// for it) when the doctor's own greeting does not.
fn disclosed(greeting: String) -> String {
    if greeting.to_lowercase().contains("automated") {
        greeting
    } else {
        format!("{greeting} (This is an automated assistant.)")
    }
}
