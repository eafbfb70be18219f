//! Stripe's Checkout Sessions and Refunds APIs, with a doctor's secret or restricted key
//! (basic auth, the key as user). Requests are form-encoded with Stripe's nested keys
//! (`line_items[0][price_data][currency]`), written out by hand; creating calls carry an
//! `Idempotency-Key`, so a retry gets Stripe's first answer instead of a second session.

use serde::Deserialize;

use crate::providers::client::{
    attempt_key, checked_id, Api, Charge, Link, Provider, ProviderError, RefundBody, State,
};

/// Stripe's keys, and its error bodies: `{"error": {"type", "code", "message"}}`.
pub(super) const PROVIDER: Provider = Provider {
    name: "Stripe",
    // Secret and restricted keys; publishable keys and anything else are refused.
    test_prefixes: &["sk_test_", "rk_test_"],
    live_prefixes: &["sk_live_", "rk_live_"],
    not_a_key: "not a Stripe secret or restricted key (sk_… or rk_…)",
    message_field: "message",
};

#[derive(Deserialize)]
struct SessionBody {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    /// The id, or the object when expanded.
    #[serde(default)]
    payment_intent: Option<serde_json::Value>,
    #[serde(default)]
    amount_total: Option<i64>,
}

#[derive(Deserialize)]
struct ListBody {
    #[allow(dead_code)] // read only to prove the answer is a list
    data: Vec<serde_json::Value>,
}

/// A list of one Checkout Session: whether Stripe takes the key.
pub(super) async fn check(api: &Api<'_>) -> Result<(), ProviderError> {
    let list = api.get("/v1/checkout/sessions").query(&[("limit", "1")]);
    let _: ListBody = api.call(list).await?;
    Ok(())
}

pub(super) async fn create(api: &Api<'_>, charge: &Charge<'_>) -> Result<Link, ProviderError> {
    let request = post(api, "/v1/checkout/sessions")
        .header("Idempotency-Key", attempt_key(charge))
        .body(encode(&session_form(charge)));
    let session: SessionBody = api.call(request).await?;
    let url = session.url.ok_or_else(|| {
        ProviderError::Unreachable("Stripe answered with a session without a URL".into())
    })?;
    Ok(Link {
        reference: session.id,
        url,
    })
}

pub(super) async fn state(api: &Api<'_>, reference: &str) -> Result<State, ProviderError> {
    let id = checked_id(reference, "Checkout Session id")?;
    let request = api.get(&format!("/v1/checkout/sessions/{id}"));
    session_state(api.call(request).await?)
}

/// Expires the session; Stripe refuses (400) one that is no longer open.
pub(super) async fn close(api: &Api<'_>, reference: &str) -> Result<(), ProviderError> {
    let id = checked_id(reference, "Checkout Session id")?;
    let request = post(api, &format!("/v1/checkout/sessions/{id}/expire"));
    let _: SessionBody = api.call(request).await?;
    Ok(())
}

pub(super) async fn refund(
    api: &Api<'_>,
    (payment, amount, idempotency_key): (&str, i64, &str),
) -> Result<String, ProviderError> {
    let payment = checked_id(payment, "PaymentIntent id")?;
    let form = [
        ("payment_intent".to_owned(), payment.to_owned()),
        ("amount".to_owned(), amount.to_string()),
    ];
    let request = post(api, "/v1/refunds")
        .header("Idempotency-Key", idempotency_key)
        .body(encode(&form));
    let refund: RefundBody = api.call(request).await?;
    Ok(refund.id)
}

/// A form-encoded POST.
fn post(api: &Api<'_>, path: &str) -> reqwest::RequestBuilder {
    api.post(path).header(
        reqwest::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    )
}

/// The Checkout Session's fields, with Stripe's nested keys spelt out.
fn session_form(charge: &Charge<'_>) -> Vec<(String, String)> {
    let pairs = [
        ("mode", "payment".to_owned()),
        (
            "line_items[0][price_data][currency]",
            // Stripe's currency codes are lower case.
            charge.currency.to_ascii_lowercase(),
        ),
        (
            "line_items[0][price_data][unit_amount]",
            charge.amount.to_string(),
        ),
        (
            "line_items[0][price_data][product_data][name]",
            charge.description.to_owned(),
        ),
        ("line_items[0][quantity]", "1".to_owned()),
        ("client_reference_id", charge.appointment_id.to_owned()),
        ("metadata[appointment_id]", charge.appointment_id.to_owned()),
        ("metadata[doctor_id]", charge.doctor_id.to_owned()),
        // The PaymentIntent (and so the charge and its refunds) carries them too.
        (
            "payment_intent_data[metadata][appointment_id]",
            charge.appointment_id.to_owned(),
        ),
        (
            "payment_intent_data[metadata][doctor_id]",
            charge.doctor_id.to_owned(),
        ),
        ("success_url", charge.return_url.to_owned()),
        ("cancel_url", charge.return_url.to_owned()),
        ("expires_at", charge.expires_at.to_string()),
    ];
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn session_state(session: SessionBody) -> Result<State, ProviderError> {
    if session.payment_status.as_deref() == Some("paid") {
        let payment = match session.payment_intent {
            Some(serde_json::Value::String(id)) => Some(id),
            Some(object) => object["id"].as_str().map(str::to_owned),
            None => None,
        };
        let (Some(payment), Some(amount)) = (payment, session.amount_total) else {
            return Err(ProviderError::Unreachable(format!(
                "Stripe answered with a paid session without its payment ({})",
                session.id
            )));
        };
        return Ok(State::Paid { payment, amount });
    }
    Ok(match session.status.as_deref() {
        Some("expired") => State::Closed,
        _ => State::Open,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::client::{tests::charge, Mode};

    const APPOINTMENT: &str = "0193a0c4-7e1f-7000-8000-000000000001";

    #[test]
    fn the_session_form_spells_out_stripes_nested_keys() {
        let form = session_form(&charge(APPOINTMENT, 2));
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(field("mode"), Some("payment"));
        assert_eq!(field("line_items[0][price_data][currency]"), Some("inr"));
        assert_eq!(
            field("line_items[0][price_data][unit_amount]"),
            Some("50000")
        );
        assert_eq!(
            field("line_items[0][price_data][product_data][name]"),
            Some("Video consultation, Mon 7 Dec 09:30")
        );
        assert_eq!(field("line_items[0][quantity]"), Some("1"));
        assert_eq!(
            field("client_reference_id"),
            Some("0193a0c4-7e1f-7000-8000-000000000001")
        );
        assert_eq!(field("metadata[doctor_id]"), Some("doc-1"));
        assert_eq!(
            field("payment_intent_data[metadata][appointment_id]"),
            Some("0193a0c4-7e1f-7000-8000-000000000001")
        );
        assert_eq!(
            field("payment_intent_data[metadata][doctor_id]"),
            Some("doc-1")
        );
        assert_eq!(field("success_url"), field("cancel_url"));
        assert_eq!(field("expires_at"), Some("1765000000"));
    }

    #[test]
    fn the_form_is_percent_encoded_and_reads_back_the_same() {
        let form = session_form(&charge(APPOINTMENT, 2));
        let encoded = encode(&form);
        assert!(encoded.contains("line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=inr"));
        assert!(encoded
            .contains("success_url=https%3A%2F%2Fclariva.example%2Fpay%2Freturn%3Fa%3D1%26b%3D2"));
        let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded, form);
    }

    #[test]
    fn each_attempt_of_an_appointment_has_its_own_idempotency_key() {
        let key = attempt_key(&charge(APPOINTMENT, 2));
        assert_eq!(
            key,
            "appointment:0193a0c4-7e1f-7000-8000-000000000001:attempt:2"
        );
    }

    #[test]
    fn the_mode_comes_from_the_keys_prefix() {
        let mode_of = |key: &str| PROVIDER.mode(key);
        assert_eq!(mode_of("sk_test_abc"), Ok(Mode::Test));
        assert_eq!(mode_of("rk_test_abc"), Ok(Mode::Test));
        assert_eq!(mode_of("sk_live_abc"), Ok(Mode::Live));
        assert_eq!(mode_of("rk_live_abc"), Ok(Mode::Live));
        for other in ["pk_live_abc", "rzp_test_abc", "", "sk_abc"] {
            assert!(
                matches!(mode_of(other), Err(ProviderError::Refused(_))),
                "{other}"
            );
        }
    }

    #[test]
    fn stripes_errors_map_to_what_the_caller_can_do() {
        use reqwest::StatusCode;
        let body = |message: &str| {
            serde_json::json!({"error": {"type": "invalid_request_error", "message": message}})
                .to_string()
        };
        let invalid = body("Invalid API Key provided: sk_test_****abcd");
        assert_eq!(
            PROVIDER.refusal(StatusCode::UNAUTHORIZED, invalid.as_bytes()),
            ProviderError::KeyRejected
        );
        let denied = body(
            "The provided key 'rk_test_***Ab12' does not have the required permissions for \
             this endpoint on account 'acct_1'. Having the 'rak_checkout_session_write' \
             permission would allow this request to continue.",
        );
        let ProviderError::Permission(message) =
            PROVIDER.refusal(StatusCode::FORBIDDEN, denied.as_bytes())
        else {
            panic!("a 403 is a missing permission");
        };
        assert!(message.contains("rak_checkout_session_write"));
        assert!(!message.contains("Ab12"));
        let missing = body("Missing required param: success_url.");
        assert_eq!(
            PROVIDER.refusal(StatusCode::BAD_REQUEST, missing.as_bytes()),
            ProviderError::Refused("Missing required param: success_url.".into())
        );
        let down = body("An unknown error occurred");
        assert!(matches!(
            PROVIDER.refusal(StatusCode::INTERNAL_SERVER_ERROR, down.as_bytes()),
            ProviderError::Unreachable(_)
        ));
        assert!(matches!(
            PROVIDER.refusal(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>"),
            ProviderError::Unreachable(_)
        ));
    }

    #[test]
    fn a_session_is_paid_only_once_its_payment_status_says_so() {
        let session =
            |json: serde_json::Value| serde_json::from_value::<SessionBody>(json).unwrap();
        let paid = session(serde_json::json!({"id": "cs_1", "status": "complete",
            "payment_status": "paid", "payment_intent": "pi_1", "amount_total": 500}));
        assert_eq!(
            session_state(paid),
            Ok(State::Paid {
                payment: "pi_1".into(),
                amount: 500
            })
        );
        // A delayed payment method: complete, but the money is not there yet.
        let pending = session(serde_json::json!({"id": "cs_1", "status": "complete",
            "payment_status": "unpaid", "payment_intent": "pi_1", "amount_total": 500}));
        assert_eq!(session_state(pending), Ok(State::Open));
        let expired = session(serde_json::json!({"id": "cs_1", "status": "expired",
            "payment_status": "unpaid", "payment_intent": null, "amount_total": 500}));
        assert_eq!(session_state(expired), Ok(State::Closed));
        let expanded = session(serde_json::json!({"id": "cs_1", "status": "complete",
            "payment_status": "paid", "payment_intent": {"id": "pi_2"}, "amount_total": 7}));
        assert_eq!(
            session_state(expanded),
            Ok(State::Paid {
                payment: "pi_2".into(),
                amount: 7
            })
        );
    }
}
