import { expect, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail, waitForHydration } from "./helpers";

test("a new doctor completes the wizard, then reloads each pane and sees the saved values", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/\/dashboard\/setup\/profile\?wizard=1$/);
  await waitForHydration(page);
  await expect(page.getByText("Welcome, Asha Rao")).toBeVisible();
  const steps = page.getByRole("list", { name: "Setup steps" });
  await expect(steps.locator('[aria-current="step"]')).toHaveText("1. Profile");

  // 1. Profile
  await page.getByLabel("Practice name").fill("Rao Family Clinic");
  await page.getByRole("button", { name: "Save and continue" }).click();

  // 2. Availability
  await expect(page).toHaveURL(/\/dashboard\/setup\/availability\?wizard=1$/);
  await expect(steps.locator('[aria-current="step"]')).toHaveText("2. Availability");
  await page.getByLabel("Time zone").fill("Asia/Kolkata");
  await page.getByLabel("Monday", { exact: true }).fill("10:00-14:00");
  await page.getByRole("button", { name: "Save and continue" }).click();

  // 3. Methods & fees; Back returns to the hours, still saved.
  await expect(page).toHaveURL(/\/dashboard\/setup\/methods-fees\?wizard=1$/);
  await page.getByRole("link", { name: "Back" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/availability\?wizard=1$/);
  await expect(page.getByLabel("Monday", { exact: true })).toHaveValue("10:00-14:00");
  await page.getByRole("link", { name: "Skip for now" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/methods-fees\?wizard=1$/);
  await page.getByLabel("Currency").fill("INR");
  await page.getByLabel("Offer video call").check();
  await page.getByLabel("Video call fee").fill("800");
  await page.getByRole("button", { name: "Save and continue" }).click();

  // 4. Services, then finish on the dashboard.
  await expect(page).toHaveURL(/\/dashboard\/setup\/services\?wizard=1$/);
  await page.getByLabel("Service name").fill("Video consultation");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services")).toContainText("Video consultation");
  await page.getByRole("link", { name: "Finish setup" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  for (const step of [
    "Describe your practice",
    "Set your hours and time zone",
    "Set your appointment methods and fees",
    "Add your services",
  ]) {
    await expect(page.getByRole("listitem").filter({ hasText: step })).toContainText("Done");
  }

  // Every pane, reloaded, shows what was saved; outside the wizard they show tabs.
  await openHydrated(page, "/dashboard/setup/profile");
  await expect(page.getByRole("navigation", { name: "Setup" })).toBeVisible();
  await expect(page.getByLabel("Practice name")).toHaveValue("Rao Family Clinic");
  await openHydrated(page, "/dashboard/setup/availability");
  await expect(page.getByLabel("Time zone")).toHaveValue("Asia/Kolkata");
  await expect(page.getByLabel("Monday", { exact: true })).toHaveValue("10:00-14:00");
  await openHydrated(page, "/dashboard/setup/methods-fees");
  await expect(page.getByLabel("Video call fee")).toHaveValue("800.00");
  await expect(page.getByLabel("Offer video call")).toBeChecked();
  await openHydrated(page, "/dashboard/setup/services");
  await expect(page.locator("ol.services")).toContainText("Video consultation");
});
