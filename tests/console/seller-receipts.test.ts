import { readFileSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { salesTransactions } from "../../src/db/schema/index.ts";
import {
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

const PHOTO = path.resolve(import.meta.dirname, "../fixtures/receipts/corner-shop.png");

let browser: Browser;
let db: Db;

beforeAll(async () => {
  db = openDb();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

async function call(token: string, pathname: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(consoleUrl(pathname), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

describe("seller receipt pages", () => {
  it("uploads a receipt photo, waits for the OCR, confirms the lines as sales", {
    // A real OCR run (tesseract loads its model on the first receipt) on two busy cores.
    timeout: 180_000,
  }, async () => {
    const { seller, shop } = await sellerWithShop(db.db);
    const token = await tokenOf(seller);
    // What tests/fixtures/receipts/corner-shop.png sells, 10 of each on hand at the branch.
    for (const [sku, title] of [
      ["TEA-100", "Green tea"],
      ["MUG-200", "Clay mug"],
      ["HNY-1", "Honey jar"],
    ] as const) {
      const product = await call(token, "/v1/seller/products", {
        shopId: shop.id,
        categoryId: shop.categoryId,
        title,
        sku,
        priceMinor: 1000,
        listingType: "fixed",
        status: "published",
      });
      await call(token, `/v1/seller/products/${product.id}/stock/adjustments`, {
        locationId: shop.branchId,
        mode: "set",
        quantity: 10,
        reason: "receipt test stock",
      });
    }
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, seller);
    await page.goto(consoleUrl(`/console/seller/receipts?shop=${shop.id}`));
    await page.getByLabel(/Photo/).setInputFiles({
      name: "corner-shop.png",
      mimeType: "image/png",
      buffer: readFileSync(PHOTO),
    });
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByText("Uploaded; the photo is being read.").waitFor();
    // htmx polls every 2 s and reloads the page once the lines are read.
    await page.locator("#receipt-lines").waitFor({ timeout: 150_000 });
    await expect(page.getByLabel("Description of line 1").inputValue()).resolves.toContain(
      "Green tea",
    );
    await page.getByLabel("Sold at").selectOption(shop.branchId);
    // The facts and the lines in view (the photo is above).
    await page.locator("#receipt-facts").evaluate((facts) => facts.scrollIntoView());
    await screenshot(page, "seller-receipt");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByText("Confirmed: the lines are recorded as sales").waitFor();
    await expect(page.locator("#receipt-state").textContent()).resolves.toBe("confirmed");
    await expect(page.locator("#receipt-lines-read tbody tr").count()).resolves.toBe(3);
    const sales = await db.db
      .select({ quantity: salesTransactions.quantity })
      .from(salesTransactions)
      .where(eq(salesTransactions.shopId, shop.id));
    expect(sales.map((s) => s.quantity).sort()).toEqual([1, 2, 3]);
    await context.close();
  });
});
