//! The server: configuration -> database (migrated) -> router -> serve until SIGTERM.

use std::process::ExitCode;

use clariva::config::Config;
use clariva::server::{shutdown_signal, telemetry, Application};

#[tokio::main]
async fn main() -> ExitCode {
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
