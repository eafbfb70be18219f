//! Another site cannot write through a doctor's browser: a cross-site log-in (which would
//! sign the doctor into an attacker's account) and a cross-site save are refused before they
//! run, while our own pages' writes and Meta's signed callbacks go through. Every response
//! carries the security headers, and HSTS over https (the `__Host-` cookie is checked in
//! accounts.rs beside the cookie's other attributes).

mod common;

use common::{session_cookie, Backend, TestApp, PASSWORD};
use reqwest::StatusCode;

on_both_databases!(
    a_cross_site_log_in_is_refused_and_starts_no_session,
    a_cross_site_save_is_refused_and_changes_nothing,
    our_own_pages_and_metas_callbacks_still_write,
    every_response_carries_the_security_headers,
    over_https_hsts_is_sent,
);

const EVIL: &str = "https://evil.example";

async fn a_cross_site_log_in_is_refused_and_starts_no_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = app.new_doctor(&app.other_browser(), "Asha Rao").await;
    for headers in [
        &[("origin", EVIL), ("sec-fetch-site", "cross-site")][..],
        &[("origin", EVIL)][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "null")][..],
    ] {
        let mut request = app.other_browser().post(app.url("/api/log_in")).form(&[
            ("email", &*email),
            ("password", PASSWORD),
            ("next", ""),
        ]);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(session_cookie(&response), None, "{headers:?}");
    }
}

async fn a_cross_site_save_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.new_doctor(&app.client, "Asha Rao").await;
    let before = app.read_from(&app.client, "setup/profile").await;
    let response = app
        .client
        .post(app.url("/api/setup/profile/save"))
        .header("origin", EVIL)
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("full_name", "Mallory"),
            ("practice_name", "Taken Over Clinic"),
            ("phone", ""),
            ("phone_country", ""),
            ("address", ""),
            ("public_note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.read_from(&app.client, "setup/profile").await, before);
}

async fn our_own_pages_and_metas_callbacks_still_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = app.new_doctor(&app.other_browser(), "Asha Rao").await;
    let origin = app.url("");
    let response = app
        .client
        .post(app.url("/api/log_in"))
        .header("origin", &origin)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", &*email), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(session_cookie(&response).is_some());
    // Meta posts from its own servers; the signature decides (here: none, so 400, not 403).
    for path in ["/meta/deauthorize", "/meta/data-deletion"] {
        let response = app
            .other_browser()
            .post(app.url(path))
            .header("origin", "https://www.facebook.com")
            .header("sec-fetch-site", "cross-site")
            .form(&[("signed_request", "not.signed")])
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/", "/login", "/signup", "/healthz", "/no-such-page"] {
        let response = app.get(path).await;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(
            header("strict-transport-security"),
            "",
            "not over plain http"
        );
    }
}

async fn over_https_hsts_is_sent(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("PUBLIC_BASE_URL", "https://clariva.example")]).await;
    for path in ["/login", "/healthz"] {
        let page = app.get(path).await;
        assert!(page.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
    }
}
