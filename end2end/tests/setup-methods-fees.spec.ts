import { expect, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail } from "./helpers";

test("a doctor offers methods with fees, reloads and sees them in the currency's decimals", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard");
  await expect(page.getByRole("note")).toContainText("cannot book patients");

  await page.getByRole("link", { name: "Set methods and fees" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/methods-fees$/);
  await page.getByLabel("Currency").fill("INR");
  await page.getByLabel("Offer voice call").check();
  await page.getByLabel("Voice call fee").fill("1499.5");
  await page.getByLabel("Voice call instructions").fill("We call you from +91 98765 43210.");
  await page.getByLabel("Offer text/chat").check();
  await page.getByLabel("Text/chat fee").fill("0");
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.getByRole("status")).toHaveText("Methods and fees saved.");

  await page.reload();
  await expect(page.getByLabel("Currency")).toHaveValue("INR");
  await expect(page.getByLabel("Voice call fee")).toHaveValue("1,499.50");
  await expect(page.getByLabel("Offer voice call")).toBeChecked();
  await expect(page.getByLabel("Offer video call")).not.toBeChecked();
  await expect(page.getByLabel("Voice call instructions")).toHaveValue("We call you from +91 98765 43210.");

  await page.goto("/dashboard");
  await expect(page.getByRole("note")).toHaveCount(0);
});

test("a negative fee shows an inline error and saves nothing", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/methods-fees");

  await page.getByLabel("Currency").fill("USD");
  await page.getByLabel("Offer video call").check();
  await page.getByLabel("Video call fee").fill("-20");
  await page.getByLabel("Video call fee").blur();
  await expect(page.locator("#video_fee-error")).toHaveText("A fee cannot be negative.");

  // Submitted anyway, the server refuses it too, inline.
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.locator("#video_fee-error")).toHaveText("A fee cannot be negative.");
  await page.reload();
  await expect(page.getByLabel("Currency")).toHaveValue("");
  await expect(page.getByLabel("Offer video call")).not.toBeChecked();
});
