import { createRoute, z } from "@hono/zod-openapi";
import { RECEIPT_STATUSES } from "../../db/schema/receipts.ts";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { routeBodyLimit } from "../../http/middleware/body-limit.ts";
import { serviceContext } from "../../http/service-context.ts";
import { ValidationFailed } from "../../services/errors.ts";
import { confirmReceipt } from "../../services/receipts/confirm.ts";
import {
  editReceipt,
  getReceipt,
  listReceipts,
  MAX_RECEIPT_BYTES,
  MAX_RECEIPT_LINES,
  RECEIPT_IMAGE_TYPES,
  type ReceiptImageType,
  receiptEditInput,
  receiptImage,
  receiptListQuery,
  rejectReceipt,
  uploadReceipt,
} from "../../services/receipts/receipts.ts";
import { bearer, IdParam, named, ok, problems } from "../schemas.ts";

const base = { tags: ["receipts"], security: bearer, middleware: [requireAuth] };
const who =
  "Owners and managers of the shop; staff get 403, anyone else 404 (as if it did not exist).";

const ReceiptLineSchema = z
  .object({
    id: z.uuid().openapi({ description: "New whenever the line is read or edited." }),
    description: z.string(),
    quantity: z.number().int(),
    unitPriceMinor: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "null: the product's price when confirmed." }),
    productId: z.uuid().nullable().openapi({ description: "null: not matched to a product." }),
    sku: z.string().nullable(),
    confidence: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The OCR's confidence in the line, 0–100; null when typed." }),
    saleId: z
      .uuid()
      .nullable()
      .openapi({ description: "The offline sale recorded for the line once confirmed." }),
  })
  .openapi("ReceiptLine");

const ReceiptSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    status: z.enum(RECEIPT_STATUSES),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    currency: z.string(),
    lines: z.array(ReceiptLineSchema),
    totalMinor: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The total printed on the receipt, when one was read." }),
    linesTotalMinor: z.number().int().openapi({ description: "Σ unit price × quantity." }),
    soldAt: z.iso.datetime().nullable(),
    locationId: z.uuid().nullable(),
    ocrText: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    uploadedBy: z.uuid(),
    decidedBy: z.uuid().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Receipt");

const ReceiptUploadSchema = z
  .object({
    receipt: ReceiptSchema,
    created: z.boolean().openapi({ description: "False: the receipt this image already was." }),
  })
  .openapi("ReceiptUpload");

const upload = createRoute({
  ...base,
  method: "post",
  path: "/",
  // After auth, so a stranger learns nothing from the size check.
  middleware: [requireAuth, routeBodyLimit(MAX_RECEIPT_BYTES)],
  summary: "Upload a receipt photo to be read by OCR",
  description:
    `${who} Body: the image, \`image/png\` or \`image/jpeg\`, at most ` +
    `${MAX_RECEIPT_BYTES / 1024 / 1024} MiB (413 beyond). Stored, then read off the request: ` +
    "202 with the receipt `queued`; poll it until `review` (or `failed`). The same image again " +
    "for the same shop answers 200 with the receipt it already is (unless that one was " +
    "rejected). 503 when no OCR service is configured.",
  request: {
    query: z.object({ shopId: z.uuid().openapi({ description: "The shop." }) }),
    body: {
      required: true,
      content: Object.fromEntries(
        RECEIPT_IMAGE_TYPES.map((t) => [t, { schema: z.string().openapi({ format: "binary" }) }]),
      ),
    },
  },
  responses: {
    202: ok("Stored and queued for reading", ReceiptUploadSchema),
    200: ok("This image is already a receipt of the shop", ReceiptUploadSchema),
    ...problems(401, 403, 404, 413, 422, 503),
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "The shop's receipts, newest first",
  description: `${who} \`status\` filters (e.g. \`review\` for those waiting on the team).`,
  request: { query: z.object(receiptListQuery.shape) },
  responses: {
    200: ok(
      "A page of receipts",
      z
        .object({ items: z.array(ReceiptSchema), nextCursor: z.string().nullable() })
        .openapi("ReceiptPage"),
    ),
    ...problems(401, 403, 404, 422),
  },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "A receipt with the lines read from it",
  description:
    `${who} \`status\`: queued → reading → review (lines to check) or failed (\`error\` says ` +
    "why); then confirmed or rejected.",
  request: { params: IdParam },
  responses: { 200: ok("The receipt", ReceiptSchema), ...problems(401, 403, 404, 422) },
});

const image = createRoute({
  ...base,
  method: "get",
  path: "/{id}/image",
  summary: "The receipt's photo, as uploaded",
  description: who,
  request: { params: IdParam },
  responses: {
    200: {
      description: "The image",
      content: Object.fromEntries(
        RECEIPT_IMAGE_TYPES.map((t) => [t, { schema: z.string().openapi({ format: "binary" }) }]),
      ),
    },
    ...problems(401, 403, 404, 422),
  },
});

const edit = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  summary: "Correct a receipt in review",
  description:
    `${who} \`lines\` (at most ${MAX_RECEIPT_LINES}) replaces the lines not yet recorded as ` +
    "sales, each getting a new id; `productId` must be a live product of the shop. " +
    "`locationId` is where the units leave (null: the shop's only location), `soldAt` when " +
    "they were sold (null: the upload's time; never in the future). 409 unless in review.",
  request: {
    params: IdParam,
    body: {
      content: { "application/json": { schema: named(receiptEditInput, "ReceiptEdit") } },
      required: true,
    },
  },
  responses: { 200: ok("The receipt", ReceiptSchema), ...problems(401, 403, 404, 409, 422) },
});

const confirm = createRoute({
  ...base,
  method: "post",
  path: "/{id}/confirm",
  summary: "Confirm a receipt: its lines become offline sales that take stock",
  description:
    `${who} Each line is recorded as an offline sale (source \`receipt\`) at its price (the ` +
    "product's when it has none), the receipt's `soldAt` and location, and its units leave " +
    "stock; audited. Every line must name a product (422 `lines.N.productId`). Confirming " +
    "again, or twice at once, records nothing twice and answers the confirmed receipt. A line " +
    "refused for stock (409 INSUFFICIENT_STOCK) leaves the receipt in review with the lines " +
    "before it recorded and locked; fix the rest and confirm again.",
  request: { params: IdParam },
  responses: { 200: ok("Confirmed", ReceiptSchema), ...problems(401, 403, 404, 409, 422) },
});

const reject = createRoute({
  ...base,
  method: "post",
  path: "/{id}/reject",
  summary: "Reject a receipt: nothing is sold",
  description:
    `${who} From queued, reading, review or failed; audited. The same image may then be ` +
    "uploaded again. 409 once any line was recorded as a sale.",
  request: { params: IdParam },
  responses: { 200: ok("Rejected", ReceiptSchema), ...problems(401, 403, 404, 409, 422) },
});

function imageType(header: string | undefined): ReceiptImageType {
  const type = (header ?? "").split(";")[0]?.trim().toLowerCase();
  const known = RECEIPT_IMAGE_TYPES.find((t) => t === type);
  if (!known) {
    throw new ValidationFailed([
      { field: "content-type", in: "header", message: "must be image/png or image/jpeg" },
    ]);
  }
  return known;
}

/** `/v1/seller/receipts`: receipt photos read by OCR, reviewed, then confirmed or rejected. */
export const sellerReceiptRoutes = createRouter()
  .openapi(upload, async (c) => {
    const result = await uploadReceipt(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("query").shopId,
      imageType(c.req.header("content-type")),
      () => c.req.raw.arrayBuffer(),
    );
    return result.created ? c.json(result, 202) : c.json(result, 200);
  })
  .openapi(list, async (c) =>
    c.json(await listReceipts(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(await getReceipt(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(image, async (c) => {
    const file = await receiptImage(serviceContext(c), c.var.user.id, c.req.valid("param").id);
    return new Response(file.body, {
      status: 200,
      headers: { "content-type": file.contentType, "cache-control": "private, max-age=300" },
    });
  })
  .openapi(edit, async (c) => {
    const ctx = serviceContext(c);
    const id = c.req.valid("param").id;
    return c.json(await editReceipt(ctx, c.var.user.id, id, c.req.valid("json")), 200);
  })
  .openapi(confirm, async (c) =>
    c.json(await confirmReceipt(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(reject, async (c) =>
    c.json(await rejectReceipt(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  );
