import { expect, test } from "@playwright/test";
import { expectFieldsHold, fillFields, openHydrated, signUp, uniqueEmail } from "./helpers";

test("a doctor fills in the practice profile, reloads and sees it saved", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard");
  await expect(page.getByRole("listitem").filter({ hasText: "Describe your practice" })).toContainText("To do");

  await page.getByRole("link", { name: "Describe your practice" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/profile$/);
  await page.getByLabel("Practice name").fill("Rao Family Clinic");
  await page.getByLabel("Phone country").selectOption("IN");
  await page.getByLabel("Phone", { exact: true }).fill("098765 43210");
  await page.getByLabel("Address").fill("12 MG Road\nBengaluru");
  await page.getByLabel("Note for patients").fill("Parking behind the building.");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");

  await page.reload();
  await expect(page.getByLabel("Practice name")).toHaveValue("Rao Family Clinic");
  await expect(page.getByLabel("Phone", { exact: true })).toHaveValue("+919876543210");
  await expect(page.getByLabel("Phone country")).toHaveValue("IN");
  await expect(page.getByLabel("Address")).toHaveValue("12 MG Road\nBengaluru");
  await expect(page.getByLabel("Email")).toHaveAttribute("readonly", "");

  await page.goto("/dashboard");
  await expect(page.getByRole("listitem").filter({ hasText: "Describe your practice" })).toContainText("Done");
});

test("an empty practice name shows an inline error and saves nothing", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/profile");

  await page.getByLabel("Practice name").fill("Okafor Clinic");
  await page.getByLabel("Practice name").fill("   ");
  await page.getByLabel("Practice name").blur();
  await expect(page.locator("#practice_name-error")).toHaveText("Enter the practice's name.");

  // The server is the authority: a phone it cannot read comes back inline too.
  await page.getByLabel("Practice name").fill("Okafor Clinic");
  await page.getByLabel("Phone", { exact: true }).fill("12");
  await page.getByLabel("Phone country").selectOption("NG");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#phone-error")).toHaveText(
    "That is not a complete phone number; check the digits.",
  );
  await page.reload();
  await expect(page.getByLabel("Practice name")).toHaveValue("");
});

test("after a refused save every field still holds what was typed, and fixing the refused one saves them all", async ({ page }) => {
  await signUp(page, "Chioma Eze", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/profile");

  // The browser leaves a national number to the server (the country decides it); the server
  // finds "12" too short for Nigeria.
  const typed = {
    "Full name": "Dr Chioma Eze",
    "Practice name": "Eze Family Clinic",
    Phone: "12",
    Address: "3 Allen Avenue\nIkeja, Lagos",
    "Note for patients": "Ring the bell at the gate.",
  };
  await page.getByLabel("Phone country").selectOption("NG");
  await fillFields(page, typed);
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#phone-error")).toHaveText(
    "That is not a complete phone number; check the digits.",
  );

  await expectFieldsHold(page, typed);
  await expect(page.getByLabel("Phone country")).toHaveValue("NG");

  // Fixing only the refused field saves everything else as it was typed.
  await page.getByLabel("Phone", { exact: true }).fill("0803 123 4567");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");
  await page.reload();
  await expectFieldsHold(page, { ...typed, Phone: "+2348031234567" });
  await expect(page.getByLabel("Phone country")).toHaveValue("NG");
});

test("leaving a pane with unsaved edits asks first", async ({ page }) => {
  await signUp(page, "Dana Ito", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/setup/profile");
  await page.getByLabel("Practice name").fill("Ito Clinic");

  // Staying keeps the edit on the page.
  page.once("dialog", (dialog) => dialog.dismiss());
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL(/\/dashboard\/setup\/profile$/);
  await expect(page.getByLabel("Practice name")).toHaveValue("Ito Clinic");

  // Leaving goes, and nothing was saved.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await openHydrated(page, "/dashboard/setup/profile");
  await expect(page.getByLabel("Practice name")).toHaveValue("");

  // After saving, nothing is asked.
  await page.getByLabel("Practice name").fill("Ito Clinic");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
});
