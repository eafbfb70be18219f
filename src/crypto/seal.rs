//! Tokens sealed at rest: AES-256-GCM with a fresh random 96-bit nonce per seal and the
//! doctor's id as associated data, so a sealed token copied onto another doctor's row does not
//! open. The key's id is stored beside the ciphertext: after a rotation the new key seals and
//! every listed key still opens what it sealed.

use std::collections::HashMap;
use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::SecretKey;

const NONCE_BYTES: usize = 12;

/// A token as stored: which key sealed it, and base64 of nonce then ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealed with key {0:?}, which is no longer configured")]
    UnknownKey(String),
    /// Tampered with, truncated, or sealed for another doctor.
    #[error("the sealed value does not open")]
    DoesNotOpen,
}

/// The sealing keys: the current one seals, every one opens.
pub struct TokenKeys {
    current: String,
    keys: HashMap<String, SecretKey>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenKeys {
    /// Reads `id:base64key,id:base64key,…` (each key 32 bytes); the first seals.
    pub fn parse(text: &str) -> Result<Self, String> {
        let problem = |p: &str| p.to_owned();
        let mut current = None;
        let mut keys = HashMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| problem("must list keys as id:base64key, separated by commas"))?;
            let id = id.trim();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(problem("key ids are letters, digits and dashes"));
            }
            if keys
                .insert(id.to_owned(), SecretKey::parse(key).map_err(problem)?)
                .is_some()
            {
                return Err(problem("lists the same key id twice"));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or_else(|| problem("must list at least one key"))?;
        Ok(Self { current, keys })
    }

    /// One key, for development and tests.
    pub fn single(id: &str, key: SecretKey) -> Self {
        Self {
            current: id.to_owned(),
            keys: HashMap::from([(id.to_owned(), key)]),
        }
    }

    /// The id of the key that seals.
    pub fn current(&self) -> &str {
        &self.current
    }

    fn cipher(&self, key_id: &str) -> Result<Aes256Gcm, SealError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?;
        Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose())))
    }

    /// Seals `token` for the doctor with id `doctor_id` (the associated data: it opens for no
    /// other doctor).
    pub fn seal(&self, doctor_id: &str, token: &SecretString) -> Sealed {
        self.seal_bytes(doctor_id, token.expose_secret().as_bytes())
    }

    pub fn open(&self, doctor_id: &str, sealed: &Sealed) -> Result<SecretString, SealError> {
        self.open_text(doctor_id, sealed).map(SecretString::from)
    }

    /// Seals `bytes` (a patient's message, a raw delivery) bound to `context`: the doctor's id
    /// once the data is known to be theirs, else the row's own id. It opens under that
    /// context only.
    pub fn seal_bytes(&self, context: &str, bytes: &[u8]) -> Sealed {
        let cipher = self
            .cipher(&self.current)
            .unwrap_or_else(|_| unreachable!("the current key is always listed"));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: bytes,
            aad: context.as_bytes(),
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any message under 64 GiB"));
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.current.clone(),
            value: BASE64.encode(sealed),
        }
    }

    pub fn open_bytes(&self, context: &str, sealed: &Sealed) -> Result<Vec<u8>, SealError> {
        let cipher = self.cipher(&sealed.key_id)?;
        let bytes = BASE64
            .decode(&sealed.value)
            .map_err(|_| SealError::DoesNotOpen)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::DoesNotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| SealError::DoesNotOpen)
    }

    /// [`Self::open_bytes`] for text sealed with [`Self::seal_bytes`].
    pub fn open_text(&self, context: &str, sealed: &Sealed) -> Result<String, SealError> {
        String::from_utf8(self.open_bytes(context, sealed)?).map_err(|_| SealError::DoesNotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        BASE64.encode([byte; 32])
    }

    fn keys(spec: &str) -> TokenKeys {
        TokenKeys::parse(spec).unwrap()
    }

    fn token() -> SecretString {
        SecretString::from("EAAB-page-token-123")
    }

    #[test]
    fn a_sealed_token_opens_for_its_doctor_and_hides_the_token() {
        let keys = keys(&format!("k1:{}", key(1)));
        let sealed = keys.seal("d1", &token());
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.value.contains("EAAB"));
        let opened = keys.open("d1", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "EAAB-page-token-123");
        // A fresh nonce every time: the same token never seals the same way twice.
        assert_ne!(keys.seal("d1", &token()).value, sealed.value);
    }

    #[test]
    fn tampering_or_another_doctor_does_not_open() {
        let keys = keys(&format!("k1:{}", key(1)));
        let sealed = keys.seal("d1", &token());
        let other_doctor = keys.open("d2", &sealed).map(drop);
        assert_eq!(other_doctor, Err(SealError::DoesNotOpen));
        let mut bytes = BASE64.decode(&sealed.value).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = Sealed {
            key_id: "k1".into(),
            value: BASE64.encode(&bytes),
        };
        assert!(keys.open("d1", &tampered).is_err());
        let truncated = Sealed {
            key_id: "k1".into(),
            value: BASE64.encode(&bytes[..8]),
        };
        assert!(keys.open("d1", &truncated).is_err());
    }

    #[test]
    fn after_rotation_the_new_key_seals_and_the_old_one_still_opens() {
        let before = keys(&format!("k1:{}", key(1)));
        let old = before.seal("d1", &token());
        let after = keys(&format!("k2:{}, k1:{}", key(2), key(1)));
        assert_eq!(
            after.open("d1", &old).unwrap().expose_secret(),
            "EAAB-page-token-123"
        );
        let new = after.seal("d1", &token());
        assert_eq!(new.key_id, "k2");
        // Once the old key is dropped from the list, what it sealed says which key is missing.
        let retired = keys(&format!("k2:{}", key(2)));
        assert_eq!(
            retired.open("d1", &old).unwrap_err(),
            SealError::UnknownKey("k1".into())
        );
    }

    #[test]
    fn bad_key_lists_are_refused() {
        for bad in [
            "",
            "k1",
            &format!("k1:{}", BASE64.encode([0_u8; 16])),
            &format!("k 1:{}", key(1)),
            &format!("k1:{0},k1:{0}", key(1)),
        ] {
            assert!(TokenKeys::parse(bad).is_err(), "{bad:?}");
        }
        let listed = keys(&format!("k1:{}", key(1)));
        assert!(
            !format!("{listed:?}").contains(&key(1)),
            "Debug shows no key"
        );
    }
}
