//! Patients and appointments. Two appointments of one doctor that occupy their time never
//! overlap: a trigger (SQLite) or an exclusion constraint (PostgreSQL) refuses the second,
//! whatever the code above does; [`is_overlap`] recognises that refusal.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_millis, Db, DoctorId, Lookup, TenantTx};
use crate::domain::appointments::{check_change, PatientInput, Source, Status, Timing};
use crate::domain::methods::AppointmentMethod;
use crate::domain::slots::Interval;

/// An appointment with the names the dashboard shows beside it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAppointment {
    pub id: String,
    pub patient_id: String,
    /// The name typed for this booking.
    pub patient_name: String,
    /// The name on the patient's record, which a booking never changes.
    pub patient_on_file: String,
    pub patient_phone: Option<String>,
    /// The note typed for this booking.
    pub note: Option<String>,
    pub service_id: String,
    pub service_name: String,
    pub method: AppointmentMethod,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: Status,
    pub fee_minor: i64,
    pub currency: String,
    pub source: Source,
    pub hold_expires_at: Option<i64>,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
}

/// Ids and times only: a patient's name, phone and note stay out of logs.
impl std::fmt::Debug for StoredAppointment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAppointment")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("service_id", &self.service_id)
            .field("starts_at", &self.starts_at)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl StoredAppointment {
    /// What a status change is checked against, at `now`.
    pub fn timing(&self, now: i64) -> Timing {
        Timing {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            hold_expires_at: self.hold_expires_at,
            now,
        }
    }
}

/// A booking about to be written; its slot was checked in the same transaction.
#[derive(Clone)]
pub struct NewAppointment<'a> {
    pub patient_id: &'a str,
    pub patient: &'a PatientInput,
    pub service_id: &'a str,
    pub method: AppointmentMethod,
    pub span: Interval,
    /// The end plus the practice's gap: no other appointment may start before it.
    pub clear_until: i64,
    pub status: Status,
    pub fee_minor: i64,
    pub currency: &'a str,
    pub source: Source,
    pub hold_expires_at: Option<i64>,
}

/// Whether the database refused a write because two appointments would overlap.
pub fn is_overlap(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            e.code().as_deref() == Some("23P01") || e.message().contains("appointment_overlap")
        }
        _ => false,
    }
}

/// The doctor's patient with this phone number; a new patient (with the name and note typed
/// now) when the doctor has none. An existing patient's record is left as it is: what was
/// typed for this booking is kept with the appointment.
pub async fn patient_by_phone(
    tx: &mut TenantTx,
    patient: &PatientInput,
) -> Result<String, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO patients (id, doctor_id, name, phone, note, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (doctor_id, phone) WHERE phone IS NOT NULL DO NOTHING",
    )
    .bind(new_id())
    .bind(doctor.as_str())
    .bind(&patient.name)
    .bind(patient.phone.as_str())
    .bind(patient.note.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT id FROM patients WHERE doctor_id = $1 AND phone = $2")
        .bind(doctor.as_str())
        .bind(patient.phone.as_str())
        .fetch_one(conn)
        .await?
        .try_get("id")
}

pub async fn insert(tx: &mut TenantTx, new: &NewAppointment<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    let now = now_millis();
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "INSERT INTO appointments (id, doctor_id, patient_id, service_id, method, starts_at,
             ends_at, clear_until, status, fee_minor, currency, source, hold_expires_at,
             created_at, updated_at, patient_name, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)",
    )
    .bind(&id)
    .bind(doctor.as_str())
    .bind(new.patient_id)
    .bind(new.service_id)
    .bind(new.method.key())
    .bind(new.span.start)
    .bind(new.span.end)
    .bind(new.clear_until)
    .bind(new.status.key())
    .bind(new.fee_minor)
    .bind(new.currency)
    .bind(new.source.key())
    .bind(new.hold_expires_at)
    .bind(now)
    .bind(&new.patient.name)
    .bind(new.patient.note.as_deref())
    .execute(conn)
    .await?;
    Ok(id)
}

/// The time taken between `from` and `to`: from the start to `clear_until` of every
/// appointment that occupies its time (the span the overlap rule compares), except holds
/// whose expiry has passed by `now` (free again even before the sweeper marks them).
pub async fn busy(
    tx: &mut TenantTx,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Vec<Interval>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(
        "SELECT starts_at, clear_until FROM appointments
         WHERE doctor_id = $1 AND status NOT IN ('cancelled', 'expired')
           AND (hold_expires_at IS NULL OR hold_expires_at > $2
                OR status NOT IN ('held', 'pending_payment'))
           AND starts_at < $4 AND clear_until > $3",
    )
    .bind(doctor.as_str())
    .bind(now)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Interval {
                start: row.try_get("starts_at")?,
                end: row.try_get("clear_until")?,
            })
        })
        .collect()
}

/// Lapsed holds of this doctor whose occupied time overlaps `span`; the booking transaction expires them
/// before taking their time.
pub async fn lapsed_overlapping(
    tx: &mut TenantTx,
    span: Interval,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let rows = sqlx::query(
        "SELECT id FROM appointments
         WHERE doctor_id = $1 AND status IN ('held', 'pending_payment')
           AND hold_expires_at <= $2 AND starts_at < $4 AND clear_until > $3",
    )
    .bind(doctor.as_str())
    .bind(now)
    .bind(span.start)
    .bind(span.end)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| row.try_get("id")).collect()
}

/// Marks one lapsed hold expired, in the caller's transaction; audited. Whether it was (a
/// hold that has not lapsed, or is no longer a hold, is left as it is).
pub async fn expire(
    tx: &mut TenantTx,
    id: &str,
    now: i64,
    request_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let Some(current) = get(tx, id).await? else {
        return Ok(false);
    };
    let timing = current.timing(now);
    let expired = check_change(current.status, Status::Expired, timing).is_ok()
        && set_status(tx, id, current.status, Status::Expired, None).await?;
    if expired {
        let fields = [format!("status:{}", current.status.key())];
        super::audit::record_about(tx, "appointment.expired", Some(id), &fields, request_id)
            .await?;
    }
    Ok(expired)
}

/// Every doctor's lapsed holds, for the sweeper: `(doctor, appointment id)`. Holds whose
/// payment link is still out are left to the payments job, which asks the provider first.
pub async fn all_lapsed(db: &Db, now: i64) -> Result<Vec<(DoctorId, String)>, sqlx::Error> {
    let mut tx = db.lookup(Lookup::LapsedHolds, "on").await?;
    let rows = sqlx::query(
        "SELECT a.doctor_id, a.id FROM appointments a
         WHERE a.status IN ('held', 'pending_payment') AND a.hold_expires_at <= $1
           AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.doctor_id = a.doctor_id
               AND p.appointment_id = a.id AND p.status IN ('creating', 'open'))
         ORDER BY a.hold_expires_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    super::doctors_and_ids(&rows)
}

const SELECT: &str = "SELECT a.id, a.patient_id, a.patient_name, p.name AS patient_on_file,
        p.phone AS patient_phone, a.note, a.service_id, s.name AS service_name, a.method, a.starts_at,
        a.ends_at, a.status, a.fee_minor, a.currency, a.source, a.hold_expires_at,
        a.cancel_reason, a.created_at
    FROM appointments a
    JOIN patients p ON p.id = a.patient_id AND p.doctor_id = a.doctor_id
    JOIN services s ON s.id = a.service_id AND s.doctor_id = a.doctor_id";

fn read(row: &AnyRow) -> Result<StoredAppointment, sqlx::Error> {
    let unknown = |column: &str, value: String| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unknown value {value:?}").into(),
    };
    let method: String = row.try_get("method")?;
    let status: String = row.try_get("status")?;
    let source: String = row.try_get("source")?;
    Ok(StoredAppointment {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        patient_name: row.try_get("patient_name")?,
        patient_on_file: row.try_get("patient_on_file")?,
        patient_phone: row.try_get("patient_phone")?,
        note: row.try_get("note")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        method: AppointmentMethod::from_key(&method).ok_or_else(|| unknown("method", method))?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        status: Status::from_key(&status).ok_or_else(|| unknown("status", status))?,
        fee_minor: row.try_get("fee_minor")?,
        currency: row.try_get("currency")?,
        source: Source::from_key(&source).ok_or_else(|| unknown("source", source))?,
        hold_expires_at: row.try_get("hold_expires_at")?,
        cancel_reason: row.try_get("cancel_reason")?,
        created_at: row.try_get("created_at")?,
    })
}

/// One of the doctor's appointments; `None` for another doctor's id as for an unknown one.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<StoredAppointment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!("{SELECT} WHERE a.doctor_id = $1 AND a.id = $2"))
        .bind(doctor.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(read)
        .transpose()
}

/// The doctor's appointments that end after `from` and start before `to`, in time order.
pub async fn between(
    tx: &mut TenantTx,
    from: i64,
    to: i64,
) -> Result<Vec<StoredAppointment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "{SELECT} WHERE a.doctor_id = $1 AND a.ends_at > $2 AND a.starts_at < $3
         ORDER BY a.starts_at, a.id LIMIT 2000"
    ))
    .bind(doctor.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?
    .iter()
    .map(read)
    .collect()
}

/// Moves an appointment from `from` to `to`; `false` if it was no longer in `from` (another
/// change got there first).
pub async fn set_status(
    tx: &mut TenantTx,
    id: &str,
    from: Status,
    to: Status,
    cancel_reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    let result = sqlx::query(
        "UPDATE appointments SET status = $4, cancel_reason = COALESCE($5, cancel_reason),
             updated_at = $6
         WHERE doctor_id = $1 AND id = $2 AND status = $3",
    )
    .bind(doctor.as_str())
    .bind(id)
    .bind(from.key())
    .bind(to.key())
    .bind(cancel_reason)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives the patient record `patient_id` the phone typed for a booking, unless it has one or
/// another of the doctor's patients has that number.
pub async fn give_phone(
    tx: &mut TenantTx,
    patient_id: &str,
    patient: &PatientInput,
) -> Result<(), sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(
        "UPDATE patients SET phone = $3, updated_at = $4
         WHERE doctor_id = $1 AND id = $2 AND phone IS NULL
           AND NOT EXISTS (SELECT 1 FROM patients o WHERE o.doctor_id = $1 AND o.phone = $3)",
    )
    .bind(doctor.as_str())
    .bind(patient_id)
    .bind(patient.phone.as_str())
    .bind(now_millis())
    .execute(conn)
    .await
    .map(drop)
}

/// The patient's appointments that start after `now` and keep their time, soonest first.
pub async fn upcoming_for_patient(
    tx: &mut TenantTx,
    patient_id: &str,
    now: i64,
) -> Result<Vec<StoredAppointment>, sqlx::Error> {
    let (conn, doctor) = tx.parts();
    sqlx::query(&format!(
        "{SELECT} WHERE a.doctor_id = $1 AND a.patient_id = $2 AND a.starts_at > $3
             AND a.status IN ('held', 'pending_payment', 'confirmed')
         ORDER BY a.starts_at, a.id LIMIT 20"
    ))
    .bind(doctor.as_str())
    .bind(patient_id)
    .bind(now)
    .fetch_all(conn)
    .await?
    .iter()
    .map(read)
    .collect()
}
