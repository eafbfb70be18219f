import { expect, Page, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail } from "./helpers";

async function offerTextAndVoice(page: Page) {
  await openHydrated(page, "/dashboard/setup/methods-fees");
  await page.getByLabel("Currency").fill("INR");
  await page.getByLabel("Offer text/chat").check();
  await page.getByLabel("Text/chat fee").fill("200");
  await page.getByLabel("Offer voice call").check();
  await page.getByLabel("Voice call fee").fill("500");
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.getByRole("status")).toHaveText("Methods and fees saved.");
}

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
