import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { routeBodyLimit } from "../../http/middleware/body-limit.ts";
import { serviceContext } from "../../http/service-context.ts";
import { isStorableText } from "../../lib/text.ts";
import { ValidationFailed } from "../../services/errors.ts";
import {
  importInventory,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_ROWS,
} from "../../services/inventory/import.ts";
import { bearer, ok, problems } from "../schemas.ts";
import { IdempotencyHeaders } from "./stock/schema.ts";

const ImportSummarySchema = z
  .object({
    operationId: z.uuid(),
    rows: z.number().int(),
    products: z.number().int(),
    locations: z.number().int(),
    changed: z.number().int().openapi({ description: "Rows whose count differed from on hand." }),
    thresholdsSet: z.number().int(),
  })
  .openapi("InventoryImportSummary");

const importCsv = createRoute({
  method: "post",
  path: "/import",
  tags: ["inventory"],
  security: bearer,
  // The one route allowed more than the default body size; after auth, so a stranger learns
  // nothing from the size check.
  middleware: [requireAuth, routeBodyLimit(MAX_IMPORT_BYTES)],
  summary: "Set stock counts from a CSV file, all or nothing (owner, manager)",
  description:
    "Body: `text/csv`, a header row then `sku,location,quantity[,threshold]` (any column " +
    "order). `location` is the location's `code`; `quantity` is the absolute count on hand " +
    "(a `set`); `threshold`, when given and not empty, sets the low-stock threshold. Every row " +
    "is checked first: unknown SKU or location code, a quantity that is not a whole number " +
    "≥ 0, a row with the wrong number of columns, a SKU and location repeated → 422 with " +
    "`rows` listing each row number (the header is row 1) and reason, and nothing applied. " +
    "Otherwise the file is applied as one all-or-nothing bulk operation. " +
    `At most ${MAX_IMPORT_ROWS} data rows and ${MAX_IMPORT_BYTES / 1024 / 1024} MiB (413 ` +
    "`PAYLOAD_TOO_LARGE` beyond).",
  request: {
    query: z.object({ shopId: z.uuid().openapi({ description: "The shop." }) }),
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: {
        "text/csv": {
          schema: z.string().openapi({ example: "sku,location,quantity,threshold\nMUG-1,WH,40,5" }),
        },
      },
    },
  },
  responses: {
    200: ok("Applied", ImportSummarySchema),
    ...problems(401, 403, 404, 409, 413, 422),
  },
});

/** The body as UTF-8; `routeBodyLimit` has already refused one over the import's size. */
async function readCsvBody(req: Request): Promise<string> {
  let csv: string;
  try {
    csv = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      await req.arrayBuffer(),
    );
  } catch {
    throw new ValidationFailed([{ field: "body", in: "body", message: "is not valid UTF-8" }]);
  }
  // Its SKUs and location codes are looked up in Postgres, which refuses U+0000.
  if (!isStorableText(csv)) {
    throw new ValidationFailed([{ field: "body", in: "body", message: "must not contain U+0000" }]);
  }
  return csv;
}

/** `/v1/seller/inventory`: CSV stock import. */
export const inventoryImportRoutes = createRouter().openapi(importCsv, async (c) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^text\/csv\b/i.test(type)) {
    throw new ValidationFailed([
      { field: "content-type", in: "header", message: "must be text/csv" },
    ]);
  }
  const summary = await importInventory(
    serviceContext(c),
    c.var.user.id,
    c.req.valid("query").shopId,
    () => readCsvBody(c.req.raw),
    c.req.valid("header")["idempotency-key"],
  );
  return c.json(summary, 200);
});
