//! Confirming the email address from the link mailed at sign-up (a banner asks until then),
//! changing a password when signed in (the current one is needed, the other devices are
//! logged out, the address is told), and "Forgot password?", through the real app and a fake
//! SMTP relay (`common/fake_smtp.rs`): the
//! link goes to the account's address only, answers are the same for addresses without an
//! account, the link works once and for an hour, sets the new password and ends every other
//! session; only the token's hash is kept. Without a relay, in development, mail lands in
//! `DATA_DIR/mail` and is listed at `/dev/mail`, which is not served with a relay (and
//! production requires one).

mod common;

use std::time::Duration;

use common::fake_smtp::{FakeSmtp, Received};
use common::webhook::count;
use common::{unique_email, Backend, TestApp, PASSWORD};
use reqwest::StatusCode;

on_both_databases!(
    a_forgotten_password_is_reset_from_the_mailed_link_once,
    an_address_without_an_account_gets_the_same_answer_and_no_mail,
    a_link_older_than_an_hour_or_superseded_does_not_work,
    bad_input_gets_field_errors_not_server_errors,
    a_signed_in_doctor_changes_the_password_and_other_devices_are_logged_out,
    signing_up_mails_a_link_that_confirms_the_address_once,
);

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn app_with_smtp(backend: Backend) -> (TestApp, FakeSmtp) {
    let smtp = FakeSmtp::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", url.as_str())]).await;
    (app, smtp)
}

/// Subjects of the mails the app sends.
const RESET: &str = "Subject: Choose a new Clariva password";
const CONFIRM: &str = "Subject: Confirm your Clariva email address";
const CHANGED: &str = "Subject: Your Clariva password was changed";

/// The mails with `subject` the relay took so far.
fn mails(smtp: &FakeSmtp, subject: &str) -> Vec<Received> {
    let all = smtp.received();
    all.into_iter()
        .filter(|m| m.data.contains(subject))
        .collect()
}

/// Waits for the `n`th mail with `subject` (mail goes out after the answer).
async fn nth_mail(smtp: &FakeSmtp, subject: &str, n: usize) -> Received {
    for _ in 0..100 {
        if let Some(mail) = mails(smtp, subject).get(n - 1) {
            return mail.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail {n} ({subject}) never came; {:?}", smtp.received());
}

/// Logging in with [`NEW_PASSWORD`] works, with the one signed up with it does not.
async fn only_the_new_password_works(app: &TestApp, email: &str) {
    let old = app.log_in(email, PASSWORD).await.status();
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.log_in(email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.call_from(&app.other_browser(), "forgot_password", &[("email", email)])
        .await
}

/// The token of a mailed link.
fn token(mail: &Received) -> String {
    let link = mail.link().expect("a link in the mail");
    assert!(link.contains("?token="), "{link}");
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn a_forgotten_password_is_reset_from_the_mailed_link_once(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    // Another device stays signed in, until the reset.
    let phone = app.other_browser();
    let signed_in = app
        .call_from(
            &phone,
            "log_in",
            &[("email", &email), ("password", PASSWORD), ("next", "")],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);

    assert_eq!(
        forgot(&app, &email.to_uppercase()).await.status(),
        StatusCode::OK
    );
    let mail = nth_mail(&smtp, RESET, 1).await;
    assert_eq!(mail.to, std::slice::from_ref(&email));
    assert!(
        mail.data.contains("Subject: Choose a new Clariva password"),
        "{}",
        mail.data
    );
    let token = token(&mail);
    // Only the token's hash is kept.
    let kept = format!("SELECT COUNT(*) FROM account_links WHERE token_hash = '{token}'");
    assert_eq!(count(&app, &kept).await, 0);
    let resets = "SELECT COUNT(*) FROM account_links WHERE purpose = 'reset'";
    assert_eq!(count(&app, resets).await, 1);
    // The page of the link.
    let page = app.get(&format!("/reset-password?token={token}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Choose a new password"));

    let browser = app.other_browser();
    let form = [("token", token.as_str()), ("password", NEW_PASSWORD)];
    let reset = app.call_from(&browser, "reset_password", &form).await;
    assert_eq!(reset.status(), StatusCode::OK);
    // Signed in here at once; every other session has ended.
    let here = app.call_from(&browser, "log_out_others", &[]).await;
    assert_eq!(here.status(), StatusCode::OK);
    let there = app.call_from(&phone, "log_out_others", &[]).await;
    assert_eq!(there.status(), StatusCode::UNAUTHORIZED);
    let before = app.call_from(&app.client, "log_out_others", &[]).await;
    assert_eq!(before.status(), StatusCode::UNAUTHORIZED);
    only_the_new_password_works(&app, &email).await;
    // The link works once.
    let again = app
        .call_from(&app.other_browser(), "reset_password", &form)
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let said = again.text().await.unwrap();
    assert!(said.contains("expired or was used already"), "{said}");
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'password.reset'";
    assert_eq!(count(&app, audit).await, 1);
}

async fn an_address_without_an_account_gets_the_same_answer_and_no_mail(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    let nobody = forgot(&app, &unique_email()).await;
    let somebody = forgot(&app, &email).await;
    assert_eq!(nobody.status(), somebody.status());
    assert_eq!(nobody.text().await.unwrap(), somebody.text().await.unwrap());
    // Only the account's owner gets mail.
    nth_mail(&smtp, RESET, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails(&smtp, RESET).len(), 1);
    // At most three links an hour reach one mailbox.
    for _ in 0..4 {
        assert_eq!(forgot(&app, &email).await.status(), StatusCode::OK);
    }
    nth_mail(&smtp, RESET, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails(&smtp, RESET).len(), 3);
}

async fn a_link_older_than_an_hour_or_superseded_does_not_work(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    forgot(&app, &email).await;
    let first = token(&nth_mail(&smtp, RESET, 1).await);
    forgot(&app, &email).await;
    let second = token(&nth_mail(&smtp, RESET, 2).await);

    // An hour later the second link no longer works.
    let mut db = common::webhook::owner(&app).await;
    let past = clariva::db::now_millis() - 1;
    let expired = clariva::crypto::sha256_hex(&second);
    sqlx::query("UPDATE account_links SET expires_at = $1 WHERE token_hash = $2")
        .bind(past)
        .bind(&expired)
        .execute(&mut db)
        .await
        .unwrap();
    let form = [("token", second.as_str()), ("password", NEW_PASSWORD)];
    let late = app
        .call_from(&app.other_browser(), "reset_password", &form)
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);

    // The first still does; once used, no other link of the account works.
    forgot(&app, &email).await;
    let third = token(&nth_mail(&smtp, RESET, 3).await);
    let form = [("token", first.as_str()), ("password", NEW_PASSWORD)];
    let used = app
        .call_from(&app.other_browser(), "reset_password", &form)
        .await;
    assert_eq!(used.status(), StatusCode::OK);
    let form = [
        ("token", third.as_str()),
        ("password", "yet another passphrase"),
    ];
    let superseded = app
        .call_from(&app.other_browser(), "reset_password", &form)
        .await;
    assert_eq!(superseded.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.log_in(&email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn bad_input_gets_field_errors_not_server_errors(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    let malformed = forgot(&app, "not an address").await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert!(body["Invalid"]["email"].is_string(), "{body}");

    forgot(&app, &email).await;
    let token = token(&nth_mail(&smtp, RESET, 1).await);
    let short = [("token", token.as_str()), ("password", "short")];
    let refused = app
        .call_from(&app.other_browser(), "reset_password", &short)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["Invalid"]["password"].is_string(), "{body}");
    // The refused try did not use the link up.
    for made_up in ["", "x", &"A".repeat(5000)] {
        let form = [("token", made_up), ("password", NEW_PASSWORD)];
        let answer = app
            .call_from(&app.other_browser(), "reset_password", &form)
            .await;
        assert_eq!(answer.status(), StatusCode::CONFLICT, "{}", made_up.len());
    }
    let form = [("token", token.as_str()), ("password", NEW_PASSWORD)];
    let reset = app
        .call_from(&app.other_browser(), "reset_password", &form)
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_relay_mail_is_listed_in_development_and_with_one_nothing_is() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    assert_eq!(forgot(&app, &email).await.status(), StatusCode::OK);
    let mut listed = String::new();
    for _ in 0..100 {
        listed = app.get("/dev/mail").await.text().await.unwrap();
        if listed.contains("/reset-password?token=") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed.contains("/reset-password?token="), "{listed}");
    assert!(listed.contains(&email), "{listed}");
    let files = std::fs::read_dir(app.database.data_dir.join("mail")).unwrap();
    assert_eq!(files.count(), 2, "the confirmation and the reset");

    // With a relay (which production requires), nothing is listed.
    let smtp = FakeSmtp::start().await;
    let url = smtp.url();
    let app = app.restart(&[("SMTP_URL", url.as_str())]).await;
    assert_eq!(app.get("/dev/mail").await.status(), StatusCode::NOT_FOUND);
}

async fn a_signed_in_doctor_changes_the_password_and_other_devices_are_logged_out(
    backend: Backend,
) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    let phone = app.other_browser();
    let form = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("next", ""),
    ];
    assert_eq!(
        app.call_from(&phone, "log_in", &form).await.status(),
        StatusCode::OK
    );

    // The current password is needed, and the new one must be long enough.
    let wrong = [("current", "not the password"), ("password", NEW_PASSWORD)];
    let refused = app.call("change_password", &wrong).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["Invalid"]["current"].is_string(), "{body}");
    let short = [("current", PASSWORD), ("password", "short")];
    let body: serde_json::Value = app
        .call("change_password", &short)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["Invalid"]["password"].is_string(), "{body}");
    assert_eq!(app.log_in(&email, PASSWORD).await.status(), StatusCode::OK);

    let good = [("current", PASSWORD), ("password", NEW_PASSWORD)];
    assert_eq!(
        app.call("change_password", &good).await.status(),
        StatusCode::OK
    );
    // This browser stays signed in; the phone is logged out.
    assert_eq!(
        app.call("log_out_others", &[]).await.status(),
        StatusCode::OK
    );
    let there = app.call_from(&phone, "log_out_others", &[]).await;
    assert_eq!(there.status(), StatusCode::UNAUTHORIZED);
    let told = nth_mail(&smtp, CHANGED, 1).await;
    assert_eq!(told.to, std::slice::from_ref(&email));
    only_the_new_password_works(&app, &email).await;
    // Signed out, it cannot be called.
    let stranger = app
        .call_from(&app.other_browser(), "change_password", &good)
        .await;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'password.changed'";
    assert_eq!(count(&app, audit).await, 1);
}

/// Whether the signed-in doctor of `browser` has a confirmed address, as the dashboard says.
async fn confirmed(app: &TestApp, browser: &reqwest::Client) -> bool {
    let doctor = app.read_from(browser, "current_doctor").await;
    doctor["email_confirmed"].as_bool().unwrap()
}

async fn signing_up_mails_a_link_that_confirms_the_address_once(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let email = app.new_doctor(&app.client, "Asha Rao").await;
    let mail = nth_mail(&smtp, CONFIRM, 1).await;
    assert_eq!(mail.to, std::slice::from_ref(&email));
    assert!(!confirmed(&app, &app.client).await);
    let page = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        page.contains("Please confirm your email address"),
        "the banner"
    );

    // Asked again: a second link; either works, and the first used makes the other worthless.
    let resent = app.call("account/confirm-email", &[]).await;
    assert_eq!(resent.status(), StatusCode::OK);
    let second = token(&nth_mail(&smtp, CONFIRM, 2).await);
    let first = token(&mail);
    // The link works from any browser (a phone's mail app, say).
    let opened = app
        .with_cookie(
            reqwest::Method::GET,
            &format!("/verify-email?token={first}"),
            "",
        )
        .await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let to = opened.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/dashboard/account?email=confirmed");
    assert!(confirmed(&app, &app.client).await);
    let page = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        !page.contains("Please confirm your email address"),
        "no banner"
    );
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'email.confirmed'";
    assert_eq!(count(&app, audit).await, 1);

    // Used, superseded, made up or missing: the Account page says it expired; nothing breaks.
    for path in [
        format!("/verify-email?token={first}"),
        format!("/verify-email?token={second}"),
        "/verify-email?token=made-up".to_owned(),
        "/verify-email".to_owned(),
    ] {
        let opened = app.get(&path).await;
        assert_eq!(opened.status(), StatusCode::SEE_OTHER, "{path}");
        let to = opened.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, "/dashboard/account?email=expired", "{path}");
    }
    assert_eq!(count(&app, audit).await, 1);
    // Confirmed already: no more links.
    let again = app.call("account/confirm-email", &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}
