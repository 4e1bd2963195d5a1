import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../../http/app.ts";
import { requireAuth } from "../../../http/middleware/auth.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { acknowledgeStockAlert, listStockAlerts } from "../../../services/inventory/alerts.ts";
import {
  BULK_PREPARE_TTL_MS,
  bulkAdjustStock,
  bulkInput,
  MAX_BULK_ITEMS,
} from "../../../services/inventory/bulk.ts";
import { undoBulkOperation } from "../../../services/inventory/bulk-undo.ts";
import { listMovements, undoInput, undoMovement } from "../../../services/inventory/movements.ts";
import {
  adjustmentShape,
  adjustStock,
  getProductStock,
} from "../../../services/inventory/stock.ts";
import { bearer, IdParam, json, ok, problems } from "../../schemas.ts";
import {
  IdempotencyHeaders,
  MovementKindSchema,
  MovementPageSchema,
  named,
  ProductStockSchema,
  ShopIdQuery,
  StockMovementSchema,
} from "./schema.ts";

const base = { tags: ["inventory"], security: bearer, middleware: [requireAuth] };
const writers =
  "Owner and manager of the product's shop; staff get 403 (they file stock requests); " +
  "anyone else 404, as if the product did not exist.";

const AdjustmentResultSchema = z
  .object({
    movement: StockMovementSchema,
    thresholdMovement: StockMovementSchema.nullable().openapi({
      description: "The threshold change, when the request set one that differed.",
    }),
    replayed: z.boolean().openapi({
      description: "True when the Idempotency-Key was seen before: nothing changed this time.",
    }),
  })
  .openapi("StockAdjustment");

const BulkResultSchema = z
  .object({
    operationId: z.uuid(),
    state: z.literal("committed"),
    lines: z.number().int(),
    products: z.number().int(),
    movements: z.array(StockMovementSchema),
  })
  .openapi("BulkStockResult");

const AlertSchema = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    sku: z.string(),
    title: z.string(),
    locationId: z.uuid(),
    locationCode: z.string().nullable(),
    locationName: z.string().nullable(),
    kind: z.enum(["low_stock", "out_of_stock"]).openapi({
      description:
        "`out_of_stock`: nothing was available when it was raised (raised at 0 even with no " +
        "threshold); `low_stock`: available fell to the threshold.",
    }),
    threshold: z.number().int().nullable(),
    availableAtRaise: z.number().int(),
    raisedAt: z.iso.datetime(),
    raisedMovementId: z.uuid(),
    clearedAt: z.iso.datetime().nullable(),
    clearedMovementId: z.uuid().nullable(),
    acknowledgedAt: z.iso.datetime().nullable(),
  })
  .openapi("StockAlert");

const limit = (max: number, dflt: number) =>
  z.coerce.number().int().min(1).max(max).default(dflt).openapi({ example: dflt });
const cursor = z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." });

const MovementQuery = z.object({
  shopId: ShopIdQuery.optional().openapi({
    description: "The shop; may be left out when `productId` is given.",
  }),
  productId: z.uuid().optional(),
  locationId: z.uuid().optional(),
  kind: MovementKindSchema.optional(),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Applied at or after (ISO 8601)." }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: "Applied before." }),
  limit: limit(100, 50),
  cursor,
});

const AlertQuery = z.object({
  shopId: ShopIdQuery,
  productId: z.uuid().optional(),
  state: z
    .enum(["open", "all"])
    .default("open")
    .openapi({ description: "`open` (default): not yet cleared." }),
  acknowledged: z.enum(["false", "true", "all"]).default("false").openapi({
    description: "`false` (default): not acknowledged; `true`: only acknowledged; `all`: both.",
  }),
  limit: limit(100, 20),
  cursor,
});

const getStock = createRoute({
  ...base,
  method: "get",
  path: "/{id}/stock",
  summary: "A product's stock per location, from its stock object (owner, manager, staff)",
  description:
    "Every live location of the shop is listed (zeros where nothing was stocked). Anyone not " +
    "in the product's shop gets 404.",
  request: { params: IdParam },
  responses: { 200: ok("The levels", ProductStockSchema), ...problems(401, 404, 422) },
});

const adjust = createRoute({
  ...base,
  method: "post",
  path: "/{id}/stock/adjustments",
  summary: "Change on hand at one location: a signed delta or a counted set",
  description:
    `${writers} Refused with 409 INSUFFICIENT_STOCK when on hand would drop below what ` +
    "buyers have reserved (then nothing changes). `threshold` also sets the location's " +
    "low-stock threshold (`null` removes it). Crossing the threshold downward opens a " +
    "low-stock alert, and reaching 0 available opens an out-of-stock alert even with no " +
    "threshold; either notifies the shop's owners and managers.",
  request: {
    params: IdParam,
    headers: IdempotencyHeaders,
    body: json(named(adjustmentShape, "StockAdjustmentInput")),
  },
  responses: {
    201: ok("The movement", AdjustmentResultSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const bulk = createRoute({
  ...base,
  method: "post",
  path: "/bulk",
  summary: "Change many products and locations, all or nothing",
  description:
    `${writers} Up to ${MAX_BULK_ITEMS} lines, one per product and location. Two-phase: ` +
    "every product's stock object prepares (checks and holds what decreases take), then all " +
    "commit; any refusal aborts every one and answers 409 INSUFFICIENT_STOCK with `lines` " +
    "naming every refused line, and nothing changes. A coordinator that dies between the " +
    `phases leaves holds that expire by themselves after ${BULK_PREPARE_TTL_MS / 60_000} min.`,
  request: { headers: IdempotencyHeaders, body: json(named(bulkInput, "BulkStockInput")) },
  responses: {
    200: ok("Applied", BulkResultSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const undoBulk = createRoute({
  ...base,
  method: "post",
  path: "/bulk/{operationId}/undo",
  summary: "Undo a committed bulk operation as one operation, all or nothing",
  description:
    "Owner and manager of the operation's shop; staff get 403; anyone else 404. Reverses " +
    "every line (the negated on-hand change of each of its movements) as a new bulk " +
    "operation, two-phase like the original: when a line can no longer be reversed (what it " +
    "added was sold or reserved since), nothing is undone and the answer is 409 " +
    "INSUFFICIENT_STOCK with `lines` naming each such line. An operation is undone once: a " +
    "second undo answers 409 CONFLICT (reason ALREADY_UNDONE, `undoneBy`), except a repeat " +
    "of the same Idempotency-Key by the same user, which returns the first undo's result. " +
    "Only `committed` operations can be undone (409 otherwise). Audited.",
  request: {
    params: z.object({
      operationId: z.uuid().openapi({ param: { name: "operationId", in: "path" } }),
    }),
    headers: IdempotencyHeaders,
  },
  responses: {
    200: ok("The undo's own bulk operation", BulkResultSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const movements = createRoute({
  ...base,
  method: "get",
  path: "/movements",
  summary: "Stock movements from the Postgres mirror, newest first (owner, manager, staff)",
  description:
    "The mirror is written behind by each product's stock object, usually within a second; " +
    "`pendingMirror` in the product's stock view says how many are still on their way.",
  request: { query: MovementQuery },
  responses: { 200: ok("A page of movements", MovementPageSchema), ...problems(401, 404, 422) },
});

const undo = createRoute({
  ...base,
  method: "post",
  path: "/movements/{id}/undo",
  summary: "Undo an adjust, set or bulk movement with a compensating movement",
  description:
    `${writers} A second undo answers 409 CONFLICT (reason ALREADY_UNDONE); other kinds ` +
    "(reservations, holds, undos) 409 NOT_UNDOABLE; an undo that would leave less on hand than " +
    "is reserved 409 INSUFFICIENT_STOCK. The movement must be in the mirror (listed).",
  request: {
    params: IdParam,
    headers: IdempotencyHeaders,
    body: {
      content: { "application/json": { schema: named(undoInput, "StockUndoInput") } },
      required: false,
    },
  },
  responses: {
    201: ok(
      "The compensating movement",
      z.object({ movement: StockMovementSchema, replayed: z.boolean() }).openapi("StockUndo"),
    ),
    ...problems(401, 403, 404, 409, 422),
  },
});

const alerts = createRoute({
  ...base,
  method: "get",
  path: "/alerts",
  summary: "A shop's low-stock alerts, open unacknowledged ones by default (owner, manager, staff)",
  request: { query: AlertQuery },
  responses: {
    200: ok(
      "A page of alerts",
      z
        .object({ items: z.array(AlertSchema), nextCursor: z.string().nullable() })
        .openapi("StockAlertPage"),
    ),
    ...problems(401, 404, 422),
  },
});

const acknowledge = createRoute({
  ...base,
  method: "post",
  path: "/alerts/{id}/acknowledge",
  summary: "Acknowledge a low-stock alert (owner, manager)",
  description:
    "Owner and manager of the alert's shop; staff get 403; anyone else 404. The alert leaves " +
    "the default list (`acknowledged=true` or `all` shows it) and stays open until stock " +
    "recovers. Audited. A second acknowledgement answers 409 CONFLICT.",
  request: { params: IdParam },
  responses: {
    200: ok("The acknowledged alert", AlertSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

/** `/v1/seller/products/{id}/stock…`: one product's levels and adjustments. */
export const productStockRoutes = createRouter()
  .openapi(getStock, async (c) =>
    c.json(await getProductStock(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(adjust, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    const result = await adjustStock(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("param").id,
      c.req.valid("json"),
      key,
    );
    return c.json(result, 201);
  });

/** `/v1/seller/stock`: bulk changes, the movement history, undo and low-stock alerts. */
export const stockRoutes = createRouter()
  .openapi(bulk, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    return c.json(
      await bulkAdjustStock(serviceContext(c), c.var.user.id, c.req.valid("json"), key),
      200,
    );
  })
  .openapi(undoBulk, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    const { operationId } = c.req.valid("param");
    return c.json(await undoBulkOperation(serviceContext(c), c.var.user.id, operationId, key), 200);
  })
  .openapi(movements, async (c) =>
    c.json(await listMovements(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(undo, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    const result = await undoMovement(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("param").id,
      c.req.valid("json"),
      key,
    );
    return c.json(result, 201);
  })
  .openapi(alerts, async (c) =>
    c.json(await listStockAlerts(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(acknowledge, async (c) =>
    c.json(
      await acknowledgeStockAlert(serviceContext(c), c.var.user.id, c.req.valid("param").id),
      200,
    ),
  );
