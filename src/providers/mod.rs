//! The payment providers' APIs, for any doctor's own keys: Stripe Checkout Sessions and
//! Razorpay Payment Links as one client ([`client`]), and the signatures on their webhook
//! deliveries ([`signature`]). What the app does with them is the `payments` feature.

pub mod client;
mod razorpay;
pub mod signature;
mod stripe;
