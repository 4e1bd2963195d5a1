/**
 * The classic design the seeds used, as a small Node service: per purchase, one Postgres
 * transaction from a `pg` Pool that locks the product's stock row and sells from it:
 *
 *   BEGIN; SELECT on_hand … FOR UPDATE; UPDATE stock; INSERT order; COMMIT
 *
 * The row lock is held from the SELECT until COMMIT, across every round trip in between, so
 * buyers of one product go through one at a time. No auth, no payment, no audit: it does far
 * less per purchase than Souk's confirm route, on purpose (it is the baseline).
 *
 * Env: BENCH_DATABASE_URL, BENCH_POOL_MAX; the tables are made by ./classic.ts. Tells its parent
 * `{ type: "ready", port }`.
 * `POST /purchases` `{ productId, buyerId }` with an Idempotency-Key header → 201 `{ orderId }`,
 * 409 `{ code: "INSUFFICIENT_STOCK" }`, 404, 422, or 500.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import pg from "pg";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

type Outcome = { status: 201; orderId: string } | { status: 409 | 404; code: string };

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

async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const poolMax = Number(process.env.BENCH_POOL_MAX ?? 10);
  if (!databaseUrl) throw new Error("BENCH_DATABASE_URL is required");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolMax });
  pool.on("error", () => {});

  const server = createServer(async (req, res) => {
    try {
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
        detail: err instanceof Error ? err.message : String(err),
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
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
