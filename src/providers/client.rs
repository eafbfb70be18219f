//! The payment providers' APIs as one client: a doctor's keys (Stripe or Razorpay) in, a
//! payment link, its state, its closing and refunds out. Base URLs come from the caller (the
//! providers' own in production, a fake's in tests). Keys travel only inside
//! [`SecretString`]s and in the `Authorization` header; no error this module returns carries a
//! key or a request URL (transport errors are stripped of their URL, and key-like words in
//! the providers' messages are blanked).

use std::time::Duration;

use secrecy::SecretString;

use super::{razorpay, stripe};

/// A doctor's keys for their provider (decrypted only for the call).
pub enum Keys {
    /// A secret or restricted key: `sk_test_…`, `sk_live_…`, `rk_test_…`, `rk_live_…`.
    Stripe { secret_key: SecretString },
    /// The key id (`rzp_test_…` / `rzp_live_…`, not secret) and its secret.
    Razorpay {
        key_id: String,
        key_secret: SecretString,
    },
}

pub use crate::domain::payments::Mode;

/// What a harmless call with the keys showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    pub mode: Mode,
}

/// One payment to ask for.
pub struct Charge<'a> {
    pub appointment_id: &'a str,
    pub doctor_id: &'a str,
    /// 1 for the first link of an appointment; a new attempt gets a new link.
    pub attempt: u32,
    /// Already in the provider's units (the caller converts).
    pub amount: i64,
    /// ISO 4217, upper case.
    pub currency: &'a str,
    /// Shown to the patient on the hosted page, e.g. "Video consultation, Mon 7 Dec 09:30".
    pub description: &'a str,
    /// Unix seconds: the hold's end; the link must not be payable after it.
    pub expires_at: i64,
    /// Our page the patient returns to (Stripe success_url and cancel_url, Razorpay
    /// callback_url with callback_method=get).
    pub return_url: &'a str,
}

/// A link the patient pays at: the provider's reference (`cs_…` or `plink_…`) and its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub reference: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Open,
    /// `payment` is what a refund needs: Stripe's payment_intent id, Razorpay's payment id
    /// (pay_…).
    Paid {
        payment: String,
        amount: i64,
    },
    /// Expired or cancelled: it can no longer be paid.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider does not know the key (401): wrong or revoked key.
    #[error("the payment provider rejected the key")]
    KeyRejected,
    /// The key is valid but lacks a permission (a Stripe restricted key without write access
    /// to Checkout Sessions, …); the provider's message.
    #[error("the key lacks a permission: {0}")]
    Permission(String),
    /// The provider refused the request (4xx); its message.
    #[error("the payment provider refused the request: {0}")]
    Refused(String),
    /// Not reached, timed out, 5xx or unreadable answer (retry later). Never carries the key
    /// or URL.
    #[error("the payment provider could not be reached: {0}")]
    Unreachable(String),
}

impl From<reqwest::Error> for ProviderError {
    fn from(error: reqwest::Error) -> Self {
        Self::Unreachable(error.without_url().to_string())
    }
}

/// How long a call may take in all, unless [`Payments::with_timeout`] says otherwise.
const TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Stripe's and Razorpay's APIs, for any doctor's keys.
pub struct Payments {
    http: reqwest::Client,
    stripe_base: String,
    razorpay_base: String,
}

impl Payments {
    /// `stripe_base` e.g. "https://api.stripe.com", `razorpay_base` "https://api.razorpay.com"
    /// (no trailing slash; tests pass a fake's).
    pub fn new(stripe_base: &str, razorpay_base: &str) -> Self {
        Self {
            http: http_client(TIMEOUT),
            stripe_base: stripe_base.trim_end_matches('/').to_owned(),
            razorpay_base: razorpay_base.trim_end_matches('/').to_owned(),
        }
    }

    /// The same client with calls cut off after `total` (connecting after at most 5 s of it).
    pub fn with_timeout(mut self, total: Duration) -> Self {
        self.http = http_client(total);
        self
    }

    /// A harmless authenticated read (Stripe: list Checkout Sessions limit=1; Razorpay: fetch
    /// payment links count=1) and the key's mode, from its prefix. A key whose prefix is
    /// neither provider's test or live prefix is refused without a call.
    pub async fn check(&self, keys: &Keys) -> Result<KeyCheck, ProviderError> {
        match keys {
            Keys::Stripe { secret_key } => {
                let mode = stripe::mode(secret_key)?;
                stripe::check(&self.http, &self.stripe_base, secret_key).await?;
                Ok(KeyCheck { mode })
            }
            Keys::Razorpay { key_id, key_secret } => {
                let mode = razorpay::mode(key_id)?;
                razorpay::check(&self.http, &self.razorpay_base, key_id, key_secret).await?;
                Ok(KeyCheck { mode })
            }
        }
    }

    /// A link for `charge`, payable until `charge.expires_at`. Retrying the same appointment
    /// and attempt never makes a second link: Stripe replays its first answer for the same
    /// `Idempotency-Key` ("appointment:{id}:attempt:{n}"); Razorpay refuses a second link with
    /// the same `reference_id`, and the one it already has is returned.
    pub async fn create(&self, keys: &Keys, charge: &Charge<'_>) -> Result<Link, ProviderError> {
        match keys {
            Keys::Stripe { secret_key } => {
                stripe::create(&self.http, &self.stripe_base, secret_key, charge).await
            }
            Keys::Razorpay { key_id, key_secret } => {
                let auth = (key_id.as_str(), key_secret);
                razorpay::create(&self.http, &self.razorpay_base, auth, charge).await
            }
        }
    }

    /// Where the link stands: Stripe's Checkout Session (paid once its `payment_status` is
    /// `paid`), Razorpay's Payment Link (paid once its `status` is `paid`, with its captured
    /// payment).
    pub async fn state(&self, keys: &Keys, reference: &str) -> Result<State, ProviderError> {
        match keys {
            Keys::Stripe { secret_key } => {
                stripe::state(&self.http, &self.stripe_base, secret_key, reference).await
            }
            Keys::Razorpay { key_id, key_secret } => {
                let auth = (key_id.as_str(), key_secret);
                razorpay::state(&self.http, &self.razorpay_base, auth, reference).await
            }
        }
    }

    /// Makes the link unpayable (Stripe expires the session, Razorpay cancels the link). If
    /// the provider refuses because it is no longer open, its state is returned (it may have
    /// been paid meanwhile); otherwise `Closed`.
    pub async fn close(&self, keys: &Keys, reference: &str) -> Result<State, ProviderError> {
        match keys {
            Keys::Stripe { secret_key } => {
                stripe::close(&self.http, &self.stripe_base, secret_key, reference).await
            }
            Keys::Razorpay { key_id, key_secret } => {
                let auth = (key_id.as_str(), key_secret);
                razorpay::close(&self.http, &self.razorpay_base, auth, reference).await
            }
        }
    }

    /// A refund of `amount` (provider units) of `payment` (from [`State::Paid`]); the same
    /// `idempotency_key` (at least 10 characters, Razorpay's minimum) never refunds twice.
    /// Returns the refund's id (re_… / rfnd_…).
    pub async fn refund(
        &self,
        keys: &Keys,
        payment: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        if idempotency_key.chars().count() < 10 {
            return Err(ProviderError::Refused(
                "the idempotency key must be at least 10 characters".into(),
            ));
        }
        match keys {
            Keys::Stripe { secret_key } => {
                let refund = (payment, amount, idempotency_key);
                stripe::refund(&self.http, &self.stripe_base, secret_key, refund).await
            }
            Keys::Razorpay { key_id, key_secret } => {
                let auth = (key_id.as_str(), key_secret);
                let refund = (payment, amount, idempotency_key);
                razorpay::refund(&self.http, &self.razorpay_base, auth, refund).await
            }
        }
    }
}

fn http_client(total: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        // The providers' APIs have no reason to redirect, and a redirect would carry the key.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(total))
        .timeout(total)
        .build()
        // Only a TLS backend that cannot start fails here; nothing could be paid without it.
        .expect("the HTTP client for the payment providers")
}

/// Whether `id` may become a path segment: an id's characters only (`cs_test_a1…`,
/// `plink_…`, `pay_…`), so nothing else can reach the URL.
pub(super) fn checked_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ProviderError> {
    let fits = !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if fits {
        Ok(id)
    } else {
        Err(ProviderError::Refused(format!("not a {what}")))
    }
}

/// A provider's message with every key-like word blanked (Stripe's messages name the key,
/// masked: `sk_test_****1234`), so no error text carries a key or part of one.
pub(super) fn without_keys(message: &str) -> String {
    const KEY_PREFIXES: [&str; 5] = ["sk_", "rk_", "pk_", "rzp_", "whsec_"];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = KEY_PREFIXES
        .iter()
        .filter_map(|prefix| {
            rest.match_indices(prefix)
                .find(|(at, _)| word_start(rest, *at))
                .map(|(at, _)| at)
        })
        .min()
    {
        out.push_str(&rest[..start]);
        out.push_str("[key]");
        let word = rest[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '*'))
            .map_or(rest.len(), |end| start + end);
        rest = &rest[word..];
    }
    out.push_str(rest);
    out
}

fn word_start(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
}

/// A non-success answer without a provider's error body: 5xx and 429 are worth a retry,
/// other 4xx are refusals.
pub(super) fn bare_status(status: reqwest::StatusCode) -> ProviderError {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        ProviderError::Unreachable(format!("the provider answered {status}"))
    } else {
        ProviderError::Refused(format!("the provider answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_a_providers_message_are_blanked() {
        let message = "Invalid API Key provided: sk_test_****abcd";
        assert_eq!(without_keys(message), "Invalid API Key provided: [key]");
        let message = "The provided key 'rk_live_*****X1y2' does not have the required \
                       permissions for this endpoint on account 'acct_1'. Having the \
                       'rak_checkout_session_write' permission would allow this request to continue.";
        let blanked = without_keys(message);
        assert!(blanked.contains("'[key]'"), "{blanked}");
        assert!(blanked.contains("rak_checkout_session_write"), "{blanked}");
        assert!(!blanked.contains("X1y2"));
        assert_eq!(
            without_keys("key rzp_test_abc and whsec_x"),
            "key [key] and [key]"
        );
    }

    #[test]
    fn only_an_ids_characters_reach_a_path() {
        assert!(checked_id("cs_test_a1B2", "session").is_ok());
        assert!(checked_id("plink_Abc123", "link").is_ok());
        for bad in ["", "../v1/refunds", "cs_1?expand=x", "pay_1/refund", "a b"] {
            assert!(checked_id(bad, "session").is_err(), "{bad}");
        }
    }

    #[test]
    fn server_errors_are_worth_a_retry_and_client_errors_are_refusals() {
        let retry = bare_status(reqwest::StatusCode::BAD_GATEWAY);
        assert!(matches!(retry, ProviderError::Unreachable(_)));
        let retry = bare_status(reqwest::StatusCode::TOO_MANY_REQUESTS);
        assert!(matches!(retry, ProviderError::Unreachable(_)));
        let refused = bare_status(reqwest::StatusCode::NOT_FOUND);
        assert!(matches!(refused, ProviderError::Refused(_)));
    }
}
