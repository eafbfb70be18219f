//! The database: one pool over SQLite or PostgreSQL through sqlx's `Any` driver, portable
//! SQL, and repositories (one module per table group). Tenant data is reached through a
//! [`TenantTx`], a transaction bound to one doctor, or, for the few lookups that must find a
//! row before knowing its doctor, through a [`Lookup`] by the key the caller holds. On
//! PostgreSQL row-level security enforces both in the database itself.

pub mod account_links;
pub mod appointments;
pub mod assistant;
pub mod audit;
pub mod availability;
pub mod conversations;
pub mod deliveries;
pub mod doctors;
pub mod instagram;
pub mod login_failures;
pub mod meta_connect;
pub mod methods;
pub mod outbox;
pub mod payments;
pub mod practice;
pub mod services;
pub mod sessions;
mod tenant;

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use tenant::{DoctorId, Lookup, TenantTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pools, and which database is behind them.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// Where writing transactions run. On SQLite, which takes one writer at a time, a pool of
    /// one connection: writers queue for it in order and start the moment it is free, instead
    /// of polling a locked file with SQLite's busy handler (which sleeps up to 100 ms a try).
    /// On PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("could not create the database directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("could not connect to the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects to `url` (creating a SQLite file and its directory if missing) after bringing
    /// the schema up to date through `migration_url`, the owner's connection (`None`: `url`
    /// itself). On PostgreSQL the app's own role should own nothing (row-level security).
    pub async fn connect(url: &str, migration_url: Option<&str>) -> Result<Self, ConnectError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = Self::prepare(backend, url)?;
        if let Some(owner_url) = migration_url.filter(|m| *m != url) {
            let owner = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&Self::prepare(backend, owner_url)?)
                .await?;
            Self::migrate(backend, &owner).await?;
            owner.close().await;
        }
        let pool = Self::open(
            backend,
            &url,
            match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            },
        )
        .await?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers no longer wait for the writer.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        if migration_url.is_none_or(|m| m == url) {
            Self::migrate(backend, &pool).await?;
        }
        let writer = match backend {
            Backend::Sqlite => Self::open(backend, &url, 1).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            backend,
        })
    }

    async fn open(backend: Backend, url: &str, connections: u32) -> Result<AnyPool, sqlx::Error> {
        AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
    }

    fn prepare(backend: Backend, url: &str) -> Result<String, ConnectError> {
        match backend {
            Backend::Postgres => Ok(url.to_owned()),
            Backend::Sqlite => prepare_sqlite_file(url),
        }
    }

    async fn migrate(backend: Backend, pool: &AnyPool) -> Result<(), ConnectError> {
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    /// For tables that belong to no doctor (log-in throttles, Meta's deletion requests).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Like [`Db::pool`], for writes on the hot path (webhook deliveries, the worker's claims):
    /// see `writer`.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Makes sure the SQLite file's directory exists and asks sqlx to create the file.
fn prepare_sqlite_file(url: &str) -> Result<String, ConnectError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| ConnectError::Directory(dir.display().to_string(), e))?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Now, as the database stores instants: UTC epoch milliseconds.
pub fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Whether the database refused a write because it would break a unique index.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Each row's `doctor_id`: the doctors a job found work for.
pub(crate) fn doctor_ids(rows: &[sqlx::any::AnyRow]) -> Result<Vec<DoctorId>, sqlx::Error> {
    use sqlx::Row;
    rows.iter()
        .map(|row| row.try_get("doctor_id").map(DoctorId::from_row))
        .collect()
}

/// Each row's `doctor_id` and `id`: the items of work a job found, with their doctors.
pub(crate) fn doctors_and_ids(
    rows: &[sqlx::any::AnyRow],
) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    use sqlx::Row;
    rows.iter()
        .map(|row| {
            Ok((
                DoctorId::from_row(row.try_get("doctor_id")?),
                row.try_get("id")?,
            ))
        })
        .collect()
}

/// A fresh id: UUIDv7 text, so ids sort by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
