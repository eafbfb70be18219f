//! Appointment methods (text/chat, voice call, video call): whether each is offered, its fee
//! and what a patient is told once booked.

use serde::{Deserialize, Serialize};

use super::money::Currency;
use super::text::optional_text;
use super::FieldErrors;

pub const MAX_INSTRUCTIONS_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AppointmentMethod {
    Text,
    Voice,
    Video,
}

impl AppointmentMethod {
    pub const ALL: [Self; 3] = [Self::Text, Self::Voice, Self::Video];

    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "Text/chat",
            Self::Voice => "Voice call",
            Self::Video => "Video call",
        }
    }

    /// The name stored in the database and used in form field names.
    pub fn key(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Voice => "voice",
            Self::Video => "video",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }
}

/// One method's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSetting {
    pub method: AppointmentMethod,
    pub offered: bool,
    /// In the currency's minor units.
    pub fee_minor: i64,
    pub instructions: Option<String>,
}

/// The methods-and-fees form as typed, one entry per method in [`AppointmentMethod::ALL`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodInput {
    pub offered: bool,
    pub fee: String,
    pub instructions: String,
}

pub fn instructions(input: &str) -> Result<Option<String>, String> {
    optional_text(input, MAX_INSTRUCTIONS_CHARS, "Instructions")
}

/// Valid methods and fees: the currency and each method's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodsAndFees {
    pub currency: Currency,
    pub methods: Vec<MethodSetting>,
}

impl MethodsAndFees {
    /// Field names are `currency` and `<method key>_fee` / `<method key>_instructions`. A fee is
    /// required only for an offered method (blank counts as 0 otherwise).
    pub fn parse(
        currency: &str,
        inputs: &[(AppointmentMethod, MethodInput)],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let currency = errors.check("currency", Currency::parse(currency));
        let mut methods = Vec::new();
        for (method, input) in inputs {
            let fee = match (currency, input.offered || !input.fee.trim().is_empty()) {
                (Some(currency), true) => errors.check(
                    &format!("{}_fee", method.key()),
                    currency.parse_amount(&input.fee),
                ),
                _ => Some(0),
            };
            let instructions = errors.check(
                &format!("{}_instructions", method.key()),
                instructions(&input.instructions),
            );
            if let (Some(fee_minor), Some(instructions)) = (fee, instructions) {
                methods.push(MethodSetting {
                    method: *method,
                    offered: input.offered,
                    fee_minor,
                    instructions,
                });
            }
        }
        match currency {
            Some(currency) if errors.is_empty() => Ok(Self { currency, methods }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(offered: bool, fee: &str) -> MethodInput {
        MethodInput {
            offered,
            fee: fee.into(),
            instructions: String::new(),
        }
    }

    #[test]
    fn fees_are_read_in_the_chosen_currency() {
        let parsed = MethodsAndFees::parse(
            "INR",
            &[
                (AppointmentMethod::Text, input(true, "0")),
                (AppointmentMethod::Voice, input(true, "499.50")),
                (AppointmentMethod::Video, input(false, "")),
            ],
        )
        .unwrap();
        let fees: Vec<_> = parsed.methods.iter().map(|m| m.fee_minor).collect();
        assert_eq!(fees, [0, 49_950, 0]);
        assert!(!parsed.methods[2].offered);
    }

    #[test]
    fn a_negative_fee_is_reported_on_its_own_field() {
        let errors =
            MethodsAndFees::parse("USD", &[(AppointmentMethod::Video, input(true, "-10"))])
                .unwrap_err();
        assert!(errors.get("video_fee").unwrap().contains("negative"));
    }

    #[test]
    fn an_unknown_currency_is_reported() {
        let errors = MethodsAndFees::parse("ABC", &[]).unwrap_err();
        assert!(errors.get("currency").is_some());
    }

    #[test]
    fn method_keys_round_trip() {
        for method in AppointmentMethod::ALL {
            assert_eq!(AppointmentMethod::from_key(method.key()), Some(method));
        }
    }
}
