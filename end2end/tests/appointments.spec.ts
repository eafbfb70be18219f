import { expect, test } from "@playwright/test";
import { openHydrated, openPractice, signUp, uniqueEmail, waitForHydration } from "./helpers";

test("a doctor books a patient into the first free time, cannot book it twice, cancels it and gets it back", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openPractice(page);

  await openHydrated(page, "/dashboard");
  await expect(page.getByText("Nothing booked today.")).toBeVisible();
  await page.getByRole("link", { name: "Appointments", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard\/appointments$/);
  await expect(page.getByText("Times are in Asia/Kolkata.")).toBeVisible();

  // The first free time is chosen for us; remember it.
  const time = page.getByLabel("Time");
  await expect(time.locator("option").first()).toBeAttached();
  const firstTime = await time.locator("option").first().getAttribute("value");
  const firstLabel = (await time.locator("option").first().textContent())!.trim();
  await expect(page.getByLabel("Text/chat (200.00 INR)")).toBeChecked();
  await page.getByLabel("Voice call (500.00 INR)").check();
  await page.getByLabel("Patient name").fill("Meera Iyer");
  await page.getByLabel("Patient phone").fill("+91 98765 43210");
  await page.getByRole("button", { name: "Book appointment" }).click();
  await expect(page.getByRole("status")).toContainText(`${firstLabel}`);
  await expect(page.getByRole("status")).toContainText("for Meera Iyer.");

  // In the list and on the calendar; its time is no longer offered.
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Meera Iyer" });
  await expect(row).toContainText("500.00 INR");
  await expect(row).toContainText("Confirmed");
  await expect(page.locator(".calendar .appt").filter({ hasText: "Meera Iyer" })).toBeVisible();
  await expect(time.locator(`option[value="${firstTime}"]`)).toHaveCount(0);

  // Still there after a reload.
  await page.reload();
  await waitForHydration(page);
  await expect(row).toBeVisible();
  await expect(page.getByLabel("Time").locator(`option[value="${firstTime}"]`)).toHaveCount(0);

  // Cancel it with a reason, from its details.
  await row.getByRole("button", { name: /Details of Meera Iyer/ }).click();
  const details = page.locator("section.details");
  await expect(details.getByRole("heading", { name: "Meera Iyer" })).toBeVisible();
  // A blank reason is refused (the browser asks for one; spaces reach our own check).
  await details.getByLabel("Reason for cancelling").fill("   ");
  await details.getByRole("button", { name: "Cancel appointment" }).click();
  await expect(details.locator("#reason-error")).toContainText("Say why it is cancelled");
  await details.getByLabel("Reason for cancelling").fill("Patient asked to move it");
  await details.getByRole("button", { name: "Cancel appointment" }).click();
  await expect(page.getByText("No appointments here.")).toBeVisible();
  await expect(page.locator(".calendar .appt")).toHaveCount(0);
  await expect(page.getByLabel("Time").locator(`option[value="${firstTime}"]`)).toHaveCount(1);

  // Listed under Cancelled, with its reason.
  await page.getByLabel("Show").selectOption("cancelled");
  await expect(page.locator("table.appointments tbody tr")).toContainText("Meera Iyer");
});
