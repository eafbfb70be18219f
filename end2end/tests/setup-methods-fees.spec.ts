import { expect, test } from "@playwright/test";
import { expectFieldsHold, fillFields, openHydrated, signUp, uniqueEmail } from "./helpers";

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

test("after a refused save every method, fee and instruction still holds what was typed, and fixing the refused fee saves them all", async ({ page }) => {
  await signUp(page, "Chen Li", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/methods-fees");

  // The browser checks only a fee's sign; in euros "1.500" could be fifteen hundred or one and
  // a half, and the server refuses to guess.
  const typed = {
    Currency: "EUR",
    "Text/chat fee": "49,90",
    "Text/chat instructions": "We reply within a working day.",
    "Voice call fee": "1.500",
    "Voice call instructions": "We call you from +49 30 1234567.",
  };
  await page.getByLabel("Offer text/chat").check();
  await page.getByLabel("Offer voice call").check();
  await fillFields(page, typed);
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.locator("#voice_fee-error")).toHaveText(
    "“1.500” could be 1,500.00 EUR or 1.50 EUR: write 1500.00 or 1.50 to say which.",
  );

  await expectFieldsHold(page, typed);
  await expect(page.getByLabel("Offer text/chat")).toBeChecked();
  await expect(page.getByLabel("Offer voice call")).toBeChecked();
  await expect(page.getByLabel("Offer video call")).not.toBeChecked();

  // Fixing only the refused fee saves everything else as it was typed.
  await page.getByLabel("Voice call fee").fill("1500");
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.getByRole("status")).toHaveText("Methods and fees saved.");
  await page.reload();
  await expectFieldsHold(page, { ...typed, "Text/chat fee": "49.90", "Voice call fee": "1,500.00" });
  await expect(page.getByLabel("Offer text/chat")).toBeChecked();
  await expect(page.getByLabel("Offer voice call")).toBeChecked();
  await expect(page.getByLabel("Offer video call")).not.toBeChecked();
});

test("beside each fee, how it will be read in the currency shows before saving, and an ambiguous fee asks which", async ({ page }) => {
  await signUp(page, "Dana Ito", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/methods-fees");
  const fee = page.getByLabel("Text/chat fee");
  const reading = page.locator("#text_fee-reading");

  await page.getByLabel("Currency").fill("EUR");
  await page.getByLabel("Offer text/chat").check();
  await fee.fill("49,90");
  await expect(reading).toHaveText("Reads as 49.90 EUR");
  await expect(reading).not.toHaveClass(/\bunreadable\b/);

  await fee.fill("1.234,50");
  await expect(reading).toHaveText("Reads as 1,234.50 EUR");

  await fee.fill("1.500");
  await expect(reading).toHaveText(
    "“1.500” could be 1,500.00 EUR or 1.50 EUR: write 1500.00 or 1.50 to say which.",
  );
  await expect(reading).toHaveClass(/\bunreadable\b/);

  await fee.fill("49,90");
  await expect(reading).toHaveText("Reads as 49.90 EUR");
  await expect(reading).not.toHaveClass(/\bunreadable\b/);
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.getByRole("status")).toHaveText("Methods and fees saved.");

  await page.reload();
  await expect(page.getByLabel("Currency")).toHaveValue("EUR");
  await expect(fee).toHaveValue("49.90");
});

test("a fee's reading follows the chosen currency and groups in thousands however it was typed", async ({ page }) => {
  await signUp(page, "Emeka Obi", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/methods-fees");
  const reading = page.locator("#voice_fee-reading");

  await page.getByLabel("Currency").fill("INR");
  await page.getByLabel("Voice call fee").fill("1,00,000");
  await expect(reading).toHaveText("Reads as 100,000.00 INR");

  await page.getByLabel("Currency").fill("JPY");
  await expect(reading).toHaveText("Reads as 100,000 JPY");
});
