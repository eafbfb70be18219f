//! The daily check of every connected token with Meta (`debug_token`): it records whether
//! Meta still accepts the token, until when, and which of the permissions Clariva asks for
//! ([`SCOPES`](crate::meta::graph::SCOPES)) it lacks (links made before a permission was
//! added lack it), so the pane and the dashboard can ask the doctor to reconnect in time. A
//! Page token obtained through a long-lived user token does not expire, and Meta offers no way
//! to renew a Page token without the doctor, so a token that will expire, was refused or lacks
//! a permission is flagged, never silently replaced. Tokens are never logged, and permissions
//! only counted.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::crypto::seal::TokenKeys;
use crate::db::{self, instagram, Db, DoctorId};
use crate::meta::graph::{Graph, GraphError};

/// How often the check runs.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// A token checked less than this long ago is not checked again (say, after a restart).
const RECHECK_AFTER_MS: i64 = 23 * 60 * 60 * 1000;

/// What one round of checks found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub working: usize,
    /// Of the working ones, those that lack a permission: their doctors must reconnect.
    pub missing_permissions: usize,
    pub rejected: usize,
    /// Meta could not be asked; checked again next round.
    pub unanswered: usize,
}

/// Checks the tokens every [`EVERY`], starting now; runs until the server stops.
pub async fn run(db: Db, graph: Arc<Graph>, config: Arc<Config>) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        match check_all(&db, &graph, &config.token_keys).await {
            Ok(round) => tracing::info!(
                working = round.working,
                missing_permissions = round.missing_permissions,
                rejected = round.rejected,
                unanswered = round.unanswered,
                "Instagram tokens checked"
            ),
            Err(error) => tracing::error!(%error, "Instagram token check failed"),
        }
    }
}

/// Checks every token not checked in the last 23 hours.
pub async fn check_all(db: &Db, graph: &Graph, keys: &TokenKeys) -> Result<Round, sqlx::Error> {
    let mut round = Round::default();
    let due = instagram::unchecked_since(db, db::now_millis() - RECHECK_AFTER_MS).await?;
    for doctor in due {
        match check(db, graph, keys, &doctor).await? {
            Some(Verdict::Working) => round.working += 1,
            Some(Verdict::LacksPermissions) => {
                round.working += 1;
                round.missing_permissions += 1;
            }
            Some(Verdict::Rejected) => round.rejected += 1,
            None => round.unanswered += 1,
        }
    }
    Ok(round)
}

/// What Meta said of one token.
enum Verdict {
    Working,
    /// It works, but without some of the permissions Clariva asks for.
    LacksPermissions,
    Rejected,
}

/// How the doctor's token stands (`None` when Meta could not say), recorded on the link.
async fn check(
    db: &Db,
    graph: &Graph,
    keys: &TokenKeys,
    doctor: &DoctorId,
) -> Result<Option<Verdict>, sqlx::Error> {
    let mut tx = db.tenant(doctor).await?;
    let link = instagram::get(&mut tx).await?;
    tx.commit().await?;
    let Some(link) = link else { return Ok(None) };
    let verdict = match keys.open(doctor.as_str(), &link.token) {
        Ok(token) => graph.check(&token).await,
        // Sealed with a key no longer configured: the token cannot be used; reconnect.
        Err(error) => {
            tracing::error!(doctor_id = %doctor, %error, "an Instagram token does not open");
            Err(GraphError::TokenRejected)
        }
    };
    // A refused token's permissions do not matter (and Meta lists none): reconnecting is
    // asked for either way.
    let (expires_at, working, missing) = match verdict {
        Ok(status) if status.valid => {
            let missing = status.missing_scopes();
            (status.expires_at.map(|secs| secs * 1000), true, missing)
        }
        Ok(status) => (status.expires_at.map(|secs| secs * 1000), false, Vec::new()),
        Err(GraphError::TokenRejected) => (link.token_expires_at, false, Vec::new()),
        Err(error) => {
            tracing::warn!(doctor_id = %doctor, %error, "could not check an Instagram token");
            return Ok(None);
        }
    };
    let mut tx = db.tenant_writer(doctor).await?;
    // Only if the link is still the one checked: the doctor may have reconnected meanwhile.
    instagram::record_check(&mut tx, &link.token, expires_at, !working, &missing).await?;
    tx.commit().await?;
    tracing::info!(
        doctor_id = %doctor,
        working,
        expires_at,
        missing_permissions = missing.len(),
        "Instagram token checked"
    );
    Ok(Some(match (working, missing.is_empty()) {
        (false, _) => Verdict::Rejected,
        (true, true) => Verdict::Working,
        (true, false) => Verdict::LacksPermissions,
    }))
}
