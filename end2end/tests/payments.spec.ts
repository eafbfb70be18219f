import { expect, Locator, Page, test } from "@playwright/test";
import {
  connectInstagram,
  disconnectInstagram,
  lastSays,
  openHydrated,
  openPractice,
  sandbox,
  signUp,
  uniqueEmail,
  write,
} from "./helpers";

// Online payment end to end: the doctor connects their provider (the fake Stripe and
// Razorpay of tests/common/fake_payments.rs, served by examples/fake_payments.rs), a patient
// books in the fake Meta's sandbox, taps Pay, pays on the provider's hosted page, and the
// doctor's calendar shows the appointment confirmed and paid.

const fakePayments = "http://127.0.0.1:3103";

test.afterEach(async ({ page }) => {
  await disconnectInstagram(page);
});

/** Tells the fake provider about an account, and where it delivers the account's events. */
async function fakeAccount(page: Page, provider: "stripe" | "razorpay", account: object) {
  const response = await page.request.post(`${fakePayments}/fake/${provider}/accounts`, { data: account });
  expect(response.ok()).toBeTruthy();
}

/** Saves the payments pane with `fill` done, and gives the webhook URL it then shows. */
async function connectProvider(page: Page, choice: string, fill: () => Promise<void>): Promise<string> {
  await openHydrated(page, "/dashboard/setup/payments");
  await page.getByLabel(choice).check();
  await fill();
  await page.getByRole("button", { name: "Save payment settings" }).click();
  await expect(page.getByText("Payment settings saved.")).toBeVisible();
  const url = await page.getByLabel("Webhook URL").inputValue();
  expect(url).toMatch(/\/payments\/(stripe|razorpay)\/[0-9a-f]{32}$/);
  return url;
}

async function requireOnlinePayment(page: Page) {
  await openHydrated(page, "/dashboard/setup/assistant");
  await page.getByLabel("Need online payment").check();
  await page.getByRole("button", { name: "Save assistant settings" }).click();
  await expect(page.getByText("Assistant settings saved.")).toBeVisible();
}

/** A patient books the first free voice call in the sandbox; the chat and the time booked. */
async function patientBooks(page: Page, patient: Page): Promise<{ chat: Locator; time: string }> {
  const patientId = `sandbox-patient-${Date.now()}`;
  await patient.goto(`${sandbox}?patient=${patientId}&name=Ravi+Kumar&username=ravi.kumar`);
  const chat = patient.getByRole("list", { name: "Chat" });
  await write(patient, "hi");
  await (await lastSays(chat, "1. Book")).getByRole("button", { name: "Book", exact: true }).click();
  await (await lastSays(chat, "Voice call: 500.00 INR")).getByRole("button", { name: "Voice call", exact: true }).click();
  await (await lastSays(chat, "Which day suits you?")).getByRole("button").first().click();
  const times = await lastSays(chat, "(Asia/Kolkata time)");
  const time = (await times.getByRole("button").first().textContent())!.trim();
  await times.getByRole("button").first().click();
  await lastSays(chat, "What name should the appointment be under?");
  await write(patient, "Ravi Kumar");
  await lastSays(chat, "What phone number");
  await write(patient, "+91 98765 43210");
  await (await lastSays(chat, "Shall I book it?")).getByRole("button", { name: "Confirm", exact: true }).click();
  await expect(chat.getByRole("listitem").filter({ hasText: "It is confirmed once the fee is paid" })).toContainText(time);
  return { chat, time };
}

/** Taps "Pay" in the chat, pays on the provider's page, and lands on our thank-you page. */
async function pays(patient: Page, chat: Locator) {
  const message = await lastSays(chat, "please pay the fee of 500.00 INR");
  const [payPage] = await Promise.all([
    patient.context().waitForEvent("page"),
    message.getByRole("link", { name: "Pay 500.00 INR" }).click(),
  ]);
  await expect(payPage.getByRole("heading", { level: 1 })).toContainText("Fake");
  await payPage.getByRole("button", { name: "Pay", exact: true }).click();
  await expect(payPage.getByRole("heading", { name: "Thank you" })).toBeVisible();
  await expect(payPage.getByText("Your payment is being confirmed.")).toBeVisible();
  await payPage.close();
}

async function seesPaid(page: Page, time: string, provider: string) {
  await openHydrated(page, "/dashboard/appointments");
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Ravi Kumar" });
  await expect(row).toContainText(time);
  await expect(row).toContainText("Confirmed");
  await row.getByRole("button", { name: /Details of Ravi Kumar/ }).click();
  await expect(page.locator("dl.payment")).toContainText(`Paid 500.00 INR with ${provider}`);
}

test("a patient pays with Stripe and the doctor's calendar shows the appointment confirmed and paid", async ({ page, context }) => {
  await signUp(page, "Kavya Menon", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openPractice(page);
  await connectInstagram(page);
  // In Stripe's dashboard (the fake's), the doctor makes a restricted key.
  const stripe = await context.newPage();
  await stripe.goto(`${fakePayments}/dashboard`);
  await stripe.getByRole("button", { name: "Create restricted key" }).click();
  const key = (await stripe.locator("section code.key").first().textContent())!;
  const account = stripe.locator("section").filter({ hasText: key });

  // A wrong key is refused by Stripe, and nothing is saved.
  await openHydrated(page, "/dashboard/setup/payments");
  await page.getByLabel("Online with Stripe").check();
  await page.getByLabel("Restricted key").fill(`rk_test_${Date.now()}wrongwrongwrong`);
  await page.getByRole("button", { name: "Save payment settings" }).click();
  await expect(page.locator("#secret-error")).toContainText("Stripe does not recognise this key");

  // The key first: its webhook URL shows, to add the endpoint in Stripe with.
  const webhook = await connectProvider(page, "Online with Stripe", async () => {
    await page.getByLabel("Restricted key").fill(key);
  });
  await expect(page.getByRole("heading", { name: "Stripe connected (test mode)" })).toBeVisible();
  await expect(page.getByText(key)).toHaveCount(0);
  await expect(page.getByText("One step left: add the webhook in Stripe's dashboard")).toBeVisible();
  // The doctor adds the endpoint in Stripe, and pastes the signing secret Stripe gives.
  await account.getByLabel("Endpoint URL").fill(webhook);
  await account.getByRole("button", { name: "Add endpoint" }).click();
  const secret = (await account.locator("code.signing-secret").textContent())!;
  await stripe.close();
  await page.getByLabel("Webhook signing secret").fill(secret);
  await page.getByRole("button", { name: "Save payment settings" }).click();
  await expect(page.getByText("No event has arrived from Stripe yet.")).toBeVisible();
  await expect(page.getByText("One step left")).toHaveCount(0);
  await requireOnlinePayment(page);

  const patient = await context.newPage();
  const { chat, time } = await patientBooks(page, patient);
  await pays(patient, chat);
  await lastSays(chat, "Payment received, thank you.");
  await seesPaid(page, time, "Stripe");

  // The pane now says the webhook works.
  await openHydrated(page, "/dashboard/setup/payments");
  await expect(page.getByText("Last event received:")).toBeVisible();
});

/**
 * A new doctor with an open practice and the fake's Instagram account, paid through Razorpay
 * (a fresh test key), whose assistant asks for online payment.
 */
async function razorpayPractice(page: Page, name: string) {
  await signUp(page, name, uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openPractice(page);
  await connectInstagram(page);
  const stamp = Date.now();
  const account = { key_id: `rzp_test_${stamp}`, key_secret: `secret${stamp}`, webhook_secret: `webhook-secret-${stamp}` };
  await fakeAccount(page, "razorpay", account);
  const webhook = await connectProvider(page, "Online with Razorpay (India)", async () => {
    await page.getByLabel("Key Id").fill(account.key_id);
    await page.getByLabel("Key Secret").fill(account.key_secret);
    await page.getByLabel("Webhook secret").fill(account.webhook_secret);
  });
  await expect(page.getByRole("heading", { name: "Razorpay connected (test mode)" })).toBeVisible();
  await fakeAccount(page, "razorpay", { ...account, webhook_url: webhook });
  await requireOnlinePayment(page);
}

test("a patient pays with Razorpay and the doctor's calendar shows the appointment confirmed and paid", async ({ page, context }) => {
  await razorpayPractice(page, "Arjun Nair");

  const patient = await context.newPage();
  const { chat, time } = await patientBooks(page, patient);
  await pays(patient, chat);
  await lastSays(chat, "Payment received, thank you.");
  await seesPaid(page, time, "Razorpay");
});

test("a hold that lapses unpaid frees the slot and the patient is told", async ({ page, context }) => {
  await razorpayPractice(page, "Nisha Pillai");

  const patient = await context.newPage();
  const { chat, time } = await patientBooks(page, patient);
  const message = await lastSays(chat, "please pay the fee of 500.00 INR");
  const link = await message.getByRole("link", { name: "Pay 500.00 INR" }).getAttribute("href");
  const reference = link!.split("/").pop()!;
  // The provider lets the link lapse (as the hold's end would), and says so.
  const expired = await page.request.post(`${fakePayments}/fake/expire/${reference}`);
  expect(expired.ok()).toBeTruthy();
  await expect(chat.getByRole("listitem").filter({ hasText: "was not paid for in time" })).toContainText(time);
  await openHydrated(page, "/dashboard/appointments");
  await page.getByLabel("Show").selectOption("expired");
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Ravi Kumar" });
  await expect(row).toContainText("Expired");
});
