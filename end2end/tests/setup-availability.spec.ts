import { expect, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail } from "./helpers";

test("a doctor sets weekly hours in their zone, copies a day, reloads and sees them", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/availability");

  // The browser's own zone is suggested.
  await expect(page.getByLabel("Time zone")).not.toHaveValue("");
  await page.getByLabel("Time zone").fill("Asia/Kolkata");
  await page.getByLabel("Monday", { exact: true }).fill("09:00-13:00, 14:00-18:00");
  await page.getByRole("button", { name: "Copy Monday's hours to every day" }).click();
  await expect(page.getByLabel("Friday", { exact: true })).toHaveValue("09:00-13:00, 14:00-18:00");
  await page.getByLabel("Saturday", { exact: true }).fill("");
  await page.getByLabel("Sunday", { exact: true }).fill("");
  await expect(page.locator(".week-column").first().locator(".open")).toHaveCount(2);
  await page.getByLabel("Default appointment length (minutes)").fill("20");
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.getByRole("status")).toHaveText("Availability saved.");

  await page.reload();
  await expect(page.getByLabel("Time zone")).toHaveValue("Asia/Kolkata");
  await expect(page.getByLabel("Wednesday", { exact: true })).toHaveValue("09:00-13:00, 14:00-18:00");
  await expect(page.getByLabel("Saturday", { exact: true })).toHaveValue("");
  await expect(page.getByLabel("Default appointment length (minutes)")).toHaveValue("20");
});

test("an overlapping range shows an inline error and saves nothing", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/availability");

  await page.getByLabel("Time zone").fill("Europe/London");
  await page.getByLabel("Tuesday", { exact: true }).fill("09:00-13:00, 12:00-14:00");
  await page.getByLabel("Tuesday", { exact: true }).blur();
  await expect(page.locator("#tuesday-error")).toHaveText("09:00-13:00 overlaps 12:00-14:00.");
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.locator("#tuesday-error")).toHaveText("09:00-13:00 overlaps 12:00-14:00.");
  await page.reload();
  await expect(page.getByLabel("Tuesday", { exact: true })).toHaveValue("");
});

test("a blocked day appears in the list and can be removed", async ({ page }) => {
  await signUp(page, "Chen Li", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/availability");
  await page.getByLabel("Time zone").fill("America/New_York");
  await page.getByLabel("Monday", { exact: true }).fill("09:00-17:00");
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.getByRole("status")).toHaveText("Availability saved.");

  await page.getByLabel("Date").fill("2099-12-24");
  await page.getByLabel("Reason (private)").fill("Family holiday");
  await page.getByRole("button", { name: "Block this time" }).click();
  await expect(page.locator("ul.blocked")).toContainText("Thu 24 Dec 2099, all day");
  await expect(page.locator("ul.blocked")).toContainText("Family holiday");

  await page.reload();
  await expect(page.locator("ul.blocked")).toContainText("Thu 24 Dec 2099, all day");
  await page.getByRole("button", { name: "Remove Thu 24 Dec 2099, all day" }).click();
  await expect(page.getByText("Nothing blocked.")).toBeVisible();
});
