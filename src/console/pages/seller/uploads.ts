import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { UPLOAD_KINDS } from "../../../db/schema/uploads.ts";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { NotFound, ValidationFailed } from "../../../services/errors.ts";
import { expectedHeader } from "../../../services/uploads/csv.ts";
import {
  createUpload,
  getUpload,
  listUploads,
  retryUpload,
  type UploadSummary,
} from "../../../services/uploads/uploads.ts";
import { alert, page } from "../../layout.ts";
import { viewerOf } from "../../session.ts";
import {
  type FormState,
  flash,
  formRefusal,
  may,
  NO_SHOP,
  notForRole,
  type SellerScope,
  sellerNav,
  sellerScope,
  shopHref,
  when,
} from "./shell.ts";

const LIST_SIZE = 30;
const uuid = z.uuid();

const DONE = {
  queued: "Uploaded; its rows are being worked through.",
  again: "These bytes were uploaded before: this is that upload.",
  retried: "The failed rows are running again.",
} as const;

const counts = (u: UploadSummary) =>
  `${u.succeededRows} of ${u.totalRows} rows done${u.failedRows ? `, ${u.failedRows} failed` : ""}`;

async function uploadsPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: FormState = {},
): Promise<Response> {
  const nav = sellerNav(scope, "/console/seller/uploads");
  const title = `Uploads${scope.shop ? ` · ${scope.shop.name}` : ""}`;
  if (!scope.shop) return page(c, { title, body: html`${nav}${NO_SHOP}` });
  if (!may(scope, "sales.read")) {
    return page(c, { title, body: html`${nav}${notForRole(scope, "CSV uploads")}` });
  }
  const list = await listUploads(serviceContext(c), scope.user.id, {
    shopId: scope.shop.id,
    limit: LIST_SIZE,
  });
  const errors = state.errors ?? {};
  const fileError = errors.file ?? errors.body ?? Object.values(errors)[0];
  return page(c, {
    title,
    status: state.status,
    body: html`${nav}${alert(flash(c, DONE), "ok")}
<form method="post" action="/console/seller/uploads" enctype="multipart/form-data" class="card stack" aria-labelledby="h-upload">
  <h2 id="h-upload">Upload a CSV</h2>
  <input type="hidden" name="shop" value="${scope.shop.id}">
  <div class="field"><label for="f-kind">Kind</label>
  <select id="f-kind" name="kind">${UPLOAD_KINDS.map(
    (k) =>
      html`<option value="${k}"${state.typed?.kind === k ? html` selected` : ""}>${k}</option>`,
  )}</select></div>
  <ul class="hint">${UPLOAD_KINDS.map((k) => html`<li>${k}: <code>${expectedHeader(k)}</code></li>`)}</ul>
  <div class="field"><label for="f-file">CSV file</label>
  <input id="f-file" name="file" type="file" accept=".csv,text/csv" required${
    fileError ? html` aria-invalid="true" aria-describedby="f-file-error"` : ""
  }>${fileError ? html`<p class="error" id="f-file-error">${fileError}</p>` : ""}</div>
  <button type="submit">Upload</button>
</form>
${
  list.items.length === 0
    ? html`<p>No uploads yet.</p>`
    : html`<div class="table-wrap"><table class="grid-table" id="uploads">
<caption>Uploads, newest first</caption>
<thead><tr><th scope="col">Uploaded</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Rows</th></tr></thead>
<tbody>${list.items.map(
        (
          u,
        ) => html`<tr><th scope="row"><a href="/console/seller/uploads/${u.id}">${when(u.createdAt)}</a></th>
<td>${u.kind}</td><td><span class="badge ${u.status}">${u.status.replaceAll("_", " ")}</span></td><td>${counts(u)}</td></tr>`,
      )}</tbody></table></div>`
}`,
  });
}

/**
 * `/console/seller/uploads`: CSV uploads (the uploads service: transactions record sales,
 * inventory writes catalog and stock; owners and managers), each upload's progress and row
 * errors, and a retry of its failed rows.
 */
export const sellerUploadPages = new Hono<AppEnv>()
  .get("/seller/uploads", async (c) => uploadsPage(c, await sellerScope(c)))
  .post("/seller/uploads", async (c) => {
    const body = await c.req.parseBody();
    const scope = await sellerScope(c, typeof body.shop === "string" ? body.shop : "");
    if (!scope.shop) throw new NotFound("shop");
    const kind = typeof body.kind === "string" ? body.kind : "";
    const file = body.file;
    try {
      if (!(file instanceof File) || file.size === 0) {
        throw new ValidationFailed([{ field: "file", in: "body", message: "choose a CSV file" }]);
      }
      const result = await createUpload(
        serviceContext(c),
        scope.user.id,
        { shopId: scope.shop.id, kind: kind as (typeof UPLOAD_KINDS)[number] },
        () => file.arrayBuffer(),
      );
      const done = result.created ? "queued" : "again";
      return c.redirect(`/console/seller/uploads/${result.upload.id}?done=${done}`, 303);
    } catch (err) {
      const refused = await formRefusal(c, err);
      return uploadsPage(c, scope, { ...refused, typed: { kind } });
    }
  })
  .get("/seller/uploads/:id", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !uuid.safeParse(id).success) throw new NotFound("upload", id);
    const u = await getUpload(serviceContext(c), user.id, id);
    const scope = await sellerScope(c, u.shopId);
    const retryable = u.status === "failed" || u.status === "partially_failed";
    return page(c, {
      title: `Upload of ${when(u.createdAt)}`,
      body: html`${sellerNav(scope, "/console/seller/uploads")}${alert(flash(c, DONE), "ok")}
<p><a href="${shopHref(scope, "/console/seller/uploads")}">Back to the uploads</a></p>
<dl class="facts" id="upload-facts">
  <dt>Kind</dt><dd>${u.kind}</dd>
  <dt>Status</dt><dd><span class="badge ${u.status}">${u.status.replaceAll("_", " ")}</span></dd>
  <dt>Rows</dt><dd>${counts(u)}</dd>
  <dt>Runs</dt><dd>${u.attempts}</dd>
  <dt>Finished</dt><dd>${when(u.finishedAt)}</dd>
</dl>
${
  u.rowErrors.length === 0
    ? ""
    : html`<div class="table-wrap"><table class="grid-table" id="row-errors">
<caption>Rows that failed</caption>
<thead><tr><th scope="col" class="num">Row</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
<tbody>${u.rowErrors.map(
        (e) =>
          html`<tr><th scope="row" class="num">${e.row}</th><td>${e.field ?? "—"}</td><td>${e.message}</td></tr>`,
      )}</tbody></table></div>`
}
${
  retryable
    ? html`<form method="post" action="/console/seller/uploads/${u.id}/retry">
  <button type="submit">Run the failed rows again</button>
</form>`
    : ""
}`,
    });
  })
  .post("/seller/uploads/:id/retry", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !uuid.safeParse(id).success) throw new NotFound("upload", id);
    await retryUpload(serviceContext(c), user.id, id);
    return c.redirect(`/console/seller/uploads/${id}?done=retried`, 303);
  });
