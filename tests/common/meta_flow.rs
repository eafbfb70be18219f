//! A browser's trip through "Connect Instagram" against the fake Meta: the app configured
//! with the fake, the start, Meta's dialog, and the way back.

use reqwest::{Client, StatusCode};

use super::fake_meta::{self, FakeMeta};
use super::{Backend, TestApp};

/// The sealing keys the app runs with, for tests that open or check its tokens themselves.
pub const KEYS: &str = "k1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// The app, configured with the fake Meta's app and base URLs.
pub async fn app_with_meta(backend: Backend, meta: &FakeMeta) -> TestApp {
    let vars = meta_vars(meta);
    TestApp::spawn_with(backend, &vars.each_ref().map(|(k, v)| (*k, v.as_str()))).await
}

/// The app, configured with the fake Meta's app and base URLs and with `more` variables.
pub async fn app_with_meta_and(
    backend: Backend,
    meta: &FakeMeta,
    more: &[(&str, &str)],
) -> TestApp {
    let vars = meta_vars(meta);
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(more);
    TestApp::spawn_with(backend, &all).await
}

/// A second instance of `app` on its database, configured like it.
pub async fn another_instance(app: &TestApp, meta: &FakeMeta) -> TestApp {
    let vars = meta_vars(meta);
    app.another_instance(&vars.each_ref().map(|(k, v)| (*k, v.as_str())))
        .await
}

/// `app` stopped and started again on its database, configured like it.
pub async fn restart(app: TestApp, meta: &FakeMeta) -> TestApp {
    let vars = meta_vars(meta);
    app.restart(&vars.each_ref().map(|(k, v)| (*k, v.as_str())))
        .await
}

/// The app's configuration for `meta` (and the test's token keys).
pub fn meta_vars(meta: &FakeMeta) -> [(&'static str, String); 6] {
    let base = meta.base_url();
    [
        ("META_APP_ID", fake_meta::APP_ID.to_owned()),
        ("META_APP_SECRET", fake_meta::APP_SECRET.to_owned()),
        ("META_VERIFY_TOKEN", "fake-verify-token".to_owned()),
        ("META_DIALOG_BASE_URL", base.clone()),
        ("META_GRAPH_BASE_URL", base),
        ("TOKEN_KEYS", KEYS.to_owned()),
    ]
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("no redirect: {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// "Connect Instagram": the address of Meta's dialog the app sends the browser to.
pub async fn start(app: &TestApp, browser: &Client) -> String {
    let response = browser
        .get(app.url("/auth/meta/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

/// The dialog's link named `choice` ("Continue" or "Cancel"): where Meta sends the browser
/// back, as a path and query on the app.
pub async fn dialog_link(dialog: &str, choice: &str) -> String {
    let page = reqwest::get(dialog).await.unwrap().text().await.unwrap();
    let marker = format!(">{choice}</a>");
    let before = &page[..page.find(&marker).expect("the dialog offers the choice")];
    let href = &before[before.rfind("href=\"").unwrap() + 6..before.len() - 1];
    let url = reqwest::Url::parse(&href.replace("&amp;", "&")).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap())
}

/// Follows Meta's redirect back to the app: the `result` the app sends the browser to the pane with.
pub async fn back_from_meta(app: &TestApp, browser: &Client, callback: &str) -> String {
    let response = browser.get(app.url(callback)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{callback}");
    let to = location(&response);
    to.strip_prefix("/dashboard/instagram?result=")
        .unwrap_or_else(|| panic!("back to the pane, not {to}"))
        .to_owned()
}

/// The whole trip: Connect, "Continue" on Meta's dialog, back to the app.
pub async fn connect(app: &TestApp, browser: &Client) -> String {
    let dialog = start(app, browser).await;
    let callback = dialog_link(&dialog, "Continue").await;
    back_from_meta(app, browser, &callback).await
}
