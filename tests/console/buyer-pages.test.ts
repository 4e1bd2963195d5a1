import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchShop, stockedProduct } from "../../scripts/bench/souk.ts";
import { notifications, orders } from "../../src/db/schema/index.ts";
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
  sellerWithShop,
  seriousViolations,
  signInAs,
  tokenOf,
} from "./stack.ts";

let browser: Browser;
let db: Db;
let shop: BenchShop;
/** On sale with 7 units at the shop's pickup branch (none at its warehouse). */
let bowl: string;
let vase: string;

/** A buyer signed in in a fresh browser profile, on `size`. */
async function buyerPage(
  size: "desktop" | "phone" = "desktop",
): Promise<{ page: Page; buyer: Account }> {
  const buyer = await account(db.db, "buyer");
  const context = await newContext(browser, size);
  const page = await context.newPage();
  await signInAs(page, buyer);
  return { page, buyer };
}

async function addToCart(page: Page, productId: string, quantity: number): Promise<void> {
  await page.goto(consoleUrl(`/console/products/${productId}`));
  await page.getByLabel("Quantity").fill(String(quantity));
  await Promise.all([
    page.waitForURL("**/console/cart"),
    page.getByRole("button", { name: "Add to cart" }).click(),
  ]);
}

beforeAll(async () => {
  db = openDb();
  ({ shop } = await sellerWithShop(db.db));
  const token = await tokenOf({ id: shop.sellerId, email: "", role: "seller" });
  [bowl, vase] = await Promise.all([
    stockedProduct(consoleUrl(), token, shop, 7, "Wheel-thrown stoneware bowl"),
    stockedProduct(consoleUrl(), token, shop, 5, "Blue glazed vase"),
  ]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

describe("the buyer's console", () => {
  it("a buyer buys through checkout and sees the order paid", async () => {
    const { page } = await buyerPage();
    await page.goto(consoleUrl(`/console/products/${bowl}`));
    // Availability per location: nothing to deliver from the warehouse, 7 at the branch.
    const where = page.locator("#availability");
    expect(
      await where.getByRole("row", { name: /Pickup at Flash sale counter/ }).textContent(),
    ).toContain("7");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "buyer-product");
    await addToCart(page, bowl, 2);
    expect(await page.locator("#cart-subtotal").textContent()).toContain("50.00");
    await screenshot(page, "buyer-cart");
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("button", { name: "Check out" }).click();
    await page.waitForURL(/\/console\/checkout\??$/);
    await page.getByRole("radio", { name: /Pickup at a branch/ }).check();
    await page.getByLabel("Pickup branch").selectOption({ label: "Flash sale counter" });
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Review order" }).click();
    await page.getByText("Pickup at Flash sale counter").waitFor();
    expect(await page.locator("#checkout-total").textContent()).toContain("50.00");
    await screenshot(page, "buyer-checkout");
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("button", { name: /Place order and pay/ }).click();
    await page.waitForURL("**/console/checkout/payments/pi_*");
    const payment = page.url();
    // A declined card first: refused on the page, and the orders can still be paid.
    await page.getByLabel("Test card").selectOption("pm_card_chargeDeclined");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.getByText("The card was refused").waitFor();
    await page.getByLabel("Test card").selectOption("pm_card_visa");
    await page.getByRole("button", { name: /^Pay / }).click();
    // The emulator's webhook marks the order paid; the page then takes the buyer to it.
    await page.waitForURL(/\/console\/orders\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    await page.locator(".badge.paid").first().waitFor();
    const orderId = new URL(page.url()).pathname.split("/").pop() ?? "";
    const [order] = await db.db.select().from(orders).where(eq(orders.id, orderId));
    expect(order).toMatchObject({ status: "paid", fulfilment: "pickup", totalMinor: 5_000 });
    // The polling fragment (htmx, while the webhook is awaited) now sends the page to the order.
    const status = await page.request.get(`${payment}/status?orders=${orderId}`, {
      headers: { "hx-request": "true" },
      maxRedirects: 0,
    });
    expect(status.headers()["hx-redirect"]).toBe(`/console/orders/${orderId}`);
    // The cart was checked out: it is empty now.
    await page.goto(consoleUrl("/console/cart"));
    await page.getByText("Your cart is empty.").waitFor();
    await page.context().close();

    // Someone else's payment is the same 404 as someone else's order.
    const stranger = await buyerPage();
    const res = await stranger.page.goto(payment);
    expect(res?.status()).toBe(404);
    expect(await stranger.page.content()).not.toContain("stoneware bowl");
    await stranger.page.context().close();
  });

  it("adds a delivery address at checkout (a missing field is named) and previews delivery", async () => {
    const { page } = await buyerPage("phone");
    await addToCart(page, bowl, 1);
    await page.goto(consoleUrl("/console/checkout"));
    await page.getByText("Add a delivery address").click();
    await page.getByLabel("Street and number").fill("Rua Augusta 10");
    await page.getByLabel("Postal code").fill("1100-053");
    await page.getByLabel("City").fill("Lisboa");
    await page.getByLabel(/^Country/).fill("PT");
    await page.getByRole("button", { name: "Save address" }).click();
    await page.locator("#f-recipientName-error").waitFor();
    await screenshot(page, "buyer-checkout-phone");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Recipient").fill("Ana Buyer");
    await page.getByRole("button", { name: "Save address" }).click();
    await page
      .getByLabel("Delivery address")
      .getByRole("option", { name: /Ana Buyer/ })
      .waitFor({ state: "attached" });
    await page.getByRole("radio", { name: "Delivery" }).check();
    await page.getByRole("button", { name: "Review order" }).click();
    // Its units are all at the branch: the preview warns and the order cannot be placed.
    await page.getByText("Delivery to Ana Buyer, Rua Augusta 10, 1100-053 Lisboa").waitFor();
    await page.getByText(/available for delivery/).waitFor();
    expect(await page.getByRole("button", { name: /Place order and pay/ }).isDisabled()).toBe(true);
    await page.context().close();
  });

  it("edits a cart line: a new quantity, a refused one beside its line, then removal", async () => {
    const { page } = await buyerPage("phone");
    await addToCart(page, vase, 1);
    const line = page.locator(`#line-${vase}`);
    await line.getByLabel("Quantity of Blue glazed vase").fill("3");
    await line.getByRole("button", { name: "Update Blue glazed vase" }).click();
    await page.locator("#cart-subtotal", { hasText: "75.00" }).waitFor();
    await line.getByLabel("Quantity of Blue glazed vase").fill("9");
    await line.getByRole("button", { name: "Update Blue glazed vase" }).click();
    const error = page.locator(`#line-${vase}-error`);
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Only 5/);
    // The refused quantity changed nothing.
    expect(await page.locator("#cart-subtotal").textContent()).toContain("75.00");
    await line.getByRole("button", { name: "Remove Blue glazed vase" }).click();
    await page.getByText("Your cart is empty.").waitFor();
    await page.context().close();
  });

  it("saves a product to the wishlist and removes it", async () => {
    const { page } = await buyerPage();
    await page.goto(consoleUrl(`/console/products/${vase}`));
    await page.getByRole("button", { name: "Save to wishlist" }).click();
    await page.waitForURL("**/console/wishlist");
    const item = page.locator(`#wish-${vase}`);
    expect(
      await item.getByRole("link", { name: "Blue glazed vase", exact: true }).isVisible(),
    ).toBe(true);
    await item.getByRole("button", { name: "Remove Blue glazed vase" }).click();
    await page.getByText("Nothing saved yet.").waitFor();
    await page.context().close();
  });

  it("marks a notification read", async () => {
    const { page, buyer } = await buyerPage();
    const id = uuidv7();
    await db.db.insert(notifications).values({
      id,
      userId: buyer.id,
      kind: "order.shipped",
      title: "Your order has shipped",
      body: "It is on its way.",
      dedupeKey: `console-test:${id}`,
    });
    await page.goto(consoleUrl("/console/notifications"));
    expect(await page.locator("#unread-count").textContent()).toBe("1 unread");
    await page.getByRole("button", { name: /^Mark read\s*: Your order has shipped$/ }).click();
    await page.locator("#unread-count", { hasText: "0 unread" }).waitFor();
    const [row] = await db.db.select().from(notifications).where(eq(notifications.id, id));
    expect(row?.readAt).not.toBeNull();
    await page.context().close();
  });

  it("sends a shop a message about a product; an empty one is a field error", async () => {
    const { page } = await buyerPage();
    await page.goto(consoleUrl(`/console/products/${bowl}`));
    await page.getByRole("link", { name: "Ask the shop" }).click();
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator("#f-body-error").waitFor();
    await page.getByRole("textbox", { name: "Message" }).fill("Is the bowl dishwasher safe?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/console\/messages\/[0-9a-f-]{36}$/);
    await page.getByRole("textbox", { name: "Message" }).fill("And microwave safe?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator("#thread .message-body", { hasText: "microwave" }).waitFor();
    expect(await page.locator("#thread .message-body").allTextContents()).toEqual([
      "Is the bowl dishwasher safe?",
      "And microwave safe?",
    ]);
    const thread = page.url();
    await page.goto(consoleUrl("/console/messages"));
    expect(await page.getByRole("link", { name: shopName() }).count()).toBe(1);
    await page.context().close();

    const stranger = await buyerPage();
    const res = await stranger.page.goto(thread);
    expect(res?.status()).toBe(404);
    await stranger.page.context().close();
  });
});

/** The bench shop's name (`Flash sale` and its id's tail). */
function shopName(): string {
  return `Flash sale ${shop.id.slice(-12)}`;
}
