import { expect, Page } from "@playwright/test";

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
  await page.getByRole("button", { name: "Log out" }).click();
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
