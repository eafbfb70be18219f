import { defineConfig } from "@playwright/test";

// The release build, on a port and with a database of its own so `make run` can stay up.
const port = 3100;
// The fake of Meta the app talks to instead of facebook.com.
const fakeMetaPort = 3102;
// The fake of Stripe and Razorpay it talks to instead of their APIs.
const fakePaymentsPort = 3103;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? "list" : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      // Meta's login dialog and Graph API, faked: the Rust tests' fake
      // (tests/common/fake_meta.rs), served by `cargo build --example fake_meta` (make e2e).
      command: "exec ./target/debug/examples/fake_meta",
      cwd: "..",
      url: `http://127.0.0.1:${fakeMetaPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      // Patients' messages from its sandbox (/sandbox), and echoes of what the app sends,
      // go to the app's webhook, as Meta delivers them.
      env: {
        FAKE_META_PORT: String(fakeMetaPort),
        FAKE_META_WEBHOOK_URL: `http://127.0.0.1:${port}/meta/webhook`,
      },
    },
    {
      // Stripe's and Razorpay's APIs and hosted pay pages, faked: the Rust tests' fake
      // (tests/common/fake_payments.rs), served by `cargo build --example fake_payments`.
      command: "exec ./target/debug/examples/fake_payments",
      cwd: "..",
      url: `http://127.0.0.1:${fakePaymentsPort}/fake/sessions`,
      reuseExistingServer: false,
      timeout: 30_000,
      env: { FAKE_PAYMENTS_PORT: String(fakePaymentsPort) },
    },
    {
      command: "rm -rf target/e2e-data && exec ./target/release/clariva",
      cwd: "..",
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        APP_ENV: "development",
        DATA_DIR: "target/e2e-data",
        DATABASE_URL: "",
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        LEPTOS_OUTPUT_NAME: "clariva",
        LEPTOS_SITE_ROOT: "target/site",
        LEPTOS_SITE_PKG_DIR: "pkg",
        // The bundle's files are named by digest; the names are in target/release/hash.txt.
        LEPTOS_HASH_FILES: "true",
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_RELOAD_PORT: "3101",
        LEPTOS_ENV: "PROD",
        RUST_LOG: "warn",
        META_APP_ID: "fake-app-id",
        META_APP_SECRET: "test_app_secret",
        META_VERIFY_TOKEN: "fake-verify-token",
        META_DIALOG_BASE_URL: `http://127.0.0.1:${fakeMetaPort}`,
        META_GRAPH_BASE_URL: `http://127.0.0.1:${fakeMetaPort}`,
        STRIPE_API_BASE_URL: `http://127.0.0.1:${fakePaymentsPort}`,
        RAZORPAY_API_BASE_URL: `http://127.0.0.1:${fakePaymentsPort}`,
      },
    },
  ],
});
