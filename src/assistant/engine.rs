//! The conversation engine: (state, what the patient said, the practice's snapshot, now) ->
//! (new state, the messages to send, at most one effect). No I/O: the adapter
//! ([`super::turn`]) loads the snapshot, applies the effect in one transaction with the new
//! state, and queues the messages. Every list the engine shows is kept in the state, so a
//! typed number, a typed title or a tapped quick reply (its payload carries the state's
//! version) all pick from the same options.

use serde::{Deserialize, Serialize};

use super::catalogue as say;
use super::when;
use crate::domain::appointments::{cancel_reason, patient_name};
use crate::domain::assistant::{self, BookingMode};
use crate::domain::availability::{clock, LocalDate};
use crate::domain::methods::AppointmentMethod;
use crate::domain::outgoing::{
    cut, split_text, QuickReply, MAX_QUICK_REPLIES, MAX_TEXT_BYTES, MAX_TITLE_CHARS,
};
use crate::domain::profile::Phone;
use crate::domain::slots::{civil, local, DayLabel, FreeSlots, Slot, MINUTE_MS};

/// Days and times one list shows; with "Later"/"More", "Back" and "Talk to the clinic" they
/// fill Instagram's 13 quick replies.
const PAGE: usize = 10;
/// A conversation left this long mid-flow asks whether to continue.
const IDLE_MS: i64 = 30 * MINUTE_MS;
/// Instagram's standard messaging window after the patient's last message.
pub const WINDOW_MS: i64 = 24 * 60 * MINUTE_MS;
/// Misunderstandings in a row before the clinic is offered.
const PATIENCE: u8 = 3;

/// Payloads of the menu (also the ice breakers and the persistent menu): they never go stale.
pub const BOOK: &str = assistant::BOOK.payload;
pub const MINE: &str = assistant::MINE.payload;
pub const FEES: &str = assistant::FEES.payload;
pub const HUMAN: &str = assistant::HUMAN.payload;

/// What the engine knows of the practice, loaded fresh for every turn.
#[derive(Debug, Clone)]
pub struct Practice {
    pub name: String,
    pub greeting: String,
    pub emergency_line: String,
    pub zone: String,
    /// The doctor's country, for phone numbers typed without a country code.
    pub country: String,
    pub mode: BookingMode,
    pub services: Vec<Service>,
    pub methods: Vec<Method>,
    /// `Mon 09:00-13:00`, one line per weekday.
    pub hours: Vec<String>,
    /// Blocked days ahead, labelled.
    pub closed: Vec<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    /// Hours before an appointment after which it cannot be changed by message.
    pub notice_hours: u32,
    /// Today in the doctor's zone.
    pub today: LocalDate,
    /// Free slots for each service length in minutes.
    pub free: Vec<(u32, FreeSlots)>,
    /// The patient's upcoming appointments with this doctor.
    pub upcoming: Vec<Upcoming>,
    /// The patient's Instagram name, offered for the booking.
    pub instagram_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    /// Offered methods this service allows.
    pub methods: Vec<AppointmentMethod>,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub method: AppointmentMethod,
    /// `500.00 INR`.
    pub fee: String,
    pub instructions: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Upcoming {
    pub id: String,
    pub service_id: String,
    pub method: AppointmentMethod,
    pub starts_at: i64,
    /// `Mon 7 Dec 2026, 09:30`.
    pub label: String,
    /// Whether it may still be moved or cancelled by message (the notice period).
    pub changeable: bool,
}

/// What the patient did.
#[derive(Debug, Clone)]
pub enum Said {
    Text(String),
    /// A quick reply or a postback.
    Payload(String),
    /// A photo, a sticker, a story reply without text.
    Other,
}

/// One turn's input.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    pub said: Said,
    /// When the patient said it.
    pub at: i64,
    pub now: i64,
    /// The stored state's version; payloads carry `version + 1`, the version saved with the
    /// new state.
    pub version: i64,
    pub practice: &'a Practice,
}

/// Where the conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Nothing said yet.
    #[default]
    New,
    Menu,
    Service,
    Method,
    Day,
    Time,
    Name,
    Phone,
    Confirm,
    Mine,
    Appointment,
    CancelReason,
    /// "Shall we continue?" after a pause mid-flow.
    Resume,
}

/// An option of a list, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pick {
    Book,
    Mine,
    Fees,
    Human,
    Menu,
    Back,
    Service(String),
    Method(AppointmentMethod),
    Day(LocalDate),
    LaterDays,
    Time(i64),
    MoreTimes,
    Name(String),
    Confirm,
    ChangeTime,
    Appointment(String),
    Reschedule,
    CancelIt,
    Continue,
}

/// What the patient has chosen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub service: Option<String>,
    pub method: Option<AppointmentMethod>,
    pub day: Option<LocalDate>,
    pub start: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The appointment being moved or cancelled.
    pub appointment: Option<String>,
    pub day_page: usize,
    pub time_page: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub step: Step,
    /// The options last shown, in order.
    pub picks: Vec<Pick>,
    pub draft: Draft,
    pub misunderstood: u8,
    /// When the patient last said something.
    pub last_at: i64,
    /// The step interrupted by a pause ([`Step::Resume`]).
    pub paused_step: Option<Step>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
}

/// What the adapter does with the new state, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Book {
        service_id: String,
        method: AppointmentMethod,
        start: i64,
        name: String,
        phone: String,
    },
    Move {
        appointment_id: String,
        start: i64,
    },
    Cancel {
        appointment_id: String,
        reason: String,
    },
    /// Pause the assistant and mark the conversation "Needs you".
    Handoff {
        urgent: bool,
    },
}

/// A turn's result.
#[derive(Debug, Clone)]
pub struct Plan {
    pub state: State,
    pub messages: Vec<Outgoing>,
    pub effect: Option<Effect>,
}

/// Why the adapter could not apply an effect.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The time was taken meanwhile; the nearest free starts.
    Taken(Vec<i64>),
    /// Refused or failed for another reason.
    Refused,
}

/// Answers one thing the patient said.
pub fn reply(state: &State, turn: &Turn) -> Plan {
    let mut talk = Talk::new(state, turn);
    if turn.now - turn.at >= WINDOW_MS {
        // The Send API would refuse anything now; the doctor sees the message in the Inbox.
        return talk.finish(None);
    }
    let effect = talk.answer();
    talk.state.last_at = turn.at;
    talk.finish(effect)
}

/// The answer, instead of the planned one, when the adapter could not apply the effect that
/// `turn` planned from `state` (the state before the turn, with the patient's choices).
pub fn failed(state: &State, failure: &Failure, turn: &Turn) -> Plan {
    let mut talk = Talk::new(state, turn);
    talk.state.last_at = turn.at;
    let effect = match failure {
        Failure::Taken(starts) => {
            let free: Vec<&Slot> = talk
                .slots()
                .into_iter()
                .filter(|slot| starts.contains(&slot.start))
                .collect();
            talk.offer_instead(free)
        }
        Failure::Refused => {
            talk.text(say::FAILED);
            talk.handoff(false)
        }
    };
    talk.finish(effect)
}

/// A turn in progress.
struct Talk<'a> {
    state: State,
    turn: &'a Turn<'a>,
    practice: &'a Practice,
    messages: Vec<Outgoing>,
}

impl<'a> Talk<'a> {
    fn new(state: &State, turn: &'a Turn<'a>) -> Self {
        Self {
            state: state.clone(),
            turn,
            practice: turn.practice,
            messages: Vec::new(),
        }
    }

    /// The plan, each text within Instagram's 1,000 bytes (a long one goes out as several
    /// messages, the options under the last).
    fn finish(self, effect: Option<Effect>) -> Plan {
        let mut messages = Vec::with_capacity(self.messages.len());
        for message in self.messages {
            let mut parts = split_text(&message.text, MAX_TEXT_BYTES);
            let last = parts.pop().unwrap_or_default();
            messages.extend(parts.into_iter().map(|text| Outgoing {
                text,
                quick_replies: Vec::new(),
            }));
            messages.push(Outgoing {
                text: last,
                quick_replies: message.quick_replies,
            });
        }
        Plan {
            state: self.state,
            messages,
            effect,
        }
    }

    fn answer(&mut self) -> Option<Effect> {
        let first = self.state.step == Step::New;
        if first || self.turn.at - self.state.last_at >= WINDOW_MS {
            self.text(&self.practice.greeting.clone());
        }
        if let Said::Text(text) = &self.turn.said {
            if is_urgent(text) {
                self.text(&self.practice.emergency_line.clone());
                return self.handoff(true);
            }
        }
        let idle = !first && self.turn.at - self.state.last_at >= IDLE_MS;
        if idle && in_flow(self.state.step) {
            // A greeting after a pause asks to continue; a menu tap or "human" is obeyed.
            let greeting = matches!(&self.turn.said, Said::Text(t) if say::WORDS.menu.contains(&normal(t).as_str()));
            if !greeting {
                if let Some(effect) = self.global() {
                    return effect;
                }
            }
            self.state.paused_step = Some(self.state.step);
            self.state.step = Step::Resume;
            let what = self.progress();
            self.list(
                &say::shall_we_continue(&what),
                vec![
                    (say::CONTINUE.into(), Pick::Continue),
                    (say::START_OVER.into(), Pick::Menu),
                ],
            );
            return None;
        }
        if let Some(effect) = self.global() {
            return effect;
        }
        match self.understand() {
            Some(pick) => {
                self.state.misunderstood = 0;
                self.act(pick)
            }
            None if first => self.show_menu(),
            None => self.step_input(),
        }
    }

    /// Menu payloads and global words; `Some` when they decided the turn.
    fn global(&mut self) -> Option<Option<Effect>> {
        let pick = match &self.turn.said {
            Said::Payload(payload) => match payload.as_str() {
                BOOK => Pick::Book,
                MINE => Pick::Mine,
                FEES => Pick::Fees,
                HUMAN => Pick::Human,
                _ => return None,
            },
            Said::Text(text) => {
                let text = normal(text);
                if self.title_pick(&text).is_some() {
                    return None;
                }
                let words = &say::WORDS;
                if words.human.contains(&text.as_str()) {
                    Pick::Human
                } else if words.menu.contains(&text.as_str())
                    || words.cancel.contains(&text.as_str())
                {
                    Pick::Menu
                } else if words.back.contains(&text.as_str()) {
                    Pick::Back
                } else {
                    return None;
                }
            }
            Said::Other => return None,
        };
        self.state.misunderstood = 0;
        Some(self.act(pick))
    }

    /// The option the patient picked from the list shown, if any.
    fn understand(&mut self) -> Option<Pick> {
        match &self.turn.said {
            Said::Payload(payload) => {
                let (version, index) = parse_payload(payload)?;
                if version != self.turn.version {
                    self.text(say::STALE);
                    return None;
                }
                self.state.picks.get(index).cloned()
            }
            Said::Text(text) => {
                let text = normal(text);
                if let Ok(n) = text.parse::<usize>() {
                    if (1..=self.state.picks.len()).contains(&n) {
                        return self.state.picks.get(n - 1).cloned();
                    }
                }
                self.title_pick(&text).or_else(|| self.yes(&text))
            }
            Said::Other => None,
        }
    }

    /// "Yes" where the question has one way forward: confirming, or continuing.
    fn yes(&self, text: &str) -> Option<Pick> {
        let forward = self.state.picks.first()?;
        let agreed = say::WORDS.yes.contains(&text);
        (agreed && matches!(forward, Pick::Confirm | Pick::Continue)).then(|| forward.clone())
    }

    /// The option whose title is `text`, or the only one whose title contains it.
    fn title_pick(&self, text: &str) -> Option<Pick> {
        if text.is_empty() {
            return None;
        }
        let titles: Vec<(String, &Pick)> = self
            .state
            .picks
            .iter()
            .map(|pick| (normal(&self.title(pick)), pick))
            .collect();
        if let Some((_, pick)) = titles.iter().find(|(title, _)| title == text) {
            return Some((*pick).clone());
        }
        // A word of a service's or a method's name ("video") is enough; elsewhere a part of
        // a title is more likely a name or a reason than a choice.
        if text.chars().count() < 3 || !matches!(self.state.step, Step::Service | Step::Method) {
            return None;
        }
        let mut containing = titles.iter().filter(|(title, _)| title.contains(text));
        match (containing.next(), containing.next()) {
            (Some((_, pick)), None) => Some((*pick).clone()),
            _ => None,
        }
    }

    /// Free text the current step reads itself; else the step again with a hint.
    fn step_input(&mut self) -> Option<Effect> {
        let text = match &self.turn.said {
            Said::Text(text) => text.trim().to_owned(),
            _ => String::new(),
        };
        let stale = matches!(&self.turn.said, Said::Payload(p) if parse_payload(p).is_some());
        if stale {
            return self.show_step();
        }
        match self.state.step {
            Step::Day | Step::Time if !text.is_empty() => {
                if let Some(effect) = self.typed_when(&text) {
                    return effect;
                }
            }
            Step::Name if !text.is_empty() => match patient_name(&text) {
                Ok(name) => {
                    self.state.draft.name = Some(name);
                    self.state.misunderstood = 0;
                    return self.ask_phone();
                }
                Err(_) => return self.again(say::NAME_HINT),
            },
            Step::Phone if !text.is_empty() => match Phone::parse(&text, &self.practice.country) {
                Ok(phone) => {
                    self.state.draft.phone = Some(phone.as_str().to_owned());
                    self.state.misunderstood = 0;
                    return self.show_summary();
                }
                Err(_) => return self.again(say::PHONE_HINT),
            },
            Step::CancelReason if !text.is_empty() => match cancel_reason(&text) {
                Ok(reason) => {
                    let id = self.state.draft.appointment.clone()?;
                    let label = self
                        .upcoming(&id)
                        .map(|a| a.label.clone())
                        .unwrap_or_default();
                    self.text(&say::cancelled(&label));
                    self.state = State {
                        last_at: self.state.last_at,
                        ..State::default()
                    };
                    self.menu_list(say::MENU);
                    return Some(Effect::Cancel {
                        appointment_id: id,
                        reason,
                    });
                }
                Err(_) => return self.again(say::REASON_HINT),
            },
            _ => {}
        }
        let hint = match self.state.step {
            Step::Day => say::DAY_HINT,
            Step::Time => say::TIME_HINT,
            _ => say::PICK_HINT,
        };
        self.again(hint)
    }

    /// A misunderstanding: the step again with `hint`, or the clinic after a few.
    fn again(&mut self, hint: &str) -> Option<Effect> {
        self.state.misunderstood = self.state.misunderstood.saturating_add(1);
        if self.state.misunderstood >= PATIENCE {
            self.state.misunderstood = 0;
            self.list(
                say::STUCK,
                vec![
                    (say::TALK.into(), Pick::Human),
                    (say::MENU.into(), Pick::Menu),
                ],
            );
            return None;
        }
        self.text(&format!("{} {hint}", say::DIDNT_GET));
        self.show_step()
    }

    /// A typed day and/or time at the day or time step.
    fn typed_when(&mut self, text: &str) -> Option<Option<Effect>> {
        let today = civil(self.practice.today)?;
        let when = when::read(text, today)?;
        let day = when.day.map(local).or(self
            .state
            .draft
            .day
            .filter(|_| self.state.step == Step::Time));
        let day = day?;
        let on_day: Vec<Slot> = self
            .slots()
            .into_iter()
            .filter(|slot| slot.local.date == day)
            .cloned()
            .collect();
        self.state.draft.day = Some(day);
        self.state.draft.time_page = 0;
        self.state.misunderstood = 0;
        let Some(time) = when.time else {
            return Some(self.show_times());
        };
        let minute = u16::try_from(time.hour()).ok()? * 60 + u16::try_from(time.minute()).ok()?;
        if let Some(slot) = on_day.iter().find(|slot| slot.local.minute == minute) {
            return Some(self.act(Pick::Time(slot.start)));
        }
        let mut near: Vec<&Slot> = on_day.iter().collect();
        near.sort_by_key(|slot| (i32::from(slot.local.minute) - i32::from(minute)).abs());
        near.truncate(3);
        near.sort_by_key(|slot| slot.start);
        if near.is_empty() {
            return Some(self.show_times());
        }
        self.state.step = Step::Time;
        self.times_list(say::NOT_FREE, &near, false);
        Some(None)
    }

    fn act(&mut self, pick: Pick) -> Option<Effect> {
        let draft = &mut self.state.draft;
        match pick {
            Pick::Menu => {
                self.state = State {
                    last_at: self.state.last_at,
                    step: Step::Menu,
                    ..State::default()
                };
                self.show_menu()
            }
            Pick::Human => self.handoff(false),
            Pick::Fees => {
                self.text(&self.fees_and_hours());
                self.state.step = Step::Menu;
                self.menu_list(say::MENU);
                None
            }
            Pick::Book => {
                self.state.draft = Draft::default();
                self.start_booking()
            }
            Pick::Mine => self.show_mine(),
            Pick::Back => self.back(),
            Pick::Continue => {
                self.state.step = self.state.paused_step.take().unwrap_or(Step::Menu);
                self.show_step()
            }
            Pick::Service(id) => {
                draft.service = Some(id);
                draft.method = None;
                self.choose_method()
            }
            Pick::Method(method) => {
                draft.method = Some(method);
                draft.day_page = 0;
                self.show_days()
            }
            Pick::Day(day) => {
                draft.day = Some(day);
                draft.time_page = 0;
                self.show_times()
            }
            Pick::LaterDays => {
                draft.day_page += 1;
                self.show_days()
            }
            Pick::MoreTimes => {
                draft.time_page += 1;
                self.show_times()
            }
            Pick::Time(start) => {
                draft.start = Some(start);
                // A move keeps the patient's details; a booking asks for them once.
                let known = draft.name.is_some() && draft.phone.is_some();
                if draft.appointment.is_some() || known {
                    self.show_summary()
                } else {
                    self.ask_name()
                }
            }
            Pick::Name(name) => {
                draft.name = Some(name);
                self.ask_phone()
            }
            Pick::ChangeTime => self.show_days(),
            Pick::Confirm => self.confirm(),
            Pick::Appointment(id) => {
                draft.appointment = Some(id.clone());
                self.show_appointment(&id)
            }
            Pick::Reschedule => {
                let id = draft.appointment.clone()?;
                let appointment = self.upcoming(&id)?.clone();
                let draft = &mut self.state.draft;
                draft.service = Some(appointment.service_id);
                draft.method = Some(appointment.method);
                draft.day_page = 0;
                self.show_days()
            }
            Pick::CancelIt => {
                self.state.step = Step::CancelReason;
                self.state.picks.clear();
                self.list(say::CANCEL_REASON, vec![(say::KEEP_IT.into(), Pick::Back)]);
                None
            }
        }
    }

    fn back(&mut self) -> Option<Effect> {
        let draft = &self.state.draft;
        match self.state.step {
            Step::Method if self.bookable_services().len() > 1 => self.start_booking(),
            Step::Day if draft.appointment.is_some() => self.show_mine(),
            Step::Day if self.methods_for_service().len() > 1 => self.choose_method(),
            Step::Day => {
                if self.bookable_services().len() > 1 {
                    self.start_booking()
                } else {
                    self.show_menu()
                }
            }
            Step::Time => self.show_days(),
            Step::Name | Step::Phone => self.show_times(),
            Step::Confirm if draft.appointment.is_some() => self.show_times(),
            Step::Confirm => self.ask_phone(),
            Step::Appointment => self.show_mine(),
            Step::CancelReason => {
                let id = draft.appointment.clone()?;
                self.show_appointment(&id)
            }
            _ => self.show_menu(),
        }
    }

    fn show_step(&mut self) -> Option<Effect> {
        match self.state.step {
            Step::New | Step::Menu | Step::Resume => self.show_menu(),
            Step::Service => self.start_booking(),
            Step::Method => self.choose_method(),
            Step::Day => self.show_days(),
            Step::Time => self.show_times(),
            Step::Name => self.ask_name(),
            Step::Phone => self.ask_phone(),
            Step::Confirm => self.show_summary(),
            Step::Mine => self.show_mine(),
            Step::Appointment => {
                let id = self.state.draft.appointment.clone()?;
                self.show_appointment(&id)
            }
            Step::CancelReason => self.act(Pick::CancelIt),
        }
    }

    fn show_menu(&mut self) -> Option<Effect> {
        self.state.step = Step::Menu;
        self.menu_list(say::MENU);
        None
    }

    fn menu_list(&mut self, text: &str) {
        self.list(
            text,
            vec![
                (say::MENU_BOOK.into(), Pick::Book),
                (say::MENU_MINE.into(), Pick::Mine),
                (say::MENU_FEES.into(), Pick::Fees),
            ],
        );
    }

    fn start_booking(&mut self) -> Option<Effect> {
        let services = self.bookable_services();
        match services.as_slice() {
            [] => {
                self.text(say::CANNOT_BOOK);
                self.handoff(false)
            }
            [only] => {
                self.state.draft.service = Some(only.id.clone());
                self.choose_method()
            }
            _ => {
                self.state.step = Step::Service;
                let options = services
                    .iter()
                    .map(|s| (s.name.clone(), Pick::Service(s.id.clone())))
                    .collect();
                self.list(say::CHOOSE_SERVICE, options);
                None
            }
        }
    }

    fn choose_method(&mut self) -> Option<Effect> {
        let methods = self.methods_for_service();
        match methods.as_slice() {
            [] => {
                self.text(say::CANNOT_BOOK);
                self.handoff(false)
            }
            [only] => {
                self.state.draft.method = Some(only.method);
                self.show_days()
            }
            _ => {
                self.state.step = Step::Method;
                let options = methods
                    .iter()
                    .map(|m| (m.method.label().to_owned(), Pick::Method(m.method)))
                    .collect();
                self.list(say::CHOOSE_METHOD, options);
                None
            }
        }
    }

    fn show_days(&mut self) -> Option<Effect> {
        self.state.step = Step::Day;
        let free = self.free();
        let Some(free) = free else {
            self.text(say::NO_FREE_TIMES);
            return self.handoff(false);
        };
        let days: Vec<_> = free.days.iter().filter(|d| d.free > 0).copied().collect();
        if days.is_empty() {
            self.text(say::NO_FREE_TIMES);
            return self.handoff(false);
        }
        let pages = days.len().div_ceil(PAGE);
        let page = self.state.draft.day_page.min(pages - 1);
        self.state.draft.day_page = page;
        let mut options: Vec<(String, Pick)> = days
            .iter()
            .skip(page * PAGE)
            .take(PAGE)
            .map(|d| (short_day(d.date, d.weekday), Pick::Day(d.date)))
            .collect();
        if page + 1 < pages {
            options.push((say::LATER.into(), Pick::LaterDays));
        }
        options.push((say::BACK.into(), Pick::Back));
        self.list(say::CHOOSE_DAY, options);
        None
    }

    fn show_times(&mut self) -> Option<Effect> {
        let Some(day) = self.state.draft.day else {
            return self.show_days();
        };
        let slots: Vec<Slot> = self
            .slots()
            .into_iter()
            .filter(|slot| slot.local.date == day)
            .cloned()
            .collect();
        if slots.is_empty() {
            self.text(say::NO_MORE_DAYS);
            return self.show_days();
        }
        self.state.step = Step::Time;
        let pages = slots.len().div_ceil(PAGE);
        let page = self.state.draft.time_page.min(pages - 1);
        self.state.draft.time_page = page;
        let shown: Vec<&Slot> = slots.iter().skip(page * PAGE).take(PAGE).collect();
        let label = DayLabel(day, shown[0].local.weekday).to_string();
        let text = say::choose_time(&label, &self.practice.zone);
        self.times_list(&text, &shown, page + 1 < pages);
        None
    }

    fn times_list(&mut self, text: &str, slots: &[&Slot], more: bool) {
        let several_days = slots.windows(2).any(|w| w[0].local.date != w[1].local.date);
        let mut options: Vec<(String, Pick)> = slots
            .iter()
            .map(|slot| {
                let clock = clock(slot.local.minute);
                let title = if several_days {
                    format!("{} {clock}", short_day(slot.local.date, slot.local.weekday))
                } else {
                    clock
                };
                (title, Pick::Time(slot.start))
            })
            .collect();
        if more {
            options.push((say::MORE.into(), Pick::MoreTimes));
        }
        options.push((say::BACK.into(), Pick::Back));
        self.list(text, options);
    }

    fn ask_name(&mut self) -> Option<Effect> {
        self.state.step = Step::Name;
        let name = self.practice.instagram_name.clone();
        let options = name
            .iter()
            .map(|n| (n.clone(), Pick::Name(n.clone())))
            .collect();
        self.list(&say::name_question(name.as_deref()), options);
        None
    }

    fn ask_phone(&mut self) -> Option<Effect> {
        self.state.step = Step::Phone;
        self.list(say::PHONE_QUESTION, vec![(say::BACK.into(), Pick::Back)]);
        None
    }

    fn show_summary(&mut self) -> Option<Effect> {
        let Some(slot) = self.chosen_slot() else {
            return self.show_times();
        };
        self.state.step = Step::Confirm;
        let zone = self.practice.zone.clone();
        let text = if let Some(id) = &self.state.draft.appointment {
            let from = self
                .upcoming(id)
                .map(|a| a.label.clone())
                .unwrap_or_default();
            say::move_summary(&from, &slot.local.to_string(), &zone)
        } else {
            let draft = &self.state.draft;
            say::summary(
                &slot.local.to_string(),
                &zone,
                &self.what(),
                &self.fee(),
                draft.name.as_deref().unwrap_or_default(),
                draft.phone.as_deref().unwrap_or_default(),
            )
        };
        self.list(
            &text,
            vec![
                (say::CONFIRM.into(), Pick::Confirm),
                (say::CHANGE_TIME.into(), Pick::ChangeTime),
                (say::START_OVER.into(), Pick::Menu),
            ],
        );
        None
    }

    fn confirm(&mut self) -> Option<Effect> {
        let Some(slot) = self.chosen_slot() else {
            // Taken since it was offered: the three free times nearest to it.
            let wanted = self.state.draft.start.unwrap_or(self.turn.now);
            let mut near = self.slots();
            near.sort_by_key(|slot| ((slot.start - wanted).abs(), slot.start));
            near.truncate(3);
            near.sort_by_key(|slot| slot.start);
            return self.offer_instead(near);
        };
        let zone = self.practice.zone.clone();
        let when = slot.local.to_string();
        let draft = self.state.draft.clone();
        let effect = if let Some(appointment_id) = draft.appointment {
            self.text(&say::moved(&when, &zone));
            Effect::Move {
                appointment_id,
                start: slot.start,
            }
        } else {
            let (service_id, method, name, phone) =
                (draft.service?, draft.method?, draft.name?, draft.phone?);
            let text = match self.practice.mode {
                BookingMode::Approval => say::requested(&when, &zone, &self.what(), &self.fee()),
                BookingMode::Payment => say::held_for_payment(&when, &zone, &self.what()),
                BookingMode::Confirm => {
                    say::booked(&when, &zone, &self.what(), &self.fee(), &self.how())
                }
            };
            self.text(&text);
            Effect::Book {
                service_id,
                method,
                start: slot.start,
                name,
                phone,
            }
        };
        self.state = State {
            last_at: self.state.last_at,
            step: Step::Menu,
            ..State::default()
        };
        self.menu_list(say::MENU);
        Some(effect)
    }

    /// The chosen time is gone: say so and offer `free` instead (other days when empty).
    fn offer_instead(&mut self, free: Vec<&Slot>) -> Option<Effect> {
        self.state.draft.start = None;
        if free.is_empty() {
            self.text(say::TAKEN_NONE);
            return self.show_days();
        }
        self.state.step = Step::Time;
        self.times_list(say::TAKEN, &free, false);
        None
    }

    fn show_mine(&mut self) -> Option<Effect> {
        let upcoming = &self.practice.upcoming;
        if upcoming.is_empty() {
            self.text(say::NO_APPOINTMENTS);
            return self.show_menu();
        }
        self.state.step = Step::Mine;
        let mut options: Vec<(String, Pick)> = upcoming
            .iter()
            .take(PAGE)
            .map(|a| (a.label.clone(), Pick::Appointment(a.id.clone())))
            .collect();
        options.push((say::BACK.into(), Pick::Back));
        self.list(say::YOUR_APPOINTMENTS, options);
        None
    }

    fn show_appointment(&mut self, id: &str) -> Option<Effect> {
        let Some(appointment) = self.upcoming(id).cloned() else {
            return self.show_mine();
        };
        if !appointment.changeable {
            self.text(&say::too_late_to_cancel(self.practice.notice_hours));
            self.state.step = Step::Mine;
            self.list(
                say::WHAT_ABOUT_IT,
                vec![
                    (say::TALK.into(), Pick::Human),
                    (say::BACK.into(), Pick::Back),
                ],
            );
            return None;
        }
        self.state.step = Step::Appointment;
        let text = format!("{}\n{}", appointment.label, say::WHAT_ABOUT_IT);
        self.list(
            &text,
            vec![
                (say::RESCHEDULE.into(), Pick::Reschedule),
                (say::CANCEL_IT.into(), Pick::CancelIt),
                (say::BACK.into(), Pick::Back),
            ],
        );
        None
    }

    /// Hands the conversation to the clinic: the patient is told when they usually answer.
    fn handoff(&mut self, urgent: bool) -> Option<Effect> {
        let open: Vec<&String> = self
            .practice
            .hours
            .iter()
            .filter(|line| !line.ends_with(say::CLOSED))
            .collect();
        let when = if open.is_empty() {
            say::SOON.to_owned()
        } else {
            let hours = open
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            say::usual_hours(&hours, &self.practice.zone)
        };
        self.messages.push(Outgoing {
            text: say::handed_over(&when),
            quick_replies: Vec::new(),
        });
        self.state = State {
            last_at: self.state.last_at,
            step: Step::Menu,
            ..State::default()
        };
        Some(Effect::Handoff { urgent })
    }

    fn fees_and_hours(&self) -> String {
        let p = self.practice;
        let mut lines = vec![say::FEES.to_owned()];
        lines.extend(
            p.methods
                .iter()
                .map(|m| format!("- {}: {}", m.method.label(), m.fee)),
        );
        lines.push(format!("{} ({} time):", say::HOURS, p.zone));
        lines.extend(p.hours.iter().map(|h| format!("- {h}")));
        if !p.closed.is_empty() {
            lines.push(format!("{} {}", say::CLOSED_ON, p.closed.join(", ")));
        }
        if let Some(address) = &p.address {
            lines.push(format!("{} {address}", say::ADDRESS));
        }
        if let Some(note) = &p.note {
            lines.push(note.clone());
        }
        lines.join("\n")
    }

    /// A message of its own, with no options.
    fn text(&mut self, text: &str) {
        self.messages.push(Outgoing {
            text: text.to_owned(),
            quick_replies: Vec::new(),
        });
    }

    /// A message with options: numbered in the text (Instagram's desktop shows no quick
    /// replies) and as quick replies whose payloads carry the next version. "Talk to the
    /// clinic" is always among them.
    /// A list longer than Instagram allows (a practice with many services) shows its first
    /// twelve options.
    fn list(&mut self, text: &str, mut options: Vec<(String, Pick)>) {
        if !options.iter().any(|(_, pick)| *pick == Pick::Human) {
            options.truncate(MAX_QUICK_REPLIES - 1);
            options.push((say::TALK.into(), Pick::Human));
        }
        let numbered: Vec<String> = options
            .iter()
            .enumerate()
            .map(|(i, (title, pick))| match self.detail(pick) {
                Some(detail) => format!("{}. {title}: {detail}", i + 1),
                None => format!("{}. {title}", i + 1),
            })
            .collect();
        let version = self.turn.version + 1;
        let quick_replies = options
            .iter()
            .enumerate()
            .map(|(i, (title, _))| QuickReply {
                title: cut(title, MAX_TITLE_CHARS),
                payload: format!("a{version}:{i}"),
            })
            .collect();
        self.state.picks = options.into_iter().map(|(_, pick)| pick).collect();
        self.messages.push(Outgoing {
            text: format!("{text}\n{}", numbered.join("\n")),
            quick_replies,
        });
    }

    /// What the numbered list adds to an option's title.
    fn detail(&self, pick: &Pick) -> Option<String> {
        match pick {
            Pick::Method(method) => {
                let offered = self.practice.methods.iter().find(|m| m.method == *method)?;
                Some(offered.fee.clone())
            }
            _ => None,
        }
    }

    /// An option's title, as `title_pick` compares it with what the patient typed.
    fn title(&self, pick: &Pick) -> String {
        let p = self.practice;
        match pick {
            Pick::Book => say::MENU_BOOK.into(),
            Pick::Mine => say::MENU_MINE.into(),
            Pick::Fees => say::MENU_FEES.into(),
            Pick::Human => say::TALK.into(),
            Pick::Menu => say::START_OVER.into(),
            Pick::Back => say::BACK.into(),
            Pick::Service(id) => p
                .services
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            Pick::Method(method) => method.label().into(),
            Pick::Day(date) => civil(*date)
                .map(|d| short_day(*date, d.weekday().to_monday_zero_offset().unsigned_abs()))
                .unwrap_or_default(),
            Pick::LaterDays => say::LATER.into(),
            Pick::Time(start) => self
                .slots()
                .into_iter()
                .find(|slot| slot.start == *start)
                .map(|slot| clock(slot.local.minute))
                .unwrap_or_default(),
            Pick::MoreTimes => say::MORE.into(),
            Pick::Name(name) => name.clone(),
            Pick::Confirm => say::CONFIRM.into(),
            Pick::ChangeTime => say::CHANGE_TIME.into(),
            Pick::Appointment(id) => self
                .upcoming(id)
                .map(|a| a.label.clone())
                .unwrap_or_default(),
            Pick::Reschedule => say::RESCHEDULE.into(),
            Pick::CancelIt => say::CANCEL_IT.into(),
            Pick::Continue => say::CONTINUE.into(),
        }
    }

    fn bookable_services(&self) -> Vec<&'a Service> {
        let p = self.practice;
        p.services
            .iter()
            .filter(|s| {
                s.methods
                    .iter()
                    .any(|m| p.methods.iter().any(|o| o.method == *m))
            })
            .collect()
    }

    fn service(&self) -> Option<&'a Service> {
        let id = self.state.draft.service.as_ref()?;
        self.practice.services.iter().find(|s| &s.id == id)
    }

    fn methods_for_service(&self) -> Vec<&'a Method> {
        let Some(service) = self.service() else {
            return Vec::new();
        };
        self.practice
            .methods
            .iter()
            .filter(|m| service.methods.contains(&m.method))
            .collect()
    }

    fn method(&self) -> Option<&'a Method> {
        let chosen = self.state.draft.method?;
        self.practice.methods.iter().find(|m| m.method == chosen)
    }

    fn free(&self) -> Option<&'a FreeSlots> {
        let minutes = self.service()?.minutes;
        self.practice
            .free
            .iter()
            .find(|(length, _)| *length == minutes)
            .map(|(_, free)| free)
    }

    fn slots(&self) -> Vec<&'a Slot> {
        self.free()
            .map(|free| free.slots.iter().collect())
            .unwrap_or_default()
    }

    /// The chosen start, if it is still one of the free slots.
    fn chosen_slot(&self) -> Option<&'a Slot> {
        let start = self.state.draft.start?;
        self.slots().into_iter().find(|slot| slot.start == start)
    }

    fn upcoming(&self, id: &str) -> Option<&'a Upcoming> {
        self.practice.upcoming.iter().find(|a| a.id == id)
    }

    /// `Consultation, Video call`.
    fn what(&self) -> String {
        let service = self.service().map(|s| s.name.as_str()).unwrap_or_default();
        let method = self
            .state
            .draft
            .method
            .map(|m| m.label())
            .unwrap_or_default();
        format!("{service}, {method}")
    }

    fn fee(&self) -> String {
        self.method().map(|m| m.fee.clone()).unwrap_or_default()
    }

    /// Where or how the appointment happens: the method's instructions, else the address
    /// for visits by text/chat-free methods.
    fn how(&self) -> String {
        match self.method().and_then(|m| m.instructions.clone()) {
            Some(instructions) => format!("\n{instructions}"),
            None => String::new(),
        }
    }

    /// The booking so far, for "shall we continue?".
    fn progress(&self) -> String {
        match self.chosen_slot() {
            Some(slot) => format!("{}, {}", self.what(), slot.local),
            None if self.service().is_some() => self.what().trim_end_matches(", ").to_owned(),
            None => say::MENU_BOOK.to_lowercase(),
        }
    }
}

/// Whether `step` is in the middle of something the patient may want to continue.
fn in_flow(step: Step) -> bool {
    !matches!(step, Step::New | Step::Menu | Step::Resume)
}

/// `a{version}:{index}`.
fn parse_payload(payload: &str) -> Option<(i64, usize)> {
    let (version, index) = payload.strip_prefix('a')?.split_once(':')?;
    Some((version.parse().ok()?, index.parse().ok()?))
}

/// Lowercase, trimmed, without the punctuation people end messages with.
fn normal(text: &str) -> String {
    text.trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() && c != '+')
        .trim()
        .to_lowercase()
}

fn is_urgent(text: &str) -> bool {
    let text = text.to_lowercase();
    say::URGENT.iter().any(|phrase| text.contains(phrase))
}

/// `Tue 14 Dec`: fits a quick reply's 20 characters.
fn short_day(date: LocalDate, weekday: u8) -> String {
    let label = DayLabel(date, weekday).to_string();
    label
        .rsplit_once(' ')
        .map_or(label.clone(), |(day, _)| day.to_owned())
}

#[cfg(test)]
mod tests;
