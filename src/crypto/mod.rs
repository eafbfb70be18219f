//! Keys and small cryptographic helpers shared by the server's features; `seal` keeps
//! tokens sealed at rest.

pub mod seal;

use std::fmt;

use base64::Engine;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

/// 32 random bytes; `Debug` never shows them.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl SecretKey {
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A key of its own for `purpose`, derived from this one (HMAC-SHA256).
    pub fn derive(&self, purpose: &str) -> Self {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.expose())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        Self(SecretBox::new(Box::new(mac.finalize().into_bytes().into())))
    }

    /// Reads base64 of 32 bytes; the problem, if not.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "must be base64 (e.g. `openssl rand -base64 32`)")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must decode to exactly 32 bytes")?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// A new random key, and its base64 text.
    pub fn generate() -> (Self, String) {
        let key: [u8; 32] = rand::random();
        let text = base64::engine::general_purpose::STANDARD.encode(key);
        (Self(SecretBox::new(Box::new(key))), text)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// The 32 bytes of a SHA-256 digest from its 64 hex digits (either case), or `None`.
pub fn digest_from_hex(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0_u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(out)
}

/// Why a webhook delivery's signature (Meta's, Stripe's, Razorpay's) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("no signature header")]
    Missing,
    #[error("the signature header is not in the sender's format")]
    Malformed,
    #[error("the signature's time is too far from ours")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

impl Rejected {
    /// A short name for counters and logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Stale => "stale",
            Self::Mismatch => "mismatch",
        }
    }
}

/// HMAC-SHA256 keyed with `secret`, to feed the signed bytes into.
pub fn hmac_sha256(secret: &secrecy::SecretString) -> hmac::Hmac<Sha256> {
    use hmac::Mac;
    hmac::Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
}

/// Whether `hex` (64 hex digits) is the HMAC-SHA256 of `body` with `secret`, compared in
/// constant time.
pub fn verify_hex_hmac(
    hex: &[u8],
    body: &[u8],
    secret: &secrecy::SecretString,
) -> Result<(), Rejected> {
    use hmac::Mac;
    let expected = digest_from_hex(hex).ok_or(Rejected::Malformed)?;
    let mut mac = hmac_sha256(secret);
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Rejected::Mismatch)
}

/// Whether two secrets are equal, taking the same time wherever they differ (the length
/// still shows).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// SHA-256 of `text`, in hex: how a secret a browser holds (a session or an OAuth state) is
/// stored, so a copy of the database does not give it away.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha256_match_known_values() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"tokem"));
        assert!(!same_secret(b"token", b"token2"));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
