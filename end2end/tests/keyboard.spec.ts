import { expect, Locator, Page, test } from "@playwright/test";
import { openHydrated, password, uniqueEmail } from "./helpers";

// A doctor who uses only the keyboard signs up, completes the setup wizard and books a
// patient by hand. Only page.keyboard acts on the pages (Tab, Shift+Tab, Enter, Space,
// arrows, typing); locators only say where the focus is.

/** Presses `key` (Tab, or Shift+Tab) until `target` has the focus. */
async function tabTo(page: Page, target: Locator, key = "Tab") {
  for (let presses = 0; presses < 80; presses++) {
    if (await target.evaluate((element) => element === document.activeElement)) {
      return;
    }
    await page.keyboard.press(key);
  }
  await expect(target, `reached with ${key}`).toBeFocused();
}

/** Replaces the text of the focused field by `text`. */
async function retype(page: Page, text: string) {
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type(text);
}

test("with the keyboard only, a doctor signs up, completes the wizard and books a patient", async ({ page }) => {
  test.setTimeout(120_000);

  // Sign-up: the fields in order, Enter to submit.
  await openHydrated(page, "/signup");
  await tabTo(page, page.getByLabel("Full name"));
  await page.keyboard.type("Asha Rao");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.keyboard.type(uniqueEmail());
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/dashboard\/setup\/profile\?wizard=1$/);
  await expect(page.getByText("Welcome, Asha Rao")).toBeVisible();

  // 1. Profile. A phone the server refuses: the focus goes to it, with its message.
  const phone = page.getByLabel("Phone", { exact: true });
  await tabTo(page, page.getByLabel("Practice name"));
  await page.keyboard.type("Rao Family Clinic");
  await tabTo(page, phone);
  await page.keyboard.type("12");
  const save = page.getByRole("button", { name: "Save and continue" });
  await tabTo(page, save);
  await page.keyboard.press("Enter");
  await expect(page.locator("#phone-error")).toHaveText(
    "Choose the phone's country, or start the number with +.",
  );
  await expect(phone).toBeFocused();
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  await retype(page, "+91 98765 43210");
  await page.keyboard.press("Enter");

  // 2. Availability: open around the clock, every day, no notice.
  await expect(page).toHaveURL(/\/dashboard\/setup\/availability\?wizard=1$/);
  await tabTo(page, page.getByLabel("Time zone"));
  await retype(page, "Asia/Kolkata");
  await tabTo(page, page.getByLabel("Monday", { exact: true }));
  await page.keyboard.type("00:00-24:00");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Copy Monday's hours to every day" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Sunday", { exact: true })).toHaveValue("00:00-24:00");
  await tabTo(page, page.getByLabel("Minimum notice (hours)"));
  await retype(page, "0");
  await page.keyboard.press("Enter");

  // 3. Methods & fees: checkboxes with Space.
  await expect(page).toHaveURL(/\/dashboard\/setup\/methods-fees\?wizard=1$/);
  await tabTo(page, page.getByLabel("Currency"));
  await retype(page, "INR");
  await tabTo(page, page.getByLabel("Offer text/chat"));
  await page.keyboard.press("Space");
  await expect(page.getByLabel("Offer text/chat")).toBeChecked();
  await tabTo(page, page.getByLabel("Text/chat fee"));
  await page.keyboard.type("200");
  await tabTo(page, page.getByLabel("Offer voice call"));
  await page.keyboard.press("Space");
  await tabTo(page, page.getByLabel("Voice call fee"));
  await page.keyboard.type("500");
  await page.keyboard.press("Enter");

  // 4. Services, then "Finish setup".
  await expect(page).toHaveURL(/\/dashboard\/setup\/services\?wizard=1$/);
  await tabTo(page, page.getByLabel("Service name"));
  await page.keyboard.type("Consultation");
  await tabTo(page, page.getByLabel("Duration (minutes)"));
  await page.keyboard.type("30");
  await page.keyboard.press("Enter");
  await expect(page.locator("ol.services")).toContainText("Consultation");
  await tabTo(page, page.getByRole("link", { name: "Finish setup" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("listitem").filter({ hasText: "Add your services" })).toContainText("Done");

  // Appointments, from the dashboard's navigation.
  await tabTo(page, page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Appointments" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/dashboard\/appointments$/);

  // The method with the arrow keys, the second free time, the patient; Enter books.
  const text = page.getByLabel("Text/chat (200.00 INR)");
  const voice = page.getByLabel("Voice call (500.00 INR)");
  await tabTo(page, text);
  await page.keyboard.press("ArrowDown");
  await expect(voice).toBeFocused();
  await expect(voice).toBeChecked();
  const time = page.getByLabel("Time", { exact: true });
  await expect(time.locator("option").nth(1)).toBeAttached();
  const second = await time.locator("option").nth(1).getAttribute("value");
  const secondLabel = (await time.locator("option").nth(1).textContent())!.trim();
  await tabTo(page, time);
  await page.keyboard.press("ArrowDown");
  await expect(time).toHaveValue(second!);
  await tabTo(page, page.getByLabel("Patient name"));
  await page.keyboard.type("Meera Iyer");
  await tabTo(page, page.getByLabel("Patient phone"));
  await page.keyboard.type("+91 98765 43210");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status")).toContainText(`${secondLabel}`);
  await expect(page.getByRole("status")).toContainText("for Meera Iyer.");
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Meera Iyer" });
  await expect(row).toContainText("500.00 INR");

  // Its details: opening moves the focus there, Escape closes them and returns it; so does
  // "Close". Shift+Tab walks back up the page to the button.
  const opener = row.getByRole("button", { name: /Details of Meera Iyer/ });
  await tabTo(page, opener, "Shift+Tab");
  await page.keyboard.press("Enter");
  const details = page.locator("section.details");
  await expect(details.getByRole("heading", { name: "Meera Iyer" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(details).toHaveCount(0);
  await expect(opener).toBeFocused();

  await page.keyboard.press("Space");
  await expect(details.getByRole("heading", { name: "Meera Iyer" })).toBeFocused();
  await tabTo(page, details.getByRole("button", { name: "Close" }));
  await page.keyboard.press("Enter");
  await expect(details).toHaveCount(0);
  await expect(opener).toBeFocused();
});
