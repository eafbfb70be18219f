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
/// `app.doctor_id` for the transaction, for row-level security policies to check.
pub struct TenantTx {
    tx: Transaction<'static, Any>,
    doctor: DoctorId,
}

impl Db {
    pub async fn tenant(&self, doctor: &DoctorId) -> Result<TenantTx, sqlx::Error> {
        self.begin_tenant(doctor, "BEGIN").await
    }

    /// Like [`Db::tenant`], for a transaction that writes (a booking, a saved setting): on
    /// SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so concurrent writers queue
    /// behind it (up to the busy timeout) instead of failing to upgrade a read lock.
    pub async fn tenant_writer(&self, doctor: &DoctorId) -> Result<TenantTx, sqlx::Error> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.begin_tenant(doctor, begin).await
    }

    async fn begin_tenant(
        &self,
        doctor: &DoctorId,
        begin: &'static str,
    ) -> Result<TenantTx, sqlx::Error> {
        let mut tx = self.pool.begin_with(begin).await?;
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

impl TenantTx {
    /// The connection and the doctor together, for a repository query.
    pub(crate) fn parts(&mut self) -> (&mut AnyConnection, &DoctorId) {
        (&mut self.tx, &self.doctor)
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
