/**
 * The row-lock designs the seeds used, as a small Node service with a `pg` Pool, each purchase
 * in one Postgres transaction that locks the product's stock row and sells from it. The lock is
 * held from the SELECT … FOR UPDATE until COMMIT, across every round trip in between, so buyers
 * of one product go through one at a time.
 *
 * - `POST /purchases` (row lock, minimal): BEGIN; SELECT on_hand … FOR UPDATE; UPDATE stock;
 *   INSERT order; COMMIT. No auth, idempotency record, audit or payment: the floor.
 * - `POST /checkout/confirm` (row lock, same work): what Souk's confirm route does, one statement
 *   at a time as the seeds' ORM code did: the idempotency record (insert, later the stored
 *   answer), the buyer and the price plan read, then BEGIN; SELECT stock … FOR UPDATE; UPDATE
 *   it (reserved += 1); INSERT checkout; INSERT order; INSERT items; INSERT two audit rows;
 *   COMMIT; a PaymentIntent on the same Stripe emulator (after the commit, as Souk does); its id
 *   saved on the checkout. About 14 round trips, 7 of them under the lock.
 *
 * Env: BENCH_DATABASE_URL, BENCH_POOL_MAX, BENCH_STRIPE_URL and BENCH_STRIPE_KEY (same work);
 * the tables are made by ./classic.ts. Tells its parent `{ type: "ready", port }`.
 * Answers 201, 409 `{ code: "INSUFFICIENT_STOCK" }`, 403, 404, 422, 402 or 500.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import pg from "pg";
import Stripe from "stripe";
import { errorMessage } from "../../src/lib/error-message.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  return JSON.parse(await readText(req));
}

type Outcome = { status: 201; orderId: string } | { status: 409 | 404 | 403 | 402; code: string };

/** One purchase of one unit, in one transaction holding the stock row's lock. */
async function purchase(
  pool: pg.Pool,
  input: { productId: string; buyerId: string; key: string },
): Promise<Outcome> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ on_hand: number }>(
      "SELECT on_hand FROM bench_classic.stock WHERE product_id = $1 FOR UPDATE",
      [input.productId],
    );
    const row = rows[0];
    if (!row) {
      await client.query("ROLLBACK");
      return { status: 404, code: "NOT_FOUND" };
    }
    if (row.on_hand < 1) {
      await client.query("ROLLBACK");
      return { status: 409, code: "INSUFFICIENT_STOCK" };
    }
    await client.query(
      "UPDATE bench_classic.stock SET on_hand = on_hand - 1 WHERE product_id = $1",
      [input.productId],
    );
    const orderId = randomUUID();
    await client.query(
      "INSERT INTO bench_classic.orders (id, product_id, buyer_id, quantity, idempotency_key) " +
        "VALUES ($1, $2, $3, 1, $4)",
      [orderId, input.productId, input.buyerId, input.key],
    );
    await client.query("COMMIT");
    return { status: 201, orderId };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

const ROUTE = "POST /checkout/confirm";
const PAYMENT_WINDOW_MS = 30 * 60 * 1000;
const PLATFORM_FEE_BPS = 500;

interface ConfirmInput {
  buyerId: string;
  productId: string;
  locationId: string;
  key: string;
  body: string;
}

interface Confirmed {
  checkoutId: string;
  orderId: string;
  paymentIntentId: string;
  clientSecret: string;
  amountMinor: number;
  currency: string;
}

/**
 * One buy-now confirm of one unit, doing the work Souk's route does, the row-lock way. The
 * idempotency record is taken first (a unique insert is the lock on the key) and settled last;
 * answers that may change on retry (409, 402) drop it, as Souk's middleware does.
 */
async function confirm(
  pool: pg.Pool,
  stripe: Stripe,
  input: ConfirmInput,
): Promise<{ status: number; body: unknown }> {
  const hash = createHash("sha256").update(`POST\n${input.body}`).digest("hex");
  const now = Date.now();
  const lockedUntil = new Date(now + 60_000);
  const claimed = await pool.query(
    `insert into bench_classic.idempotency_keys
       (user_id, route, key, request_hash, locked_until, expires_at)
     values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning key`,
    [input.buyerId, ROUTE, input.key, hash, lockedUntil, new Date(now + 86_400_000)],
  );
  if (claimed.rowCount === 0) return { status: 409, body: { code: "CONFLICT" } };
  const settle = async (status: number, body: unknown) => {
    if (status >= 200 && status < 300) {
      await pool.query(
        `update bench_classic.idempotency_keys
            set state = 'done', response_status = $4, response_body = $5
          where user_id = $1 and route = $2 and key = $3 and locked_until = $6`,
        [input.buyerId, ROUTE, input.key, status, JSON.stringify(body), lockedUntil],
      );
    } else {
      await pool.query(
        `delete from bench_classic.idempotency_keys
          where user_id = $1 and route = $2 and key = $3 and locked_until = $4`,
        [input.buyerId, ROUTE, input.key, lockedUntil],
      );
    }
    return { status, body };
  };

  let made: Omit<Confirmed, "paymentIntentId" | "clientSecret">;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const buyer = await client.query<{ role: string; blocked_at: Date | null }>(
      "SELECT role, blocked_at FROM bench_classic.buyers WHERE id = $1",
      [input.buyerId],
    );
    const who = buyer.rows[0];
    if (!who || who.blocked_at !== null) {
      await client.query("ROLLBACK");
      return settle(403, { code: "FORBIDDEN" });
    }
    const plan = await client.query<{
      shop_id: string;
      title: string;
      sku: string;
      price_minor: number;
      currency: string;
    }>(
      `SELECT shop_id, title, sku, price_minor, currency FROM bench_classic.products
        WHERE id = $1 AND status = 'published'`,
      [input.productId],
    );
    const product = plan.rows[0];
    if (!product) {
      await client.query("ROLLBACK");
      return settle(404, { code: "NOT_FOUND" });
    }
    const stock = await client.query<{ on_hand: number; reserved: number }>(
      `SELECT on_hand, reserved FROM bench_classic.product_stock
        WHERE product_id = $1 AND location_id = $2 FOR UPDATE`,
      [input.productId, input.locationId],
    );
    const level = stock.rows[0];
    if (!level || level.on_hand - level.reserved < 1) {
      await client.query("ROLLBACK");
      return settle(409, { code: "INSUFFICIENT_STOCK" });
    }
    await client.query(
      `UPDATE bench_classic.product_stock SET reserved = reserved + 1, updated_at = now()
        WHERE product_id = $1 AND location_id = $2`,
      [input.productId, input.locationId],
    );
    const checkoutId = randomUUID();
    const orderId = randomUUID();
    const subtotal = product.price_minor;
    const fee = Math.round((subtotal * PLATFORM_FEE_BPS) / 10_000);
    const deadline = new Date(now + PAYMENT_WINDOW_MS);
    await client.query(
      `INSERT INTO bench_classic.checkouts
         (id, buyer_id, currency, amount_minor, platform_fee_minor, transfer_group, payment_deadline)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [checkoutId, input.buyerId, product.currency, subtotal, fee, checkoutId, deadline],
    );
    await client.query(
      `INSERT INTO bench_classic.full_orders
         (id, checkout_id, buyer_id, shop_id, currency, subtotal_minor, platform_fee_minor,
          total_minor, fulfilment, pickup_location_id, payment_deadline)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pickup', $9, $10)`,
      [
        orderId,
        checkoutId,
        input.buyerId,
        product.shop_id,
        product.currency,
        subtotal,
        fee,
        subtotal,
        input.locationId,
        deadline,
      ],
    );
    await client.query(
      `INSERT INTO bench_classic.order_items
         (id, order_id, product_id, title, sku, unit_price_minor, quantity, location_id)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7)`,
      [
        randomUUID(),
        orderId,
        input.productId,
        product.title,
        product.sku,
        subtotal,
        input.locationId,
      ],
    );
    for (const [action, entityType, entityId, value] of [
      ["checkout.created", "checkout", checkoutId, { status: "open", amountMinor: subtotal }],
      ["order.created", "order", orderId, { status: "pending_payment", checkoutId }],
    ] as const) {
      await client.query(
        `INSERT INTO bench_classic.audit_log
           (id, actor_id, actor_type, action, entity_type, entity_id, new_value, request_id)
         VALUES ($1, $2, 'user', $3, $4, $5, $6, $7)`,
        [randomUUID(), input.buyerId, action, entityType, entityId, value, input.key],
      );
    }
    await client.query("COMMIT");
    made = { checkoutId, orderId, amountMinor: subtotal, currency: product.currency };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    await settle(500, null).catch(() => {});
    throw err;
  } finally {
    client.release();
  }

  let intent: Stripe.PaymentIntent;
  try {
    intent = await stripe.paymentIntents.create(
      {
        amount: made.amountMinor,
        currency: made.currency.toLowerCase(),
        transfer_group: made.checkoutId,
        automatic_payment_methods: { enabled: true },
        metadata: { checkout_id: made.checkoutId, order_ids: made.orderId },
      },
      { idempotencyKey: `checkout:${made.checkoutId}:pi` },
    );
  } catch {
    // Void what was made: the hold back, the order cancelled, as Souk's route does.
    await pool.query(
      `with s as (update bench_classic.product_stock set reserved = reserved - 1
                   where product_id = $1 and location_id = $2 returning 1),
            o as (update bench_classic.full_orders set status = 'cancelled' where id = $3
                   returning 1)
       update bench_classic.checkouts set status = 'voided' where id = $4`,
      [input.productId, input.locationId, made.orderId, made.checkoutId],
    );
    return settle(402, { code: "PAYMENT_FAILED" });
  }
  await pool.query(
    "UPDATE bench_classic.checkouts SET payment_intent_id = $2, updated_at = now() WHERE id = $1",
    [made.checkoutId, intent.id],
  );
  const answer: Confirmed = {
    ...made,
    paymentIntentId: intent.id,
    clientSecret: intent.client_secret ?? "",
  };
  return settle(201, answer);
}

async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const poolMax = Number(process.env.BENCH_POOL_MAX ?? 10);
  if (!databaseUrl) throw new Error("BENCH_DATABASE_URL is required");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolMax });
  pool.on("error", () => {});
  const stripeBase = new URL(process.env.BENCH_STRIPE_URL ?? "http://127.0.0.1:12111");
  const stripe = new Stripe(process.env.BENCH_STRIPE_KEY ?? "sk_test_bench", {
    host: stripeBase.hostname,
    port: Number(stripeBase.port || 80),
    protocol: stripeBase.protocol === "https:" ? "https" : "http",
  });

  const server = createServer(async (req, res) => {
    try {
      if (req.method === "POST" && req.url === "/checkout/confirm") {
        const key = req.headers["idempotency-key"];
        const buyerId = req.headers["x-buyer-id"];
        const raw = await readText(req);
        const body = JSON.parse(raw) as { productId?: unknown; locationId?: unknown };
        if (
          typeof key !== "string" ||
          typeof buyerId !== "string" ||
          typeof body.productId !== "string" ||
          typeof body.locationId !== "string" ||
          !UUID.test(buyerId) ||
          !UUID.test(body.productId) ||
          !UUID.test(body.locationId)
        ) {
          send(res, 422, { code: "VALIDATION_FAILED" });
          return;
        }
        const answer = await confirm(pool, stripe, {
          buyerId,
          productId: body.productId,
          locationId: body.locationId,
          key,
          body: raw,
        });
        send(res, answer.status, answer.body);
        return;
      }
      if (req.method !== "POST" || req.url !== "/purchases") {
        send(res, 404, { code: "NOT_FOUND" });
        return;
      }
      const key = req.headers["idempotency-key"];
      const body = (await readJson(req)) as { productId?: unknown; buyerId?: unknown };
      const { productId, buyerId } = body;
      if (
        typeof key !== "string" ||
        typeof productId !== "string" ||
        typeof buyerId !== "string" ||
        !UUID.test(productId) ||
        !UUID.test(buyerId)
      ) {
        send(res, 422, { code: "VALIDATION_FAILED" });
        return;
      }
      const outcome = await purchase(pool, { productId, buyerId, key });
      send(res, outcome.status, outcome);
    } catch (err) {
      send(res, 500, {
        code: "INTERNAL",
        detail: errorMessage(err),
      });
    }
  });
  server.keepAliveTimeout = 60_000;
  // A purchase may wait minutes for the row lock at high contention and RTT; don't cut it off.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no TCP address");

  const stop = () => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("disconnect", stop);
  process.send?.({ type: "ready", port: address.port });
}

main().catch((err: unknown) => {
  console.error(errorMessage(err));
  process.exit(1);
});
