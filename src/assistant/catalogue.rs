//! Every word the assistant says, and the words it listens for, in one place: a translation
//! adds a catalogue like this one. Texts take the practice's facts as arguments and never
//! contain a patient's details except the name and phone they typed for a booking summary.
//! The greeting and the emergency advice are the doctor's settings
//! ([`crate::domain::assistant`]), with their defaults there, as are the menu's titles.

use crate::domain::assistant;

/// The words that work at any step (lowercase; matched against the whole message).
pub struct GlobalWords {
    pub menu: &'static [&'static str],
    pub back: &'static [&'static str],
    pub cancel: &'static [&'static str],
    pub human: &'static [&'static str],
    /// "Yes" to a question with one way forward (confirm the booking, continue).
    pub yes: &'static [&'static str],
}

/// English, with the Hindi (romanised) and Spanish basics patients mix in.
pub const WORDS: GlobalWords = GlobalWords {
    menu: &[
        "menu",
        "restart",
        "start over",
        "start again",
        "main menu",
        "hi",
        "hello",
        "hey",
        "hola",
        "namaste",
        "inicio",
        "menú",
    ],
    back: &[
        "back", "go back", "previous", "peeche", "wapas", "atrás", "atras", "volver",
    ],
    cancel: &[
        "cancel",
        "stop",
        "quit",
        "exit",
        "nevermind",
        "never mind",
        "band karo",
        "cancelar",
    ],
    human: &[
        "human",
        "person",
        "agent",
        "doctor",
        "clinic",
        "talk to the clinic",
        "talk to someone",
        "call me",
        "receptionist",
        "staff",
        "insaan",
        "daktar",
        "persona",
        "humano",
        "agente",
        "médico",
        "medico",
    ],
    yes: &[
        "yes",
        "y",
        "yeah",
        "yep",
        "ok",
        "okay",
        "sure",
        "book it",
        "go ahead",
        "haan",
        "han",
        "ji",
        "ji haan",
        "theek hai",
        "si",
        "sí",
        "vale",
        "claro",
    ],
};

/// Phrases that sound urgent (matched anywhere in the message, lowercase). They hand the chat
/// to the clinic at once with the emergency advice.
pub const URGENT: &[&str] = &[
    "emergency",
    "urgent",
    "chest pain",
    "heart attack",
    "can't breathe",
    "cannot breathe",
    "can not breathe",
    "not breathing",
    "bleeding",
    "unconscious",
    "fainted",
    "seizure",
    "stroke",
    "overdose",
    "suicide",
    "suicidal",
    "kill myself",
    "end my life",
    "poison",
    "emergencia",
    "urgencia",
    "dolor de pecho",
    "sangrado",
    "suicidio",
    "seene mein dard",
    "khoon",
    "behosh",
];

pub const MENU: &str = "What would you like to do?";
pub const MENU_BOOK: &str = assistant::BOOK.title;
pub const MENU_MINE: &str = assistant::MINE.title;
pub const MENU_FEES: &str = assistant::FEES.title;
pub const TALK: &str = assistant::HUMAN.title;
pub const BACK: &str = "Back";
pub const LATER: &str = "Later days";
pub const MORE: &str = "More times";
pub const CONFIRM: &str = "Confirm";
pub const CHANGE_TIME: &str = "Change time";
pub const START_OVER: &str = "Start over";
pub const CONTINUE: &str = "Continue";
pub const RESCHEDULE: &str = "Reschedule";
pub const CANCEL_IT: &str = "Cancel it";
pub const KEEP_IT: &str = "Keep it";

pub const CHOOSE_SERVICE: &str = "Which service would you like to book?";
pub const CHOOSE_METHOD: &str = "How would you like to meet?";
pub const CHOOSE_DAY: &str = "Which day suits you?";
pub const NO_MORE_DAYS: &str = "There are no later days with free times.";

pub fn choose_time(day: &str, zone: &str) -> String {
    format!("Free times on {day} ({zone} time):")
}

pub fn name_question(instagram_name: Option<&str>) -> String {
    match instagram_name {
        Some(name) => {
            format!("What name should the appointment be under? Tap \"{name}\" or type another.")
        }
        None => "What name should the appointment be under?".into(),
    }
}

pub const PHONE_QUESTION: &str =
    "What phone number can the clinic reach you on? (With the country code if it is not local.)";
pub const NAME_HINT: &str = "Please type the patient's name (up to 120 letters).";

pub fn summary(when: &str, zone: &str, what: &str, fee: &str, name: &str, phone: &str) -> String {
    format!(
        "Please check:\n{what}\n{when} ({zone} time)\nFee: {fee}\nName: {name}\nPhone: {phone}\n\nShall I book it?"
    )
}

pub fn move_summary(from: &str, to: &str, zone: &str) -> String {
    format!("Move your appointment from {from} to {to} ({zone} time)?")
}

pub fn booked(when: &str, zone: &str, what: &str, fee: &str, how: &str) -> String {
    format!("You're booked: {what} on {when} ({zone} time). Fee: {fee}.{how}")
}

pub fn held_for_payment(when: &str, zone: &str, what: &str) -> String {
    format!(
        "I've kept {what} on {when} ({zone} time) for you. It is confirmed once the fee is \
         paid: the payment link comes in a moment."
    )
}

pub fn requested(when: &str, zone: &str, what: &str, fee: &str) -> String {
    format!(
        "Request sent: {what} on {when} ({zone} time), fee {fee}. The clinic will confirm it \
         here soon; the time is kept for you until then."
    )
}

pub fn moved(when: &str, zone: &str) -> String {
    format!("Done: your appointment is now on {when} ({zone} time).")
}

pub fn cancelled(when: &str) -> String {
    format!("Your appointment on {when} is cancelled.")
}

pub const CANCEL_REASON: &str = "Sorry to hear that. In a few words, why are you cancelling?";
pub const REASON_HINT: &str = "Please give a short reason (up to 300 letters).";

pub fn too_late_to_cancel(hours: u32) -> String {
    format!(
        "It is less than {hours} hours before this appointment, so it can't be changed by \
         message. Please talk to the clinic."
    )
}

pub const NO_APPOINTMENTS: &str = "You have no upcoming appointments with us.";
pub const YOUR_APPOINTMENTS: &str = "Your upcoming appointments:";
pub const WHAT_ABOUT_IT: &str = "What would you like to do with it?";

pub const TAKEN: &str = "Sorry, that time was just taken. These are the nearest free times:";
pub const TAKEN_NONE: &str = "Sorry, that time was just taken, and no other time is free soon.";
pub const NOT_FREE: &str = "That time isn't free. Pick one of these:";
pub const NO_FREE_TIMES: &str =
    "There are no free times to book right now. I'll pass you to the clinic.";
pub const CANNOT_BOOK: &str =
    "Booking by message isn't available right now. I'll pass you to the clinic.";
pub const FAILED: &str = "Sorry, something went wrong on our side. I'll pass you to the clinic.";

pub const STALE: &str = "That list is out of date. Here is where we are:";
pub const DIDNT_GET: &str = "Sorry, I didn't get that.";
pub const PICK_HINT: &str = "Tap an option or type its number.";
pub const DAY_HINT: &str =
    "Tap a day, type its number, or write a day like \"tomorrow\" or \"14 Dec\".";
pub const TIME_HINT: &str =
    "Tap a time, type its number, or write a time like \"5pm\" or \"17:30\".";
pub const PHONE_HINT: &str =
    "That doesn't look like a phone number. Please type it with the country code, starting with +.";
pub const STUCK: &str = "I'm having trouble understanding. Would you like to talk to the clinic?";

pub fn shall_we_continue(what: &str) -> String {
    format!("Welcome back! Shall we continue where we left off ({what})?")
}

pub fn handed_over(when_answered: &str) -> String {
    format!("I've passed your message to the clinic's team. {when_answered}")
}

pub fn usual_hours(hours: &str, zone: &str) -> String {
    format!("They usually answer during opening hours ({hours}, {zone} time).")
}

pub const SOON: &str = "They will answer here as soon as they can.";

pub const FEES: &str = "Fees:";
pub const HOURS: &str = "Opening hours";
pub const CLOSED: &str = "closed";
pub const CLOSED_ON: &str = "Closed on:";
pub const ADDRESS: &str = "Address:";
