//! A fake of Meta's login dialog and Graph API, speaking the wire format Meta documents
//! (`../shared/reference/meta-instagram.md`): the dialog, the code and long-lived token
//! exchanges, the person's id, the Pages listing, Page webhook subscriptions and token
//! checks (`debug_token`, with the permissions granted: by default all Clariva asks for), with
//! Meta's error bodies. Like an app with "Require App Secret"
//! on, it refuses a call with a token but without the right `appsecret_proof`; it takes the
//! app secret only in request bodies and the app token only in the `Authorization` header;
//! and it lists Pages two at a time, with cursors, as Meta pages long lists. Its Send API
//! (`POST /{page-id}/messages`) keeps what it was sent and answers with a message id, or
//! with the errors a test asks for. Its Messenger Profile API (`POST` and `DELETE
//! /me/messenger_profile?platform=instagram`, with a Page token) keeps each Page's ice breakers
//! and persistent menu, checks them as Meta documents them (at most 4 ice breakers, a
//! `default` locale, postback or web_url menu items), and fails when a test asks it to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use clariva::config::MetaApp;
use clariva::meta::webhook_signature;
use secrecy::SecretString;
use serde_json::json;

pub const APP_ID: &str = "fake-app-id";
/// The secret the fixtures in `../shared/reference/meta-fixtures` are signed with.
pub const APP_SECRET: &str = "test_app_secret";
pub const VERSION: &str = "v21.0";
pub const GOOD_CODE: &str = "good-code";
pub const SHORT_TOKEN: &str = "short-user-token";
pub const LONG_TOKEN: &str = "long-user-token";
/// The app-scoped id of the person who logs in through the fake.
pub const USER_ID: &str = "fb-user-10221";
/// How many Pages one answer of `me/accounts` lists.
const PAGE_SIZE: usize = 2;
/// The Page webhook fields Meta lets an app subscribe a Page to for Instagram messaging (and
/// Messenger's, which share the edge); any other is refused.
const PAGE_FIELDS: [&str; 13] = [
    "messages",
    "messaging_postbacks",
    "messaging_seen",
    "message_reactions",
    "messaging_referral",
    "standby",
    "messaging_handover",
    "messaging_policy_enforcement",
    "response_feedback",
    "message_deliveries",
    "message_echoes",
    "message_reads",
    "feed",
];

/// A Page the fake's person manages.
#[derive(Clone, Debug)]
pub struct FakePage {
    pub id: &'static str,
    pub name: &'static str,
    pub token: &'static str,
    /// The linked Instagram professional account: id and username.
    pub instagram: Option<(&'static str, &'static str)>,
}

#[derive(Default)]
struct World {
    pages: Vec<FakePage>,
    /// What was asked of the fake, in order, e.g. `subscribe page-1`.
    calls: Vec<String>,
    /// Every request's method, path and query, as sent.
    requests: Vec<String>,
    /// Page tokens Meta no longer accepts (revoked, password changed).
    revoked: Vec<String>,
    /// When Page tokens expire, in Unix seconds; the others never do.
    expiring: HashMap<String, i64>,
    /// When the data access behind Page tokens lapses, in Unix seconds; by default never.
    data_access: HashMap<String, i64>,
    /// The permissions granted with Page tokens; by default all Clariva asks for.
    granted: HashMap<String, Vec<String>>,
    /// What the Send API was sent, with the message id it answered (none for actions).
    sent: Vec<(serde_json::Value, Option<String>)>,
    /// Errors the next messages sent get (not sender actions), in order: Meta's code and
    /// subcode.
    send_failures: std::collections::VecDeque<(i64, i64)>,
    /// People who wrote to the Pages' Instagram accounts, by Instagram-scoped id: name and
    /// username, as the user profile API tells them.
    people: HashMap<String, (String, String)>,
    /// Where Meta delivers webhooks: each message sent is echoed there, signed, before the
    /// Send API answers (echoes can beat the answer in production too).
    webhook: Option<String>,
    /// Each Page's Messenger profile on Instagram, by Page id: the properties set, e.g.
    /// `ice_breakers` and `persistent_menu`.
    profiles: HashMap<String, serde_json::Map<String, serde_json::Value>>,
    /// How many of the next Messenger profile changes fail (Meta's temporary error).
    profile_failures: usize,
}

#[derive(Clone)]
pub struct FakeMeta {
    pub addr: SocketAddr,
    world: Arc<Mutex<World>>,
}

fn meta_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "OAuthException", "code": code,
                                "fbtrace_id": "Afake"}});
    (status, Json(body)).into_response()
}

impl FakeMeta {
    pub async fn start(pages: Vec<FakePage>) -> Self {
        Self::start_on(([127, 0, 0, 1], 0).into(), pages).await
    }

    /// Serves the fake on `addr` (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr, pages: Vec<FakePage>) -> Self {
        Self::start_with(addr, pages, |_| Router::new()).await
    }

    /// Serves the fake on `addr`, and beside Meta's routes those `extra` makes for it (the
    /// sandbox's, `sandbox.rs`); requests to those are not kept in `requests()`.
    pub async fn start_with(
        addr: SocketAddr,
        pages: Vec<FakePage>,
        extra: impl FnOnce(FakeMeta) -> Router,
    ) -> Self {
        let world = Arc::new(Mutex::new(World {
            pages,
            ..World::default()
        }));
        let router = Router::new()
            .route(&format!("/{VERSION}/dialog/oauth"), get(dialog))
            .route(
                &format!("/{VERSION}/oauth/access_token"),
                post(access_token).get(secret_in_the_address),
            )
            .route(&format!("/{VERSION}/me"), get(me))
            .route(&format!("/{VERSION}/me/accounts"), get(accounts))
            .route(&format!("/{VERSION}/debug_token"), get(debug_token))
            .route(&format!("/{VERSION}/{{page}}/messages"), post(send_api))
            .route(&format!("/{VERSION}/{{igsid}}"), get(profile))
            .route(
                &format!("/{VERSION}/{{page}}/subscribed_apps"),
                post(subscribe).delete(unsubscribe),
            )
            .route(
                &format!("/{VERSION}/me/messenger_profile"),
                post(set_profile).delete(delete_profile),
            )
            .route("/healthz", get(|| async { "ok" }))
            .layer(middleware::from_fn_with_state(world.clone(), remember))
            .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let meta = Self { addr, world };
        let router = router.merge(extra(meta.clone()));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        meta
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The app's configuration with both of Meta's base URLs pointing at this fake.
    pub fn app(&self) -> MetaApp {
        MetaApp {
            app_id: APP_ID.into(),
            app_secret: SecretString::from(APP_SECRET),
            verify_token: SecretString::from("fake-verify-token"),
            graph_version: VERSION.into(),
            dialog_base_url: self.base_url(),
            graph_base_url: self.base_url(),
            login_config_id: None,
            human_agent: false,
        }
    }

    pub fn calls(&self) -> Vec<String> {
        self.world.lock().unwrap().calls.clone()
    }

    /// Every request the fake received: method, path and query.
    pub fn requests(&self) -> Vec<String> {
        self.world.lock().unwrap().requests.clone()
    }

    /// The Pages the person manages.
    pub fn pages(&self) -> Vec<FakePage> {
        self.world.lock().unwrap().pages.clone()
    }

    /// The Pages the person manages from now on.
    pub fn set_pages(&self, pages: Vec<FakePage>) {
        self.world.lock().unwrap().pages = pages;
    }

    /// Meta stops accepting this Page token.
    pub fn revoke(&self, token: &str) {
        self.world.lock().unwrap().revoked.push(token.to_owned());
    }

    /// The data access behind this Page token lapses at `unix_seconds`.
    pub fn lapse_data_access(&self, token: &str, unix_seconds: i64) {
        let mut world = self.world.lock().unwrap();
        world.data_access.insert(token.to_owned(), unix_seconds);
    }

    /// This Page token was granted only these permissions (say, a link made before Clariva
    /// asked for one); `debug_token` lists just them.
    pub fn grant_only(&self, token: &str, permissions: &[&str]) {
        let granted = permissions.iter().map(|p| (*p).to_owned()).collect();
        let mut world = self.world.lock().unwrap();
        world.granted.insert(token.to_owned(), granted);
    }

    /// A person who has written to the Pages' Instagram accounts: Meta's user profile API
    /// answers for them with this name and username.
    pub fn add_person(&self, igsid: &str, name: &str, username: &str) {
        let mut world = self.world.lock().unwrap();
        let person = (name.to_owned(), username.to_owned());
        world.people.insert(igsid.to_owned(), person);
    }

    /// This Page token expires at `unix_seconds`.
    pub fn expire(&self, token: &str, unix_seconds: i64) {
        let mut world = self.world.lock().unwrap();
        world.expiring.insert(token.to_owned(), unix_seconds);
    }

    fn record(world: &Mutex<World>, call: String) {
        world.lock().unwrap().calls.push(call);
    }
}

/// The login dialog: "Continue" sends the person back with a code, "Cancel" with Meta's
/// cancellation error; both keep `state`.
async fn dialog(Query(query): Query<HashMap<String, String>>) -> Html<String> {
    let back = query.get("redirect_uri").cloned().unwrap_or_default();
    let state = query.get("state").cloned().unwrap_or_default();
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Html(format!(
        "<!doctype html><title>Log in with Facebook</title><h1>Fake Meta</h1>\
         <p>Clariva Care asks for: {scopes}</p>\
         <a href=\"{back}?code={GOOD_CODE}&state={state}\">Continue</a> \
         <a href=\"{back}?error=access_denied&error_reason=user_denied&error_description={cancel}&state={state}\">Cancel</a>",
        scopes = query.get("scope").cloned().unwrap_or_default(),
        back = back,
        state = encode(&state),
        cancel = encode("Permissions error"),
    ))
}

/// Keeps every request's method, path and query.
async fn remember(
    State(world): State<Arc<Mutex<World>>>,
    request: Request,
    next: Next,
) -> Response {
    let seen = format!("{} {}", request.method(), request.uri());
    world.lock().unwrap().requests.push(seen);
    next.run(request).await
}

/// `appsecret_proof` for `token`: HMAC-SHA256 keyed with the app secret, in hex.
pub fn proof(token: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    clariva::crypto::hex(&mac.finalize().into_bytes())
}

/// Meta's refusal of a call whose `appsecret_proof` is missing or does not match `token`.
fn unless_proven(query: &HashMap<String, String>, token: &str) -> Option<Response> {
    (query.get("appsecret_proof") != Some(&proof(token))).then(|| {
        meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "API calls from the server require an appsecret_proof argument",
        )
    })
}

/// A client secret in the address is refused (the app must send it in the body).
async fn secret_in_the_address() -> Response {
    meta_error(
        StatusCode::BAD_REQUEST,
        100,
        "The fake takes the client secret in the request body only.",
    )
}

/// Token exchanges: a dialog's code, or a short-lived user token for a long-lived one.
async fn access_token(
    State(world): State<Arc<Mutex<World>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) == Some("fb_exchange_token") {
        return long_lived(&world, &form);
    }
    FakeMeta::record(&world, "exchange code".into());
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("client_id") != Some(APP_ID) || field("client_secret") != Some(APP_SECRET) {
        return meta_error(
            StatusCode::BAD_REQUEST,
            1,
            "Error validating client secret.",
        );
    }
    if field("grant_type") != Some("authorization_code") || field("code") != Some(GOOD_CODE) {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid verification code format.",
        );
    }
    Json(json!({"access_token": SHORT_TOKEN, "token_type": "bearer", "expires_in": 5400}))
        .into_response()
}

fn long_lived(world: &Mutex<World>, query: &HashMap<String, String>) -> Response {
    FakeMeta::record(world, "long-lived token".into());
    let field = |name: &str| query.get(name).map(String::as_str);
    if field("client_id") != Some(APP_ID) || field("client_secret") != Some(APP_SECRET) {
        return meta_error(
            StatusCode::BAD_REQUEST,
            1,
            "Error validating client secret.",
        );
    }
    if field("grant_type") != Some("fb_exchange_token")
        || field("fb_exchange_token") != Some(SHORT_TOKEN)
    {
        return meta_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token.");
    }
    Json(json!({"access_token": LONG_TOKEN, "token_type": "bearer", "expires_in": 5_183_944}))
        .into_response()
}

/// Meta's answer to a call that needs the long-lived user token and lacks it (or its proof).
fn unless_long_lived(query: &HashMap<String, String>) -> Option<Response> {
    (query.get("access_token").map(String::as_str) != Some(LONG_TOKEN))
        .then(|| {
            meta_error(
                StatusCode::BAD_REQUEST,
                190,
                "Error validating access token.",
            )
        })
        .or_else(|| unless_proven(query, LONG_TOKEN))
}

async fn me(
    State(world): State<Arc<Mutex<World>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    FakeMeta::record(&world, "me".into());
    if let Some(refusal) = unless_long_lived(&query) {
        return refusal;
    }
    Json(json!({"id": USER_ID})).into_response()
}

/// Meta's token inspection, answered for the Page tokens of the fake's Pages.
async fn debug_token(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    FakeMeta::record(&world, "debug token".into());
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(app_token.as_str()) || query.contains_key("access_token") {
        return meta_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token.");
    }
    if let Some(refusal) = unless_proven(&query, &app_token) {
        return refusal;
    }
    let token = query.get("input_token").cloned().unwrap_or_default();
    let world = world.lock().unwrap();
    let known = world.pages.iter().any(|page| page.token == token);
    if !known || world.revoked.contains(&token) {
        return Json(json!({"data": {"is_valid": false, "expires_at": 0, "scopes": [],
            "error": {"code": 190, "message": "Error validating access token: The session has been invalidated."}}}))
        .into_response();
    }
    let expires_at = world.expiring.get(&token).copied().unwrap_or(0);
    let data_access_expires_at = world.data_access.get(&token).copied().unwrap_or(0);
    let scopes = world
        .granted
        .get(&token)
        .cloned()
        .unwrap_or_else(|| clariva::meta::graph::SCOPES.map(String::from).to_vec());
    Json(
        json!({"data": {"app_id": APP_ID, "type": "PAGE", "application": "Clariva Care",
        "is_valid": true, "expires_at": expires_at,
        "data_access_expires_at": data_access_expires_at, "scopes": scopes}}),
    )
    .into_response()
}

async fn accounts(
    State(world): State<Arc<Mutex<World>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    FakeMeta::record(&world, "list pages".into());
    if let Some(refusal) = unless_long_lived(&query) {
        return refusal;
    }
    let pages = world.lock().unwrap().pages.clone();
    let from: usize = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let to = (from + PAGE_SIZE).min(pages.len());
    let data: Vec<_> = pages[from.min(to)..to]
        .iter()
        .map(|page| {
            let mut entry = json!({"id": page.id, "name": page.name, "access_token": page.token});
            if let Some((id, username)) = page.instagram {
                entry["instagram_business_account"] = json!({"id": id, "username": username});
            }
            entry
        })
        .collect();
    let mut paging = json!({"cursors": {"before": from.to_string(), "after": to.to_string()}});
    if to < pages.len() {
        paging["next"] = json!(format!(
            "https://graph.facebook.com/{VERSION}/me/accounts?after={to}"
        ));
    }
    Json(json!({"data": data, "paging": paging})).into_response()
}

/// Meta's user profile API: a person's name and username, for a Page token of the fake's
/// with its proof; people who never wrote get Meta's consent error.
async fn profile(
    State(world): State<Arc<Mutex<World>>>,
    Path(igsid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    FakeMeta::record(&world, format!("profile {igsid}"));
    let token = query.get("access_token").cloned().unwrap_or_default();
    let person = {
        let world = world.lock().unwrap();
        let page_token = world.pages.iter().any(|page| page.token == token);
        if !page_token || world.revoked.contains(&token) {
            return meta_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token.");
        }
        world.people.get(&igsid).cloned()
    };
    if let Some(refusal) = unless_proven(&query, &token) {
        return refusal;
    }
    match person {
        Some((name, username))
            if query.get("fields").map(String::as_str) == Some("name,username") =>
        {
            Json(json!({"name": name, "username": username, "id": igsid})).into_response()
        }
        Some(_) => meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "The fake answers fields=name,username only.",
        ),
        None => meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "User consent is required to access user profile",
        ),
    }
}

async fn subscription(
    world: &Mutex<World>,
    verb: &str,
    page: &str,
    query: &HashMap<String, String>,
) -> Response {
    let known = {
        let world = world.lock().unwrap();
        let token = query.get("access_token").cloned().unwrap_or_default();
        !world.revoked.contains(&token)
            && world.pages.iter().any(|p| p.id == page && p.token == token)
    };
    if !known {
        return meta_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token.");
    }
    let token = query.get("access_token").cloned().unwrap_or_default();
    if let Some(refusal) = unless_proven(query, &token) {
        return refusal;
    }
    let fields = query.get("subscribed_fields").cloned().unwrap_or_default();
    if fields.is_empty() {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "Param subscribed_fields is required.",
        );
    }
    if let Some(unknown) = fields.split(',').find(|f| !PAGE_FIELDS.contains(f)) {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!(
                "(#100) Param subscribed_fields must be one of {{{}}} - got \"{unknown}\"",
                PAGE_FIELDS.join(", ")
            ),
        );
    }
    FakeMeta::record(world, format!("{verb} {page}"));
    Json(json!({"success": true})).into_response()
}

async fn subscribe(
    State(world): State<Arc<Mutex<World>>>,
    Path(page): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    subscription(&world, "subscribe", &page, &query).await
}

async fn unsubscribe(
    State(world): State<Arc<Mutex<World>>>,
    Path(page): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    subscription(&world, "unsubscribe", &page, &query).await
}

impl FakeMeta {
    /// Every message body the Send API accepted, in order (not sender actions).
    pub fn sent(&self) -> Vec<serde_json::Value> {
        let world = self.world.lock().unwrap();
        let messages = world.sent.iter().filter(|(_, id)| id.is_some());
        messages.map(|(body, _)| body.clone()).collect()
    }

    /// The sender actions the Send API accepted, in order: (recipient, action), e.g.
    /// `("6543…", "mark_seen")`.
    pub fn sender_actions(&self) -> Vec<(String, String)> {
        let world = self.world.lock().unwrap();
        let actions = world.sent.iter().filter(|(_, id)| id.is_none());
        actions
            .map(|(body, _)| {
                let field =
                    |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
                (
                    field(&body["recipient"]["id"]),
                    field(&body["sender_action"]),
                )
            })
            .collect()
    }

    /// The message ids the Send API answered, in order.
    pub fn sent_ids(&self) -> Vec<String> {
        let world = self.world.lock().unwrap();
        world.sent.iter().filter_map(|(_, id)| id.clone()).collect()
    }

    /// From now on every message sent is echoed to `webhook_url` as Meta does, before the
    /// Send API answers.
    pub fn echo_to(&self, webhook_url: &str) {
        self.world.lock().unwrap().webhook = Some(webhook_url.to_owned());
    }

    /// The next messages sent (not sender actions) fail with these (code, subcode), one
    /// each, as Meta answers them.
    pub fn fail_sends(&self, failures: &[(i64, i64)]) {
        self.world.lock().unwrap().send_failures.extend(failures);
    }
}

/// The Send API: the Page's own token with its proof, a recipient, and a message or a sender
/// action (never both).
async fn send_api(
    State(world): State<Arc<Mutex<World>>>,
    Path(page): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let accepted = accept_send(&mut world.lock().unwrap(), &page, &query, &body);
    let Accepted {
        id,
        recipient,
        echo_to,
    } = match accepted {
        Ok(accepted) => accepted,
        Err(refusal) => return *refusal,
    };
    if let (Some((url, account)), Some(id)) = (echo_to, &id) {
        echo(&url, account, &recipient, id, &body).await;
    }
    match id {
        Some(id) => Json(json!({"recipient_id": recipient, "message_id": id})).into_response(),
        None => Json(json!({"recipient_id": recipient})).into_response(),
    }
}

/// A send the fake took: the message id (none for a sender action), the recipient, and
/// where to echo it (the webhook, and the business account the echo comes from).
struct Accepted {
    id: Option<String>,
    recipient: String,
    echo_to: Option<(String, &'static str)>,
}

/// What the Send API makes of a request, or Meta's refusal.
fn accept_send(
    world: &mut World,
    page: &str,
    query: &HashMap<String, String>,
    body: &serde_json::Value,
) -> Result<Accepted, Box<Response>> {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let owns = world.pages.iter().any(|p| p.id == page && p.token == token);
    if !owns || world.revoked.contains(&token) {
        let refusal = meta_error(StatusCode::BAD_REQUEST, 190, "Invalid OAuth access token.");
        return Err(Box::new(refusal));
    }
    if let Some(refusal) = unless_proven(query, &token) {
        return Err(Box::new(refusal));
    }
    let recipient = body["recipient"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let has_message = body.get("message").is_some();
    if recipient.is_empty() || has_message == body.get("sender_action").is_some() {
        let refusal = meta_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter");
        return Err(Box::new(refusal));
    }
    let text = body["message"]["text"].as_str().unwrap_or_default();
    if text.len() > 1000 {
        return Err(Box::new(meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "Message text over 1000 bytes",
        )));
    }
    let failure = has_message
        .then(|| world.send_failures.pop_front())
        .flatten();
    if let Some((code, subcode)) = failure {
        let status = if code == 2 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = json!({"error": {"message": "The fake was asked to fail.",
            "type": "OAuthException", "code": code, "error_subcode": subcode,
            "fbtrace_id": "Afake"}});
        return Err(Box::new((status, Json(body)).into_response()));
    }
    let id = has_message.then(|| format!("m_fake_{}", world.sent.len() + 1));
    world.sent.push((body.clone(), id.clone()));
    let account = world
        .pages
        .iter()
        .find(|p| p.id == page)
        .and_then(|p| p.instagram)
        .map(|(account, _)| account);
    let echo_to = world.webhook.clone().zip(account);
    Ok(Accepted {
        id,
        recipient,
        echo_to,
    })
}

/// Delivers the echo of a sent message to the app's webhook, as Meta does.
async fn echo(url: &str, account: &str, recipient: &str, mid: &str, sent: &serde_json::Value) {
    let mut message = sent["message"].clone();
    message["mid"] = json!(mid);
    message["is_echo"] = json!(true);
    let echo = delivery(account, account, recipient, "message", message);
    // Meta would retry a refused echo; the fake does not (a test sees what the app kept).
    let _ = deliver(url, &echo).await;
}

/// A webhook delivery as Meta shapes it: one entry for the Instagram `account`, with one
/// `kind` event (`message`, `postback`...) from `sender` to `recipient`, stamped now.
pub fn delivery(
    account: &str,
    sender: &str,
    recipient: &str,
    kind: &str,
    event: serde_json::Value,
) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    json!({"object": "instagram", "entry": [{"id": account, "time": now,
        "messaging": [{"sender": {"id": sender}, "recipient": {"id": recipient},
                       "timestamp": now, kind: event}]}]})
}

/// Posts `delivery` to the app's webhook at `url` as Meta does: the JSON's bytes, signed with
/// the app secret in `X-Hub-Signature-256`. The app's answer, or why it could not be reached.
pub async fn deliver(url: &str, delivery: &serde_json::Value) -> reqwest::Result<StatusCode> {
    let body = serde_json::to_vec(delivery).unwrap();
    let signature = webhook_signature::sign(&body, &SecretString::from(APP_SECRET));
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await?;
    Ok(response.status())
}

impl FakeMeta {
    /// The Page's Messenger profile on Instagram, as set through the Messenger Profile API
    /// (`{"ice_breakers": [...], "persistent_menu": [...]}`); `None` if nothing is set.
    pub fn messenger_profile(&self, page_id: &str) -> Option<serde_json::Value> {
        let world = self.world.lock().unwrap();
        let profile = world.profiles.get(page_id).filter(|p| !p.is_empty())?;
        Some(serde_json::Value::Object(profile.clone()))
    }

    /// The next `count` Messenger profile changes (set or delete) fail, as Meta answers a
    /// temporary error.
    pub fn fail_profiles(&self, count: usize) {
        self.world.lock().unwrap().profile_failures += count;
    }
}

/// The Page a Messenger profile call is for: the `me` of its Page token (with its proof), on
/// Instagram; or Meta's refusal.
fn profile_page(
    world: &mut World,
    query: &HashMap<String, String>,
) -> Result<String, Box<Response>> {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let page = world
        .pages
        .iter()
        .find(|page| page.token == token)
        .map(|page| page.id.to_owned());
    let Some(page) = page.filter(|_| !world.revoked.contains(&token)) else {
        return Err(Box::new(meta_error(
            StatusCode::BAD_REQUEST,
            190,
            "Invalid OAuth access token.",
        )));
    };
    if let Some(refusal) = unless_proven(query, &token) {
        return Err(Box::new(refusal));
    }
    if query.get("platform").map(String::as_str) != Some("instagram") {
        return Err(Box::new(meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "The fake keeps Instagram profiles only: platform=instagram is required.",
        )));
    }
    if world.profile_failures > 0 {
        world.profile_failures -= 1;
        return Err(Box::new(meta_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            2,
            "An unexpected error has occurred. Please retry your request later.",
        )));
    }
    Ok(page)
}

/// Why Meta would refuse these ice breakers, if it would: at most 4 questions with payloads
/// per locale, a `default` locale among them.
fn ice_breakers_refused(value: &serde_json::Value) -> Option<&'static str> {
    let locales = value.as_array()?;
    let well_formed = locales.iter().all(|locale| {
        let questions = locale["call_to_actions"].as_array();
        locale["locale"].is_string()
            && questions.is_some_and(|questions| {
                (1..=4).contains(&questions.len())
                    && questions
                        .iter()
                        .all(|q| q["question"].is_string() && q["payload"].is_string())
            })
    });
    let default = locales.iter().any(|locale| locale["locale"] == "default");
    (!well_formed || !default)
        .then_some("(#100) ice_breakers: at most 4 questions per locale, and a default locale")
}

/// Why Meta would refuse this persistent menu, if it would: postback (with a payload) or
/// web_url (with a url) items with titles, a `default` locale among them.
fn persistent_menu_refused(value: &serde_json::Value) -> Option<&'static str> {
    let locales = value.as_array()?;
    let well_formed = locales.iter().all(|locale| {
        locale["call_to_actions"].as_array().is_some_and(|items| {
            !items.is_empty()
                && items.iter().all(|item| {
                    item["title"].is_string()
                        && match item["type"].as_str() {
                            Some("postback") => item["payload"].is_string(),
                            Some("web_url") => item["url"].is_string(),
                            _ => false,
                        }
                })
        })
    });
    let default = locales.iter().any(|locale| locale["locale"] == "default");
    (!well_formed || !default).then_some(
        "(#100) persistent_menu: postback or web_url items with titles, and a default locale",
    )
}

/// `POST /me/messenger_profile`: sets the properties in the body on the Page's profile.
async fn set_profile(
    State(world): State<Arc<Mutex<World>>>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let mut world = world.lock().unwrap();
    let page = match profile_page(&mut world, &query) {
        Ok(page) => page,
        Err(refusal) => return *refusal,
    };
    let Some(properties) = body.as_object() else {
        return meta_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter");
    };
    let refused = properties
        .get("ice_breakers")
        .and_then(ice_breakers_refused)
        .or_else(|| {
            properties
                .get("persistent_menu")
                .and_then(persistent_menu_refused)
        });
    if let Some(why) = refused {
        return meta_error(StatusCode::BAD_REQUEST, 100, why);
    }
    let profile = world.profiles.entry(page.clone()).or_default();
    for (name, value) in properties.iter().filter(|(name, _)| *name != "platform") {
        profile.insert(name.clone(), value.clone());
    }
    world.calls.push(format!("set profile {page}"));
    Json(json!({"result": "success"})).into_response()
}

/// `DELETE /me/messenger_profile`: removes the properties the body's `fields` names.
async fn delete_profile(
    State(world): State<Arc<Mutex<World>>>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let mut world = world.lock().unwrap();
    let page = match profile_page(&mut world, &query) {
        Ok(page) => page,
        Err(refusal) => return *refusal,
    };
    let fields: Vec<String> = body["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        return meta_error(StatusCode::BAD_REQUEST, 100, "Param fields is required.");
    }
    if let Some(profile) = world.profiles.get_mut(&page) {
        for field in &fields {
            profile.remove(field);
        }
    }
    world.calls.push(format!("delete profile {page}"));
    Json(json!({"result": "success"})).into_response()
}
