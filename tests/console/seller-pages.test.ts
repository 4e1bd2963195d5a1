import { and, eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders, recommendations } from "../../src/db/schema/index.ts";
import { paidOrder, type SellingShop, sellingShop, UNIT_PRICE, unitsOn } from "./helpers-seller.ts";
import {
  type Account,
  consoleUrl,
  type Db,
  launchBrowser,
  newContext,
  openDb,
  screenshot,
  sellerWithShop,
  seriousViolations,
  signInAs,
} from "./stack.ts";

let browser: Browser;
let db: Db;
let selling: SellingShop;
let stranger: Account;

beforeAll(async () => {
  db = openDb();
  [selling, { seller: stranger }] = await Promise.all([sellingShop(db.db), sellerWithShop(db.db)]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

const euros = (minor: number) =>
  new Intl.NumberFormat("en", { style: "currency", currency: "EUR" }).format(minor / 100);

describe("seller console pages", () => {
  it("the dashboard's charts render with data", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller?shop=${selling.shop.id}`));
    // The last 30 days hold the orders of 1 to 29 days ago; the 30 before, 30 to 59.
    const units = Array.from({ length: 29 }, (_, i) => unitsOn(i + 1)).reduce((a, b) => a + b);
    const kpi = (key: string) => page.locator(`[data-kpi="${key}"] [data-value]`).textContent();
    await expect(kpi("orders")).resolves.toBe("29");
    await expect(kpi("units")).resolves.toBe(String(units));
    await expect(kpi("grossMinor")).resolves.toBe(euros(units * UNIT_PRICE));
    await expect(page.locator('[data-kpi="orders"]').textContent()).resolves.toContain("vs 30");
    for (const id of ["chart-revenue", "chart-orders", "chart-units"]) {
      await page.locator(`#${id}[data-drawn="true"] canvas`).waitFor();
    }
    await screenshot(page, "seller-dashboard");
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it("picks an order's line and ships it with carrier and tracking", async () => {
    const buyerId = selling.buyers[0]?.id ?? "";
    const line = { productId: selling.fastId, quantity: 2, title: "Fast seller" };
    const { orderId } = await paidOrder(db.db, selling.shop, buyerId, line);
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/orders?shop=${selling.shop.id}`));
    await page.getByRole("link", { name: `Order ${orderId.slice(-8)}` }).click();
    await page.getByRole("button", { name: "Picked Fast seller" }).click();
    await page.getByText("Line marked picked.").waitFor();
    await page.getByLabel("Carrier").fill("CTT");
    await page.getByLabel("Tracking number").fill("RR123456789PT");
    await page.getByRole("button", { name: "Ship order" }).click();
    await page.getByText("Shipped; the buyer has been told.").waitFor();
    const [row] = await db.db.select().from(orders).where(eq(orders.id, orderId));
    expect(row).toMatchObject({
      status: "shipped",
      carrier: "CTT",
      trackingNumber: "RR123456789PT",
    });
    await context.close();
  });

  it("shows forecasts with intervals and dismisses a recommendation", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/analytics?shop=${selling.shop.id}`));
    await page.locator('#chart-forecast[data-drawn="true"] canvas').waitFor();
    const card = page.locator("#recommendations > article", { hasText: "Reorder Fast seller" });
    await card.waitFor();
    await screenshot(page, "seller-analytics");
    expect(await seriousViolations(page)).toEqual([]);
    await card.getByRole("button", { name: /^Dismiss/ }).click();
    await page.getByText("Dismissed;").waitFor();
    expect(await card.count()).toBe(0);
    const [row] = await db.db
      .select({ status: recommendations.status })
      .from(recommendations)
      .where(and(eq(recommendations.shopId, selling.shop.id), eq(recommendations.kind, "reorder")));
    expect(row?.status).toBe("dismissed");
    await context.close();
  });

  it("answers 404 for another seller's shop, as the API does", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, stranger);
    const res = await page.goto(consoleUrl(`/console/seller?shop=${selling.shop.id}`));
    expect(res?.status()).toBe(404);
    expect(await page.content()).not.toContain("Fast seller");
    await context.close();
  });
});
