import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchShop, stockedProduct } from "../../scripts/bench/souk.ts";
import { orderItems, orders, shops } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { CONSOLE_PORTS } from "./ports.ts";
import {
  type Account,
  account,
  consoleUrl,
  type Db,
  launchBrowser,
  newContext,
  openDb,
  screenshot,
  sellerWithShop,
  seriousViolations,
  signInAs,
  tokenOf,
} from "./stack.ts";

let browser: Browser;
let db: Db;
let admin: Account;
let buyer: Account;
let pending: BenchShop;
let doubtful: BenchShop;
let visible: BenchShop;
let productId: string;
let orderId: string;
/** Another origin (127.0.0.1 is not localhost) serving a form that posts to the console. */
let attacker: Server;

const ATTACKER_PAGE = (
  target: string,
) => `<!doctype html><html lang="en"><head><title>Win a prize</title></head>
<body><form method="post" action="${target}"><input name="email" value="victim@test.invalid">
<input name="password" value="x"><button type="submit">Claim</button></form></body></html>`;

beforeAll(async () => {
  db = openDb();
  [admin, buyer, { shop: pending }, { shop: visible }] = await Promise.all([
    account(db.db, "admin"),
    account(db.db, "buyer"),
    sellerWithShop(db.db),
    sellerWithShop(db.db),
  ]);
  ({ shop: doubtful } = await sellerWithShop(db.db));
  // An application waiting for review: contact email verified, not yet approved.
  await db.db
    .update(shops)
    .set({ status: "pending", approvedAt: null, name: "Cedar & Salt" })
    .where(eq(shops.id, pending.id));
  await db.db
    .update(shops)
    .set({ status: "pending", approvedAt: null, name: "Fig & Thistle" })
    .where(eq(shops.id, doubtful.id));
  const token = await tokenOf({ id: visible.sellerId, email: "", role: "seller" });
  productId = await stockedProduct(consoleUrl(), token, visible, 7, "Hand-thrown ceramic bowl");
  // A paid order of the buyer's, as the Stripe webhook leaves it (checkout is not under test here).
  orderId = uuidv7();
  const paidAt = new Date();
  const createdAt = new Date(paidAt.getTime() - 60_000);
  await db.db.insert(orders).values({
    id: orderId,
    buyerId: buyer.id,
    shopId: visible.id,
    status: "paid",
    currency: "EUR",
    subtotalMinor: 5_000,
    platformFeeMinor: 100,
    totalMinor: 5_000,
    createdAt,
    paidAt,
  });
  await db.db.insert(orderItems).values({
    id: uuidv7(),
    orderId,
    productId,
    title: "Hand-thrown ceramic bowl",
    sku: "BOWL-1",
    unitPriceMinor: 2_500,
    quantity: 2,
    locationId: visible.branchId,
    status: "pending",
  });
  attacker = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(ATTACKER_PAGE(consoleUrl("/console/sign-in")));
  });
  attacker.listen(CONSOLE_PORTS.attacker, "127.0.0.1");
  await once(attacker, "listening");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  attacker?.close();
  await db?.close();
});

describe("admin and buyer console", () => {
  it("lets an admin approve a pending shop from the queue", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    expect(new URL(page.url()).pathname).toBe("/console/admin/shops");
    const card = page.locator(`#shop-${pending.id}`);
    await card.waitFor();
    await screenshot(page, "admin-queue");
    expect(await seriousViolations(page)).toEqual([]);
    await card.getByRole("button", { name: "Approve Cedar & Salt" }).click();
    await card.getByText("Cedar & Salt is now approved.").waitFor();
    const [row] = await db.db.select().from(shops).where(eq(shops.id, pending.id));
    expect(row?.status).toBe("approved");
    await context.close();
  });

  it("rejects a shop with a reason; a reason too short is a field error", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, admin);
    const card = page.locator(`#shop-${doubtful.id}`);
    const reason = card.getByLabel("Reason the owner is told");
    // Alpine keeps the reason hidden until asked for.
    expect(await reason.isVisible()).toBe(false);
    await card.getByRole("button", { name: "Reject… Fig & Thistle" }).click();
    await reason.fill("no");
    // The browser's own minlength check would stop the form; the service's rule is under test.
    await reason.evaluate((el) => el.removeAttribute("minlength"));
    await card.getByRole("button", { name: "Reject Fig & Thistle", exact: true }).click();
    const error = card.locator(`#shop-${doubtful.id}-reason-error`);
    await error.waitFor();
    expect(await error.textContent()).toMatch(/3/);
    await card.getByLabel("Reason the owner is told").fill("The contact phone does not answer.");
    await card.getByRole("button", { name: "Reject Fig & Thistle", exact: true }).click();
    await card.getByText("Fig & Thistle is now rejected.").waitFor();
    const [row] = await db.db.select().from(shops).where(eq(shops.id, doubtful.id));
    expect(row).toMatchObject({
      status: "rejected",
      statusReason: "The contact phone does not answer.",
    });
    await context.close();
  });

  it("refuses a form posted from another origin (CSRF)", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${CONSOLE_PORTS.attacker}/`);
    const answer = page.waitForResponse((r) => r.url().endsWith("/console/sign-in"));
    await page.getByRole("button", { name: "Claim" }).click();
    const res = await answer;
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain("not sent from a Souk page");
    await context.close();
  });

  it("shows a buyer verified shops' products, a search, and a product page", async () => {
    const context = await newContext(browser, "phone");
    const page = await context.newPage();
    await signInAs(page, buyer);
    await page.goto(consoleUrl("/console/products?q=ceramic"));
    await page.getByRole("link", { name: "Hand-thrown ceramic bowl" }).waitFor();
    // The phone layout: the bottom tab bar, not the top navigation.
    expect(await page.getByRole("navigation", { name: "Tabs" }).isVisible()).toBe(true);
    expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
    await screenshot(page, "browse-phone");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Hand-thrown ceramic bowl" }).click();
    await page.waitForURL(`**/console/products/${productId}`);
    await page.getByText("7 available").waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // A buyer has no inventory: the seller role is required, as in the API.
    const missing = await page.goto(consoleUrl(`/console/seller/inventory?shop=${visible.id}`));
    expect(missing?.status()).toBe(403);
    await context.close();
  });

  it("shows a buyer their order with its timeline; another buyer's order is a 404", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, buyer);
    await page.goto(consoleUrl("/console/orders"));
    await page.getByRole("link", { name: /UTC/ }).first().click();
    await page.waitForURL(`**/console/orders/${orderId}`);
    expect(await page.locator(".timeline li").allTextContents()).toEqual([
      expect.stringContaining("Order placed"),
      expect.stringContaining("Paid"),
    ]);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();

    const stranger = await account(db.db, "buyer");
    const other = await newContext(browser);
    const otherPage = await other.newPage();
    await signInAs(otherPage, stranger);
    const res = await otherPage.goto(consoleUrl(`/console/orders/${orderId}`));
    expect(res?.status()).toBe(404);
    expect(await otherPage.content()).not.toContain("ceramic bowl");
    await other.close();
  });

  it("signs out everywhere: the refresh token of another browser stops working", async () => {
    const first = await newContext(browser);
    const second = await newContext(browser);
    const [a, b] = await Promise.all([first.newPage(), second.newPage()]);
    await signInAs(a, buyer);
    await signInAs(b, buyer);
    await a.goto(consoleUrl("/console/account"));
    await a.getByRole("button", { name: "Sign out everywhere" }).click();
    await a.waitForURL("**/console/sign-in");
    // The other browser's access cookie may live on for its 15 minutes, as an access token
    // does in the API; without it, its revoked refresh token no longer signs it in.
    await second.clearCookies({ name: "__Secure-souk_access" });
    await b.goto(consoleUrl("/console/account"));
    expect(new URL(b.url()).pathname).toBe("/console/sign-in");
    await Promise.all([first.close(), second.close()]);
  });
});
