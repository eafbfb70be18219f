//! Services a practice offers: a name, an optional description, a duration, and the
//! appointment methods each may be booked with.

use super::methods::AppointmentMethod;
use super::text::optional_text;
use super::FieldErrors;

pub const MAX_SERVICE_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MIN_DURATION_MINUTES: u32 = 5;
pub const MAX_DURATION_MINUTES: u32 = 8 * 60;

/// A valid service form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDraft {
    pub name: String,
    pub description: Option<String>,
    /// `None`: the practice's default appointment length.
    pub duration_minutes: Option<u32>,
    pub methods: Vec<AppointmentMethod>,
}

/// The key under which names are unique: case and spacing do not make a new service.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn service_name(input: &str) -> Result<String, String> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("Give the service a name.".into());
    }
    if name.chars().count() > MAX_SERVICE_NAME_CHARS {
        return Err(format!(
            "A service name has at most {MAX_SERVICE_NAME_CHARS} characters."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("A service name cannot contain control characters.".into());
    }
    Ok(name)
}

pub fn description(input: &str) -> Result<Option<String>, String> {
    optional_text(input, MAX_DESCRIPTION_CHARS, "A description")
}

/// Minutes, or blank for the practice's default length.
pub fn duration(input: &str) -> Result<Option<u32>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let minutes: u32 = text
        .parse()
        .map_err(|_| "Enter the duration in whole minutes, like 30.".to_owned())?;
    if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&minutes) {
        return Err(format!(
            "A service lasts between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} minutes."
        ));
    }
    Ok(Some(minutes))
}

impl ServiceDraft {
    /// `offered` are the methods the practice offers; a service may allow only those.
    pub fn parse(
        name: &str,
        description_input: &str,
        duration_input: &str,
        methods: &[AppointmentMethod],
        offered: &[AppointmentMethod],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", service_name(name));
        let description = errors.check("description", description(description_input));
        let duration_minutes = errors.check("duration", duration(duration_input));
        if let Some(method) = methods.iter().find(|m| !offered.contains(m)) {
            errors.add(
                "methods",
                format!(
                    "{} is not offered by your practice; turn it on under Methods & fees first.",
                    method.label()
                ),
            );
        }
        match (name, description, duration_minutes) {
            (Some(name), Some(description), Some(duration_minutes)) if errors.is_empty() => {
                let mut methods = methods.to_vec();
                methods.sort();
                methods.dedup();
                Ok(Self {
                    name,
                    description,
                    duration_minutes,
                    methods,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppointmentMethod::{Text, Video, Voice};

    #[test]
    fn names_are_unique_regardless_of_case_and_spacing() {
        assert_eq!(name_key("  Skin   Check "), name_key("skin check"));
        assert_ne!(name_key("Skin check"), name_key("Skin checks"));
    }

    #[test]
    fn a_draft_reports_each_bad_field() {
        let errors =
            ServiceDraft::parse("  ", &"d".repeat(501), "3", &[Video], &[Text]).unwrap_err();
        for field in ["name", "description", "duration", "methods"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn blank_duration_means_the_default_length_and_methods_are_deduplicated() {
        let draft = ServiceDraft::parse(
            "Consultation",
            "",
            " ",
            &[Voice, Text, Voice],
            &[Text, Voice],
        )
        .unwrap();
        assert_eq!(draft.duration_minutes, None);
        assert_eq!(draft.methods, [Text, Voice]);
    }

    #[test]
    fn durations_are_whole_minutes_within_limits() {
        assert_eq!(duration("45"), Ok(Some(45)));
        assert!(duration("4").is_err());
        assert!(duration("481").is_err());
        assert!(duration("30.5").is_err());
        assert!(duration("-30").is_err());
    }
}
