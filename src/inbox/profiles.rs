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
const BATCH: i64 = 16;
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
    Ok(
        super::rounds::each("profile lookup", due, |doctor, conversation_id| {
            let (db, graph, config) = (db.clone(), graph.clone(), config.clone());
            async move { look_up(&db, &graph, &config, &doctor, &conversation_id).await }
        })
        .await,
    )
}

async fn look_up(
    db: &Db,
    graph: &Graph,
    config: &Config,
    doctor: &DoctorId,
    conversation_id: &str,
) -> Result<(), AppError> {
    let mut tx = db.tenant_writer(doctor).await?;
    let igsid = conversations::start_profile(&mut tx, conversation_id).await?;
    let link = outbox::link(&mut tx).await?;
    tx.commit().await?;
    let (Some(igsid), Some(link)) = (igsid, link.filter(|link| !link.token_rejected)) else {
        // Disconnected, or waiting for the doctor to reconnect: tried again after the lease.
        return Ok(());
    };
    let token = super::sender::page_token(config, doctor, &link)?;
    let (name, username) = match graph.profile(&igsid, &token).await {
        Ok(profile) => (profile.name, profile.username.unwrap_or_default()),
        // Meta will not tell (no consent, the patient blocked the account): shown as
        // "Instagram user" for good.
        Err(GraphError::Refused { code, .. }) => {
            tracing::info!(doctor_id = %doctor, conversation_id, code, "Meta did not share the patient's profile");
            (None, String::new())
        }
        Err(error) => return Err(error.into()),
    };
    let mut tx = db.tenant_writer(doctor).await?;
    conversations::set_profile(
        &mut tx,
        conversation_id,
        name.as_deref(),
        &username,
        now_millis(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
