//! Meta's login dialog and Graph API, at the base URLs the configuration names (Meta's own by
//! default; tests point them at a fake that speaks the same wire format). Tokens travel only
//! inside [`SecretString`]s, and no error this module returns carries one: transport errors
//! are stripped of their URL, which holds the token as a query parameter. The app secret
//! never travels in a URL: it goes in request bodies, the app token in a header, and every
//! call with a token carries `appsecret_proof` (so Meta's "Require App Secret" can be on).

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::MetaApp;
use crate::domain::instagram::Outcome;
use crate::error::AppError;

/// What connecting an Instagram account through its Facebook Page needs. Meta lists
/// `pages_read_engagement` for every Instagram messaging webhook field and for the user
/// profile API, so it is asked for with the rest.
pub const SCOPES: [&str; 6] = [
    "instagram_basic",
    "instagram_manage_messages",
    "pages_show_list",
    "pages_manage_metadata",
    "pages_messaging",
    "pages_read_engagement",
];

/// The webhook fields a connected Page is subscribed to: messages (echoes, deletes and story
/// replies among them), button taps, reads, reactions, and events while another app holds
/// the thread (`standby`), so a human's replies from another inbox are seen.
const SUBSCRIBED_FIELDS: &str =
    "messages,messaging_postbacks,messaging_seen,message_reactions,standby";

/// Graph error code for an invalid or expired access token.
const TOKEN_REJECTED: i64 = 190;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Meta refused the token (expired, revoked, password changed): reconnect.
    #[error("Meta rejected the access token")]
    TokenRejected,
    /// Meta answered with an error of its own.
    #[error("Meta refused the request (code {code}): {message}")]
    Refused { code: i64, message: String },
    /// Meta could not be reached, or answered with something unreadable.
    #[error("Meta could not be reached: {0}")]
    Unreachable(String),
}

impl From<reqwest::Error> for GraphError {
    fn from(error: reqwest::Error) -> Self {
        Self::Unreachable(error.without_url().to_string())
    }
}

/// A user access token and how long it lasts, if Meta says.
pub struct UserToken {
    pub token: SecretString,
    pub expires_in: Option<Duration>,
}

/// A Facebook Page the person manages, with its token and its Instagram account, if linked.
pub struct ManagedPage {
    pub id: String,
    pub name: String,
    pub token: SecretString,
    pub instagram: Option<InstagramAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstagramAccount {
    pub id: String,
    #[serde(default)]
    pub username: String,
}

/// What Meta's user profile API tells of a patient who wrote to the doctor; either may be
/// missing (not set, or not shared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PatientProfile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct PagesBody {
    data: Vec<PageBody>,
    #[serde(default)]
    paging: Option<Paging>,
}

/// Cursor-based pagination: `next` is present while there are more.
#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    cursors: Option<Cursors>,
}

#[derive(Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
}

/// At most this many pages of Pages are read (100 each): far beyond any practice.
const MAX_PAGES_OF_PAGES: usize = 20;

#[derive(Deserialize)]
struct PageBody {
    id: String,
    #[serde(default)]
    name: String,
    access_token: String,
    #[serde(default)]
    instagram_business_account: Option<InstagramAccount>,
}

#[derive(Deserialize)]
struct MeBody {
    id: String,
}

#[derive(Deserialize)]
struct DebugBody {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    is_valid: bool,
    /// Unix seconds; 0 for a token that does not expire.
    #[serde(default)]
    expires_at: i64,
    /// Unix seconds when the person's grant of data access lapses (Meta's 90-day data access
    /// expiration; the token stops working for what it grants then); 0 or absent if never.
    #[serde(default)]
    data_access_expires_at: i64,
    /// The permissions the person granted; Meta leaves the list out for some invalid tokens.
    #[serde(default)]
    scopes: Vec<String>,
}

/// What Meta says of a token it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStatus {
    pub valid: bool,
    /// When it stops working (it expires, or its data access does), in Unix seconds; `None`
    /// if it never does.
    pub expires_at: Option<i64>,
    /// The permissions granted with it (empty if Meta named none).
    pub scopes: Vec<String>,
}

impl TokenStatus {
    /// Those of [`SCOPES`] the token was not granted, in `SCOPES`' order.
    pub fn missing_scopes(&self) -> Vec<String> {
        SCOPES
            .iter()
            .filter(|scope| !self.scopes.iter().any(|granted| granted == *scope))
            .map(|scope| (*scope).to_owned())
            .collect()
    }
}

#[derive(Deserialize)]
struct SuccessBody {
    success: bool,
}

/// Meta's answer to a change of a Messenger profile: `{"result": "success"}`.
#[derive(Deserialize)]
struct ProfileBody {
    #[serde(default)]
    result: String,
}

/// Meta's endpoints for one app.
pub struct Graph {
    http: reqwest::Client,
    app_id: String,
    app_secret: SecretString,
    dialog_url: String,
    graph_url: String,
    redirect_uri: String,
    login_config_id: Option<String>,
}

impl Graph {
    /// `redirect_uri` is where Meta sends the person back: `/auth/meta/callback` on our site.
    /// Built once at start; an HTTP client that cannot be built stops start-up.
    pub fn new(app: &MetaApp, redirect_uri: String) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // The OAuth exchange must not follow redirects (oauth2's advice), and Meta's API
            // has no reason to send any.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self {
            http,
            app_id: app.app_id.clone(),
            app_secret: app.app_secret.clone(),
            dialog_url: format!("{}/{}/dialog/oauth", app.dialog_base_url, app.graph_version),
            graph_url: format!("{}/{}", app.graph_base_url, app.graph_version),
            redirect_uri,
            login_config_id: app.login_config_id.clone(),
        })
    }

    /// `appsecret_proof` for a call made with `token`: HMAC-SHA256 of the token, keyed with
    /// the app secret, in hex.
    fn proof(&self, token: &str) -> String {
        super::appsecret_proof(&self.app_secret, token)
    }

    fn oauth(
        &self,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        GraphError,
    > {
        let bad = |e: oauth2::url::ParseError| GraphError::Unreachable(e.to_string());
        Ok(BasicClient::new(ClientId::new(self.app_id.clone()))
            .set_client_secret(ClientSecret::new(
                self.app_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::new(self.dialog_url.clone()).map_err(bad)?)
            .set_token_uri(
                TokenUrl::new(format!("{}/oauth/access_token", self.graph_url)).map_err(bad)?,
            )
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?)
            // Meta reads the app's id and secret from the request body.
            .set_auth_type(AuthType::RequestBody))
    }

    /// Meta's login dialog, asking for [`SCOPES`] (or for what the Facebook Login for
    /// Business configuration lists, when there is one), carrying `state` back to us.
    pub fn dialog(&self, state: &str) -> Result<String, GraphError> {
        let state = state.to_owned();
        let client = self.oauth()?;
        let request = client.authorize_url(|| CsrfToken::new(state));
        let request = match &self.login_config_id {
            Some(config_id) => request.add_extra_param("config_id", config_id),
            None => request.add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned()))),
        };
        Ok(request.url().0.to_string())
    }

    /// The code from the dialog's redirect, for a short-lived user token.
    pub async fn exchange_code(&self, code: &str) -> Result<UserToken, GraphError> {
        let response = self
            .oauth()?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                oauth2::RequestTokenError::ServerResponse(body) => GraphError::Refused {
                    code: 0,
                    message: body.error().to_string(),
                },
                // Meta's errors are not OAuth's shape; report what it said.
                oauth2::RequestTokenError::Parse(_, body) => refusal(&body),
                other => GraphError::Unreachable(other.to_string()),
            })?;
        Ok(UserToken {
            token: SecretString::from(response.access_token().secret().to_owned()),
            expires_in: response.expires_in(),
        })
    }

    /// A short-lived user token for a long-lived one (about 60 days).
    pub async fn long_lived(&self, short: &SecretString) -> Result<UserToken, GraphError> {
        // In the body, so the app secret is in no URL (and no proxy's log).
        let response = self
            .http
            .post(format!("{}/oauth/access_token", self.graph_url))
            .form(&[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &self.app_id),
                ("client_secret", self.app_secret.expose_secret()),
                ("fb_exchange_token", short.expose_secret()),
            ])
            .send()
            .await?;
        let body: TokenBody = read(response).await?;
        Ok(UserToken {
            token: SecretString::from(body.access_token),
            expires_in: body.expires_in.map(Duration::from_secs),
        })
    }

    /// The app-scoped id of the person the user token belongs to.
    pub async fn me(&self, user: &SecretString) -> Result<String, GraphError> {
        let body: MeBody = self.get("me", user, &[("fields", "id")]).await?;
        Ok(body.id)
    }

    /// Asks Meta whether a token still works, until when and with which permissions
    /// (`debug_token`, with the app's own access token, which holds the app secret: it goes in
    /// the `Authorization` header).
    pub async fn check(&self, token: &SecretString) -> Result<TokenStatus, GraphError> {
        let app_token = format!("{}|{}", self.app_id, self.app_secret.expose_secret());
        let response = self
            .http
            .get(format!("{}/debug_token", self.graph_url))
            .bearer_auth(&app_token)
            .query(&[
                ("input_token", token.expose_secret()),
                ("appsecret_proof", &self.proof(&app_token)),
            ])
            .send()
            .await?;
        let body: DebugBody = read(response).await?;
        Ok(TokenStatus {
            valid: body.data.is_valid,
            expires_at: [body.data.expires_at, body.data.data_access_expires_at]
                .into_iter()
                .filter(|at| *at > 0)
                .min(),
            scopes: body.data.scopes,
        })
    }

    /// The Pages the person manages, each with its token and linked Instagram account: every
    /// page of Meta's answer, following its cursors.
    pub async fn pages(&self, user: &SecretString) -> Result<Vec<ManagedPage>, GraphError> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES_OF_PAGES {
            let mut query = vec![
                (
                    "fields",
                    "id,name,access_token,instagram_business_account{id,username}",
                ),
                ("limit", "100"),
            ];
            if let Some(cursor) = &after {
                query.push(("after", cursor));
            }
            let body: PagesBody = self.get("me/accounts", user, &query).await?;
            pages.extend(body.data.into_iter().map(|page| ManagedPage {
                id: page.id,
                name: page.name,
                token: SecretString::from(page.access_token),
                instagram: page.instagram_business_account,
            }));
            after = body
                .paging
                .filter(|paging| paging.next.is_some())
                .and_then(|paging| paging.cursors)
                .and_then(|cursors| cursors.after);
            if after.is_none() {
                break;
            }
        }
        Ok(pages)
    }

    /// The name and @username of the patient with the Instagram-scoped id `igsid`, read with
    /// the Page token of the account they wrote to (Meta's user profile API; it answers only
    /// for people who have messaged that account).
    pub async fn profile(
        &self,
        igsid: &str,
        page: &SecretString,
    ) -> Result<PatientProfile, GraphError> {
        // The id becomes a path segment: nothing but an id's characters may reach the URL.
        if igsid.is_empty()
            || !igsid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(GraphError::Refused {
                code: 0,
                message: "not an Instagram-scoped id".into(),
            });
        }
        self.get(igsid, page, &[("fields", "name,username")]).await
    }

    /// Subscribes the Page to the app's webhook fields.
    pub async fn subscribe(&self, page_id: &str, page: &SecretString) -> Result<(), GraphError> {
        self.subscription(reqwest::Method::POST, page_id, page)
            .await
    }

    pub async fn unsubscribe(&self, page_id: &str, page: &SecretString) -> Result<(), GraphError> {
        self.subscription(reqwest::Method::DELETE, page_id, page)
            .await
    }

    async fn subscription(
        &self,
        method: reqwest::Method,
        page_id: &str,
        page: &SecretString,
    ) -> Result<(), GraphError> {
        let response = self
            .http
            .request(
                method,
                format!("{}/{page_id}/subscribed_apps", self.graph_url),
            )
            .query(&[
                ("subscribed_fields", SUBSCRIBED_FIELDS),
                ("access_token", page.expose_secret()),
                ("appsecret_proof", &self.proof(page.expose_secret())),
            ])
            .send()
            .await?;
        let body: SuccessBody = read(response).await?;
        if body.success {
            Ok(())
        } else {
            Err(GraphError::Refused {
                code: 0,
                message: "the subscription was not accepted".into(),
            })
        }
    }

    /// Sets properties of the Page's Messenger profile on Instagram (`POST
    /// me/messenger_profile?platform=instagram` with the Page token): `body` is Meta's, e.g.
    /// `{"platform": "instagram", "ice_breakers": [...], "persistent_menu": [...]}`.
    pub async fn set_messenger_profile(
        &self,
        page: &SecretString,
        body: &serde_json::Value,
    ) -> Result<(), GraphError> {
        self.messenger_profile(reqwest::Method::POST, page, body)
            .await
    }

    /// Removes these properties (e.g. `ice_breakers`) of the Page's Messenger profile on
    /// Instagram (`DELETE me/messenger_profile?platform=instagram`, `{"fields": [...]}`).
    pub async fn delete_messenger_profile(
        &self,
        page: &SecretString,
        fields: &[&str],
    ) -> Result<(), GraphError> {
        let body = serde_json::json!({ "fields": fields });
        self.messenger_profile(reqwest::Method::DELETE, page, &body)
            .await
    }

    async fn messenger_profile(
        &self,
        method: reqwest::Method,
        page: &SecretString,
        body: &serde_json::Value,
    ) -> Result<(), GraphError> {
        let response = self
            .http
            .request(method, format!("{}/me/messenger_profile", self.graph_url))
            .query(&[
                ("platform", "instagram"),
                ("access_token", page.expose_secret()),
                ("appsecret_proof", &self.proof(page.expose_secret())),
            ])
            .json(body)
            .send()
            .await?;
        let body: ProfileBody = read(response).await?;
        if body.result == "success" {
            Ok(())
        } else {
            Err(GraphError::Refused {
                code: 0,
                message: "the change was not accepted".into(),
            })
        }
    }

    /// A Graph read made with `token`, with its `appsecret_proof`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &SecretString,
        query: &[(&str, &str)],
    ) -> Result<T, GraphError> {
        let proof = self.proof(token.expose_secret());
        let response = self
            .http
            .get(format!("{}/{path}", self.graph_url))
            .query(query)
            .query(&[
                ("access_token", token.expose_secret()),
                ("appsecret_proof", &proof),
            ])
            .send()
            .await?;
        read(response).await
    }
}

impl From<GraphError> for AppError {
    /// Meta's failures, as the doctor is told them; the details are logged.
    fn from(error: GraphError) -> Self {
        tracing::warn!(%error, "Meta request failed");
        Self::Instagram(match error {
            GraphError::Unreachable(_) => Outcome::MetaUnreachable,
            GraphError::TokenRejected | GraphError::Refused { .. } => Outcome::MetaRefused,
        })
    }
}

/// A Graph answer: the body on success, Meta's error otherwise.
async fn read<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, GraphError> {
    let status = response.status();
    let body = response.bytes().await?;
    if status.is_success() {
        serde_json::from_slice(&body)
            .map_err(|e| GraphError::Unreachable(format!("unreadable answer: {e}")))
    } else {
        Err(refusal(&body))
    }
}

fn refusal(body: &[u8]) -> GraphError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) if error.code == TOKEN_REJECTED => GraphError::TokenRejected,
        Ok(ErrorBody { error }) => GraphError::Refused {
            code: error.code,
            message: error.message,
        },
        Err(_) => GraphError::Unreachable("an error without Meta's error body".into()),
    }
}
