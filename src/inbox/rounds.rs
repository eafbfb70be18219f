//! The shape the inbox's background jobs share (the worker, the sender, the profile lookup):
//! rounds, each claiming conversations and working on them at once in groups of one doctor's,
//! repeated until the task is dropped, with a pause when a round finds nothing to do.

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

/// The claimed `(doctor, conversation id)`s in groups of one doctor's, at most `per_group`
/// each: the work on a group shares transactions. Each group is in the order of the ids, so
/// the jobs' transactions take the conversations' row locks in one order and never deadlock
/// each other (PostgreSQL would stop one of them after a second).
pub fn by_doctor(
    mut claimed: Vec<(DoctorId, String)>,
    per_group: usize,
) -> Vec<(DoctorId, Vec<String>)> {
    claimed.sort_by(|(_, a), (_, b)| a.cmp(b));
    let mut groups: Vec<(DoctorId, Vec<String>)> = Vec::new();
    for (doctor, conversation_id) in claimed {
        match groups
            .iter_mut()
            .find(|(d, ids)| *d == doctor && ids.len() < per_group)
        {
            Some((_, ids)) => ids.push(conversation_id),
            None => groups.push((doctor, vec![conversation_id])),
        }
    }
    groups
}

/// Works on every group of [`by_doctor`] at once; one that fails is logged (ids only) and
/// does not hold the others back. How many conversations there were.
pub async fn each<F, Fut>(job: &'static str, groups: Vec<(DoctorId, Vec<String>)>, work: F) -> usize
where
    F: Fn(DoctorId, Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), AppError>> + Send + 'static,
{
    let count = groups.iter().map(|(_, ids)| ids.len()).sum();
    let mut running = JoinSet::new();
    for (doctor, conversation_ids) in groups {
        let conversations = conversation_ids.len();
        let worked = work(doctor.clone(), conversation_ids);
        running.spawn(async move {
            if let Err(error) = worked.await {
                tracing::warn!(job, doctor_id = %doctor, conversations, %error, "conversations not done");
            }
        });
    }
    running.join_all().await;
    count
}
