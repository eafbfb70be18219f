//! Connecting a doctor's Instagram account through Meta's login dialog, and disconnecting it.
//!
//! `GET /auth/meta/start` remembers a random state for the doctor's session (its hash, for ten
//! minutes, usable once) and sends the browser to Meta's dialog. `GET /auth/meta/callback`
//! takes the state back out, checks it belongs to this session and has not expired, then
//! trades the code for a long-lived user token and lists the doctor's Pages: one Page with an
//! Instagram professional account is connected at once; several are offered on the pane to
//! pick from; none is explained. Either way the browser lands on the pane with
//! `?result=<outcome>`. A connected account gets the assistant's buttons ([`super::menu`]).
//! No token is ever logged, shown or stored unsealed.

use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::tz::TimeZone;
use secrecy::SecretString;
use serde::Deserialize;

use super::{menu, Health, InstagramMenu, LinkView, Outcome, EXPIRY_WARNING_DAYS};
use crate::context::SignedIn;
use crate::context::{request_id_in, AppState};
use crate::crypto::sha256_hex;
use crate::db::instagram::{self as links, Choice, NewLink, StoredLink};
use crate::db::{self, meta_connect, Db, DoctorId};
use crate::error::AppError;
use crate::meta::graph::ManagedPage;

/// How long a login dialog may take, from "Connect Instagram" to the callback.
const STATE_LASTS_MS: i64 = 10 * 60 * 1000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The pane, where every trip through the dialog ends.
const PANE: &str = "/dashboard/instagram";

/// Back to the pane, saying how it went.
fn back_to_pane(outcome: Outcome) -> Response {
    Redirect::to(&format!("{PANE}?result={}", outcome.code())).into_response()
}

/// `GET /auth/meta/start`: to Meta's login dialog, with a fresh state for this session.
pub async fn start(State(state): State<AppState>, extensions: Extensions) -> Response {
    let Some(signed_in) = extensions.get::<SignedIn>() else {
        return Redirect::to("/login?next=%2Fdashboard%2Finstagram").into_response();
    };
    let graph = match state.graph() {
        Ok(graph) => graph,
        Err(_) => return back_to_pane(Outcome::NotConfigured),
    };
    let value = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let stored = meta_connect::StoredState {
        doctor: signed_in.doctor.clone(),
        session_hash: signed_in.token_hash.clone(),
        expires_at: db::now_millis() + STATE_LASTS_MS,
    };
    if let Err(error) = meta_connect::insert_state(&state.db, &sha256_hex(&value), &stored).await {
        return AppError::from(error).into_response();
    }
    match graph.dialog(&value) {
        Ok(url) => {
            tracing::info!(doctor_id = %signed_in.doctor, "sent to Meta's login dialog");
            Redirect::to(&url).into_response()
        }
        Err(error) => AppError::from(error).into_response(),
    }
}

/// What Meta's dialog sends back: a code, or why there is none; and our state.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_reason: Option<String>,
}

/// `GET /auth/meta/callback`: finishes the connection and returns to the pane.
pub async fn callback(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let signed_in = extensions.get::<SignedIn>();
    let outcome = match finish(&state, signed_in, callback, request_id_in(&headers)).await {
        Ok(outcome) => outcome,
        Err(AppError::Instagram(outcome)) => outcome,
        Err(_) => Outcome::Failed,
    };
    if let Some(signed_in) = signed_in {
        tracing::info!(doctor_id = %signed_in.doctor, outcome = outcome.code(), "back from Meta's login dialog");
    }
    back_to_pane(outcome)
}

async fn finish(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    callback: Callback,
    request_id: Option<String>,
) -> Result<Outcome, AppError> {
    let Some(given) = callback.state.filter(|s| !s.is_empty()) else {
        return Ok(Outcome::InvalidState);
    };
    // Taken out whatever happens next, so it cannot be used twice.
    let Some(stored) = meta_connect::take_state(&state.db, &sha256_hex(&given)).await? else {
        return Ok(Outcome::InvalidState);
    };
    if stored.expires_at <= db::now_millis() {
        return Ok(Outcome::Expired);
    }
    let Some(signed_in) =
        signed_in.filter(|s| s.token_hash == stored.session_hash && s.doctor == stored.doctor)
    else {
        return Ok(Outcome::OtherSession);
    };
    let doctor = &signed_in.doctor;
    if let Some(error) = callback.error {
        tracing::info!(doctor_id = %doctor, error, reason = ?callback.error_reason, "Meta's dialog returned no code");
        return Ok(if error == "access_denied" {
            Outcome::Cancelled
        } else {
            Outcome::MetaRefused
        });
    }
    let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
        return Ok(Outcome::MetaRefused);
    };
    let graph = state.graph()?;
    let short = graph.exchange_code(&code).await?;
    let long = graph.long_lived(&short.token).await?;
    let meta_user_id = graph.me(&long.token).await?;
    let mut accounts: Vec<Account> = graph
        .pages(&long.token)
        .await?
        .into_iter()
        .filter_map(|page| Account::of(page, &meta_user_id))
        .collect();
    tracing::info!(doctor_id = %doctor, accounts = accounts.len(), "Meta listed the doctor's Pages");
    match accounts.len() {
        0 => Ok(Outcome::NoEligibleAccount),
        1 => {
            let account = accounts.remove(0);
            connect_account(state, doctor, account, request_id.as_deref()).await?;
            Ok(Outcome::Connected)
        }
        _ => {
            let keys = &state.config.token_keys;
            let choices: Vec<Choice> = accounts
                .into_iter()
                .map(|account| Choice {
                    token: keys.seal(doctor.as_str(), &account.token),
                    page_id: account.page_id,
                    instagram_id: account.instagram_id,
                    username: account.username,
                    page_name: account.page_name,
                    meta_user_id: account.meta_user_id,
                })
                .collect();
            let mut tx = state.db.tenant_writer(doctor).await?;
            links::offer_choices(&mut tx, &choices).await?;
            tx.commit().await?;
            Ok(Outcome::Choose)
        }
    }
}

/// An Instagram professional account, the Page it belongs to and the Page's token.
struct Account {
    page_id: String,
    instagram_id: String,
    username: String,
    page_name: String,
    meta_user_id: String,
    token: SecretString,
}

impl Account {
    /// The Page's account, if it has one linked.
    fn of(page: ManagedPage, meta_user_id: &str) -> Option<Self> {
        let instagram = page.instagram?;
        Some(Self {
            page_id: page.id,
            instagram_id: instagram.id,
            username: instagram.username,
            page_name: page.name,
            meta_user_id: meta_user_id.to_owned(),
            token: page.token,
        })
    }
}

/// Links the doctor to the account, in place of any link they had: refused if the account or
/// its Page is another doctor's; the Page is subscribed to the app's webhooks first, so a
/// stored link always receives its DMs. Then the assistant's buttons are set (or removed,
/// while it is off); Meta refusing them leaves the link working and says so on the pane.
async fn connect_account(
    state: &AppState,
    doctor: &DoctorId,
    account: Account,
    request_id: Option<&str>,
) -> Result<(), AppError> {
    let taken = || AppError::Instagram(Outcome::TakenByAnotherDoctor);
    for id in [&account.instagram_id, &account.page_id] {
        if links::doctor_for(&state.db, id)
            .await?
            .is_some_and(|owner| owner != *doctor)
        {
            return Err(taken());
        }
    }
    let graph = state.graph()?;
    graph.subscribe(&account.page_id, &account.token).await?;
    let sealed = state
        .config
        .token_keys
        .seal(doctor.as_str(), &account.token);
    let mut tx = state.db.tenant_writer(doctor).await?;
    let previous = links::get(&mut tx).await?;
    let link = NewLink {
        page_id: &account.page_id,
        instagram_id: &account.instagram_id,
        username: &account.username,
        page_name: &account.page_name,
        token: &sealed,
        // A Page token from a long-lived user token does not expire; the daily check says
        // otherwise if Meta does.
        token_expires_at: None,
        meta_user_id: &account.meta_user_id,
    };
    match links::save(&mut tx, &link).await {
        // Another doctor linked it since the check above; the unique constraints hold.
        Err(error) if db::is_unique_violation(&error) => return Err(taken()),
        other => other?,
    }
    links::clear_choices(&mut tx).await?;
    let fields = links::AUDITED_FIELDS.map(String::from);
    db::audit::record(&mut tx, "instagram.connected", &fields, request_id).await?;
    tx.commit().await?;
    tracing::info!(
        doctor_id = %doctor,
        instagram_id = %account.instagram_id,
        page_id = %account.page_id,
        "Instagram connected"
    );
    if let Some(previous) = previous.filter(|p| p.page_id != account.page_id) {
        unsubscribe(state, doctor, &previous).await;
    }
    menu::refresh(state, doctor).await;
    Ok(())
}

/// Connects the account of the Page the doctor picked from those on offer.
pub async fn connect_choice(
    state: &AppState,
    db: &Db,
    doctor: &DoctorId,
    page_id: &str,
) -> Result<(), AppError> {
    let mut tx = db.tenant(doctor).await?;
    let choice = links::choices(&mut tx)
        .await?
        .into_iter()
        .find(|choice| choice.page_id == page_id);
    tx.commit().await?;
    let choice = choice.ok_or_else(|| {
        AppError::Conflict(
            "That choice is no longer on offer (it lasts 10 minutes). Connect Instagram again to see your accounts.".into(),
        )
    })?;
    let token = state
        .config
        .token_keys
        .open(doctor.as_str(), &choice.token)
        .map_err(|error| AppError::internal("an offered account's token does not open", error))?;
    let account = Account {
        page_id: choice.page_id,
        instagram_id: choice.instagram_id,
        username: choice.username,
        page_name: choice.page_name,
        meta_user_id: choice.meta_user_id,
        token,
    };
    connect_account(
        state,
        doctor,
        account,
        crate::context::request_id().as_deref(),
    )
    .await
}

/// Deletes the doctor's link (token and ids) and audits it, then unsubscribes the Page from
/// the app's webhooks if Meta lets us. Disconnecting what is not connected does nothing.
pub async fn disconnect(state: &AppState, db: &Db, doctor: &DoctorId) -> Result<(), AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let removed = links::remove(&mut tx).await?;
    if removed.is_some() {
        let fields = links::AUDITED_FIELDS.map(String::from);
        db::audit::record(
            &mut tx,
            "instagram.disconnected",
            &fields,
            crate::context::request_id().as_deref(),
        )
        .await?;
    }
    tx.commit().await?;
    if let Some(link) = removed {
        tracing::info!(doctor_id = %doctor, instagram_id = %link.instagram_id, "Instagram disconnected");
        unsubscribe(state, doctor, &link).await;
    }
    Ok(())
}

/// Stops Meta sending the Page's DMs here and takes the assistant's buttons off its account
/// (nobody would answer them), if it can be done; a failure is only logged (the link is gone
/// either way, and deliveries for an unlinked account reach no doctor).
async fn unsubscribe(state: &AppState, doctor: &DoctorId, link: &StoredLink) {
    let Ok(graph) = state.graph() else { return };
    let token = match state.config.token_keys.open(doctor.as_str(), &link.token) {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(doctor_id = %doctor, page_id = %link.page_id, %error, "could not open the Page token to let the Page go");
            return;
        }
    };
    if let Err(error) = graph.unsubscribe(&link.page_id, &token).await {
        tracing::warn!(doctor_id = %doctor, page_id = %link.page_id, %error, "could not unsubscribe the Page from webhooks");
    }
    if let Err(error) = graph.delete_messenger_profile(&token, &menu::FIELDS).await {
        tracing::warn!(doctor_id = %doctor, page_id = %link.page_id, %error, "could not remove the Instagram menu");
    }
}

/// The link as the pane shows it, with its buttons as [`menu::state`] found them, its days
/// in the doctor's `zone`.
pub fn view(link: &StoredLink, menu: InstagramMenu, zone: &TimeZone) -> LinkView {
    LinkView {
        username: link.username.clone(),
        page_name: link.page_name.clone(),
        connected_on: day(link.connected_at, zone),
        health: health(link, db::now_millis(), zone),
        menu,
    }
}

/// How the link's token stands at `now`, from what Meta last said of it. A refused or lapsed
/// token comes first (nothing works), then missing permissions (something already does not),
/// then an expiry close at hand; reconnecting mends all three.
pub fn health(link: &StoredLink, now: i64, zone: &TimeZone) -> Health {
    match link.token_expires_at {
        _ if link.token_rejected => Health::Rejected,
        Some(at) if at <= now => Health::Rejected,
        _ if !link.missing_scopes.is_empty() => Health::MissingPermissions {
            permissions: link.missing_scopes.clone(),
        },
        None => Health::Good { expires_on: None },
        Some(at) if at - now <= EXPIRY_WARNING_DAYS * DAY_MS => Health::ExpiresSoon {
            expires_on: day(at, zone),
        },
        Some(at) => Health::Good {
            expires_on: Some(day(at, zone)),
        },
    }
}

/// The day of `millis` in `zone`, as Clariva writes it, e.g. "26 Nov 2026".
pub(crate) fn day(millis: i64, zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|at| at.to_zoned(zone.clone()).strftime("%-d %b %Y").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::seal::Sealed;

    fn link(expires_at: Option<i64>, rejected: bool) -> StoredLink {
        lacking(expires_at, rejected, &[])
    }

    fn lacking(expires_at: Option<i64>, rejected: bool, missing: &[&str]) -> StoredLink {
        StoredLink {
            page_id: "p".into(),
            instagram_id: "i".into(),
            username: "u".into(),
            page_name: "n".into(),
            token: Sealed {
                key_id: "k".into(),
                value: "v".into(),
            },
            token_expires_at: expires_at,
            token_rejected: rejected,
            connected_at: 0,
            meta_user_id: None,
            missing_scopes: missing.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// 26 Nov 2026, 12:00 UTC.
    const NOW: i64 = 1_795_694_400_000;

    #[test]
    fn a_token_needs_attention_when_rejected_expired_or_expiring_within_a_week() {
        assert_eq!(
            health(&link(None, false), NOW, &TimeZone::UTC),
            Health::Good { expires_on: None }
        );
        assert_eq!(
            health(&link(None, true), NOW, &TimeZone::UTC),
            Health::Rejected
        );
        assert_eq!(
            health(&link(Some(NOW), false), NOW, &TimeZone::UTC),
            Health::Rejected
        );
        assert_eq!(
            health(&link(Some(NOW + 7 * DAY_MS), false), NOW, &TimeZone::UTC),
            Health::ExpiresSoon {
                expires_on: "3 Dec 2026".into()
            }
        );
        assert_eq!(
            health(
                &link(Some(NOW + 7 * DAY_MS + 1), false),
                NOW,
                &TimeZone::UTC
            ),
            Health::Good {
                expires_on: Some("3 Dec 2026".into())
            }
        );
        assert_eq!(
            health(&link(Some(NOW + 30 * DAY_MS), true), NOW, &TimeZone::UTC),
            Health::Rejected
        );
    }

    #[test]
    fn a_working_token_without_a_permission_needs_attention_unless_refused() {
        let missing = Health::MissingPermissions {
            permissions: vec!["pages_read_engagement".into()],
        };
        let without = |expires_at, rejected| {
            health(
                &lacking(expires_at, rejected, &["pages_read_engagement"]),
                NOW,
                &TimeZone::UTC,
            )
        };
        assert_eq!(without(None, false), missing);
        assert_eq!(without(Some(NOW + DAY_MS), false), missing);
        assert_eq!(without(Some(NOW + 30 * DAY_MS), false), missing);
        assert_eq!(without(None, true), Health::Rejected);
        assert_eq!(without(Some(NOW), false), Health::Rejected);
    }

    #[test]
    fn days_are_the_doctors_own() {
        // 26 Nov 2026, 20:00 UTC: already the 27th in Kolkata, still the 26th in Los Angeles.
        let evening = NOW + 8 * 60 * 60 * 1000;
        let zone = |name| TimeZone::get(name).unwrap();
        assert_eq!(day(evening, &TimeZone::UTC), "26 Nov 2026");
        assert_eq!(day(evening, &zone("Asia/Kolkata")), "27 Nov 2026");
        assert_eq!(day(evening, &zone("America/Los_Angeles")), "26 Nov 2026");
        assert_eq!(
            health(
                &link(Some(evening + 6 * DAY_MS), false),
                NOW,
                &zone("Asia/Kolkata")
            ),
            Health::ExpiresSoon {
                expires_on: "3 Dec 2026".into()
            }
        );
    }
}
