//! Holds, driven through the booking functions with a clock the test moves: a held time is
//! taken until the hold's expiry and free from that moment, before any sweeper has run; the
//! sweeper then marks lapsed holds expired, audited; a lapsed hold cannot be confirmed.

mod common;

use clariva::booking::ssr::{self as booking, BookingRequest};
use clariva::db::appointments::StoredAppointment;
use clariva::db::{self, Db, DoctorId};
use clariva::domain::account::Email;
use clariva::domain::appointments::{PatientInput, Source, Status};
use clariva::domain::methods::AppointmentMethod;
use clariva::error::AppError;
use common::{audit_actions, open_practice, Backend, OpenPractice, TestApp};
use sqlx::Row;

on_both_databases!(
    a_hold_keeps_its_time_until_it_lapses_then_frees_it_at_once,
    the_sweeper_marks_lapsed_holds_expired_and_audits_it,
    a_lapsed_hold_cannot_be_confirmed,
);

const MINUTE: i64 = 60_000;
/// `open_practice` holds unpaid bookings for 15 minutes.
const HOLD: i64 = 15 * MINUTE;

struct Clinic {
    app: TestApp,
    db: Db,
    doctor: DoctorId,
    services: OpenPractice,
    patient: PatientInput,
}

async fn clinic(backend: Backend) -> Clinic {
    let app = TestApp::spawn(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    let services = open_practice(&app, &app.client).await;
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let doctor = db::doctors::credentials(&db, &Email::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .doctor_id;
    let patient = PatientInput::parse("Meera Iyer", "+919876543210", "", "").unwrap();
    Clinic {
        app,
        db,
        doctor,
        services,
        patient,
    }
}

impl Clinic {
    fn request(&self, starts_at: i64, status: Status) -> BookingRequest<'_> {
        BookingRequest {
            service_id: &self.services.consultation,
            method: Some(AppointmentMethod::Voice),
            starts_at,
            patient: &self.patient,
            patient_id: None,
            status,
            source: Source::AssistantPreview,
            hold: booking::Hold::AsSet,
        }
    }

    /// Free start times of the consultation at `now`.
    async fn free_at(&self, now: i64) -> Vec<i64> {
        let mut tx = self.db.tenant(&self.doctor).await.unwrap();
        let practice = booking::practice(&mut tx).await.unwrap();
        let free = booking::slots(&mut tx, &practice, 30, now).await.unwrap();
        free.slots.iter().map(|s| s.start).collect()
    }

    /// A free time a day from `now`, well clear of notice and of the clock moving.
    async fn tomorrow(&self, now: i64) -> i64 {
        let free = self.free_at(now).await;
        *free.iter().find(|s| **s > now + 24 * 60 * MINUTE).unwrap()
    }

    /// Holds (or books) tomorrow's first free time now; when "now" was and the appointment.
    async fn book_tomorrow(&self, status: Status) -> (i64, StoredAppointment) {
        let now = db::now_millis();
        let at = self.tomorrow(now).await;
        let booked = booking::book(&self.db, &self.doctor, &self.request(at, status), now, None)
            .await
            .unwrap();
        (now, booked)
    }

    async fn status(&self, id: &str) -> String {
        let mut conn = self.db_conn().await;
        sqlx::query("SELECT status FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("status")
    }

    async fn db_conn(&self) -> sqlx::AnyConnection {
        use sqlx::Connection;
        sqlx::AnyConnection::connect(&self.app.database.url)
            .await
            .unwrap()
    }
}

async fn a_hold_keeps_its_time_until_it_lapses_then_frees_it_at_once(backend: Backend) {
    let clinic = clinic(backend).await;
    let (now, held) = clinic.book_tomorrow(Status::Held).await;
    let at = held.starts_at;
    assert_eq!(held.status, Status::Held);
    assert_eq!(held.hold_expires_at, Some(now + HOLD));
    assert_eq!(held.source, Source::AssistantPreview);

    // A millisecond before the expiry the time is taken...
    let before = now + HOLD - 1;
    assert!(!clinic.free_at(before).await.contains(&at));
    let refused = booking::book(
        &clinic.db,
        &clinic.doctor,
        &clinic.request(at, Status::Confirmed),
        before,
        None,
    )
    .await;
    assert!(
        matches!(refused, Err(AppError::SlotTaken(_))),
        "{refused:?}"
    );

    // ...and at the expiry it is free, though nothing has marked the hold expired yet.
    let lapsed = now + HOLD;
    assert!(clinic.free_at(lapsed).await.contains(&at));
    assert_eq!(clinic.status(&held.id).await, "held");
    let taken = booking::book(
        &clinic.db,
        &clinic.doctor,
        &clinic.request(at, Status::Confirmed),
        lapsed,
        None,
    )
    .await
    .unwrap();
    assert_eq!(taken.status, Status::Confirmed);
    assert_eq!(taken.hold_expires_at, None);
    // Taking its time expired the old hold in the same transaction.
    assert_eq!(clinic.status(&held.id).await, "expired");
}

async fn the_sweeper_marks_lapsed_holds_expired_and_audits_it(backend: Backend) {
    let clinic = clinic(backend).await;
    let (now, held) = clinic.book_tomorrow(Status::PendingPayment).await;
    assert_eq!(
        booking::expire_lapsed(&clinic.db, now + HOLD - 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(clinic.status(&held.id).await, "pending_payment");
    assert_eq!(
        booking::expire_lapsed(&clinic.db, now + HOLD)
            .await
            .unwrap(),
        1
    );
    assert_eq!(clinic.status(&held.id).await, "expired");
    assert_eq!(
        booking::expire_lapsed(&clinic.db, now + HOLD)
            .await
            .unwrap(),
        0,
        "done once"
    );

    assert_eq!(
        audit_actions(&clinic.app.database.url, &held.id).await,
        ["appointment.booked", "appointment.expired"]
    );
}

async fn a_lapsed_hold_cannot_be_confirmed(backend: Backend) {
    let clinic = clinic(backend).await;
    let (now, held) = clinic.book_tomorrow(Status::Held).await;
    let late = booking::change_status(
        &clinic.db,
        &clinic.doctor,
        &held.id,
        Status::Confirmed,
        None,
        now + HOLD,
        None,
    )
    .await;
    assert_eq!(
        late,
        Err(AppError::Conflict(
            "Its hold has lapsed; book the time again.".into()
        ))
    );
    let in_time = booking::change_status(
        &clinic.db,
        &clinic.doctor,
        &held.id,
        Status::Confirmed,
        None,
        now + HOLD - 1,
        None,
    )
    .await
    .unwrap();
    assert_eq!(in_time.status, Status::Confirmed);
    // Confirmed, it no longer lapses.
    assert_eq!(
        booking::expire_lapsed(&clinic.db, now + 2 * HOLD)
            .await
            .unwrap(),
        0
    );
}
