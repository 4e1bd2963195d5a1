import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedShop } from "../../scripts/bench/souk.ts";
import {
  complaints,
  deadLetters,
  jobRuns,
  orders,
  paymentIssues,
  uploads,
} from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import {
  type Account,
  account,
  consoleUrl,
  type Db,
  launchBrowser,
  newContext,
  openDb,
  screenshot,
  seriousViolations,
  signInAs,
} from "./stack.ts";

let browser: Browser;
let db: Db;
let admin: Account;
let buyer: Account;
let rude: Account;
let complaintId: string;
let issueId: string;

const COMPLAINT_TEXT = "The seller keeps sending me messages about other products.";

beforeAll(async () => {
  db = openDb();
  [admin, buyer, rude] = await Promise.all([
    account(db.db, "admin"),
    account(db.db, "buyer"),
    account(db.db, "seller"),
  ]);
  // Filed as POST /v1/complaints files it; the complaint's own rules are the service tests'.
  complaintId = uuidv7();
  issueId = uuidv7();
  await Promise.all([
    db.db.insert(complaints).values({
      id: complaintId,
      complainantId: buyer.id,
      subjectType: "user",
      subjectId: rude.id,
      category: "other",
      text: COMPLAINT_TEXT,
    }),
    // As the Stripe-event consumer raises one when an intent disagrees with its checkout.
    db.db.insert(paymentIssues).values({
      id: issueId,
      kind: "amount_mismatch",
      paymentIntentId: `pi_console_${issueId.slice(-8)}`,
      detail: { expected: 5_000, received: 4_000, currency: "EUR" },
    }),
    // An OTP email the notifications queue gave up on: its code was redacted on the way in.
    db.db.insert(deadLetters).values({
      id: uuidv7(),
      queue: "notifications",
      messageId: `msg-${uuidv7()}`,
      body: { kind: "shop.otp", email: { to: "owner@test.invalid", text: "[redacted]" } },
      attempts: 5,
    }),
    db.db.insert(jobRuns).values({
      id: uuidv7(),
      job: "payment-deadlines",
      cron: "*/5 * * * *",
      startedAt: new Date(),
      finishedAt: new Date(),
      outcome: "ok",
      detail: { expired: 0 },
    }),
  ]);
  // A paid order, as the Stripe webhook leaves it.
  const shop = await seedShop(db.db);
  await db.db.insert(orders).values({
    id: uuidv7(),
    buyerId: buyer.id,
    shopId: shop.id,
    status: "paid",
    currency: "EUR",
    subtotalMinor: 4_200,
    platformFeeMinor: 84,
    totalMinor: 4_200,
    paidAt: new Date(),
  });
  // An inventory CSV whose run finished with failed rows.
  await db.db.insert(uploads).values({
    id: uuidv7(),
    shopId: shop.id,
    kind: "inventory",
    fileHash: "ab".repeat(32),
    fileKey: `uploads/${shop.id}/console.csv`,
    sizeBytes: 120,
    status: "partially_failed",
    totalRows: 3,
    succeededRows: 2,
    failedRows: 1,
    createdBy: shop.sellerId,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

describe("admin console", () => {
  it("shows an admin what waits for them, each count linking to its list", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Admin" })
      .click();
    await page.waitForURL("**/console/admin");
    const complaintsTile = page.getByRole("link", { name: /open complaints/ });
    expect(Number.parseInt((await complaintsTile.textContent()) ?? "", 10)).toBeGreaterThan(0);
    await screenshot(page, "admin-home");
    expect(await seriousViolations(page)).toEqual([]);
    await complaintsTile.click();
    await page.waitForURL("**/console/admin/complaints?status=open");
    await context.close();
  });

  it("lets an admin resolve a complaint with a note; a note too short is a field error", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    await page.goto(consoleUrl("/console/admin/complaints"));
    await screenshot(page, "admin-complaints");
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator(`a[href="/console/admin/complaints/${complaintId}"]`).click();
    await page.getByText(COMPLAINT_TEXT).waitFor();
    await page.getByLabel(/^Outcome/).selectOption("upheld");
    const note = page.getByLabel("Note the complainant is told");
    await note.fill("no");
    await page.getByRole("button", { name: "Resolve complaint" }).click();
    // The service's rule, with the API's status: the page comes back with the note's error.
    const error = page.locator("#f-note-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/3/);
    expect(await note.inputValue()).toBe("no");
    await note.fill("Warned the seller; they will stop.");
    await page.getByRole("button", { name: "Resolve complaint" }).click();
    await page.getByText("The complaint is resolved.").waitFor();
    const [row] = await db.db.select().from(complaints).where(eq(complaints.id, complaintId));
    expect(row).toMatchObject({
      status: "resolved",
      outcome: "upheld",
      resolutionNote: "Warned the seller; they will stop.",
      assigneeId: admin.id,
    });
    await context.close();
  });

  it("lets an admin resolve a payment issue with a note", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    await page.goto(consoleUrl("/console/admin/payment-issues"));
    const card = page.locator(`#issue-${issueId}`);
    await card.getByRole("heading", { name: /amount mismatch/ }).waitFor();
    await card.getByLabel(/What was done/).fill("Refunded the difference on Stripe.");
    await card.getByRole("button", { name: /^Resolve/ }).click();
    await page.getByText("The payment issue is resolved.").waitFor();
    const [row] = await db.db.select().from(paymentIssues).where(eq(paymentIssues.id, issueId));
    expect(row).toMatchObject({
      resolvedBy: admin.id,
      resolutionNote: "Refunded the difference on Stripe.",
    });
    await context.close();
  });

  it("lets an admin find a user and block them, the block then in the audit log", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    await page.goto(consoleUrl("/console/admin/users"));
    await page.getByLabel("Email or name").fill(rude.email);
    await page.getByRole("button", { name: "Show" }).click();
    await page.getByRole("link", { name: "Console seller" }).click();
    await page.waitForURL(`**/console/admin/users/${rude.id}`);
    await page.getByLabel("Reason the user is told").fill("Harassing buyers in messages.");
    await page.getByRole("button", { name: "Block user" }).click();
    await page.getByText("The user is blocked.").waitFor();
    await page.getByRole("link", { name: "What they changed" }).waitFor();
    await page.goto(consoleUrl(`/console/admin/audit?action=user.&entityId=${rude.id}`));
    await page.getByRole("cell", { name: "user.blocked" }).waitFor();
    await context.close();
  });

  it("lists orders, uploads, job runs and dead letters, each filtered", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    const seen = async (path: string, text: string | RegExp) => {
      const res = await page.goto(consoleUrl(path));
      expect(res?.status(), path).toBe(200);
      await page.getByText(text).first().waitFor();
    };
    await seen(`/console/admin/orders?status=paid&buyerId=${buyer.id}`, "€42.00");
    await seen("/console/admin/uploads?status=failed,partially_failed", "2 / 1 / 3");
    await seen("/console/admin/job-runs?job=payment-deadlines", "*/5 * * * *");
    await seen("/console/admin/dead-letters?queue=notifications", "lost a secret to redaction");
    await context.close();
  });

  it("answers a filter the API refuses with its 422, the field named on the form", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    const res = await page.goto(consoleUrl("/console/admin/audit?from=2026-03-02&to=2026-03-01"));
    expect(res?.status()).toBe(422);
    expect(await page.locator("#f-to-error").textContent()).toContain("must not be before");
    await context.close();
  });

  it("refuses the admin pages to a buyer with the API's 403, showing nothing of them", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, buyer);
    for (const path of ["/console/admin", `/console/admin/complaints/${complaintId}`]) {
      const res = await page.goto(consoleUrl(path));
      expect(res?.status()).toBe(403);
      expect(await page.content()).not.toContain(COMPLAINT_TEXT);
    }
    const post = await page.request.post(
      consoleUrl(`/console/admin/payment-issues/${issueId}/resolve`),
      {
        form: { note: "Not mine to resolve." },
        headers: { origin: new URL(consoleUrl()).origin },
      },
    );
    expect(post.status()).toBe(403);
    await context.close();
  });
});
