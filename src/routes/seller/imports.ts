import { createRoute, z } from "@hono/zod-openapi";
import { UPLOAD_KINDS, UPLOAD_STATUSES, type UploadKind } from "../../db/schema/uploads.ts";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { routeBodyLimit } from "../../http/middleware/body-limit.ts";
import { serviceContext } from "../../http/service-context.ts";
import { ValidationFailed } from "../../services/errors.ts";
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS } from "../../services/inventory/import.ts";
import { expectedHeader } from "../../services/uploads/csv.ts";
import {
  createUpload,
  getUpload,
  listUploads,
  retryUpload,
  uploadListQuery,
} from "../../services/uploads/uploads.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";

const who =
  "Owners and managers of the shop; staff get 403, anyone else 404 (as if the shop did not " +
  "exist).";

const summaryShape = {
  id: z.uuid(),
  shopId: z.uuid(),
  kind: z.enum(UPLOAD_KINDS),
  status: z.enum(UPLOAD_STATUSES).openapi({
    description:
      "`queued` → `processing` → `succeeded` (every row applied), `failed` (none) or " +
      "`partially_failed`; a retry goes back to `queued`.",
  }),
  fileHash: z.string().openapi({ description: "sha256 of the file's bytes, hex." }),
  sizeBytes: z.number().int(),
  totalRows: z.number().int().openapi({ description: "Data rows (the header not counted)." }),
  succeededRows: z.number().int(),
  failedRows: z.number().int(),
  attempts: z.number().int().openapi({ description: "1, plus one per retry." }),
  createdBy: z.uuid(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  updatedAt: z.iso.datetime(),
};

export const UploadSummarySchema = z.object(summaryShape).openapi("UploadSummary");

export const UploadSchema = z
  .object({
    ...summaryShape,
    rowErrors: z
      .array(
        z.object({
          row: z.number().int().openapi({ description: "The file's line; the header is 1." }),
          field: z.string().nullable().openapi({ description: "The CSV column at fault." }),
          message: z.string(),
        }),
      )
      .openapi({ description: "The failed rows' problems, by row." }),
  })
  .openapi("Upload");

export const UploadPageSchema = z
  .object({ items: z.array(UploadSummarySchema), nextCursor: z.string().nullable() })
  .openapi("UploadPage");

const UploadResultSchema = z
  .object({
    upload: UploadSchema,
    created: z.boolean().openapi({ description: "False: these bytes were uploaded before." }),
  })
  .openapi("UploadResult");

const formats: Record<UploadKind, string> = {
  transactions:
    "Each row is an offline sale (source `import`): `sku` of a live product, `quantity` ≥ 1, " +
    "`unit_price` in major units (`12.50`; empty: the product's price), `sold_at` a date " +
    "(`2026-03-01`, midnight UTC) or a date-time with offset, never in the future; the " +
    "customer columns are optional; `location` is a location's code (empty: the shop's only " +
    "location). The units leave stock as quick entry takes them.",
  inventory:
    "Each row sets the count of `sku` at `location` (a location's code) to `quantity`, and " +
    "its low-stock `threshold` when given. A SKU the shop lacks becomes a draft product (then " +
    "`title`, `price` in major units and `category` (slug or id) are required); a known one " +
    "gets `title` and `price` updated when they differ. `currency`, when given, must be the " +
    "shop's.",
};

function uploadRoute(kind: UploadKind) {
  return createRoute({
    method: "post",
    path: `/${kind}`,
    tags: ["imports"],
    security: bearer,
    // After auth, so a stranger learns nothing from the size check.
    middleware: [requireAuth, routeBodyLimit(MAX_IMPORT_BYTES)],
    summary: `Upload a ${kind} CSV, worked by the imports queue`,
    description:
      `${who} Body: \`text/csv\`, a header \`${expectedHeader(kind)}\` (any order) then ` +
      `at most ${MAX_IMPORT_ROWS} rows, ${MAX_IMPORT_BYTES / 1024 / 1024} MiB. ${formats[kind]} ` +
      "A header that cannot work (a missing or unknown column, no rows) is a 422 at once; each " +
      "row is checked when it runs, and its problems land in `rowErrors` naming row and column. " +
      "202 with the queued upload; the same bytes for the same shop and kind answer the first " +
      "upload again (200, `created: false`), never applied twice. Follow it with " +
      "`GET /v1/seller/imports/{id}`.",
    request: {
      query: z.object({ shopId: z.uuid().openapi({ description: "The shop." }) }),
      body: {
        required: true,
        content: { "text/csv": { schema: z.string() } },
      },
    },
    responses: {
      202: ok("Queued", UploadResultSchema),
      200: ok("These bytes were uploaded before: that upload", UploadResultSchema),
      ...problems(401, 403, 404, 413, 422),
    },
  });
}

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["imports"],
  security: bearer,
  middleware: [requireAuth],
  summary: "The shop's uploads, newest first",
  description: `${who} \`status\` takes one status or several, comma separated.`,
  request: { query: z.object(uploadListQuery.shape) },
  responses: { 200: ok("A page of uploads", UploadPageSchema), ...problems(401, 403, 404, 422) },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["imports"],
  security: bearer,
  middleware: [requireAuth],
  summary: "One upload: status, counts and row errors",
  description: who,
  request: { params: IdParam },
  responses: { 200: ok("The upload", UploadSchema), ...problems(401, 403, 404, 422) },
});

const retry = createRoute({
  method: "post",
  path: "/{id}/retry",
  tags: ["imports"],
  security: bearer,
  middleware: [requireAuth],
  summary: "Run an upload's failed rows again",
  description:
    `${who} For a \`failed\` or \`partially_failed\` upload (409 otherwise), once what failed ` +
    "the rows is fixed (the product created, the stock counted): it is queued again and only " +
    "the rows that failed run; a row that succeeded is never applied twice. One audit row.",
  request: { params: IdParam },
  responses: { 202: ok("Queued again", UploadSchema), ...problems(401, 403, 404, 409, 422) },
});

function requireCsv(type: string | undefined): void {
  if (!/^text\/csv\b/i.test(type ?? "")) {
    throw new ValidationFailed([
      { field: "content-type", in: "header", message: "must be text/csv" },
    ]);
  }
}

function kindListRoute(kind: UploadKind) {
  return createRoute({
    method: "get",
    path: `/${kind}`,
    tags: ["imports"],
    security: bearer,
    middleware: [requireAuth],
    summary: `The shop's ${kind} uploads, newest first`,
    description: `${who} The list of \`GET /v1/seller/imports\` with \`kind=${kind}\`.`,
    request: { query: z.object(uploadListQuery.omit({ kind: true }).shape) },
    responses: { 200: ok("A page of uploads", UploadPageSchema), ...problems(401, 403, 404, 422) },
  });
}

/** `/v1/seller/imports`: CSV uploads of transactions and inventory (issue 13). */
export const sellerImportRoutes = createRouter().openapi(list, async (c) =>
  c.json(await listUploads(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
);

// Each kind's routes before `/{id}`, which would otherwise take `GET /transactions` for an id.
for (const kind of UPLOAD_KINDS) {
  sellerImportRoutes
    .openapi(uploadRoute(kind), async (c) => {
      requireCsv(c.req.header("content-type"));
      const result = await createUpload(
        serviceContext(c),
        c.var.user.id,
        { shopId: c.req.valid("query").shopId, kind },
        () => c.req.raw.arrayBuffer(),
      );
      return c.json(result, result.created ? 202 : 200);
    })
    .openapi(kindListRoute(kind), async (c) =>
      c.json(
        await listUploads(serviceContext(c), c.var.user.id, { ...c.req.valid("query"), kind }),
        200,
      ),
    );
}

sellerImportRoutes
  .openapi(get, async (c) =>
    c.json(await getUpload(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(retry, async (c) =>
    c.json(await retryUpload(serviceContext(c), c.var.user.id, c.req.valid("param").id), 202),
  );
