#!/usr/bin/env bash
# Starts the release server on a fresh database and runs the webhook load generator against
# it (examples/webhook_load.rs), then prints the server's peak RSS. `make load-webhook` runs
# it on SQLite; `LOAD_DATABASE=postgres make load-webhook` on a fresh PostgreSQL database
# (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail

port=${LOAD_PORT:-3400}
release=${CARGO_TARGET_DIR:-target}/release
secret=load-test-secret
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

case "${LOAD_DATABASE:-sqlite}" in
    sqlite) database_url="sqlite://$work/load.db" ;;
    postgres)
        admin=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
        psql "$admin" -qc "DROP DATABASE IF EXISTS clariva_load" -c "CREATE DATABASE clariva_load"
        database_url="${admin%/*}/clariva_load"
        ;;
    *) echo "LOAD_DATABASE is sqlite or postgres" >&2; exit 2 ;;
esac

APP_ENV=development DATA_DIR="$work" DATABASE_URL="$database_url" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="http://127.0.0.1:$port" \
    META_APP_ID=load META_APP_SECRET="$secret" META_VERIFY_TOKEN=load \
    RUST_LOG=warn \
    "$release/clariva" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done

echo "database: ${LOAD_DATABASE:-sqlite}"
"$release/examples/webhook_load" "http://127.0.0.1:$port/meta/webhook" "$secret"

# Acknowledged deliveries the worker has not split yet.
unsplit() {
    local sql="SELECT count(*) FROM webhook_deliveries WHERE processed_at IS NULL"
    case "${LOAD_DATABASE:-sqlite}" in
        sqlite) sqlite3 -cmd ".timeout 2000" "$work/load.db" "$sql" ;;
        postgres) psql "$database_url" -tAc "$sql" ;;
    esac
}
if [ "${LOAD_DATABASE:-sqlite}" = postgres ] || command -v sqlite3 >/dev/null; then
    backlog=$(unsplit)
    started=$(date +%s%N)
    for _ in $(seq 1500); do
        [ "$(unsplit)" = 0 ] && break
        sleep 0.2
    done
    echo "backlog when the load ended: $backlog deliveries; $(unsplit) left after" \
        "$(( ($(date +%s%N) - started) / 1000000 )) ms"
else
    echo "backlog not measured: the sqlite3 command is not installed"
fi
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server_pid/status")"
stored=$(grep -c "webhook delivery not stored" "$work/server.log" || true)
echo "deliveries the server failed to store: $stored"
