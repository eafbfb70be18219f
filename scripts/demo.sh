#!/usr/bin/env bash
# `make demo`: the app without Meta, Stripe or Razorpay. Starts the fake Meta
# (examples/fake_meta.rs, built by make) on 127.0.0.1:3102 with its patient sandbox at
# /sandbox, and the fake Stripe and Razorpay (examples/fake_payments.rs) on 127.0.0.1:3103
# with their dashboards at /dashboard, then serves the app as `make run` does, talking to the
# fakes instead, with a database of its own under data/demo. The fakes stop when the app
# does. README, "Try it without Meta".
set -euo pipefail
cd "$(dirname "$0")/.."

meta_port=3102
meta=http://127.0.0.1:$meta_port
payments_port=3103
payments=http://127.0.0.1:$payments_port
app=http://127.0.0.1:3000
examples="${CARGO_TARGET_DIR:-target}/debug/examples"

for port in $meta_port $payments_port; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "Port $port is in use (another demo, or make e2e?): stop it first." >&2
        exit 1
    fi
done
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# Ctrl-C and kill end the script through its EXIT trap, which stops the fakes.
trap 'exit 130' INT TERM
FAKE_META_PORT=$meta_port FAKE_META_WEBHOOK_URL=$app/meta/webhook "$examples/fake_meta" &
pids+=($!)
FAKE_PAYMENTS_PORT=$payments_port "$examples/fake_payments" &
pids+=($!)
for port in $meta_port $payments_port; do
    until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || { echo "A fake did not start." >&2; exit 1; }
        done
        sleep 0.1
    done
done

echo "Patients write at $meta/sandbox once you have connected Instagram at $app."
echo "Online payment: make a test key at $payments/dashboard and paste it on Setup -> Payments."
APP_ENV=development DATA_DIR=data/demo DATABASE_URL= DATABASE_MIGRATION_URL= \
PUBLIC_BASE_URL=$app \
META_APP_ID=fake-app-id META_APP_SECRET=test_app_secret META_VERIFY_TOKEN=fake-verify-token \
META_DIALOG_BASE_URL=$meta META_GRAPH_BASE_URL=$meta META_LOGIN_CONFIG_ID= \
STRIPE_API_BASE_URL=$payments RAZORPAY_API_BASE_URL=$payments \
    cargo leptos serve --split
