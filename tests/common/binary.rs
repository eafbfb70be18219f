//! The server binary as an operator runs it: a command with a clean environment in a data
//! directory of its own, and the address it says it listens on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The server binary run in `data_dir` with only `vars` (and what any run needs) set.
pub fn server(data_dir: &std::path::Path, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clariva"));
    command
        .current_dir(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data_dir)
        .env("LEPTOS_OUTPUT_NAME", "clariva")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A fresh directory for one run's data.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("clariva-process-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads the server's log until it says where it listens.
pub fn listening_address(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.contains("listening"))
        .expect("the server logs its address");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let addr = line.split("addr=").nth(1).unwrap();
    addr.split_whitespace().next().unwrap().to_owned()
}
