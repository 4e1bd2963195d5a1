/**
 * The coordinator of all-or-nothing stock changes across products (the bulk API and the CSV
 * import). Each product's ProductStock object is a participant of a two-phase commit:
 *
 * 1. `bulk_operations` row in `preparing`; `prepare` on every object, in parallel. A prepare
 *    checks every op and holds the units each decrease will take, or refuses and changes
 *    nothing.
 * 2. Any refusal: the row goes to `aborted` (compare-and-set from `preparing`), then
 *    `abortPrepared` on every object, and the caller gets 409 listing every refused line.
 * 3. Every object prepared: the row goes to `committing` (compare-and-set from `preparing`);
 *    that write is the decision, durable before any object is asked to commit. Then
 *    `commitPrepared` on every object, and the row goes to `committed`.
 *
 * A coordinator that dies in phase 1 leaves holds that each object drops by itself when the
 * prepare's TTL runs out (nothing applied anywhere). One that dies after the decision leaves a
 * `committing` row that `redriveBulkOperations` (a cron, or any caller) finishes: commits are
 * idempotent by txId. Only a re-drive later than the TTL can find a participant expired; then
 * the objects that did commit are compensated (undo) and the row ends `failed`, loudly.
 */
import { and, eq, inArray, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import { MAX_PREPARE_OPS } from "../../../durable-objects/product-stock/types.ts";
import type {
  AbortPreparedResult,
  CommitPreparedResult,
  Movement,
  PrepareResult,
} from "../../../durable-objects/product-stock.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Actor } from "../../db/audit.ts";
import type { Database } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import {
  type BulkOperation,
  type BulkPlanEntry,
  bulkOperations,
} from "../../db/schema/inventory.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import { digest } from "../../lib/cache.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { Logger } from "../../lib/logger.ts";
import type { CatalogCache } from "../catalog/cache-keys.ts";
import type { ServiceContext } from "../context.ts";
import { derive, isUniqueViolation, type StockNamespace } from "../context.ts";
import {
  Conflict,
  DomainError,
  type FieldError,
  InsufficientStock,
  ServiceUnavailable,
  ValidationFailed,
} from "../errors.ts";
import type { NotificationQueue } from "../notifications/notify.ts";
import { requireShopPermission } from "../shops/access.ts";
import { afterManyMovements } from "./alerts.ts";
import { forgetAvailability } from "./availability.ts";
import { rememberOwners } from "./owners.ts";
import { inParallel, type Settled } from "./parallel.ts";
import { quantityRule, reasonField } from "./stock.ts";
import { type MovementView, movementView } from "./views.ts";

/** How long an uncommitted prepare holds units: the window a re-drive has after a crash. */
export const BULK_PREPARE_TTL_MS = 5 * 60_000;
export const MAX_BULK_ITEMS = 1_000;
/** A re-drive leaves alone operations a live coordinator touched this recently. */
export const REDRIVE_AFTER_MS = 30_000;

const bulkItem = z
  .object({
    productId: z.uuid(),
    locationId: z.uuid(),
    mode: z.enum(["delta", "set"]),
    quantity: z.int().min(-2_147_483_647).max(2_147_483_647),
  })
  .refine(quantityRule.check, { message: quantityRule.message, path: ["quantity"] })
  .meta(quantityRule.schema);

export const bulkInput = z.object({
  shopId: z.uuid().optional(),
  items: z.array(bulkItem).min(1).max(MAX_BULK_ITEMS),
  reason: reasonField,
});

export interface BulkLine {
  productId: string;
  locationId: string;
  mode: "delta" | "set";
  quantity: number;
}

export interface BulkResult {
  operationId: string;
  state: "committed";
  lines: number;
  products: number;
  movements: MovementView[];
}

/** One line the objects refused, by its position in the request (and CSV row, for imports). */
export interface RefusedLine {
  index: number;
  row?: number;
  productId: string;
  locationId: string;
  available: number | null;
  requested: number | null;
  reason: string;
}

export interface BulkPlan {
  shopId: string;
  source: "bulk" | "import";
  reason: string;
  lines: BulkLine[];
  idempotencyKey?: string | undefined;
  /** The CSV row of each line, so a refusal can name it. */
  rowOf?: (index: number) => number;
}

interface CoordinatorDeps {
  db: Database;
  stock: StockNamespace;
  queue: NotificationQueue;
  logger: Logger;
  actor: Actor;
  /** Present on the request path: drops the products' cached public availability. */
  cache?: CatalogCache | undefined;
}

/**
 * Applies many products' and locations' changes all or nothing (owner, manager). The shop is
 * `shopId`, or the first item's product's shop. Every product and location must belong to it
 * (else 422 naming `items.N.productId` / `items.N.locationId`); one line per product and
 * location. Any refusal → 409 INSUFFICIENT_STOCK listing every refused line; nothing changes.
 */
export async function bulkAdjustStock(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof bulkInput>,
  idempotencyKey?: string,
): Promise<BulkResult> {
  const input = parseOr422(bulkInput, raw);
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  input.items.forEach((item, i) => {
    const key = `${item.productId}/${item.locationId}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({
        field: `items.${i}`,
        in: "body",
        message: `repeats the product and location of items.${first}; one line per pair`,
      });
    } else seen.set(key, i);
  });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const productIds = [...new Set(input.items.map((i) => i.productId))];
  let shopId = input.shopId;
  if (!shopId) {
    const [first] = await ctx.db
      .select({ shopId: products.shopId })
      .from(products)
      .where(and(eq(products.id, input.items[0]?.productId ?? ""), isNull(products.deletedAt)));
    if (!first) {
      throw new ValidationFailed([
        { field: "items.0.productId", in: "body", message: "is not a product of a shop" },
      ]);
    }
    shopId = first.shopId;
  }
  await requireShopPermission(ctx.db, shopId, userId, "stock.write");
  const [ownProducts, ownLocations] = await Promise.all([
    ctx.db
      .select({ id: products.id })
      .from(products)
      .where(
        and(
          inArray(products.id, productIds),
          eq(products.shopId, shopId),
          isNull(products.deletedAt),
        ),
      ),
    ctx.db
      .select({ id: shopLocations.id })
      .from(shopLocations)
      .where(and(eq(shopLocations.shopId, shopId), isNull(shopLocations.deletedAt))),
  ]);
  const productOk = new Set(ownProducts.map((p) => p.id));
  const locationOk = new Set(ownLocations.map((l) => l.id));
  input.items.forEach((item, i) => {
    if (!productOk.has(item.productId)) {
      errors.push({
        field: `items.${i}.productId`,
        in: "body",
        message: "is not a product of this shop",
      });
    }
    if (!locationOk.has(item.locationId)) {
      errors.push({
        field: `items.${i}.locationId`,
        in: "body",
        message: "is not a location of this shop",
      });
    }
  });
  if (errors.length > 0) throw new ValidationFailed(errors);
  return runBulk(ctx, {
    shopId,
    source: "bulk",
    reason: input.reason,
    lines: input.items,
    idempotencyKey,
  });
}

function planOf(lines: BulkLine[]): BulkPlanEntry[] {
  const byProduct = new Map<string, BulkPlanEntry>();
  for (const l of lines) {
    const entry = byProduct.get(l.productId) ?? { productId: l.productId, ops: [] };
    entry.ops.push({ locationId: l.locationId, mode: l.mode, quantity: l.quantity });
    byProduct.set(l.productId, entry);
  }
  return [...byProduct.values()];
}

/**
 * Runs a validated plan through both phases (see the module comment). The caller has checked
 * the permission and that every product and location belongs to `plan.shopId`.
 */
export async function runBulk(ctx: ServiceContext, plan: BulkPlan): Promise<BulkResult> {
  const entries = planOf(plan.lines);
  const tooWide = entries.find((e) => e.ops.length > MAX_PREPARE_OPS);
  if (tooWide) {
    throw new ValidationFailed([
      {
        field: "items",
        in: "body",
        message: `at most ${MAX_PREPARE_OPS} locations per product in one operation`,
      },
    ]);
  }
  const requestHash = await digest({ source: plan.source, reason: plan.reason, entries });
  const actorId = ctx.actor.id ?? null;
  if (plan.idempotencyKey) {
    const replay = await priorOperation(ctx.db, plan, actorId, requestHash);
    if (replay) return replay;
  }
  const txId = uuidv7();
  try {
    await ctx.db.insert(bulkOperations).values({
      id: txId,
      shopId: plan.shopId,
      source: plan.source,
      state: "preparing",
      idempotencyKey: plan.idempotencyKey ?? null,
      requestHash,
      actorId,
      requestId: ctx.actor.requestId ?? null,
      reason: plan.reason,
      plan: entries,
      expiresAt: new Date(Date.now() + BULK_PREPARE_TTL_MS),
    });
  } catch (err) {
    if (isUniqueViolation(err, "bulk_operations_idempotency_key")) {
      throw new Conflict("A request with this Idempotency-Key is still being processed.");
    }
    throw err;
  }

  const prepared = await inParallel<BulkPlanEntry, PrepareResult>(entries, async (e) =>
    stockOf(ctx.stock, e.productId).prepare({
      productId: e.productId,
      shopId: plan.shopId,
      txId,
      ops: e.ops,
      ttlMs: BULK_PREPARE_TTL_MS,
      reason: plan.reason,
      actor: ctx.actor,
    }),
  );
  const refused = refusedLines(plan, entries, prepared);
  if (refused.length > 0) {
    const error = refusalError(refused);
    await setState(ctx.db, txId, "preparing", "aborted", errorOutcome(error));
    await abortAll(ctx, txId, entries);
    throw error;
  }
  if (!(await setState(ctx.db, txId, "preparing", "committing"))) {
    // A re-drive judged this coordinator dead and aborted it; honour that decision.
    await abortAll(ctx, txId, entries);
    throw new Conflict("The operation was aborted while it was being prepared; nothing changed.");
  }
  const op = await loadOperation(ctx.db, txId);
  const outcome = await driveCommit(ctx, op);
  if (outcome.state === "committing") {
    throw new ServiceUnavailable(
      `Bulk operation ${txId} was decided but not every product confirmed; it will be completed.`,
    );
  }
  if (outcome.state === "failed") {
    throw new Conflict(
      `Bulk operation ${txId} expired before every product committed; what did apply was undone.`,
      { operationId: txId },
    );
  }
  return outcome.result;
}

async function priorOperation(
  db: Database,
  plan: BulkPlan,
  actorId: string | null,
  requestHash: string,
): Promise<BulkResult | null> {
  const [prior] = await db
    .select()
    .from(bulkOperations)
    .where(
      and(
        eq(bulkOperations.shopId, plan.shopId),
        actorId ? eq(bulkOperations.actorId, actorId) : isNull(bulkOperations.actorId),
        eq(bulkOperations.idempotencyKey, plan.idempotencyKey ?? ""),
      ),
    );
  if (!prior) return null;
  if (prior.requestHash !== requestHash) {
    throw new DomainError(
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was used for a different request.",
    );
  }
  if (prior.state === "committed") return prior.outcome as BulkResult;
  if (prior.state === "aborted" || prior.state === "failed") {
    const o = prior.outcome as { code?: string; message?: string; details?: object } | null;
    if (o?.code === "INSUFFICIENT_STOCK") {
      throw new InsufficientStock(o.message ?? "Insufficient stock.", { ...o.details });
    }
    throw new Conflict(o?.message ?? `Bulk operation ${prior.id} did not apply.`, {
      state: prior.state,
    });
  }
  throw new Conflict("A request with this Idempotency-Key is still being processed.");
}

function refusedLines(
  plan: BulkPlan,
  entries: BulkPlanEntry[],
  prepared: Settled<PrepareResult>[],
): RefusedLine[] {
  const indexOf = new Map(plan.lines.map((l, i) => [`${l.productId}/${l.locationId}`, i]));
  const line = (productId: string, locationId: string, rest: Omit<RefusedLine, "index">) => {
    const index = indexOf.get(`${productId}/${locationId}`) ?? -1;
    const row = plan.rowOf ? { row: plan.rowOf(index) } : {};
    return { index, ...row, ...rest };
  };
  const refused: RefusedLine[] = [];
  entries.forEach((entry, i) => {
    const r = prepared[i];
    if (!r) return;
    if (r.ok && r.value.ok) return;
    if (r.ok && !r.value.ok && r.value.code === "INSUFFICIENT_STOCK") {
      for (const s of r.value.shortages) {
        refused.push(
          line(entry.productId, s.locationId, {
            productId: entry.productId,
            locationId: s.locationId,
            available: s.available,
            requested: s.requested,
            reason: `only ${s.available} available, ${s.requested} needed`,
          }),
        );
      }
      return;
    }
    const reason = r.ok && !r.value.ok ? r.value.message : r.ok ? "refused" : r.error;
    for (const op of entry.ops) {
      refused.push(
        line(entry.productId, op.locationId, {
          productId: entry.productId,
          locationId: op.locationId,
          available: null,
          requested: null,
          reason,
        }),
      );
    }
  });
  return refused.sort((a, b) => a.index - b.index);
}

function refusalError(refused: RefusedLine[]): DomainError {
  const stockOnly = refused.every((l) => l.available !== null);
  const message = `${refused.length} line(s) could not be applied; nothing changed.`;
  return stockOnly
    ? new InsufficientStock(message, { lines: refused })
    : new Conflict(message, { lines: refused });
}

function errorOutcome(error: DomainError) {
  return { code: error.code, message: error.message, details: error.details };
}

/** Compare-and-set of the operation's state; false when another actor moved it first. */
async function setState(
  db: Database,
  id: string,
  from: BulkOperation["state"],
  to: BulkOperation["state"],
  outcome?: unknown,
): Promise<boolean> {
  const rows = await db
    .update(bulkOperations)
    .set({ state: to, updatedAt: new Date(), ...(outcome === undefined ? {} : { outcome }) })
    .where(and(eq(bulkOperations.id, id), eq(bulkOperations.state, from)))
    .returning({ id: bulkOperations.id });
  return rows.length > 0;
}

async function loadOperation(db: Database, id: string): Promise<BulkOperation> {
  const [op] = await db.select().from(bulkOperations).where(eq(bulkOperations.id, id));
  if (!op) throw new Error(`bulk operation ${id} vanished`);
  return op;
}

async function abortAll(
  deps: Pick<CoordinatorDeps, "stock" | "logger">,
  txId: string,
  entries: BulkPlanEntry[],
): Promise<void> {
  const aborted = await inParallel<BulkPlanEntry, AbortPreparedResult>(entries, async (e) =>
    stockOf(deps.stock, e.productId).abortPrepared({ txId }),
  );
  const stuck = aborted.filter((a) => !a.ok);
  // An abort that did not arrive is covered by the hold's expiry; say so, do not fail.
  if (stuck.length > 0) {
    deps.logger.warn("some aborts did not arrive; their holds expire by TTL", {
      txId,
      failed: stuck.length,
    });
  }
}

type DriveOutcome =
  | { state: "committed"; result: BulkResult }
  | { state: "committing" }
  | { state: "failed" };

/**
 * Phase two of a decided (`committing`) operation: commits every object (idempotent by txId),
 * then marks it `committed`. An object that could not be reached leaves it `committing` for
 * the next re-drive. An object whose prepare expired or was aborted means the decision can no
 * longer hold everywhere: the objects that committed are compensated with an undo and the
 * operation is marked `failed`.
 */
async function driveCommit(deps: CoordinatorDeps, op: BulkOperation): Promise<DriveOutcome> {
  const entries = op.plan;
  const committed = await inParallel<BulkPlanEntry, CommitPreparedResult>(entries, async (e) =>
    stockOf(deps.stock, e.productId).commitPrepared({ txId: op.id, actor: deps.actor }),
  );
  const done: Array<{ productId: string; movements: Movement[] }> = [];
  const lost: string[] = [];
  const unreachable: string[] = [];
  committed.forEach((c: Settled<CommitPreparedResult>, i) => {
    const productId = entries[i]?.productId ?? "";
    if (!c.ok) unreachable.push(productId);
    else if (c.value.ok) done.push({ productId, movements: c.value.movements });
    else lost.push(productId);
  });
  if (unreachable.length > 0 && lost.length === 0) {
    await deps.db
      .update(bulkOperations)
      .set({ updatedAt: new Date() })
      .where(eq(bulkOperations.id, op.id));
    deps.logger.warn("bulk commit incomplete; a re-drive will finish it", {
      txId: op.id,
      unreachable,
    });
    return { state: "committing" };
  }
  if (lost.length > 0) {
    // The unreachable ones may or may not have committed: abort them, and if one answers that
    // it had committed, fetch its movements (a replayed commit) so they are compensated too.
    for (const productId of unreachable) {
      const stub = stockOf(deps.stock, productId);
      const aborted = await stub.abortPrepared({ txId: op.id }).catch(() => null);
      if (aborted && !aborted.ok && aborted.reason === "PREPARE_COMMITTED") {
        const replay = await stub.commitPrepared({ txId: op.id }).catch(() => null);
        if (replay?.ok) done.push({ productId, movements: replay.movements });
      }
    }
    const compensation = await compensate(deps, op, done);
    await setState(deps.db, op.id, "committing", "failed", {
      code: "CONFLICT",
      message: `Bulk operation ${op.id} expired before every product committed; compensated.`,
      details: { lost, ...compensation },
    });
    deps.logger.error("bulk operation failed after its decision; compensated", {
      txId: op.id,
      lost,
      ...compensation,
    });
    return { state: "failed" };
  }
  const movements = done.flatMap((d) => d.movements);
  const result: BulkResult = {
    operationId: op.id,
    state: "committed",
    lines: entries.reduce((n, e) => n + e.ops.length, 0),
    products: entries.length,
    movements: movements.map(movementView),
  };
  await setState(deps.db, op.id, "committing", "committed", result);
  await rememberOwners(deps.db, deps.logger, done);
  await afterManyMovements(deps, done);
  if (deps.cache) await forgetAvailability(deps.cache, ...done.map((d) => d.productId));
  return { state: "committed", result };
}

async function compensate(
  deps: CoordinatorDeps,
  op: BulkOperation,
  done: Array<{ productId: string; movements: Movement[] }>,
): Promise<{ compensated: string[]; uncompensated: string[] }> {
  const compensated: string[] = [];
  const uncompensated: string[] = [];
  for (const d of done) {
    for (const m of d.movements) {
      const undone = await stockOf(deps.stock, d.productId)
        .undo({
          productId: d.productId,
          shopId: op.shopId,
          movementId: m.id,
          key: `bulk-compensate:${m.id}`,
          reason: `bulk operation ${op.id} failed after its decision`,
          actor: { type: "system" },
        })
        .catch(() => null);
      if (undone?.ok) compensated.push(m.id);
      else uncompensated.push(m.id);
    }
  }
  return { compensated, uncompensated };
}

/**
 * Finishes operations whose coordinator went quiet (for a cron every minute). `committing` ones
 * untouched for `olderThanMs` are committed (a live but slow coordinator committing alongside
 * is harmless: commits are idempotent). `preparing` ones are aborted only once their holds'
 * expiry has passed: no decision was made, so nothing may apply, and a coordinator still busy
 * preparing a large import is never cut off. `ids` limits it to those operations. Returns what
 * it did per operation.
 */
export async function redriveBulkOperations(
  deps: ServiceContext,
  opts: { olderThanMs?: number; limit?: number; ids?: string[] } = {},
): Promise<Array<{ id: string; state: string }>> {
  const cutoff = new Date(Date.now() - (opts.olderThanMs ?? REDRIVE_AFTER_MS));
  const stale = await deps.db
    .select()
    .from(bulkOperations)
    .where(
      and(
        or(
          and(eq(bulkOperations.state, "committing"), lt(bulkOperations.updatedAt, cutoff)),
          and(eq(bulkOperations.state, "preparing"), lt(bulkOperations.expiresAt, new Date())),
        ),
        opts.ids ? inArray(bulkOperations.id, opts.ids) : undefined,
      ),
    )
    .orderBy(bulkOperations.updatedAt)
    .limit(opts.limit ?? 20);
  const report: Array<{ id: string; state: string }> = [];
  const actor: Actor = { type: "system", id: null, requestId: `redrive:${uuidv7()}` };
  for (const op of stale) {
    if (op.state === "preparing") {
      const outcome = {
        code: "CONFLICT",
        message: "The coordinator stopped before deciding; nothing was applied.",
      };
      if (await setState(deps.db, op.id, "preparing", "aborted", outcome)) {
        await abortAll(deps, op.id, op.plan);
        report.push({ id: op.id, state: "aborted" });
      }
      continue;
    }
    // derive, not a spread: a job's context holds db and the bindings on its prototype.
    const outcome = await driveCommit(derive(deps, { actor }), op);
    report.push({ id: op.id, state: outcome.state });
  }
  return report;
}
