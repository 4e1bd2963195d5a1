/**
 * Stock requests: staff may read stock but never change it; they file a request, and an owner
 * or manager approves (the adjustment is applied through the object) or rejects it.
 */
import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { MAX_QUANTITY, refusalToError } from "../../../durable-objects/product-stock/types.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { type StockRequest, stockRequestStatus, stockRequests } from "../../db/schema/inventory.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { requireShopPermission } from "../shops/access.ts";
import { requireProduct, shopManagers } from "./access.ts";
import { afterMovements } from "./alerts.ts";
import { forgetAvailability } from "./availability.ts";
import { noteOwners } from "./owners.ts";
import { reasonField } from "./stock.ts";
import { type MovementView, movementView } from "./views.ts";

export const createRequestInput = z.object({
  productId: z.uuid(),
  locationId: z.uuid(),
  /** The signed change of on hand the requester asks for; not zero. */
  delta: z
    .int()
    .min(-MAX_QUANTITY)
    .max(MAX_QUANTITY)
    .refine((d) => d !== 0, "must not be zero")
    .meta({ not: { const: 0 } }),
  reason: reasonField,
});

export const requestListQuery = z.object({
  shopId: z.uuid(),
  status: z.enum(stockRequestStatus.enumValues).optional(),
  productId: z.uuid().optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

const note = text().trim().min(1).max(1000);
export const decisionInput = z.object({ note: note.optional() });

export const MAX_REVIEW_IDS = 100;
export const reviewInput = z
  .object({
    approve: z.array(z.uuid()).max(MAX_REVIEW_IDS).default([]),
    reject: z.array(z.uuid()).max(MAX_REVIEW_IDS).default([]),
    note: note.optional(),
  })
  .refine((r) => r.approve.length + r.reject.length > 0, {
    message: "name at least one request to approve or reject",
    path: ["approve"],
  })
  .refine((r) => r.approve.length + r.reject.length <= MAX_REVIEW_IDS, {
    message: `at most ${MAX_REVIEW_IDS} requests per review`,
    path: ["approve"],
  })
  .refine((r) => new Set([...r.approve, ...r.reject]).size === r.approve.length + r.reject.length, {
    message: "a request may appear only once across approve and reject",
    path: ["reject"],
  });

export interface StockRequestView {
  id: string;
  shopId: string;
  productId: string;
  locationId: string;
  delta: number;
  reason: string;
  status: StockRequest["status"];
  requestedBy: string;
  reviewedBy: string | null;
  reviewNote: string | null;
  movementId: string | null;
  movementSequence: number | null;
  createdAt: string;
  reviewedAt: string | null;
}

function view(r: StockRequest): StockRequestView {
  return {
    id: r.id,
    shopId: r.shopId,
    productId: r.productId,
    locationId: r.locationId,
    delta: r.delta,
    reason: r.reason,
    status: r.status,
    requestedBy: r.requestedBy,
    reviewedBy: r.reviewedBy,
    reviewNote: r.reviewNote,
    movementId: r.movementId,
    movementSequence: r.movementSequence,
    createdAt: r.createdAt.toISOString(),
    reviewedAt: r.reviewedAt?.toISOString() ?? null,
  };
}

/**
 * Files a request to change a product's stock at one location (any member of the shop, staff
 * included). Audited; the shop's owners and managers are told it is waiting.
 */
export async function createStockRequest(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof createRequestInput>,
): Promise<StockRequestView> {
  const input = parseOr422(createRequestInput, raw);
  const created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const scope = await requireProduct(tx, {
      productId: input.productId,
      userId,
      permission: "stock.request",
      locationId: input.locationId,
    });
    const [row] = await tx
      .insert(stockRequests)
      .values({
        id: uuidv7(),
        shopId: scope.shopId,
        productId: input.productId,
        locationId: input.locationId,
        delta: input.delta,
        reason: input.reason,
        requestedBy: userId,
      })
      .returning();
    if (!row) throw new Error("insert returned no stock request");
    await audit.record({
      action: "stock_request.created",
      entityType: "stock_request",
      entityId: row.id,
      newValue: view(row),
    });
    return { row, title: scope.title };
  });
  for (const managerId of await shopManagers(ctx.db, created.row.shopId)) {
    if (managerId === userId) continue;
    await notifyAfterCommit(ctx.queue, ctx.logger, {
      userId: managerId,
      kind: "stock.request.created",
      title: `Stock request for ${created.title}`.slice(0, 200),
      body: `A change of ${signed(input.delta)} is waiting for review: ${input.reason}`,
      data: { requestId: created.row.id, productId: input.productId, shopId: created.row.shopId },
      dedupeKey: `stock.request.created:${created.row.id}:${managerId}`,
    });
  }
  return view(created.row);
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** A shop's stock requests, newest first, optionally by status or product; any member. */
export async function listStockRequests(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof requestListQuery>,
): Promise<Page<StockRequestView>> {
  const q = parseOr422(requestListQuery, raw, "query");
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  await requireShopPermission(ctx.db, q.shopId, userId, "stock.request");
  const rows = await ctx.db
    .select()
    .from(stockRequests)
    .where(
      and(
        eq(stockRequests.shopId, q.shopId),
        q.status ? eq(stockRequests.status, q.status) : undefined,
        q.productId ? eq(stockRequests.productId, q.productId) : undefined,
        after ? lt(stockRequests.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(stockRequests.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

export interface ApprovalResult {
  request: StockRequestView;
  movement: MovementView;
}

/**
 * Approves a pending request (owner, manager): the adjustment is applied by the product's
 * object with the request id as its idempotency key, and the request is marked approved with
 * the movement linked and one audit row, all while the request row is locked. A concurrent
 * second approval waits for the lock and then finds it approved (409); an approval retried
 * after a crash between the object and the commit gets the same movement back from the key,
 * never a second one. A refusal (the delta would take on hand below what is reserved) leaves
 * the request pending and answers 409 INSUFFICIENT_STOCK.
 */
export async function approveStockRequest(
  ctx: ServiceContext,
  userId: string,
  requestId: string,
  raw: z.input<typeof decisionInput> = {},
): Promise<ApprovalResult> {
  const input = parseOr422(decisionInput, raw);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const before = await lockPending(tx, userId, requestId);
    const [product] = await tx
      .select({ id: products.id })
      .from(products)
      .where(and(eq(products.id, before.productId), isNull(products.deletedAt)));
    if (!product) {
      throw new Conflict("The product of this request was deleted; reject the request instead.");
    }
    const result = await stockOf(ctx.stock, before.productId).adjust({
      productId: before.productId,
      shopId: before.shopId,
      locationId: before.locationId,
      mode: "delta",
      quantity: before.delta,
      reason: `stock request ${before.id}: ${before.reason}`.slice(0, 500),
      actor: ctx.actor,
      key: `stock-request:${before.id}`,
    });
    if (!result.ok) throw refusalToError(result);
    await noteOwners(tx, [{ productId: before.productId, movements: [result.movement] }]);
    const now = new Date();
    const [after] = await tx
      .update(stockRequests)
      .set({
        status: "approved",
        reviewedBy: userId,
        reviewNote: input.note ?? null,
        reviewedAt: now,
        movementId: result.movement.id,
        movementSequence: result.movement.sequence,
        updatedAt: now,
      })
      .where(eq(stockRequests.id, before.id))
      .returning();
    if (!after) throw new NotFound("stock request", requestId);
    await audit.record({
      action: "stock_request.approved",
      entityType: "stock_request",
      entityId: after.id,
      oldValue: view(before),
      newValue: view(after),
    });
    return { request: after, movement: result.movement };
  });
  const stub = stockOf(ctx.stock, outcome.request.productId);
  await afterMovements(ctx, stub, outcome.request.productId, [outcome.movement]);
  await forgetAvailability(ctx.cache, outcome.request.productId);
  await tellRequester(ctx, outcome.request);
  return { request: view(outcome.request), movement: movementView(outcome.movement) };
}

/** Rejects a pending request (owner, manager); stock is untouched. Audited. */
export async function rejectStockRequest(
  ctx: ServiceContext,
  userId: string,
  requestId: string,
  raw: z.input<typeof decisionInput> = {},
): Promise<StockRequestView> {
  const input = parseOr422(decisionInput, raw);
  const rejected = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const before = await lockPending(tx, userId, requestId);
    const now = new Date();
    const [after] = await tx
      .update(stockRequests)
      .set({
        status: "rejected",
        reviewedBy: userId,
        reviewNote: input.note ?? null,
        reviewedAt: now,
        updatedAt: now,
      })
      .where(eq(stockRequests.id, before.id))
      .returning();
    if (!after) throw new NotFound("stock request", requestId);
    await audit.record({
      action: "stock_request.rejected",
      entityType: "stock_request",
      entityId: after.id,
      oldValue: view(before),
      newValue: view(after),
    });
    return after;
  });
  await tellRequester(ctx, rejected);
  return view(rejected);
}

/** The request, locked, for a reviewer of its shop; must still be pending. */
async function lockPending(tx: Tx, userId: string, requestId: string): Promise<StockRequest> {
  const [row] = await tx
    .select()
    .from(stockRequests)
    .where(eq(stockRequests.id, requestId))
    .for("update");
  if (!row) throw new NotFound("stock request", requestId);
  try {
    await requireShopPermission(tx, row.shopId, userId, "stock.review");
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") {
      throw new NotFound("stock request", requestId);
    }
    throw err;
  }
  if (row.status !== "pending") {
    throw new Conflict(`This stock request was already ${row.status}.`, {
      requestStatus: row.status,
    });
  }
  return row;
}

async function tellRequester(ctx: ServiceContext, r: StockRequest): Promise<void> {
  if (r.requestedBy === r.reviewedBy) return;
  const noteText = r.reviewNote ? ` Note: ${r.reviewNote}` : "";
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: r.requestedBy,
    kind: `stock.request.${r.status}`,
    title: `Your stock request was ${r.status}`,
    body: `Your request to change stock by ${signed(r.delta)} was ${r.status}.${noteText}`,
    data: { requestId: r.id, productId: r.productId, movementId: r.movementId },
    dedupeKey: `stock.request.${r.status}:${r.id}`,
  });
}

export type ReviewOutcome =
  | { id: string; decision: "approve" | "reject"; ok: true; request: StockRequestView }
  | { id: string; decision: "approve" | "reject"; ok: false; code: string; message: string };

/**
 * Approves and rejects many requests in one call (owner, manager). Each is decided on its own,
 * exactly as the single routes would: one that cannot be approved (not enough stock, already
 * decided, unknown) is reported and the others still proceed. Results follow the request order,
 * approvals first.
 */
export async function reviewStockRequests(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof reviewInput>,
): Promise<{ results: ReviewOutcome[] }> {
  const input = parseOr422(reviewInput, raw);
  const decisions = [
    ...input.approve.map((id) => ({ id, decision: "approve" as const })),
    ...input.reject.map((id) => ({ id, decision: "reject" as const })),
  ];
  const results: ReviewOutcome[] = [];
  for (const { id, decision } of decisions) {
    try {
      const request =
        decision === "approve"
          ? (await approveStockRequest(ctx, userId, id, { note: input.note })).request
          : await rejectStockRequest(ctx, userId, id, { note: input.note });
      results.push({ id, decision, ok: true, request });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      results.push({ id, decision, ok: false, code: err.code, message: err.message });
    }
  }
  return { results };
}
