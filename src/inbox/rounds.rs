//! The shape the inbox's background jobs share (the sender, the profile lookup): rounds,
//! each claiming conversations and working on them at once, repeated until the task is
//! dropped, with a pause when a round finds nothing to do.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::db::DoctorId;
use crate::error::AppError;

/// Runs `round` until the task is dropped; after a round that found nothing (it returns how
/// many conversations it took) or failed, waits `idle` first. `job` names it in the logs.
pub async fn repeat<F, Fut>(job: &'static str, idle: Duration, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, AppError>>,
{
    loop {
        match round().await {
            Ok(0) => tokio::time::sleep(idle).await,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(job, %error, "round failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// Works on every claimed `(doctor, conversation id)` at once; one that fails is logged (ids
/// only) and does not hold the others back. How many there were.
pub async fn each<F, Fut>(job: &'static str, claimed: Vec<(DoctorId, String)>, work: F) -> usize
where
    F: Fn(DoctorId, String) -> Fut,
    Fut: Future<Output = Result<(), AppError>> + Send + 'static,
{
    let count = claimed.len();
    let mut running = JoinSet::new();
    for (doctor, conversation_id) in claimed {
        let worked = work(doctor.clone(), conversation_id.clone());
        running.spawn(async move {
            if let Err(error) = worked.await {
                tracing::warn!(job, doctor_id = %doctor, conversation_id, %error, "conversation not done");
            }
        });
    }
    running.join_all().await;
    count
}
