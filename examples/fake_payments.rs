//! The fake Stripe and Razorpay of the Rust tests (`tests/common/fake_payments.rs`), served on
//! its own so the Playwright tests in `end2end/` can send the browser through the fake hosted
//! pay page. Tests add accounts and steer it over HTTP: `POST /fake/stripe/accounts`,
//! `POST /fake/razorpay/accounts`, `POST /fake/pay/{reference}`, `POST /fake/webhooks`,
//! `POST /fake/expire/{reference}`, `POST /fake/events/resend-last`, `POST /fake/fail-next`,
//! and `GET /fake/sessions|links|refunds|events`.
//!
//! `FAKE_PAYMENTS_PORT` (default 3103) is the port on 127.0.0.1; both providers' base URL is
//! `http://127.0.0.1:<port>`.

#[allow(dead_code)] // the browser tests need only the server, not the tests' helpers
#[path = "../tests/common/fake_payments.rs"]
mod fake_payments;

use fake_payments::FakePayments;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("FAKE_PAYMENTS_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3103);
    let fake = FakePayments::start_on(([127, 0, 0, 1], port).into()).await;
    println!(
        "fake Stripe and Razorpay on {url}; links are paid at {url}/pay/{{reference}}",
        url = fake.url()
    );
    let _ = tokio::signal::ctrl_c().await;
}
