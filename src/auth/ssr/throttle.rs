//! Failed log-ins slow down, then refuse, per email and per client address.
//! Both are counted whether or not the email has an account, so the pauses reveal nothing.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::server::AppState;

/// The counters one log-in attempt is charged to.
pub struct Attempt {
    email_key: String,
    client_key: String,
}

impl Attempt {
    /// `identifier` is the normalised email as typed, whether or not it parses.
    pub fn new(config: &Config, identifier: &str, client: IpAddr) -> Self {
        // Keyed, so the table holds no emails and cannot be reversed with a list of them.
        let mut mac = Hmac::<Sha256>::new_from_slice(config.secret_key.expose())
            .expect("HMAC takes a key of any length");
        mac.update(identifier.as_bytes());
        let digest = mac.finalize().into_bytes();
        Self {
            email_key: format!(
                "email:{}",
                digest
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
            client_key: format!("client:{client}"),
        }
    }

    /// Refuses a locked email or client; otherwise pauses according to recent failures.
    pub async fn admit(&self, state: &AppState) -> Result<(), AppError> {
        let policy = state.config.login_throttle;
        let window = window_ms(policy.lockout);
        let email = db::login_failures::recent(&state.db, &self.email_key, window).await?;
        let client = db::login_failures::recent(&state.db, &self.client_key, window).await?;
        if let Some(until) = email.locked_until.max(client.locked_until) {
            return Err(locked_message(until));
        }
        let pause = policy
            .delay(email.count, policy.lock_after_per_email)
            .max(policy.delay(client.count, policy.lock_after_per_client));
        tokio::time::sleep(pause).await;
        Ok(())
    }

    /// Counts a failure against both keys; the error to show: wrong credentials, or locked.
    pub async fn failed(&self, state: &AppState) -> AppError {
        match self.record_failure(state).await {
            Ok(error) | Err(error) => error,
        }
    }

    async fn record_failure(&self, state: &AppState) -> Result<AppError, AppError> {
        let policy = state.config.login_throttle;
        let window = window_ms(policy.lockout);
        let email = db::login_failures::record(
            &state.db,
            &self.email_key,
            window,
            policy.lock_after_per_email,
        )
        .await?;
        let client = db::login_failures::record(
            &state.db,
            &self.client_key,
            window,
            policy.lock_after_per_client,
        )
        .await?;
        let remaining = (policy.lock_after_per_email.saturating_sub(email.count))
            .min(policy.lock_after_per_client.saturating_sub(client.count));
        Ok(match email.locked_until.max(client.locked_until) {
            Some(until) => locked_message(until),
            None => {
                AppError::BadCredentials((remaining <= WARN_WHEN_REMAINING).then_some(remaining))
            }
        })
    }

    /// A successful log-in forgets the email's failures (not the client's: one good account
    /// must not reset an address that is guessing at others).
    pub async fn succeeded(&self, state: &AppState) -> Result<(), AppError> {
        Ok(db::login_failures::clear(&state.db, &self.email_key).await?)
    }
}

/// From how many remaining failures the message warns of the coming pause.
const WARN_WHEN_REMAINING: u32 = 3;

fn window_ms(lockout: Duration) -> i64 {
    i64::try_from(lockout.as_millis()).unwrap_or(i64::MAX)
}

fn locked_message(until: i64) -> AppError {
    let minutes = ((until - db::now_millis()).max(0) + 59_999) / 60_000;
    let minutes = minutes.max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyAttempts(format!(
        "Too many failed log-ins. For your security, log-in is paused: try again in {minutes} {unit}."
    ))
}
