import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchShop, stockedProduct } from "../../scripts/bench/souk.ts";
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
  tokenOf,
} from "./stack.ts";

let browser: Browser;
let db: Db;
let seller: Account;
let shop: BenchShop;
let other: Account;
let productId: string;

beforeAll(async () => {
  db = openDb();
  [{ seller, shop }, { seller: other }] = await Promise.all([
    sellerWithShop(db.db),
    sellerWithShop(db.db),
  ]);
  const api = consoleUrl();
  const token = await tokenOf(seller);
  productId = await stockedProduct(api, token, shop, 12, "Olive oil 1 l");
  await stockedProduct(api, token, shop, 4, "Za'atar 100 g");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

describe("seller console", () => {
  it("signs a seller in through the form and lands on their inventory", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(consoleUrl("/console/sign-in"));
    await screenshot(page, "sign-in");
    expect(await seriousViolations(page)).toEqual([]);
    await signInAs(page, seller);
    expect(new URL(page.url()).pathname).toBe("/console/seller/inventory");
    expect(await page.getByRole("rowheader", { name: /Olive oil 1 l/ }).count()).toBeGreaterThan(0);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "__Secure-souk_refresh");
    expect(session).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
      path: "/console",
    });
    await context.close();
  });

  it("edits on hand inline, flags low stock, and undoes the change", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, seller);
    const onHand = page.getByLabel(`On hand, Olive oil 1 l at FS`);
    const threshold = page.getByLabel(`Low-stock threshold, Olive oil 1 l at FS`);
    await expect(onHand.inputValue()).resolves.toBe("12");
    await onHand.fill("3");
    await threshold.fill("5");
    const saved = page.waitForResponse((r) => r.url().includes(`/inventory/${productId}/`));
    await page.getByRole("button", { name: "Save Olive oil 1 l at FS" }).click();
    expect((await saved).status()).toBe(200);
    const row = page.locator(`tr[id^="stock-${productId}-"]`, { has: page.getByText("FS") });
    await expect(row.getByRole("status").textContent()).resolves.toContain("12 → 3");
    expect(await row.locator(".badge.low_stock").count()).toBe(1);
    await screenshot(page, "inventory");
    expect(await seriousViolations(page)).toEqual([]);

    await row.getByRole("button", { name: /^Undo/ }).click();
    await page.getByText("Undone: on hand back to 12.").waitFor();
    await expect(page.getByLabel(`On hand, Olive oil 1 l at FS`).inputValue()).resolves.toBe("12");
    // The service's levels, not just the page's: the product's stock object says 12 again.
    const res = await fetch(consoleUrl(`/v1/seller/products/${productId}/stock`), {
      headers: { authorization: `Bearer ${await tokenOf(seller)}` },
    });
    const stock = (await res.json()) as { locations: Array<{ code: string; onHand: number }> };
    expect(stock.locations.find((l) => l.code === "FS")?.onHand).toBe(12);

    // The history chart draws the set, and the undo, once the mirror has them.
    await page.getByRole("link", { name: "history of Olive oil 1 l" }).first().click();
    await page.waitForURL(`**/console/seller/products/${productId}/stock-history`);
    for (let i = 0; i < 20 && (await page.locator("#history tbody tr").count()) < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    expect(await page.locator("#history tbody tr").count()).toBeGreaterThanOrEqual(3);
    await page.locator('[data-chart="stock-history"][data-drawn="true"] canvas').waitFor();
    await screenshot(page, "stock-history");
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it("shows a field error from the service's problem and changes nothing", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, seller);
    // Past what the stock object takes: the browser lets it through, the service refuses it.
    await page.getByLabel(`On hand, Olive oil 1 l at FS`).fill("3000000000");
    await page.getByRole("button", { name: "Save Olive oil 1 l at FS" }).click();
    const error = page.locator(`tr[id^="stock-${productId}-"] .error`).first();
    await error.waitFor();
    expect(await error.textContent()).toMatch(/2147483647/);
    await expect(
      page.getByLabel(`On hand, Olive oil 1 l at FS`).getAttribute("aria-invalid"),
    ).resolves.toBe("true");
    await context.close();
  });

  it("answers 404 for another seller's shop and product, as the API does", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, other);
    const res = await page.goto(consoleUrl(`/console/seller/inventory?shop=${shop.id}`));
    expect(res?.status()).toBe(404);
    expect(await page.content()).not.toContain("Olive oil");
    expect((await page.goto(consoleUrl("/console/nowhere")))?.status()).toBe(404);
    // A same-origin form post (Origin and Sec-Fetch-Site as a browser sends them) to edit it.
    const status = await page.evaluate(
      async ([url]) => {
        const body = new URLSearchParams({ onHand: "0", threshold: "" });
        return (await fetch(url ?? "", { method: "POST", body, headers: { "hx-request": "true" } }))
          .status;
      },
      [consoleUrl(`/console/seller/inventory/${productId}/${shop.branchId}`)],
    );
    expect(status).toBe(404);
    await context.close();
  });
});
