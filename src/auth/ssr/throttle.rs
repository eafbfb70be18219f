//! Failed log-ins slow down, then refuse, per email and per client address.
//! Both are counted whether or not the email has an account, so the pauses reveal nothing.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;
use crate::context::AppState;
use crate::crypto::hex;
use crate::db;
use crate::db::login_failures::Charge;
use crate::error::AppError;

/// The counters one log-in attempt is charged to, and what charging found.
pub struct Attempt {
    email_key: String,
    client_key: String,
    /// Attempts within the window so far, this one included (set by [`Attempt::charge`]).
    email_count: u32,
    client_count: u32,
}

impl Attempt {
    /// `identifier` is the normalised email as typed, whether or not it parses.
    pub fn new(config: &Config, identifier: &str, client: IpAddr) -> Self {
        // Keyed, so the table holds no emails and cannot be reversed with a list of them.
        let mut mac = Hmac::<Sha256>::new_from_slice(config.secret_key.expose())
            .expect("HMAC takes a key of any length");
        mac.update(identifier.as_bytes());
        Self {
            email_key: format!("email:{}", hex(&mac.finalize().into_bytes())),
            client_key: format!("client:{client}"),
            email_count: 0,
            client_count: 0,
        }
    }

    /// Counts this attempt against the email and the client before the password is checked,
    /// so parallel guesses cannot all be checked: refuses once either has used its
    /// allowance, and otherwise pauses according to the attempts before this one.
    pub async fn charge(&mut self, state: &AppState) -> Result<(), AppError> {
        let policy = state.config.login_throttle;
        let window = window_ms(policy.lockout);
        let db = &state.db;
        let email =
            db::login_failures::charge(db, &self.email_key, window, policy.lock_after_per_email);
        self.email_count = admitted(email.await?)?;
        let client =
            db::login_failures::charge(db, &self.client_key, window, policy.lock_after_per_client);
        self.client_count = admitted(client.await?)?;
        let pause = policy
            .delay(self.email_count - 1, policy.lock_after_per_email)
            .max(policy.delay(self.client_count - 1, policy.lock_after_per_client));
        tokio::time::sleep(pause).await;
        Ok(())
    }

    /// The error for wrong credentials: a warning when few attempts remain, or the pause
    /// when this attempt used up the allowance.
    pub fn failed(&self, state: &AppState) -> AppError {
        let policy = state.config.login_throttle;
        let remaining = (policy.lock_after_per_email.saturating_sub(self.email_count)).min(
            policy
                .lock_after_per_client
                .saturating_sub(self.client_count),
        );
        if remaining == 0 {
            locked_message(db::now_millis() + window_ms(policy.lockout))
        } else {
            AppError::BadCredentials((remaining <= WARN_WHEN_REMAINING).then_some(remaining))
        }
    }

    /// A successful log-in forgets the email's attempts and takes back this one from the
    /// client's count (not the rest: one good account must not reset an address that is
    /// guessing at others).
    pub async fn succeeded(&self, state: &AppState) -> Result<(), AppError> {
        db::login_failures::clear(&state.db, &self.email_key).await?;
        Ok(db::login_failures::refund(&state.db, &self.client_key).await?)
    }
}

/// Sign-ups from one client address: an attempt is counted before it runs and taken back if
/// it creates an account, so only refused ones (such as "this email already has an account")
/// add up, and nobody can test a list of addresses in bulk.
pub struct SignUpAttempt {
    client_key: String,
}

impl SignUpAttempt {
    pub async fn charge(state: &AppState, client: IpAddr) -> Result<Self, AppError> {
        let policy = state.config.login_throttle;
        let client_key = format!("signup:{client}");
        let charged = db::login_failures::charge(
            &state.db,
            &client_key,
            window_ms(policy.lockout),
            policy.sign_ups_per_client,
        );
        if let Charge::Refused { until } = charged.await? {
            return Err(too_many(until, "sign-up attempts", "sign-up"));
        }
        Ok(Self { client_key })
    }

    pub async fn succeeded(self, state: &AppState) -> Result<(), AppError> {
        Ok(db::login_failures::refund(&state.db, &self.client_key).await?)
    }
}

fn admitted(charge: Charge) -> Result<u32, AppError> {
    match charge {
        Charge::Admitted { count } => Ok(count),
        Charge::Refused { until } => Err(locked_message(until)),
    }
}

/// From how many remaining failures the message warns of the coming pause.
const WARN_WHEN_REMAINING: u32 = 3;

fn window_ms(lockout: Duration) -> i64 {
    i64::try_from(lockout.as_millis()).unwrap_or(i64::MAX)
}

fn locked_message(until: i64) -> AppError {
    too_many(until, "failed log-ins", "log-in")
}

/// "Too many …": `paused` until `until`, said in whole minutes.
fn too_many(until: i64, what: &str, paused: &str) -> AppError {
    let minutes = ((until - db::now_millis()).max(0) + 59_999) / 60_000;
    let minutes = minutes.max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyAttempts(format!(
        "Too many {what}. For your security, {paused} is paused: try again in {minutes} {unit}."
    ))
}
