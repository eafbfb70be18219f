//! The server: configuration -> database (migrated) -> router -> serve until SIGTERM.
//! `clariva reseal-tokens` instead re-seals every stored Instagram token and payment key set
//! under the first key of `TOKEN_KEYS` and exits (key rotation), `clariva dead-letters ...`
//! lists, shows, replays or purges the webhook events no doctor took (both in
//! docs/meta-setup.md), and `clariva reconcile-payments` asks the payment providers about
//! every payment still open or changed lately, now rather than at the daily run.

use std::process::ExitCode;

use clariva::config::Config;
use clariva::db::Db;
use clariva::inbox::dead_letters::{self, Purge};
use clariva::server::{shutdown_signal, telemetry, Application};

#[tokio::main]
async fn main() -> ExitCode {
    keep_large_blocks_returnable();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dead_letters = match args.first().map(String::as_str) {
        Some("dead-letters") => match DeadLetters::parse(&args[1..]) {
            Some(command) => Some(command),
            None => {
                eprintln!("{DEAD_LETTERS_USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let dotenv = dotenvy::dotenv();
    telemetry::init();
    if let Err(error) = &dotenv {
        if !error.not_found() {
            tracing::warn!(%error, ".env could not be read");
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(variable = error.variable, "configuration error: {error}");
            eprintln!("configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(command) = dead_letters {
        return run_dead_letters(&config, command).await;
    }
    match args.first().map(String::as_str) {
        Some("reseal-tokens") => return reseal_tokens(&config).await,
        Some("reconcile-payments") => return reconcile_payments(&config).await,
        _ => {}
    }
    let mut leptos = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("leptos configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
    // cargo-leptos says whether it named the bundle's files by digest; a binary started by
    // hand (a deployment, the browser tests) finds out from the build it sits in.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos.hash_files = clariva::server::assets::built_with_hashed_names(&leptos);
    }
    let addr = leptos.site_addr;
    let app = match Application::build(config, leptos, addr).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Opens (and migrates) the database the server would use, for a one-off command.
async fn open_db(config: &Config) -> Option<Db> {
    match Db::connect(
        &config.database_url,
        config.database_migration_url.as_deref(),
    )
    .await
    {
        Ok(db) => Some(db),
        Err(error) => {
            eprintln!("could not open the database: {error}");
            None
        }
    }
}

/// Asks the providers now about every payment still open or changed lately, as the payments
/// job does daily (after fixing a doctor's webhook, say).
async fn reconcile_payments(config: &Config) -> ExitCode {
    let Some(db) = open_db(config).await else {
        return ExitCode::FAILURE;
    };
    let client = clariva::providers::client::Payments::new(
        &config.payment_apis.stripe,
        &config.payment_apis.razorpay,
    );
    let result = clariva::payments::jobs::reconcile(&db, config, &client).await;
    db.close().await;
    match result {
        Ok(asked) => {
            println!("{asked} payment(s) asked about; what the providers said is applied.");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("reconciliation failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn reseal_tokens(config: &Config) -> ExitCode {
    let Some(db) = open_db(config).await else {
        return ExitCode::FAILURE;
    };
    let result = clariva::instagram::reseal::reseal_all(&db, &config.token_keys).await;
    db.close().await;
    match result {
        Ok(done) => {
            println!(
                "{} token(s) and payment key set(s) re-sealed with key {}; {} could not be opened (those doctors must reconnect).",
                done.resealed,
                config.token_keys.current(),
                done.unopenable
            );
            if done.unopenable == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("re-sealing failed: {error}");
            ExitCode::FAILURE
        }
    }
}

const DEAD_LETTERS_USAGE: &str = "usage: clariva dead-letters \
[show <letter-id> | replay <account-id> | purge (--all | [--account <account-id>] [--older-than-days <days>])]";

/// What `clariva dead-letters ...` asks for.
#[derive(Debug, PartialEq, Eq)]
enum DeadLetters {
    /// No arguments: letters waiting, by reason and account.
    Counts,
    Show(String),
    Replay(String),
    Purge(Purge),
}

impl DeadLetters {
    /// The command `args` (after `dead-letters`) name; `None`: print the usage.
    fn parse(args: &[String]) -> Option<Self> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            [] => Some(Self::Counts),
            ["show", id] => Some(Self::Show((*id).to_owned())),
            ["replay", account] => Some(Self::Replay((*account).to_owned())),
            ["purge", "--all"] => Some(Self::Purge(Purge::default())),
            ["purge", options @ ..] if !options.is_empty() => {
                let mut purge = Purge::default();
                for pair in options.chunks(2) {
                    match pair {
                        ["--account", id] if purge.account_id.is_none() => {
                            purge.account_id = Some((*id).to_owned());
                        }
                        ["--older-than-days", days] if purge.older_than_days.is_none() => {
                            purge.older_than_days = Some(days.parse().ok()?);
                        }
                        _ => return None,
                    }
                }
                Some(Self::Purge(purge))
            }
            _ => None,
        }
    }
}

async fn run_dead_letters(config: &Config, command: DeadLetters) -> ExitCode {
    let Some(db) = open_db(config).await else {
        return ExitCode::FAILURE;
    };
    let done = match &command {
        DeadLetters::Counts => dead_letters::counts(&db)
            .await
            .map(|c| (c.to_string(), true)),
        DeadLetters::Show(id) => dead_letters::show(&db, id)
            .await
            .map(|s| (s.to_string(), true)),
        DeadLetters::Replay(account) => dead_letters::replay(&db, config, account)
            .await
            .map(|r| (r.to_string(), r.unopenable == 0)),
        DeadLetters::Purge(purge) => dead_letters::purge(&db, purge, clariva::db::now_millis())
            .await
            .map(|p| (p.to_string(), true)),
    };
    db.close().await;
    match done {
        Ok((report, complete)) => {
            print!("{report}");
            if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("dead-letters: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Once a large block is freed, glibc raises the size from which it maps memory directly, so
/// every later password hash's 19 MiB came from the heap and stayed there: 40 log-ins took
/// the server's peak RSS to 388 MB; with the threshold fixed at glibc's default each block is
/// returned when freed, and the same 40 log-ins peak at 59 MB (README, Operations).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_blocks_returnable() {
    // SAFETY: mallopt only changes an allocator parameter; called once, before any thread
    // of ours allocates a large block.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_blocks_returnable() {}
