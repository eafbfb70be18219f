import { expect, test } from "@playwright/test";
import { logOut, openHydrated, password, signUp, uniqueEmail } from "./helpers";

// "Forgot password?" end to end. The test server has no SMTP relay, so its mail lands in
// data/mail and is listed at /dev/mail, where the doctor's link is followed.

test("a doctor who forgot the password gets a link by mail and chooses a new one", async ({ page, context }) => {
  const email = uniqueEmail();
  await signUp(page, "Meera Nair", email);
  await expect(page).toHaveURL(/wizard=1/);
  await logOut(page);

  await openHydrated(page, "/login");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("status")).toContainText("If an account uses that address, a link is on its way.");

  // The mail, as the development mail page lists it.
  const mailbox = await context.newPage();
  const mail = mailbox.locator("article").filter({ hasText: email }).filter({ hasText: "Choose a new Clariva password" });
  await expect(async () => {
    await mailbox.goto("/dev/mail");
    await expect(mail).toHaveCount(1);
  }).toPass();
  const link = (await mail.getByRole("link").getAttribute("href"))!;
  expect(link).toMatch(/\/reset-password\?token=[\w-]{43}$/);
  await mailbox.close();

  // A password too short is refused beside the field; then the new one signs the doctor in.
  await openHydrated(page, new URL(link).pathname + new URL(link).search);
  await page.getByLabel("New password").fill("short");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator("#password-error")).toContainText("at least 10 characters");
  await page.getByLabel("New password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/dashboard/);
  await logOut(page);

  // The old password no longer works; the link works once.
  await openHydrated(page, "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("p.alert")).toBeVisible();
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/dashboard/);
  await logOut(page);
  await openHydrated(page, new URL(link).pathname + new URL(link).search);
  await page.getByLabel("New password").fill("yet another passphrase");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator("p.alert")).toContainText("expired or was used already");
});

test("a doctor changes the password on the Account page", async ({ page }) => {
  const email = uniqueEmail();
  await signUp(page, "Ravi Menon", email);
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard/account");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#current-error")).toContainText("That is not your current password.");
  await page.getByLabel("Current password").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. Your other devices were logged out.")).toBeVisible();
  await logOut(page);
  await openHydrated(page, "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/dashboard/);
});

test("a new doctor confirms the email address from the mailed link, and the banner goes", async ({ page, context }) => {
  const email = uniqueEmail();
  await signUp(page, "Anil Kapoor", email);
  await expect(page).toHaveURL(/wizard=1/);
  await openHydrated(page, "/dashboard");
  await expect(page.getByText("Please confirm your email address")).toBeVisible();

  const mailbox = await context.newPage();
  const mail = mailbox.locator("article").filter({ hasText: email }).filter({ hasText: "Confirm your Clariva email address" });
  await expect(async () => {
    await mailbox.goto("/dev/mail");
    await expect(mail).toHaveCount(1);
  }).toPass();
  await mail.getByRole("link").click();
  await expect(mailbox).toHaveURL(/\/dashboard\/account\?email=confirmed$/);
  await expect(mailbox.getByText("Thank you: your email address is confirmed.")).toBeVisible();
  await expect(mailbox.getByText(`${email} (confirmed)`)).toBeVisible();
  await mailbox.close();

  await openHydrated(page, "/dashboard");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByText("Please confirm your email address")).toHaveCount(0);
});
