//! The server: configuration -> database (migrated) -> router -> serve until SIGTERM.
//! `clariva reseal-tokens` instead re-seals every stored Instagram token under the first key
//! of `TOKEN_KEYS` and exits (key rotation, docs/meta-setup.md).

use std::process::ExitCode;

use clariva::config::Config;
use clariva::server::{shutdown_signal, telemetry, Application};

#[tokio::main]
async fn main() -> ExitCode {
    keep_large_blocks_returnable();
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
    if std::env::args().nth(1).as_deref() == Some("reseal-tokens") {
        return reseal_tokens(&config).await;
    }
    let leptos = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("leptos configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
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

async fn reseal_tokens(config: &Config) -> ExitCode {
    let db = match clariva::db::Db::connect(
        &config.database_url,
        config.database_migration_url.as_deref(),
    )
    .await
    {
        Ok(db) => db,
        Err(error) => {
            eprintln!("could not open the database: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = clariva::instagram::reseal::reseal_all(&db, &config.token_keys).await;
    db.close().await;
    match result {
        Ok(done) => {
            println!(
                "{} token(s) re-sealed with key {}; {} could not be opened (those doctors must reconnect).",
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
