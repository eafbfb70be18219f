use std::fmt;

use sqlx::{Any, AnyConnection, Transaction};

use super::{Backend, Db};

/// The doctor whose data a request may touch. Made only from a stored session (or, later, the
/// stored Instagram link); never from anything a client sends.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DoctorId(String);

impl DoctorId {
    /// Wraps an id read back from the database.
    pub(crate) fn from_row(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DoctorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DoctorId({})", self.0)
    }
}

impl fmt::Display for DoctorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A transaction that may only see one doctor's rows. Repository functions for tenant data
/// take it and filter by the doctor it carries; on PostgreSQL the doctor is also set as
/// `app.doctor_id` for the transaction, and the row-level security policies show and accept
/// that doctor's rows only, whatever a query's own filter says.
pub struct TenantTx {
    tx: Transaction<'static, Any>,
    doctor: DoctorId,
}

impl Db {
    pub async fn tenant(&self, doctor: &DoctorId) -> Result<TenantTx, sqlx::Error> {
        self.begin_tenant(&self.pool, doctor, "BEGIN").await
    }

    /// Like [`Db::tenant`], for a transaction that writes (a booking, a saved setting): on
    /// SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so concurrent writers queue
    /// behind it (up to the busy timeout) instead of failing to upgrade a read lock.
    pub async fn tenant_writer(&self, doctor: &DoctorId) -> Result<TenantTx, sqlx::Error> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.begin_tenant(&self.writer, doctor, begin).await
    }

    async fn begin_tenant(
        &self,
        pool: &sqlx::AnyPool,
        doctor: &DoctorId,
        begin: &'static str,
    ) -> Result<TenantTx, sqlx::Error> {
        let mut tx = pool.begin_with(begin).await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config('app.doctor_id', $1, true)")
                .bind(doctor.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok(TenantTx {
            tx,
            doctor: doctor.clone(),
        })
    }
}

/// The lookups that find a row before its doctor is known, each by a key the caller holds. On
/// PostgreSQL each key is a setting of its own, and the row-level security policies show
/// another doctor's row only where it matches that key: a lookup by a session's hash sees that
/// session and nothing else. Every use is listed in the README ("Database").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The session whose token hashes to the key (the request guard, log-out).
    SessionHash,
    /// The doctor with this email (log-in).
    LoginEmail,
    /// The login dialog in progress whose state hashes to the key (Meta's callback).
    ConnectState,
    /// The link of this Instagram account or Facebook Page id (routing Meta's deliveries,
    /// refusing an account another doctor linked).
    MetaAccount,
    /// The links and offered accounts of this Facebook user (Meta's app callbacks).
    MetaUser,
    /// Every doctor's unpaid holds (the sweeper); the key is `on`.
    LapsedHolds,
    /// Every doctor's link (the daily token check, re-sealing tokens); the key is `on`.
    EveryLink,
    /// Every doctor's offered accounts (housekeeping deletes lapsed offers); the key is `on`.
    LapsedOffers,
    /// Every doctor's conversations and pending events (the inbox worker claims work, then
    /// applies each event in its doctor's own transaction; the profile lookup claims
    /// conversations likewise); the key is `on`.
    InboxWork,
    /// Every doctor's conversations with messages to send (the sender claims them, then
    /// sends each message in its doctor's own transaction); the key is `on`.
    OutboxWork,
    /// The payment account whose webhook path segment is the key (a provider's delivery).
    PaymentWebhook,
    /// Every doctor's payments and provider events with work due (the payments job claims
    /// them, then does each in its doctor's own transaction); the key is `on`.
    PaymentWork,
    /// The mailed link whose token hashes to the key (the link's page).
    AccountLink,
}

impl Lookup {
    fn setting(self) -> &'static str {
        match self {
            Self::SessionHash => "app.session_hash",
            Self::LoginEmail => "app.login_email",
            Self::ConnectState => "app.connect_state",
            Self::MetaAccount => "app.meta_account",
            Self::MetaUser => "app.meta_user",
            Self::LapsedHolds => "app.lapsed_holds",
            Self::EveryLink => "app.every_link",
            Self::LapsedOffers => "app.lapsed_offers",
            Self::InboxWork => "app.inbox_work",
            Self::OutboxWork => "app.outbox_work",
            Self::PaymentWebhook => "app.payment_webhook",
            Self::PaymentWork => "app.payment_work",
            Self::AccountLink => "app.account_link",
        }
    }
}

impl Db {
    /// A transaction for one [`Lookup`] by `key`.
    pub(crate) async fn lookup(
        &self,
        lookup: Lookup,
        key: &str,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.begin_lookup(&self.pool, lookup, key).await
    }

    /// Like [`Db::lookup`], for a lookup that writes (the worker's and sender's claims).
    pub(crate) async fn lookup_writer(
        &self,
        lookup: Lookup,
        key: &str,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.begin_lookup(&self.writer, lookup, key).await
    }

    async fn begin_lookup(
        &self,
        pool: &sqlx::AnyPool,
        lookup: Lookup,
        key: &str,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config($1, $2, true)")
                .bind(lookup.setting())
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

impl TenantTx {
    /// The connection and the doctor together, for a repository query.
    pub(crate) fn parts(&mut self) -> (&mut AnyConnection, &DoctorId) {
        (&mut self.tx, &self.doctor)
    }

    pub fn doctor(&self) -> &DoctorId {
        &self.doctor
    }

    /// Runs `SAVEPOINT x`, `ROLLBACK TO SAVEPOINT x` or `RELEASE SAVEPOINT x`: a part of the
    /// transaction that may fail alone (on PostgreSQL a failed statement otherwise spoils the
    /// whole transaction).
    pub async fn savepoint(&mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        sqlx::query(statement)
            .execute(&mut *self.tx)
            .await
            .map(drop)
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
