import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth, requireRole } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  adminUploadListQuery,
  getAnyUpload,
  listAllUploads,
} from "../../services/uploads/uploads.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";
import { UploadPageSchema, UploadSchema } from "../seller/imports.ts";

const base = {
  tags: ["admin"],
  security: bearer,
  middleware: [requireAuth, requireRole("admin")],
};

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Every shop's CSV uploads, newest first",
  description:
    "`status` takes one status or several, comma separated: `failed,partially_failed` lists " +
    "the uploads with failed rows; `processing` long after `startedAt` is a run that stopped " +
    "(its message is then in the dead letters). Filter by `shopId` and `kind`.",
  request: { query: z.object(adminUploadListQuery.shape) },
  responses: { 200: ok("A page of uploads", UploadPageSchema), ...problems(401, 403, 422) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One upload of any shop: status, counts and row errors",
  request: { params: IdParam },
  responses: { 200: ok("The upload", UploadSchema), ...problems(401, 403, 404, 422) },
});

/** `/v1/admin/uploads`: every shop's uploads, to find and watch the failing ones (issue 13). */
export const adminUploadRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listAllUploads(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(await getAnyUpload(serviceContext(c), c.req.valid("param").id), 200),
  );
