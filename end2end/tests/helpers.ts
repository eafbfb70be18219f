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
