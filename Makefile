# Two commands for a newcomer: `make run` and `make test`. Each first installs what it needs,
# skipping whatever is already installed at the right version.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
# The wasm-bindgen CLI must equal the crate in Cargo.lock, to the patch.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run demo test tools lint rust-tests release e2e reseal-tokens reconcile-payments load-webhook load-assistant dead-letters

## Serve the app on http://127.0.0.1:3000 (SQLite at data/clariva.db, created on start).
run: tools
	cargo leptos serve --split

## The app on http://127.0.0.1:3000 without Meta, Stripe or Razorpay: connected to the fake
## Meta on http://127.0.0.1:3102, where patients write at /sandbox, and to the fake providers
## on http://127.0.0.1:3103, whose dashboards are at /dashboard (README, "Try it without Meta").
demo: tools
	cargo build --features ssr --example fake_meta --example fake_payments
	scripts/demo.sh

## Everything CI checks: format, lints for both targets, Rust tests, browser tests.
test: tools lint rust-tests e2e

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -q " $(CARGO_LEPTOS_VERSION)$$" \
		|| cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$" \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@npm install --no-audit --no-fund --loglevel=error
	@cd end2end && npm install --no-audit --no-fund --loglevel=error
	@command -v chromium >/dev/null \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

lint:
	cargo fmt --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

## Rust tests; the database tests also run on PostgreSQL when one answers on 127.0.0.1:5432.
## Without one they run on SQLite only, and the run says so loudly (under CI=true it fails).
rust-tests:
	@if [ -z "$${TEST_POSTGRES_URL:-}" ] && timeout 1 bash -c '</dev/tcp/127.0.0.1/5432' 2>/dev/null; then \
		export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres; \
	fi; \
	if [ -n "$${TEST_POSTGRES_URL:-}" ]; then \
		echo "PostgreSQL answers: database tests run on SQLite and PostgreSQL"; \
	fi; \
	cargo test --features ssr; \
	if [ -z "$${TEST_POSTGRES_URL:-}" ]; then \
		echo; \
		echo "!!! PostgreSQL SKIPPED: no server on 127.0.0.1:5432 and TEST_POSTGRES_URL unset."; \
		echo "!!! Only the SQLite half of the database tests ran; the PostgreSQL half did not."; \
		echo "!!! Start PostgreSQL (README: About make test) and run make test again."; \
		echo; \
	fi

## The release build: the server target/release/clariva and the site under target/site, its
## files named by their content's digest (hash-files, Cargo.toml) with a brotli and a gzip copy
## beside each that pays (README, "Page weight"). Ship both, and target/release/hash.txt.
release: tools
	cargo leptos build --release --split --precompress
	scripts/prune-precompressed.sh target/site

## Playwright in Debian's Chromium against a release build (its own port and database).
e2e: release
	cargo build --features ssr --example fake_meta --example fake_payments
	cd end2end && npx playwright test

## The webhook's ack throughput against a bare axum handler, and its latency at 1,000
## deliveries/s, on SQLite (LOAD_DATABASE=postgres for PostgreSQL). README, "Webhook load".
load-webhook:
	cargo build --release --features ssr --bin clariva --example webhook_load
	scripts/webhook-load.sh

## The assistant under load: DMs at 200/s from 400 conversations through the real worker and
## database, latency from the DM posted to its reply in the outbox, on SQLite
## (LOAD_DATABASE=postgres for PostgreSQL). README, "Assistant load".
load-assistant:
	cargo test --release --features ssr --test assistant_load -- --ignored --nocapture

## Re-seal every stored Instagram token under the first key of TOKEN_KEYS (key rotation;
## docs/meta-setup.md). Uses the same environment / .env as the server.
reseal-tokens:
	cargo run --release --features ssr --bin clariva -- reseal-tokens

## Ask Stripe and Razorpay now about every payment still open or changed in the last two days
## (the payments job does it daily), e.g. after a doctor fixes their webhook. Same environment
## / .env as the server.
reconcile-payments:
	cargo run --release --features ssr --bin clariva -- reconcile-payments

## Webhook events no doctor took (docs/meta-setup.md, "Dead letters"): counts by reason and
## account; ARGS="show <letter-id>", ARGS="replay <account-id>" or
## ARGS="purge --all | [--account <account-id>] [--older-than-days <days>]". Same
## environment / .env as the server.
dead-letters:
	cargo run --release --features ssr --bin clariva -- dead-letters $(ARGS)
