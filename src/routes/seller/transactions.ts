import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  listSales,
  MAX_SALE_QUANTITY,
  recordSale,
  SALE_SOURCES,
  saleListQuery,
  saleShape,
} from "../../services/sales/transactions.ts";
import { bearer, idempotencyKeyHeader, named, ok, problems } from "../schemas.ts";

const base = { tags: ["sales"], security: bearer, middleware: [requireAuth] };
const who =
  "Owners and managers of the shop; staff get 403, anyone else 404 (as if the shop did not " +
  "exist).";

const SaleSchema = z
  .object({
    id: z.uuid().openapi({ description: "Also the id of the stock movement that took the units." }),
    shopId: z.uuid(),
    productId: z.uuid(),
    sku: z.string(),
    title: z.string(),
    locationId: z.uuid(),
    quantity: z.number().int(),
    unitPriceMinor: z.number().int(),
    totalMinor: z.number().int(),
    currency: z.string(),
    soldAt: z.iso.datetime(),
    customer: z
      .object({
        email: z.string().nullable(),
        phone: z.string().nullable(),
        name: z.string().nullable(),
      })
      .nullable(),
    note: z.string().nullable(),
    source: z.enum(SALE_SOURCES),
    movementId: z.uuid(),
    createdBy: z.uuid(),
    createdAt: z.iso.datetime(),
  })
  .openapi("OfflineSale");

const record = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Record a sale made outside Souk: the units leave stock at once",
  description:
    `${who} The product by \`productId\` or by \`sku\` (one of the two); \`unitPriceMinor\` ` +
    "defaults to its current price, `soldAt` to now (never in the future), `locationId` to the " +
    "shop's only location (422 when it has several). The units leave on hand through the " +
    "product's stock object, as a stock adjustment (reason `offline sale`) whose movement is " +
    "audited; 409 INSUFFICIENT_STOCK when fewer are free, and then nothing is recorded. At " +
    `most ${MAX_SALE_QUANTITY} units. The sale counts in the analytics rollups on its UTC day.`,
  request: {
    headers: idempotencyKeyHeader(
      "The same key (per user and shop) returns the first sale again (`replayed: true`) " +
        "instead of taking stock twice. Without one, every request is a new sale.",
    ),
    body: {
      content: { "application/json": { schema: named(saleShape, "OfflineSaleInput") } },
      required: true,
    },
  },
  responses: {
    201: ok(
      "The sale",
      z.object({ sale: SaleSchema, replayed: z.boolean() }).openapi("OfflineSaleResult"),
    ),
    ...problems(401, 403, 404, 409, 422),
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "The shop's offline sales, newest first, with filters",
  description:
    `${who} \`from\` (inclusive) and \`to\` (exclusive) bound \`soldAt\`; \`customer\` ` +
    "matches part of the email, phone or name, ignoring case.",
  request: { query: z.object(saleListQuery.shape) },
  responses: {
    200: ok(
      "A page of sales",
      z
        .object({ items: z.array(SaleSchema), nextCursor: z.string().nullable() })
        .openapi("OfflineSalePage"),
    ),
    ...problems(401, 403, 404, 422),
  },
});

/** `/v1/seller/transactions`: sales a shop made outside Souk (quick entry). */
export const sellerTransactionRoutes = createRouter()
  .openapi(record, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    const result = await recordSale(serviceContext(c), c.var.user.id, c.req.valid("json"), key);
    return c.json(result, 201);
  })
  .openapi(list, async (c) =>
    c.json(await listSales(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  );
