import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import {
  connectInstagram,
  disconnectInstagram,
  openHydrated,
  openPractice,
  password,
  sandbox,
  signUp,
  uniqueEmail,
  waitForHydration,
  write,
} from "./helpers";

// axe-core (its default rules: WCAG 2.x A and AA, and best practices) on every page of the app,
// in the states a doctor sees them: empty and filled in, with a refused save's messages
// showing, an appointment's details open, a conversation open. A page passes with no
// violation of impact serious or critical, and no empty alert standing by; the others, and
// what axe could not decide, are printed, not failed.

const fakePayments = "http://127.0.0.1:3103";

/** Runs axe on the page as it stands; fails on serious or critical violations, naming each. */
async function expectAccessible(page: Page, what: string) {
  // role="alert" is on a message only while it is there.
  await expect(page.locator('[role="alert"]:empty'), `empty alerts on ${what}`).toHaveCount(0);
  const results = await new AxeBuilder({ page }).analyze();
  for (const v of results.incomplete) {
    const targets = v.nodes.map((n) => n.target.join(" ")).join("\n    ");
    console.log(`${what}: needs review: [${v.impact}] ${v.id}: ${v.help}\n    ${targets}`);
  }
  const found = results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
  for (const v of found) {
    console.log(`${what}: [${v.impact}] ${v.rule}: ${v.help}\n    ${v.targets.join("\n    ")}`);
  }
  const blocking = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(blocking, `serious or critical axe violations on ${what}`).toEqual([]);
}

test("the account pages: sign-up, log-in, forgot and reset password, not found", async ({ page }) => {
  await openHydrated(page, "/signup");
  await expectAccessible(page, "sign-up");
  // With the browser's messages showing.
  await page.getByLabel("Email").fill("asha@clinic");
  await page.getByLabel("Email").blur();
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("Password").blur();
  await expect(page.locator("#password-error")).toBeVisible();
  await expectAccessible(page, "sign-up with field errors");

  await openHydrated(page, "/login");
  await expectAccessible(page, "log-in");
  // A refused log-in: the message about the whole form.
  await page.getByLabel("Email").fill(uniqueEmail());
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("p.alert")).toBeVisible();
  await expectAccessible(page, "log-in refused");

  await openHydrated(page, "/forgot-password");
  await expectAccessible(page, "forgot password");
  await openHydrated(page, "/reset-password?token=not-a-token");
  await expectAccessible(page, "reset password");
  await page.goto("/no-such-page");
  await expectAccessible(page, "not found");
});

test("every dashboard page of a practice, with an appointment's details open", async ({ page, context }) => {
  test.setTimeout(240_000);
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await waitForHydration(page);
  await expectAccessible(page, "the wizard's first step");
  await openHydrated(page, "/dashboard");
  await expectAccessible(page, "home, new account");

  // The panes empty, then with a refused save's messages.
  await openHydrated(page, "/dashboard/setup/profile");
  await expectAccessible(page, "profile");
  await page.getByLabel("Practice name").fill("Rao Family Clinic");
  await page.getByLabel("Phone", { exact: true }).fill("12");
  await page.getByLabel("Phone country").selectOption("NG");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#phone-error")).toBeVisible();
  // The refused field has the focus, invalid and described by its message.
  const phone = page.getByLabel("Phone", { exact: true });
  await expect(phone).toBeFocused();
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  await expect(phone).toHaveAttribute("aria-describedby", "phone-hint phone-error");
  await expectAccessible(page, "profile refused");

  await openHydrated(page, "/dashboard/setup/availability");
  await expectAccessible(page, "availability");
  await page.getByLabel("Tuesday", { exact: true }).fill("09:00-13:00, 12:00-14:00");
  await page.getByLabel("Tuesday", { exact: true }).blur();
  await expect(page.locator("#tuesday-error")).toBeVisible();
  await expectAccessible(page, "availability with a field error");

  await openHydrated(page, "/dashboard/setup/methods-fees");
  await expectAccessible(page, "methods & fees");
  await openHydrated(page, "/dashboard/setup/services");
  await expectAccessible(page, "services, none yet");
  await openHydrated(page, "/dashboard/setup/assistant");
  await expectAccessible(page, "assistant settings");
  await openHydrated(page, "/dashboard/setup/payments");
  await expectAccessible(page, "payments, not connected");

  // A practice that takes bookings, a blocked day, services live and archived.
  await openPractice(page);
  await page.getByLabel("Service name").fill("Follow-up");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services li")).toHaveCount(2);
  await page.getByLabel("Service name").fill("Skin check");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("ol.services li")).toHaveCount(3);
  await page.getByRole("button", { name: "Archive Skin check" }).click();
  await expect(page.locator("ul.archived")).toContainText("Skin check");
  await page.getByLabel("Service name").fill("consultation");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.locator("#name-error")).toBeVisible();
  await expect(page.getByLabel("Service name")).toBeFocused();
  await expectAccessible(page, "services, live and archived, a name refused");

  await openHydrated(page, "/dashboard/setup/availability");
  const nextYear = new Date().getFullYear() + 1;
  await page.getByLabel("Date").fill(`${nextYear}-01-05`);
  await page.getByLabel("Reason (private)").fill("Conference");
  await page.getByRole("button", { name: "Block this time" }).click();
  await expect(page.locator("ul.blocked")).toContainText("Conference");
  await expectAccessible(page, "availability, saved, with a blocked day");

  // An appointment booked by hand, its details open, and a refused cancellation.
  await openHydrated(page, "/dashboard/appointments");
  await expectAccessible(page, "appointments, none yet");
  await page.getByLabel("Patient name").fill("Meera Iyer");
  await page.getByLabel("Patient phone").fill("+91 98765 43210");
  await page.getByRole("button", { name: "Book appointment" }).click();
  await expect(page.getByRole("status")).toContainText("for Meera Iyer.");
  await expectAccessible(page, "appointments with one booked");
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Meera Iyer" });
  await row.getByRole("button", { name: /Details of Meera Iyer/ }).click();
  const details = page.locator("section.details");
  await expect(details.getByRole("heading", { name: "Meera Iyer" })).toBeFocused();
  await expectAccessible(page, "appointments, details open");
  await details.getByLabel("Reason for cancelling").fill("   ");
  // Left first: the browser's message then moves the button before it is clicked.
  await details.getByLabel("Reason for cancelling").blur();
  await details.getByRole("button", { name: "Cancel appointment" }).click();
  await expect(details.locator("#reason-error")).toBeVisible();
  await expect(details.getByLabel("Reason for cancelling")).toBeFocused();
  await expectAccessible(page, "appointments, cancellation refused");

  await openHydrated(page, "/dashboard");
  await expect(page.getByRole("heading", { name: "Today" })).toBeVisible();
  await expectAccessible(page, "home, set up, with the agenda");

  await openHydrated(page, "/dashboard/inbox");
  await expect(page.getByText("No conversations yet.")).toBeVisible();
  await expectAccessible(page, "inbox, empty");

  await openHydrated(page, "/dashboard/assistant");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(page.locator("#try-text-error")).toBeVisible();
  await expectAccessible(page, "try your assistant, empty message refused");
  await page.getByLabel("Message").fill("hi");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(page.getByRole("list", { name: "Conversation" })).toContainText("automated assistant");
  await expectAccessible(page, "try your assistant, a conversation");

  await openHydrated(page, "/dashboard/instagram");
  await expect(page.getByRole("link", { name: "Connect Instagram" })).toBeVisible();
  await expectAccessible(page, "instagram, not connected");

  await openHydrated(page, "/dashboard/account");
  await expectAccessible(page, "account");

  // Payments with Stripe connected: a key from the fake Stripe's dashboard.
  const stripe = await context.newPage();
  await stripe.goto(`${fakePayments}/dashboard`);
  await stripe.getByRole("button", { name: "Create restricted key" }).click();
  const key = (await stripe.locator("section code.key").first().textContent())!;
  await stripe.close();
  await openHydrated(page, "/dashboard/setup/payments");
  await page.getByLabel("Online with Stripe").check();
  await page.getByLabel("Restricted key").fill(`rk_test_${Date.now()}wrongwrongwrong`);
  await page.getByRole("button", { name: "Save payment settings" }).click();
  await expect(page.locator("#secret-error")).toBeVisible();
  await expectAccessible(page, "payments, a key refused");
  await page.getByLabel("Restricted key").fill(key);
  await page.getByRole("button", { name: "Save payment settings" }).click();
  await expect(page.getByRole("heading", { name: "Stripe connected (test mode)" })).toBeVisible();
  await expectAccessible(page, "payments, Stripe connected");
});

test.describe("with Instagram connected", () => {
  test.afterEach(async ({ page }) => {
    await disconnectInstagram(page);
  });

  test("the Instagram pane and the Inbox with a conversation open", async ({ page, context }) => {
    test.setTimeout(120_000);
    await signUp(page, "Meera Iyer", uniqueEmail());
    await expect(page).toHaveURL(/wizard=1/);
    await connectInstagram(page);
    await expectAccessible(page, "instagram, connected");
    await page.getByRole("button", { name: "Disconnect", exact: true }).click();
    await expect(page.getByRole("button", { name: "Yes, disconnect" })).toBeVisible();
    await expectAccessible(page, "instagram, confirming disconnect");
    await page.getByRole("button", { name: "Keep connected" }).click();

    const patient = await context.newPage();
    await patient.goto(`${sandbox}?patient=a11y-${Date.now()}&name=Asha+Verma&username=asha.verma`);
    await write(patient, "Hello, can I book a skin check?");
    await openHydrated(page, "/dashboard/inbox");
    const conversation = page.getByRole("button", { name: /Asha Verma/ });
    await expect(conversation).toBeVisible();
    await expectAccessible(page, "inbox with a conversation");
    await conversation.click();
    await expect(page.getByRole("heading", { level: 2, name: "Asha Verma" })).toBeVisible();
    await expect(page.getByRole("list", { name: "Messages" })).toContainText("automated assistant");
    await expectAccessible(page, "inbox, a conversation open");
    await openHydrated(page, "/dashboard");
    await expectAccessible(page, "home with unread messages");
  });
});
