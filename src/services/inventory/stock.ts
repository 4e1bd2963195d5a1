import { z } from "zod";
import { MAX_QUANTITY, refusalToError } from "../../../durable-objects/product-stock/types.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { requireProduct, shopLocationsOf } from "./access.ts";
import { afterMovements } from "./alerts.ts";
import { forgetAvailability } from "./availability.ts";
import { rememberOwners } from "./owners.ts";
import { locationStock, type MovementView, movementView, type ProductStockView } from "./views.ts";

export const quantityRule = {
  check: (v: { mode: "delta" | "set"; quantity: number }) =>
    v.mode === "delta" ? v.quantity !== 0 : v.quantity >= 0,
  message: "a delta must not be zero; a set quantity must not be negative",
  /** The same rule as JSON Schema, for the document. */
  schema: {
    if: { properties: { mode: { const: "delta" } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited.
    then: { properties: { quantity: { not: { const: 0 } } } },
    else: { properties: { quantity: { minimum: 0 } } },
  },
};

export const reasonField = text().trim().min(1).max(500);

export const adjustmentShape = z
  .object({
    locationId: z.uuid(),
    mode: z.enum(["delta", "set"]),
    /** `delta`: a signed change of on hand, not zero. `set`: the counted quantity, zero or more. */
    quantity: z.int().min(-MAX_QUANTITY).max(MAX_QUANTITY),
    reason: reasonField,
    /** Also sets the location's low-stock threshold; `null` removes it. */
    threshold: z.int().min(0).max(MAX_QUANTITY).nullable().optional(),
  })
  .meta(quantityRule.schema);

export const adjustmentInput = adjustmentShape.refine(quantityRule.check, {
  message: quantityRule.message,
  path: ["quantity"],
});

export interface AdjustmentResult {
  movement: MovementView;
  /** The `threshold` movement when the request changed the threshold, else null. */
  thresholdMovement: MovementView | null;
  /** True when the Idempotency-Key was seen before: nothing new happened. */
  replayed: boolean;
}

/**
 * A location's levels for one product, from its object, for any member of the shop (staff
 * included). Every live location of the shop is listed, zeros where nothing was stocked.
 */
export async function getProductStock(
  ctx: ServiceContext,
  userId: string,
  productId: string,
): Promise<ProductStockView> {
  const scope = await requireProduct(ctx.db, { productId, userId, permission: "stock.read" });
  const [snapshot, locations] = await Promise.all([
    stockOf(ctx.stock, productId).snapshot(),
    shopLocationsOf(ctx.db, scope.shopId),
  ]);
  const rows = locationStock(locations, snapshot.locations);
  const totals = rows.reduce(
    (t, l) => ({
      onHand: t.onHand + l.onHand,
      reserved: t.reserved + l.reserved,
      available: t.available + l.available,
    }),
    { onHand: 0, reserved: 0, available: 0 },
  );
  return {
    productId,
    shopId: scope.shopId,
    sku: scope.sku,
    locations: rows,
    totals,
    sequence: snapshot.sequence,
    pendingMirror: snapshot.pendingOutbox,
  };
}

/**
 * Changes on hand at one location (owner, manager): a signed `delta` or a counted `set`, with
 * a reason, optionally setting the threshold too. The object refuses (INSUFFICIENT_STOCK) when
 * on hand would drop below what buyers hold, and then nothing changes, the threshold included.
 * Idempotent by `idempotencyKey` (a fresh key when none is given). The audit row is written by
 * the object's outbox flush, one per movement, so none is written here.
 */
export async function adjustStock(
  ctx: ServiceContext,
  userId: string,
  productId: string,
  raw: z.input<typeof adjustmentInput>,
  idempotencyKey?: string,
): Promise<AdjustmentResult> {
  const input = parseOr422(adjustmentInput, raw);
  const scope = await requireProduct(ctx.db, {
    productId,
    userId,
    permission: "stock.write",
    locationId: input.locationId,
  });
  const stub = stockOf(ctx.stock, productId);
  const target = { productId, shopId: scope.shopId, locationId: input.locationId };
  const result = await stub.adjust({
    ...target,
    mode: input.mode,
    quantity: input.quantity,
    reason: input.reason,
    actor: ctx.actor,
    key: idempotencyKey ? `adjust:${userId}:${idempotencyKey}` : `adjust:${uuidv7()}`,
  });
  if (!result.ok) throw refusalToError(result);
  const movements = [result.movement];
  let thresholdMovement: MovementView | null = null;
  if (input.threshold !== undefined) {
    const set = await stub.setThreshold({
      ...target,
      threshold: input.threshold,
      actor: ctx.actor,
    });
    if (set.movement) {
      movements.push(set.movement);
      thresholdMovement = movementView(set.movement);
    }
  }
  await rememberOwners(ctx.db, ctx.logger, [{ productId, movements }]);
  await afterMovements(ctx, stub, productId, movements);
  await forgetAvailability(ctx.cache, productId);
  return { movement: movementView(result.movement), thresholdMovement, replayed: result.replayed };
}
