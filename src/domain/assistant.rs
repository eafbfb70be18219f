//! The booking assistant's settings: whether it answers Instagram DMs, how it greets, how a
//! booking it takes is confirmed, and what it says to someone who may have an emergency.

use serde::{Deserialize, Serialize};

use super::text::optional_line;
use super::FieldErrors;

pub const MAX_GREETING_CHARS: usize = 300;
pub const MAX_EMERGENCY_LINE_CHARS: usize = 300;

/// What the assistant says first when the doctor has not written a greeting of their own.
pub fn default_greeting(practice_name: &str) -> String {
    format!(
        "Hi! I'm the automated assistant of {practice_name}. I can book, move or cancel \
         appointments and answer questions about fees and hours."
    )
}

/// What the assistant says about emergencies when the doctor has not written a line of their
/// own.
/// A button of the assistant's menu: the title shown and the payload a tap sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuButton {
    pub title: &'static str,
    pub payload: &'static str,
}

pub const BOOK: MenuButton = MenuButton {
    title: "Book",
    payload: "BOOK",
};
pub const MINE: MenuButton = MenuButton {
    title: "My appointments",
    payload: "MY_APPOINTMENTS",
};
pub const FEES: MenuButton = MenuButton {
    title: "Fees & hours",
    payload: "FEES_HOURS",
};
pub const HUMAN: MenuButton = MenuButton {
    title: "Talk to the clinic",
    payload: "TALK_TO_CLINIC",
};

/// The assistant's menu: its first list in a conversation, and on Instagram the ice breakers
/// and the persistent menu, whose taps send the same payloads at any time.
pub const MENU: [MenuButton; 4] = [BOOK, MINE, FEES, HUMAN];

pub const DEFAULT_EMERGENCY_LINE: &str =
    "If this is an emergency, call your local emergency number now.";

/// How a booking the assistant takes becomes an appointment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingMode {
    /// Confirmed as soon as the patient picks a time.
    #[default]
    Confirm,
    /// Held until the doctor approves it.
    Approval,
    /// Held until the patient pays online.
    Payment,
}

impl BookingMode {
    pub const ALL: [Self; 3] = [Self::Confirm, Self::Approval, Self::Payment];

    /// The name stored in the database and sent by the form.
    pub fn key(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Approval => "approval",
            Self::Payment => "payment",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Confirm => "Confirmed at once",
            Self::Approval => "Wait for my approval",
            Self::Payment => "Need online payment",
        }
    }

    /// Why the mode cannot be chosen now; `None` when it can. Online payment needs a payment
    /// provider connected (`payments`).
    pub fn unavailable(self, payments: bool) -> Option<&'static str> {
        match self {
            Self::Payment if !payments => {
                Some("Connect Stripe or Razorpay on the Payments pane first.")
            }
            Self::Payment | Self::Confirm | Self::Approval => None,
        }
    }
}

/// Valid assistant settings. Blank texts are `None`: the assistant uses its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantSettings {
    pub enabled: bool,
    pub greeting: Option<String>,
    pub booking_mode: BookingMode,
    pub emergency_line: Option<String>,
}

/// A practice that never saved its settings: the assistant answers, greets with the default
/// greeting and confirms bookings at once.
impl Default for AssistantSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            greeting: None,
            booking_mode: BookingMode::Confirm,
            emergency_line: None,
        }
    }
}

pub fn greeting(input: &str) -> Result<Option<String>, String> {
    optional_line(input, MAX_GREETING_CHARS, "A greeting")
}

pub fn emergency_line(input: &str) -> Result<Option<String>, String> {
    optional_line(input, MAX_EMERGENCY_LINE_CHARS, "The emergency line")
}

/// The booking mode a form sent: one of the keys, and one that can be chosen now (`payments`:
/// whether a payment provider is connected).
pub fn booking_mode(input: &str, payments: bool) -> Result<BookingMode, String> {
    let mode = BookingMode::from_key(input.trim()).ok_or("Choose how bookings are confirmed.")?;
    match mode.unavailable(payments) {
        Some(why) => Err(format!("{} is not available yet. {why}", mode.label())),
        None => Ok(mode),
    }
}

impl AssistantSettings {
    /// Field names are `enabled`, `greeting`, `booking_mode` and `emergency_line`; `payments`
    /// is whether a payment provider is connected.
    pub fn parse(
        enabled: bool,
        greeting_input: &str,
        booking_mode_input: &str,
        emergency_line_input: &str,
        payments: bool,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let greeting = errors.check("greeting", greeting(greeting_input));
        let booking_mode = errors.check("booking_mode", booking_mode(booking_mode_input, payments));
        let emergency_line = errors.check("emergency_line", emergency_line(emergency_line_input));
        match (greeting, booking_mode, emergency_line) {
            (Some(greeting), Some(booking_mode), Some(emergency_line)) => Ok(Self {
                enabled,
                greeting,
                booking_mode,
                emergency_line,
            }),
            _ => Err(errors),
        }
    }

    /// The greeting the assistant sends for the practice named so.
    pub fn greeting_for(&self, practice_name: &str) -> String {
        self.greeting
            .clone()
            .unwrap_or_else(|| default_greeting(practice_name))
    }

    /// The emergency line the assistant sends.
    pub fn emergency_line_or_default(&self) -> &str {
        self.emergency_line
            .as_deref()
            .unwrap_or(DEFAULT_EMERGENCY_LINE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_modes_round_trip_through_their_keys() {
        for mode in BookingMode::ALL {
            assert_eq!(BookingMode::from_key(mode.key()), Some(mode));
        }
        assert_eq!(BookingMode::from_key("instant"), None);
        assert_eq!(BookingMode::Approval.label(), "Wait for my approval");
    }

    #[test]
    fn settings_are_trimmed_and_blank_means_the_default() {
        let settings =
            AssistantSettings::parse(false, "  Hello from Rao Clinic!  ", "approval", " ", false)
                .unwrap();
        assert_eq!(
            settings,
            AssistantSettings {
                enabled: false,
                greeting: Some("Hello from Rao Clinic!".into()),
                booking_mode: BookingMode::Approval,
                emergency_line: None,
            }
        );
        assert_eq!(settings.emergency_line_or_default(), DEFAULT_EMERGENCY_LINE);
        assert_eq!(
            settings.greeting_for("Rao Clinic"),
            "Hello from Rao Clinic!"
        );
    }

    #[test]
    fn the_defaults_answer_confirm_and_greet_with_the_practice_name() {
        let settings = AssistantSettings::default();
        assert!(settings.enabled);
        assert_eq!(settings.booking_mode, BookingMode::Confirm);
        assert_eq!(
            settings.greeting_for("Rao Clinic"),
            "Hi! I'm the automated assistant of Rao Clinic. I can book, move or cancel \
             appointments and answer questions about fees and hours."
        );
    }

    #[test]
    fn texts_are_limited_to_300_characters_on_one_line() {
        let at_limit = "a".repeat(300);
        assert!(AssistantSettings::parse(true, &at_limit, "confirm", &at_limit, false).is_ok());
        let too_long = "a".repeat(301);
        let errors =
            AssistantSettings::parse(true, &too_long, "confirm", &too_long, false).unwrap_err();
        assert_eq!(
            errors.get("greeting"),
            Some("A greeting has at most 300 characters.")
        );
        assert_eq!(
            errors.get("emergency_line"),
            Some("The emergency line has at most 300 characters.")
        );
        let errors =
            AssistantSettings::parse(true, "Hi\u{7}", "confirm", "a\nb", false).unwrap_err();
        assert_eq!(
            errors.get("greeting"),
            Some("A greeting cannot contain control characters.")
        );
        assert!(errors.get("emergency_line").is_some());
    }

    #[test]
    fn online_payment_is_refused_until_payments_exist() {
        let errors = AssistantSettings::parse(true, "", "payment", "", false).unwrap_err();
        assert_eq!(
            errors.get("booking_mode"),
            Some("Need online payment is not available yet. Connect Stripe or Razorpay on the Payments pane first.")
        );
        let with_payments = AssistantSettings::parse(true, "", "payment", "", true).unwrap();
        assert_eq!(with_payments.booking_mode, BookingMode::Payment);
        let errors = AssistantSettings::parse(true, "", "", "", false).unwrap_err();
        assert_eq!(
            errors.get("booking_mode"),
            Some("Choose how bookings are confirmed.")
        );
    }
}
