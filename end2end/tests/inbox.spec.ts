import { expect, test } from "@playwright/test";
import { connectInstagram, disconnectInstagram, openHydrated, sandbox, signUp, uniqueEmail } from "./helpers";

// A patient writes through the fake Meta's sandbox (tests/common/sandbox.rs, served by
// examples/fake_meta.rs): the fake delivers the message to the app's webhook, signed as Meta
// signs, and shows what the app sends back through the Send API. The fake's one Instagram
// account is @e2e.skin.clinic; one doctor at a time can link it, so the test unlinks it
// afterwards for the specs that follow.

test.afterEach(async ({ page }) => {
  await disconnectInstagram(page);
});

test("a patient's DM appears in the Inbox, the doctor's reply reaches the patient, and the assistant pauses and resumes", async ({ page, context }) => {
  await signUp(page, "Meera Iyer", uniqueEmail());
  await expect(page).toHaveURL(/wizard=1/);
  await connectInstagram(page);
  await openHydrated(page, "/dashboard/inbox");
  await expect(page.getByRole("heading", { level: 1, name: "Inbox" })).toBeVisible();

  // The patient, with an id of their own in this run, writes from the sandbox.
  const patient = await context.newPage();
  const patientId = `sandbox-patient-${Date.now()}`;
  await patient.goto(`${sandbox}?patient=${patientId}&name=Asha+Verma&username=asha.verma`);
  await expect(patient.getByRole("heading", { name: "Chat with @e2e.skin.clinic" })).toBeVisible();
  const chat = patient.getByRole("list", { name: "Chat" });
  const question = "Hello, can I book a skin check this week?";
  await patient.getByLabel("Message").fill(question);
  await patient.getByRole("button", { name: "Send", exact: true }).click();
  await expect(chat.getByRole("listitem").filter({ hasText: question })).toBeVisible();
  await expect(chat).not.toContainText("Not delivered");
  // The assistant answers at once, saying that it is automated, with its menu.
  await expect(chat).toContainText("automated assistant");
  await expect(chat).toContainText("1. Book");

  // The Inbox shows it without a reload, under the name Meta's profile API gives.
  const conversation = page.getByRole("button", { name: /Asha Verma/ });
  await expect(conversation).toBeVisible();
  await conversation.click();
  await expect(page.getByRole("heading", { level: 2, name: "Asha Verma" })).toBeVisible();
  const messages = page.getByRole("list", { name: "Messages" });
  await expect(messages.getByRole("listitem").filter({ hasText: question })).toContainText("Patient");
  // Opening it tells the patient it was seen, as Instagram shows it.
  await expect(chat.getByRole("listitem").filter({ hasText: question })).toContainText("Seen");

  // The doctor replies; the reply reaches the patient.
  const answer = "Yes: Thursday at 10:30 is free. Shall I book it?";
  await page.getByLabel("Reply").fill(answer);
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(page.getByLabel("Reply")).toHaveValue("");
  await expect(messages.getByRole("listitem").filter({ hasText: answer })).toContainText("You");
  await expect(chat.getByRole("listitem").last()).toContainText(answer);
  await expect(chat.getByRole("listitem").last()).toContainText("Clinic");

  // The doctor's reply hands the conversation to the doctor: the assistant steps back.
  await expect(page.getByRole("button", { name: "Resume assistant" })).toBeVisible();
  await expect(page.getByText("The assistant is paused here")).toBeVisible();
  await expect(conversation).toContainText("Needs you");

  // Resuming gives it back; pausing takes it again.
  await page.getByRole("button", { name: "Resume assistant" }).click();
  await expect(page.getByRole("button", { name: "Pause assistant" })).toBeVisible();
  await expect(page.getByText("The assistant answers this patient.")).toBeVisible();
  await expect(conversation).not.toContainText("Needs you");

  await page.getByRole("button", { name: "Pause assistant" }).click();
  await expect(page.getByRole("button", { name: "Resume assistant" })).toBeVisible();
  await expect(conversation).toContainText("Needs you");
});
