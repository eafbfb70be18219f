//! A fake of Stripe and Razorpay on one server, speaking their wire formats
//! (`../shared/reference/payments.md`): Stripe's Checkout Sessions (create, retrieve, list,
//! expire) and Refunds, form-encoded with nested keys, with `Idempotency-Key` replays and
//! Stripe's error bodies; Razorpay's Payment Links (create, fetch, fetch all by
//! `reference_id`, cancel) and Refunds (with `X-Refund-Idempotency`), JSON, with Razorpay's
//! error bodies. Both check basic auth against the accounts a test adds (a Stripe key may be
//! a restricted key without Checkout permission: Stripe's 403) and answer unknown keys with
//! the providers' 401s.
//!
//! A link's URL (Stripe's `url`, Razorpay's `short_url`) is this fake's hosted page,
//! `GET /pay/{reference}`: it shows the amount, currency and description and a "Pay" button;
//! paying marks the link paid, sends the signed webhook events to the account's webhook URL
//! and redirects to the return URL, as the providers do. Tests steer the fake through the
//! handle's methods (`pay`, `expire_now`, `set_webhooks`, `resend_last_event`, `fail_next`, …)
//! or, from a browser test, through the same controls under `/fake/…`.
//!
//! Links lapse when their expiry passes (seen on the next request, without an event);
//! `expire_now` lapses one at once and sends the providers' event.
//!
//! `GET /dashboard` plays the providers' dashboards, for `make demo` and the browser tests:
//! make a Stripe restricted key or a Razorpay key, then add a webhook with the app's URL
//! (Stripe gives its signing secret; Razorpay takes one typed in).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The API version the fake's Stripe events name.
pub const STRIPE_API_VERSION: &str = "2024-06-20";

/// A Stripe account, known by its secret (or restricted) key.
#[derive(Clone, Debug, Serialize)]
pub struct StripeAccount {
    pub id: String,
    pub secret_key: String,
    pub webhook_secret: String,
    pub webhook_url: Option<String>,
    /// Whether the key may read and write Checkout Sessions (a restricted key may not).
    pub checkout: bool,
}

/// A Razorpay account, known by its key id and secret.
#[derive(Clone, Debug, Serialize)]
pub struct RazorpayAccount {
    pub id: String,
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
    pub webhook_url: Option<String>,
}

/// A Stripe Checkout Session as the fake keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub id: String,
    /// The account's id (`acct_…`).
    pub account: String,
    pub livemode: bool,
    /// The form as sent, by its nested key names, e.g. `line_items[0][price_data][currency]`.
    pub form: BTreeMap<String, String>,
    /// The `Idempotency-Key` it was created with.
    pub idempotency_key: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub name: String,
    pub client_reference_id: Option<String>,
    pub metadata: Value,
    pub payment_intent_metadata: Value,
    pub success_url: String,
    pub cancel_url: String,
    pub expires_at: i64,
    pub created: i64,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `unpaid` or `paid`.
    pub payment_status: String,
    pub payment_intent: Option<String>,
}

/// A Razorpay Payment Link as the fake keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct PaymentLink {
    pub id: String,
    /// The account's id (`acc_…`).
    pub account: String,
    /// The JSON body it was created with.
    pub body: Value,
    pub amount: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub description: String,
    pub reference_id: Option<String>,
    pub expire_by: i64,
    pub notes: Value,
    pub callback_url: Option<String>,
    pub callback_method: Option<String>,
    /// `created`, `paid`, `cancelled` or `expired`.
    pub status: String,
    /// The captured payment (`pay_…`), once paid.
    pub payment: Option<String>,
    pub order_id: String,
    pub created_at: i64,
    pub cancelled_at: i64,
    pub expired_at: i64,
}

/// A refund either provider made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// `stripe` or `razorpay`.
    pub provider: String,
    /// `re_…` or `rfnd_…`.
    pub id: String,
    /// The PaymentIntent (`pi_…`) or payment (`pay_…`) refunded.
    pub payment: String,
    pub amount: i64,
    pub idempotency_key: Option<String>,
}

impl Refund {
    fn new(
        provider: Provider,
        id: String,
        payment: &str,
        amount: i64,
        idempotency_key: Option<&str>,
    ) -> Self {
        Self {
            provider: provider.name().into(),
            id,
            payment: payment.to_owned(),
            amount,
            idempotency_key: idempotency_key.map(str::to_owned),
        }
    }
}

/// A webhook event the fake made, and its deliveries.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// `stripe` or `razorpay`.
    pub provider: String,
    /// Stripe's `evt_…`, or Razorpay's `x-razorpay-event-id`.
    pub id: String,
    /// `checkout.session.completed`, `payment_link.paid`, …
    pub kind: String,
    pub body: String,
    /// The status of each delivery (0: not answered); empty while lost or not sent.
    pub deliveries: Vec<u16>,
    #[serde(skip)]
    url: Option<String>,
    #[serde(skip)]
    secret: String,
}

/// What one answer to an idempotent request was, to replay it.
struct Remembered {
    request: String,
    status: StatusCode,
    body: Value,
}

#[derive(Default)]
struct World {
    base: String,
    stripe: Vec<StripeAccount>,
    razorpay: Vec<RazorpayAccount>,
    sessions: Vec<Session>,
    links: Vec<PaymentLink>,
    refunds: Vec<Refund>,
    /// Answers by (account id, idempotency key).
    idempotent: HashMap<(String, String), Remembered>,
    webhooks_off: bool,
    /// How many of the next API requests fail, and with which status.
    failures: (usize, u16),
    events: Vec<Event>,
}

impl World {
    fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    fn link_mut(&mut self, id: &str) -> Option<&mut PaymentLink> {
        self.links.iter_mut().find(|l| l.id == id)
    }

    /// How much of the payment (`pi_…` or `pay_…`) has been refunded.
    fn refunded(&self, payment: &str) -> i64 {
        self.refunds
            .iter()
            .filter(|r| r.payment == payment)
            .map(|r| r.amount)
            .sum()
    }
}

#[derive(Clone)]
pub struct FakePayments {
    pub addr: SocketAddr,
    world: Arc<Mutex<World>>,
    http: reqwest::Client,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `length` random letters and digits, as the providers' ids end.
fn random(length: usize) -> String {
    let mut out = String::new();
    while out.len() < length {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(length);
    out
}

fn hmac_hex(secret: &str, message: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    clariva::crypto::hex(&mac.finalize().into_bytes())
}

/// The `Stripe-Signature` header for `body` signed with the endpoint's `secret` at Unix time
/// `t`: `t=<t>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`.
pub fn stripe_signature(body: &str, secret: &str, t: i64) -> String {
    format!("t={t},v1={}", hmac_hex(secret, &format!("{t}.{body}")))
}

/// The `X-Razorpay-Signature` header for `body`: hex HMAC-SHA256 of the raw body keyed with
/// the webhook secret.
pub fn razorpay_signature(body: &str, secret: &str) -> String {
    hmac_hex(secret, body)
}

impl FakePayments {
    pub async fn start() -> Self {
        Self::start_on(([127, 0, 0, 1], 0).into()).await
    }

    /// Serves the fake on `addr` (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let world = World {
            base: format!("http://{addr}"),
            ..World::default()
        };
        let fake = Self {
            addr,
            world: Arc::new(Mutex::new(world)),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        let payment_links = post(razorpay_create).get(razorpay_list);
        let router = Router::new()
            .route(
                "/v1/checkout/sessions",
                post(stripe_create).get(stripe_list),
            )
            .route("/v1/checkout/sessions/{id}", get(stripe_retrieve))
            .route("/v1/checkout/sessions/{id}/expire", post(stripe_expire))
            .route("/v1/refunds", post(stripe_refund))
            .route("/v1/payment_links", payment_links.clone())
            .route("/v1/payment_links/", payment_links)
            .route("/v1/payment_links/{id}", get(razorpay_fetch))
            .route("/v1/payment_links/{id}/cancel", post(razorpay_cancel))
            .route("/v1/payments/{id}/refund", post(razorpay_refund))
            .layer(middleware::from_fn_with_state(fake.clone(), failing))
            .route("/pay/{reference}", get(pay_page).post(pay_button))
            .merge(controls())
            .merge(dashboards())
            .route("/healthz", get(|| async { "ok" }))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        fake
    }

    /// The base URL of both providers' APIs (and of the hosted pay pages).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_stripe_account(
        &self,
        secret_key: &str,
        webhook_secret: &str,
        webhook_url: Option<String>,
    ) {
        self.add_stripe(secret_key, webhook_secret, webhook_url, true);
    }

    /// A restricted key (`rk_…`) whose permissions leave out Checkout Sessions: Stripe answers
    /// its Checkout calls with 403.
    pub fn add_stripe_key_without_checkout(&self, restricted_key: &str) {
        self.add_stripe(restricted_key, "whsec_unused", None, false);
    }

    fn add_stripe(
        &self,
        secret_key: &str,
        webhook_secret: &str,
        webhook_url: Option<String>,
        checkout: bool,
    ) {
        let account = StripeAccount {
            id: format!("acct_{}", random(16)),
            secret_key: secret_key.to_owned(),
            webhook_secret: webhook_secret.to_owned(),
            webhook_url,
            checkout,
        };
        let mut world = self.world.lock().unwrap();
        world.stripe.retain(|known| known.secret_key != secret_key);
        world.stripe.push(account);
    }

    pub fn add_razorpay_account(
        &self,
        key_id: &str,
        key_secret: &str,
        webhook_secret: &str,
        webhook_url: Option<String>,
    ) {
        let account = RazorpayAccount {
            id: format!("acc_{}", random(14)),
            key_id: key_id.to_owned(),
            key_secret: key_secret.to_owned(),
            webhook_secret: webhook_secret.to_owned(),
            webhook_url,
        };
        let mut world = self.world.lock().unwrap();
        world.razorpay.retain(|known| known.key_id != key_id);
        world.razorpay.push(account);
    }

    /// Every Checkout Session made, oldest first.
    pub fn sessions(&self) -> Vec<Session> {
        self.world.lock().unwrap().sessions.clone()
    }

    /// Every Payment Link made, oldest first.
    pub fn links(&self) -> Vec<PaymentLink> {
        self.world.lock().unwrap().links.clone()
    }

    /// Every refund made, oldest first.
    pub fn refunds(&self) -> Vec<Refund> {
        self.world.lock().unwrap().refunds.clone()
    }

    /// Every webhook event made, oldest first, with its deliveries.
    pub fn events(&self) -> Vec<Event> {
        self.world.lock().unwrap().events.clone()
    }

    /// With `false`, events are made but not sent (lost webhooks); `resend_…` still sends.
    pub fn set_webhooks(&self, on: bool) {
        self.world.lock().unwrap().webhooks_off = !on;
    }

    /// The next `count` API requests (not the pay page's) fail with `status` and the
    /// provider's error body for it.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.world.lock().unwrap().failures = (count, status);
    }

    /// Pays the link as the hosted page's button does: the payment id (`pi_…` or `pay_…`),
    /// or why it cannot be paid.
    pub async fn pay(&self, reference: &str) -> Result<String, String> {
        self.pay_for(reference).await.map(|paid| paid.payment)
    }

    /// Stripe only: the patient finishes with a delayed payment method (the session is
    /// `complete` but `unpaid`; `checkout.session.completed` is sent); [`Self::settle`] later
    /// makes it paid.
    pub async fn pay_delayed(&self, reference: &str) -> Result<String, String> {
        self.change(|world| {
            lapse(world);
            let session = world.session_mut(reference).ok_or("no such session")?;
            if session.status != "open" {
                return Err(format!("the session is {}", session.status));
            }
            let payment = format!("pi_{}", random(24));
            session.status = "complete".into();
            session.payment_intent = Some(payment.clone());
            let session = session.clone();
            let event = stripe_event(world, &session, "checkout.session.completed");
            Ok((payment, event))
        })
        .await
    }

    /// Stripe only: the delayed payment arrives (`checkout.session.async_payment_succeeded`).
    pub async fn settle(&self, reference: &str) -> Result<(), String> {
        self.change(|world| {
            let session = world.session_mut(reference).ok_or("no such session")?;
            if session.status != "complete" || session.payment_status == "paid" {
                return Err("the session awaits no delayed payment".into());
            }
            session.payment_status = "paid".into();
            let session = session.clone();
            let kind = "checkout.session.async_payment_succeeded";
            Ok(((), stripe_event(world, &session, kind)))
        })
        .await
    }

    /// The link lapses now, as time passing would; the provider's event is sent
    /// (`checkout.session.expired`, `payment_link.expired`). False if it was not open.
    pub async fn expire_now(&self, reference: &str) -> bool {
        let expired = self.change(|world| expire_in(world, reference).map(|e| ((), e)).ok_or(()));
        expired.await.is_ok()
    }

    /// Sends the last event again (as a provider's retry does: a Stripe event is signed
    /// anew), even while webhooks are off.
    pub async fn resend_last_event(&self) {
        let last = self.world.lock().unwrap().events.len().checked_sub(1);
        if let Some(index) = last {
            self.deliver(index).await;
        }
    }

    /// Sends the `index`th event (oldest first) again, for out-of-order deliveries.
    pub async fn resend_event(&self, index: usize) {
        self.deliver(index).await;
    }

    async fn pay_for(&self, reference: &str) -> Result<Paid, String> {
        self.change(|world| {
            lapse(world);
            pay_in(world, reference)
        })
        .await
    }

    /// Runs `change` on the world, then keeps the event it made and sends it unless webhooks
    /// are off.
    async fn change<T, E>(
        &self,
        change: impl FnOnce(&mut World) -> Result<(T, Event), E>,
    ) -> Result<T, E> {
        let (out, event) = change(&mut self.world.lock().unwrap())?;
        self.send_new(event).await;
        Ok(out)
    }

    /// Keeps the event and sends it unless webhooks are off.
    async fn send_new(&self, event: Event) {
        let (first, off) = {
            let mut world = self.world.lock().unwrap();
            world.events.push(event);
            (world.events.len() - 1, world.webhooks_off)
        };
        if off {
            return;
        }
        let last = self.world.lock().unwrap().events.len();
        for index in first..last {
            self.deliver(index).await;
        }
    }
    async fn deliver(&self, index: usize) {
        let Some(event) = self.world.lock().unwrap().events.get(index).cloned() else {
            return;
        };
        let Some(url) = &event.url else {
            return;
        };
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(event.body.clone());
        let request = if event.provider == "stripe" {
            let signature = stripe_signature(&event.body, &event.secret, now());
            request.header("Stripe-Signature", signature)
        } else {
            request
                .header(
                    "X-Razorpay-Signature",
                    razorpay_signature(&event.body, &event.secret),
                )
                .header("x-razorpay-event-id", &event.id)
        };
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        if let Some(event) = self.world.lock().unwrap().events.get_mut(index) {
            event.deliveries.push(status);
        }
    }
}

/// A payment made on the hosted page: its id and where the patient goes next.
struct Paid {
    payment: String,
    redirect: String,
}

/// Marks `reference` paid; the payment and the event to send.
fn pay_in(world: &mut World, reference: &str) -> Result<(Paid, Event), String> {
    if let Some(session) = world.session_mut(reference) {
        if session.status != "open" {
            return Err(format!("This Checkout Session is {}.", session.status));
        }
        let payment = format!("pi_{}", random(24));
        session.status = "complete".into();
        session.payment_status = "paid".into();
        session.payment_intent = Some(payment.clone());
        let session = session.clone();
        let redirect = session
            .success_url
            .replace("{CHECKOUT_SESSION_ID}", &session.id);
        let event = stripe_event(world, &session, "checkout.session.completed");
        return Ok((Paid { payment, redirect }, event));
    }
    let link = world.link_mut(reference).ok_or("No such link.")?;
    if link.status != "created" {
        return Err(format!("This payment link is {}.", link.status));
    }
    let payment = format!("pay_{}", random(14));
    link.status = "paid".into();
    link.amount_paid = link.amount;
    link.payment = Some(payment.clone());
    let link = link.clone();
    let secret = world
        .razorpay
        .iter()
        .find(|a| a.id == link.account)
        .map_or("", |a| a.key_secret.as_str());
    let reference_id = link.reference_id.clone().unwrap_or_default();
    let signature = hmac_hex(
        secret,
        &format!("{}|{reference_id}|paid|{payment}", link.id),
    );
    let redirect = match &link.callback_url {
        Some(callback) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("razorpay_payment_id", &payment)
                .append_pair("razorpay_payment_link_id", &link.id)
                .append_pair("razorpay_payment_link_reference_id", &reference_id)
                .append_pair("razorpay_payment_link_status", "paid")
                .append_pair("razorpay_signature", &signature)
                .finish();
            let joiner = if callback.contains('?') { '&' } else { '?' };
            format!("{callback}{joiner}{query}")
        }
        None => format!("{}/pay/{}", world.base, link.id),
    };
    let event = razorpay_event(world, &link, "payment_link.paid");
    Ok((Paid { payment, redirect }, event))
}

/// Lapses the open link `reference` now: the provider's event, or `None` if it was not open.
fn expire_in(world: &mut World, reference: &str) -> Option<Event> {
    if let Some(session) = world.session_mut(reference) {
        if session.status != "open" {
            return None;
        }
        session.status = "expired".into();
        let session = session.clone();
        return Some(stripe_event(world, &session, "checkout.session.expired"));
    }
    let link = world
        .link_mut(reference)
        .filter(|l| l.status == "created")?;
    link.status = "expired".into();
    link.expired_at = now();
    let link = link.clone();
    Some(razorpay_event(world, &link, "payment_link.expired"))
}

/// Open links whose time has passed lapse (without an event).
fn lapse(world: &mut World) {
    let now = now();
    for session in &mut world.sessions {
        if session.status == "open" && session.expires_at <= now {
            session.status = "expired".into();
        }
    }
    for link in &mut world.links {
        if link.status == "created" && link.expire_by != 0 && link.expire_by <= now {
            link.status = "expired".into();
            link.expired_at = link.expire_by;
        }
    }
}

/// An event of `provider` for the webhook of the account it is about (`None`: the account is
/// gone).
fn event(
    provider: Provider,
    id: String,
    kind: &str,
    body: Value,
    webhook: Option<(&Option<String>, &str)>,
) -> Event {
    Event {
        provider: provider.name().into(),
        id,
        kind: kind.into(),
        body: body.to_string(),
        deliveries: Vec::new(),
        url: webhook.and_then(|(url, _)| url.clone()),
        secret: webhook.map_or(String::new(), |(_, secret)| secret.to_owned()),
    }
}

/// Which provider an answer or event is of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Provider {
    Stripe,
    Razorpay,
}

impl Provider {
    /// `stripe` or `razorpay`, as events and refunds name it.
    fn name(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Razorpay => "razorpay",
        }
    }

    /// The provider's refusal of an idempotency key used again with another request.
    fn key_reused(self, key: &str) -> (StatusCode, Value) {
        match self {
            Provider::Stripe => stripe_error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters \
                     they were first used with. Try using a key other than '{key}' if you \
                     meant to execute a different request."
                ),
                None,
                None,
            ),
            Provider::Razorpay => bad_request(
                "The same X-Refund-Idempotency key was used with a different request.",
                None,
            ),
        }
    }
}

/// Runs `make` once per idempotency key of the account: the same key with the same request
/// replays the first answer (Stripe's with `Idempotent-Replayed: true`), with another request
/// it is refused.
fn idempotent(
    world: &mut World,
    provider: Provider,
    account: &str,
    key: Option<&str>,
    request: String,
    make: impl FnOnce(&mut World) -> (StatusCode, Value),
) -> Response {
    let Some(key) = key else {
        return answer(make(world));
    };
    let slot = (account.to_owned(), key.to_owned());
    if let Some(first) = world.idempotent.get(&slot) {
        if first.request != request {
            return answer(provider.key_reused(key));
        }
        let mut response = answer((first.status, first.body.clone()));
        if provider == Provider::Stripe {
            response
                .headers_mut()
                .insert("idempotent-replayed", "true".parse().unwrap());
        }
        return response;
    }
    let (status, body) = make(world);
    let remembered = Remembered {
        request,
        status,
        body: body.clone(),
    };
    world.idempotent.insert(slot, remembered);
    answer((status, body))
}

/// `POST {path} {body}`: what a repeated idempotency key must repeat.
fn described(path: &str, body: &[u8]) -> String {
    format!("POST {path} {}", String::from_utf8_lossy(body))
}

/// The page size `query[name]` asks for (10 unless it says), if from 1 to 100; its text
/// otherwise.
fn page_size<'q>(query: &'q HashMap<String, String>, name: &str) -> Result<usize, &'q str> {
    let size = query.get(name).map_or("10", String::as_str);
    size.parse::<usize>()
        .ok()
        .filter(|size| (1..=100).contains(size))
        .ok_or(size)
}

fn answer((status, body): (StatusCode, Value)) -> Response {
    (status, Json(body)).into_response()
}

/// A provider's error answer, for a handler to return early with `?` (boxed: a response is
/// large).
struct Refusal(Box<Response>);

impl From<(StatusCode, Value)> for Refusal {
    fn from(error: (StatusCode, Value)) -> Self {
        Self(Box::new(answer(error)))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A request to one of the providers' APIs: the fake and the request's headers.
struct ApiRequest {
    fake: FakePayments,
    headers: HeaderMap,
}

impl FromRequestParts<FakePayments> for ApiRequest {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        fake: &FakePayments,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self {
            fake: fake.clone(),
            headers: parts.headers.clone(),
        })
    }
}

/// The world, locked for the whole request, and the account whose keys the request carries.
struct Call<'a, A> {
    world: MutexGuard<'a, World>,
    account: A,
}

/// Finds the account whose keys a request carries, or answers with the provider's 401.
type Authenticate<A> = fn(&World, &HeaderMap) -> Result<A, Refusal>;

impl ApiRequest {
    /// A call to Stripe's Checkout Sessions, by a key with the Checkout `permission` (Stripe's
    /// 403 for a restricted key without it).
    fn checkout(&self, permission: &str) -> Result<Call<'_, StripeAccount>, Refusal> {
        let call = self.call(true, stripe_account)?;
        permitted(&call.account, permission)?;
        Ok(call)
    }

    /// A call to Razorpay's Payment Links.
    fn payment_links(&self) -> Result<Call<'_, RazorpayAccount>, Refusal> {
        self.call(true, razorpay_account)
    }

    /// A call to either provider's refunds: links do not lapse, and a restricted Stripe key
    /// needs no Checkout permission.
    fn refunds<A>(&self, authenticate: Authenticate<A>) -> Result<Call<'_, A>, Refusal> {
        self.call(false, authenticate)
    }

    /// Locks the world (first lapsing the links past their time, if `lapsing`) and finds the
    /// caller's account.
    fn call<A>(
        &self,
        lapsing: bool,
        authenticate: Authenticate<A>,
    ) -> Result<Call<'_, A>, Refusal> {
        let mut world = self.fake.world.lock().unwrap();
        if lapsing {
            lapse(&mut world);
        }
        let account = authenticate(&world, &self.headers)?;
        Ok(Call { world, account })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

// ---------------------------------------------------------------------------------------
// Stripe

fn stripe_error(
    status: StatusCode,
    kind: &str,
    message: &str,
    code: Option<&str>,
    param: Option<&str>,
) -> (StatusCode, Value) {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
        error["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{code}"));
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    (status, json!({ "error": error }))
}

/// Stripe's 400 for an invalid request.
fn invalid(message: &str, code: Option<&str>, param: Option<&str>) -> (StatusCode, Value) {
    stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        message,
        code,
        param,
    )
}

fn missing(param: &str) -> (StatusCode, Value) {
    let message = format!("Missing required param: {param}.");
    invalid(&message, Some("parameter_missing"), Some(param))
}

fn invalid_integer(param: &str, value: &str) -> (StatusCode, Value) {
    let message = format!("Invalid integer: {value}");
    invalid(&message, Some("parameter_invalid_integer"), Some(param))
}

/// The key as Stripe names it in errors: its prefix, stars and its last four characters.
fn masked(key: &str) -> String {
    let prefix_end = key.match_indices('_').nth(1).map_or(0, |(at, _)| at + 1);
    let tail = key.len().saturating_sub(4).max(prefix_end);
    format!("{}{}{}", &key[..prefix_end], "*".repeat(24), &key[tail..])
}

/// The caller's key from `Authorization` (basic, the key as user; or bearer).
fn presented_key(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get("authorization")?.to_str().ok()?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some((token.to_owned(), String::new()));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((&text, ""));
    Some((user.to_owned(), password.to_owned()))
}

/// The account whose key the request carries, or Stripe's 401.
fn stripe_account(world: &World, headers: &HeaderMap) -> Result<StripeAccount, Refusal> {
    let unauthorized = |message: &str| {
        let error = stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            message,
            None,
            None,
        );
        Refusal::from(error)
    };
    let Some((key, _)) = presented_key(headers).filter(|(key, _)| !key.is_empty()) else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, \
             or we can help at https://support.stripe.com/.",
        ));
    };
    world
        .stripe
        .iter()
        .find(|account| account.secret_key == key)
        .cloned()
        .ok_or_else(|| unauthorized(&format!("Invalid API Key provided: {}", masked(&key))))
}

/// Stripe's 403 for a restricted key without the Checkout permission `permission`.
fn permitted(account: &StripeAccount, permission: &str) -> Result<(), Refusal> {
    if account.checkout {
        return Ok(());
    }
    Err(stripe_error(
        StatusCode::FORBIDDEN,
        "invalid_request_error",
        &format!(
            "The provided key '{}' does not have the required permissions for this \
             endpoint on account '{}'. Having the '{permission}' permission would allow \
             this request to continue.",
            masked(&account.secret_key),
            account.id
        ),
        None,
        None,
    )
    .into())
}

/// The account's Checkout Session `id`, or Stripe's 404.
fn own_session<'w>(
    world: &'w mut World,
    account: &StripeAccount,
    id: &str,
) -> Result<&'w mut Session, (StatusCode, Value)> {
    let found = world.session_mut(id).filter(|s| s.account == account.id);
    found.ok_or_else(|| {
        stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such checkout.session: '{id}'"),
            Some("resource_missing"),
            Some("session"),
        )
    })
}

/// A form's pairs as Stripe reads them: `a[b][0][c]=v` becomes `{"a": {"b": [{"c": "v"}]}}`.
pub fn nested(pairs: &[(String, String)]) -> Value {
    let mut root = Value::Object(Default::default());
    for (name, value) in pairs {
        let mut path: Vec<&str> = Vec::new();
        let (head, rest) = name.split_once('[').unwrap_or((name, ""));
        path.push(head);
        if !rest.is_empty() {
            path.extend(rest.trim_end_matches(']').split("]["));
        }
        insert(&mut root, &path, value);
    }
    arrays(root)
}

fn insert(node: &mut Value, path: &[&str], value: &str) {
    if !node.is_object() {
        *node = Value::Object(Default::default());
    }
    let object = node.as_object_mut().unwrap();
    match path {
        [] => {}
        [last] => {
            object.insert((*last).to_owned(), Value::String(value.to_owned()));
        }
        [first, rest @ ..] => {
            let child = object
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Default::default()));
            insert(child, rest, value);
        }
    }
}

/// Objects whose keys are all indexes become arrays.
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap(), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

fn session_object(session: &Session, base: &str) -> Value {
    json!({
        "id": session.id,
        "object": "checkout.session",
        "amount_subtotal": session.amount,
        "amount_total": session.amount,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "created": session.created,
        "currency": session.currency,
        "customer": null,
        "customer_details": null,
        "expires_at": session.expires_at,
        "livemode": session.livemode,
        "metadata": session.metadata,
        "mode": "payment",
        "payment_intent": session.payment_intent,
        "payment_method_types": ["card"],
        "payment_status": session.payment_status,
        "status": session.status,
        "success_url": session.success_url,
        "url": (session.status == "open").then(|| format!("{base}/pay/{}", session.id)),
    })
}

fn stripe_event(world: &World, session: &Session, kind: &str) -> Event {
    let account = world.stripe.iter().find(|a| a.id == session.account);
    let id = format!("evt_{}", random(24));
    let body = json!({
        "id": id,
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": now(),
        "data": {"object": session_object(session, &world.base)},
        "livemode": session.livemode,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
    });
    let webhook = account.map(|a| (&a.webhook_url, a.webhook_secret.as_str()));
    event(Provider::Stripe, id, kind, body, webhook)
}

const STRIPE_CURRENCIES: [&str; 17] = [
    "usd", "eur", "gbp", "inr", "aud", "cad", "sgd", "aed", "chf", "jpy", "nzd", "myr", "kwd",
    "bhd", "jod", "omr", "tnd",
];
/// Stripe's three-decimal currencies: amounts in thousandths whose last digit is 0.
const STRIPE_THREE_DECIMAL: [&str; 5] = ["kwd", "bhd", "jod", "omr", "tnd"];

fn new_session(world: &mut World, post: &StripePost) -> (StatusCode, Value) {
    let StripePost {
        account,
        pairs,
        form,
        key,
    } = post;
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let bad = |message: &str, param: &str| invalid(message, Some("parameter_invalid"), Some(param));
    match text(&form["mode"]).as_deref() {
        None => return missing("mode"),
        Some("payment") => {}
        Some(other) => {
            return bad(
                &format!("The fake takes mode=payment only, not {other}."),
                "mode",
            )
        }
    }
    let Some(success_url) = text(&form["success_url"]) else {
        return missing("success_url");
    };
    let item = &form["line_items"][0];
    let price = &item["price_data"];
    const CURRENCY: &str = "line_items[0][price_data][currency]";
    let Some(currency) = text(&price["currency"]) else {
        return missing(CURRENCY);
    };
    if !STRIPE_CURRENCIES.contains(&currency.as_str()) {
        return bad(&format!("Invalid currency: {currency}."), CURRENCY);
    }
    const UNIT_AMOUNT: &str = "line_items[0][price_data][unit_amount]";
    let Some(unit_amount) = text(&price["unit_amount"]) else {
        return missing(UNIT_AMOUNT);
    };
    let Ok(unit_amount) = unit_amount.parse::<i64>() else {
        return invalid_integer(UNIT_AMOUNT, &unit_amount);
    };
    if unit_amount < 1 {
        return invalid(
            "This value must be greater than or equal to 1.",
            Some("parameter_invalid_integer"),
            Some(UNIT_AMOUNT),
        );
    }
    if STRIPE_THREE_DECIMAL.contains(&currency.as_str()) && unit_amount % 10 != 0 {
        return bad(
            &format!(
                "Amounts in {} must be divisible by 10 (the last digit of the amount must be 0).",
                currency.to_uppercase()
            ),
            UNIT_AMOUNT,
        );
    }
    const NAME: &str = "line_items[0][price_data][product_data][name]";
    let Some(name) = text(&price["product_data"]["name"]) else {
        return missing(NAME);
    };
    if name.is_empty() {
        return invalid(
            &format!(
                "You passed an empty string for '{NAME}'. We assume empty values are an \
                 attempt to unset a parameter; however '{NAME}' cannot be unset. You should \
                 remove '{NAME}' from your request or supply a non-empty value."
            ),
            Some("parameter_invalid_empty"),
            Some(NAME),
        );
    }
    const QUANTITY: &str = "line_items[0][quantity]";
    let Some(quantity) = text(&item["quantity"]) else {
        return missing(QUANTITY);
    };
    let Some(quantity) = quantity.parse::<i64>().ok().filter(|q| *q >= 1) else {
        return invalid_integer(QUANTITY, &quantity);
    };
    let created = now();
    let expires_at = match text(&form["expires_at"]) {
        None => created + 24 * 3600,
        Some(value) => match value.parse::<i64>() {
            Err(_) => return invalid_integer("expires_at", &value),
            Ok(at) if at < created + 30 * 60 => {
                return bad(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout \
                     Session creation.",
                    "expires_at",
                )
            }
            Ok(at) if at > created + 24 * 3600 => {
                return bad(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout \
                     Session creation.",
                    "expires_at",
                )
            }
            Ok(at) => at,
        },
    };
    let livemode = account.secret_key.contains("_live_");
    let session = Session {
        id: format!(
            "cs_{}_{}",
            if livemode { "live" } else { "test" },
            random(24)
        ),
        account: account.id.clone(),
        livemode,
        form: pairs.iter().cloned().collect(),
        idempotency_key: key.map(str::to_owned),
        amount: unit_amount * quantity,
        currency,
        name,
        client_reference_id: text(&form["client_reference_id"]),
        metadata: object_or_empty(&form["metadata"]),
        payment_intent_metadata: object_or_empty(&form["payment_intent_data"]["metadata"]),
        cancel_url: text(&form["cancel_url"]).unwrap_or_default(),
        success_url,
        expires_at,
        created,
        status: "open".into(),
        payment_status: "unpaid".into(),
        payment_intent: None,
    };
    let object = session_object(&session, &world.base);
    world.sessions.push(session);
    (StatusCode::OK, object)
}

fn object_or_empty(value: &Value) -> Value {
    if value.is_object() {
        value.clone()
    } else {
        json!({})
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

async fn stripe_create(request: ApiRequest, body: Bytes) -> Result<Response, Refusal> {
    let call = request.checkout("rak_checkout_session_write")?;
    Ok(stripe_post(
        &request,
        call,
        "/v1/checkout/sessions",
        &body,
        new_session,
    ))
}

/// A form POST to Stripe: the caller's account, the form's pairs as sent and as Stripe reads
/// them, and its `Idempotency-Key`.
struct StripePost<'a> {
    account: StripeAccount,
    pairs: Vec<(String, String)>,
    form: Value,
    key: Option<&'a str>,
}

/// Answers a Stripe form POST to `path` once per `Idempotency-Key`, with what `make` makes of
/// it.
fn stripe_post(
    request: &ApiRequest,
    Call { mut world, account }: Call<'_, StripeAccount>,
    path: &str,
    body: &[u8],
    make: fn(&mut World, &StripePost) -> (StatusCode, Value),
) -> Response {
    let key = request.header("idempotency-key");
    let id = account.id.clone();
    idempotent(
        &mut world,
        Provider::Stripe,
        &id,
        key,
        described(path, body),
        |world| {
            let pairs = form_pairs(body);
            let form = nested(&pairs);
            make(
                world,
                &StripePost {
                    account,
                    pairs,
                    form,
                    key,
                },
            )
        },
    )
}

async fn stripe_retrieve(
    request: ApiRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let Call { mut world, account } = request.checkout("rak_checkout_session_read")?;
    let session = own_session(&mut world, &account, &id)?.clone();
    Ok(Json(session_object(&session, &world.base)))
}

async fn stripe_expire(
    request: ApiRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let (object, event) = {
        let Call { mut world, account } = request.checkout("rak_checkout_session_write")?;
        let session = own_session(&mut world, &account, &id)?;
        if session.status != "open" {
            let message = format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This \
                 Checkout Session has a status of `{}`.",
                session.status
            );
            return Err(invalid(&message, None, None).into());
        }
        session.status = "expired".into();
        let session = session.clone();
        let event = stripe_event(&world, &session, "checkout.session.expired");
        (session_object(&session, &world.base), event)
    };
    request.fake.send_new(event).await;
    Ok(Json(object))
}

async fn stripe_list(
    request: ApiRequest,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Refusal> {
    let Call { world, account } = request.checkout("rak_checkout_session_read")?;
    let limit = page_size(&query, "limit").map_err(|limit| invalid_integer("limit", limit))?;
    let mine: Vec<&Session> = world
        .sessions
        .iter()
        .rev()
        .filter(|s| s.account == account.id)
        .collect();
    let data: Vec<Value> = mine
        .iter()
        .take(limit)
        .map(|s| session_object(s, &world.base))
        .collect();
    Ok(Json(
        json!({"object": "list", "data": data, "has_more": mine.len() > limit,
               "url": "/v1/checkout/sessions"}),
    ))
}

async fn stripe_refund(request: ApiRequest, body: Bytes) -> Result<Response, Refusal> {
    let call = request.refunds(stripe_account)?;
    Ok(stripe_post(
        &request,
        call,
        "/v1/refunds",
        &body,
        new_stripe_refund,
    ))
}

fn new_stripe_refund(world: &mut World, post: &StripePost) -> (StatusCode, Value) {
    let StripePost {
        account, form, key, ..
    } = post;
    let Some(intent) = form["payment_intent"].as_str().map(str::to_owned) else {
        return missing("payment_intent");
    };
    let Some(session) = world
        .sessions
        .iter()
        .find(|s| s.account == account.id && s.payment_intent.as_deref() == Some(&intent))
        .filter(|s| s.payment_status == "paid")
        .cloned()
    else {
        return stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such payment_intent: '{intent}'"),
            Some("resource_missing"),
            Some("payment_intent"),
        );
    };
    let left = session.amount - world.refunded(&intent);
    let amount = match form["amount"].as_str() {
        None => left,
        Some(text) => match text.parse::<i64>() {
            Ok(amount) if amount >= 1 => amount,
            _ => return invalid_integer("amount", text),
        },
    };
    if left <= 0 {
        return invalid(
            &format!("Charge for {intent} has already been refunded."),
            Some("charge_already_refunded"),
            None,
        );
    }
    if amount > left {
        return invalid(
            &format!(
                "Refund amount ({amount} {cur}) is greater than unrefunded amount on charge \
                 ({left} {cur})",
                cur = session.currency
            ),
            None,
            Some("amount"),
        );
    }
    let id = format!("re_{}", random(24));
    let refund = Refund::new(Provider::Stripe, id, &intent, amount, *key);
    let object = json!({
        "id": refund.id, "object": "refund", "amount": amount,
        "charge": format!("ch_{}", random(24)), "created": now(),
        "currency": session.currency, "metadata": {}, "payment_intent": intent,
        "reason": null, "status": "succeeded",
    });
    world.refunds.push(refund);
    (StatusCode::OK, object)
}

// ---------------------------------------------------------------------------------------
// Razorpay

fn razorpay_error(
    status: StatusCode,
    description: &str,
    field: Option<&str>,
) -> (StatusCode, Value) {
    let code = if status.is_server_error() {
        "SERVER_ERROR"
    } else {
        "BAD_REQUEST_ERROR"
    };
    let mut error = json!({"code": code, "description": description, "source": "NA",
        "step": "NA", "reason": "NA", "metadata": {}});
    if let Some(field) = field {
        error["field"] = json!(field);
        error["source"] = json!("business");
        error["reason"] = json!("input_validation_failed");
    }
    (status, json!({ "error": error }))
}

fn bad_request(description: &str, field: Option<&str>) -> (StatusCode, Value) {
    razorpay_error(StatusCode::BAD_REQUEST, description, field)
}

/// The account whose key id and secret the request carries, or Razorpay's 401.
fn razorpay_account(world: &World, headers: &HeaderMap) -> Result<RazorpayAccount, Refusal> {
    let presented = presented_key(headers);
    presented
        .and_then(|(id, secret)| {
            world
                .razorpay
                .iter()
                .find(|a| a.key_id == id && a.key_secret == secret)
                .cloned()
        })
        .ok_or_else(|| {
            razorpay_error(StatusCode::UNAUTHORIZED, "Authentication failed", None).into()
        })
}

/// The account's Payment Link `id`, or Razorpay's 400.
fn own_link<'w>(
    world: &'w mut World,
    account: &RazorpayAccount,
    id: &str,
) -> Result<&'w mut PaymentLink, (StatusCode, Value)> {
    let found = world.link_mut(id).filter(|l| l.account == account.id);
    found.ok_or_else(|| bad_request("The id provided does not exist", None))
}

fn link_object(link: &PaymentLink, base: &str) -> Value {
    let payments = link.payment.as_ref().map(|payment| {
        json!([{"amount": link.amount_paid, "created_at": link.created_at, "method": "upi",
                "payment_id": payment, "plink_id": link.id, "status": "captured",
                "updated_at": now()}])
    });
    json!({
        "accept_partial": false,
        "amount": link.amount,
        "amount_paid": link.amount_paid,
        "callback_method": link.callback_method.clone().unwrap_or_default(),
        "callback_url": link.callback_url.clone().unwrap_or_default(),
        "cancelled_at": link.cancelled_at,
        "created_at": link.created_at,
        "currency": link.currency,
        "customer": {},
        "description": link.description,
        "expire_by": link.expire_by,
        "expired_at": link.expired_at,
        "first_min_partial_amount": 0,
        "id": link.id,
        "notes": link.notes,
        "notify": link.body.get("notify").cloned().unwrap_or(json!({"sms": false, "email": false})),
        "order_id": if link.payment.is_some() { json!(link.order_id) } else { json!("") },
        "payments": payments,
        "reference_id": link.reference_id.clone().unwrap_or_default(),
        "reminder_enable": link.body.get("reminder_enable").cloned().unwrap_or(json!(false)),
        "reminders": [],
        "short_url": format!("{base}/pay/{}", link.id),
        "status": link.status,
        "updated_at": now(),
        "upi_link": false,
        "user_id": "",
    })
}

fn razorpay_event(world: &World, link: &PaymentLink, kind: &str) -> Event {
    let account = world.razorpay.iter().find(|a| a.id == link.account);
    let entity = link_object(link, &world.base);
    let (contains, payload) = match &link.payment {
        Some(payment) if kind == "payment_link.paid" => {
            let order = json!({"id": link.order_id, "entity": "order", "amount": link.amount,
                "amount_paid": link.amount_paid, "amount_due": 0, "currency": link.currency,
                "receipt": link.reference_id, "status": "paid", "attempts": 1,
                "notes": link.notes, "created_at": link.created_at});
            let payment = json!({"id": payment, "entity": "payment", "amount": link.amount_paid,
                "currency": link.currency, "status": "captured", "order_id": link.order_id,
                "method": "upi", "captured": true, "amount_refunded": 0, "refund_status": null,
                "description": link.description, "notes": link.notes, "created_at": now()});
            (
                json!(["payment_link", "order", "payment"]),
                json!({"payment_link": {"entity": entity}, "order": {"entity": order},
                       "payment": {"entity": payment}}),
            )
        }
        _ => (
            json!(["payment_link"]),
            json!({"payment_link": {"entity": entity}}),
        ),
    };
    let body = json!({
        "entity": "event",
        "account_id": link.account,
        "event": kind,
        "contains": contains,
        "payload": payload,
        "created_at": now(),
    });
    let webhook = account.map(|a| (&a.webhook_url, a.webhook_secret.as_str()));
    event(Provider::Razorpay, random(14), kind, body, webhook)
}

fn new_link(world: &mut World, account: &RazorpayAccount, body: &[u8]) -> (StatusCode, Value) {
    let Ok(sent) = serde_json::from_slice::<Value>(body) else {
        return bad_request("The request body is not valid JSON.", None);
    };
    let Some(amount) = sent["amount"].as_i64() else {
        return bad_request("The amount must be an integer.", Some("amount"));
    };
    let currency = sent["currency"].as_str().unwrap_or("INR").to_owned();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return bad_request("The currency is invalid.", Some("currency"));
    }
    if currency == "INR" && amount < 100 {
        return bad_request("The amount must be atleast INR 1.00", Some("amount"));
    }
    if amount < 1 {
        return bad_request("The amount must be at least 1.", Some("amount"));
    }
    let created = now();
    let expire_by = match &sent["expire_by"] {
        Value::Null => 0,
        value => match value.as_i64() {
            None => return bad_request("The expire by must be an integer.", Some("expire_by")),
            Some(at) if at < created + 15 * 60 => {
                return bad_request(
                    "expire_by should be at least 15 minutes after current time.",
                    Some("expire_by"),
                )
            }
            Some(at) => at,
        },
    };
    let reference_id = sent["reference_id"].as_str().map(str::to_owned);
    if let Some(reference) = &reference_id {
        if reference.chars().count() > 40 {
            return bad_request(
                "The reference id may not be greater than 40 characters.",
                Some("reference_id"),
            );
        }
        let taken = world
            .links
            .iter()
            .any(|l| l.account == account.id && l.reference_id.as_ref() == Some(reference));
        if taken {
            return bad_request("reference_id already exists", Some("reference_id"));
        }
    }
    let description = sent["description"].as_str().unwrap_or_default().to_owned();
    if description.chars().count() > 2048 {
        return bad_request(
            "The description may not be greater than 2048 characters.",
            Some("description"),
        );
    }
    let notes = sent.get("notes").cloned().unwrap_or(Value::Null);
    if notes.as_object().is_some_and(|n| n.len() > 15) {
        return bad_request(
            "Number of fields in notes should be less than or equal to 15",
            Some("notes"),
        );
    }
    let callback_url = sent["callback_url"].as_str().map(str::to_owned);
    let callback_method = sent["callback_method"].as_str().map(str::to_owned);
    if callback_url.is_some() && callback_method.as_deref() != Some("get") {
        return bad_request(
            "The callback method field is required when callback url is present.",
            Some("callback_method"),
        );
    }
    let link = PaymentLink {
        id: format!("plink_{}", random(14)),
        account: account.id.clone(),
        body: sent.clone(),
        amount,
        amount_paid: 0,
        currency,
        description,
        reference_id,
        expire_by,
        notes,
        callback_url,
        callback_method,
        status: "created".into(),
        payment: None,
        order_id: format!("order_{}", random(14)),
        created_at: created,
        cancelled_at: 0,
        expired_at: 0,
    };
    let object = link_object(&link, &world.base);
    world.links.push(link);
    (StatusCode::OK, object)
}

async fn razorpay_create(request: ApiRequest, body: Bytes) -> Result<Response, Refusal> {
    let Call { mut world, account } = request.payment_links()?;
    Ok(answer(new_link(&mut world, &account, &body)))
}

async fn razorpay_fetch(
    request: ApiRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let Call { mut world, account } = request.payment_links()?;
    let link = own_link(&mut world, &account, &id)?.clone();
    Ok(Json(link_object(&link, &world.base)))
}

async fn razorpay_list(
    request: ApiRequest,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Refusal> {
    let Call { world, account } = request.payment_links()?;
    let count = page_size(&query, "count")
        .map_err(|_| bad_request("The count must be between 1 and 100.", Some("count")))?;
    let reference = query.get("reference_id");
    let links: Vec<Value> = world
        .links
        .iter()
        .rev()
        .filter(|l| l.account == account.id)
        .filter(|l| reference.is_none() || l.reference_id.as_ref() == reference)
        .take(count)
        .map(|l| link_object(l, &world.base))
        .collect();
    Ok(Json(json!({ "payment_links": links })))
}

async fn razorpay_cancel(
    request: ApiRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let Call { mut world, account } = request.payment_links()?;
    let base = world.base.clone();
    let link = own_link(&mut world, &account, &id)?;
    if link.status != "created" {
        let message = format!(
            "Payment Link cannot be cancelled as it is already {}",
            link.status
        );
        return Err(bad_request(&message, None).into());
    }
    link.status = "cancelled".into();
    link.cancelled_at = now();
    Ok(Json(link_object(link, &base)))
}

async fn razorpay_refund(
    request: ApiRequest,
    Path(payment): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let Call { mut world, account } = request.refunds(razorpay_account)?;
    let key = request.header("x-refund-idempotency");
    if key.is_some_and(|k| k.chars().count() < 10) {
        let message = "X-Refund-Idempotency must be at least 10 characters.";
        return Err(bad_request(message, None).into());
    }
    let post = described(&format!("/v1/payments/{payment}/refund"), &body);
    Ok(idempotent(
        &mut world,
        Provider::Razorpay,
        &account.id,
        key,
        post,
        |world| new_razorpay_refund(world, &account, &payment, &body, key),
    ))
}

fn new_razorpay_refund(
    world: &mut World,
    account: &RazorpayAccount,
    payment: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
) -> (StatusCode, Value) {
    let sent: Value = serde_json::from_slice(body).unwrap_or(json!({}));
    let Some(link) = world
        .links
        .iter()
        .find(|l| l.account == account.id && l.payment.as_deref() == Some(payment))
        .cloned()
    else {
        return bad_request("The id provided does not exist", None);
    };
    let left = link.amount_paid - world.refunded(payment);
    let amount = match &sent["amount"] {
        Value::Null => left,
        value => match value.as_i64() {
            Some(amount) => amount,
            None => return bad_request("The amount must be an integer.", Some("amount")),
        },
    };
    if link.currency == "INR" && amount < 100 {
        return bad_request("The amount must be atleast INR 1.00", Some("amount"));
    }
    if left <= 0 {
        return bad_request("The payment has been fully refunded already", None);
    }
    if amount > left {
        return bad_request(
            "The refund amount provided is greater than amount captured",
            Some("amount"),
        );
    }
    let speed = sent["speed"].as_str().unwrap_or("normal").to_owned();
    let id = format!("rfnd_{}", random(14));
    let refund = Refund::new(Provider::Razorpay, id, payment, amount, idempotency_key);
    let object = json!({
        "id": refund.id, "entity": "refund", "amount": amount, "currency": link.currency,
        "payment_id": payment, "notes": [], "receipt": null, "acquirer_data": {"arn": null},
        "created_at": now(), "batch_id": null, "status": "processed",
        "speed_processed": "normal", "speed_requested": speed,
    });
    world.refunds.push(refund);
    (StatusCode::OK, object)
}

/// Fails the next API requests a test asked for, with the provider's body for the status.
async fn failing(State(fake): State<FakePayments>, request: Request, next: Next) -> Response {
    let status = {
        let mut world = fake.world.lock().unwrap();
        let (left, status) = world.failures;
        if left == 0 {
            None
        } else {
            world.failures.0 -= 1;
            Some(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
    };
    let Some(status) = status else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let razorpay = path.starts_with("/v1/payment_links") || path.starts_with("/v1/payments/");
    if razorpay {
        answer(razorpay_error(
            status,
            "The server encountered an error. The incident has been reported to admins.",
            None,
        ))
    } else {
        answer(stripe_error(
            status,
            "api_error",
            "An unknown error occurred",
            None,
            None,
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The hosted pay page

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `amount` in minor units as the page shows it, e.g. "INR 500.00" (zero-decimal currencies
/// as they are, three-decimal ones with three decimals).
fn shown(amount: i64, currency: &str) -> String {
    let currency = currency.to_ascii_uppercase();
    if ["JPY", "KRW", "VND", "CLP"].contains(&currency.as_str()) {
        format!("{currency} {amount}")
    } else if STRIPE_THREE_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        format!("{currency} {}.{:03}", amount / 1000, amount % 1000)
    } else {
        format!("{currency} {}.{:02}", amount / 100, amount % 100)
    }
}

async fn pay_page(State(fake): State<FakePayments>, Path(reference): Path<String>) -> Response {
    let mut world = fake.world.lock().unwrap();
    lapse(&mut world);
    let found = if let Some(s) = world.sessions.iter().find(|s| s.id == reference) {
        let state = match (s.status.as_str(), s.payment_status.as_str()) {
            ("open", _) => None,
            (_, "paid") => Some("This payment has been paid."),
            ("complete", _) => Some("This payment is being processed."),
            _ => Some("This payment link has expired."),
        };
        ("Stripe Checkout", s.amount, &s.currency, &s.name, state)
    } else if let Some(l) = world.links.iter().find(|l| l.id == reference) {
        let state = match l.status.as_str() {
            "created" => None,
            "paid" => Some("This payment link has been paid."),
            "cancelled" => Some("This payment link was cancelled."),
            _ => Some("This payment link has expired."),
        };
        ("Razorpay", l.amount, &l.currency, &l.description, state)
    } else {
        let page = Html("<p>No such payment link.</p>".to_owned());
        return (StatusCode::NOT_FOUND, page).into_response();
    };
    let (provider, amount, currency, description, state) = found;
    let action = match state {
        None => format!(
            "<form method=\"post\" action=\"/pay/{reference}\"><button type=\"submit\">Pay</button></form>",
            reference = escape(&reference)
        ),
        Some(state) => format!("<p class=\"state\">{state}</p>"),
    };
    Html(format!(
        "<!doctype html><title>Pay — fake {provider}</title><h1>Fake {provider}</h1>\
         <p class=\"amount\">{amount}</p><p class=\"description\">{description}</p>{action}",
        amount = shown(amount, currency),
        description = escape(description),
    ))
    .into_response()
}

async fn pay_button(State(fake): State<FakePayments>, Path(reference): Path<String>) -> Response {
    match fake.pay_for(&reference).await {
        Ok(paid) => Redirect::to(&paid.redirect).into_response(),
        Err(why) => (
            StatusCode::CONFLICT,
            Html(format!("<p class=\"state\">{}</p>", escape(&why))),
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// Test controls over HTTP, for the browser tests

#[derive(Deserialize)]
struct NewStripeAccount {
    secret_key: String,
    webhook_secret: String,
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default = "yes")]
    checkout: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct NewRazorpayAccount {
    key_id: String,
    key_secret: String,
    webhook_secret: String,
    #[serde(default)]
    webhook_url: Option<String>,
}

#[derive(Deserialize)]
struct Switch {
    on: bool,
}

#[derive(Deserialize)]
struct Failures {
    count: usize,
    status: u16,
}

fn controls() -> Router<FakePayments> {
    Router::new()
        .route(
            "/fake/stripe/accounts",
            post(
                |State(fake): State<FakePayments>, Json(new): Json<NewStripeAccount>| async move {
                    let url = new.webhook_url.filter(|u| !u.is_empty());
                    fake.add_stripe(&new.secret_key, &new.webhook_secret, url, new.checkout);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/fake/razorpay/accounts",
            post(
                |State(fake): State<FakePayments>, Json(new): Json<NewRazorpayAccount>| async move {
                    let url = new.webhook_url.filter(|u| !u.is_empty());
                    let (id, secret) = (&new.key_id, &new.key_secret);
                    fake.add_razorpay_account(id, secret, &new.webhook_secret, url);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/fake/pay/{reference}",
            post(
                |State(fake): State<FakePayments>, Path(reference): Path<String>| async move {
                    match fake.pay(&reference).await {
                        Ok(payment) => Json(json!({ "payment": payment })).into_response(),
                        Err(why) => {
                            (StatusCode::CONFLICT, Json(json!({ "error": why }))).into_response()
                        }
                    }
                },
            ),
        )
        .route(
            "/fake/expire/{reference}",
            post(
                |State(fake): State<FakePayments>, Path(reference): Path<String>| async move {
                    Json(json!({ "expired": fake.expire_now(&reference).await }))
                },
            ),
        )
        .route(
            "/fake/webhooks",
            post(
                |State(fake): State<FakePayments>, Json(switch): Json<Switch>| async move {
                    fake.set_webhooks(switch.on);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/fake/events/resend-last",
            post(|State(fake): State<FakePayments>| async move {
                fake.resend_last_event().await;
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/fake/fail-next",
            post(
                |State(fake): State<FakePayments>, Json(f): Json<Failures>| async move {
                    fake.fail_next(f.count, f.status);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route("/fake/sessions", listing(FakePayments::sessions))
        .route("/fake/links", listing(FakePayments::links))
        .route("/fake/refunds", listing(FakePayments::refunds))
        .route("/fake/events", listing(FakePayments::events))
}

/// `GET` of one of the fake's records, as JSON.
fn listing<T>(records: fn(&FakePayments) -> Vec<T>) -> MethodRouter<FakePayments>
where
    T: Serialize + Send + 'static,
{
    get(move |State(fake): State<FakePayments>| async move { Json(records(&fake)) })
}

// ---------------------------------------------------------------------------------------
// The providers' dashboards, as a doctor sees their own account

fn dashboards() -> Router<FakePayments> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/dashboard/stripe/keys", post(new_stripe_key))
        .route("/dashboard/stripe/endpoints", post(new_stripe_endpoint))
        .route("/dashboard/razorpay/keys", post(new_razorpay_key))
        .route("/dashboard/razorpay/webhooks", post(new_razorpay_webhook))
}

/// Every account made on the dashboard, newest first, each with its webhook (or the form to
/// add one).
async fn dashboard(State(fake): State<FakePayments>) -> Html<String> {
    let world = fake.world.lock().unwrap();
    let endpoint = |url: &Option<String>, shown: String, form: String| match url {
        Some(url) => format!("<p>Webhook <code>{}</code>{shown}</p>", escape(url)),
        None => form,
    };
    let stripe = world.stripe.iter().rev().filter(|a| a.checkout).map(|a| {
        let key = escape(&a.secret_key);
        let shown = format!(
            ", signing secret <code class=\"signing-secret\">{}</code>",
            escape(&a.webhook_secret)
        );
        let form = format!(
            "<form method=\"post\" action=\"/dashboard/stripe/endpoints\">\
             <input type=\"hidden\" name=\"key\" value=\"{key}\">\
             <label>Endpoint URL <input type=\"url\" name=\"url\" required></label>\
             <button type=\"submit\">Add endpoint</button></form>"
        );
        format!(
            "<section><h3>Restricted key <code class=\"key\">{key}</code></h3>{}</section>",
            endpoint(&a.webhook_url, shown, form)
        )
    });
    let razorpay = world.razorpay.iter().rev().map(|a| {
        let key_id = escape(&a.key_id);
        let form = format!(
            "<form method=\"post\" action=\"/dashboard/razorpay/webhooks\">\
             <input type=\"hidden\" name=\"key\" value=\"{key_id}\">\
             <label>Webhook URL <input type=\"url\" name=\"url\" required></label>\
             <label>Secret <input type=\"text\" name=\"secret\" required></label>\
             <button type=\"submit\">Create webhook</button></form>"
        );
        format!(
            "<section><h3>Key Id <code class=\"key\">{key_id}</code></h3>\
             <p>Key Secret <code class=\"key-secret\">{}</code></p>{}</section>",
            escape(&a.key_secret),
            endpoint(&a.webhook_url, String::new(), form)
        )
    });
    Html(format!(
        "<!doctype html><title>Fake providers' dashboards</title>\
         <h1>Fake Stripe and Razorpay dashboards</h1>\
         <h2>Stripe (test mode)</h2>\
         <form method=\"post\" action=\"/dashboard/stripe/keys\">\
         <button type=\"submit\">Create restricted key</button></form>{}\
         <h2>Razorpay (test mode)</h2>\
         <form method=\"post\" action=\"/dashboard/razorpay/keys\">\
         <button type=\"submit\">Generate key</button></form>{}",
        stripe.collect::<String>(),
        razorpay.collect::<String>()
    ))
}

#[derive(Deserialize)]
struct NewWebhook {
    key: String,
    url: String,
    #[serde(default)]
    secret: Option<String>,
}

async fn new_stripe_key(State(fake): State<FakePayments>) -> Redirect {
    let key = format!("rk_test_{}", random(32));
    fake.add_stripe(&key, &format!("whsec_{}", random(32)), None, true);
    Redirect::to("/dashboard")
}

/// Adds the endpoint; Stripe then shows its signing secret (made with the key).
async fn new_stripe_endpoint(
    State(fake): State<FakePayments>,
    Form(new): Form<NewWebhook>,
) -> Response {
    let mut world = fake.world.lock().unwrap();
    match world.stripe.iter_mut().find(|a| a.secret_key == new.key) {
        Some(account) => {
            account.webhook_url = Some(new.url);
            Redirect::to("/dashboard").into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn new_razorpay_key(State(fake): State<FakePayments>) -> Redirect {
    let key_id = format!("rzp_test_{}", random(14));
    fake.add_razorpay_account(&key_id, &random(24), &random(24), None);
    Redirect::to("/dashboard")
}

/// Adds the webhook with the secret typed in.
async fn new_razorpay_webhook(
    State(fake): State<FakePayments>,
    Form(new): Form<NewWebhook>,
) -> Response {
    let mut world = fake.world.lock().unwrap();
    let account = world.razorpay.iter_mut().find(|a| a.key_id == new.key);
    match (account, new.secret.filter(|s| !s.is_empty())) {
        (Some(account), Some(secret)) => {
            account.webhook_url = Some(new.url);
            account.webhook_secret = secret;
            Redirect::to("/dashboard").into_response()
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    }
}
