import { expect, test } from "@playwright/test";
import { expectFieldsHold, fillFields, openHydrated, signUp, uniqueEmail } from "./helpers";

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

test("after a refused save the weekly hours and booking rules still hold what was typed, and fixing the refused ones saves them all", async ({ page }) => {
  await signUp(page, "Dana Ito", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/availability");

  // The browser does not check the time zone; the server knows no zone on Mars. The booking
  // horizon is past its 365 days: the browser warns and the server refuses it too.
  const typed = {
    "Time zone": "Mars/Olympus_Mons",
    Monday: "09:00-13:00, 14:00-18:00",
    Wednesday: "10:00-12:00",
    Friday: "16:00-20:00",
    "Default appointment length (minutes)": "20",
    "Gap between appointments (minutes)": "10",
    "Minimum notice (hours)": "4",
    "Patients may book up to (days ahead)": "400",
    "An unpaid booking holds its slot for (minutes)": "15",
  };
  await fillFields(page, typed);
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.locator("#time_zone-error")).toHaveText(
    "“Mars/Olympus_Mons” is not a time zone we know; pick one from the list.",
  );
  await expect(page.locator("#horizon_days-error")).toHaveText("The booking horizon must be between 1 and 365.");

  await expectFieldsHold(page, typed);

  // Fixing only the refused fields saves everything else as it was typed.
  const fixed = { "Time zone": "Asia/Kolkata", "Patients may book up to (days ahead)": "60" };
  await fillFields(page, fixed);
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.getByRole("status")).toHaveText("Availability saved.");
  await page.reload();
  await expectFieldsHold(page, { ...typed, ...fixed });
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
