//! Meta's `signed_request`, as its deauthorize and data-deletion callbacks send it:
//! `<signature>.<payload>`, both base64url, the signature an HMAC-SHA256 of the payload's
//! base64url text keyed with the app secret. Checked in constant time before the payload is
//! even decoded; then its `issued_at` must be recent, so a request captured once cannot be
//! replayed later.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

/// What a verified request says: whose app authorization it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The person's app-scoped Facebook user id.
    pub user_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not of the form signature.payload in base64url")]
    Malformed,
    #[error("the signature does not match")]
    Signature,
    #[error("signed with an algorithm other than HMAC-SHA256")]
    Algorithm,
    #[error("issued too long ago (or in the future), or with no time")]
    Stale,
}

/// How old a request may be, and how far ahead of our clock, in seconds.
const MAX_AGE_SECS: i64 = 10 * 60;
const MAX_AHEAD_SECS: i64 = 5 * 60;

#[derive(Deserialize)]
struct Payload {
    algorithm: String,
    user_id: String,
    /// Unix seconds.
    #[serde(default)]
    issued_at: Option<i64>,
}

fn decode(text: &str) -> Result<Vec<u8>, Rejected> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| Rejected::Malformed)
}

/// Verifies `signed_request` with the app secret, at `now` (Unix seconds).
pub fn verify(
    signed_request: &str,
    app_secret: &SecretString,
    now: i64,
) -> Result<SignedRequest, Rejected> {
    let (signature, payload) = signed_request
        .trim()
        .split_once('.')
        .ok_or(Rejected::Malformed)?;
    let signature = decode(signature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose_secret().as_bytes())
        .map_err(|_| Rejected::Signature)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| Rejected::Signature)?;
    let payload: Payload =
        serde_json::from_slice(&decode(payload)?).map_err(|_| Rejected::Malformed)?;
    if !payload.algorithm.eq_ignore_ascii_case("HMAC-SHA256") {
        return Err(Rejected::Algorithm);
    }
    let recent = now - MAX_AGE_SECS..=now + MAX_AHEAD_SECS;
    if !payload.issued_at.is_some_and(|at| recent.contains(&at)) {
        return Err(Rejected::Stale);
    }
    Ok(SignedRequest {
        user_id: payload.user_id,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sign(payload: &str, secret: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signature}.{payload}")
    }

    const PAYLOAD: &str = r#"{"algorithm":"HMAC-SHA256","issued_at":1795694400,"user_id":"10221"}"#;
    /// A minute after `PAYLOAD` was issued.
    const NOW: i64 = 1_795_694_460;

    fn secret() -> SecretString {
        SecretString::from("app-secret")
    }

    #[test]
    fn a_request_signed_with_the_app_secret_names_its_user() {
        let verified = verify(&sign(PAYLOAD, "app-secret"), &secret(), NOW).unwrap();
        assert_eq!(verified.user_id, "10221");
    }

    #[test]
    fn padding_as_some_encoders_add_it_is_accepted() {
        let signed = sign(PAYLOAD, "app-secret");
        let (signature, payload) = signed.split_once('.').unwrap();
        assert!(verify(&format!("{signature}=.{payload}"), &secret(), NOW).is_ok());
    }

    #[test]
    fn another_secret_or_a_changed_payload_is_refused() {
        assert_eq!(
            verify(&sign(PAYLOAD, "another-secret"), &secret(), NOW),
            Err(Rejected::Signature)
        );
        let signed = sign(PAYLOAD, "app-secret");
        let (signature, _) = signed.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(PAYLOAD.replace("10221", "10222"));
        assert_eq!(
            verify(&format!("{signature}.{forged}"), &secret(), NOW),
            Err(Rejected::Signature)
        );
    }

    #[test]
    fn malformed_requests_and_other_algorithms_are_refused() {
        for bad in ["", "no-dot", "!!!.???", ".", "sig."] {
            assert!(verify(bad, &secret(), NOW).is_err(), "{bad:?}");
        }
        let other = PAYLOAD.replace("HMAC-SHA256", "none");
        assert_eq!(
            verify(&sign(&other, "app-secret"), &secret(), NOW),
            Err(Rejected::Algorithm)
        );
        assert_eq!(
            verify(&sign("not json", "app-secret"), &secret(), NOW),
            Err(Rejected::Malformed)
        );
    }

    #[test]
    fn an_old_a_future_or_an_undated_request_is_refused() {
        assert!(verify(&sign(PAYLOAD, "app-secret"), &secret(), NOW + 9 * 60).is_ok());
        for now in [NOW + 11 * 60, NOW - 6 * 60 - 60] {
            assert_eq!(
                verify(&sign(PAYLOAD, "app-secret"), &secret(), now),
                Err(Rejected::Stale),
                "{now}"
            );
        }
        let undated = PAYLOAD.replace(r#""issued_at":1795694400,"#, "");
        assert_eq!(
            verify(&sign(&undated, "app-secret"), &secret(), NOW),
            Err(Rejected::Stale)
        );
    }

    proptest! {
        #[test]
        fn any_signed_user_verifies_and_any_changed_character_is_refused(
            user_id in "[0-9]{1,20}",
            at in any::<prop::sample::Index>(),
            replacement in "[A-Za-z0-9_.-]",
        ) {
            let payload = format!(r#"{{"algorithm":"HMAC-SHA256","issued_at":{NOW},"user_id":"{user_id}"}}"#);
            let signed = sign(&payload, "app-secret");
            prop_assert_eq!(verify(&signed, &secret(), NOW).map(|r| r.user_id), Ok(user_id));
            let at = at.index(signed.len());
            prop_assume!(signed[at..=at] != replacement);
            let changed = format!("{}{replacement}{}", &signed[..at], &signed[at + 1..]);
            prop_assert!(verify(&changed, &secret(), NOW).is_err(), "{}", changed);
        }
    }
}
