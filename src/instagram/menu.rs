//! The assistant's buttons on Instagram: four ice breakers, offered to a patient who has not
//! written yet, and the same four in the persistent menu, set through Meta's
//! `messenger_profile` API with the link's Page token when the doctor connects and whenever
//! they save the assistant settings; removed while the assistant is off, so patients are not
//! offered buttons nobody answers. Meta's refusal never undoes a connection or a save: it is
//! kept on the link, shown on the Instagram pane, and tried again from there.

use serde_json::{json, Value};
use sqlx::Row;

use super::InstagramMenu;
use crate::context::AppState;
use crate::crypto::seal::Sealed;
use crate::db::{self, DoctorId, TenantTx};
use crate::domain::assistant::MENU;
use crate::error::AppError;
use crate::meta::graph::GraphError;

/// The profile properties the buttons live in.
pub const FIELDS: [&str; 2] = ["ice_breakers", "persistent_menu"];

/// Meta's reason, as kept for the pane, is cut to this many characters.
const REASON_CHARS: usize = 300;

/// Meta's body setting the assistant's menu as buttons: the ice breakers (at most 4, a `default` locale required)
/// and the persistent menu (postbacks), both for every locale.
pub fn profile() -> Value {
    let questions: Vec<Value> = MENU
        .iter()
        .map(|b| json!({"question": b.title, "payload": b.payload}))
        .collect();
    let menu: Vec<Value> = MENU
        .iter()
        .map(|b| json!({"type": "postback", "title": b.title, "payload": b.payload}))
        .collect();
    json!({
        "platform": "instagram",
        "ice_breakers": [{"call_to_actions": questions, "locale": "default"}],
        "persistent_menu": [{"locale": "default", "call_to_actions": menu}],
    })
}

/// Puts the buttons on the doctor's linked account if the assistant is on, takes them down if
/// it is off, and keeps how it went on the link. Nothing linked, or Meta not configured,
/// does nothing; a failure is kept and logged, never returned.
pub async fn refresh(state: &AppState, doctor: &DoctorId) {
    if let Err(error) = try_refresh(state, doctor).await {
        tracing::warn!(doctor_id = %doctor, %error, "the Instagram menu was not refreshed");
    }
}

async fn try_refresh(state: &AppState, doctor: &DoctorId) -> Result<(), AppError> {
    let Ok(graph) = state.graph() else {
        return Ok(());
    };
    let mut tx = state.db.tenant(doctor).await?;
    let link = db::instagram::get(&mut tx).await?;
    let on = db::assistant::load(&mut tx).await?.enabled;
    tx.commit().await?;
    let Some(link) = link else {
        return Ok(());
    };
    let token = state
        .config
        .token_keys
        .open(doctor.as_str(), &link.token)
        .map_err(|error| AppError::internal("a link's token does not open", error))?;
    let result = if on {
        graph.set_messenger_profile(&token, &profile()).await
    } else {
        graph.delete_messenger_profile(&token, &FIELDS).await
    };
    let mut tx = state.db.tenant_writer(doctor).await?;
    record(&mut tx, &link.token, on, result.as_ref().err()).await?;
    tx.commit().await?;
    let page_id = &link.page_id;
    match result {
        Ok(()) if on => tracing::info!(doctor_id = %doctor, page_id, "Instagram menu set"),
        Ok(()) => tracing::info!(doctor_id = %doctor, page_id, "Instagram menu removed"),
        Err(error) => {
            tracing::warn!(doctor_id = %doctor, page_id, on, %error, "Meta did not take the Instagram menu")
        }
    }
    Ok(())
}

/// Keeps what Meta made of the change on the link, if it still holds the token the change
/// was made with (the doctor may have reconnected meanwhile): set now, removed, or why not.
async fn record(
    tx: &mut TenantTx,
    made_with: &Sealed,
    on: bool,
    error: Option<&GraphError>,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let query = match error {
        Some(error) => {
            let reason: String = error.to_string().chars().take(REASON_CHARS).collect();
            sqlx::query(
                "UPDATE instagram_links SET menu_error = $3
                 WHERE doctor_id = $1 AND token_sealed = $2",
            )
            .bind(doctor.as_str())
            .bind(&made_with.value)
            .bind(reason)
        }
        None => sqlx::query(
            "UPDATE instagram_links SET menu_set_at = $3, menu_error = NULL
             WHERE doctor_id = $1 AND token_sealed = $2",
        )
        .bind(doctor.as_str())
        .bind(&made_with.value)
        .bind(on.then(db::now_millis)),
    };
    query.execute(conn).await.map(drop)
}

/// The buttons on the doctor's linked account, as last heard from Meta; `None` without a link.
pub async fn state(tx: &mut TenantTx) -> Result<Option<InstagramMenu>, sqlx::Error> {
    let on = db::assistant::load(tx).await?.enabled;
    let zone = db::availability::zone(tx).await?;
    let (conn, doctor) = tx.parts();
    let row =
        sqlx::query("SELECT menu_set_at, menu_error FROM instagram_links WHERE doctor_id = $1")
            .bind(doctor.as_str())
            .fetch_optional(conn)
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let set_at: Option<i64> = row.try_get("menu_set_at")?;
    let error: Option<String> = row.try_get("menu_error")?;
    Ok(Some(match (error, set_at) {
        (Some(reason), _) => InstagramMenu::Failed {
            setting: on,
            reason,
        },
        _ if !on => InstagramMenu::Off,
        (None, Some(at)) => InstagramMenu::Offered {
            since: super::connect::day(at, &zone),
        },
        (None, None) => InstagramMenu::NotSet,
    }))
}
