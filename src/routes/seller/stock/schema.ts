import { z } from "@hono/zod-openapi";
import { MOVEMENT_KINDS } from "../../../db/schema/stock.ts";
import { idempotencyKeyHeader } from "../../schemas.ts";

export { named } from "../../schemas.ts";

export const IdempotencyHeaders = idempotencyKeyHeader(
  "The same key (per user) with the same body returns the first result again instead of " +
    "changing stock twice; with another body it answers 422 IDEMPOTENCY_KEY_REUSED. Without " +
    "one, every request is a new change.",
);

export const ShopIdQuery = z.uuid().openapi({ description: "The shop." });

export const StockMovementSchema = z
  .object({
    id: z.uuid(),
    sequence: z.number().int().openapi({ description: "Gapless per product: 1, 2, 3 …" }),
    productId: z.uuid(),
    shopId: z.uuid().nullable(),
    locationId: z.uuid(),
    kind: z.enum(MOVEMENT_KINDS),
    deltaOnHand: z.number().int(),
    deltaReserved: z.number().int(),
    onHandAfter: z.number().int(),
    reservedAfter: z.number().int(),
    availableAfter: z.number().int(),
    threshold: z.number().int().nullable(),
    low: z.boolean(),
    alert: z
      .enum(["raised", "cleared"])
      .nullable()
      .openapi({
        description:
          "Set when this movement crossed the low-stock threshold or took available to 0 " +
          "(`raised`), or brought it back above both (`cleared`).",
      }),
    reason: z.string().nullable(),
    actor: z.object({ type: z.enum(["user", "system", "stripe"]), id: z.uuid().nullable() }),
    reservationId: z.uuid().nullable(),
    txId: z.string().nullable(),
    undoesSequence: z.number().int().nullable(),
    undoneBySequence: z.number().int().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("StockMovement");

export const MovementPageSchema = z
  .object({ items: z.array(StockMovementSchema), nextCursor: z.string().nullable() })
  .openapi("StockMovementPage");

export const LocationStockSchema = z
  .object({
    locationId: z.uuid(),
    code: z.string().nullable().openapi({ description: "Null for a since-deleted location." }),
    name: z.string().nullable(),
    kind: z.enum(["warehouse", "branch"]).nullable(),
    onHand: z.number().int(),
    reserved: z.number().int(),
    available: z.number().int().openapi({ description: "on hand − reserved" }),
    threshold: z.number().int().nullable(),
    low: z.boolean().openapi({ description: "available ≤ threshold" }),
  })
  .openapi("LocationStock");

export const ProductStockSchema = z
  .object({
    productId: z.uuid(),
    shopId: z.uuid(),
    sku: z.string(),
    locations: z.array(LocationStockSchema),
    totals: z.object({
      onHand: z.number().int(),
      reserved: z.number().int(),
      available: z.number().int(),
    }),
    sequence: z.number().int(),
    pendingMirror: z.number().int().openapi({
      description: "Movements not yet in the Postgres mirror that the movement list reads.",
    }),
  })
  .openapi("ProductStock");

export const MovementKindSchema = z.enum(MOVEMENT_KINDS);
