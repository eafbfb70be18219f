//! A doctor's provider keys at rest: the API key(s) and the webhook's signing secret, as one
//! sealed JSON value (AES-256-GCM, the doctor's id as associated data, like Instagram
//! tokens). They are opened only here, for a call to the provider or a webhook's check, and
//! never leave the server: the dashboard shows the last four characters of the API key.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::crypto::seal::{Sealed, TokenKeys};
use crate::db::DoctorId;
use crate::domain::payments::PastedKeys;
use crate::error::AppError;
use crate::providers::client::Keys;

/// The doctor's keys, opened.
pub struct OpenedKeys {
    pub api: Keys,
    /// `None` until the doctor adds the webhook and saves its secret.
    pub webhook_secret: Option<SecretString>,
}

/// The sealed JSON. Its fields are the secrets themselves: it lives only between sealing and
/// the `SecretString`s it is read into.
#[derive(Serialize, Deserialize)]
struct Stored {
    provider: String,
    #[serde(default)]
    key_id: Option<String>,
    secret: String,
    #[serde(default)]
    webhook_secret: Option<String>,
}

/// Seals what the doctor pasted for `doctor`.
pub fn seal(token_keys: &TokenKeys, doctor: &DoctorId, pasted: &PastedKeys) -> Sealed {
    let stored = match pasted {
        PastedKeys::Stripe {
            secret_key,
            webhook_secret,
        } => Stored {
            provider: "stripe".into(),
            key_id: None,
            secret: secret_key.clone(),
            webhook_secret: webhook_secret.clone(),
        },
        PastedKeys::Razorpay {
            key_id,
            key_secret,
            webhook_secret,
        } => Stored {
            provider: "razorpay".into(),
            key_id: Some(key_id.clone()),
            secret: key_secret.clone(),
            webhook_secret: webhook_secret.clone(),
        },
    };
    let json = SecretString::from(serde_json::to_string(&stored).unwrap_or_default());
    token_keys.seal(doctor.as_str(), &json)
}

/// Opens `doctor`'s sealed keys. A value that does not open (another doctor's, tampered with,
/// or sealed with a key no longer configured) is an internal error: it is logged by id only.
pub fn open(
    token_keys: &TokenKeys,
    doctor: &DoctorId,
    sealed: &Sealed,
) -> Result<OpenedKeys, AppError> {
    let json = token_keys
        .open(doctor.as_str(), sealed)
        .map_err(|error| AppError::internal("payment keys do not open", error))?;
    let stored: Stored = serde_json::from_str(json.expose_secret())
        .map_err(|_| AppError::internal("payment keys are unreadable", doctor))?;
    let api = match (stored.provider.as_str(), stored.key_id) {
        ("stripe", _) => Keys::Stripe {
            secret_key: SecretString::from(stored.secret),
        },
        ("razorpay", Some(key_id)) => Keys::Razorpay {
            key_id,
            key_secret: SecretString::from(stored.secret),
        },
        _ => return Err(AppError::internal("payment keys name no provider", doctor)),
    };
    Ok(OpenedKeys {
        api,
        webhook_secret: stored.webhook_secret.map(SecretString::from),
    })
}

/// The saved keys as the pane's fields: key id (blank for Stripe), secret, webhook secret
/// (blank until saved). A save fills in the fields the doctor left blank from these.
pub fn as_fields(opened: &OpenedKeys) -> [String; 3] {
    let (key_id, secret) = match &opened.api {
        Keys::Stripe { secret_key } => (String::new(), secret_key),
        Keys::Razorpay { key_id, key_secret } => (key_id.clone(), key_secret),
    };
    let hook = opened.webhook_secret.as_ref();
    [
        key_id,
        secret.expose_secret().to_owned(),
        hook.map(|h| h.expose_secret().to_owned())
            .unwrap_or_default(),
    ]
}

/// The pasted keys as the client takes them, for "Check keys" before they are saved.
pub fn api_keys(pasted: &PastedKeys) -> Keys {
    match pasted {
        PastedKeys::Stripe { secret_key, .. } => Keys::Stripe {
            secret_key: SecretString::from(secret_key.clone()),
        },
        PastedKeys::Razorpay {
            key_id, key_secret, ..
        } => Keys::Razorpay {
            key_id: key_id.clone(),
            key_secret: SecretString::from(key_secret.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::domain::payments::Provider;

    #[test]
    fn keys_open_for_their_doctor_only() {
        let token_keys = TokenKeys::single("k1", SecretKey::generate().0);
        let pasted = PastedKeys::parse(
            Provider::Razorpay,
            "rzp_live_AbCdEf123456",
            "the-key-secret",
            "the-webhook-secret",
        )
        .unwrap();
        let doctor = DoctorId::from_row("doctor-1".into());
        let sealed = seal(&token_keys, &doctor, &pasted);
        assert!(!sealed.value.contains("the-key-secret"));
        let opened = open(&token_keys, &doctor, &sealed).unwrap();
        let webhook_secret = opened
            .webhook_secret
            .as_ref()
            .map(ExposeSecret::expose_secret);
        assert_eq!(webhook_secret, Some("the-webhook-secret"));
        assert!(matches!(
            opened.api,
            Keys::Razorpay { ref key_id, ref key_secret }
                if key_id == "rzp_live_AbCdEf123456" && key_secret.expose_secret() == "the-key-secret"
        ));
        let other = DoctorId::from_row("doctor-2".into());
        assert!(open(&token_keys, &other, &sealed).is_err());
    }
}
