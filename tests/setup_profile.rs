//! The profile pane's server functions over HTTP: saving and reading back, each validation
//! error, the audit trail, 401 without a session, and one doctor never seeing another's.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use sqlx::{Connection, Row};

on_both_databases!(
    a_doctor_saves_the_profile_and_reads_it_back,
    each_invalid_field_is_reported_and_nothing_is_saved,
    every_change_is_audited_by_field_name_only,
    the_profile_needs_a_session,
    doctors_see_only_their_own_profile,
);

fn profile_form<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("full_name", "Asha Rao"),
        ("practice_name", "Rao Family Clinic"),
        ("phone", "098765 43210"),
        ("phone_country", "IN"),
        ("address", "12 MG Road\nBengaluru"),
        ("public_note", "Parking behind the building."),
    ];
    for (name, value) in overrides {
        form.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
    }
    form
}

async fn signed_up(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    app
}

async fn read_profile(app: &TestApp) -> serde_json::Value {
    app.read_from(&app.client, "setup/profile").await
}

async fn a_doctor_saves_the_profile_and_reads_it_back(backend: Backend) {
    let app = signed_up(backend).await;
    let empty = read_profile(&app).await;
    assert_eq!(empty["practice_name"], "");
    assert_eq!(empty["full_name"], "Asha Rao");

    let form = profile_form(&[("full_name", "Dr Asha  Rao")]);
    let response = app.call("setup/profile/save", &form).await;
    assert_eq!(response.status(), StatusCode::OK);

    let saved = read_profile(&app).await;
    assert_eq!(saved["full_name"], "Dr Asha Rao");
    assert_eq!(saved["practice_name"], "Rao Family Clinic");
    assert_eq!(saved["phone"], "+919876543210", "stored in E.164");
    assert_eq!(saved["phone_country"], "IN");
    assert_eq!(saved["address"], "12 MG Road\nBengaluru");
    assert_eq!(saved["public_note"], "Parking behind the building.");

    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(dashboard.contains("Welcome, Dr Asha Rao"));

    // Optional fields can be cleared again.
    let cleared = profile_form(&[("phone", ""), ("address", " "), ("public_note", "")]);
    assert_eq!(
        app.call("setup/profile/save", &cleared).await.status(),
        StatusCode::OK
    );
    let saved = read_profile(&app).await;
    assert_eq!(
        (saved["phone"].as_str(), saved["address"].as_str()),
        (Some(""), Some(""))
    );
}

async fn each_invalid_field_is_reported_and_nothing_is_saved(backend: Backend) {
    let app = signed_up(backend).await;
    let long_note = "n".repeat(281);
    let long_address = "a".repeat(501);
    for (field, value) in [
        ("full_name", "   "),
        ("practice_name", ""),
        ("phone", "12"),
        ("phone", "98765 43210x"),
        ("address", long_address.as_str()),
        ("public_note", long_note.as_str()),
    ] {
        let form = profile_form(&[(field, value)]);
        let response = app.call("setup/profile/save", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["Invalid"][field].is_string(), "{field}: {body}");
    }
    assert_eq!(
        read_profile(&app).await["practice_name"],
        "",
        "nothing was saved"
    );
}

async fn every_change_is_audited_by_field_name_only(backend: Backend) {
    let app = signed_up(backend).await;
    app.call("setup/profile/save", &profile_form(&[])).await;
    app.call("setup/profile/save", &profile_form(&[])).await; // no change, no row
    let response = app
        .client
        .post(app.url("/api/setup/profile/save"))
        .header("x-request-id", "audit-req-1")
        .form(&profile_form(&[("public_note", "Closed on Sundays.")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT action, changed_fields, request_id FROM audit_log ORDER BY created_at, id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let rows: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "profile.updated");
    assert_eq!(
        rows[0].1,
        "practice_name,phone,phone_country,address,public_note"
    );
    assert_eq!(rows[1].1, "public_note");
    assert_eq!(rows[1].2.as_deref(), Some("audit-req-1"));
    for (_, fields, _) in &rows {
        assert!(!fields.contains("Sundays") && !fields.contains("Clinic"));
    }
}

async fn the_profile_needs_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in ["setup/profile", "setup/profile/save"] {
        let response = app.call(function, &profile_form(&[])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
    let page = app.get("/dashboard/setup/profile").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

async fn doctors_see_only_their_own_profile(backend: Backend) {
    let app = signed_up(backend).await;
    app.call("setup/profile/save", &profile_form(&[])).await;

    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;
    let theirs = app.read_from(&other, "setup/profile").await;
    assert_eq!(theirs["full_name"], "Ben Okafor");
    assert_eq!(theirs["practice_name"], "");
    assert_eq!(
        read_profile(&app).await["practice_name"],
        "Rao Family Clinic"
    );
}
