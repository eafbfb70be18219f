#!/usr/bin/env bash
# `make demo`: the app without Meta. Starts the fake Meta (examples/fake_meta.rs, built by
# make) on 127.0.0.1:3102 with its patient sandbox at /sandbox, then serves the app as
# `make run` does, talking to the fake instead of Meta, with a database of its own under
# data/demo. The fake stops when the app does. README, "Try it without Meta".
set -euo pipefail
cd "$(dirname "$0")/.."

fake_port=3102
fake=http://127.0.0.1:$fake_port
app=http://127.0.0.1:3000

if (exec 3<>/dev/tcp/127.0.0.1/$fake_port) 2>/dev/null; then
    echo "Port $fake_port is in use (another fake Meta, or make e2e?): stop it first." >&2
    exit 1
fi
FAKE_META_PORT=$fake_port FAKE_META_WEBHOOK_URL=$app/meta/webhook \
    "${CARGO_TARGET_DIR:-target}/debug/examples/fake_meta" &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null || true' EXIT
# Ctrl-C and kill end the script through its EXIT trap, which stops the fake.
trap 'exit 130' INT TERM
until (exec 3<>/dev/tcp/127.0.0.1/$fake_port) 2>/dev/null; do
    kill -0 "$fake_pid" 2>/dev/null || { echo "The fake Meta did not start." >&2; exit 1; }
    sleep 0.1
done

echo "Patients write at $fake/sandbox once you have connected Instagram at $app."
APP_ENV=development DATA_DIR=data/demo DATABASE_URL= DATABASE_MIGRATION_URL= \
PUBLIC_BASE_URL=$app \
META_APP_ID=fake-app-id META_APP_SECRET=test_app_secret META_VERIFY_TOKEN=fake-verify-token \
META_DIALOG_BASE_URL=$fake META_GRAPH_BASE_URL=$fake META_LOGIN_CONFIG_ID= \
    cargo leptos serve --split
