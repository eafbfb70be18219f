//! The payment providers' APIs as one client: a doctor's keys (Stripe or Razorpay) in, a
//! payment link, its state, its closing and refunds out. Base URLs come from the caller (the
//! providers' own in production, a fake's in tests). Keys travel only inside
//! [`SecretString`]s and in the `Authorization` header; no error this module returns carries a
//! key or a request URL (transport errors are stripped of their URL, and key-like words in
//! the providers' messages are blanked).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

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
        let api = self.api(keys);
        let mode = api.mode()?;
        match keys {
            Keys::Stripe { .. } => stripe::check(&api).await?,
            Keys::Razorpay { .. } => razorpay::check(&api).await?,
        }
        Ok(KeyCheck { mode })
    }

    /// A link for `charge`, payable until `charge.expires_at`. Retrying the same appointment
    /// and attempt never makes a second link: Stripe replays its first answer for the same
    /// `Idempotency-Key` ("appointment:{id}:attempt:{n}"); Razorpay refuses a second link with
    /// the same `reference_id`, and the one it already has is returned.
    pub async fn create(&self, keys: &Keys, charge: &Charge<'_>) -> Result<Link, ProviderError> {
        let api = self.api(keys);
        match keys {
            Keys::Stripe { .. } => stripe::create(&api, charge).await,
            Keys::Razorpay { .. } => razorpay::create(&api, charge).await,
        }
    }

    /// Where the link stands: Stripe's Checkout Session (paid once its `payment_status` is
    /// `paid`), Razorpay's Payment Link (paid once its `status` is `paid`, with its captured
    /// payment).
    pub async fn state(&self, keys: &Keys, reference: &str) -> Result<State, ProviderError> {
        let api = self.api(keys);
        match keys {
            Keys::Stripe { .. } => stripe::state(&api, reference).await,
            Keys::Razorpay { .. } => razorpay::state(&api, reference).await,
        }
    }

    /// Makes the link unpayable (Stripe expires the session, Razorpay cancels the link). If
    /// the provider refuses because it is no longer open, its state is returned (it may have
    /// been paid meanwhile); otherwise `Closed`.
    pub async fn close(&self, keys: &Keys, reference: &str) -> Result<State, ProviderError> {
        let api = self.api(keys);
        let closing = match keys {
            Keys::Stripe { .. } => stripe::close(&api, reference).await,
            Keys::Razorpay { .. } => razorpay::close(&api, reference).await,
        };
        match closing {
            Ok(()) => Ok(State::Closed),
            // Only open links can be closed: this one was paid or has lapsed meanwhile.
            Err(refused @ ProviderError::Refused(_)) => match self.state(keys, reference).await? {
                State::Open => Err(refused),
                settled => Ok(settled),
            },
            Err(other) => Err(other),
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
        let api = self.api(keys);
        let refund = (payment, amount, idempotency_key);
        match keys {
            Keys::Stripe { .. } => stripe::refund(&api, refund).await,
            Keys::Razorpay { .. } => razorpay::refund(&api, refund).await,
        }
    }

    /// The API of the provider `keys` are for.
    fn api<'a>(&'a self, keys: &'a Keys) -> Api<'a> {
        let (base, provider) = match keys {
            Keys::Stripe { .. } => (&self.stripe_base, &stripe::PROVIDER),
            Keys::Razorpay { .. } => (&self.razorpay_base, &razorpay::PROVIDER),
        };
        Api {
            http: &self.http,
            base,
            keys,
            provider,
        }
    }
}

/// What the shared code needs to know of a provider.
pub(super) struct Provider {
    /// Its name, in messages.
    pub name: &'static str,
    /// The prefixes of its test keys (Stripe's secret key, Razorpay's key id) and of its live
    /// keys.
    pub test_prefixes: &'static [&'static str],
    pub live_prefixes: &'static [&'static str],
    /// Its refusal of a key with neither.
    pub not_a_key: &'static str,
    /// The field of its error object (`{"error": {…}}`) that holds its message.
    pub message_field: &'static str,
}

impl Provider {
    /// The mode of `key`, from its prefix; any other key is refused.
    pub(super) fn mode(&self, key: &str) -> Result<Mode, ProviderError> {
        let starts = |prefixes: &[&str]| prefixes.iter().any(|prefix| key.starts_with(prefix));
        if starts(self.test_prefixes) {
            Ok(Mode::Test)
        } else if starts(self.live_prefixes) {
            Ok(Mode::Live)
        } else {
            Err(ProviderError::Refused(self.not_a_key.into()))
        }
    }

    /// The provider's error for a non-success `status` and the answer's body.
    pub(super) fn refusal(&self, status: reqwest::StatusCode, body: &[u8]) -> ProviderError {
        classify(
            self.name,
            status,
            error_message(body, self.message_field).as_deref(),
        )
    }
}

/// A refund as either provider answers it (only its id is read).
#[derive(serde::Deserialize)]
pub(super) struct RefundBody {
    pub id: String,
}

/// A doctor's keys at their provider's API, for one call of [`Payments`].
pub(super) struct Api<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    keys: &'a Keys,
    provider: &'static Provider,
}

impl Api<'_> {
    /// The keys' mode, from the prefix of Stripe's key or Razorpay's key id.
    fn mode(&self) -> Result<Mode, ProviderError> {
        let key = match self.keys {
            Keys::Stripe { secret_key } => secret_key.expose_secret(),
            Keys::Razorpay { key_id, .. } => key_id.as_str(),
        };
        self.provider.mode(key)
    }

    /// A GET of `path` (below the base URL), with the keys.
    pub(super) fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.with_keys(self.http.get(format!("{}{path}", self.base)))
    }

    /// A POST to `path` (below the base URL), with the keys.
    pub(super) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.with_keys(self.http.post(format!("{}{path}", self.base)))
    }

    /// Basic auth: Stripe's key as the user (no password), Razorpay's key id and secret.
    fn with_keys(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.keys {
            Keys::Stripe { secret_key } => request.basic_auth(secret_key.expose_secret(), Some("")),
            Keys::Razorpay { key_id, key_secret } => {
                request.basic_auth(key_id, Some(key_secret.expose_secret()))
            }
        }
    }

    /// Sends `request` and reads the answer: its body on success, the provider's error
    /// otherwise.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| {
                let provider = self.provider.name;
                ProviderError::Unreachable(format!("unreadable answer from {provider}: {e}"))
            })
        } else {
            Err(self.provider.refusal(status, &body))
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

/// "appointment:{id}:attempt:{n}", one per appointment and attempt: Stripe's
/// `Idempotency-Key`, and what Razorpay's reference is a digest of when the plain one is too
/// long.
pub(super) fn attempt_key(charge: &Charge<'_>) -> String {
    format!(
        "appointment:{}:attempt:{}",
        charge.appointment_id, charge.attempt
    )
}

/// The message of a provider's error body (`{"error": {…}}`; empty if its error object has
/// none), or `None` for any other body.
fn error_message(body: &[u8], field: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    match body.get("error")?.as_object()?.get(field) {
        None => Some(String::new()),
        Some(message) => message.as_str().map(str::to_owned),
    }
}

/// What a non-success answer of `provider` means for the caller: 401 a rejected key; with
/// the provider's `message` (blanked of keys), 403 a missing permission, 409 (a request with
/// the same idempotency key still running), 429 and 5xx worth a retry, other 4xx refusals;
/// without one (an answer that is not the provider's error body), 429 and 5xx worth a retry,
/// anything else a refusal.
pub(super) fn classify(
    provider: &str,
    status: reqwest::StatusCode,
    message: Option<&str>,
) -> ProviderError {
    use reqwest::StatusCode;
    let busy = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
    match (status, message.map(without_keys)) {
        (StatusCode::UNAUTHORIZED, _) => ProviderError::KeyRejected,
        (_, None) if busy => ProviderError::Unreachable(format!("the provider answered {status}")),
        (_, None) => ProviderError::Refused(format!("the provider answered {status}")),
        (StatusCode::FORBIDDEN, Some(message)) => ProviderError::Permission(message),
        (_, Some(message)) if busy || status == StatusCode::CONFLICT => {
            ProviderError::Unreachable(format!("{provider} answered {status}: {message}"))
        }
        (_, Some(message)) => ProviderError::Refused(message),
    }
}

#[cfg(test)]
pub(super) mod tests {
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
        use reqwest::StatusCode;
        for (status, message) in [
            (StatusCode::BAD_GATEWAY, None),
            (StatusCode::TOO_MANY_REQUESTS, None),
            (StatusCode::SERVICE_UNAVAILABLE, Some("down")),
            (StatusCode::CONFLICT, Some("the same key is in use")),
        ] {
            let retry = classify("Stripe", status, message);
            assert!(matches!(retry, ProviderError::Unreachable(_)), "{status}");
        }
        for status in [
            StatusCode::NOT_FOUND,
            StatusCode::FORBIDDEN,
            StatusCode::CONFLICT,
        ] {
            let refused = classify("Stripe", status, None);
            assert!(matches!(refused, ProviderError::Refused(_)), "{status}");
        }
        let denied = classify(
            "Stripe",
            StatusCode::FORBIDDEN,
            Some("key sk_test_1 may not"),
        );
        assert_eq!(
            denied,
            ProviderError::Permission("key [key] may not".into())
        );
        let rejected = classify("Razorpay", StatusCode::UNAUTHORIZED, None);
        assert_eq!(rejected, ProviderError::KeyRejected);
    }

    #[test]
    fn a_providers_message_is_read_from_its_error_body() {
        let body = br#"{"error": {"code": "BAD_REQUEST_ERROR", "description": "late"}}"#;
        assert_eq!(error_message(body, "description"), Some("late".into()));
        assert_eq!(error_message(body, "message"), Some(String::new()));
        for other in [&b"<html>bad gateway</html>"[..], b"", br#"{"error": "x"}"#] {
            assert_eq!(error_message(other, "message"), None);
        }
    }

    /// A charge for the providers' unit tests.
    pub(in crate::providers) fn charge(appointment_id: &str, attempt: u32) -> Charge<'_> {
        Charge {
            appointment_id,
            doctor_id: "doc-1",
            attempt,
            amount: 50_000,
            currency: "INR",
            description: "Video consultation, Mon 7 Dec 09:30",
            expires_at: 1_765_000_000,
            return_url: "https://clariva.example/pay/return?a=1&b=2",
        }
    }
}
