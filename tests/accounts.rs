//! Doctor accounts end to end over HTTP: sign-up, log-in, log-out, the guard, sessions,
//! throttling, and the request-level guarantees (request ids, body limit, health).

mod common;

use common::{session_cookie, unique_email, Backend, TestApp, PASSWORD};
use reqwest::{Method, StatusCode};

on_both_databases!(
    a_new_doctor_signs_up_and_lands_on_a_dashboard_that_greets_them,
    a_second_sign_up_with_the_same_email_gets_a_field_error,
    sign_up_reports_each_invalid_field,
    a_doctor_logs_out_and_back_in,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    the_dashboard_redirects_to_log_in_and_back,
    server_functions_answer_401_without_a_session,
    the_session_cookie_is_http_only_and_lax,
    logging_in_replaces_the_session_id,
    repeated_failures_for_one_email_are_refused_for_a_while,
    repeated_failures_from_one_address_are_refused_for_a_while,
    a_logged_out_session_no_longer_opens_the_dashboard,
    health_answers_when_the_database_does,
    the_request_id_is_reused_or_generated_and_echoed,
    bodies_over_one_mebibyte_get_413,
    signed_in_doctors_skip_the_log_in_page,
    fifty_parallel_wrong_passwords_check_no_more_than_the_allowance,
    refused_sign_ups_from_one_address_are_throttled,
    a_session_unused_for_a_week_ends,
    logging_out_of_every_other_device_ends_only_the_others,
);

async fn a_new_doctor_signs_up_and_lands_on_a_dashboard_that_greets_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.sign_up("Asha Rao", &unique_email(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["location"],
        "/dashboard/setup/profile?wizard=1",
        "the setup wizard starts"
    );

    let dashboard = app.get("/dashboard").await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard
        .text()
        .await
        .unwrap()
        .contains("Welcome, Asha Rao"));
    app.stop().await;
}

async fn a_second_sign_up_with_the_same_email_gets_a_field_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email();
    assert_eq!(
        app.sign_up("Asha Rao", &email, PASSWORD).await.status(),
        StatusCode::OK
    );

    // Same address, different case and padding: still the same inbox.
    let again = app
        .other_browser()
        .post(app.url("/api/create_account"))
        .form(&[
            ("full_name", "Someone Else"),
            ("email", &format!("  {}  ", email.to_uppercase())),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(session_cookie(&again).is_none());
    let body = again.text().await.unwrap();
    assert!(
        body.contains("email") && body.contains("already exists"),
        "{body}"
    );
}

async fn sign_up_reports_each_invalid_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.sign_up("  ", "not-an-email", "short").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    for field in ["full_name", "email", "password"] {
        assert!(body.contains(field), "{field} missing from {body}");
    }
    assert!(body.contains("at least 10 characters"), "{body}");
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
}

async fn a_doctor_logs_out_and_back_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;

    let out = app.log_out().await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(out.headers()["location"], "/login");
    assert!(session_cookie(&out).unwrap().contains("Max-Age=0"));
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER);

    let back = app.log_in(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(back.headers()["location"], "/dashboard");
    let dashboard = app.get("/dashboard").await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard
        .text()
        .await
        .unwrap()
        .contains("Welcome, Asha Rao"));
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    app.log_out().await;

    let wrong_password = app.log_in(&email, "not the password").await;
    let unknown_email = app.log_in(&unique_email(), "not the password").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong_password).is_none());
    let (a, b) = (
        wrong_password.text().await.unwrap(),
        unknown_email.text().await.unwrap(),
    );
    assert_eq!(a, b);
    assert!(a.contains("BadCredentials"), "{a}");
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
}

async fn the_dashboard_redirects_to_log_in_and_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.get("/dashboard?tab=1").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/login?next=%2Fdashboard%3Ftab%3D1"
    );

    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    // Back to the page asked for; somewhere else entirely is not a place log-in sends anyone.
    for (next, landing) in [
        ("/dashboard?tab=1", "/dashboard?tab=1"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
    ] {
        app.log_out().await;
        let response = app
            .call(
                "log_in",
                &[("email", &email), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(response.headers()["location"], landing, "{next}");
    }
}

async fn server_functions_answer_401_without_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for function in ["current_doctor", "log_out", "no_such_function"] {
        let response = app.call(function, &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{function}");
        assert_eq!(response.text().await.unwrap(), "\"Unauthorized\"");
    }
    // A forged cookie is no session.
    let response = app
        .with_cookie(
            Method::POST,
            "/api/current_doctor",
            "clariva_session=forged",
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn the_session_cookie_is_http_only_and_lax(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = session_cookie(&app.sign_up("Asha Rao", &unique_email(), PASSWORD).await).unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    let https =
        TestApp::spawn_with(backend, &[("PUBLIC_BASE_URL", "https://clariva.example")]).await;
    let cookie =
        session_cookie(&https.sign_up("Asha Rao", &unique_email(), PASSWORD).await).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Over https the name is __Host-: Secure, Path=/ and no Domain, so no subdomain can plant
    // a session cookie for this host.
    assert!(cookie.starts_with("__Host-clariva_session="), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
}

async fn logging_in_replaces_the_session_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email();
    let first = session_cookie(&app.sign_up("Asha Rao", &email, PASSWORD).await).unwrap();
    let second = session_cookie(&app.log_in(&email, PASSWORD).await).unwrap();
    assert_ne!(first, second);

    // The session from before the log-in is gone.
    let response = app
        .with_cookie(Method::POST, "/api/current_doctor", &first)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn repeated_failures_for_one_email_are_refused_for_a_while(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOGIN_LOCK_AFTER_PER_EMAIL", "3")]).await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    app.log_out().await;

    for _ in 0..2 {
        assert_eq!(
            app.log_in(&email, "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let third = app.log_in(&email, "wrong password").await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third
        .text()
        .await
        .unwrap()
        .contains("try again in 15 minutes"));

    // Refused even with the right password, and from another address's counter too.
    let refused = app.log_in(&email, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&refused).is_none());

    // Another doctor is not affected by this email's lock.
    let other = unique_email();
    app.other_browser()
        .post(app.url("/api/create_account"))
        .form(&[
            ("full_name", "Ben Okafor"),
            ("email", &other),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(app.log_in(&other, PASSWORD).await.status(), StatusCode::OK);
}

async fn repeated_failures_from_one_address_are_refused_for_a_while(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOGIN_LOCK_AFTER_PER_CLIENT", "4")]).await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    app.log_out().await;

    // Guessing at many different emails from one address.
    for _ in 0..3 {
        assert_eq!(
            app.log_in(&unique_email(), "guess guess guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Half the allowance is free; past it, each attempt is answered a second later per failure.
    let started = std::time::Instant::now();
    let fourth = app.log_in(&unique_email(), "guess guess guess").await;
    let slowed = started.elapsed();
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(slowed >= std::time::Duration::from_secs(1), "{slowed:?}");
    assert_eq!(
        app.log_in(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn a_logged_out_session_no_longer_opens_the_dashboard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = session_cookie(&app.sign_up("Asha Rao", &unique_email(), PASSWORD).await).unwrap();
    app.log_out().await;
    let replayed = app.with_cookie(Method::GET, "/dashboard", &cookie).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
}

async fn health_answers_when_the_database_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
}

async fn the_request_id_is_reused_or_generated_and_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "req-1234");

    let generated = app.get("/login").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let another = app.get("/login").await;
    assert_ne!(another.headers()["x-request-id"].to_str().unwrap(), id);

    // Text that is not an id is not copied into the logs: it is replaced.
    let smuggled = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "dr.rao@clinic.example says hi")
        .send()
        .await
        .unwrap();
    let replaced = smuggled.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(replaced.len(), 36, "a fresh UUID: {replaced}");
}

async fn bodies_over_one_mebibyte_get_413(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn(backend).await;
    // Over a raw connection: the server answers as soon as it reads the declared length, and
    // may close before a client could finish sending 1 MiB (reqwest then reports a broken
    // pipe instead of the answer).
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/log_in HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\nemail=x",
        app.addr,
        1024 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    let read = stream.read(&mut answer).await.unwrap();
    let status_line = String::from_utf8_lossy(&answer[..read]);
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
}

async fn signed_in_doctors_skip_the_log_in_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/login").await.status(), StatusCode::OK);
    app.sign_up("Asha Rao", &unique_email(), PASSWORD).await;
    for page in ["/login", "/signup"] {
        let response = app.get(page).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(response.headers()["location"], "/dashboard");
    }
}

async fn fifty_parallel_wrong_passwords_check_no_more_than_the_allowance(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LOGIN_LOCK_AFTER_PER_EMAIL", "4"),
            ("LOGIN_LOCK_AFTER_PER_CLIENT", "1000"),
        ],
    )
    .await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    app.log_out().await;
    let guesses = (0..50).map(|i| {
        let browser = app.other_browser();
        let url = app.url("/api/log_in");
        let email = email.clone();
        async move {
            browser
                .post(url)
                .form(&[
                    ("email", &*email),
                    ("password", &*format!("guess {i}")),
                    ("next", ""),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| {
            matches!(
                **s,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
        })
        .count();
    // The fourth checked guess is answered with the pause (429) rather than 401.
    assert!(checked <= 3, "{checked} guesses were checked: {answers:?}");
    assert_eq!(checked + refused, 50, "{answers:?}");
    // And the right password is refused now too.
    assert_eq!(
        app.log_in(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn refused_sign_ups_from_one_address_are_throttled(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("SIGNUP_LIMIT_PER_CLIENT", "3")]).await;
    // Successful sign-ups do not count against the address.
    let taken = unique_email();
    assert_eq!(
        app.sign_up("Asha Rao", &taken, PASSWORD).await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        let browser = app.other_browser();
        let form = [
            ("full_name", "Ben Okafor"),
            ("email", &*unique_email()),
            ("password", PASSWORD),
        ];
        let response = app.call_from(&browser, "create_account", &form).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // Testing whether addresses have accounts: three answers, then a pause.
    let app = &app;
    let probe = || {
        let form = [
            ("full_name", "Mallory"),
            ("email", &*taken),
            ("password", PASSWORD),
        ];
        let browser = app.other_browser();
        async move { app.call_from(&browser, "create_account", &form).await }
    };
    for _ in 0..3 {
        assert_eq!(probe().await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let paused = probe().await;
    assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(paused.text().await.unwrap().contains("sign-up is paused"));
}

async fn a_session_unused_for_a_week_ends(backend: Backend) {
    use sqlx::{Connection, Row};

    let app = TestApp::spawn(backend).await;
    let cookie = session_cookie(&app.sign_up("Asha Rao", &unique_email(), PASSWORD).await).unwrap();
    let mut db = sqlx::AnyConnection::connect(&app.database.url)
        .await
        .unwrap();
    let day = 24 * 60 * 60 * 1000_i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let set_last_seen = |at: i64| sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(at);
    // Used six days ago: still open, and this use counts.
    set_last_seen(now - 6 * day).execute(&mut db).await.unwrap();
    let used = app.with_cookie(Method::GET, "/dashboard", &cookie).await;
    assert_eq!(used.status(), StatusCode::OK);
    let seen: i64 = sqlx::query("SELECT last_seen_at FROM sessions")
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get(0);
    assert!(seen >= now, "the use was recorded");
    // Unused for eight days: ended, though its 30 days are not over.
    set_last_seen(now - 8 * day).execute(&mut db).await.unwrap();
    let idle = app.with_cookie(Method::GET, "/dashboard", &cookie).await;
    assert_eq!(idle.status(), StatusCode::SEE_OTHER);
    let api = app
        .with_cookie(Method::POST, "/api/current_doctor", &cookie)
        .await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

async fn logging_out_of_every_other_device_ends_only_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = unique_email();
    app.sign_up("Asha Rao", &email, PASSWORD).await;
    let phone = app.other_browser();
    let laptop = app.other_browser();
    for browser in [&phone, &laptop] {
        let response = app
            .call_from(
                browser,
                "log_in",
                &[("email", &*email), ("password", PASSWORD), ("next", "")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // Another doctor's session is no business of this one.
    let other = app.other_browser();
    app.new_doctor(&other, "Ben Okafor").await;

    let ended = app.call("log_out_others", &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(ended.json::<serde_json::Value>().await.unwrap(), 2);
    for browser in [&phone, &laptop] {
        let response = app.call_from(browser, "current_doctor", &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.call("current_doctor", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call_from(&other, "current_doctor", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call_from(&other, "log_out_others", &[])
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap(),
        0
    );
}
