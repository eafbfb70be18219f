//! A doctor's account: who they are and how they prove it.

use std::fmt;

use super::FieldErrors;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_NAME_CHARS: usize = 100;
/// RFC 5321's limit on a forward path.
pub const MAX_EMAIL_CHARS: usize = 254;

/// An email address, trimmed and lower-cased so that one inbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!(
                "An email address has at most {MAX_EMAIL_CHARS} characters."
            ));
        }
        let well_formed = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !well_formed {
            return Err("Enter an email address like name@example.com.".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's full name as they want it shown: trimmed, inner whitespace collapsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err("Enter your full name.".into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("A name has at most {MAX_NAME_CHARS} characters."));
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot contain control characters.".into());
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the length rules. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!(
                "Use at least {MIN_PASSWORD_CHARS} characters for your password."
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!(
                "A password has at most {MAX_PASSWORD_CHARS} characters."
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A valid sign-up form.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub full_name: FullName,
    pub email: Email,
    pub password: NewPassword,
}

impl SignUp {
    /// Parses every field, reporting each bad one under its input's name.
    pub fn parse(full_name: &str, email: &str, password: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let full_name = errors.check("full_name", FullName::parse(full_name));
        let email = errors.check("email", Email::parse(email));
        let password = errors.check("password", NewPassword::parse(password));
        match (full_name, email, password) {
            (Some(full_name), Some(email), Some(password)) => Ok(Self {
                full_name,
                email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// Where to go after logging in: only a path on this site, so a crafted link cannot send a
/// doctor to someone else's page.
pub fn local_redirect_target(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    local.then_some(next)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Dr.Rao@Clinic.Example ").unwrap();
        assert_eq!(email.as_str(), "dr.rao@clinic.example");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "rao",
            "rao@",
            "@clinic.example",
            "rao@clinic",
            "rao@@clinic.example",
            "r ao@clinic.example",
            "rao@.clinic",
            "rao@clinic.",
            "rao@clinic..example",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn names_collapse_whitespace_and_must_not_be_blank() {
        assert_eq!(
            FullName::parse("  Asha   Rao ").unwrap().as_str(),
            "Asha Rao"
        );
        assert!(FullName::parse(" \t ").is_err());
        assert!(FullName::parse(&"a".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn passwords_need_ten_characters_counted_as_characters_not_bytes() {
        assert!(NewPassword::parse("123456789").is_err());
        assert!(NewPassword::parse("1234567890").is_ok());
        // Nine characters that take 27 bytes are still too short.
        assert!(NewPassword::parse("ééééééééé").is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn sign_up_reports_every_bad_field() {
        let errors = SignUp::parse("", "nope", "short").unwrap_err();
        assert!(errors.get("full_name").is_some());
        assert!(errors.get("email").is_some());
        assert!(errors.get("password").is_some());
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(
            local_redirect_target("/dashboard?x=1"),
            Some("/dashboard?x=1")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "dashboard",
        ] {
            assert_eq!(local_redirect_target(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_email_parses_to_itself(local in "[a-zA-Z0-9._%+-]{1,20}", domain in "[a-z0-9-]{1,20}", tld in "[a-z]{2,6}") {
            let email = Email::parse(&format!("{local}@{domain}.{tld}")).unwrap();
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
            prop_assert_eq!(email.as_str(), email.as_str().to_lowercase());
        }

        #[test]
        fn password_length_rule_holds_for_any_text(password in "\\PC{0,40}") {
            let chars = password.chars().count();
            prop_assert_eq!(
                NewPassword::parse(&password).is_ok(),
                (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars)
            );
        }

        #[test]
        fn a_parsed_name_is_never_blank_or_padded(name in "\\PC{0,120}") {
            if let Ok(parsed) = FullName::parse(&name) {
                prop_assert!(!parsed.as_str().is_empty());
                prop_assert_eq!(parsed.as_str().trim(), parsed.as_str());
            }
        }
    }
}
