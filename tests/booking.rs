//! Booking over HTTP: free times, manual booking, the slot gone once booked and back once
//! cancelled, status changes by the rules, bad input, another doctor's appointments out of
//! reach, and races: 50 bookings of one time for one doctor make one appointment; 50 doctors
//! booking the same time all succeed. The database's own refusal of overlaps is checked with
//! raw SQL.

mod common;

use common::{audit_actions, open_practice, save_hours, Backend, OpenPractice, TestApp};
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Row};

on_both_databases!(
    free_times_list_every_day_and_the_times_of_one,
    a_booked_time_is_gone_until_the_appointment_is_cancelled,
    bad_bookings_are_refused_field_by_field,
    status_changes_follow_the_rules_and_are_audited,
    another_doctors_appointments_are_out_of_reach,
    appointments_need_a_session,
    booking_waits_for_the_practice_to_be_set_up,
    fifty_bookings_of_one_time_make_one_appointment,
    fifty_doctors_booking_the_same_time_all_succeed,
    the_database_itself_refuses_overlapping_appointments,
    a_changed_gap_offers_only_times_that_can_be_booked,
    a_booking_under_a_known_phone_does_not_rename_the_patient,
    an_appointment_cannot_point_at_another_doctors_patient_or_service,
);

async fn free(app: &TestApp, browser: &Client, service: &str, day: &str) -> Value {
    let response = app
        .call_from(
            browser,
            "appointments/free",
            &[("service", service), ("day", day)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The first free start time of a service, as the form sends it.
async fn first_free(app: &TestApp, browser: &Client, service: &str) -> String {
    first_free_on(app, browser, service, 0).await
}

/// The first free start time on the `day`-th day of the horizon (0: the first with any).
async fn first_free_on(app: &TestApp, browser: &Client, service: &str, day: usize) -> String {
    let date = match day {
        0 => String::new(),
        n => free(app, browser, service, "").await["days"][n]["date"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    free(app, browser, service, &date).await["times"][0]["starts_at"]
        .as_i64()
        .unwrap()
        .to_string()
}

async fn book(
    app: &TestApp,
    browser: &Client,
    service: &str,
    method: &str,
    starts_at: &str,
    phone: &str,
) -> reqwest::Response {
    book_named(
        app,
        browser,
        service,
        method,
        starts_at,
        "Meera Iyer",
        phone,
    )
    .await
}

async fn book_named(
    app: &TestApp,
    browser: &Client,
    service: &str,
    method: &str,
    starts_at: &str,
    name: &str,
    phone: &str,
) -> reqwest::Response {
    let form = [
        ("service", service),
        ("method", method),
        ("starts_at", starts_at),
        ("patient_name", name),
        ("patient_phone", phone),
        ("phone_country", "IN"),
        ("note", "Prefers mornings"),
    ];
    app.call_from(browser, "appointments/book", &form).await
}

/// Books a voice call for the signed-in doctor, which must succeed; the appointment.
async fn booked(app: &TestApp, service: &str, starts_at: &str) -> Value {
    let response = book(
        app,
        &app.client,
        service,
        "voice",
        starts_at,
        "+919876543210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn change(
    app: &TestApp,
    browser: &Client,
    id: &str,
    status: &str,
    reason: &str,
) -> reqwest::Response {
    app.call_from(
        browser,
        "appointments/change",
        &[("id", id), ("status", status), ("reason", reason)],
    )
    .await
}

async fn list(app: &TestApp, browser: &Client, status: &str) -> Vec<Value> {
    let response = app
        .call_from(browser, "appointments", &[("week", ""), ("status", status)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["list"].as_array().unwrap().clone()
}

async fn practice(backend: Backend) -> (TestApp, OpenPractice) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let services = open_practice(&app, &app.client).await;
    (app, services)
}

async fn free_times_list_every_day_and_the_times_of_one(backend: Backend) {
    let (app, services) = practice(backend).await;
    let first = free(&app, &app.client, &services.consultation, "").await;
    // No service named: the first one the doctor offers (the consultation).
    assert_eq!(free(&app, &app.client, "", "").await, first);
    let days = first["days"].as_array().unwrap();
    assert_eq!(days.len(), 8, "today and the 7 days of the horizon");
    // The first day with a free time (late in the day, today may have none left).
    let first_free = days.iter().find(|d| d["free"].as_u64() > Some(0)).unwrap();
    assert_eq!(first["day"], first_free["date"]);
    let times = first["times"].as_array().unwrap();
    assert!(!times.is_empty());
    let starts: Vec<i64> = times
        .iter()
        .map(|t| t["starts_at"].as_i64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[1] - w[0] == 30 * 60_000),
        "a 30-minute grid"
    );
    assert!(times[0]["label"].as_str().unwrap().len() == 5, "HH:MM");

    // A whole day of 30-minute times, and fewer of 90 minutes.
    let second_day = days[1]["date"].as_str().unwrap();
    let full = free(&app, &app.client, &services.consultation, second_day).await;
    assert_eq!(full["times"].as_array().unwrap().len(), 48);
    assert_eq!(full["days"][1]["free"], 48);
    let long = free(&app, &app.client, &services.long_review, second_day).await;
    assert_eq!(long["times"].as_array().unwrap().len(), 16);
    assert_eq!(long["times"][1]["label"], "01:30");

    let unknown = app
        .call(
            "appointments/free",
            &[("service", "no-such-service"), ("day", "")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_day = app
        .call(
            "appointments/free",
            &[("service", &services.consultation), ("day", "tomorrow")],
        )
        .await;
    assert_eq!(bad_day.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_booked_time_is_gone_until_the_appointment_is_cancelled(backend: Backend) {
    let (app, services) = practice(backend).await;
    // A start on both services' grids (90 is a multiple of 30, both from midnight).
    let starts_at = first_free(&app, &app.client, &services.long_review).await;
    let response = book(
        &app,
        &app.client,
        &services.consultation,
        "voice",
        &starts_at,
        "098765 43210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let booked: Value = response.json().await.unwrap();
    assert_eq!(booked["status"], "Confirmed");
    assert_eq!(booked["fee"], "500.00 INR");
    assert_eq!(booked["method"], "Voice call");
    assert_eq!(booked["patient_phone"], "+919876543210");
    assert_eq!(booked["source"], "Dashboard");
    let id = booked["id"].as_str().unwrap().to_owned();

    // Gone from the free times, listed and on this week's calendar.
    let day = booked["date"].as_str().unwrap().to_owned();
    let after = free(&app, &app.client, &services.consultation, &day).await;
    let offered = |times: &Value| {
        times["times"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["starts_at"].as_i64().unwrap().to_string() == starts_at)
    };
    assert!(!offered(&after));
    let upcoming = list(&app, &app.client, "upcoming").await;
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0]["id"], id.as_str());

    // The same time again, even by another service that would overlap it: refused, with
    // free times nearby.
    for service in [&services.consultation, &services.long_review] {
        let again = book(
            &app,
            &app.client,
            service,
            "voice",
            &starts_at,
            "+919812345678",
        )
        .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let body: Value = again.json().await.unwrap();
        let nearby = body["SlotTaken"].as_array().unwrap();
        assert!(!nearby.is_empty() && nearby.len() <= 3);
        assert!(nearby
            .iter()
            .all(|s| s["starts_at"].as_i64().unwrap().to_string() != starts_at));
    }

    let cancelled = change(
        &app,
        &app.client,
        &id,
        "cancelled",
        "Patient asked to move it",
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["cancel_reason"],
        "Patient asked to move it"
    );
    let reopened = free(&app, &app.client, &services.consultation, &day).await;
    assert!(offered(&reopened));
    assert!(list(&app, &app.client, "upcoming").await.is_empty());
    assert_eq!(list(&app, &app.client, "cancelled").await.len(), 1);
    // Booking it again works, and the patient (same phone) is the same record.
    let rebooked = book(
        &app,
        &app.client,
        &services.consultation,
        "text",
        &starts_at,
        "+91 98765 43210",
    )
    .await;
    assert_eq!(rebooked.status(), StatusCode::OK);
    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    let patients: i64 = sqlx::query("SELECT COUNT(*) AS n FROM patients")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get("n");
    assert_eq!(patients, 1);
}

async fn bad_bookings_are_refused_field_by_field(backend: Backend) {
    let (app, services) = practice(backend).await;
    let starts_at = first_free(&app, &app.client, &services.consultation).await;
    let off_grid = (starts_at.parse::<i64>().unwrap() + 60_000).to_string();
    let past = "1000000000000";
    let cases: [(&str, &str, &str, &str, &str); 6] = [
        (
            &services.consultation,
            "voice",
            &off_grid,
            "+919876543210",
            "starts_at",
        ),
        (
            &services.consultation,
            "voice",
            past,
            "+919876543210",
            "starts_at",
        ),
        (
            &services.consultation,
            "voice",
            "soon",
            "+919876543210",
            "starts_at",
        ),
        (
            &services.long_review,
            "text",
            &starts_at,
            "+919876543210",
            "method",
        ),
        (
            "no-such-service",
            "voice",
            &starts_at,
            "+919876543210",
            "service",
        ),
        (
            &services.consultation,
            "voice",
            &starts_at,
            "12ab",
            "patient_phone",
        ),
    ];
    for (service, method, at, phone, field) in cases {
        let response = book(&app, &app.client, service, method, at, phone).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let body: Value = response.json().await.unwrap();
        assert!(body["Invalid"][field].is_string(), "{field}: {body}");
    }
    let nameless = app
        .call(
            "appointments/book",
            &[
                ("service", &services.consultation),
                ("method", "voice"),
                ("starts_at", &starts_at),
                ("patient_name", "  "),
                ("patient_phone", ""),
                ("phone_country", ""),
                ("note", ""),
            ],
        )
        .await;
    let body: Value = nameless.json().await.unwrap();
    assert!(
        body["Invalid"]["patient_name"].is_string() && body["Invalid"]["patient_phone"].is_string()
    );
    assert!(
        list(&app, &app.client, "all").await.is_empty(),
        "nothing was booked"
    );
}

async fn status_changes_follow_the_rules_and_are_audited(backend: Backend) {
    let (app, services) = practice(backend).await;
    // Two days ahead, so it has certainly not started.
    let starts_at = first_free_on(&app, &app.client, &services.consultation, 2).await;
    let booked = booked(&app, &services.consultation, &starts_at).await;
    let id = booked["id"].as_str().unwrap();
    assert_eq!(
        booked["actions"],
        serde_json::json!(["Cancelled"]),
        "not started: only cancel"
    );

    let early = change(&app, &app.client, id, "completed", "").await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_eq!(
        early.json::<Value>().await.unwrap()["Conflict"],
        "It can be marked completed once it has started."
    );
    for not_a_doctors_change in ["expired", "held", "pending_payment", "booked"] {
        let response = change(&app, &app.client, id, not_a_doctors_change, "").await;
        assert_eq!(
            response.status(),
            StatusCode::CONFLICT,
            "{not_a_doctors_change}"
        );
    }
    let no_reason = change(&app, &app.client, id, "cancelled", " ").await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        change(&app, &app.client, id, "cancelled", "Doctor unwell")
            .await
            .status(),
        StatusCode::OK
    );
    let again = change(&app, &app.client, id, "confirmed", "").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<Value>().await.unwrap()["Conflict"],
        "A cancelled appointment cannot be changed."
    );

    assert_eq!(
        audit_actions(&app.database.url, id).await,
        ["appointment.booked", "appointment.cancelled"]
    );
}

async fn another_doctors_appointments_are_out_of_reach(backend: Backend) {
    let (app, services) = practice(backend).await;
    let starts_at = first_free(&app, &app.client, &services.consultation).await;
    let booked = booked(&app, &services.consultation, &starts_at).await;
    let id = booked["id"].as_str().unwrap();

    let other = app.other_browser();
    app.new_doctor(&other, "Kabir Shah").await;
    let own = open_practice(&app, &other).await;
    assert!(list(&app, &other, "all").await.is_empty());
    let response = change(&app, &other, id, "cancelled", "Not mine to cancel").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // A's service id means nothing to B, for free times and for booking.
    let response = app
        .call_from(
            &other,
            "appointments/free",
            &[("service", &services.consultation), ("day", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = book(
        &app,
        &other,
        &services.consultation,
        "voice",
        &starts_at,
        "+919876543210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // B's own calendar is free at A's booked time: doctors do not share time.
    let response = book(
        &app,
        &other,
        &own.consultation,
        "voice",
        &starts_at,
        "+919876543210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(list(&app, &app.client, "all").await.len(), 1);
    // B's booking form offers B's services only.
    let options: Value = app.read_from(&other, "appointments/options").await;
    let offered: Vec<&str> = options["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        [own.consultation.as_str(), own.long_review.as_str()]
    );
    let agenda: Value = app.read_from(&other, "appointments/agenda").await;
    let theirs = agenda["today"]
        .as_array()
        .unwrap()
        .iter()
        .chain(agenda["next"].as_array().unwrap());
    assert!(theirs.into_iter().all(|a| a["id"] != id));
}

async fn appointments_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in [
        "appointments",
        "appointments/agenda",
        "appointments/options",
        "appointments/free",
        "appointments/book",
        "appointments/change",
    ] {
        assert_eq!(
            app.call(function, &[]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{function}"
        );
    }
    assert_eq!(
        app.get("/dashboard/appointments").await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn booking_waits_for_the_practice_to_be_set_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let options = app.read_from(&app.client, "appointments/options").await;
    assert!(options["missing"]
        .as_str()
        .unwrap()
        .contains("weekly hours"));
    let agenda = app.read_from(&app.client, "appointments/agenda").await;
    assert_eq!(agenda["today"], serde_json::json!([]));
    let response = app
        .call("appointments/free", &[("service", "x"), ("day", "")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    open_practice(&app, &app.client).await;
    let options = app.read_from(&app.client, "appointments/options").await;
    assert_eq!(options["missing"], Value::Null);
    assert_eq!(options["services"].as_array().unwrap().len(), 2);
    assert_eq!(options["services"][1]["methods"][0]["fee"], "500.00 INR");
}

async fn fifty_bookings_of_one_time_make_one_appointment(backend: Backend) {
    let (app, services) = practice(backend).await;
    let starts_at = first_free(&app, &app.client, &services.long_review).await;
    // Half ask for 30 minutes, half for 90, all from the same start: every pair overlaps.
    let attempts = (0..50).map(|n| {
        let service = if n % 2 == 0 {
            &services.consultation
        } else {
            &services.long_review
        };
        let phone = format!("+9198765{n:05}");
        let (app, starts_at) = (&app, &starts_at);
        async move { book(app, &app.client, service, "voice", starts_at, &phone).await }
    });
    let responses = join_all(attempts).await;
    let mut won = 0;
    for response in responses {
        match response.status() {
            StatusCode::OK => won += 1,
            StatusCode::CONFLICT => {
                let body: Value = response.json().await.unwrap();
                // Told plainly, with fresh times that do not include the one just taken.
                let nearby = body["SlotTaken"].as_array().expect("SlotTaken");
                assert!(!nearby.is_empty(), "{body}");
                assert!(nearby
                    .iter()
                    .all(|s| s["starts_at"].as_i64().unwrap().to_string() != starts_at));
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(won, 1);
    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    let live: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM appointments WHERE status = 'confirmed'")
            .fetch_one(&mut db)
            .await
            .unwrap()
            .get("n");
    assert_eq!(live, 1);
}

async fn fifty_doctors_booking_the_same_time_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut doctors = Vec::new();
    for n in 0..50 {
        let browser = app.other_browser();
        app.new_doctor(&browser, &format!("Doctor {n}")).await;
        let services = open_practice(&app, &browser).await;
        doctors.push((browser, services));
    }
    // The same instant for everyone: the second day's first time (all share a zone).
    let (browser, services) = &doctors[0];
    let starts_at = first_free_on(&app, browser, &services.consultation, 1).await;
    let attempts = doctors.iter().map(|(browser, services)| {
        let (app, starts_at) = (&app, &starts_at);
        async move {
            book(
                app,
                browser,
                &services.consultation,
                "voice",
                starts_at,
                "+919876543210",
            )
            .await
            .status()
        }
    });
    let statuses = join_all(attempts).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
}

async fn the_database_itself_refuses_overlapping_appointments(backend: Backend) {
    let (app, services) = practice(backend).await;
    let starts_at = first_free(&app, &app.client, &services.long_review).await;
    let booked = booked(&app, &services.long_review, &starts_at).await;
    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    let row =
        sqlx::query("SELECT doctor_id, patient_id, starts_at FROM appointments WHERE id = $1")
            .bind(booked["id"].as_str().unwrap())
            .fetch_one(&mut db)
            .await
            .unwrap();
    let (doctor, patient, start): (String, String, i64) = (
        row.get("doctor_id"),
        row.get("patient_id"),
        row.get("starts_at"),
    );
    let insert = |id: &'static str, offset_minutes: i64, status: &'static str| {
        let (doctor, patient, service) = (
            doctor.clone(),
            patient.clone(),
            services.long_review.clone(),
        );
        let start = start + offset_minutes * 60_000;
        sqlx::query(
            "INSERT INTO appointments (id, doctor_id, patient_id, service_id, patient_name,
                     method, starts_at, ends_at, clear_until, status, fee_minor, currency, source,
                     created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'Raw', 'voice', $5, $6, $6, $7, 0, 'INR', 'dashboard',
                     0, 0)",
        )
        .bind(id)
        .bind(doctor)
        .bind(patient)
        .bind(service)
        .bind(start)
        .bind(start + 30 * 60_000)
        .bind(status)
    };
    // Straight into the table, past every check the code makes: refused all the same.
    let overlapping = insert("raw-1", 60, "confirmed").execute(&mut db).await;
    assert!(
        overlapping.is_err(),
        "an overlap inside the 90 minutes was stored"
    );
    // Touching is not overlapping, and cancelled appointments take no time.
    insert("raw-2", 90, "confirmed")
        .execute(&mut db)
        .await
        .unwrap();
    insert("raw-3", 30, "cancelled")
        .execute(&mut db)
        .await
        .unwrap();
    let revived = sqlx::query("UPDATE appointments SET status = 'confirmed' WHERE id = 'raw-3'")
        .execute(&mut db)
        .await;
    assert!(revived.is_err(), "reviving a cancelled overlap was allowed");
}

/// The live appointments' `(starts_at, clear_until)`, as the overlap rule compares them.
async fn occupied(app: &TestApp) -> Vec<(i64, i64)> {
    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    sqlx::query(
        "SELECT starts_at, clear_until FROM appointments
         WHERE status NOT IN ('cancelled', 'expired') ORDER BY starts_at",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get("starts_at"), row.get("clear_until")))
    .collect()
}

async fn a_changed_gap_offers_only_times_that_can_be_booked(backend: Backend) {
    let (app, services) = practice(backend).await;
    let consultation = &services.consultation;
    // Tomorrow 00:00 is on the grid of a 15-minute gap and of none: booked with the gap, the
    // appointment keeps its time until 00:45.
    save_hours(&app, &app.client, "15").await;
    let midnight = first_free_on(&app, &app.client, consultation, 1).await;
    booked(&app, consultation, &midnight).await;

    // Lowered to 0: 00:30 would end inside that time, so the next time offered is 01:00,
    // and it can be booked.
    save_hours(&app, &app.client, "0").await;
    let next = first_free_on(&app, &app.client, consultation, 1).await;
    let midnight_ms: i64 = midnight.parse().unwrap();
    assert_eq!(next.parse::<i64>().unwrap() - midnight_ms, 60 * 60_000);
    booked(&app, consultation, &next).await;

    // Raised to 30: every time offered keeps 30 minutes clear after it (and every appointment
    // keeps its own gap), and the first one can be booked.
    save_hours(&app, &app.client, "30").await;
    let day = free(&app, &app.client, consultation, "").await["days"][1]["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let offered = free(&app, &app.client, consultation, &day).await;
    let taken = occupied(&app).await;
    for time in offered["times"].as_array().unwrap() {
        let start = time["starts_at"].as_i64().unwrap();
        let clear_until = start + (30 + 30) * 60_000;
        assert!(
            taken.iter().all(|&(s, c)| clear_until <= s || start >= c),
            "{start} overlaps one of {taken:?}"
        );
    }
    let first = offered["times"][0]["starts_at"].as_i64().unwrap();
    booked(&app, consultation, &first.to_string()).await;
    let taken = occupied(&app).await;
    assert_eq!(taken.len(), 3);
    assert!(taken.windows(2).all(|w| w[0].1 <= w[1].0));
}

async fn a_booking_under_a_known_phone_does_not_rename_the_patient(backend: Backend) {
    let (app, services) = practice(backend).await;
    let consultation = &services.consultation;
    let first = first_free_on(&app, &app.client, consultation, 1).await;
    let response = book_named(
        &app,
        &app.client,
        consultation,
        "voice",
        &first,
        "Meera Iyer",
        "+919876543210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Another patient's booking with a mistyped number: Meera's number.
    let second = first_free_on(&app, &app.client, consultation, 2).await;
    let response = book_named(
        &app,
        &app.client,
        consultation,
        "text",
        &second,
        "Ravi Kumar",
        "+91 98765 43210",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second_booked: Value = response.json().await.unwrap();
    assert_eq!(second_booked["patient_name"], "Ravi Kumar");
    assert_eq!(second_booked["on_file_as"], "Meera Iyer");

    let listed = list(&app, &app.client, "upcoming").await;
    let names: Vec<_> = listed
        .iter()
        .map(|a| a["patient_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Meera Iyer", "Ravi Kumar"],
        "each booking keeps the name typed for it"
    );
    assert!(listed[0]["on_file_as"].is_null());
    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    let on_file: Vec<String> = sqlx::query("SELECT name FROM patients")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("name"))
        .collect();
    assert_eq!(on_file, ["Meera Iyer"], "the record keeps its name");
}

async fn an_appointment_cannot_point_at_another_doctors_patient_or_service(backend: Backend) {
    let (app, mine) = practice(backend).await;
    let starts_at = first_free(&app, &app.client, &mine.consultation).await;
    booked(&app, &mine.consultation, &starts_at).await;
    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;
    let theirs = open_practice(&app, &other).await;
    let their_start = first_free(&app, &other, &theirs.consultation).await;
    let response = book(
        &app,
        &other,
        &theirs.consultation,
        "voice",
        &their_start,
        "+919800000001",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    let mut db = AnyConnection::connect(&app.database.url).await.unwrap();
    if backend == Backend::Sqlite {
        // As the app's own connections do.
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut db)
            .await
            .unwrap();
    }
    let row = |service: &str| {
        sqlx::query("SELECT a.doctor_id, a.patient_id FROM appointments a WHERE a.service_id = $1")
            .bind(service.to_owned())
    };
    let mine_row = row(&mine.consultation).fetch_one(&mut db).await.unwrap();
    let theirs_row = row(&theirs.consultation).fetch_one(&mut db).await.unwrap();
    let (my_doctor, my_patient): (String, String) = (mine_row.get(0), mine_row.get(1));
    let their_patient: String = theirs_row.get(1);
    let insert = |patient: String, service: String| {
        sqlx::query(
            "INSERT INTO appointments (id, doctor_id, patient_id, service_id, patient_name,
                 method, starts_at, ends_at, clear_until, status, fee_minor, currency, source,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'Raw', 'voice', 0, 1, 1, 'cancelled', 0, 'INR',
                 'dashboard', 0, 0)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(my_doctor.clone())
        .bind(patient)
        .bind(service)
    };
    let their_patient_refused = insert(their_patient, mine.consultation.clone())
        .execute(&mut db)
        .await;
    assert!(
        their_patient_refused.is_err(),
        "pointed at another doctor's patient"
    );
    let their_service_refused = insert(my_patient.clone(), theirs.consultation.clone())
        .execute(&mut db)
        .await;
    assert!(
        their_service_refused.is_err(),
        "pointed at another doctor's service"
    );
    // The same row with the doctor's own patient and service is stored.
    insert(my_patient, mine.consultation.clone())
        .execute(&mut db)
        .await
        .unwrap();
}
