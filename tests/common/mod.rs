//! Starts the real app on port 0 with a fresh database (SQLite, or PostgreSQL when
//! `TEST_POSTGRES_URL` is set), and talks to it over HTTP like a browser would.
#![allow(dead_code)] // each test binary uses a different part of this harness

pub mod binary;
pub mod fake_meta;
pub mod fake_payments;
pub mod fake_smtp;
pub mod meta_flow;
pub mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use clariva::config::Config;
use clariva::server::Application;
use leptos::config::LeptosOptions;
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares `async fn name(backend: Backend)` tests once and runs each on both databases.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::common::postgres_available() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            })*
        }
    };
}

/// Whether PostgreSQL tests run; under CI a missing server is a failure, not a skip.
pub fn postgres_available() -> bool {
    let set = std::env::var("TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty());
    if !set && std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests must run");
    }
    set
}

/// A database of its own for one test; dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDatabase {
    /// The owner's connection: migrations, and tests that look at the raw rows.
    pub url: String,
    /// The app's connection: on PostgreSQL a role that owns nothing and has no BYPASSRLS, so
    /// every test runs under row-level security as production does.
    pub app_url: String,
    /// The app's data directory (`DATA_DIR`).
    pub data_dir: PathBuf,
    postgres: Option<(String, String)>,
    /// Whether dropping this deletes the database (the copy a second instance gets does not).
    owns: bool,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let data_dir = std::env::temp_dir().join(format!("clariva-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir).unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}/clariva.db", data_dir.display());
                Self {
                    app_url: url.clone(),
                    url,
                    data_dir,
                    postgres: None,
                    owns: true,
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_POSTGRES_URL").unwrap();
                let name = format!("clariva_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url).await.unwrap();
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                create_app_role(&mut admin).await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                let host = base.rsplit_once('@').map_or(base, |(_, host)| host);
                let host = host
                    .trim_start_matches("postgres://")
                    .trim_start_matches("postgresql://");
                Self {
                    url: format!("{base}/{name}"),
                    app_url: format!("postgres://{APP_ROLE}@{host}/{name}"),
                    data_dir,
                    postgres: Some((admin_url, name)),
                    owns: true,
                }
            }
        }
    }

    /// The same database for another app instance; the first one still cleans it up.
    pub fn share(&self) -> Self {
        Self {
            url: self.url.clone(),
            app_url: self.app_url.clone(),
            data_dir: self.data_dir.clone(),
            postgres: None,
            owns: false,
        }
    }
}

/// The login role the app connects as in tests: a member of `clariva_app` (which the
/// migrations grant the tables to), not a superuser, no BYPASSRLS.
pub const APP_ROLE: &str = "clariva_test_app";

/// Creates the app's roles once per server; tests that race to create them find them made.
async fn create_app_role(admin: &mut PgConnection) {
    for statement in [
        "CREATE ROLE clariva_app NOLOGIN NOSUPERUSER NOBYPASSRLS".to_owned(),
        format!("CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
        format!("GRANT clariva_app TO {APP_ROLE}"),
    ] {
        let _ = admin.execute(statement.as_str()).await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.owns {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime; a thread of its own may block on another.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ = admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// A browser: keeps cookies, does not follow redirects (tests look at them).
    pub client: Client,
    pub database: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the app with extra configuration variables.
    pub async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Self {
        // `TEST_LOG=info` (any filter) shows the servers' logs, for chasing a failing test.
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        Self::spawn_on(TestDatabase::create(backend).await, vars).await
    }

    /// Another instance of the app on this one's database (several instances share one
    /// PostgreSQL database in production), with extra configuration variables.
    pub async fn another_instance(&self, vars: &[(&str, &str)]) -> Self {
        Self::spawn_on(self.database.share(), vars).await
    }

    /// Stops the app and starts it again on the same database, with these variables (what
    /// was stored must survive the restart).
    pub async fn restart(mut self, vars: &[(&str, &str)]) -> Self {
        self.stop_server().await;
        Self::spawn_on(self.database, vars).await
    }

    async fn spawn_on(database: TestDatabase, vars: &[(&str, &str)]) -> Self {
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert("DATABASE_URL".into(), database.app_url.clone());
        env.insert("DATABASE_MIGRATION_URL".into(), database.url.clone());
        env.entry("DATA_DIR".into())
            .or_insert_with(|| database.data_dir.display().to_string());
        let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
        let mut leptos = LeptosOptions::builder().output_name("clariva").build();
        // The site's files from elsewhere than target/site (tests that serve files of their own).
        if let Some(root) = env.get("LEPTOS_SITE_ROOT") {
            leptos.site_root = root.as_str().into();
        }
        let app = Application::build(config, leptos, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = app.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            client: browser(),
            database,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Calls a server function the way the WASM client does (form-encoded POST).
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.call_from(&self.client, function, form).await
    }

    /// Calls a server function from another browser.
    pub async fn call_from(
        &self,
        browser: &Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> Response {
        browser
            .post(self.url(&format!("/api/{function}")))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function that reads, and returns its JSON; anything but 200 fails.
    pub async fn read_from(&self, browser: &Client, function: &str) -> serde_json::Value {
        let response = self.call_from(browser, function, &[]).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{function}");
        response.json().await.unwrap()
    }

    /// Signs a new doctor up in `browser`, which then holds their session; their email.
    pub async fn new_doctor(&self, browser: &Client, full_name: &str) -> String {
        let email = unique_email();
        let form = [
            ("full_name", full_name),
            ("email", &email),
            ("password", PASSWORD),
        ];
        let response = self.call_from(browser, "create_account", &form).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        email
    }

    pub async fn sign_up(&self, full_name: &str, email: &str, password: &str) -> Response {
        self.call(
            "create_account",
            &[
                ("full_name", full_name),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        self.call(
            "log_in",
            &[("email", email), ("password", password), ("next", "")],
        )
        .await
    }

    pub async fn log_out(&self) -> Response {
        self.call("log_out", &[]).await
    }

    /// A request from a fresh browser that sends only `cookie` (a `Set-Cookie` value works:
    /// its attributes are dropped), as someone replaying a stolen or stale session would.
    pub async fn with_cookie(&self, method: reqwest::Method, path: &str, cookie: &str) -> Response {
        let pair = cookie.split(';').next().unwrap_or_default().to_owned();
        browser()
            .request(method, self.url(path))
            .header(reqwest::header::COOKIE, pair)
            .send()
            .await
            .unwrap()
    }

    /// A second browser, with no cookies, against the same server.
    pub fn other_browser(&self) -> Client {
        browser()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        // A response that never completes fails its test instead of stalling the run.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Calls one of the setup panes' server functions (under `/api/setup/`) from `browser`.
pub async fn setup_call(
    app: &TestApp,
    browser: &Client,
    function: &str,
    form: &[(&str, &str)],
) -> Response {
    app.call_from(browser, &format!("setup/{function}"), form)
        .await
}

/// The `Set-Cookie` header of the session cookie in a response.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clariva_session=") || v.starts_with("__Host-clariva_session="))
        .map(str::to_owned)
}

/// The password every test doctor signs up with.
pub const PASSWORD: &str = "correct horse battery";

/// A unique email for one test.
pub fn unique_email() -> String {
    format!("dr.{}@clinic.example", uuid::Uuid::new_v4().simple())
}

/// The methods-and-fees form offering text/chat (INR 200) and voice calls (INR 500).
pub const OFFER_TEXT_AND_VOICE: [(&str, &str); 9] = [
    ("currency", "INR"),
    ("text_offered", "on"),
    ("text_fee", "200"),
    ("text_instructions", ""),
    ("voice_offered", "on"),
    ("voice_fee", "500"),
    ("voice_instructions", ""),
    ("video_fee", ""),
    ("video_instructions", ""),
];

/// The services of a practice opened by [`open_practice`].
pub struct OpenPractice {
    /// 30 minutes, by text or voice call.
    pub consultation: String,
    /// 90 minutes, by voice call.
    pub long_review: String,
}

/// Sets up the signed-in doctor in `browser` to take bookings: open around the clock every day
/// in Asia/Kolkata, no notice, a week ahead, 15-minute holds; text (INR 200) and voice (INR 500).
pub async fn open_practice(app: &TestApp, browser: &Client) -> OpenPractice {
    save_hours(app, browser, "0").await;
    let services: [&[(&str, &str)]; 2] = [
        &[
            ("id", ""),
            ("name", "Consultation"),
            ("description", ""),
            ("duration", "30"),
            ("method_text", "on"),
            ("method_voice", "on"),
        ],
        &[
            ("id", ""),
            ("name", "Long review"),
            ("description", ""),
            ("duration", "90"),
            ("method_voice", "on"),
        ],
    ];
    for (function, form) in std::iter::once(("methods-fees/save", &OFFER_TEXT_AND_VOICE[..]))
        .chain(services.iter().map(|form| ("services/save", *form)))
    {
        let response = setup_call(app, browser, function, form).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{function}");
    }
    let listed = app.read_from(browser, "setup/services").await;
    let id = |name: &str| {
        listed["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    OpenPractice {
        consultation: id("Consultation"),
        long_review: id("Long review"),
    }
}

/// A patient as the booking form sends them: name, phone, phone country, note.
pub struct Patient<'a>(pub &'a str, pub &'a str, pub &'a str, pub &'a str);

/// Books `patient` by voice call into the first free time of `service`, from `browser`; the
/// answer.
pub async fn book_first_free(
    app: &TestApp,
    browser: &Client,
    service: &str,
    patient: Patient<'_>,
) -> Response {
    let free = app
        .call_from(
            browser,
            "appointments/free",
            &[("service", service), ("day", "")],
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let starts_at = free["times"][0]["starts_at"].as_i64().unwrap().to_string();
    let Patient(name, phone, country, note) = patient;
    let form = [
        ("service", service),
        ("method", "voice"),
        ("starts_at", &starts_at),
        ("patient_name", name),
        ("patient_phone", phone),
        ("phone_country", country),
        ("note", note),
    ];
    app.call_from(browser, "appointments/book", &form).await
}

/// Saves the availability [`open_practice`] uses (open around the clock every day in
/// Asia/Kolkata, 30-minute appointments, no notice, a week ahead, 15-minute holds) with this
/// gap between appointments, in minutes.
pub async fn save_hours(app: &TestApp, browser: &Client, gap_minutes: &str) {
    let mut hours = vec![("time_zone", "Asia/Kolkata")];
    for day in clariva::domain::availability::DAY_FIELDS {
        hours.push((day, "00:00-24:00"));
    }
    hours.extend([
        ("appointment_minutes", "30"),
        ("gap_minutes", gap_minutes),
        ("notice_hours", "0"),
        ("horizon_days", "7"),
        ("hold_minutes", "15"),
    ]);
    let response = setup_call(app, browser, "availability/save", &hours).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK, "availability");
}

/// The audit actions recorded about one row (an appointment, say), oldest first.
pub async fn audit_actions(database_url: &str, subject_id: &str) -> Vec<String> {
    use sqlx::{Connection, Row};

    let mut db = sqlx::AnyConnection::connect(database_url).await.unwrap();
    sqlx::query("SELECT action FROM audit_log WHERE subject_id = $1 ORDER BY created_at, id")
        .bind(subject_id)
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("action"))
        .collect()
}
