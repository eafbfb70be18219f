//! The practice profile: what the dashboard and, later, the assistant say about the practice.

use super::account::FullName;
use super::text::optional_text;
use super::FieldErrors;

pub const MAX_PRACTICE_NAME_CHARS: usize = 120;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_PUBLIC_NOTE_CHARS: usize = 280;

/// Countries offered as the hint for phone numbers typed without `+`: ISO code, name, calling
/// code, and whether a leading trunk `0` is dropped when the number is written
/// internationally (it is kept in Italy).
pub const PHONE_COUNTRIES: &[(&str, &str, &str, bool)] = &[
    ("AE", "United Arab Emirates", "971", true),
    ("AR", "Argentina", "54", true),
    ("AU", "Australia", "61", true),
    ("BD", "Bangladesh", "880", true),
    ("BR", "Brazil", "55", true),
    ("CA", "Canada", "1", false),
    ("CH", "Switzerland", "41", true),
    ("DE", "Germany", "49", true),
    ("EG", "Egypt", "20", true),
    ("ES", "Spain", "34", false),
    ("FR", "France", "33", true),
    ("GB", "United Kingdom", "44", true),
    ("ID", "Indonesia", "62", true),
    ("IE", "Ireland", "353", true),
    ("IN", "India", "91", true),
    ("IT", "Italy", "39", false),
    ("JP", "Japan", "81", true),
    ("KE", "Kenya", "254", true),
    ("KW", "Kuwait", "965", false),
    ("MX", "Mexico", "52", false),
    ("MY", "Malaysia", "60", true),
    ("NG", "Nigeria", "234", true),
    ("NL", "Netherlands", "31", true),
    ("NZ", "New Zealand", "64", true),
    ("PH", "Philippines", "63", true),
    ("PK", "Pakistan", "92", true),
    ("QA", "Qatar", "974", false),
    ("SA", "Saudi Arabia", "966", true),
    ("SG", "Singapore", "65", false),
    ("TR", "Türkiye", "90", true),
    ("US", "United States", "1", false),
    ("ZA", "South Africa", "27", true),
];

/// A phone number in E.164: `+`, a country code, at most 15 digits in all.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

/// A phone number is personal data: its `Debug` shows only the country code's first digit.
impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({}…)", self.0.get(..2).unwrap_or("+"))
    }
}

impl Phone {
    /// Reads `+44 20 7946 0958`, `0044 …`, or a national number with `country` (an ISO code
    /// from [`PHONE_COUNTRIES`]) as the hint.
    pub fn parse(input: &str, country: &str) -> Result<Self, String> {
        let input = input.trim();
        if let Some(bad) = input
            .chars()
            .find(|c| !(c.is_ascii_digit() || " -.()+".contains(*c)))
        {
            return Err(format!(
                "A phone number has digits, spaces and an optional leading +, not “{bad}”."
            ));
        }
        if input.rfind('+').is_some_and(|at| at > 0) {
            return Err("Only the first character may be +.".into());
        }
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        let international = if input.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else {
            let Some(&(_, _, code, drops_trunk_zero)) =
                PHONE_COUNTRIES.iter().find(|(iso, ..)| *iso == country)
            else {
                return Err("Choose the phone's country, or start the number with +.".into());
            };
            let national = if drops_trunk_zero {
                digits.strip_prefix('0').unwrap_or(&digits)
            } else if code == "1" && digits.len() == 11 {
                digits.strip_prefix('1').unwrap_or(&digits)
            } else {
                &digits
            };
            format!("{code}{national}")
        };
        if international.starts_with('0') || !(8..=15).contains(&international.len()) {
            return Err("That is not a complete phone number; check the digits.".into());
        }
        Ok(Self(format!("+{international}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn practice_name(input: &str) -> Result<String, String> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("Enter the practice's name.".into());
    }
    optional_text(&name, MAX_PRACTICE_NAME_CHARS, "A practice name").map(Option::unwrap_or_default)
}

pub fn address(input: &str) -> Result<Option<String>, String> {
    optional_text(input, MAX_ADDRESS_CHARS, "An address")
}

pub fn public_note(input: &str) -> Result<Option<String>, String> {
    optional_text(input, MAX_PUBLIC_NOTE_CHARS, "The note")
}

/// A valid profile form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub full_name: FullName,
    pub practice_name: String,
    pub phone: Option<Phone>,
    /// The country chosen as the phone hint, kept so the form shows it again.
    pub phone_country: Option<String>,
    pub address: Option<String>,
    pub public_note: Option<String>,
}

impl Profile {
    pub fn parse(
        full_name: &str,
        practice_name_input: &str,
        phone: &str,
        phone_country: &str,
        address_input: &str,
        public_note_input: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let full_name = errors.check("full_name", FullName::parse(full_name));
        let practice_name = errors.check("practice_name", practice_name(practice_name_input));
        let phone = if phone.trim().is_empty() {
            Some(None)
        } else {
            errors.check("phone", Phone::parse(phone, phone_country).map(Some))
        };
        let phone_country = PHONE_COUNTRIES
            .iter()
            .find(|(iso, ..)| *iso == phone_country)
            .map(|(iso, ..)| (*iso).to_owned());
        let address = errors.check("address", address(address_input));
        let public_note = errors.check("public_note", public_note(public_note_input));
        match (full_name, practice_name, phone, address, public_note) {
            (
                Some(full_name),
                Some(practice_name),
                Some(phone),
                Some(address),
                Some(public_note),
            ) => Ok(Self {
                full_name,
                practice_name,
                phone,
                phone_country,
                address,
                public_note,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn international_numbers_are_kept_as_typed_digits() {
        assert_eq!(
            Phone::parse("+44 20 7946 0958", "").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            Phone::parse("0044 20 7946 0958", "IN").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            Phone::parse("+1 (212) 555-0142", "").unwrap().as_str(),
            "+12125550142"
        );
    }

    #[test]
    fn national_numbers_take_the_country_hint_and_drop_the_trunk_zero() {
        assert_eq!(
            Phone::parse("098765 43210", "IN").unwrap().as_str(),
            "+919876543210"
        );
        assert_eq!(
            Phone::parse("020 7946 0958", "GB").unwrap().as_str(),
            "+442079460958"
        );
        // Italy keeps its leading zero; the US drops a typed leading 1.
        assert_eq!(
            Phone::parse("06 6982 1234", "IT").unwrap().as_str(),
            "+390669821234"
        );
        assert_eq!(
            Phone::parse("1 212 555 0142", "US").unwrap().as_str(),
            "+12125550142"
        );
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert!(Phone::parse("98765 43210", "")
            .unwrap_err()
            .contains("country"));
        assert!(Phone::parse("+91 98765x43210", "").is_err());
        assert!(Phone::parse("91+98765", "").is_err());
        assert!(Phone::parse("+12", "").is_err());
        assert!(Phone::parse("+1234567890123456", "").is_err());
        assert!(Phone::parse("+0123456789", "").is_err());
    }

    #[test]
    fn a_profile_reports_each_bad_field() {
        let errors =
            Profile::parse("", "", "12", "", &"a".repeat(501), &"n".repeat(281)).unwrap_err();
        for field in [
            "full_name",
            "practice_name",
            "phone",
            "address",
            "public_note",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn optional_fields_may_be_blank() {
        let profile = Profile::parse("Asha Rao", " Rao  Clinic ", " ", "", "  ", "").unwrap();
        assert_eq!(profile.practice_name, "Rao Clinic");
        assert_eq!(
            (profile.phone, profile.address, profile.public_note),
            (None, None, None)
        );
    }

    proptest! {
        #[test]
        fn every_accepted_phone_is_e164(input in "[+]?[0-9 ()-]{0,22}", country in "(IN|GB|US|IT|JP|)") {
            if let Ok(phone) = Phone::parse(&input, &country) {
                let digits = &phone.as_str()[1..];
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(digits.chars().all(|c| c.is_ascii_digit()));
                prop_assert!((8..=15).contains(&digits.len()));
                prop_assert!(!digits.starts_with('0'));
                // Parsing the stored form again changes nothing.
                prop_assert_eq!(Phone::parse(phone.as_str(), "").unwrap(), phone.clone());
            }
        }
    }
}
