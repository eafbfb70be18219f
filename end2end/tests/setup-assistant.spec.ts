import { expect, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail } from "./helpers";

test("a doctor sets up the assistant, reloads and sees it saved", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await page.getByLabel("Practice name").fill("Rao Family Clinic");
  await page.getByRole("button", { name: "Save and continue" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/availability\?wizard=1$/);

  // The assistant is a pane of Setup, not a step of the wizard.
  await expect(page.getByRole("list", { name: "Setup steps" })).not.toContainText("Assistant");
  await openHydrated(page, "/dashboard/setup/profile");
  await page.getByRole("navigation", { name: "Setup" }).getByRole("link", { name: "Assistant" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/assistant$/);
  await expect(page.getByRole("heading", { name: "Assistant" })).toBeVisible();

  // Before anything is saved: on, confirmed at once, the defaults shown as placeholders.
  const enabled = page.getByLabel("Answer Instagram messages with the assistant");
  await expect(enabled).toBeChecked();
  await expect(page.getByLabel("Confirmed at once")).toBeChecked();
  await expect(page.getByLabel("Need online payment")).toBeDisabled();
  await expect(page.getByText("Connect Stripe or Razorpay on the Payments pane first.")).toBeVisible();
  await expect(page.getByLabel("Greeting")).toHaveValue("");
  await expect(page.getByLabel("Greeting")).toHaveAttribute(
    "placeholder",
    "Hi! I'm the automated assistant of Rao Family Clinic. I can book, move or cancel appointments and answer questions about fees and hours.",
  );
  await expect(page.getByLabel("Emergency line")).toHaveAttribute(
    "placeholder",
    "If this is an emergency, call your local emergency number now.",
  );

  await enabled.uncheck();
  await page.getByLabel("Greeting").fill("Hello! This is the Rao clinic's booking assistant.");
  await page.getByLabel("Wait for my approval").check();
  await page.getByLabel("Emergency line").fill("In an emergency call 112.");
  await page.getByRole("button", { name: "Save assistant settings" }).click();
  await expect(page.getByRole("status")).toHaveText("Assistant settings saved.");

  await page.reload();
  await expect(enabled).not.toBeChecked();
  await expect(page.getByLabel("Greeting")).toHaveValue("Hello! This is the Rao clinic's booking assistant.");
  await expect(page.getByLabel("Wait for my approval")).toBeChecked();
  await expect(page.getByLabel("Emergency line")).toHaveValue("In an emergency call 112.");
});

test("a greeting that is too long is refused inline and nothing is saved", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/assistant");

  await page.getByLabel("Greeting").fill("a".repeat(301));
  await page.getByLabel("Greeting").blur();
  await expect(page.locator("#greeting-error")).toHaveText("A greeting has at most 300 characters.");
  await page.getByRole("button", { name: "Save assistant settings" }).click();
  await expect(page.locator("#greeting-error")).toHaveText("A greeting has at most 300 characters.");
  await expect(page.getByLabel("Greeting")).toHaveValue("a".repeat(301));

  await page.reload();
  await expect(page.getByLabel("Greeting")).toHaveValue("");
});

test("leaving the assistant pane with unsaved edits asks first", async ({ page }) => {
  await signUp(page, "Dana Ito", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/assistant");
  await page.getByLabel("Wait for my approval").check();

  page.once("dialog", (dialog) => dialog.dismiss());
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/assistant$/);
  await expect(page.getByLabel("Wait for my approval")).toBeChecked();
});
