import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
let watchers: Account[];
let bidder: Account;
let auctionId: string;

async function post<T>(path: string, token: string, body: unknown): Promise<T> {
  const res = await fetch(consoleUrl(path), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  db = openDb();
  const [{ seller, shop }, a, b, c] = await Promise.all([
    sellerWithShop(db.db),
    account(db.db, "buyer"),
    account(db.db, "buyer"),
    account(db.db, "buyer"),
  ]);
  watchers = [a, b];
  bidder = c;
  const token = await tokenOf(seller);
  const product = await post<{ id: string }>("/v1/seller/products", token, {
    shopId: shop.id,
    categoryId: shop.categoryId,
    title: "Kilim rug, 1960s",
    priceMinor: 10_000,
    sku: `KILIM-${shop.id.slice(-6)}`,
    listingType: "auction",
    status: "published",
  });
  const auction = await post<{ id: string }>("/v1/seller/auctions", token, {
    productId: product.id,
    startPriceMinor: 1_000,
    endsAt: new Date(Date.now() + 20 * 60_000).toISOString(),
  });
  auctionId = auction.id;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await db?.close();
});

/** Signed in, on the auction's page, its live socket open. */
async function watching(user: Account): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await signInAs(page, user);
  await page.goto(consoleUrl(`/console/auctions/${auctionId}`));
  await page.locator('[data-connected="true"]').waitFor();
  return page;
}

describe("live auction page", () => {
  it("shows a bid to two other browsers within a second, and the outbid notice", async () => {
    const pages = await Promise.all([...watchers, bidder].map(watching));
    const [first, second, third] = pages as [Page, Page, Page];
    expect(await seriousViolations(first)).toEqual([]);

    await third.getByLabel("Your maximum (EUR)").fill("15.00");
    const placed = third.waitForResponse((r) => r.url().endsWith(`/auctions/${auctionId}/bids`));
    await third.getByRole("button", { name: "Bid" }).click();
    expect((await placed).status()).toBe(201);
    await third.getByText(/You lead at/).waitFor();
    // Both watchers' pages move within a second of the bid's answer, through the socket alone.
    await Promise.all(
      [first, second].map((p) =>
        p.locator('[data-live="bids"]', { hasText: /^1$/ }).waitFor({ timeout: 1_000 }),
      ),
    );
    expect(await first.locator('[data-live="leader"]').textContent()).not.toBe("no bids yet");

    // A higher maximum from a watcher: the first bidder's page says they were outbid.
    await first.getByLabel("Your maximum (EUR)").fill("30.00");
    await first.getByRole("button", { name: "Bid" }).click();
    await first.getByText(/You lead at/).waitFor();
    await third.getByText("You have been outbid.").waitFor({ timeout: 2_000 });
    await screenshot(third, "auction");
    await Promise.all(pages.map((p) => p.context().close()));
  });
});
