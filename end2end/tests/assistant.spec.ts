import { expect, test } from "@playwright/test";
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

// The booking assistant end to end: the doctor's dry run at "Try your assistant" books
// nothing; a patient writing through the fake Meta's sandbox books for real.

test.afterEach(async ({ page }) => {
  await disconnectInstagram(page);
});

test("trying the assistant by tapping through to Confirm books nothing", async ({ page }) => {
  await signUp(page, "Asha Rao", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openPractice(page);

  await openHydrated(page, "/dashboard");
  await page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Try your assistant" }).click();
  await expect(page).toHaveURL(/\/dashboard\/assistant$/);
  await expect(page.getByRole("heading", { level: 1, name: "Try your assistant" })).toBeVisible();
  const transcript = page.getByRole("list", { name: "Conversation" });
  const replies = page.getByRole("group", { name: "Quick replies" });
  const message = page.getByLabel("Message");
  const send = page.getByRole("button", { name: "Send", exact: true });

  // An empty message is refused in the browser.
  await send.click();
  await expect(page.locator("#try-text-error")).toHaveText("Type a message first.");
  await expect(transcript.getByRole("listitem")).toHaveCount(0);

  await message.fill("hi");
  await send.click();
  await expect(transcript).toContainText("automated assistant");
  await expect(message).toHaveValue("");
  await expect(page.locator("#try-text-error")).toHaveCount(0);

  // One service: Book goes straight to the methods, with their fees.
  await replies.getByRole("button", { name: "Book", exact: true }).click();
  await expect(transcript).toContainText("Voice call: 500.00 INR");
  await replies.getByRole("button", { name: "Voice call", exact: true }).click();
  await expect(transcript).toContainText("Which day suits you?");
  await replies.getByRole("button").first().click();
  await expect(transcript).toContainText("(Asia/Kolkata time)");
  const time = (await replies.getByRole("button").first().textContent())!.trim();
  await replies.getByRole("button").first().click();
  await expect(transcript).toContainText("What name should the appointment be under?");
  await message.fill("Ravi Kumar");
  await send.click();
  await expect(transcript).toContainText("What phone number");
  await message.fill("+91 98765 43210");
  await send.click();
  await expect(transcript).toContainText("Shall I book it?");
  await replies.getByRole("button", { name: "Confirm", exact: true }).click();

  // The assistant answers as it would a patient; the notice says what it would have done.
  await expect(transcript).toContainText("You're booked");
  const notice = transcript.getByRole("listitem").filter({ hasText: "Would book" });
  await expect(notice).toContainText("Would book: Consultation, Voice call,");
  await expect(notice).toContainText(`${time} (Asia/Kolkata time) for Ravi Kumar`);
  await expect(notice).toContainText("Dry run: nothing was booked.");

  // "Start over" forgets the conversation.
  await page.getByRole("button", { name: "Start over", exact: true }).click();
  await expect(transcript.getByRole("listitem")).toHaveCount(0);
  await expect(replies.getByRole("button")).toHaveCount(0);

  // Nothing was booked.
  await page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Appointments", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard\/appointments$/);
  await expect(page.getByText("No appointments here.")).toBeVisible();
  await expect(page.locator("table.appointments tbody tr")).toHaveCount(0);
});

test("a patient books in the sandbox by tapping, and the doctor sees the appointment and the conversation", async ({ page, context }) => {
  await signUp(page, "Meera Iyer", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await openPractice(page);
  await connectInstagram(page);

  const patient = await context.newPage();
  const patientId = `sandbox-patient-${Date.now()}`;
  await patient.goto(`${sandbox}?patient=${patientId}&name=Ravi+Kumar&username=ravi.kumar`);
  await expect(patient.getByRole("heading", { name: "Chat with @e2e.skin.clinic" })).toBeVisible();
  const chat = patient.getByRole("list", { name: "Chat" });

  await write(patient, "hi");
  await expect(chat).toContainText("automated assistant");
  await (await lastSays(chat, "1. Book")).getByRole("button", { name: "Book", exact: true }).click();
  await (await lastSays(chat, "Voice call: 500.00 INR"))
    .getByRole("button", { name: "Voice call", exact: true })
    .click();
  await (await lastSays(chat, "Which day suits you?")).getByRole("button").first().click();
  const times = await lastSays(chat, "(Asia/Kolkata time)");
  const time = (await times.getByRole("button").first().textContent())!.trim();
  await times.getByRole("button").first().click();
  await lastSays(chat, "What name should the appointment be under?");
  await write(patient, "Ravi Kumar");
  await lastSays(chat, "What phone number");
  await write(patient, "+91 98765 43210");
  await (await lastSays(chat, "Shall I book it?")).getByRole("button", { name: "Confirm", exact: true }).click();
  // "You're booked", then the menu again.
  await lastSays(chat, "What would you like to do?");
  await expect(chat.getByRole("listitem").filter({ hasText: "You're booked" })).toContainText(time);

  // The appointment is in the doctor's calendar, confirmed.
  await openHydrated(page, "/dashboard/appointments");
  const row = page.locator("table.appointments tbody tr").filter({ hasText: "Ravi Kumar" });
  await expect(row).toContainText(time);
  await expect(row).toContainText("500.00 INR");
  await expect(row).toContainText("Confirmed");

  // And the conversation is in the Inbox.
  await openHydrated(page, "/dashboard/inbox");
  const conversation = page.getByRole("button", { name: /Ravi Kumar/ });
  await expect(conversation).toBeVisible();
  await conversation.click();
  const messages = page.getByRole("list", { name: "Messages" });
  await expect(messages.getByRole("listitem").filter({ hasText: "You're booked" })).toContainText("Assistant");
});
