//! Connecting Instagram end to end over HTTP, against the fake Meta: the dialog round trip,
//! state checks (missing, tampered, replayed, expired, another session's), cancelling, one,
//! several and no eligible accounts, an account already linked to another doctor, Meta's
//! errors, disconnecting, Meta's deauthorize and data-deletion callbacks, the daily token
//! check (refused, expiring, and missing permissions), the permissions asked for and the
//! webhook fields subscribed, and no token in the database, in any answer or page.

mod common;

use clariva::crypto::seal::TokenKeys;
use clariva::db::Db;
use clariva::instagram::token_check;
use clariva::meta::graph::{Graph, SCOPES};
use common::fake_meta::{self, FakeMeta, FakePage};
use common::meta_flow::{
    app_with_meta, back_from_meta, connect, dialog_link, location, start, KEYS,
};
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sqlx::{Connection, Row};

on_both_databases!(
    a_doctor_connects_their_one_account_and_disconnects_it,
    the_state_must_be_this_sessions_unused_and_fresh,
    cancelling_on_meta_or_a_meta_error_changes_nothing,
    several_accounts_are_offered_and_the_picked_one_is_connected,
    pages_without_an_instagram_account_are_explained,
    an_account_linked_to_another_doctor_is_refused,
    reconnecting_replaces_the_link_and_unsubscribes_the_old_page,
    disconnecting_does_not_wait_for_meta_to_agree,
    without_the_meta_app_the_pane_says_so,
    meta_deauthorizing_a_person_disconnects_them_when_signed,
    a_data_deletion_request_disconnects_and_answers_with_a_status_page,
    the_daily_check_flags_rejected_and_expiring_tokens,
    a_lapsed_offer_is_deleted_with_its_tokens,
    rotating_keys_reseals_every_token_under_the_new_one,
    the_login_dialog_asks_for_permission_to_read_message_details,
    connecting_subscribes_the_page_to_messages_postbacks_reads_reactions_and_standby,
    a_link_without_permission_to_read_message_details_asks_to_reconnect_until_it_does,
);

fn clinic() -> FakePage {
    FakePage {
        id: "page-1",
        name: "Rao Skin Clinic",
        token: "page-token-1",
        instagram: Some(("ig-1", "raoskin")),
    }
}

fn second_clinic() -> FakePage {
    FakePage {
        id: "page-2",
        name: "Rao Hair Clinic",
        token: "page-token-2",
        instagram: Some(("ig-2", "raohair")),
    }
}

fn personal_page() -> FakePage {
    FakePage {
        id: "page-3",
        name: "Asha's page",
        token: "page-token-3",
        instagram: None,
    }
}

/// Every secret the fake hands out; none may ever be stored, shown or answered in plain text.
const SECRETS: [&str; 7] = [
    fake_meta::SHORT_TOKEN,
    fake_meta::LONG_TOKEN,
    fake_meta::APP_SECRET,
    fake_meta::GOOD_CODE,
    "page-token-1",
    "page-token-2",
    "page-token-3",
];

fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} holds {secret}");
    }
}

async fn world(backend: Backend, pages: Vec<FakePage>) -> (TestApp, FakeMeta) {
    let meta = FakeMeta::start(pages).await;
    let app = app_with_meta(backend, &meta).await;
    (app, meta)
}

async fn pane(app: &TestApp, browser: &Client) -> Value {
    let response = app.call_from(browser, "instagram", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert_no_secret(&text, "the pane's data");
    serde_json::from_str(&text).unwrap()
}

/// The raw rows of the Instagram tables, as text, for looking for tokens in plain text.
async fn raw_rows(url: &str) -> String {
    let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut text = String::new();
    for table in [
        "instagram_links",
        "instagram_choices",
        "meta_connect_states",
    ] {
        for row in sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(&mut db)
            .await
            .unwrap()
        {
            for i in 0..row.len() {
                if let Ok(Some(value)) = row.try_get::<Option<String>, _>(i) {
                    text.push_str(&value);
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// The Instagram actions of the audit log, oldest first.
async fn instagram_audit(url: &str) -> Vec<String> {
    let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("SELECT action FROM audit_log ORDER BY created_at, id")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("action"))
        .filter(|action| action.starts_with("instagram."))
        .collect()
}

async fn links_count(url: &str) -> i64 {
    rows_in(url, "instagram_links").await
}

async fn rows_in(url: &str, table: &str) -> i64 {
    let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get("n")
}

async fn signed_in(app: &TestApp, name: &str) -> Client {
    signed_up(app, name).await.0
}

/// A browser signed in as a new doctor, and the doctor's email.
async fn signed_up(app: &TestApp, name: &str) -> (Client, String) {
    let browser = app.other_browser();
    let email = app.new_doctor(&browser, name).await;
    (browser, email)
}

async fn a_doctor_connects_their_one_account_and_disconnects_it(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic(), personal_page()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert!(pane(&app, &asha).await["link"].is_null());

    let dialog = start(&app, &asha).await;
    let query: std::collections::HashMap<_, _> = reqwest::Url::parse(&dialog)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(query["state"].len() >= 43, "a state of 32 random bytes");
    assert!(query["redirect_uri"].ends_with("/auth/meta/callback"));
    let callback = dialog_link(&dialog, "Continue").await;
    assert_eq!(back_from_meta(&app, &asha, &callback).await, "connected");

    let link = &pane(&app, &asha).await["link"];
    assert_eq!(link["username"], "raoskin");
    assert_eq!(link["page_name"], "Rao Skin Clinic");
    assert_eq!(
        link["health"],
        serde_json::json!({"Good": {"expires_on": null}})
    );
    assert!(meta.calls().contains(&"subscribe page-1".to_owned()));
    let rows = raw_rows(&app.database.url).await;
    assert!(rows.contains("ig-1") && rows.contains("raoskin"));
    assert_no_secret(&rows, "the database");

    let page = app
        .client
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "another browser is not signed in"
    );
    let page = asha
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Connected as @raoskin"), "{html}");
    assert_no_secret(&html, "the pane's page");
    let home = asha
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !home.contains("Reconnect Instagram"),
        "a working link needs nothing"
    );

    let response = app.call_from(&asha, "instagram/disconnect", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(pane(&app, &asha).await["link"].is_null());
    assert_eq!(links_count(&app.database.url).await, 0);
    assert!(meta.calls().contains(&"unsubscribe page-1".to_owned()));
    assert_eq!(
        instagram_audit(&app.database.url).await,
        ["instagram.connected", "instagram.disconnected"]
    );
    let anyone = app.call("instagram/disconnect", &[]).await;
    assert_eq!(anyone.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn the_state_must_be_this_sessions_unused_and_fresh(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let (asha, email) = signed_up(&app, "Asha Rao").await;
    let ben = signed_in(&app, "Ben Okafor").await;
    // Asha again, logged in on another device.
    let asha_elsewhere = app.other_browser();
    let form = [
        ("email", email.as_str()),
        ("password", common::PASSWORD),
        ("next", ""),
    ];
    let response = app.call_from(&asha_elsewhere, "log_in", &form).await;
    assert_eq!(response.status(), StatusCode::OK);

    let code = fake_meta::GOOD_CODE;
    for callback in [
        format!("/auth/meta/callback?code={code}"),
        format!("/auth/meta/callback?code={code}&state="),
        format!("/auth/meta/callback?code={code}&state=made-up"),
    ] {
        assert_eq!(back_from_meta(&app, &asha, &callback).await, "invalid");
    }

    // Tampered with: one character changed.
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let tampered = callback.replacen("state=", "state=x", 1);
    assert_eq!(back_from_meta(&app, &asha, &tampered).await, "invalid");

    // Another doctor's browser, Asha's other session, and a signed-out browser cannot use the
    // state Asha's session started with.
    assert_eq!(back_from_meta(&app, &ben, &callback).await, "other-session");
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    assert_eq!(
        back_from_meta(&app, &asha_elsewhere, &callback).await,
        "other-session"
    );
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let signed_out = app.other_browser();
    assert_eq!(
        back_from_meta(&app, &signed_out, &callback).await,
        "other-session"
    );

    // Ten minutes later.
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    sqlx::query("UPDATE meta_connect_states SET expires_at = 0")
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(back_from_meta(&app, &asha, &callback).await, "expired");

    assert!(
        !meta.calls().iter().any(|call| call == "exchange code"),
        "no refused state reaches Meta"
    );
    assert_eq!(links_count(&app.database.url).await, 0);

    // Used once, then replayed.
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    assert_eq!(back_from_meta(&app, &asha, &callback).await, "connected");
    assert_eq!(back_from_meta(&app, &asha, &callback).await, "invalid");
    let exchanges = meta
        .calls()
        .iter()
        .filter(|c| *c == "exchange code")
        .count();
    assert_eq!(exchanges, 1, "the replay never reached Meta");
    app.stop().await;
}

async fn cancelling_on_meta_or_a_meta_error_changes_nothing(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;

    let cancel = dialog_link(&start(&app, &asha).await, "Cancel").await;
    assert_eq!(back_from_meta(&app, &asha, &cancel).await, "cancelled");

    // Meta does not accept the code.
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let bad_code = callback.replace(fake_meta::GOOD_CODE, "stale-code");
    assert_eq!(back_from_meta(&app, &asha, &bad_code).await, "meta-refused");

    // Another error from the dialog, and no code at all.
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let other = callback.replace("code=", "error=server_error&was=");
    assert_eq!(back_from_meta(&app, &asha, &other).await, "meta-refused");
    let callback = dialog_link(&start(&app, &asha).await, "Continue").await;
    let no_code = callback.replace("code=", "was=");
    assert_eq!(back_from_meta(&app, &asha, &no_code).await, "meta-refused");

    assert!(!meta.calls().iter().any(|c| c.starts_with("subscribe")));
    assert_eq!(links_count(&app.database.url).await, 0);
    assert!(pane(&app, &asha).await["link"].is_null());
    app.stop().await;

    // Meta's Graph API cannot be reached (its dialog still can).
    let app = TestApp::spawn_with(
        backend,
        &[
            ("META_APP_ID", fake_meta::APP_ID),
            ("META_APP_SECRET", fake_meta::APP_SECRET),
            ("META_VERIFY_TOKEN", "fake-verify-token"),
            ("META_DIALOG_BASE_URL", &meta.base_url()),
            ("META_GRAPH_BASE_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "meta-unreachable");
    assert_eq!(links_count(&app.database.url).await, 0);
    app.stop().await;
}

async fn several_accounts_are_offered_and_the_picked_one_is_connected(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic(), personal_page(), second_clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "choose");
    let offered = pane(&app, &asha).await;
    assert!(offered["link"].is_null());
    assert_eq!(
        offered["choices"],
        serde_json::json!([
            {"page_id": "page-2", "page_name": "Rao Hair Clinic", "username": "raohair"},
            {"page_id": "page-1", "page_name": "Rao Skin Clinic", "username": "raoskin"},
        ])
    );
    assert_no_secret(&raw_rows(&app.database.url).await, "the offered choices");
    assert!(!meta.calls().iter().any(|c| c.starts_with("subscribe")));

    // Another doctor cannot pick from Asha's offer.
    let ben = signed_in(&app, "Ben Okafor").await;
    let response = app
        .call_from(&ben, "instagram/choose", &[("page_id", "page-2")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // Nor can Asha pick a Page that was not offered.
    let response = app
        .call_from(&asha, "instagram/choose", &[("page_id", "page-3")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let response = app
        .call_from(&asha, "instagram/choose", &[("page_id", "page-2")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let connected = pane(&app, &asha).await;
    assert_eq!(connected["link"]["username"], "raohair");
    assert_eq!(connected["choices"], serde_json::json!([]));
    // The Page tokens of the accounts not picked are gone, not just hidden.
    assert_eq!(rows_in(&app.database.url, "instagram_choices").await, 0);
    assert!(meta.calls().contains(&"subscribe page-2".to_owned()));
    assert!(pane(&app, &ben).await["link"].is_null());
    app.stop().await;
}

async fn a_lapsed_offer_is_deleted_with_its_tokens(backend: Backend) {
    let (app, _meta) = world(backend, vec![clinic(), second_clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "choose");
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let now = clariva::db::now_millis();
    // Still on offer: kept.
    let deleted = clariva::db::instagram::delete_lapsed_choices(&db, now)
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    assert_eq!(rows_in(&app.database.url, "instagram_choices").await, 2);
    // Ten minutes later the offer has lapsed: housekeeping deletes it.
    let later = now + 11 * 60 * 1000;
    let deleted = clariva::db::instagram::delete_lapsed_choices(&db, later)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(rows_in(&app.database.url, "instagram_choices").await, 0);
    app.stop().await;
}

async fn pages_without_an_instagram_account_are_explained(backend: Backend) {
    let (app, meta) = world(backend, vec![personal_page()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "no-account");
    meta.set_pages(Vec::new());
    assert_eq!(connect(&app, &asha).await, "no-account");
    let html = asha
        .get(app.url("/dashboard/instagram?result=no-account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Instagram professional account linked to it"));
    assert!(html.contains(clariva::instagram::META_HELP_URL));
    assert_eq!(links_count(&app.database.url).await, 0);
    app.stop().await;
}

async fn an_account_linked_to_another_doctor_is_refused(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let ben = signed_in(&app, "Ben Okafor").await;
    assert_eq!(connect(&app, &ben).await, "taken");
    assert!(pane(&app, &ben).await["link"].is_null());
    assert_eq!(pane(&app, &asha).await["link"]["username"], "raoskin");
    let subscriptions = meta
        .calls()
        .iter()
        .filter(|c| *c == "subscribe page-1")
        .count();
    assert_eq!(subscriptions, 1, "Ben's attempt stopped before Meta");
    let html = ben
        .get(app.url("/dashboard/instagram?result=taken"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("already connected to another Clariva practice"));
    app.stop().await;
}

async fn reconnecting_replaces_the_link_and_unsubscribes_the_old_page(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    meta.set_pages(vec![clinic(), second_clinic()]);
    assert_eq!(connect(&app, &asha).await, "choose");
    let response = app
        .call_from(&asha, "instagram/choose", &[("page_id", "page-2")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(pane(&app, &asha).await["link"]["username"], "raohair");
    assert_eq!(links_count(&app.database.url).await, 1);
    assert!(meta.calls().contains(&"unsubscribe page-1".to_owned()));
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let owner = clariva::db::instagram::doctor_for(&db, "ig-1")
        .await
        .unwrap();
    assert_eq!(owner, None, "the old account leads to no one");
    assert!(clariva::db::instagram::doctor_for(&db, "ig-2")
        .await
        .unwrap()
        .is_some());
    app.stop().await;
}

async fn disconnecting_does_not_wait_for_meta_to_agree(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    meta.revoke("page-token-1");
    let response = app.call_from(&asha, "instagram/disconnect", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(pane(&app, &asha).await["link"].is_null());
    assert_eq!(links_count(&app.database.url).await, 0);
    assert!(!meta.calls().iter().any(|c| c.starts_with("unsubscribe")));
    app.stop().await;
}

async fn without_the_meta_app_the_pane_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let asha = signed_in(&app, "Asha Rao").await;
    let response = asha.get(app.url("/auth/meta/start")).send().await.unwrap();
    assert_eq!(
        location(&response),
        "/dashboard/instagram?result=not-configured"
    );
    assert_eq!(pane(&app, &asha).await["meta_configured"], false);
    let html = asha
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Doctors are told who sets Instagram up, with the guide for that person; never the
    // server's configuration names.
    assert!(html.contains("administrator"));
    assert!(!html.contains("META_APP_ID") && !html.contains("META_APP_SECRET"));
    assert!(html.contains(r#"href="/help/meta-setup""#));
    let guide = asha.get(app.url("/help/meta-setup")).send().await.unwrap();
    assert_eq!(guide.status(), StatusCode::OK);
    assert!(guide.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(guide
        .text()
        .await
        .unwrap()
        .starts_with("# Setting up the Meta app"));
    assert!(
        !html.contains("/auth/meta/start"),
        "no button that cannot work"
    );
    let signed_out = app.other_browser();
    let response = signed_out
        .get(app.url("/auth/meta/start"))
        .send()
        .await
        .unwrap();
    assert!(location(&response).starts_with("/login?next="));
    app.stop().await;
}

/// Meta's `signed_request` for `payload`, signed with `secret`.
fn signed_request(payload: &str, secret: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::Mac;

    let payload = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!(
        "{}.{payload}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A payload about the fake's user, issued `ago` seconds before now.
fn about_the_fake_user_issued(ago: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    format!(
        r#"{{"algorithm":"HMAC-SHA256","issued_at":{},"user_id":"{}"}}"#,
        now - ago,
        fake_meta::USER_ID
    )
}

fn about_the_fake_user() -> String {
    about_the_fake_user_issued(0)
}

async fn meta_deauthorizing_a_person_disconnects_them_when_signed(backend: Backend) {
    let (app, _meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let meta_calls = app.other_browser();
    let post = |signed: String| {
        meta_calls
            .post(app.url("/meta/deauthorize"))
            .form(&[("signed_request", signed)])
            .send()
    };

    let forged = post(signed_request(&about_the_fake_user(), "not-the-app-secret"))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let garbage = post("not a signed request".into()).await.unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    // Genuine but captured twenty minutes ago: a replay, refused.
    let replayed = post(signed_request(
        &about_the_fake_user_issued(20 * 60),
        fake_meta::APP_SECRET,
    ))
    .await
    .unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    let someone_else = about_the_fake_user().replace(fake_meta::USER_ID, "fb-user-other");
    let other = post(signed_request(&someone_else, fake_meta::APP_SECRET))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(
        links_count(&app.database.url).await,
        1,
        "nothing changed yet"
    );

    let genuine = post(signed_request(
        &about_the_fake_user(),
        fake_meta::APP_SECRET,
    ))
    .await
    .unwrap();
    assert_eq!(genuine.status(), StatusCode::OK);
    assert!(pane(&app, &asha).await["link"].is_null());
    assert_eq!(
        instagram_audit(&app.database.url).await,
        ["instagram.connected", "instagram.deauthorized"]
    );
    app.stop().await;
}

async fn a_data_deletion_request_disconnects_and_answers_with_a_status_page(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    // The same person also logged in for another practice, which has yet to pick an account.
    meta.set_pages(vec![clinic(), second_clinic()]);
    let ben = signed_in(&app, "Ben Okafor").await;
    assert_eq!(connect(&app, &ben).await, "choose");
    let meta_calls = app.other_browser();

    let forged = meta_calls
        .post(app.url("/meta/data-deletion"))
        .form(&[(
            "signed_request",
            signed_request(&about_the_fake_user(), "nope"),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(links_count(&app.database.url).await, 1);

    let answer: Value = meta_calls
        .post(app.url("/meta/data-deletion"))
        .form(&[(
            "signed_request",
            signed_request(&about_the_fake_user(), fake_meta::APP_SECRET),
        )])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = answer["confirmation_code"].as_str().unwrap();
    let status_url = answer["url"].as_str().unwrap();
    assert!(status_url.ends_with(&format!("/meta/deletion/{code}")));
    assert_eq!(links_count(&app.database.url).await, 0);
    assert!(pane(&app, &asha).await["link"].is_null());
    assert_eq!(pane(&app, &ben).await["choices"], serde_json::json!([]));

    let status = app.get(&format!("/meta/deletion/{code}")).await;
    assert_eq!(status.status(), StatusCode::OK);
    let html = status.text().await.unwrap();
    assert!(
        html.contains(code) && html.contains("was removed"),
        "{html}"
    );
    let unknown = app.get("/meta/deletion/no-such-code").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn the_daily_check_flags_rejected_and_expiring_tokens(backend: Backend) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let graph = Graph::new(&meta.app(), "http://unused/auth/meta/callback".into()).unwrap();
    let keys = TokenKeys::parse(KEYS).unwrap();

    let round = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!((round.working, round.rejected, round.unanswered), (1, 0, 0));
    let again = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!(again, token_check::Round::default(), "checked once a day");

    // Meta's data access for the token lapses in three days.
    let in_three_days = jiff::Timestamp::now().as_second() + 3 * 24 * 60 * 60;
    meta.lapse_data_access("page-token-1", in_three_days);
    let mut raw = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let recheck = "UPDATE instagram_links SET token_checked_at = NULL";
    sqlx::query(recheck).execute(&mut raw).await.unwrap();
    let round = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!(round.working, 1);
    let health = &pane(&app, &asha).await["link"]["health"];
    assert!(health["ExpiresSoon"]["expires_on"].is_string(), "{health}");
    let home = asha
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Reconnect Instagram"),
        "the dashboard home says so"
    );

    meta.revoke("page-token-1");
    sqlx::query(recheck).execute(&mut raw).await.unwrap();
    let round = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!(round.rejected, 1);
    assert_eq!(pane(&app, &asha).await["link"]["health"], "Rejected");
    let html = asha
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Reconnect Instagram"));

    // Meta unreachable: nothing is concluded, the token is asked about again next time.
    let away = Graph::new(
        &clariva::config::MetaApp {
            graph_base_url: "http://127.0.0.1:9".into(),
            ..meta.app()
        },
        "http://unused/auth/meta/callback".into(),
    )
    .unwrap();
    sqlx::query(recheck).execute(&mut raw).await.unwrap();
    let round = token_check::check_all(&db, &away, &keys).await.unwrap();
    assert_eq!(round.unanswered, 1);
    assert_eq!(pane(&app, &asha).await["link"]["health"], "Rejected");
    app.stop().await;
}

async fn rotating_keys_reseals_every_token_under_the_new_one(backend: Backend) {
    use clariva::instagram::reseal::{reseal_all, Resealed};

    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let key_ids = || async {
        let mut raw = sqlx::AnyConnection::connect(&app.database.url)
            .await
            .unwrap();
        sqlx::query("SELECT token_key_id FROM instagram_links")
            .fetch_all(&mut raw)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect::<Vec<_>>()
    };
    assert_eq!(key_ids().await, ["k1"]);

    // A new key listed first: the run re-seals the token under it, once.
    let new_key = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let rotated = TokenKeys::parse(&format!("{new_key},{KEYS}")).unwrap();
    let done = reseal_all(&db, &rotated).await.unwrap();
    assert_eq!(
        done,
        Resealed {
            resealed: 1,
            unopenable: 0
        }
    );
    assert_eq!(key_ids().await, ["k2"]);
    assert_eq!(
        reseal_all(&db, &rotated).await.unwrap(),
        Resealed::default()
    );

    // With the old key removed, the token still opens and still works with Meta.
    let only_new = TokenKeys::parse(new_key).unwrap();
    let graph = Graph::new(&meta.app(), "http://unused/auth/meta/callback".into()).unwrap();
    let round = token_check::check_all(&db, &graph, &only_new)
        .await
        .unwrap();
    assert_eq!(round.working, 1, "{round:?}");

    // A token whose key is gone cannot be re-sealed, and says so.
    let third = TokenKeys::parse("k3:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=").unwrap();
    let done = reseal_all(&db, &third).await.unwrap();
    assert_eq!(
        done,
        Resealed {
            resealed: 0,
            unopenable: 1
        }
    );
    app.stop().await;
}

async fn the_login_dialog_asks_for_permission_to_read_message_details(backend: Backend) {
    let (app, _meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    let dialog = start(&app, &asha).await;
    let query: std::collections::HashMap<_, _> = reqwest::Url::parse(&dialog)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let asked: Vec<&str> = query["scope"].split(' ').collect();
    assert!(asked.contains(&"pages_read_engagement"), "{asked:?}");
    for needed in [
        "instagram_basic",
        "instagram_manage_messages",
        "pages_show_list",
        "pages_manage_metadata",
        "pages_messaging",
    ] {
        assert!(asked.contains(&needed), "{needed} is still asked for");
    }
    // Meta's dialog shows the person what is asked.
    let page = reqwest::get(&dialog).await.unwrap().text().await.unwrap();
    assert!(page.contains("pages_read_engagement"), "{page}");
    app.stop().await;
}

/// The query of every Page subscription request the fake received, as name and value pairs.
fn subscriptions(meta: &FakeMeta, method: &str, page: &str) -> Vec<Vec<(String, String)>> {
    let prefix = format!("{method} /{}/{page}/subscribed_apps?", fake_meta::VERSION);
    meta.requests()
        .iter()
        .filter_map(|request| request.strip_prefix(&prefix))
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .collect()
}

fn subscribed_fields(query: &[(String, String)]) -> Vec<String> {
    query
        .iter()
        .filter(|(name, _)| name == "subscribed_fields")
        .flat_map(|(_, fields)| fields.split(','))
        .map(str::to_owned)
        .collect()
}

async fn connecting_subscribes_the_page_to_messages_postbacks_reads_reactions_and_standby(
    backend: Backend,
) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let posted = subscriptions(&meta, "POST", "page-1");
    assert_eq!(posted.len(), 1, "subscribed once");
    assert_eq!(
        subscribed_fields(&posted[0]),
        [
            "messages",
            "messaging_postbacks",
            "messaging_seen",
            "message_reactions",
            "standby"
        ]
    );
    assert!(meta.calls().contains(&"subscribe page-1".to_owned()));
    app.stop().await;
}

async fn a_link_without_permission_to_read_message_details_asks_to_reconnect_until_it_does(
    backend: Backend,
) {
    let (app, meta) = world(backend, vec![clinic()]).await;
    // A link made before Clariva asked for pages_read_engagement.
    let before: Vec<&str> = SCOPES
        .into_iter()
        .filter(|scope| *scope != "pages_read_engagement")
        .collect();
    meta.grant_only("page-token-1", &before);
    let asha = signed_in(&app, "Asha Rao").await;
    assert_eq!(connect(&app, &asha).await, "connected");
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let graph = Graph::new(&meta.app(), "http://unused/auth/meta/callback".into()).unwrap();
    let keys = TokenKeys::parse(KEYS).unwrap();

    let round = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!(
        (round.working, round.missing_permissions, round.rejected),
        (1, 1, 0)
    );
    assert_eq!(
        pane(&app, &asha).await["link"]["health"],
        serde_json::json!({"MissingPermissions": {"permissions": ["pages_read_engagement"]}})
    );
    let says = "Meta has not granted Clariva permission to read message details \
                (pages_read_engagement). Reconnect Instagram to grant it.";
    let html = asha
        .get(app.url("/dashboard/instagram"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(says), "{html}");
    assert!(html.contains("Reconnect Instagram</a>"), "{html}");
    let home = asha
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains(says) && home.contains("Reconnect Instagram</a>"),
        "the dashboard home flags it: {home}"
    );

    // Reconnecting, this time granting everything, mends it at once and for good.
    meta.grant_only("page-token-1", &SCOPES);
    assert_eq!(connect(&app, &asha).await, "connected");
    let good = serde_json::json!({"Good": {"expires_on": null}});
    assert_eq!(pane(&app, &asha).await["link"]["health"], good);
    let round = token_check::check_all(&db, &graph, &keys).await.unwrap();
    assert_eq!((round.working, round.missing_permissions), (1, 0));
    assert_eq!(pane(&app, &asha).await["link"]["health"], good);
    let home = asha
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Reconnect Instagram"), "{home}");
    app.stop().await;
}
