//! Razorpay's Payment Links and Refunds APIs, with a doctor's key id and secret (basic
//! auth). Links carry a `reference_id` made of the appointment and attempt, which Razorpay
//! keeps unique: a retried create that Razorpay refuses as a duplicate gets the link already
//! made. Refunds carry `X-Refund-Idempotency`.

use serde::Deserialize;
use serde_json::json;

use crate::providers::client::{
    attempt_key, checked_id, Api, Charge, Link, Provider, ProviderError, RefundBody, State,
};

/// Razorpay's key ids, and its error bodies: `{"error": {"code", "description", …}}`.
pub(super) const PROVIDER: Provider = Provider {
    name: "Razorpay",
    test_prefixes: &["rzp_test_"],
    live_prefixes: &["rzp_live_"],
    not_a_key: "not a Razorpay key id (rzp_test_… or rzp_live_…)",
    message_field: "description",
};

/// Razorpay's longest `reference_id`.
const REFERENCE_MAX: usize = 40;

#[derive(Deserialize)]
struct LinkBody {
    id: String,
    #[serde(default)]
    short_url: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    amount_paid: i64,
    #[serde(default)]
    reference_id: Option<String>,
    /// Absent or null until someone pays.
    #[serde(default)]
    payments: Option<Vec<LinkPayment>>,
}

impl LinkBody {
    fn link(self) -> Link {
        Link {
            reference: self.id,
            url: self.short_url,
        }
    }
}

#[derive(Deserialize)]
struct LinkPayment {
    payment_id: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct LinksBody {
    payment_links: Vec<LinkBody>,
}

/// A list of one Payment Link: whether Razorpay takes the key.
pub(super) async fn check(api: &Api<'_>) -> Result<(), ProviderError> {
    let list = api.get("/v1/payment_links").query(&[("count", "1")]);
    let _: LinksBody = api.call(list).await?;
    Ok(())
}

pub(super) async fn create(api: &Api<'_>, charge: &Charge<'_>) -> Result<Link, ProviderError> {
    let reference_id = reference_id(charge);
    let request = api
        .post("/v1/payment_links")
        .json(&link_body(charge, &reference_id));
    match api.call::<LinkBody>(request).await {
        Ok(link) => Ok(link.link()),
        // A retry after an answer that never arrived: the link was made the first time.
        Err(ProviderError::Refused(message)) if is_duplicate_reference(&message) => {
            existing(api, &reference_id).await
        }
        Err(other) => Err(other),
    }
}

/// The link Razorpay already has under `reference_id`.
async fn existing(api: &Api<'_>, reference_id: &str) -> Result<Link, ProviderError> {
    let request = api
        .get("/v1/payment_links")
        .query(&[("reference_id", reference_id)]);
    let links: LinksBody = api.call(request).await?;
    links
        .payment_links
        .into_iter()
        .find(|link| link.reference_id.as_deref() == Some(reference_id))
        .map(LinkBody::link)
        .ok_or_else(|| {
            ProviderError::Unreachable(
                "Razorpay named the reference a duplicate but lists no link for it".into(),
            )
        })
}

pub(super) async fn state(api: &Api<'_>, reference: &str) -> Result<State, ProviderError> {
    let id = checked_id(reference, "Payment Link id")?;
    let request = api.get(&format!("/v1/payment_links/{id}"));
    link_state(api.call(request).await?)
}

/// Cancels the link; Razorpay refuses (400) one that is no longer in `created`.
pub(super) async fn close(api: &Api<'_>, reference: &str) -> Result<(), ProviderError> {
    let id = checked_id(reference, "Payment Link id")?;
    let request = api
        .post(&format!("/v1/payment_links/{id}/cancel"))
        .json(&json!({}));
    let _: LinkBody = api.call(request).await?;
    Ok(())
}

pub(super) async fn refund(
    api: &Api<'_>,
    (payment, amount, idempotency_key): (&str, i64, &str),
) -> Result<String, ProviderError> {
    let payment = checked_id(payment, "payment id")?;
    let request = api
        .post(&format!("/v1/payments/{payment}/refund"))
        .header("X-Refund-Idempotency", idempotency_key)
        .json(&json!({"amount": amount, "speed": "normal"}));
    let refund: RefundBody = api.call(request).await?;
    Ok(refund.id)
}

/// Unique per appointment and attempt, at most 40 characters: the appointment id without its
/// hyphens and the attempt (`0193a0c47e1f70008000000000000001-2`), or, for an id too long for
/// that, a digest of both.
fn reference_id(charge: &Charge<'_>) -> String {
    let compact: String = charge
        .appointment_id
        .chars()
        .filter(|c| *c != '-')
        .collect();
    let plain = format!("{compact}-{}", charge.attempt);
    if plain.len() <= REFERENCE_MAX && plain.is_ascii() {
        return plain;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(attempt_key(charge).as_bytes());
    crate::crypto::hex(&digest)[..REFERENCE_MAX].to_owned()
}

fn link_body(charge: &Charge<'_>, reference_id: &str) -> serde_json::Value {
    json!({
        "amount": charge.amount,
        "currency": charge.currency,
        "accept_partial": false,
        "description": charge.description,
        "expire_by": charge.expires_at,
        "reference_id": reference_id,
        // We send the link in the DM ourselves.
        "notify": {"sms": false, "email": false},
        "reminder_enable": false,
        "notes": {"appointment_id": charge.appointment_id, "doctor_id": charge.doctor_id},
        "callback_url": charge.return_url,
        "callback_method": "get",
    })
}

/// Razorpay's refusal of a second link with the same `reference_id` (its wording is seen in
/// public client code, not in its documentation, so it is matched loosely).
fn is_duplicate_reference(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("reference_id") && message.contains("already exists")
}

fn link_state(link: LinkBody) -> Result<State, ProviderError> {
    match link.status.as_str() {
        "paid" => {
            let payments = link.payments.unwrap_or_default();
            let captured = payments
                .iter()
                .find(|payment| payment.status == "captured")
                .map(|payment| payment.payment_id.clone());
            let payment = captured.ok_or_else(|| {
                ProviderError::Unreachable(format!(
                    "Razorpay answered with a paid link without a captured payment ({})",
                    link.id
                ))
            })?;
            Ok(State::Paid {
                payment,
                amount: link.amount_paid,
            })
        }
        "expired" | "cancelled" => Ok(State::Closed),
        _ => Ok(State::Open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::client::{tests::charge, Mode};

    #[test]
    fn the_reference_is_unique_per_attempt_and_fits_razorpays_limit() {
        let uuid = "0193a0c4-7e1f-7000-8000-000000000001";
        let first = reference_id(&charge(uuid, 1));
        assert_eq!(first, "0193a0c47e1f70008000000000000001-1");
        let later = reference_id(&charge(uuid, 4_000_000_000));
        assert!(later.len() <= REFERENCE_MAX, "{later}");
        assert_ne!(reference_id(&charge(uuid, 2)), first);
        let long = "an-appointment-id-far-longer-than-forty-characters";
        let digest = reference_id(&charge(long, 1));
        assert_eq!(digest.len(), REFERENCE_MAX);
        assert_ne!(digest, reference_id(&charge(long, 2)));
    }

    #[test]
    fn the_link_asks_for_the_charge_and_nothing_razorpay_would_send_itself() {
        let body = link_body(&charge("appt-1", 1), "appt1-1");
        assert_eq!(body["amount"], 50_000);
        assert_eq!(body["currency"], "INR");
        assert_eq!(body["expire_by"], 1_765_000_000);
        assert_eq!(body["reference_id"], "appt1-1");
        assert_eq!(body["notes"]["appointment_id"], "appt-1");
        assert_eq!(body["notes"]["doctor_id"], "doc-1");
        assert_eq!(body["callback_method"], "get");
        assert_eq!(body["notify"], json!({"sms": false, "email": false}));
        assert_eq!(body["reminder_enable"], false);
        assert_eq!(body["accept_partial"], false);
    }

    #[test]
    fn the_mode_comes_from_the_key_ids_prefix() {
        assert_eq!(PROVIDER.mode("rzp_test_abc"), Ok(Mode::Test));
        assert_eq!(PROVIDER.mode("rzp_live_abc"), Ok(Mode::Live));
        assert!(matches!(
            PROVIDER.mode("sk_live_abc"),
            Err(ProviderError::Refused(_))
        ));
    }

    #[test]
    fn razorpays_errors_map_to_what_the_caller_can_do() {
        use reqwest::StatusCode;
        let body = |description: &str| {
            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": description,
                "source": "NA", "step": "NA", "reason": "NA", "metadata": {}}})
            .to_string()
        };
        let auth = body("Authentication failed");
        assert_eq!(
            PROVIDER.refusal(StatusCode::UNAUTHORIZED, auth.as_bytes()),
            ProviderError::KeyRejected
        );
        let late = body("expire_by should be at least 15 minutes after current time.");
        assert_eq!(
            PROVIDER.refusal(StatusCode::BAD_REQUEST, late.as_bytes()),
            ProviderError::Refused(
                "expire_by should be at least 15 minutes after current time.".into()
            )
        );
        let busy = body("A refund with this idempotency key is in progress");
        assert!(matches!(
            PROVIDER.refusal(StatusCode::CONFLICT, busy.as_bytes()),
            ProviderError::Unreachable(_)
        ));
        assert!(matches!(
            PROVIDER.refusal(StatusCode::SERVICE_UNAVAILABLE, b""),
            ProviderError::Unreachable(_)
        ));
        assert!(is_duplicate_reference("reference_id already exists"));
        assert!(!is_duplicate_reference("The id provided does not exist"));
    }

    #[test]
    fn a_paid_link_names_its_captured_payment() {
        let link = |json: serde_json::Value| serde_json::from_value::<LinkBody>(json).unwrap();
        let paid = link(
            json!({"id": "plink_1", "status": "paid", "amount_paid": 500,
            "payments": [{"payment_id": "pay_failed", "status": "failed"},
                         {"payment_id": "pay_1", "status": "captured"}]}),
        );
        assert_eq!(
            link_state(paid),
            Ok(State::Paid {
                payment: "pay_1".into(),
                amount: 500
            })
        );
        let open = link(json!({"id": "plink_1", "status": "created", "payments": null}));
        assert_eq!(link_state(open), Ok(State::Open));
        for closed in ["expired", "cancelled"] {
            let gone = link(json!({"id": "plink_1", "status": closed}));
            assert_eq!(link_state(gone), Ok(State::Closed));
        }
    }
}
