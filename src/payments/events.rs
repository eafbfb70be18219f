//! What a provider's verified webhook event says, read into the little the app keeps
//! ([`ProviderEvent`]): which session or link, paid (with the payment's id and amount) or
//! closed. Events the app does not act on are `None` and answered 200 all the same, so the
//! provider does not retry them.

use serde::Deserialize;

use crate::db::payments::{EventKind, ProviderEvent};
use crate::domain::payments::Provider;

/// The body is not the provider's event format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {0} event: {1}")]
pub struct Unreadable(&'static str, String);

#[derive(Deserialize)]
struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: StripeData,
}

#[derive(Deserialize)]
struct StripeData {
    object: StripeSession,
}

#[derive(Deserialize)]
struct StripeSession {
    id: String,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    payment_intent: Option<String>,
    #[serde(default)]
    amount_total: Option<i64>,
}

/// A Stripe event: `checkout.session.completed` once `payment_status` is `paid`, and
/// `checkout.session.async_payment_succeeded`, are paid; `checkout.session.expired` is closed.
pub fn stripe(body: &[u8]) -> Result<Option<ProviderEvent>, Unreadable> {
    let event: StripeEvent =
        serde_json::from_slice(body).map_err(|e| Unreadable("Stripe", e.to_string()))?;
    let session = event.data.object;
    let kind = match event.kind.as_str() {
        "checkout.session.completed" if session.payment_status.as_deref() == Some("paid") => {
            EventKind::Paid
        }
        "checkout.session.async_payment_succeeded" => EventKind::Paid,
        "checkout.session.expired" => EventKind::Closed,
        _ => return Ok(None),
    };
    Ok(Some(ProviderEvent {
        provider: Provider::Stripe,
        event_id: event.id,
        reference: session.id,
        kind,
        payment: session.payment_intent,
        amount: session.amount_total,
    }))
}

#[derive(Deserialize)]
struct RazorpayEvent {
    event: String,
    payload: RazorpayPayload,
}

#[derive(Deserialize)]
struct RazorpayPayload {
    #[serde(default)]
    payment_link: Option<Entity<RazorpayLink>>,
    #[serde(default)]
    payment: Option<Entity<RazorpayPayment>>,
}

#[derive(Deserialize)]
struct Entity<T> {
    entity: T,
}

#[derive(Deserialize)]
struct RazorpayLink {
    id: String,
    #[serde(default)]
    amount_paid: Option<i64>,
}

#[derive(Deserialize)]
struct RazorpayPayment {
    id: String,
    #[serde(default)]
    amount: Option<i64>,
}

/// A Razorpay event, whose id comes in the `x-razorpay-event-id` header: `payment_link.paid`
/// is paid; `payment_link.expired` and `payment_link.cancelled` are closed.
pub fn razorpay(event_id: &str, body: &[u8]) -> Result<Option<ProviderEvent>, Unreadable> {
    let event: RazorpayEvent =
        serde_json::from_slice(body).map_err(|e| Unreadable("Razorpay", e.to_string()))?;
    let kind = match event.event.as_str() {
        "payment_link.paid" => EventKind::Paid,
        "payment_link.expired" | "payment_link.cancelled" => EventKind::Closed,
        _ => return Ok(None),
    };
    let link = event
        .payload
        .payment_link
        .ok_or_else(|| Unreadable("Razorpay", "no payment_link in the payload".into()))?
        .entity;
    let payment = event.payload.payment.map(|p| p.entity);
    Ok(Some(ProviderEvent {
        provider: Provider::Razorpay,
        event_id: event_id.to_owned(),
        reference: link.id,
        kind,
        amount: payment.as_ref().and_then(|p| p.amount).or(link.amount_paid),
        payment: payment.map(|p| p.id),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stripe_event(kind: &str, payment_status: &str) -> Vec<u8> {
        json!({
            "id": "evt_1", "object": "event", "type": kind, "created": 1_796_000_000,
            "data": {"object": {
                "id": "cs_test_1", "object": "checkout.session", "payment_status": payment_status,
                "payment_intent": "pi_1", "amount_total": 50000, "status": "complete",
                "client_reference_id": "appointment-1"
            }}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn stripe_sessions_paid_now_or_later_are_paid_and_expired_ones_closed() {
        let paid = stripe(&stripe_event("checkout.session.completed", "paid"))
            .unwrap()
            .unwrap();
        assert_eq!(paid.kind, EventKind::Paid);
        assert_eq!(
            (
                paid.reference.as_str(),
                paid.payment.as_deref(),
                paid.amount
            ),
            ("cs_test_1", Some("pi_1"), Some(50000))
        );
        // Completed but not paid yet (a bank transfer, say): wait for async_payment_succeeded.
        assert_eq!(
            stripe(&stripe_event("checkout.session.completed", "unpaid")),
            Ok(None)
        );
        let later = stripe(&stripe_event(
            "checkout.session.async_payment_succeeded",
            "paid",
        ));
        assert_eq!(later.unwrap().unwrap().kind, EventKind::Paid);
        let expired = stripe(&stripe_event("checkout.session.expired", "unpaid"));
        assert_eq!(expired.unwrap().unwrap().kind, EventKind::Closed);
        assert_eq!(stripe(&stripe_event("charge.refunded", "paid")), Ok(None));
        assert!(stripe(b"{not json").is_err());
    }

    #[test]
    fn razorpay_links_paid_are_paid_and_expired_or_cancelled_closed() {
        let body = json!({
            "entity": "event", "account_id": "acc_1", "event": "payment_link.paid",
            "contains": ["payment_link", "order", "payment"],
            "payload": {
                "payment_link": {"entity": {"id": "plink_1", "amount": 50000, "amount_paid": 50000, "status": "paid"}},
                "order": {"entity": {"id": "order_1"}},
                "payment": {"entity": {"id": "pay_1", "amount": 50000, "status": "captured"}}
            },
            "created_at": 1_796_000_000
        });
        let paid = razorpay("ev_1", body.to_string().as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                paid.event_id.as_str(),
                paid.reference.as_str(),
                paid.payment.as_deref(),
                paid.amount
            ),
            ("ev_1", "plink_1", Some("pay_1"), Some(50000))
        );
        let cancelled = json!({"event": "payment_link.cancelled",
            "payload": {"payment_link": {"entity": {"id": "plink_1", "status": "cancelled"}}}});
        let closed = razorpay("ev_2", cancelled.to_string().as_bytes());
        assert_eq!(closed.unwrap().unwrap().kind, EventKind::Closed);
        let other = json!({"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_1"}}}});
        assert_eq!(razorpay("ev_3", other.to_string().as_bytes()), Ok(None));
    }
}
