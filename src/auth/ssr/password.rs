//! Password hashing: argon2id with the crate's defaults (19 MiB, 2 passes), on threads of its
//! own (one per core) so a log-in never stalls the async workers, and at most one hash per
//! core at a time: a burst of log-ins queues for a moment, then gets 503 with `Retry-After`,
//! instead of taking 19 MiB each until memory runs out.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};

use crate::domain::account::NewPassword;
use crate::error::AppError;

/// Checked when the email has no account, so that answer takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("a password nobody has").expect("argon2 hashes a constant password"));

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// How long a hash waits for a free core before the request is answered 503.
const QUEUE_WAIT: Duration = Duration::from_secs(3);

/// A job for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads of their own that hash, one hash each at a time. Fixed threads keep
/// memory bounded too: each thread's allocator keeps the 19 MiB it last used, so hashing on
/// the shared blocking pool (which starts new threads freely) grew the process by that much
/// per thread it happened to use.
pub struct HashingSlots {
    permits: Semaphore,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
}

impl HashingSlots {
    pub fn new(at_once: usize, wait: Duration) -> Self {
        let at_once = at_once.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..at_once {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    // The lock is held only while taking the next job, not while running it.
                    let next = queue.lock().map(|queue| queue.recv());
                    let Ok(Ok(job)) = next else { break };
                    // A job that panics answers its caller with an error; the thread stays.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        Self {
            permits: Semaphore::new(at_once),
            wait,
            jobs,
        }
    }

    /// Runs `work` once a slot is free, or refuses with [`AppError::Busy`] after the wait.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.acquire())
            .await
            .map_err(|_| {
                tracing::warn!("password hashing busy: request refused");
                AppError::Busy
            })?
            .map_err(|error| AppError::internal("password hashing slots closed", error))?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|error| AppError::internal("password hashing threads gone", error))?;
        let result = result
            .await
            .map_err(|error| AppError::internal("password hashing failed", error));
        drop(permit);
        result
    }
}

/// One slot per core of this machine.
static SLOTS: LazyLock<HashingSlots> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    HashingSlots::new(cores, QUEUE_WAIT)
});

pub async fn hash(password: NewPassword) -> Result<String, AppError> {
    SLOTS
        .run(move || hash_now(password.expose()))
        .await?
        .map_err(|error| AppError::internal("password hashing failed", error))
}

/// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    SLOTS
        .run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
            let parsed = PasswordHash::new(&stored)
                .map_err(|error| AppError::internal("stored password hash is unreadable", error))?;
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await?
}

/// Computes the dummy hash at start-up rather than on the first unknown email.
pub async fn warm_up() {
    let _ = SLOTS
        .run(|| {
            LazyLock::force(&DUMMY_HASH);
        })
        .await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_slots_and_the_excess_is_refused() {
        let slots = Arc::new(HashingSlots::new(2, Duration::from_millis(200)));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..6).map(|_| {
            let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                slots
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(150));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        });
        let mut done = 0;
        let mut busy = 0;
        for job in jobs.collect::<Vec<_>>() {
            match job.await.unwrap() {
                Ok(()) => done += 1,
                Err(AppError::Busy) => busy += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "at most two at once");
        assert!(done >= 2 && busy >= 2, "{done} ran, {busy} refused");
    }
}
