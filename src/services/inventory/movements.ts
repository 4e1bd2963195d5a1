import { and, desc, eq, gte, lt } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { refusalToError } from "../../../durable-objects/product-stock/types.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { MOVEMENT_KINDS, stockMovements } from "../../db/schema/stock.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { requireProduct } from "./access.ts";
import { afterMovements } from "./alerts.ts";
import { forgetAvailability } from "./availability.ts";
import { ownerOf } from "./owners.ts";
import { reasonField } from "./stock.ts";
import { type MovementView, mirrorMovementView, movementView } from "./views.ts";

export const movementListQuery = z
  .object({
    shopId: z.uuid().optional(),
    productId: z.uuid().optional(),
    locationId: z.uuid().optional(),
    kind: z.enum(MOVEMENT_KINDS).optional(),
    /** Inclusive lower bound on when the object applied the movement. */
    from: z.coerce.date().optional(),
    /** Exclusive upper bound. */
    to: z.coerce.date().optional(),
    limit: z.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(512).optional(),
  })
  .refine((q) => q.shopId !== undefined || q.productId !== undefined, {
    message: "give shopId, or productId to list one product's movements",
    path: ["shopId"],
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, {
    message: "must be after `from`",
    path: ["to"],
  });

const undoneBy = alias(stockMovements, "undone_by");

/**
 * Movements from the Postgres mirror, newest first, for any member of the shop. The mirror is
 * written behind by each object's outbox, so a movement made a moment ago may not be listed
 * yet (the product's stock view says how many are pending).
 */
export async function listMovements(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof movementListQuery>,
): Promise<Page<MovementView>> {
  const q = parseOr422(movementListQuery, raw, "query");
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  if (q.productId) {
    const scope = await requireProduct(ctx.db, {
      productId: q.productId,
      userId,
      permission: "stock.read",
    });
    // Another shop's product, named with this shop: as unknown as any other.
    if (q.shopId && q.shopId !== scope.shopId) throw new NotFound("product", q.productId);
  } else if (q.shopId) {
    await requireShopPermission(ctx.db, q.shopId, userId, "stock.read");
  }
  const m = stockMovements;
  const rows = await ctx.db
    .select({ movement: m, undoneBySequence: undoneBy.sequence })
    .from(m)
    .leftJoin(
      undoneBy,
      and(eq(undoneBy.productId, m.productId), eq(undoneBy.undoesSequence, m.sequence)),
    )
    .where(
      and(
        q.productId ? eq(m.productId, q.productId) : eq(m.shopId, q.shopId ?? ""),
        q.locationId ? eq(m.locationId, q.locationId) : undefined,
        q.kind ? eq(m.kind, q.kind) : undefined,
        q.from ? gte(m.createdAt, q.from) : undefined,
        q.to ? lt(m.createdAt, q.to) : undefined,
        after ? lt(m.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(m.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.movement.id }));
  return {
    items: page.items.map((r) => mirrorMovementView(r.movement, r.undoneBySequence)),
    nextCursor: page.nextCursor,
  };
}

export const undoInput = z.object({ reason: reasonField.optional() });

/**
 * Compensates an `adjust`, `set` or `bulk` movement (owner, manager) with the opposite delta.
 * The object that owns the movement decides, not the mirror (which its outbox fills later, so
 * an undo right after the change would not find it there): the owner noted when the movement
 * was made says which object to ask. The object refuses an unknown movement (404), a second
 * undo (409 CONFLICT, ALREADY_UNDONE), other kinds (NOT_UNDOABLE) and an undo that would leave
 * less on hand than is reserved (409 INSUFFICIENT_STOCK).
 */
export async function undoMovement(
  ctx: ServiceContext,
  userId: string,
  movementId: string,
  raw: z.input<typeof undoInput>,
  idempotencyKey?: string,
): Promise<{ movement: MovementView; replayed: boolean }> {
  const input = parseOr422(undoInput, raw);
  const productId = await ownerOf(ctx.db, movementId);
  if (!productId) throw new NotFound("stock movement", movementId);
  const target = { productId };
  let shopId: string;
  try {
    ({ shopId } = await requireProduct(ctx.db, {
      productId: target.productId,
      userId,
      permission: "stock.write",
    }));
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") {
      throw new NotFound("stock movement", movementId);
    }
    throw err;
  }
  const stub = stockOf(ctx.stock, target.productId);
  const result = await stub.undo({
    productId: target.productId,
    shopId,
    movementId,
    key: idempotencyKey ? `undo:${userId}:${idempotencyKey}` : `undo:${uuidv7()}`,
    reason: input.reason,
    actor: ctx.actor,
  });
  if (!result.ok) throw refusalToError(result);
  await afterMovements(ctx, stub, target.productId, [result.movement]);
  await forgetAvailability(ctx.cache, target.productId);
  return { movement: movementView(result.movement), replayed: result.replayed };
}
