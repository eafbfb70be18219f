import { expect, Page, test } from "@playwright/test";
import { openHydrated, signUp, uniqueEmail, waitForHydration } from "./helpers";

// The app talks to the fake Meta of the Rust tests (served by examples/fake_meta.rs) instead
// of Meta: its dialog offers "Continue" and "Cancel", and its person manages one Page,
// "E2E Skin Clinic", linked to @e2e.skin.clinic.

/** From the Instagram pane, through "Connect Instagram", to the fake login dialog. */
async function openMetaDialog(page: Page) {
  await page.getByRole("link", { name: "Connect Instagram" }).click();
  await expect(page).toHaveURL(/\/v21\.0\/dialog\/oauth\?/);
  await expect(page).toHaveTitle("Log in with Facebook");
  await expect(page.getByRole("heading", { name: "Fake Meta" })).toBeVisible();
}

test("a doctor connects Instagram through Meta's dialog, reloads, and disconnects after confirming", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);

  await openHydrated(page, "/dashboard/instagram");
  await expect(page.getByRole("heading", { level: 1, name: "Instagram" })).toBeVisible();
  await expect(page.getByText("Not connected")).toBeVisible();

  await openMetaDialog(page);
  await page.getByRole("link", { name: "Continue" }).click();

  // Back on the pane, connected to the Page's Instagram account.
  await expect(page).toHaveURL(/\/dashboard\/instagram/);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Connected as @e2e.skin.clinic" })).toBeVisible();
  await expect(page.getByText("E2E Skin Clinic")).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Instagram is connected" })).toBeVisible();

  // The address forgets how the trip went, so a reload shows the link but not the message.
  await expect(page).toHaveURL(/\/dashboard\/instagram$/);
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Connected as @e2e.skin.clinic" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveCount(0);

  // Disconnecting asks first, saying what stops.
  await page.getByRole("button", { name: "Disconnect", exact: true }).click();
  await expect(page.getByText("The assistant stops answering DMs sent to @e2e.skin.clinic")).toBeVisible();
  await page.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(page.getByText("Not connected")).toBeVisible();
  await expect(page.getByRole("link", { name: "Connect Instagram" })).toBeVisible();
});

test("cancelling on Meta's dialog changes nothing", async ({ page }) => {
  await signUp(page, "Ben Okafor", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);

  await openHydrated(page, "/dashboard/instagram");
  await expect(page.getByText("Not connected")).toBeVisible();

  await openMetaDialog(page);
  await page.getByRole("link", { name: "Cancel" }).click();

  await expect(page).toHaveURL(/\/dashboard\/instagram/);
  await waitForHydration(page);
  await expect(page.getByRole("alert").filter({ hasText: "You cancelled" })).toBeVisible();
  await expect(page.getByText("Not connected")).toBeVisible();
  await expect(page.getByRole("link", { name: "Connect Instagram" })).toBeVisible();
});
