//! The methods & fees pane's server functions: amounts in the currency's decimals, each
//! validation error, audit rows, 401, per-doctor data, and the dashboard's booking warning.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use sqlx::{Connection, Row};

const NO_METHOD_WARNING: &str = "cannot book patients until you offer at least one";

on_both_databases!(
    fees_are_saved_in_minor_units_and_shown_with_the_currency_decimals,
    a_negative_fee_or_unknown_currency_is_refused_and_nothing_is_saved,
    changes_are_audited_by_field_name,
    methods_and_fees_need_a_session,
    the_dashboard_warns_until_a_method_is_offered,
    doctors_see_only_their_own_fees,
);

fn form<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("currency", "INR"),
        ("text_offered", "on"),
        ("text_fee", "0"),
        ("text_instructions", "Reply here at your booked time."),
        ("voice_offered", "on"),
        ("voice_fee", "1,499.5"),
        ("voice_instructions", "We call you from +91 98765 43210."),
        ("video_fee", ""),
        ("video_instructions", ""),
    ];
    for (name, value) in overrides {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => form.push((name, value)),
        }
    }
    form
}

async fn signed_up(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    app
}

async fn read(app: &TestApp) -> serde_json::Value {
    app.read_from(&app.client, "setup/methods-fees").await
}

async fn fees_are_saved_in_minor_units_and_shown_with_the_currency_decimals(backend: Backend) {
    let app = signed_up(backend).await;
    let empty = read(&app).await;
    assert_eq!(empty["currency"], "");
    assert_eq!(empty["methods"].as_array().unwrap().len(), 3);

    assert_eq!(
        app.call("setup/methods-fees/save", &form(&[]))
            .await
            .status(),
        StatusCode::OK
    );
    let saved = read(&app).await;
    assert_eq!(saved["currency"], "INR");
    let methods = saved["methods"].as_array().unwrap();
    assert_eq!(methods[0][0], "Text");
    assert_eq!(methods[0][1]["offered"], true);
    assert_eq!(methods[0][1]["fee"], "0.00");
    assert_eq!(methods[1][1]["fee"], "1,499.50");
    assert_eq!(
        methods[1][1]["instructions"],
        "We call you from +91 98765 43210."
    );
    assert_eq!(methods[2][1]["offered"], false);

    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let fee: i64 = sqlx::query("SELECT fee_minor FROM method_settings WHERE method = 'voice'")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get(0);
    assert_eq!(fee, 149_950, "stored in paise");

    // Yen has no decimals; dinars have three.
    let yen = form(&[("currency", "JPY"), ("voice_fee", "3000")]);
    assert_eq!(
        app.call("setup/methods-fees/save", &yen).await.status(),
        StatusCode::OK
    );
    assert_eq!(read(&app).await["methods"][1][1]["fee"], "3,000");
    let dinar = form(&[("currency", "kwd"), ("voice_fee", "12.345")]);
    assert_eq!(
        app.call("setup/methods-fees/save", &dinar).await.status(),
        StatusCode::OK
    );
    let saved = read(&app).await;
    assert_eq!(
        (
            saved["currency"].as_str(),
            saved["methods"][1][1]["fee"].as_str()
        ),
        (Some("KWD"), Some("12.345"))
    );
}

async fn a_negative_fee_or_unknown_currency_is_refused_and_nothing_is_saved(backend: Backend) {
    let app = signed_up(backend).await;
    let long = "i".repeat(501);
    for (field, value, reported) in [
        ("voice_fee", "-100", "voice_fee"),
        ("text_fee", "ten", "text_fee"),
        ("currency", "XYZ", "currency"),
        ("currency", "", "currency"),
        ("video_instructions", long.as_str(), "video_instructions"),
    ] {
        let response = app
            .call("setup/methods-fees/save", &form(&[(field, value)]))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["Invalid"][reported].is_string(), "{field}: {body}");
    }
    // JPY with decimals is refused with the currency's own rule.
    let response = app
        .call(
            "setup/methods-fees/save",
            &form(&[("currency", "JPY"), ("voice_fee", "10.5")]),
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["Invalid"]["voice_fee"],
        "JPY amounts are whole numbers."
    );
    assert_eq!(read(&app).await["currency"], "", "nothing was saved");
}

async fn changes_are_audited_by_field_name(backend: Backend) {
    let app = signed_up(backend).await;
    app.call("setup/methods-fees/save", &form(&[])).await;
    app.call("setup/methods-fees/save", &form(&[])).await;
    app.call(
        "setup/methods-fees/save",
        &form(&[("video_offered", "on"), ("video_fee", "800")]),
    )
    .await;
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let rows: Vec<String> = sqlx::query(
        "SELECT changed_fields FROM audit_log WHERE action = 'methods_fees.updated'
         ORDER BY created_at, id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("currency,text_offered,text_fee"),
        "{}",
        rows[0]
    );
    assert_eq!(rows[1], "video_offered,video_fee");
}

async fn methods_and_fees_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in ["setup/methods-fees", "setup/methods-fees/save"] {
        let response = app.call(function, &form(&[])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
}

async fn the_dashboard_warns_until_a_method_is_offered(backend: Backend) {
    let app = signed_up(backend).await;
    let page = app.get("/dashboard").await.text().await.unwrap();
    assert!(page.contains(NO_METHOD_WARNING));

    // Saving with nothing offered still warns.
    let none_offered: Vec<_> = form(&[])
        .into_iter()
        .filter(|(name, _)| !name.ends_with("_offered"))
        .collect();
    assert_eq!(
        app.call("setup/methods-fees/save", &none_offered)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(app
        .get("/dashboard")
        .await
        .text()
        .await
        .unwrap()
        .contains(NO_METHOD_WARNING));

    app.call("setup/methods-fees/save", &form(&[])).await;
    assert!(!app
        .get("/dashboard")
        .await
        .text()
        .await
        .unwrap()
        .contains(NO_METHOD_WARNING));
}

async fn doctors_see_only_their_own_fees(backend: Backend) {
    let app = signed_up(backend).await;
    app.call("setup/methods-fees/save", &form(&[])).await;
    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;
    let theirs = app.read_from(&other, "setup/methods-fees").await;
    assert_eq!(theirs["currency"], "");
    assert_eq!(theirs["methods"][1][1]["fee"], "");
}
