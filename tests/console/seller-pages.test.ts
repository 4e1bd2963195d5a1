import { and, eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  notifications,
  orders,
  recommendations,
  shopMembers,
  shops,
} from "../../src/db/schema/index.ts";
import { paidOrder, type SellingShop, sellingShop, UNIT_PRICE, unitsOn } from "./helpers-seller.ts";
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

/** On hand at the branch, from the product's stock object (the seller API's read). */
async function onHand(productId: string): Promise<number | undefined> {
  const res = await fetch(consoleUrl(`/v1/seller/products/${productId}/stock`), {
    headers: { authorization: `Bearer ${await tokenOf(selling.seller)}` },
  });
  const stock = (await res.json()) as { locations: Array<{ code: string; onHand: number }> };
  return stock.locations.find((l) => l.code === "FS")?.onHand;
}

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

  it("hands a pickup order over with the buyer's code; a wrong code is a field error", async () => {
    const buyerId = selling.buyers[2]?.id ?? "";
    const line = { productId: selling.fastId, quantity: 1, title: "Fast seller" };
    const { orderId } = await paidOrder(db.db, selling.shop, buyerId, line, {
      status: "ready",
      fulfilment: "pickup",
    });
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/orders/${orderId}`));
    await page.getByRole("button", { name: "Ready for pickup" }).click();
    await page.getByText("Ready for pickup; the buyer has been sent the pickup code.").waitFor();
    // The code goes only to the buyer: read from their in-app notice (the queue delivers it).
    let code = "";
    for (let i = 0; i < 40 && !code; i++) {
      const [notice] = await db.db
        .select({ data: notifications.data })
        .from(notifications)
        .where(
          and(eq(notifications.userId, buyerId), eq(notifications.kind, "order.ready_for_pickup")),
        );
      code = (notice?.data as { pickupCode?: string } | null)?.pickupCode ?? "";
      if (!code) await new Promise((r) => setTimeout(r, 250));
    }
    expect(code).toMatch(/^\d{6}$/);
    await page.getByLabel("Pickup code").fill(code === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Hand over" }).click();
    await page.locator("#f-code-error").waitFor();
    await page.getByLabel("Pickup code").fill(code);
    await page.getByRole("button", { name: "Hand over" }).click();
    await page.getByText("Handed over: the order is collected.").waitFor();
    const [row] = await db.db.select().from(orders).where(eq(orders.id, orderId));
    expect(row?.status).toBe("collected");
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

  it("applies a bulk edit as one operation and undoes it", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/bulk?shop=${selling.shop.id}`));
    await page.getByLabel("Product, line 1").selectOption(selling.fastId);
    await page.getByLabel("Location, line 1").selectOption(selling.shop.branchId);
    await page.getByLabel("Quantity, line 1").fill("35");
    await page.getByLabel("Reason").fill("Stock count");
    await page.getByRole("button", { name: "Apply all lines" }).click();
    await page.getByText("Fast seller at FS: on hand 20 → 35").waitFor();
    await expect(onHand(selling.fastId)).resolves.toBe(35);
    await page.getByRole("button", { name: "Undo this bulk change" }).click();
    await page.getByText("Fast seller at FS: on hand 35 → 20").waitFor();
    await expect(onHand(selling.fastId)).resolves.toBe(20);
    await context.close();
  });

  it("approves a stock request, which applies its change", async () => {
    const token = await tokenOf(selling.seller);
    const res = await fetch(consoleUrl("/v1/seller/stock-requests"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        productId: selling.fastId,
        locationId: selling.shop.branchId,
        delta: 5,
        reason: "Found a box in the back",
      }),
    });
    expect(res.status).toBe(201);
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/requests?shop=${selling.shop.id}`));
    await page.getByRole("button", { name: "Approve Fast seller +5 at FS" }).click();
    await page.getByText("Approved: the change is applied.").waitFor();
    await expect(onHand(selling.fastId)).resolves.toBe(25);
    await context.close();
  });

  it("saves the delivery fee from settings and invites a team member", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/settings?shop=${selling.shop.id}`));
    await page.getByLabel(/^Delivery fee/).fill("4.90");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved.").waitFor();
    const [row] = await db.db.select().from(shops).where(eq(shops.id, selling.shop.id));
    // Only the changed field: the contact email keeps its verification.
    expect(row).toMatchObject({ deliveryFeeMinor: 490, emailVerifiedAt: expect.any(Date) });
    expect(await seriousViolations(page)).toEqual([]);

    await page
      .getByRole("navigation", { name: "Seller" })
      .getByRole("link", { name: "Team" })
      .click();
    await page.getByLabel("Email").fill("new.colleague@test.invalid");
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText("Invitation sent").waitFor();
    await expect(page.locator("#invitations").textContent()).resolves.toContain(
      "new.colleague@test.invalid as staff",
    );
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it("uploads an inventory CSV; a file it cannot read is a field error", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, selling.seller);
    await page.goto(consoleUrl(`/console/seller/uploads?shop=${selling.shop.id}`));
    await page.getByLabel("Kind").selectOption("inventory");
    const csv = (text: string) => ({
      name: "stock.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(text),
    });
    await page.getByLabel("CSV file").setInputFiles(csv("sku,shelf\nFAST-1,A3\n"));
    await page.getByRole("button", { name: "Upload" }).click();
    await page.locator("#f-file-error").waitFor();
    expect(await page.getByLabel("CSV file").getAttribute("aria-invalid")).toBe("true");
    await page
      .getByLabel("CSV file")
      .setInputFiles(csv("sku,location,quantity\nNO-SUCH-SKU,FS,5\n"));
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByText("Uploaded; its rows are being worked through.").waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/seller\/uploads\/[0-9a-f-]{36}$/);
    await context.close();
  });

  it("shows staff the sections their role has, not the sales figures", async () => {
    const staff = await account(db.db, "seller");
    await db.db
      .insert(shopMembers)
      .values({ shopId: selling.shop.id, userId: staff.id, role: "staff" });
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, staff);
    for (const path of ["/console/seller", "/console/seller/analytics"]) {
      await page.goto(consoleUrl(`${path}?shop=${selling.shop.id}`));
      await page.getByText("Your role in this shop (staff) does not include").waitFor();
      expect(await page.locator("#kpis, #recommendations").count()).toBe(0);
    }
    await context.close();
  });

  it("answers 404 for another seller's shop and order, as the API does", async () => {
    const line = { productId: selling.fastId, quantity: 1, title: "Fast seller" };
    const { orderId } = await paidOrder(db.db, selling.shop, selling.buyers[1]?.id ?? "", line);
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, stranger);
    const res = await page.goto(consoleUrl(`/console/seller?shop=${selling.shop.id}`));
    expect(res?.status()).toBe(404);
    expect(await page.content()).not.toContain("Fast seller");
    const order = await page.goto(consoleUrl(`/console/seller/orders/${orderId}`));
    expect(order?.status()).toBe(404);
    expect(await page.content()).not.toContain("Fast seller");
    await context.close();
  });
});
