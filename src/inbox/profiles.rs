//! Who wrote: once per new conversation, Meta's user profile API is asked for the patient's
//! name and @username, with the Page token of the doctor's link. Best effort: until Meta
//! answers, the Inbox shows "Instagram user"; a lookup that fails for a passing reason is
//! tried again later (three tries in all), one Meta refuses is not.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::db::{conversations, now_millis, outbox, Db, DoctorId};
use crate::error::AppError;
use crate::meta::graph::{Graph, GraphError};

/// How long a lookup holds its conversation; a failed one is tried again after it.
const LEASE: Duration = Duration::from_secs(5 * 60);
const BATCH: i64 = 64;
/// Conversations of one doctor looked up together (the worker's reason: on SQLite each commit
/// waits for the disk).
const PER_TRANSACTION: usize = 16;
const POLL: Duration = Duration::from_secs(1);

/// Looks profiles up until the task is dropped.
pub async fn run(db: Db, graph: Arc<Graph>, config: Arc<Config>) {
    super::rounds::repeat("profile lookup", POLL, || look_up_due(&db, &graph, &config)).await;
}

/// One round: the profiles of every conversation due; how many conversations.
pub async fn look_up_due(
    db: &Db,
    graph: &Arc<Graph>,
    config: &Arc<Config>,
) -> Result<usize, AppError> {
    let due = conversations::claim_profiles(db, now_millis(), LEASE, BATCH).await?;
    let groups = super::rounds::by_doctor(due, PER_TRANSACTION);
    Ok(
        super::rounds::each("profile lookup", groups, |doctor, conversation_ids| {
            let (db, graph, config) = (db.clone(), graph.clone(), config.clone());
            async move { look_up(&db, &graph, &config, &doctor, &conversation_ids).await }
        })
        .await,
    )
}

/// Looks up the patients of `conversation_ids` (all `doctor`'s) at once: the tries are
/// counted in one transaction and Meta's answers kept in another.
async fn look_up(
    db: &Db,
    graph: &Graph,
    config: &Config,
    doctor: &DoctorId,
    conversation_ids: &[String],
) -> Result<(), AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let mut patients = Vec::with_capacity(conversation_ids.len());
    for conversation_id in conversation_ids {
        if let Some(igsid) = conversations::start_profile(&mut tx, conversation_id).await? {
            patients.push((conversation_id.as_str(), igsid));
        }
    }
    let link = outbox::link(&mut tx).await?;
    tx.commit().await?;
    let Some(link) = link.filter(|link| !link.token_rejected) else {
        // Disconnected, or waiting for the doctor to reconnect: tried again after the lease.
        return Ok(());
    };
    let token = super::sender::page_token(config, doctor, &link)?;
    let answers = futures::future::join_all(
        patients
            .iter()
            .map(|(_, igsid)| graph.profile(igsid, &token)),
    )
    .await;
    let mut tx = db.tenant_writer(doctor).await?;
    for ((conversation_id, _), answer) in patients.iter().zip(answers) {
        let (name, username) = match answer {
            Ok(profile) => (profile.name, profile.username.unwrap_or_default()),
            // Meta will not tell (no consent, the patient blocked the account): shown as
            // "Instagram user" for good.
            Err(GraphError::Refused { code, .. }) => {
                tracing::info!(doctor_id = %doctor, conversation_id, code, "Meta did not share the patient's profile");
                (None, String::new())
            }
            // Tried again after the lease.
            Err(error) => {
                tracing::warn!(doctor_id = %doctor, conversation_id, %error, "patient's profile not looked up");
                continue;
            }
        };
        conversations::set_profile(
            &mut tx,
            conversation_id,
            name.as_deref(),
            &username,
            now_millis(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
