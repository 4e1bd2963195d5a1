import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createHttpDb, type HttpDatabase } from "../../../src/db/http.ts";
import { products, users } from "../../../src/db/schema/index.ts";
import { loadConfig } from "../../../src/env.ts";
import { requestHash } from "../../../src/http/middleware/idempotency.ts";
import { createRedis } from "../../../src/lib/redis.ts";
import { confirmCheckout } from "../../../src/services/checkout/confirm.ts";
import { cartKey, listingKey } from "../../../src/services/checkout/snapshots.ts";
import {
  addressOf,
  addToCart,
  buyer,
  buyShop,
  levelAt,
  stockedProduct,
  stockStub,
} from "../../helpers/cart.ts";
import { hasRedis } from "../../helpers/catalog.ts";
import { type CheckoutBody, confirm, preview, purchasesOf } from "../../helpers/checkout.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { countRoundTrips } from "../../helpers/roundtrips.ts";
import type { TestUser } from "../../helpers/users.ts";

/** Waits until the preview's snapshots are in Redis (the preview stores them after answering). */
async function snapshotsStored(keys: string[]): Promise<void> {
  const redis = createRedis(loadConfig(env));
  if (!redis) throw new Error("no Redis");
  for (let i = 0; i < 100; i++) {
    const values = await redis.mget<unknown[]>(...keys);
    if (values.every((v) => v !== null)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`snapshots never stored: ${keys.join(", ")}`);
}

async function buyNowReady(opts: { priceMinor?: number; branch?: number } = {}) {
  const shop = await buyShop();
  const [p, u] = await Promise.all([
    stockedProduct(shop, { priceMinor: opts.priceMinor ?? 1000, branch: opts.branch ?? 5 }),
    buyer(),
  ]);
  const body: CheckoutBody = {
    items: [{ productId: p.id, quantity: 1 }],
    fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
  };
  return { shop, p, u, body };
}

/**
 * Holds the product's stock object back from flushing its outbox for a minute. In production the
 * object runs apart from the Worker; here it shares the test's isolate, so its mirror writes
 * (off the buyer's path, by alarm) would be counted as the purchase's.
 */
async function quietMirror(productId: string): Promise<void> {
  await runInDurableObject(stockStub(productId), async (_instance, state) => {
    state.storage.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('mirror_retry_at', ?)",
      String(Date.now() + 60_000),
    );
  });
}

/** A confirm's service context as the route builds it, with the HTTP database swapped. */
function serviceContext(u: TestUser, http: HttpDatabase) {
  return testContext({
    get db(): never {
      throw new Error("confirm must not open a Pool");
    },
    actor: { type: "user" as const, id: u.id, requestId: "test-crash" },
    http,
  });
}

type WriteStatements = Parameters<HttpDatabase["$client"]["transaction"]>[0];

/**
 * The real HTTP database, with the purchase's write (one `$client.transaction([...])`) sent
 * through `write`, which gets the real call to make or not.
 */
function interceptedWrite(
  write: (
    send: (statements: WriteStatements) => Promise<unknown>,
    statements: WriteStatements,
  ) => Promise<unknown>,
): HttpDatabase {
  const config = loadConfig(env);
  const real = createHttpDb({
    databaseUrl: config.DATABASE_URL,
    localHttp: config.NEON_LOCAL_HTTP,
  });
  const client = new Proxy(real.$client, {
    get(target, prop, receiver) {
      if (prop !== "transaction") return Reflect.get(target, prop, receiver);
      return (statements: WriteStatements) => write((s) => target.transaction(s), statements);
    },
  });
  return new Proxy(real, {
    get(target, prop, receiver) {
      return prop === "$client" ? client : Reflect.get(target, prop, receiver);
    },
  });
}

/** The network cuts the write: before sending it, or after it committed. */
const crashingHttp = (when: "before" | "after") =>
  interceptedWrite(async (send, statements) => {
    if (when === "after") await send(statements);
    throw new Error("Network connection lost.");
  });

/** The write waits until `gate` opens. */
const gatedHttp = (gate: Promise<void>) =>
  interceptedWrite(async (send, statements) => {
    await gate;
    return send(statements);
  });

describe.runIf(hasRedis)("a purchase waits for one Postgres round trip", () => {
  it("buy now after its preview: one round trip, and no Pool connection", async () => {
    const { p, u, body } = await buyNowReady();
    expect((await preview(u, body)).status).toBe(200);
    await snapshotsStored([listingKey(p.id)]);
    await quietMirror(p.id);
    const { result, roundTrips } = await countRoundTrips(() => confirm(u, body));
    expect(result.status, JSON.stringify(result.body)).toBe(201);
    expect(roundTrips).toMatchObject({ http: 1, wsConnections: 0, wsQueries: 0, total: 1 });
  });

  it("a cart after its preview: one round trip, and the cart is emptied by it", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { warehouse: 5 }), buyer()]);
    await addToCart(u, p.id, 2);
    const body: CheckoutBody = {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId: await addressOf(u) }],
    };
    expect((await preview(u, body)).status).toBe(200);
    await snapshotsStored([cartKey(u.id), listingKey(p.id)]);
    await quietMirror(p.id);
    const { result, roundTrips } = await countRoundTrips(() => confirm(u, body));
    expect(result.status, JSON.stringify(result.body)).toBe(201);
    expect(roundTrips.total).toBe(1);
    const bought = await purchasesOf(u.id);
    expect(bought.items.map((i) => i.quantity)).toEqual([2]);
    expect(bought.orders[0]?.shippingAddress).toMatchObject({ country: expect.any(String) });
  });
});

describe.runIf(hasRedis)("a stale snapshot never sells at a wrong price", () => {
  it("sells at the price Postgres holds when the price changed after the preview", async () => {
    const { p, u, body } = await buyNowReady({ priceMinor: 1000 });
    expect((await preview(u, body)).body.totalMinor).toBe(1000);
    await snapshotsStored([listingKey(p.id)]);
    // Behind every cache's back: no invalidation reaches Redis.
    await withDb((db) =>
      db.update(products).set({ priceMinor: 1500 }).where(eq(products.id, p.id)),
    );

    const res = await confirm(u, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.amountMinor).toBe(1500);
    expect((await purchasesOf(u.id)).items.map((i) => i.unitPriceMinor)).toEqual([1500]);
  });

  it("refuses (409) the total the buyer agreed to when the price changed since", async () => {
    const { p, u, body, shop } = await buyNowReady({ priceMinor: 1000 });
    expect((await preview(u, body)).status).toBe(200);
    await snapshotsStored([listingKey(p.id)]);
    await withDb((db) => db.update(products).set({ priceMinor: 900 }).where(eq(products.id, p.id)));

    const res = await confirm(u, { ...body, expectedTotalMinor: 1000 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: "total_changed", totalMinor: 900 });
    expect((await purchasesOf(u.id)).orders).toEqual([]);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });
  });
});

describe("a blocked buyer cannot buy", () => {
  it.runIf(hasRedis)("is refused at the write even with every snapshot cached", async () => {
    const { p, u, body, shop } = await buyNowReady();
    expect((await preview(u, body)).status).toBe(200);
    await snapshotsStored([listingKey(p.id)]);
    await withDb((db) => db.update(users).set({ blockedAt: new Date() }).where(eq(users.id, u.id)));

    const res = await confirm(u, body);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "ACCOUNT_BLOCKED" });
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });
  });
});

describe("a retry with the same key answers what the first attempt did", () => {
  it("finishes an attempt cut off between its holds and its write: one order, one hold", async () => {
    const { p, u, body, shop } = await buyNowReady({ branch: 3 });
    const key = crypto.randomUUID();
    const hash = await requestHash("POST", JSON.stringify(body));
    await expect(
      confirmCheckout(serviceContext(u, crashingHttp("before")), u.id, body, {
        key,
        requestHash: hash,
      }),
    ).rejects.toThrow("Network connection lost.");
    // The cut-off attempt's hold stays: the retry must find it, not take a second one.
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 1, available: 2 });
    expect((await purchasesOf(u.id)).orders).toEqual([]);

    const retry = await confirm(u, body, key);
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    const bought = await purchasesOf(u.id);
    expect(bought.checkouts.map((c) => c.id)).toEqual([retry.body.checkoutId]);
    expect(bought.orders).toHaveLength(1);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 1, available: 2 });
  });

  it("keeps the hold when the twin that took it first writes second", async () => {
    const { p, u, body, shop } = await buyNowReady({ branch: 3 });
    const key = crypto.randomUUID();
    const hash = await requestHash("POST", JSON.stringify(body));
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // The first request takes the hold afresh, then its write is held back…
    const slow = confirmCheckout(serviceContext(u, gatedHttp(gate)), u.id, body, {
      key,
      requestHash: hash,
    });
    for (let i = 0; i < 200; i++) {
      if ((await levelAt(p.id, shop.branchId)).reserved === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // …while its twin replays that hold and writes first.
    const fast = await confirm(u, body, key);
    expect(fast.status, JSON.stringify(fast.body)).toBe(201);
    open();
    const late = await slow;
    expect(late.replayed).toBe(true);
    expect(late.checkout.checkoutId).toBe(fast.body.checkoutId);
    // The hold is the written checkout's: the loser of the write race must not give it back.
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 1, available: 2 });
    expect((await purchasesOf(u.id)).orders).toHaveLength(1);
  });

  it("replays an attempt whose write committed but whose answer was lost", async () => {
    const { p, u, body, shop } = await buyNowReady({ branch: 3 });
    const key = crypto.randomUUID();
    const hash = await requestHash("POST", JSON.stringify(body));
    await expect(
      confirmCheckout(serviceContext(u, crashingHttp("after")), u.id, body, {
        key,
        requestHash: hash,
      }),
    ).rejects.toThrow("Network connection lost.");
    const first = await purchasesOf(u.id);
    expect(first.orders).toHaveLength(1);

    const retry = await confirm(u, body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body.checkoutId).toBe(first.checkouts[0]?.id);
    expect(retry.body.orders.map((o) => o.id)).toEqual(first.orders.map((o) => o.id));
    expect((await purchasesOf(u.id)).orders).toHaveLength(1);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 1, available: 2 });
  });
});
