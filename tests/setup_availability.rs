//! The availability pane's server functions: zone, weekly hours and rules saved and read back;
//! each validation error; blocked times in the doctor's zone, upcoming only; 401; and another
//! doctor's blocked-time ids are not found.

mod common;

use common::{setup_call as call, Backend, TestApp};
use reqwest::{Client, StatusCode};
use sqlx::{Connection, Row};

on_both_databases!(
    a_doctor_saves_hours_in_their_zone_and_reads_them_back,
    each_invalid_availability_field_is_reported_and_nothing_is_saved,
    blocked_times_are_stored_as_instants_of_the_doctors_zone,
    blocked_times_need_a_zone_and_a_future_date,
    availability_needs_a_session,
    another_doctors_blocked_time_is_not_found,
);

fn week<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("time_zone", "Asia/Kolkata"),
        ("monday", "09:00-13:00, 14:00-18:00"),
        ("tuesday", "09:00-13:00"),
        ("wednesday", ""),
        ("thursday", "16:00-20:00"),
        ("friday", "09:00-13:00"),
        ("saturday", ""),
        ("sunday", ""),
        ("appointment_minutes", "20"),
        ("gap_minutes", "10"),
        ("notice_hours", "4"),
        ("horizon_days", "60"),
        ("hold_minutes", "15"),
    ];
    for (name, value) in overrides {
        form.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
    }
    form
}

async fn signed_up(app: &TestApp, client: &Client) {
    app.new_doctor(client, "Asha Rao").await;
}

async fn read(app: &TestApp, client: &Client, function: &str) -> serde_json::Value {
    app.read_from(client, &format!("setup/{function}")).await
}

async fn a_doctor_saves_hours_in_their_zone_and_reads_them_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    signed_up(&app, &app.client).await;
    let fresh = read(&app, &app.client, "availability").await;
    assert_eq!(fresh["time_zone"], "");
    assert_eq!(
        fresh["rules"],
        serde_json::json!(["30", "0", "2", "30", "30"]),
        "defaults"
    );
    assert!(fresh["zones"]
        .as_array()
        .unwrap()
        .iter()
        .any(|z| z == "Australia/Lord_Howe"));

    assert_eq!(
        app.read_from(&app.client, "current_doctor").await["has_hours"],
        false
    );
    let form = week(&[("monday", "14:00-18:00,9:00-13:00")]);
    assert_eq!(
        call(&app, &app.client, "availability/save", &form)
            .await
            .status(),
        StatusCode::OK
    );
    let saved = read(&app, &app.client, "availability").await;
    assert_eq!(saved["time_zone"], "Asia/Kolkata");
    assert_eq!(
        saved["days"][0], "09:00-13:00, 14:00-18:00",
        "sorted and normalised"
    );
    assert_eq!(saved["days"][2], "");
    assert_eq!(saved["days"][3], "16:00-20:00");
    assert_eq!(
        saved["rules"],
        serde_json::json!(["20", "10", "4", "60", "15"])
    );

    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let changed: String =
        sqlx::query("SELECT changed_fields FROM audit_log WHERE action = 'availability.updated'")
            .fetch_one(&mut db)
            .await
            .unwrap()
            .get(0);
    assert_eq!(changed, "time_zone,booking_rules,weekly_hours");
}

async fn each_invalid_availability_field_is_reported_and_nothing_is_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    signed_up(&app, &app.client).await;
    for (field, value) in [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("monday", "09:00-13:00, 12:00-14:00"),
        ("tuesday", "13:00-09:00"),
        ("friday", "9 to 5"),
        ("appointment_minutes", "0"),
        ("horizon_days", "400"),
        ("gap_minutes", "ten"),
    ] {
        let response = call(
            &app,
            &app.client,
            "availability/save",
            &week(&[(field, value)]),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["Invalid"][field].is_string(), "{field}: {body}");
    }
    let overlap = call(
        &app,
        &app.client,
        "availability/save",
        &week(&[("monday", "09:00-13:00, 12:00-14:00")]),
    )
    .await
    .json::<serde_json::Value>()
    .await
    .unwrap();
    assert_eq!(
        overlap["Invalid"]["monday"],
        "09:00-13:00 overlaps 12:00-14:00."
    );
    assert_eq!(
        read(&app, &app.client, "availability").await["time_zone"],
        "",
        "nothing was saved"
    );
}

async fn blocked_times_are_stored_as_instants_of_the_doctors_zone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    signed_up(&app, &app.client).await;
    call(&app, &app.client, "availability/save", &week(&[])).await;

    let whole = call(
        &app,
        &app.client,
        "blocked/add",
        &[
            ("date", "2099-12-24"),
            ("whole_day", "on"),
            ("from", ""),
            ("to", ""),
            ("reason", "Family"),
        ],
    )
    .await;
    assert_eq!(whole.status(), StatusCode::OK);
    let part = call(
        &app,
        &app.client,
        "blocked/add",
        &[
            ("date", "2099-06-01"),
            ("from", "13:00"),
            ("to", "15:30"),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(part.status(), StatusCode::OK);

    let list = read(&app, &app.client, "blocked").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["when"], "Mon 1 Jun 2099, 13:00–15:30",
        "soonest first"
    );
    assert_eq!(list[1]["when"], "Thu 24 Dec 2099, all day");
    assert_eq!(list[1]["reason"], "Family");

    // Midnight in Kolkata is 18:30 UTC the evening before.
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let row = sqlx::query("SELECT starts_at, ends_at FROM blocked_ranges WHERE all_day = 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let (starts, ends): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(starts, 4_101_733_800_000, "2099-12-23T18:30:00Z");
    assert_eq!(ends - starts, 24 * 3600 * 1000);

    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(
        call(&app, &app.client, "blocked/remove", &[("id", id)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        read(&app, &app.client, "blocked")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn blocked_times_need_a_zone_and_a_future_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    signed_up(&app, &app.client).await;
    let early = call(
        &app,
        &app.client,
        "blocked/add",
        &[
            ("date", "2099-12-24"),
            ("whole_day", "on"),
            ("from", ""),
            ("to", ""),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);

    call(&app, &app.client, "availability/save", &week(&[])).await;
    for (form, field) in [
        (
            vec![
                ("date", "2001-01-01"),
                ("whole_day", "on"),
                ("from", ""),
                ("to", ""),
                ("reason", ""),
            ],
            "date",
        ),
        (
            vec![
                ("date", "2099-02-30"),
                ("whole_day", "on"),
                ("from", ""),
                ("to", ""),
                ("reason", ""),
            ],
            "date",
        ),
        (
            vec![
                ("date", "2099-03-01"),
                ("from", "15:00"),
                ("to", "13:00"),
                ("reason", ""),
            ],
            "to",
        ),
        (
            vec![
                ("date", "2099-03-01"),
                ("from", "noon"),
                ("to", "13:00"),
                ("reason", ""),
            ],
            "from",
        ),
    ] {
        let response = call(&app, &app.client, "blocked/add", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["Invalid"][field].is_string(), "{body}");
    }
    assert!(read(&app, &app.client, "blocked")
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

async fn availability_needs_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in [
        "availability",
        "availability/save",
        "blocked",
        "blocked/add",
        "blocked/remove",
    ] {
        let response = call(&app, &app.client, function, &[("id", "x")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
}

async fn another_doctors_blocked_time_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    signed_up(&app, &app.client).await;
    call(&app, &app.client, "availability/save", &week(&[])).await;
    call(
        &app,
        &app.client,
        "blocked/add",
        &[
            ("date", "2099-12-24"),
            ("whole_day", "on"),
            ("from", ""),
            ("to", ""),
            ("reason", "Private matter"),
        ],
    )
    .await;
    let mine = read(&app, &app.client, "blocked").await;
    let id = mine[0]["id"].as_str().unwrap();

    let intruder = app.other_browser();
    signed_up(&app, &intruder).await;
    let response = call(&app, &intruder, "blocked/remove", &[("id", id)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let theirs = read(&app, &intruder, "blocked").await;
    assert!(
        theirs.as_array().unwrap().is_empty(),
        "the reason never leaks"
    );
    assert_eq!(
        read(&app, &app.client, "blocked").await,
        mine,
        "and nothing changed"
    );
}
