//! Mail to doctors: through the SMTP relay of `SMTP_URL`, or, in development without one,
//! into files under `DATA_DIR/mail`, which `/dev/mail` lists (never served in production).
//! Mails name what happened and link to the dashboard; logs name the doctor by id, never
//! the address.

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{AppEnv, Config};
use crate::error::AppError;

/// How long a relay may take to take one mail.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One mail: plain text, to one address.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub enum Mailer {
    Smtp {
        relay: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// Development without a relay: each mail is a file of its own.
    Folder { dir: PathBuf, from: Mailbox },
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Self, AppError> {
        let from = config.mail.from.clone();
        Ok(match &config.mail.smtp_url {
            Some(url) => Self::Smtp {
                relay: AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| AppError::internal("SMTP_URL", "not a relay URL"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
                from,
            },
            None => Self::Folder {
                dir: config.data_dir.join("mail"),
                from,
            },
        })
    }

    /// Sends `mail`; an error names what failed, never the address.
    pub async fn send(&self, mail: &Mail) -> Result<(), AppError> {
        let from = match self {
            Self::Smtp { from, .. } | Self::Folder { from, .. } => from.clone(),
        };
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| AppError::internal("mail not sent", "the address does not parse"))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body(&mail.body))
            .map_err(|error| AppError::internal("mail not built", error))?;
        match self {
            Self::Smtp { relay, .. } => relay
                .send(message)
                .await
                .map(drop)
                .map_err(|error| AppError::internal("mail not sent", error)),
            Self::Folder { dir, .. } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|error| AppError::internal("mail folder", error))?;
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                tokio::fs::write(dir.join(name), message.formatted())
                    .await
                    .map_err(|error| AppError::internal("mail not written", error))
            }
        }
    }

    /// The development mail folder, if mail goes there.
    fn folder(&self) -> Option<&PathBuf> {
        match self {
            Self::Folder { dir, .. } => Some(dir),
            Self::Smtp { .. } => None,
        }
    }
}

/// `text` as a 7bit body when it is ASCII with lines of at most 998 characters (RFC 5322's
/// limit), so a long link stays one line to copy; otherwise lettre's choice (quoted-printable
/// folds lines longer than 76).
fn body(text: &str) -> Body {
    if text.is_ascii() && !text.contains('\0') && text.lines().all(|line| line.len() <= 998) {
        let crlf: String = text.lines().map(|line| format!("{line}\r\n")).collect();
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// `/dev/mail`: the mails `mailer` wrote in development, newest first. Not served in
/// production, nor with a relay configured.
pub fn dev_routes<S: Clone + Send + Sync + 'static>(
    config: &Config,
    mailer: &Mailer,
) -> axum::Router<S> {
    match mailer.folder() {
        Some(dir) if config.app_env == AppEnv::Development => axum::Router::new()
            .route("/dev/mail", axum::routing::get(dev_mail))
            .with_state(dir.clone()),
        _ => axum::Router::new(),
    }
}

async fn dev_mail(State(dir): State<PathBuf>) -> Html<String> {
    let mut mails = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            if let Ok(text) = tokio::fs::read_to_string(entry.path()).await {
                mails.push((entry.file_name(), text));
            }
        }
    }
    // The names are UUIDv7s: newest last by name.
    mails.sort_by(|a, b| b.0.cmp(&a.0));
    let listed: String = mails
        .iter()
        .map(|(_, text)| format!("<article><pre>{}</pre></article>", linked(text)))
        .collect();
    let empty = if mails.is_empty() {
        "<p>No mail yet.</p>"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><title>Mail (development)</title>\
         <main><h1>Mail written in development</h1>\
         <p>Without SMTP_URL, mail to doctors lands here instead of their inboxes.</p>\
         {empty}{listed}</main></html>"
    ))
}

/// `text` escaped for HTML, with its http(s) addresses made links.
fn linked(text: &str) -> String {
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            if bare.starts_with("http://") || bare.starts_with("https://") {
                let rest = &word[bare.len()..];
                format!("<a href=\"{0}\">{0}</a>{1}", escape(bare), rest)
            } else {
                escape(word)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_link_stays_on_one_line_and_other_text_is_encoded() {
        let link = format!(
            "https://clariva.example/reset-password?token={}",
            "A".repeat(43)
        );
        let plain = body(&format!("Here:\n{link}\n"));
        assert_eq!(plain.encoding(), ContentTransferEncoding::SevenBit);
        assert!(String::from_utf8_lossy(plain.as_ref()).contains(&format!("\r\n{link}\r\n")));
        assert_ne!(
            body("Dr. Müller").encoding(),
            ContentTransferEncoding::SevenBit
        );
    }

    #[test]
    fn addresses_become_links_and_the_rest_is_escaped() {
        assert_eq!(
            linked("Open <this>:\nhttps://a.example/r?t=1&x=2 now"),
            "Open &lt;this&gt;:\n<a href=\"https://a.example/r?t=1&amp;x=2\">https://a.example/r?t=1&amp;x=2</a> now"
        );
    }
}
