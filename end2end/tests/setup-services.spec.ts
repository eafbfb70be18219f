import { expect, test } from "@playwright/test";
import { offerTextAndVoice, openHydrated, signUp, uniqueEmail } from "./helpers";

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
