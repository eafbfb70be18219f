use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::domain::availability::{parse_day, WeeklyHours};
use crate::domain::slots::{free_slots, local_time, Interval, SlotQuery};

const ZONE: &str = "Asia/Kolkata";

fn zone() -> TimeZone {
    TimeZone::get(ZONE).unwrap()
}

fn at(civil: &str) -> i64 {
    let civil: DateTime = civil.parse().unwrap();
    civil.to_zoned(zone()).unwrap().timestamp().as_millisecond()
}

/// Monday 7 Dec 2026, 09:00 in Kolkata.
fn monday() -> i64 {
    at("2026-12-07T09:00")
}

/// A practice open 10:00-13:00 every weekday, 30-minute consultations and 60-minute
/// therapy, by voice or video; `busy` times taken.
fn practice(now: i64, busy: &[Interval]) -> Practice {
    let day = parse_day("10:00-13:00").unwrap();
    let mut week = WeeklyHours::default();
    for weekday in 0..5 {
        week.0[weekday] = day.clone();
    }
    let free = |minutes| {
        free_slots(&SlotQuery {
            zone: &zone(),
            week: &week,
            blocked: &[],
            busy,
            duration_minutes: minutes,
            gap_minutes: 0,
            notice_minutes: 60,
            horizon_days: 30,
            now,
        })
    };
    Practice {
        name: "Asha Clinic".into(),
        greeting: "Hi! I'm the automated assistant of Asha Clinic.".into(),
        emergency_line: "Call 112 now.".into(),
        zone: ZONE.into(),
        country: "IN".into(),
        mode: BookingMode::Confirm,
        services: vec![
            Service {
                id: "s-consult".into(),
                name: "Consultation".into(),
                minutes: 30,
                methods: vec![AppointmentMethod::Voice, AppointmentMethod::Video],
            },
            Service {
                id: "s-therapy".into(),
                name: "Therapy".into(),
                minutes: 60,
                methods: vec![AppointmentMethod::Video],
            },
        ],
        methods: vec![
            Method {
                method: AppointmentMethod::Voice,
                fee: "500.00 INR".into(),
                instructions: None,
            },
            Method {
                method: AppointmentMethod::Video,
                fee: "800.00 INR".into(),
                instructions: Some("We send the video link an hour before.".into()),
            },
        ],
        hours: vec!["Mon 10:00-13:00".into(), "Sat closed".into()],
        closed: vec![],
        address: Some("12 MG Road".into()),
        note: None,
        notice_hours: 2,
        today: local_time(now, &zone()).date,
        free: vec![(30, free(30)), (60, free(60))],
        upcoming: vec![],
        instagram_name: Some("Ravi Kumar".into()),
    }
}

/// A patient talking to the engine, keeping its state and version as the adapter would.
struct Chat {
    state: State,
    version: i64,
    now: i64,
    practice: Practice,
    last: Plan,
}

impl Chat {
    fn new() -> Self {
        let now = monday();
        Self {
            state: State::default(),
            version: 0,
            now,
            practice: practice(now, &[]),
            last: Plan {
                state: State::default(),
                messages: vec![],
                effect: None,
            },
        }
    }

    fn said(&mut self, said: Said) -> &Plan {
        let turn = Turn {
            said,
            at: self.now,
            now: self.now,
            version: self.version,
            practice: &self.practice,
        };
        self.last = reply(&self.state, &turn);
        self.state = self.last.state.clone();
        self.version += 1;
        &self.last
    }

    /// Taps through a voice consultation on Tuesday 8 Dec at 11:30 for Ravi Kumar, up to
    /// its summary.
    fn tap_to_the_summary(&mut self) {
        self.said(Said::Payload(BOOK.into()));
        self.tap("Consultation");
        self.tap("Voice call");
        self.tap("Tue 8 Dec");
        self.tap("11:30");
        self.tap("Ravi Kumar");
        self.text("+91 98765 43210");
    }

    fn text(&mut self, text: &str) -> &Plan {
        self.said(Said::Text(text.into()))
    }

    /// Taps the quick reply titled `title` on the last message.
    fn tap(&mut self, title: &str) -> &Plan {
        let payload = self
            .last
            .messages
            .iter()
            .flat_map(|m| &m.quick_replies)
            .find(|q| q.title == title)
            .unwrap_or_else(|| panic!("no quick reply {title:?} in {:?}", self.last.messages))
            .payload
            .clone();
        self.said(Said::Payload(payload))
    }

    fn all_text(&self) -> String {
        self.last
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn titles(&self) -> Vec<String> {
        self.last
            .messages
            .iter()
            .flat_map(|m| &m.quick_replies)
            .map(|q| q.title.clone())
            .collect()
    }
}

#[test]
fn a_first_message_gets_the_disclosure_and_the_menu() {
    let mut chat = Chat::new();
    chat.text("hello there");
    let text = chat.all_text();
    assert!(
        text.contains("automated assistant of Asha Clinic"),
        "{text}"
    );
    assert_eq!(
        chat.titles(),
        [
            "Book",
            "My appointments",
            "Fees & hours",
            "Talk to the clinic"
        ]
    );
    assert!(
        text.contains("1. Book") && text.contains("4. Talk to the clinic"),
        "{text}"
    );
}

#[test]
fn a_booking_by_taps_ends_in_one_booking_of_a_free_time() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    assert_eq!(chat.titles()[..2], ["Consultation", "Therapy"]);
    chat.tap("Consultation");
    assert!(
        chat.all_text().contains("Video call: 800.00 INR"),
        "{}",
        chat.all_text()
    );
    chat.tap("Video call");
    // Monday's 10:00 is too soon after 09:00 with an hour's notice; the first day offered is
    // today (10:00 onwards would be 10:00, notice ends 10:00).
    let days = chat.titles();
    assert!(
        days.len() <= 13 && days.contains(&"Back".to_owned()),
        "{days:?}"
    );
    chat.tap("Tue 8 Dec");
    assert!(
        chat.all_text().contains("(Asia/Kolkata time)"),
        "{}",
        chat.all_text()
    );
    chat.tap("11:30");
    assert_eq!(chat.titles()[0], "Ravi Kumar");
    chat.tap("Ravi Kumar");
    chat.text("98765 43210");
    let summary = chat.all_text();
    assert!(
        summary.contains("Tue 8 Dec 2026, 11:30") && summary.contains("+919876543210"),
        "{summary}"
    );
    let plan = chat.tap("Confirm").clone();
    assert_eq!(
        plan.effect,
        Some(Effect::Book {
            service_id: "s-consult".into(),
            method: AppointmentMethod::Video,
            start: at("2026-12-08T11:30"),
            name: "Ravi Kumar".into(),
            phone: "+919876543210".into(),
        })
    );
    assert!(chat
        .all_text()
        .contains("We send the video link an hour before."));
}

#[test]
fn a_booking_by_typing_only_reads_numbers_days_and_times() {
    let mut chat = Chat::new();
    chat.text("hi");
    chat.text("1"); // Book
    chat.text("therapy"); // a service's name
    chat.text("tomorrow at 11am"); // the only method (video) is skipped
    assert!(chat.all_text().contains("Please type") || chat.all_text().contains("What name"));
    chat.text("Meera Shah");
    chat.text("+44 20 7946 0958");
    let plan = chat.text("Yes!").clone(); // Confirm
    assert!(
        matches!(plan.effect, Some(Effect::Book { start, .. }) if start == at("2026-12-08T11:00")),
        "{plan:?}"
    );
}

#[test]
fn a_time_that_is_not_free_offers_the_nearest_ones() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    chat.tap("Consultation");
    chat.tap("Voice call");
    chat.text("tue 5pm");
    assert!(
        chat.all_text().contains("isn't free"),
        "{}",
        chat.all_text()
    );
    assert_eq!(chat.titles()[..3], ["11:30", "12:00", "12:30"]);
}

#[test]
fn a_tap_on_an_old_list_never_acts() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    let old = chat.last.messages.last().unwrap().quick_replies[1]
        .payload
        .clone(); // Therapy
    chat.tap("Consultation");
    let plan = chat.said(Said::Payload(old)).clone();
    assert!(plan.effect.is_none());
    assert!(
        chat.all_text().contains("out of date"),
        "{}",
        chat.all_text()
    );
    assert_eq!(chat.state.step, Step::Method);
    assert_eq!(chat.state.draft.service.as_deref(), Some("s-consult"));
}

#[test]
fn three_misunderstandings_offer_the_clinic() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    chat.text("blah");
    chat.text("blah");
    chat.text("blah");
    assert!(chat
        .all_text()
        .contains("Would you like to talk to the clinic"));
    let plan = chat.tap("Talk to the clinic").clone();
    assert_eq!(plan.effect, Some(Effect::Handoff { urgent: false }));
    assert!(chat
        .all_text()
        .contains("usually answer during opening hours (Mon 10:00-13:00"));
}

#[test]
fn urgent_words_hand_over_with_the_emergency_line() {
    let mut chat = Chat::new();
    chat.text("hi");
    let plan = chat.text("I have chest pain since morning").clone();
    assert_eq!(plan.effect, Some(Effect::Handoff { urgent: true }));
    assert!(chat.all_text().contains("Call 112 now."));
}

#[test]
fn global_words_work_mid_flow_in_other_languages() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    chat.tap("Consultation");
    chat.text("atrás");
    assert_eq!(chat.state.step, Step::Service);
    chat.text("menu");
    assert_eq!(chat.state.step, Step::Menu);
    let plan = chat.text("humano").clone();
    assert_eq!(plan.effect, Some(Effect::Handoff { urgent: false }));
}

#[test]
fn a_pause_mid_flow_asks_to_continue() {
    let mut chat = Chat::new();
    chat.said(Said::Payload(BOOK.into()));
    chat.tap("Consultation");
    chat.now += 45 * MINUTE_MS;
    chat.text("hello?");
    assert!(
        chat.all_text().contains("Shall we continue"),
        "{}",
        chat.all_text()
    );
    chat.tap("Continue");
    assert_eq!(chat.state.step, Step::Method);
}

#[test]
fn nothing_is_planned_once_the_window_has_closed() {
    let mut chat = Chat::new();
    let turn = Turn {
        said: Said::Text("hi".into()),
        at: chat.now,
        now: chat.now + WINDOW_MS,
        version: 0,
        practice: &chat.practice,
    };
    let plan = reply(&chat.state, &turn);
    assert!(plan.messages.is_empty() && plan.effect.is_none());
    chat.text("hi");
    assert!(!chat.last.messages.is_empty());
}

#[test]
fn a_practice_that_cannot_take_bookings_hands_booking_to_the_clinic() {
    let mut chat = Chat::new();
    chat.practice.methods.clear();
    let plan = chat.said(Said::Payload(BOOK.into())).clone();
    assert_eq!(plan.effect, Some(Effect::Handoff { urgent: false }));
    chat.state = State::default();
    chat.said(Said::Payload(FEES.into()));
    assert!(chat
        .all_text()
        .contains("Opening hours (Asia/Kolkata time)"));
}

#[test]
fn an_appointment_is_cancelled_with_a_reason_and_moved_to_a_free_time() {
    let mut chat = Chat::new();
    chat.practice.upcoming = vec![Upcoming {
        id: "ap-1".into(),
        service_id: "s-consult".into(),
        method: AppointmentMethod::Voice,
        starts_at: at("2026-12-09T10:00"),
        label: "Wed 9 Dec 2026, 10:00".into(),
        changeable: true,
    }];
    chat.said(Said::Payload(MINE.into()));
    chat.tap("Wed 9 Dec 2026, 10:0"); // titles are cut to 20 characters
    chat.tap("Cancel it");
    let plan = chat.text("I feel better").clone();
    assert_eq!(
        plan.effect,
        Some(Effect::Cancel {
            appointment_id: "ap-1".into(),
            reason: "I feel better".into(),
        })
    );
    chat.said(Said::Payload(MINE.into()));
    chat.text("1");
    chat.tap("Reschedule");
    chat.tap("Thu 10 Dec");
    chat.tap("12:00");
    assert!(chat
        .all_text()
        .contains("Move your appointment from Wed 9 Dec 2026, 10:00"));
    let plan = chat.tap("Confirm").clone();
    assert_eq!(
        plan.effect,
        Some(Effect::Move {
            appointment_id: "ap-1".into(),
            start: at("2026-12-10T12:00"),
        })
    );
}

#[test]
fn a_lost_race_offers_the_nearest_free_times() {
    let mut chat = Chat::new();
    chat.tap_to_the_summary();
    let before = chat.state.clone();
    let turn = Turn {
        said: Said::Text("1".into()),
        at: chat.now,
        now: chat.now,
        version: chat.version,
        practice: &chat.practice,
    };
    let starts = vec![at("2026-12-08T11:00"), at("2026-12-08T12:00")];
    let plan = failed(&before, &Failure::Taken(starts), &turn);
    let titles: Vec<_> = plan.messages[0]
        .quick_replies
        .iter()
        .map(|q| q.title.as_str())
        .collect();
    assert_eq!(titles, ["11:00", "12:00", "Back", "Talk to the clinic"]);
    assert!(plan.messages[0].text.contains("just taken"));
    assert_eq!(plan.state.step, Step::Time);
    assert_eq!(
        plan.state.draft.name.as_deref(),
        Some("Ravi Kumar"),
        "the details are kept"
    );
}

#[test]
fn a_time_taken_since_it_was_offered_is_not_booked_and_the_nearest_are_offered() {
    let mut chat = Chat::new();
    chat.tap_to_the_summary();
    let taken = at("2026-12-08T11:30");
    let busy = [Interval {
        start: taken,
        end: taken + 30 * MINUTE_MS,
    }];
    chat.practice = practice(chat.now, &busy);
    let plan = chat.tap("Confirm").clone();
    assert_eq!(plan.effect, None);
    assert!(
        chat.all_text().contains("just taken"),
        "{}",
        chat.all_text()
    );
    assert_eq!(chat.titles()[..3], ["10:30", "11:00", "12:00"]);
    chat.tap("12:00");
    let plan = chat.tap("Confirm").clone();
    assert!(
        matches!(plan.effect, Some(Effect::Book { start, .. }) if start == at("2026-12-08T12:00"))
    );
}

fn any_said() -> impl Strategy<Value = Said> {
    prop_oneof![
        "[a-z0-9 :]{0,20}".prop_map(Said::Text),
        (0i64..40, 0usize..16).prop_map(|(v, i)| Said::Payload(format!("a{v}:{i}"))),
        prop::sample::select(vec![
            "1",
            "2",
            "3",
            "10",
            "back",
            "menu",
            "cancel",
            "human",
            "tomorrow",
            "tue 11am",
            "5pm",
            "14 dec",
            "Ravi",
            "+91 98765 43210",
            "Confirm",
            "consultation",
            "video",
        ])
        .prop_map(|s| Said::Text(s.into())),
        prop::sample::select(vec![BOOK, MINE, FEES, HUMAN]).prop_map(|p| Said::Payload(p.into())),
        Just(Said::Other),
        ".{0,30}".prop_map(Said::Text),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever a patient sends, in any order, with time passing: the engine never panics,
    /// books only free times, stays within Instagram's limits and always leaves a way to a
    /// human.
    #[test]
    fn any_conversation_stays_within_the_rules(
        events in prop::collection::vec((any_said(), 0i64..120), 1..40),
        taken in prop::collection::vec(0i64..200, 0..6),
    ) {
        let now = monday();
        let busy: Vec<Interval> = taken
            .iter()
            .map(|k| {
                let start = now + k * 30 * MINUTE_MS;
                Interval { start, end: start + 30 * MINUTE_MS }
            })
            .collect();
        let mut chat = Chat::new();
        chat.practice = practice(now, &busy);
        for (said, minutes) in events {
            chat.now += minutes * MINUTE_MS;
            let plan = chat.said(said).clone();
            for message in &plan.messages {
                prop_assert!(message.text.len() <= MAX_TEXT_BYTES);
                prop_assert!(message.quick_replies.len() <= MAX_QUICK_REPLIES);
                for reply in &message.quick_replies {
                    prop_assert!(reply.title.chars().count() <= MAX_TITLE_CHARS);
                }
            }
            if let Some(last) = plan.messages.last() {
                let human = last.quick_replies.iter().any(|q| q.title == say::TALK)
                    || matches!(plan.effect, Some(Effect::Handoff { .. }))
                    || plan.messages.iter().any(|m| m.text.contains(say::TALK));
                prop_assert!(human, "no way to a human: {:?}", plan.messages);
            }
            if let Some(Effect::Book { service_id, start, .. }) = &plan.effect {
                let minutes = chat.practice.services.iter().find(|s| &s.id == service_id).unwrap().minutes;
                let free = &chat.practice.free.iter().find(|(m, _)| *m == minutes).unwrap().1;
                prop_assert!(free.slots.iter().any(|s| s.start == *start), "booked a time that is not free");
                prop_assert!(busy.iter().all(|b| b.end <= *start || b.start >= start + i64::from(minutes) * MINUTE_MS));
            }
        }
    }
}
