//! Instagram: each doctor links their own Instagram professional account, through the Facebook
//! Page it belongs to, by Meta's login dialog ([`connect`]). The Page token is sealed at rest
//! ([`crate::crypto::seal`]); the stored link, and the only way from an Instagram or Page id to its doctor,
//! are in [`crate::db::instagram`]. A daily check keeps each link's health ([`token_check`]);
//! Meta's app callbacks disconnect a person who removed the app ([`app_callbacks`]). The
//! assistant's ice breakers and persistent menu follow the assistant settings ([`menu`]).
//!
//! Here: what the Instagram pane shows, and the server functions behind it.

#[cfg(feature = "ssr")]
pub mod app_callbacks;
#[cfg(feature = "ssr")]
pub mod connect;
#[cfg(feature = "ssr")]
pub mod menu;
mod page;
#[cfg(feature = "ssr")]
pub mod reseal;
#[cfg(feature = "ssr")]
pub mod token_check;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use page::InstagramRoute;

/// Where Meta explains how to link an Instagram professional account to a Facebook Page.
pub const META_HELP_URL: &str = "https://help.instagram.com/399237934150902";

/// A token expiring within this many days needs the doctor to reconnect.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

/// The Instagram pane: whether Meta is set up on this server, the link if any, and the
/// accounts on offer when the doctor manages several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstagramPane {
    pub meta_configured: bool,
    pub link: Option<LinkView>,
    pub choices: Vec<AccountChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    pub username: String,
    pub page_name: String,
    /// The day it was connected, e.g. "26 Nov 2026".
    pub connected_on: String,
    pub health: Health,
    pub menu: InstagramMenu,
}

/// The assistant's buttons on the account (four ice breakers, and the same four in the
/// persistent menu), as Meta last took them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstagramMenu {
    /// Offered to patients since this day, e.g. "26 Nov 2026".
    Offered { since: String },
    /// Not offered: the assistant is off.
    Off,
    /// The assistant is on but the buttons were never set (a link made before Clariva set them).
    NotSet,
    /// Meta did not take the last change: putting the buttons up (`setting`) or taking them
    /// down; `reason` is Meta's.
    Failed { setting: bool, reason: String },
}

impl InstagramMenu {
    /// Whether the doctor is offered to try again.
    pub fn needs_attention(&self) -> bool {
        matches!(self, Self::NotSet | Self::Failed { .. })
    }

    /// One sentence for the doctor.
    pub fn describe(&self) -> String {
        match self {
            Self::Offered { since } => {
                format!("Patients are offered the assistant's buttons on Instagram since {since}.")
            }
            Self::Off => "No buttons: the assistant is off.".into(),
            Self::NotSet => "Instagram's menu is not set yet. Try again.".into(),
            Self::Failed { setting, reason } => {
                let reason = reason.trim_end_matches('.');
                if *setting {
                    format!("Instagram's menu could not be set: {reason}. Try again.")
                } else {
                    format!("Instagram's menu could not be removed: {reason}. Patients may still see buttons the assistant no longer answers. Try again.")
                }
            }
        }
    }
}

/// How the link's token stands, as last heard from Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Health {
    /// Working; `expires_on` is the day it stops, if it ever does.
    Good { expires_on: Option<String> },
    /// Stops working within [`EXPIRY_WARNING_DAYS`]: reconnect.
    ExpiresSoon { expires_on: String },
    /// Working, but without these permissions Clariva asks for (Meta's names), e.g. a link
    /// made before Clariva asked for one: reconnect to grant them.
    MissingPermissions { permissions: Vec<String> },
    /// Meta refused it (expired, revoked, password changed): reconnect.
    Rejected,
}

impl Health {
    pub fn needs_attention(&self) -> bool {
        !matches!(self, Self::Good { .. })
    }

    /// One sentence for the doctor.
    pub fn describe(&self) -> String {
        match self {
            Self::Good { expires_on: None } => "Working. It does not expire.".into(),
            Self::Good {
                expires_on: Some(day),
            } => format!("Working until {day}."),
            Self::ExpiresSoon { expires_on } => format!(
                "Expires on {expires_on}. Reconnect Instagram before then so the assistant keeps answering."
            ),
            Self::MissingPermissions { permissions } => {
                let each: Vec<String> = permissions
                    .iter()
                    .map(|name| format!("{} ({name})", permission_purpose(name)))
                    .collect();
                let them = if each.len() == 1 { "it" } else { "them" };
                format!(
                    "Meta has not granted Clariva permission to {}. Reconnect Instagram to grant {them}.",
                    in_words(&each)
                )
            }
            Self::Rejected => "Meta no longer accepts this connection (it was revoked or expired). Reconnect Instagram so the assistant can answer again.".into(),
        }
    }
}

/// What a Meta permission lets Clariva do, in the doctor's words.
fn permission_purpose(name: &str) -> &str {
    match name {
        "instagram_basic" => "read your Instagram account's name",
        "instagram_manage_messages" => "manage your Instagram messages",
        "pages_show_list" => "see the Facebook Pages you manage",
        "pages_manage_metadata" => "receive your Page's messages",
        "pages_messaging" => "send messages through your Page",
        "pages_read_engagement" => "read message details",
        _ => "use a feature it needs",
    }
}

/// "a", "a and b", "a, b and c".
fn in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One account the doctor can pick. No token ever leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChoice {
    pub page_id: String,
    pub page_name: String,
    pub username: String,
}

pub use crate::domain::instagram::Outcome;

/// The feature's own routes, besides its pages and server functions: Meta's login dialog
/// round trip, Meta's signed app callbacks and the administrators' guide.
#[cfg(feature = "ssr")]
pub fn routes() -> axum::Router<crate::context::AppState> {
    use axum::routing::{get, post};

    axum::Router::new()
        .route("/auth/meta/start", get(connect::start))
        .route("/auth/meta/callback", get(connect::callback))
        .route("/meta/deauthorize", post(app_callbacks::deauthorize))
        .route("/meta/data-deletion", post(app_callbacks::data_deletion))
        .route("/meta/deletion/{code}", get(app_callbacks::deletion_status))
        .route(GUIDE, get(guide))
}

/// Where the operator's guide to setting up the Meta app (docs/meta-setup.md) is served, for
/// the doctor to pass on to whoever runs the server.
pub const GUIDE: &str = "/help/meta-setup";

/// The guide, as the Markdown it is written in.
#[cfg(feature = "ssr")]
async fn guide() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        include_str!("../../docs/meta-setup.md"),
    )
}

/// The pane's data for the signed-in doctor.
#[server(endpoint = "instagram")]
pub async fn instagram_status() -> Result<InstagramPane, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        let mut tx = db.tenant(doctor).await?;
        let link = crate::db::instagram::get(&mut tx).await?;
        let menu = menu::state(&mut tx).await?;
        let zone = crate::db::availability::zone(&mut tx).await?;
        let choices = crate::db::instagram::choices(&mut tx).await?;
        tx.commit().await?;
        Ok(InstagramPane {
            meta_configured: state.config.meta.is_some(),
            link: link
                .as_ref()
                .zip(menu)
                .map(|(link, menu)| connect::view(link, menu, &zone)),
            choices: choices
                .into_iter()
                .map(|choice| AccountChoice {
                    page_id: choice.page_id,
                    page_name: choice.page_name,
                    username: choice.username,
                })
                .collect(),
        })
    })
    .await
}

/// Connects the account of the Page the doctor picked from those on offer.
#[server(endpoint = "instagram/choose")]
pub async fn choose_account(page_id: String) -> Result<(), AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        connect::connect_choice(&state, db, doctor, &page_id).await
    })
    .await
}

/// Tries again to put the assistant's buttons on the account (or to take them down while the
/// assistant is off); how it went shows on the pane, so Meta's refusal is no error here.
#[server(endpoint = "instagram/menu")]
pub async fn retry_menu() -> Result<(), AppError> {
    crate::context::for_doctor(async |_, doctor| {
        let state = crate::context::state()?;
        menu::refresh(&state, doctor).await;
        Ok(())
    })
    .await
}

/// Disconnects the doctor's account: the assistant stops answering its DMs; conversations and
/// appointments stay.
#[server(endpoint = "instagram/disconnect")]
pub async fn disconnect() -> Result<(), AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let state = crate::context::state()?;
        connect::disconnect(&state, db, doctor).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_working_token_needs_no_attention() {
        assert!(!Health::Good { expires_on: None }.needs_attention());
        assert!(Health::Rejected.needs_attention());
        let soon = Health::ExpiresSoon {
            expires_on: "1 Dec 2026".into(),
        };
        assert!(soon.needs_attention());
        assert!(soon.describe().contains("1 Dec 2026"));
    }

    #[test]
    fn a_missing_permission_is_named_and_asks_to_reconnect() {
        let one = Health::MissingPermissions {
            permissions: vec!["pages_read_engagement".into()],
        };
        assert!(one.needs_attention());
        assert_eq!(
            one.describe(),
            "Meta has not granted Clariva permission to read message details (pages_read_engagement). Reconnect Instagram to grant it."
        );
        let two = Health::MissingPermissions {
            permissions: vec!["pages_messaging".into(), "pages_read_engagement".into()],
        };
        assert_eq!(
            two.describe(),
            "Meta has not granted Clariva permission to send messages through your Page (pages_messaging) and read message details (pages_read_engagement). Reconnect Instagram to grant them."
        );
    }
}
