import { expect, test } from "@playwright/test";
import {
  logOut,
  openHydrated,
  password,
  signUp,
  uniqueEmail,
  waitForHydration,
} from "./helpers";

test("a new doctor signs up, logs out, is kept out, and logs back in", async ({ page }) => {
  const email = uniqueEmail();
  await signUp(page, "Asha Rao", email);
  await expect(page).toHaveURL(/\/dashboard\/setup\/profile\?wizard=1$/);
  await expect(page.getByText("Welcome, Asha Rao")).toBeVisible();

  await logOut(page);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await waitForHydration(page);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Welcome, Asha Rao" })).toBeVisible();
});

test("a wrong password shows the error and stays on the log-in page", async ({ page }) => {
  const email = uniqueEmail();
  await signUp(page, "Ben Okafor", email);
  await expect(page).toHaveURL(/wizard=1/);
  await logOut(page);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the right password");
  await page.getByRole("button", { name: "Log in" }).click();

  await expect(
    page.getByRole("alert").filter({ hasText: "The email or password is incorrect." }),
  ).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("sign-up shows a field error for an email that already has an account", async ({ page }) => {
  const email = uniqueEmail();
  await signUp(page, "Chen Li", email);
  await expect(page).toHaveURL(/wizard=1/);
  await logOut(page);

  await signUp(page, "Someone Else", email);
  await expect(page.locator("#email-error")).toHaveText(
    "An account with this email already exists. Log in instead.",
  );
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/signup$/);
});

test("sign-up checks each field in the browser as the doctor leaves it", async ({ page }) => {
  await openHydrated(page, "/signup");
  await page.getByLabel("Email").fill("asha@clinic");
  await page.getByLabel("Email").blur();
  await expect(page.locator("#email-error")).toHaveText(
    "Enter an email address like name@example.com.",
  );
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("Password").blur();
  await expect(page.locator("#password-error")).toHaveText(
    "Use at least 10 characters for your password.",
  );
  await page.getByLabel("Password").fill("long enough now");
  // The message leaves the page (no empty alert stays behind).
  await expect(page.locator("#password-error")).toHaveCount(0);
  await expect(page.getByLabel("Password")).not.toHaveAttribute("aria-invalid", "true");
});
