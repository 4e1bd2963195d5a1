/**
 * Souk's side of the benchmark: the Worker under `wrangler dev` (Durable Objects local), a shop
 * and buyers written straight to Postgres as `npm run seed` does, tokens signed as the Worker
 * signs them, and products stocked through the seller API.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import { SignJWT } from "jose";
import type pg from "pg";
import { unstable_startWorker } from "wrangler";
import * as schema from "../../src/db/schema/index.ts";
import { errorMessage } from "../../src/lib/error-message.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { ROOT } from "../stack/dev-database.ts";

const { auditLog, categories, shopLocations, shopMembers, shops, users } = schema;
type Db = NodePgDatabase<typeof schema>;

/** A free loopback port (closed again at once; wrangler binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Worker {
  url: string;
  /** The Chrome DevTools inspector (wrangler's proxy to workerd's), when asked for. */
  inspectorUrl: URL | null;
  /** Lines the Worker logged at error level so far (they go to the log file, not the console). */
  errors(): number;
  stop(): Promise<void>;
}

/**
 * The Worker as `wrangler dev --local` runs it (workerd, Durable Objects local, state kept in
 * `persistTo`), through wrangler's `unstable_startWorker` with file watching off: the CLI
 * rebuilds and reloads on every save under src/, and other people editing this tree during a
 * run would reset the objects mid-step. Built once from the working tree at start. Resolves once
 * GET /health answers 200.
 */
export async function startWorker(opts: {
  vars: Record<string, string>;
  persistTo: string;
  /** Where the Worker's own log lines go; without it they go to this process's output. */
  logFile?: string;
  /** Opens the inspector on this port (for a CPU profile); off by default. */
  inspectorPort?: number;
  /** Where it listens; a free port by default. */
  port?: number;
}): Promise<Worker> {
  const port = opts.port ?? (await freePort());
  const log = opts.logFile ? createWriteStream(opts.logFile, { flags: "a" }) : null;
  let errors = 0;
  // An overloaded step can log thousands of lines: counted, and kept out of the table's way.
  const structuredLogsHandler = (entry: { timestamp: number; level: string; message: string }) => {
    if (entry.level === "error") errors += 1;
    const line = `${new Date(entry.timestamp).toISOString()} ${entry.level} ${entry.message}\n`;
    if (log) log.write(line);
    else process.stderr.write(line);
  };
  const bindings = Object.fromEntries(
    Object.entries(opts.vars).map(([k, value]) => [k, { type: "plain_text" as const, value }]),
  );
  const worker = await unstable_startWorker({
    config: path.join(ROOT, "wrangler.toml"),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port },
      inspector:
        opts.inspectorPort === undefined
          ? false
          : { hostname: "127.0.0.1", port: opts.inspectorPort },
      persist: opts.persistTo,
      watch: false,
      liveReload: false,
      structuredLogsHandler,
    },
  });
  const stop = async () => {
    await worker.dispose();
    log?.end();
  };
  await worker.ready;
  const url = (await worker.url).origin;
  const inspectorUrl =
    opts.inspectorPort === undefined ? null : ((await worker.inspectorUrl) ?? null);

  const started = Date.now();
  let last = "";
  while (Date.now() - started < 120_000) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return { url, inspectorUrl, errors: () => errors, stop };
    } catch (err) {
      last = errorMessage(err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(
    `the Worker did not become healthy in 120 s (last: ${last})` +
      (opts.logFile ? `; see ${opts.logFile}` : ""),
  );
}

export interface BenchShop {
  id: string;
  categoryId: string;
  branchId: string;
  sellerId: string;
}

/**
 * A visible shop with payouts enabled (approved, email verified, a Connect account id), its
 * owner, a warehouse and a pickup branch, and a category: straight to Postgres as the seed does,
 * because approval and payouts have no public shortcut.
 */
export async function seedShop(db: Db): Promise<BenchShop> {
  const sellerId = uuidv7();
  const shopId = uuidv7();
  const categoryId = uuidv7();
  const branchId = uuidv7();
  const tag = shopId.slice(-12);
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.insert(users).values({
      id: sellerId,
      email: `bench-seller-${tag}@bench.invalid`,
      displayName: "Bench seller",
      role: "seller",
    });
    await tx.insert(categories).values({ id: categoryId, slug: `bench-${tag}`, name: "Bench" });
    await tx.insert(shops).values({
      id: shopId,
      ownerId: sellerId,
      name: `Flash sale ${tag}`,
      slug: `flash-sale-${tag}`,
      description: "The stock benchmark's shop.",
      contactEmail: `bench-${tag}@bench.invalid`,
      contactPhone: "+351912345678",
      country: "PT",
      currency: "EUR",
      status: "approved",
      emailVerifiedAt: now,
      approvedAt: now,
      stripeAccountId: `acct_bench_${tag}`,
      payoutsEnabled: true,
    });
    await tx.insert(shopMembers).values({ shopId, userId: sellerId, role: "owner" });
    await tx.insert(shopLocations).values([
      { id: uuidv7(), shopId, kind: "warehouse", name: "Warehouse", code: "WH" },
      { id: branchId, shopId, kind: "branch", name: "Flash sale counter", code: "FS" },
    ]);
    await tx.insert(auditLog).values({
      id: uuidv7(),
      actorType: "system",
      requestId: "bench:stock",
      action: "shop.created",
      entityType: "shop",
      entityId: shopId,
      newValue: { source: "bench" },
    });
  });
  return { id: shopId, categoryId, branchId, sellerId };
}

/** `count` buyers straight in Postgres (no password: they only ever use a signed token). */
export async function insertBuyers(db: Db, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uuidv7());
  for (let i = 0; i < ids.length; i += 2_000) {
    await db.insert(users).values(
      ids.slice(i, i + 2_000).map((id) => ({
        id,
        email: `bench-buyer-${id}@bench.invalid`,
        displayName: "Bench buyer",
        role: "buyer" as const,
      })),
    );
  }
  return ids;
}

/**
 * Access tokens as src/services/auth/tokens.ts signs them (HS256, iss souk, aud souk-api, sub and
 * role, 15 minutes), so setup spends no time in PBKDF2 logins. (That module cannot be imported
 * here: its error classes use syntax Node's type stripping refuses.)
 */
export function signTokens(
  ids: string[],
  role: "buyer" | "seller",
  secret: string,
): Promise<string[]> {
  const key = new TextEncoder().encode(secret);
  const iat = Math.floor(Date.now() / 1000);
  return Promise.all(
    ids.map((sub) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(sub)
        .setIssuer("souk")
        .setAudience("souk-api")
        .setIssuedAt(iat)
        .setExpirationTime(iat + 15 * 60)
        .sign(key),
    ),
  );
}

export class ApiError extends Error {}

async function call<T>(
  url: string,
  method: string,
  token: string,
  body?: unknown,
  expect = 200,
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== expect) throw new ApiError(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A published fixed-price product with `units` on hand at the branch (ProductStock adjust). */
export async function stockedProduct(
  api: string,
  sellerToken: string,
  shop: BenchShop,
  units: number,
  title: string,
): Promise<string> {
  const product = await call<{ id: string }>(
    `${api}/v1/seller/products`,
    "POST",
    sellerToken,
    {
      shopId: shop.id,
      categoryId: shop.categoryId,
      title,
      priceMinor: 2500,
      sku: `FLASH-${randomUUID().slice(0, 8)}`,
      listingType: "fixed",
      status: "published",
    },
    201,
  );
  await call(
    `${api}/v1/seller/products/${product.id}/stock/adjustments`,
    "POST",
    sellerToken,
    { locationId: shop.branchId, mode: "set", quantity: units, reason: "flash sale stock" },
    201,
  );
  return product.id;
}

export interface StockLevels {
  onHand: number;
  reserved: number;
  available: number;
  pendingMirror: number;
  sequence: number;
}

/** The branch's levels from the product's object (the seller stock read). */
export async function stockLevels(
  api: string,
  sellerToken: string,
  productId: string,
  locationId: string,
): Promise<StockLevels> {
  const view = await call<{
    locations: Array<{ locationId: string; onHand: number; reserved: number; available: number }>;
    pendingMirror: number;
    sequence: number;
  }>(`${api}/v1/seller/products/${productId}/stock`, "GET", sellerToken);
  const at = view.locations.find((l) => l.locationId === locationId);
  if (!at) throw new Error(`no stock row for location ${locationId}`);
  return {
    onHand: at.onHand,
    reserved: at.reserved,
    available: at.available,
    pendingMirror: view.pendingMirror,
    sequence: view.sequence,
  };
}

/** Orders Postgres holds for one product, by the checkout route's rows. */
export async function soukTally(
  pool: pg.Pool,
  productId: string,
): Promise<{ live: number; liveUnits: number; other: number; mirrored: number }> {
  const { rows } = await pool.query<{
    live: string;
    live_units: string;
    other: string;
    mirrored: string;
  }>(
    `select count(*) filter (where o.status = 'pending_payment') as live,
            coalesce(sum(oi.quantity) filter (where o.status = 'pending_payment'), 0) as live_units,
            count(*) filter (where o.status <> 'pending_payment') as other,
            (select count(*) from stock_movements m where m.product_id = $1) as mirrored
       from order_items oi join orders o on o.id = oi.order_id
      where oi.product_id = $1`,
    [productId],
  );
  const row = rows[0];
  return {
    live: Number(row?.live ?? 0),
    liveUnits: Number(row?.live_units ?? 0),
    other: Number(row?.other ?? 0),
    mirrored: Number(row?.mirrored ?? 0),
  };
}
