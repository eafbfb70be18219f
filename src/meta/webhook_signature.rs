//! The `X-Hub-Signature-256` header Meta sends with every webhook delivery:
//! `sha256=<lower-case hex of HMAC-SHA256(app secret, body)>`, computed over the body's raw
//! bytes (Meta signs its escaped-unicode text; parsing and re-serialising changes it). Checked
//! in constant time before anything reads the body.

use hmac::Mac;
use secrecy::SecretString;

pub use crate::crypto::Rejected;

/// Whether `header` (the value of `X-Hub-Signature-256`, if sent) signs `body` with `secret`.
pub fn verify(header: Option<&[u8]>, body: &[u8], secret: &SecretString) -> Result<(), Rejected> {
    let header = header.ok_or(Rejected::Missing)?;
    let hex = header.strip_prefix(b"sha256=").ok_or(Rejected::Malformed)?;
    crate::crypto::verify_hex_hmac(hex, body, secret)
}

/// The header value that signs `body` with `secret`: what Meta sends (and a load generator or
/// a sandbox that plays Meta).
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    let mut mac = crate::crypto::hmac_sha256(secret);
    mac.update(body);
    format!(
        "sha256={}",
        crate::crypto::hex(&mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::from("test_app_secret")
    }

    #[test]
    fn a_signature_made_by_sign_verifies_and_any_change_does_not() {
        let body = br#"{"object":"instagram","entry":[]}"#;
        let header = sign(body, &secret());
        assert_eq!(verify(Some(header.as_bytes()), body, &secret()), Ok(()));
        assert_eq!(
            verify(Some(header.to_uppercase().as_bytes()), body, &secret()),
            Err(Rejected::Malformed),
            "the prefix is lower case"
        );
        let mut changed = body.to_vec();
        changed[3] ^= 1;
        assert_eq!(
            verify(Some(header.as_bytes()), &changed, &secret()),
            Err(Rejected::Mismatch)
        );
        let other = SecretString::from("another_secret");
        assert_eq!(
            verify(Some(header.as_bytes()), body, &other),
            Err(Rejected::Mismatch)
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        let body = b"{}";
        assert_eq!(verify(None, body, &secret()), Err(Rejected::Missing));
        for bad in [
            "",
            "sha256=",
            "sha1=0000",
            "sha256=zz",
            "sha256=00112233",
            &format!("sha256={}", "g".repeat(64)),
            &format!("sha256={}", "0".repeat(65)),
        ] {
            assert_eq!(
                verify(Some(bad.as_bytes()), body, &secret()),
                Err(Rejected::Malformed),
                "{bad:?}"
            );
        }
    }
}
