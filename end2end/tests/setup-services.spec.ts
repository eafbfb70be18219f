import { expect, test } from "@playwright/test";
import { expectFieldsHold, fillFields, offerTextAndVoice, openHydrated, signUp, uniqueEmail } from "./helpers";

test("a doctor adds services, edits one and archives another", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await offerTextAndVoice(page);

  await page.getByRole("link", { name: "Services" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/services$/);
  await page.getByLabel("Service name").fill("Consultation");
  await page.getByLabel("Duration (minutes)").fill("30");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services")).toContainText("Consultation");

  await page.getByLabel("Service name").fill("Follow-up");
  await page.getByLabel("Voice call").uncheck();
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services li")).toHaveCount(2);

  await page.getByRole("button", { name: "Edit Follow-up" }).click();
  await expect(page.getByRole("heading", { name: "Edit service" })).toBeVisible();
  await page.getByLabel("Service name").fill("Follow-up visit");
  await page.getByRole("button", { name: "Save service" }).click();
  await expect(page.locator("ol.services")).toContainText("Follow-up visit");

  await page.locator("ol.services li").filter({ hasText: "Consultation" }).getByRole("button", { name: "Archive" }).click();
  await expect(page.locator("ul.archived")).toContainText("Consultation");
  await expect(page.locator("ol.services li")).toHaveCount(1);

  await page.reload();
  await expect(page.locator("ul.archived")).toContainText("Consultation");
  await expect(page.locator("ol.services")).toContainText("Follow-up visit");
});

test("an empty service name shows an inline error and saves nothing", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await offerTextAndVoice(page);
  await openHydrated(page, "/dashboard/setup/services");

  await page.getByLabel("Service name").fill("x");
  await page.getByLabel("Service name").fill("");
  await page.getByLabel("Service name").blur();
  await expect(page.locator("#name-error")).toHaveText("Give the service a name.");
  await page.reload();
  await expect(page.getByText("No services yet.")).toBeVisible();
});

test("after a refused save the service form still holds what was typed, and fixing the refused name adds the service as typed", async ({ page }) => {
  await signUp(page, "Chen Li", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await offerTextAndVoice(page);
  await openHydrated(page, "/dashboard/setup/services");
  await page.getByLabel("Service name").fill("Consultation");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services")).toContainText("Consultation");

  // Only the server knows which names are taken; a name differing only in case is taken too.
  const typed = {
    "Service name": "consultation",
    Description: "Going through the results of last visit's tests.",
    "Duration (minutes)": "45",
  };
  await fillFields(page, typed);
  await page.getByLabel("Voice call").uncheck();
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("#name-error")).toHaveText("You already have a service with this name.");

  await expectFieldsHold(page, typed);
  await expect(page.getByLabel("Text/chat")).toBeChecked();
  await expect(page.getByLabel("Voice call")).not.toBeChecked();
  await expect(page.locator("ol.services li")).toHaveCount(1);

  // Fixing only the refused name adds the service with everything else as it was typed.
  await page.getByLabel("Service name").fill("Test results");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services li")).toHaveCount(2);
  await openHydrated(page, "/dashboard/setup/services");
  await page.getByRole("button", { name: "Edit Test results" }).click();
  await expect(page.getByRole("heading", { name: "Edit service" })).toBeVisible();
  await expectFieldsHold(page, { ...typed, "Service name": "Test results" });
  await expect(page.getByLabel("Text/chat")).toBeChecked();
  await expect(page.getByLabel("Voice call")).not.toBeChecked();
});
