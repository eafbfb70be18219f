import { expect, Locator, Page } from "@playwright/test";

/** Opens a page and waits until the WASM bundle has hydrated it. */
export async function openHydrated(page: Page, path: string) {
  await page.goto(path);
  await waitForHydration(page);
}

export async function waitForHydration(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

export function uniqueEmail(): string {
  return `dr.${Date.now()}.${Math.floor(Math.random() * 1e9)}@clinic.example`;
}

export const password = "correct horse battery";

/** Creates an account through the sign-up page and waits for the dashboard. */
export async function signUp(page: Page, fullName: string, email: string) {
  await openHydrated(page, "/signup");
  await page.getByLabel("Full name").fill(fullName);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

/** Text fields by their exact label, and what is typed into each. */
export type Typed = Record<string, string>;

/** Types each text into the field labelled exactly so, in order. */
export async function fillFields(page: Page, typed: Typed) {
  for (const [label, text] of Object.entries(typed)) {
    await page.getByLabel(label, { exact: true }).fill(text);
  }
}

/** Checks that each field labelled so holds exactly that text. */
export async function expectFieldsHold(page: Page, typed: Typed) {
  for (const [label, text] of Object.entries(typed)) {
    await expect(page.getByLabel(label, { exact: true }), label).toHaveValue(text);
  }
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Offers text/chat (INR 200) and voice calls (INR 500). */
export async function offerTextAndVoice(page: Page) {
  await openHydrated(page, "/dashboard/setup/methods-fees");
  await page.getByLabel("Currency").fill("INR");
  await page.getByLabel("Offer text/chat").check();
  await page.getByLabel("Text/chat fee").fill("200");
  await page.getByLabel("Offer voice call").check();
  await page.getByLabel("Voice call fee").fill("500");
  await page.getByRole("button", { name: "Save methods & fees" }).click();
  await expect(page.getByRole("status")).toHaveText("Methods and fees saved.");
}

/**
 * Sets up the signed-in doctor to take bookings, like tests/common's `open_practice`: open
 * around the clock every day in Asia/Kolkata with no notice (so a time is free whenever the
 * test runs), text/chat (INR 200) and voice calls (INR 500), and a 30-minute "Consultation".
 */
export async function openPractice(page: Page) {
  await openHydrated(page, "/dashboard/setup/availability");
  await page.getByLabel("Time zone").fill("Asia/Kolkata");
  await page.getByLabel("Monday", { exact: true }).fill("00:00-24:00");
  await page.getByRole("button", { name: "Copy Monday's hours to every day" }).click();
  await page.getByLabel("Minimum notice (hours)").fill("0");
  await page.getByRole("button", { name: "Save availability" }).click();
  await expect(page.getByRole("status")).toHaveText("Availability saved.");
  await offerTextAndVoice(page);
  await openHydrated(page, "/dashboard/setup/services");
  await page.getByLabel("Service name").fill("Consultation");
  await page.getByLabel("Duration (minutes)").fill("30");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services")).toContainText("Consultation");
}

/** The fake Meta's patient chat page (tests/common/sandbox.rs, served by examples/fake_meta.rs). */
export const sandbox = "http://127.0.0.1:3102/sandbox";

/**
 * Connects the fake's one Instagram account, @e2e.skin.clinic, through its login dialog
 * ("Continue"). One doctor at a time can link it: see `disconnectInstagram`.
 */
export async function connectInstagram(page: Page) {
  await openHydrated(page, "/dashboard/instagram");
  await page.getByRole("link", { name: "Connect Instagram" }).click();
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/dashboard\/instagram/);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Connected as @e2e.skin.clinic" })).toBeVisible();
}

/** Unlinks the fake's Instagram account if the signed-in doctor has it, for the specs that follow. */
export async function disconnectInstagram(page: Page) {
  await openHydrated(page, "/dashboard/instagram");
  const disconnect = page.getByRole("button", { name: "Disconnect", exact: true });
  await expect(page.getByText("Not connected").or(disconnect)).toBeVisible();
  if (await disconnect.isVisible()) {
    await disconnect.click();
    await page.getByRole("button", { name: "Yes, disconnect" }).click();
    await expect(page.getByText("Not connected")).toBeVisible();
  }
}

/** The sandbox's last message, once it contains `text` (the app's answer has arrived). */
export async function lastSays(chat: Locator, text: string): Promise<Locator> {
  const last = chat.getByRole("listitem").last();
  await expect(last).toContainText(text);
  return last;
}

/** Types `text` into the sandbox's message box and sends it. */
export async function write(patient: Page, text: string) {
  await patient.getByLabel("Message").fill(text);
  await patient.getByRole("button", { name: "Send", exact: true }).click();
}
