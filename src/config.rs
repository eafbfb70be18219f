//! Configuration: one typed struct read from the environment (and `.env`, which `main` loads).
//! Every variable is listed, with a comment, in `.env.example`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::crypto::seal::TokenKeys;
pub use crate::crypto::SecretKey;

/// A configuration problem that stops the server, naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

pub struct Config {
    pub app_env: AppEnv,
    /// `sqlite://…` (the default, a file under the data directory) or `postgres://…`.
    pub database_url: String,
    /// Where migrations run, when not through `database_url`: on PostgreSQL the tables'
    /// owner, while the app connects as a role that owns nothing (row-level security).
    pub database_migration_url: Option<String>,
    /// Where generated local files live (the SQLite database, the development key).
    pub data_dir: PathBuf,
    /// The address doctors use to reach the app; `https` makes cookies `Secure`.
    pub public_base_url: String,
    /// Keys the hashes under which log-in attempts are counted, so that table holds no emails.
    pub secret_key: SecretKey,
    /// Take the client's address from the last `X-Forwarded-For` hop (behind a proxy only).
    pub trust_forwarded_for: bool,
    pub login_throttle: LoginThrottle,
    /// Seal Instagram tokens at rest.
    pub token_keys: TokenKeys,
    /// The Meta app doctors connect Instagram through; `None` until an operator sets it up.
    pub meta: Option<MetaApp>,
    /// How long housekeeping keeps dead letters and processed webhook deliveries.
    pub retention: Retention,
    /// Where the payment providers' APIs are (tests point them at a fake).
    pub payment_apis: PaymentApis,
    /// How mail reaches doctors (account recovery).
    pub mail: MailSettings,
}

/// `SMTP_URL`: the relay mail goes through, as lettre reads it (`smtps://user:pass@host`,
/// `smtp://user:pass@host:587?tls=required` for STARTTLS, `smtp://host:port` for a relay on
/// the same machine); without it, in development only, mail is written to `DATA_DIR/mail`.
/// `MAIL_FROM`: the sender, `Clariva Care <no-reply@…>`.
pub struct MailSettings {
    pub smtp_url: Option<SecretString>,
    pub from: lettre::message::Mailbox,
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "set"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// The payment providers' API base URLs: `STRIPE_API_BASE_URL` (default
/// `https://api.stripe.com`) and `RAZORPAY_API_BASE_URL` (default `https://api.razorpay.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentApis {
    pub stripe: String,
    pub razorpay: String,
}

/// The Meta app, and where Meta's login dialog and Graph API are (tests point them at a fake).
pub struct MetaApp {
    pub app_id: String,
    pub app_secret: SecretString,
    /// What Meta must echo when it verifies the webhook URL.
    pub verify_token: SecretString,
    /// Like `v21.0`.
    pub graph_version: String,
    pub dialog_base_url: String,
    pub graph_base_url: String,
    /// A Facebook Login for Business configuration: when set, the login dialog asks for the
    /// permissions it lists instead of naming them itself (`scope`).
    pub login_config_id: Option<String>,
    /// Meta approved the app's Human Agent feature: a reply typed by the doctor may go out
    /// with the `HUMAN_AGENT` tag up to 7 days after the patient's last message, instead of
    /// within 24 hours only (`META_HUMAN_AGENT=true`).
    pub human_agent: bool,
}

impl fmt::Debug for MetaApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaApp")
            .field("app_id", &self.app_id)
            .field("graph_version", &self.graph_version)
            .field("dialog_base_url", &self.dialog_base_url)
            .field("graph_base_url", &self.graph_base_url)
            .field("login_config_id", &self.login_config_id)
            .field("human_agent", &self.human_agent)
            .finish_non_exhaustive()
    }
}

/// When failed log-ins are slowed down and then refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures for one email before it is refused for `lockout`.
    pub lock_after_per_email: u32,
    /// Failures from one client address before it is refused for `lockout`.
    pub lock_after_per_client: u32,
    /// Refused sign-ups (such as "this email already has an account") from one client
    /// address before its sign-ups are refused for `lockout`.
    pub sign_ups_per_client: u32,
    /// How long failures are remembered, and how long a refusal lasts.
    pub lockout: Duration,
}

impl LoginThrottle {
    /// The pause before answering, once half the allowed failures are used: one more second
    /// per further failure, at most five.
    pub fn delay(&self, failures: u32, lock_after: u32) -> Duration {
        let free = lock_after / 2;
        Duration::from_secs(u64::from(failures.saturating_sub(free).min(5)))
    }
}

/// How long the inbox keeps what no doctor needs any more, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Dead letters, from when they were written (`DEAD_LETTER_RETENTION_DAYS`, default 30).
    pub dead_letter_days: u32,
    /// Deliveries, from when they were split into events (`DELIVERY_RETENTION_DAYS`,
    /// default 7).
    pub delivery_days: u32,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("data_dir", &self.data_dir)
            .field("public_base_url", &self.public_base_url)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("login_throttle", &self.login_throttle)
            .field("token_keys", &self.token_keys)
            .field("meta", &self.meta)
            .field("retention", &self.retention)
            .field("payment_apis", &self.payment_apis)
            .field("mail", &self.mail)
            .finish_non_exhaustive()
    }
}

const DEV_KEY_FILE: &str = "secret_key";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`; tests pass a map instead of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let app_env = match var("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(_) => return Err(invalid("APP_ENV", "must be `development` or `production`")),
        };
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/clariva.db", data_dir.display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let database_migration_url = var("DATABASE_MIGRATION_URL").filter(|u| !u.is_empty());
        let public_base_url = var("PUBLIC_BASE_URL")
            .unwrap_or_else(|| "http://127.0.0.1:3000".into())
            .trim_end_matches('/')
            .to_owned();
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(invalid(
                "PUBLIC_BASE_URL",
                "must start with http:// or https://",
            ));
        }
        if app_env == AppEnv::Production && !public_base_url.starts_with("https://") {
            return Err(invalid("PUBLIC_BASE_URL", "must be https:// in production"));
        }
        let secret_key = match (var("SECRET_KEY"), app_env) {
            (Some(text), _) => {
                SecretKey::parse(&text).map_err(|problem| invalid("SECRET_KEY", problem))?
            }
            (None, AppEnv::Production) => {
                return Err(invalid("SECRET_KEY", "is required in production"))
            }
            (None, AppEnv::Development) => development_key(&data_dir)?,
        };
        let trust_forwarded_for =
            parse_or("TRUST_FORWARDED_FOR", var("TRUST_FORWARDED_FOR"), false)?;
        let login_throttle = LoginThrottle {
            lock_after_per_email: parse_or(
                "LOGIN_LOCK_AFTER_PER_EMAIL",
                var("LOGIN_LOCK_AFTER_PER_EMAIL"),
                10,
            )?,
            lock_after_per_client: parse_or(
                "LOGIN_LOCK_AFTER_PER_CLIENT",
                var("LOGIN_LOCK_AFTER_PER_CLIENT"),
                50,
            )?,
            sign_ups_per_client: parse_or(
                "SIGNUP_LIMIT_PER_CLIENT",
                var("SIGNUP_LIMIT_PER_CLIENT"),
                20,
            )?,
            lockout: Duration::from_secs(
                60 * parse_or::<u64>("LOGIN_LOCKOUT_MINUTES", var("LOGIN_LOCKOUT_MINUTES"), 15)?,
            ),
        };
        let token_keys = match (var("TOKEN_KEYS"), app_env) {
            (Some(text), _) => {
                TokenKeys::parse(&text).map_err(|problem| invalid("TOKEN_KEYS", problem))?
            }
            (None, AppEnv::Production) => {
                return Err(invalid("TOKEN_KEYS", "is required in production"))
            }
            (None, AppEnv::Development) => {
                TokenKeys::single("dev", secret_key.derive("clariva token sealing"))
            }
        };
        let meta = meta_app(&var)?;
        let payment_apis = PaymentApis {
            stripe: base_url(&var, "STRIPE_API_BASE_URL", "https://api.stripe.com")?,
            razorpay: base_url(&var, "RAZORPAY_API_BASE_URL", "https://api.razorpay.com")?,
        };
        let mail = mail_settings(&var, app_env)?;
        let retention = Retention {
            dead_letter_days: days("DEAD_LETTER_RETENTION_DAYS", &var, 30)?,
            delivery_days: days("DELIVERY_RETENTION_DAYS", &var, 7)?,
        };
        Ok(Self {
            app_env,
            database_url,
            database_migration_url,
            data_dir,
            public_base_url,
            secret_key,
            trust_forwarded_for,
            login_throttle,
            token_keys,
            meta,
            retention,
            payment_apis,
            mail,
        })
    }

    pub fn cookies_secure(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }
}

/// `SMTP_URL` (required in production: doctors must be able to recover their accounts) and
/// `MAIL_FROM`. A URL lettre cannot read is refused without echoing it (it holds a password).
fn mail_settings(
    var: &impl Fn(&str) -> Option<String>,
    app_env: AppEnv,
) -> Result<MailSettings, ConfigError> {
    let smtp_url = var("SMTP_URL");
    if let Some(url) = &smtp_url {
        type Smtp = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;
        Smtp::from_url(url).map_err(|_| {
            invalid(
                "SMTP_URL",
                "must be smtp://host:port, smtp://user:password@host:587?tls=required or smtps://user:password@host",
            )
        })?;
    } else if app_env == AppEnv::Production {
        return Err(invalid("SMTP_URL", "is required in production"));
    }
    let from = var("MAIL_FROM")
        .unwrap_or_else(|| "Clariva Care <no-reply@clariva.invalid>".into())
        .parse()
        .map_err(|_| {
            invalid(
                "MAIL_FROM",
                "must be an address, like Clariva Care <no-reply@example.com>",
            )
        })?;
    Ok(MailSettings {
        smtp_url: smtp_url.map(SecretString::from),
        from,
    })
}

/// The Meta app: all of `META_APP_ID`, `META_APP_SECRET` and `META_VERIFY_TOKEN`, or none.
fn meta_app(var: &impl Fn(&str) -> Option<String>) -> Result<Option<MetaApp>, ConfigError> {
    let (Some(app_id), Some(app_secret)) = (var("META_APP_ID"), var("META_APP_SECRET")) else {
        for name in ["META_APP_ID", "META_APP_SECRET"] {
            if var(name).is_some() {
                return Err(invalid(
                    name,
                    "is set, but META_APP_ID and META_APP_SECRET go together",
                ));
            }
        }
        return Ok(None);
    };
    let verify_token = var("META_VERIFY_TOKEN")
        .ok_or_else(|| invalid("META_VERIFY_TOKEN", "is required with META_APP_ID"))?;
    let url = |name: &'static str, default: &str| base_url(var, name, default);
    let graph_version = var("META_GRAPH_VERSION").unwrap_or_else(|| "v21.0".to_owned());
    if !graph_version.starts_with('v') {
        return Err(invalid("META_GRAPH_VERSION", "looks like v21.0"));
    }
    Ok(Some(MetaApp {
        app_id,
        app_secret: SecretString::from(app_secret),
        verify_token: SecretString::from(verify_token),
        graph_version,
        dialog_base_url: url("META_DIALOG_BASE_URL", "https://www.facebook.com")?,
        graph_base_url: url("META_GRAPH_BASE_URL", "https://graph.facebook.com")?,
        login_config_id: var("META_LOGIN_CONFIG_ID").filter(|id| !id.trim().is_empty()),
        human_agent: parse_or("META_HUMAN_AGENT", var("META_HUMAN_AGENT"), false)?,
    }))
}

/// An outside service's base URL from `name`, else `default`; without a trailing slash.
fn base_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    let url = var(name).unwrap_or_else(|| default.to_owned());
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid(
            name,
            "must start with https:// (or http:// for a local fake)",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn parse_or<T: std::str::FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: T,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| invalid(variable, format!("`{text}` is not a valid value"))),
    }
}

/// A whole number of days, at least one.
fn days(
    variable: &'static str,
    var: &impl Fn(&str) -> Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    match parse_or(variable, var(variable), default)? {
        0 => Err(invalid(variable, "must be at least 1 (days)")),
        days => Ok(days),
    }
}

/// In development a missing key is generated once and kept under the data directory, so
/// a restart keeps working; production never gets here.
fn development_key(data_dir: &Path) -> Result<SecretKey, ConfigError> {
    let path = data_dir.join(DEV_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return SecretKey::parse(&text).map_err(|error| {
            invalid(
                "SECRET_KEY",
                format!(
                    "the development key in {} is unreadable ({error}); delete it",
                    path.display()
                ),
            )
        });
    }
    let (key, text) = SecretKey::generate();
    std::fs::create_dir_all(data_dir)
        .and_then(|()| write_private(&path, &text))
        .map_err(|error| {
            invalid(
                "SECRET_KEY",
                format!(
                    "not set, and {} could not be written: {error}",
                    path.display()
                ),
            )
        })?;
    tracing::info!(path = %path.display(), "SECRET_KEY not set: generated a development key");
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("clariva-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn development_generates_a_key_once_and_keeps_it() {
        let dir = temp_dir();
        let dir = dir.to_str().unwrap();
        let first = config(&[("DATA_DIR", dir)]).unwrap();
        let second = config(&[("DATA_DIR", dir)]).unwrap();
        assert_eq!(first.secret_key.expose(), second.secret_key.expose());
        assert_eq!(first.database_url, format!("sqlite://{dir}/clariva.db"));
    }

    #[test]
    fn production_refuses_a_missing_key_and_names_it() {
        let error = config(&[
            ("APP_ENV", "production"),
            ("PUBLIC_BASE_URL", "https://clariva.example"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "SECRET_KEY");
    }

    #[test]
    fn production_refuses_a_malformed_key() {
        for bad in ["not base64!", "c2hvcnQ="] {
            let error = config(&[
                ("APP_ENV", "production"),
                ("PUBLIC_BASE_URL", "https://clariva.example"),
                ("SECRET_KEY", bad),
            ])
            .unwrap_err();
            assert_eq!(error.variable, "SECRET_KEY", "{bad}");
        }
    }

    const PRODUCTION: [(&str, &str); 5] = [
        ("APP_ENV", "production"),
        ("PUBLIC_BASE_URL", "https://clariva.example/"),
        ("SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        (
            "TOKEN_KEYS",
            "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
        (
            "SMTP_URL",
            "smtps://mailer:s3cret-pass@smtp.clariva.example",
        ),
    ];

    #[test]
    fn production_with_keys_starts_and_uses_secure_cookies() {
        let production = config(&PRODUCTION).unwrap();
        assert!(production.cookies_secure());
        assert_eq!(production.public_base_url, "https://clariva.example");
        assert!(production.meta.is_none(), "Meta is optional");
        let shown = format!("{production:?}");
        assert!(!shown.contains("AAAA") && !shown.contains("AQEB"));
        let without_token_keys = config(&PRODUCTION[..3]).unwrap_err();
        assert_eq!(without_token_keys.variable, "TOKEN_KEYS");
        assert!(!shown.contains("s3cret-pass"), "{shown}");
    }

    #[test]
    fn production_needs_a_mail_relay_and_a_bad_one_is_refused_unechoed() {
        let without_smtp = config(&PRODUCTION[..4]).unwrap_err();
        assert_eq!(without_smtp.variable, "SMTP_URL");
        let mut vars = PRODUCTION.to_vec();
        vars[4] = ("SMTP_URL", "imap://mailer:s3cret-pass@smtp.clariva.example");
        let refused = config(&vars).unwrap_err();
        assert_eq!(refused.variable, "SMTP_URL");
        assert!(!refused.to_string().contains("s3cret-pass"), "{refused}");
        vars[4] = ("SMTP_URL", "smtp://127.0.0.1:2525");
        vars.push(("MAIL_FROM", "not an address"));
        assert_eq!(config(&vars).unwrap_err().variable, "MAIL_FROM");
        // Development needs none: mail goes to files.
        let dir = temp_dir();
        let development = config(&[("DATA_DIR", dir.to_str().unwrap())]).unwrap();
        assert!(development.mail.smtp_url.is_none());
    }

    #[test]
    fn the_meta_app_comes_whole_with_meta_defaults() {
        let mut vars = PRODUCTION.to_vec();
        vars.extend([("META_APP_ID", "1234"), ("META_APP_SECRET", "app-secret")]);
        assert_eq!(config(&vars).unwrap_err().variable, "META_VERIFY_TOKEN");
        vars.push(("META_VERIFY_TOKEN", "verify-me"));
        let meta = config(&vars).unwrap().meta.unwrap();
        assert_eq!(meta.graph_base_url, "https://graph.facebook.com");
        assert_eq!(meta.dialog_base_url, "https://www.facebook.com");
        assert_eq!(meta.graph_version, "v21.0");
        assert_eq!(meta.login_config_id, None);
        vars.push(("META_LOGIN_CONFIG_ID", "98765"));
        let meta = config(&vars).unwrap().meta.unwrap();
        assert_eq!(meta.login_config_id.as_deref(), Some("98765"));
        assert!(
            !format!("{meta:?}").contains("secret") && !format!("{meta:?}").contains("verify-me")
        );
        let half = [PRODUCTION.as_slice(), &[("META_APP_ID", "1234")]].concat();
        assert_eq!(config(&half).unwrap_err().variable, "META_APP_ID");
        vars.push(("META_GRAPH_BASE_URL", "graph.example"));
        assert_eq!(config(&vars).unwrap_err().variable, "META_GRAPH_BASE_URL");
    }

    #[test]
    fn development_seals_with_a_key_derived_from_the_secret_key() {
        let dir = temp_dir();
        let dir = dir.to_str().unwrap();
        let development = config(&[("DATA_DIR", dir)]).unwrap();
        assert!(format!("{:?}", development.token_keys).contains("\"dev\""));
        assert_ne!(
            development
                .secret_key
                .derive("clariva token sealing")
                .expose(),
            development.secret_key.expose()
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let dir = temp_dir();
        let dir = dir.to_str().unwrap();
        for (name, value) in [
            ("APP_ENV", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("PUBLIC_BASE_URL", "clariva.example"),
            ("LOGIN_LOCKOUT_MINUTES", "soon"),
            ("TRUST_FORWARDED_FOR", "maybe"),
            ("DEAD_LETTER_RETENTION_DAYS", "0"),
            ("DELIVERY_RETENTION_DAYS", "a week"),
        ] {
            let error = config(&[("DATA_DIR", dir), (name, value)]).unwrap_err();
            assert_eq!(error.variable, name);
        }
    }

    #[test]
    fn dead_letters_are_kept_30_days_and_processed_deliveries_7_unless_configured() {
        let dir = temp_dir();
        let dir = dir.to_str().unwrap();
        let defaults = config(&[("DATA_DIR", dir)]).unwrap().retention;
        assert_eq!(
            defaults,
            Retention {
                dead_letter_days: 30,
                delivery_days: 7
            }
        );
        let set = config(&[
            ("DATA_DIR", dir),
            ("DEAD_LETTER_RETENTION_DAYS", "90"),
            ("DELIVERY_RETENTION_DAYS", "1"),
        ])
        .unwrap()
        .retention;
        assert_eq!((set.dead_letter_days, set.delivery_days), (90, 1));
    }

    #[test]
    fn log_ins_slow_down_from_half_the_allowance_and_cap_at_five_seconds() {
        let throttle = LoginThrottle {
            lock_after_per_email: 10,
            lock_after_per_client: 50,
            sign_ups_per_client: 20,
            lockout: Duration::from_secs(900),
        };
        assert_eq!(throttle.delay(4, 10), Duration::ZERO);
        assert_eq!(throttle.delay(5, 10), Duration::ZERO);
        assert_eq!(throttle.delay(7, 10), Duration::from_secs(2));
        assert_eq!(throttle.delay(40, 50), Duration::from_secs(5));
    }
}
