//! Meta's Send API for Instagram (Messenger Platform): `POST /{page-id}/messages` with the
//! Page's token and its `appsecret_proof`. Sends text with quick replies or a button
//! template. Meta's errors are sorted into what the sender does about them (reference:
//! meta-instagram.md §6.2).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::MetaApp;
use crate::domain::outgoing::{Button, Extras};

/// What went wrong with a send, by what the sender does about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 190: the Page token no longer works; the doctor must reconnect. Stop sending.
    #[error("Meta rejected the Page token")]
    TokenRejected,
    /// 10 / 2018278 or 2534022: the 24-hour window has closed.
    #[error("outside the messaging window")]
    OutsideWindow,
    /// 551: the person is not available (blocked the account, or left Instagram).
    #[error("the person is not available")]
    Unavailable,
    /// 100 / 2018001, 2534014: no such person for this account.
    #[error("no matching person")]
    NoSuchPerson,
    /// 4, 17, 32, 613, 80002: too many calls; back off this account.
    #[error("rate limited (code {0})")]
    RateLimited(i64),
    /// 2, a 5xx, a timeout, no answer: try again later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Anything else Meta refused: trying again will not help.
    #[error("refused (code {code}, subcode {subcode})")]
    Refused { code: i64, subcode: i64 },
}

impl SendError {
    /// What the doctor is told of a message that could not be delivered.
    pub fn for_doctor(&self) -> String {
        match self {
            Self::TokenRejected => "Instagram is disconnected: reconnect it to send.".into(),
            Self::OutsideWindow => "Not sent: the patient last wrote more than 24 hours ago, and Instagram allows replies only within that window.".into(),
            Self::Unavailable => "Not delivered: this person isn't available on Instagram right now.".into(),
            Self::NoSuchPerson => "Not delivered: Instagram no longer knows this person.".into(),
            Self::RateLimited(_) | Self::Temporary(_) => "Not delivered: Instagram kept failing. Try again later.".into(),
            Self::Refused { code, .. } => format!("Not delivered: Instagram refused it (code {code})."),
        }
    }
}

/// One message to send.
pub struct Outgoing<'a> {
    /// The patient's Instagram-scoped id.
    pub recipient: &'a str,
    pub text: &'a str,
    pub extras: &'a Extras,
    /// Sent with the `HUMAN_AGENT` tag (a person's reply after the 24-hour window).
    pub human_agent: bool,
}

#[derive(Deserialize)]
struct Sent {
    message_id: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: i64,
}

/// The Send API client for one Meta app.
pub struct SendApi {
    http: reqwest::Client,
    graph_url: String,
    app_secret: SecretString,
}

impl SendApi {
    pub fn new(app: &MetaApp) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self {
            http,
            graph_url: format!("{}/{}", app.graph_base_url, app.graph_version),
            app_secret: app.app_secret.clone(),
        })
    }

    /// Sends `message` through the Page; Meta's id for it.
    pub async fn send(
        &self,
        page_id: &str,
        token: &SecretString,
        message: &Outgoing<'_>,
    ) -> Result<String, SendError> {
        let body = message_body(message);
        let sent: Sent = self.post(page_id, token, &body).await?;
        Ok(sent.message_id)
    }

    /// Tells the patient their messages were seen (the "Seen" under them in Instagram).
    pub async fn mark_seen(
        &self,
        page_id: &str,
        token: &SecretString,
        recipient: &str,
    ) -> Result<(), SendError> {
        let body = json!({
            "recipient": {"id": recipient},
            "sender_action": "mark_seen",
        });
        self.post::<Value>(page_id, token, &body).await.map(drop)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        page_id: &str,
        token: &SecretString,
        body: &Value,
    ) -> Result<T, SendError> {
        let proof = super::appsecret_proof(&self.app_secret, token.expose_secret());
        let response = self
            .http
            .post(format!("{}/{page_id}/messages", self.graph_url))
            .query(&[
                ("access_token", token.expose_secret()),
                ("appsecret_proof", proof.as_str()),
            ])
            .json(body)
            .send()
            .await
            .map_err(|error| SendError::Temporary(error.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| SendError::Temporary(error.without_url().to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|_| SendError::Temporary("unreadable answer".into()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(classify(body.error.code, body.error.error_subcode)),
            Err(_) if status.is_server_error() => {
                Err(SendError::Temporary(format!("HTTP {status}")))
            }
            Err(_) => Err(SendError::Refused {
                code: i64::from(status.as_u16()),
                subcode: 0,
            }),
        }
    }
}

/// Meta's error code and subcode, as the sender treats them.
pub fn classify(code: i64, subcode: i64) -> SendError {
    match (code, subcode) {
        (190, _) => SendError::TokenRejected,
        (10, 2_018_278 | 2_534_022) => SendError::OutsideWindow,
        (551, _) => SendError::Unavailable,
        (100, 2_018_001) | (_, 2_534_014) => SendError::NoSuchPerson,
        (4 | 17 | 32 | 613 | 80_002 | 80_006, _) => SendError::RateLimited(code),
        (1 | 2, _) => SendError::Temporary(format!("code {code}")),
        _ => SendError::Refused { code, subcode },
    }
}

/// The JSON Meta expects for `message`.
fn message_body(message: &Outgoing<'_>) -> Value {
    let content = if message.extras.buttons.is_empty() {
        let mut content = json!({"text": message.text});
        if !message.extras.quick_replies.is_empty() {
            content["quick_replies"] = message
                .extras
                .quick_replies
                .iter()
                .map(|r| json!({"content_type": "text", "title": r.title, "payload": r.payload}))
                .collect();
        }
        content
    } else {
        let buttons: Vec<Value> = message
            .extras
            .buttons
            .iter()
            .map(|button| match button {
                Button::Link { title, url } => {
                    json!({"type": "web_url", "url": url, "title": title})
                }
                Button::Postback { title, payload } => {
                    json!({"type": "postback", "title": title, "payload": payload})
                }
            })
            .collect();
        json!({"attachment": {"type": "template", "payload": {
            "template_type": "button",
            "text": crate::domain::outgoing::cut(message.text, crate::domain::outgoing::MAX_BUTTON_TEXT_CHARS),
            "buttons": buttons,
        }}})
    };
    let mut body = json!({"recipient": {"id": message.recipient}, "message": content});
    if message.human_agent {
        body["messaging_type"] = json!("MESSAGE_TAG");
        body["tag"] = json!("HUMAN_AGENT");
    } else {
        body["messaging_type"] = json!("RESPONSE");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outgoing::QuickReply;

    #[test]
    fn meta_error_codes_are_sorted_as_the_reference_says() {
        assert_eq!(classify(190, 460), SendError::TokenRejected);
        assert_eq!(classify(10, 2_018_278), SendError::OutsideWindow);
        assert_eq!(classify(10, 2_534_022), SendError::OutsideWindow);
        assert_eq!(classify(551, 1_545_041), SendError::Unavailable);
        assert_eq!(classify(100, 2_018_001), SendError::NoSuchPerson);
        for code in [4, 17, 32, 613, 80_002] {
            assert_eq!(classify(code, 0), SendError::RateLimited(code));
        }
        assert!(matches!(classify(2, 0), SendError::Temporary(_)));
        assert_eq!(
            classify(10, 2_018_065),
            SendError::Refused {
                code: 10,
                subcode: 2_018_065
            }
        );
    }

    #[test]
    fn a_text_with_quick_replies_and_a_button_template_are_shaped_as_meta_documents() {
        let extras = Extras {
            quick_replies: vec![QuickReply {
                title: "Book".into(),
                payload: "BOOK".into(),
            }],
            buttons: vec![],
        };
        let body = message_body(&Outgoing {
            recipient: "6543",
            text: "What would you like?",
            extras: &extras,
            human_agent: false,
        });
        assert_eq!(
            body,
            json!({"recipient": {"id": "6543"}, "messaging_type": "RESPONSE",
                   "message": {"text": "What would you like?", "quick_replies": [
                       {"content_type": "text", "title": "Book", "payload": "BOOK"}]}})
        );
        let extras = Extras {
            quick_replies: vec![],
            buttons: vec![Button::Link {
                title: "Pay ₹500".into(),
                url: "https://pay.example/abc".into(),
            }],
        };
        let body = message_body(&Outgoing {
            recipient: "6543",
            text: "Pay to confirm",
            extras: &extras,
            human_agent: true,
        });
        assert_eq!(body["tag"], "HUMAN_AGENT");
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        let payload = &body["message"]["attachment"]["payload"];
        assert_eq!(payload["template_type"], "button");
        assert_eq!(payload["buttons"][0]["type"], "web_url");
    }
}
