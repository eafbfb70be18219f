//! The signatures Stripe and Razorpay put on their webhook deliveries, checked over the
//! body's raw bytes, in constant time, before anything reads the body.
//!
//! - Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each `v1` the
//!   HMAC-SHA256 of `"{t}.{body}"` with the endpoint's signing secret; any one matching is
//!   enough (two while a secret is rolled), and `t` must be within five minutes of now.
//! - Razorpay: `X-Razorpay-Signature: <hex>`, the HMAC-SHA256 of the body with the secret
//!   the doctor typed when adding the webhook (not the API key's secret).

use hmac::Mac;
use secrecy::SecretString;

/// How far a Stripe signature's time may be from ours (Stripe's libraries use the same).
pub const STRIPE_TOLERANCE_SECS: i64 = 300;

pub use crate::crypto::Rejected;

/// Whether `header` (`Stripe-Signature`) signs `body` with `secret` at `now` (unix seconds).
pub fn stripe(
    header: Option<&[u8]>,
    body: &[u8],
    secret: &SecretString,
    now: i64,
) -> Result<(), Rejected> {
    let header =
        std::str::from_utf8(header.ok_or(Rejected::Missing)?).map_err(|_| Rejected::Malformed)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| Rejected::Malformed)?),
            Some(("v1", hex)) => signatures
                .push(crate::crypto::digest_from_hex(hex.as_bytes()).ok_or(Rejected::Malformed)?),
            // Other schemes (`v0`, test-mode extras) are not ours to check.
            Some(_) => {}
            None => return Err(Rejected::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(Rejected::Malformed)?;
    if signatures.is_empty() {
        return Err(Rejected::Malformed);
    }
    // `abs_diff`: a `t=` near either end of i64 must not overflow the subtraction.
    if now.abs_diff(timestamp) > STRIPE_TOLERANCE_SECS.unsigned_abs() {
        return Err(Rejected::Stale);
    }
    let mut mac = crate::crypto::hmac_sha256(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // Every candidate is compared, so the time taken does not tell which one matched.
    let matched = signatures.iter().fold(false, |any, signature| {
        mac.clone().verify_slice(signature).is_ok() | any
    });
    matched.then_some(()).ok_or(Rejected::Mismatch)
}

/// Whether `header` (`X-Razorpay-Signature`) signs `body` with `secret`.
pub fn razorpay(header: Option<&[u8]>, body: &[u8], secret: &SecretString) -> Result<(), Rejected> {
    let header = header.ok_or(Rejected::Missing)?;
    crate::crypto::verify_hex_hmac(header, body, secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hex;

    const NOW: i64 = 1_796_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    fn signed(t: i64, body: &[u8], key: &str) -> String {
        let mut mac = crate::crypto::hmac_sha256(&secret(key));
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex(&mac.finalize().into_bytes())
    }

    fn check(header: &str, body: &[u8]) -> Result<(), Rejected> {
        stripe(Some(header.as_bytes()), body, &secret("whsec_right"), NOW)
    }

    #[test]
    fn stripe_takes_any_matching_v1_within_five_minutes() {
        let good = signed(NOW, BODY, "whsec_right");
        let other = signed(NOW, BODY, "whsec_old");
        assert_eq!(check(&format!("t={NOW},v1={good}"), BODY), Ok(()));
        assert_eq!(
            check(&format!("t={NOW},v1={other},v1={good},v0=abc"), BODY),
            Ok(())
        );
        assert_eq!(
            check(&format!("t={NOW},v1={other}"), BODY),
            Err(Rejected::Mismatch)
        );
        let early = NOW - STRIPE_TOLERANCE_SECS - 1;
        let stale = signed(early, BODY, "whsec_right");
        assert_eq!(
            check(&format!("t={early},v1={stale}"), BODY),
            Err(Rejected::Stale)
        );
        // Times at either end of i64 are stale, not an overflow.
        for far in [i64::MIN, i64::MAX] {
            assert_eq!(
                check(&format!("t={far},v1={good}"), BODY),
                Err(Rejected::Stale)
            );
        }
        let edge = NOW - STRIPE_TOLERANCE_SECS;
        let fresh = signed(edge, BODY, "whsec_right");
        assert_eq!(check(&format!("t={edge},v1={fresh}"), BODY), Ok(()));
    }

    #[test]
    fn stripe_refuses_a_changed_body_and_malformed_headers() {
        let good = signed(NOW, BODY, "whsec_right");
        let mut changed = BODY.to_vec();
        changed[2] ^= 1;
        assert_eq!(
            check(&format!("t={NOW},v1={good}"), &changed),
            Err(Rejected::Mismatch)
        );
        // The time is part of what is signed.
        assert_eq!(
            check(&format!("t={},v1={good}", NOW + 1), BODY),
            Err(Rejected::Mismatch)
        );
        for header in ["", "t=1", &format!("v1={good}"), "t=x,v1=00", "garbage"] {
            assert_eq!(check(header, BODY), Err(Rejected::Malformed), "{header}");
        }
        assert_eq!(
            stripe(None, BODY, &secret("s"), NOW),
            Err(Rejected::Missing)
        );
    }

    #[test]
    fn razorpay_is_the_hex_hmac_of_the_body() {
        let mut mac = crate::crypto::hmac_sha256(&secret("webhook secret"));
        mac.update(BODY);
        let good = hex(&mac.finalize().into_bytes());
        let ok = razorpay(Some(good.as_bytes()), BODY, &secret("webhook secret"));
        assert_eq!(ok, Ok(()));
        let wrong = razorpay(Some(good.as_bytes()), BODY, &secret("api key secret"));
        assert_eq!(wrong, Err(Rejected::Mismatch));
        assert_eq!(
            razorpay(Some(b"sha256=00"), BODY, &secret("s")),
            Err(Rejected::Malformed)
        );
        assert_eq!(razorpay(None, BODY, &secret("s")), Err(Rejected::Missing));
    }
}
