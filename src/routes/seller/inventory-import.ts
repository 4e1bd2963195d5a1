import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { ValidationFailed } from "../../services/errors.ts";
import {
  importInventory,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_ROWS,
} from "../../services/inventory/import.ts";
import { bearer, problems } from "../schemas.ts";
import { IdempotencyHeaders, inventoryContext, ok } from "./stock/schema.ts";

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
  middleware: [requireAuth],
  summary: "Set stock counts from a CSV file, all or nothing (owner, manager)",
  description:
    "Body: `text/csv`, a header row then `sku,location,quantity[,threshold]` (any column " +
    "order). `location` is the location's `code`; `quantity` is the absolute count on hand " +
    "(a `set`); `threshold`, when given and not empty, sets the low-stock threshold. Every row " +
    "is checked first: unknown SKU or location code, a quantity that is not a whole number " +
    "≥ 0, a row with the wrong number of columns, a SKU and location repeated → 422 with " +
    "`rows` listing each row number (the header is row 1) and reason, and nothing applied. " +
    "Otherwise the file is applied as one all-or-nothing bulk operation. " +
    `At most ${MAX_IMPORT_ROWS} data rows and ${MAX_IMPORT_BYTES / 1024 / 1024} MB.`,
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
    ...problems(401, 403, 404, 409, 422),
  },
});

/**
 * Reads the body as UTF-8, stopping as soon as it exceeds `max` bytes, so an oversized upload
 * is refused without being held in memory.
 */
async function readCsvBody(req: Request, max: number): Promise<string> {
  const tooBig = () =>
    new ValidationFailed([{ field: "body", in: "body", message: `must be at most ${max} bytes` }]);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) throw tooBig();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ValidationFailed([{ field: "body", in: "body", message: "is not valid UTF-8" }]);
  }
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
    inventoryContext(c),
    c.var.user.id,
    c.req.valid("query").shopId,
    () => readCsvBody(c.req.raw, MAX_IMPORT_BYTES),
    c.req.valid("header")["idempotency-key"],
  );
  return c.json(summary, 200);
});
