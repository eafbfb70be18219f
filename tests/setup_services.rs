//! The services pane's server functions: add, edit, reorder, archive and restore; names unique
//! per doctor regardless of case; only offered methods; 401; and another doctor's ids get
//! "not found" and change nothing.

mod common;

use common::{setup_call as call, Backend, TestApp, OFFER_TEXT_AND_VOICE};
use reqwest::{Client, StatusCode};

on_both_databases!(
    a_doctor_adds_edits_and_reorders_services,
    service_names_are_unique_per_doctor_regardless_of_case,
    a_service_allows_only_offered_methods_and_is_flagged_when_none_remain,
    archived_services_leave_the_list_and_can_be_restored,
    invalid_service_fields_are_reported,
    services_need_a_session,
    another_doctors_service_ids_are_not_found_and_change_nothing,
);

/// A signed-up doctor offering text/chat and voice calls.
async fn practice(app: &TestApp, client: &Client, name: &str) {
    app.new_doctor(client, name).await;
    let response = call(app, client, "methods-fees/save", &OFFER_TEXT_AND_VOICE).await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn add(app: &TestApp, client: &Client, name: &str, methods: &[&str]) -> reqwest::Response {
    let mut form = vec![
        ("id", ""),
        ("name", name),
        ("description", ""),
        ("duration", ""),
    ];
    let fields: Vec<String> = methods.iter().map(|m| format!("method_{m}")).collect();
    form.extend(fields.iter().map(|f| (f.as_str(), "on")));
    call(app, client, "services/save", &form).await
}

async fn list(app: &TestApp, client: &Client) -> serde_json::Value {
    app.read_from(client, "setup/services").await
}

fn names(view: &serde_json::Value, archived: bool) -> Vec<String> {
    view["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["archived"] == archived)
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(view: &serde_json::Value, name: &str) -> String {
    view["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .unwrap()
}

async fn a_doctor_adds_edits_and_reorders_services(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    for name in ["Consultation", "Follow-up", "Skin check"] {
        assert_eq!(
            add(&app, &app.client, name, &["text", "voice"])
                .await
                .status(),
            StatusCode::OK
        );
    }
    let view = list(&app, &app.client).await;
    assert_eq!(
        names(&view, false),
        ["Consultation", "Follow-up", "Skin check"]
    );
    assert_eq!(view["offered"], serde_json::json!(["Text", "Voice"]));
    assert_eq!(
        view["default_minutes"], 30,
        "the default length until hours are set"
    );

    let id = id_of(&view, "Skin check");
    let edited = call(
        &app,
        &app.client,
        "services/save",
        &[
            ("id", &id),
            ("name", "Skin  review"),
            ("description", "Photos welcome."),
            ("duration", "45"),
            ("method_voice", "on"),
        ],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(
        call(
            &app,
            &app.client,
            "services/move",
            &[("id", &id), ("up", "true")]
        )
        .await
        .status(),
        StatusCode::OK
    );
    let view = list(&app, &app.client).await;
    assert_eq!(
        names(&view, false),
        ["Consultation", "Skin review", "Follow-up"]
    );
    let skin = &view["services"][1];
    assert_eq!(
        (skin["duration"].as_str(), skin["description"].as_str()),
        (Some("45"), Some("Photos welcome."))
    );
    assert_eq!(skin["methods"], serde_json::json!(["Voice"]));

    // At the top, moving up changes nothing.
    let first = id_of(&view, "Consultation");
    call(
        &app,
        &app.client,
        "services/move",
        &[("id", &first), ("up", "true")],
    )
    .await;
    call(
        &app,
        &app.client,
        "services/move",
        &[("id", &first), ("up", "false")],
    )
    .await;
    assert_eq!(
        names(&list(&app, &app.client).await, false),
        ["Skin review", "Consultation", "Follow-up"]
    );
}

async fn service_names_are_unique_per_doctor_regardless_of_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    add(&app, &app.client, "Consultation", &["text"]).await;
    add(&app, &app.client, "Follow-up", &["text"]).await;
    let duplicate = add(&app, &app.client, "  CONSULTATION ", &["text"]).await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = duplicate.json().await.unwrap();
    assert_eq!(
        body["Invalid"]["name"],
        "You already have a service with this name."
    );

    let view = list(&app, &app.client).await;
    let follow_up = id_of(&view, "Follow-up");
    let renamed = call(
        &app,
        &app.client,
        "services/save",
        &[
            ("id", &follow_up),
            ("name", "consultation"),
            ("description", ""),
            ("duration", ""),
            ("method_text", "on"),
        ],
    )
    .await;
    assert_eq!(renamed.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Another doctor may use the same name.
    let other = app.other_browser();
    practice(&app, &other, "Ben Okafor").await;
    assert_eq!(
        add(&app, &other, "Consultation", &["text"]).await.status(),
        StatusCode::OK
    );
}

async fn a_service_allows_only_offered_methods_and_is_flagged_when_none_remain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    let refused = add(&app, &app.client, "Video consult", &["video"]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["Invalid"]["methods"]
        .as_str()
        .unwrap()
        .contains("Video call is not offered"));

    add(&app, &app.client, "Phone consult", &["voice"]).await;
    add(&app, &app.client, "No method", &[]).await;
    let view = list(&app, &app.client).await;
    let flagged: Vec<_> = view["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["unbookable"].as_bool().unwrap())
        .collect();
    assert_eq!(flagged, [false, true]);

    // When the practice stops offering voice calls, the phone consult is flagged too.
    call(
        &app,
        &app.client,
        "methods-fees/save",
        &[
            ("currency", "INR"),
            ("text_offered", "on"),
            ("text_fee", "200"),
            ("text_instructions", ""),
            ("voice_fee", "500"),
            ("voice_instructions", ""),
            ("video_fee", ""),
            ("video_instructions", ""),
        ],
    )
    .await;
    let view = list(&app, &app.client).await;
    assert_eq!(view["services"][0]["unbookable"], true);
}

async fn archived_services_leave_the_list_and_can_be_restored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    add(&app, &app.client, "Consultation", &["text"]).await;
    add(&app, &app.client, "Follow-up", &["text"]).await;
    let id = id_of(&list(&app, &app.client).await, "Consultation");
    assert_eq!(
        call(&app, &app.client, "services/archive", &[("id", &id)])
            .await
            .status(),
        StatusCode::OK
    );
    let view = list(&app, &app.client).await;
    assert_eq!(
        (names(&view, false), names(&view, true)),
        (
            vec!["Follow-up".to_owned()],
            vec!["Consultation".to_owned()]
        )
    );

    // Archiving twice finds nothing to archive.
    assert_eq!(
        call(&app, &app.client, "services/archive", &[("id", &id)])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The name is free while archived; restoring would then clash, and says so.
    add(&app, &app.client, "consultation", &["text"]).await;
    let clash = call(&app, &app.client, "services/restore", &[("id", &id)]).await;
    assert_eq!(clash.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let newer = id_of(&list(&app, &app.client).await, "consultation");
    call(&app, &app.client, "services/archive", &[("id", &newer)]).await;
    assert_eq!(
        call(&app, &app.client, "services/restore", &[("id", &id)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        names(&list(&app, &app.client).await, false),
        ["Follow-up", "Consultation"]
    );
}

async fn invalid_service_fields_are_reported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    let long = "d".repeat(501);
    for (field, value) in [
        ("name", "  "),
        ("duration", "2"),
        ("duration", "half an hour"),
        ("description", long.as_str()),
    ] {
        let mut form = vec![
            ("id", ""),
            ("name", "Consultation"),
            ("description", ""),
            ("duration", ""),
            ("method_text", "on"),
        ];
        form.iter_mut().find(|(n, _)| *n == field).unwrap().1 = value;
        let response = call(&app, &app.client, "services/save", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["Invalid"][field].is_string(), "{body}");
    }
    assert!(
        names(&list(&app, &app.client).await, false).is_empty(),
        "nothing was saved"
    );
}

async fn services_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in [
        "services",
        "services/save",
        "services/archive",
        "services/restore",
        "services/move",
    ] {
        let response = call(&app, &app.client, function, &[("id", "x"), ("up", "true")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
}

async fn another_doctors_service_ids_are_not_found_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    practice(&app, &app.client, "Asha Rao").await;
    add(&app, &app.client, "Consultation", &["text"]).await;
    add(&app, &app.client, "Follow-up", &["text"]).await;
    let before = list(&app, &app.client).await;
    let id = id_of(&before, "Follow-up");

    let intruder = app.other_browser();
    practice(&app, &intruder, "Ben Okafor").await;
    for (function, form) in [
        (
            "services/save",
            vec![
                ("id", id.as_str()),
                ("name", "Hijacked"),
                ("description", ""),
                ("duration", ""),
                ("method_text", "on"),
            ],
        ),
        ("services/archive", vec![("id", id.as_str())]),
        ("services/restore", vec![("id", id.as_str())]),
        ("services/move", vec![("id", id.as_str()), ("up", "true")]),
    ] {
        let response = call(&app, &intruder, function, &form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
        assert_eq!(response.text().await.unwrap(), "\"NotFound\"");
    }
    assert_eq!(
        list(&app, &app.client).await,
        before,
        "the owner's services are unchanged"
    );
    assert!(
        names(&list(&app, &intruder).await, false).is_empty(),
        "and none leaked to the intruder"
    );

    // The dashboard's checklist counts live services, per doctor.
    assert_eq!(
        app.read_from(&app.client, "current_doctor").await["has_services"],
        true
    );
    assert_eq!(
        app.read_from(&intruder, "current_doctor").await["has_services"],
        false
    );
}
