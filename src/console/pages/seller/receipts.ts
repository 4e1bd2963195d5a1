import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { ReceiptStatus } from "../../../db/schema/receipts.ts";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { NotFound, ValidationFailed } from "../../../services/errors.ts";
import { shopCatalog } from "../../../services/receipts/catalog.ts";
import { confirmReceipt } from "../../../services/receipts/confirm.ts";
import {
  editReceipt,
  getReceipt,
  listReceipts,
  MAX_RECEIPT_BYTES,
  RECEIPT_IMAGE_TYPES,
  type ReceiptView,
  receiptImage,
  rejectReceipt,
  uploadReceipt,
} from "../../../services/receipts/receipts.ts";
import { listLocations } from "../../../services/shops/locations.ts";
import { alert, type FieldMessages, type Html, minorPerMajor, money, page } from "../../layout.ts";
import { viewerOf } from "../../session.ts";
import {
  type FormState,
  flash,
  formOf,
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

const SECTION = "/console/seller/receipts";
const LIST_SIZE = 30;
/** Blank rows under the read lines, to add what the OCR missed. */
const EXTRA_ROWS = 1;
const uuid = z.uuid();
const WAITING: readonly ReceiptStatus[] = ["queued", "reading"];

const DONE = {
  queued: "Uploaded; the photo is being read.",
  again: "This photo was uploaded before: this is that receipt.",
  saved: "Lines saved.",
  confirmed: "Confirmed: the lines are recorded as sales and their units left stock.",
  rejected: "Rejected: nothing was sold.",
} as const;

const badge = (s: ReceiptStatus) => html`<span class="badge ${s}">${s}</span>`;

async function receiptsPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: FormState = {},
): Promise<Response> {
  const nav = sellerNav(scope, SECTION);
  const title = `Receipts${scope.shop ? ` · ${scope.shop.name}` : ""}`;
  if (!scope.shop) return page(c, { title, body: html`${nav}${NO_SHOP}` });
  if (!may(scope, "sales.write")) {
    return page(c, { title, body: html`${nav}${notForRole(scope, "receipts")}` });
  }
  const list = await listReceipts(serviceContext(c), scope.user.id, {
    shopId: scope.shop.id,
    limit: LIST_SIZE,
  });
  const errors = state.errors ?? {};
  const fileError = errors.file ?? errors.body ?? errors.form;
  return page(c, {
    title,
    status: state.status,
    body: html`${nav}
<form method="post" action="${SECTION}" enctype="multipart/form-data" class="card stack" aria-labelledby="h-upload">
  <h2 id="h-upload">Upload a receipt photo</h2>
  <input type="hidden" name="shop" value="${scope.shop.id}">
  <div class="field"><label for="f-file">Photo (PNG or JPEG, at most ${MAX_RECEIPT_BYTES / 1024 / 1024} MiB)</label>
  <input id="f-file" name="file" type="file" accept="${RECEIPT_IMAGE_TYPES.join(",")}" required${
    fileError ? html` aria-invalid="true" aria-describedby="f-file-error"` : ""
  }>${fileError ? html`<p class="error" id="f-file-error">${fileError}</p>` : ""}</div>
  <p class="hint">The photo is read by OCR; you then check the lines and confirm them as sales.</p>
  <button type="submit">Upload</button>
</form>
${
  list.items.length === 0
    ? html`<p>No receipts yet.</p>`
    : html`<div class="table-wrap"><table class="grid-table" id="receipts">
<caption>Receipts, newest first</caption>
<thead><tr><th scope="col">Uploaded</th><th scope="col">Status</th><th scope="col" class="num">Lines</th><th scope="col" class="num">Total</th></tr></thead>
<tbody>${list.items.map(
        (
          r,
        ) => html`<tr><th scope="row"><a href="${shopHref(scope, `${SECTION}/${r.id}`)}">${when(r.createdAt)}</a></th>
<td>${badge(r.status)}</td><td class="num">${r.lines.length}</td><td class="num">${money(r.totalMinor ?? r.linesTotalMinor, r.currency)}</td></tr>`,
      )}</tbody></table></div>`
}`,
  });
}

/** The receipt of the page's shop (`?shop=`, else the receipt's own); another shop's is a 404. */
async function receiptScope(
  c: Context<AppEnv>,
  named?: string,
): Promise<{ scope: SellerScope; receipt: ReceiptView | null }> {
  const id = c.req.param("id") ?? "";
  if (!uuid.safeParse(id).success) throw new NotFound("Receipt", id);
  const shop = named ?? c.req.query("shop");
  if (shop === undefined) {
    const user = viewerOf(c);
    if (!user) throw new NotFound("Receipt", id);
    const receipt = await getReceipt(serviceContext(c), user.id, id);
    return { scope: await sellerScope(c, receipt.shopId), receipt };
  }
  const scope = await sellerScope(c, shop);
  if (!may(scope, "sales.read")) return { scope, receipt: null };
  const receipt = await getReceipt(serviceContext(c), scope.user.id, id);
  if (receipt.shopId !== scope.shop?.id) throw new NotFound("Receipt", id);
  return { scope, receipt };
}

/** While the photo is being read: htmx asks every 2 s; without script, a link. */
function waiting(scope: SellerScope, r: ReceiptView): Html {
  const self = shopHref(scope, `${SECTION}/${r.id}`);
  return html`<div id="receipt-status" hx-get="${shopHref(scope, `${SECTION}/${r.id}/status`)}" hx-trigger="every 2s" hx-swap="outerHTML" role="status">
  <p>The photo is ${r.status === "queued" ? "waiting to be read" : "being read"}; its lines appear here when done.</p>
  <p><a href="${self}">Refresh</a></p>
</div>`;
}

interface LineRow {
  description: string;
  quantity: string;
  unitPrice: string;
  productId: string;
}

/** Minor units as the price input shows them: 450 EUR → "4.50". */
function majorOf(minor: number | null, currency: string): string {
  if (minor === null) return "";
  const per = minorPerMajor(currency);
  return (minor / per).toFixed(Math.round(Math.log10(per)));
}

/** The form's rows: `lines.N.description`, `.quantity`, `.unitPriceMinor` (major), `.productId`. */
function typedRows(form: Record<string, string>): LineRow[] {
  const rows: LineRow[] = [];
  for (let i = 0; form[`lines.${i}.description`] !== undefined; i++) {
    rows.push({
      description: form[`lines.${i}.description`] ?? "",
      quantity: form[`lines.${i}.quantity`] ?? "",
      unitPrice: form[`lines.${i}.unitPriceMinor`] ?? "",
      productId: form[`lines.${i}.productId`] ?? "",
    });
  }
  return rows;
}

/**
 * The typed rows as the edit service takes them (a row without a description is left out), and
 * the form row each line came from.
 */
function editOf(form: Record<string, string>, currency: string) {
  const kept = typedRows(form)
    .map((r, row) => ({ r, row }))
    .filter(({ r }) => r.description.trim() !== "");
  const lines = kept.map(({ r }) => ({
    description: r.description,
    quantity: Number(r.quantity),
    unitPriceMinor:
      r.unitPrice.trim() === ""
        ? null
        : Math.round(Number(r.unitPrice.replace(",", ".")) * minorPerMajor(currency)),
    productId: r.productId || null,
  }));
  return { input: { lines, locationId: form.locationId || null }, rows: kept.map((k) => k.row) };
}

function cellError(errors: FieldMessages, name: string, id: string): Html {
  const e = errors[name];
  return e ? html`<p class="error" id="${id}-error">${e}</p>` : html``;
}

const invalid = (errors: FieldMessages, name: string, id: string): Html =>
  errors[name] ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;

async function reviewForm(
  c: Context<AppEnv>,
  scope: SellerScope,
  r: ReceiptView,
  state: FormState,
): Promise<Html> {
  const ctx = serviceContext(c);
  const [catalog, locations] = await Promise.all([
    shopCatalog(ctx, r.shopId),
    listLocations(ctx, scope.user.id, r.shopId, {}),
  ]);
  const errors = state.errors ?? {};
  const recorded = r.lines.filter((l) => l.saleId !== null);
  const open = r.lines.filter((l) => l.saleId === null);
  const rows: LineRow[] = state.typed
    ? typedRows(state.typed)
    : [
        ...open.map((l) => ({
          description: l.description,
          quantity: String(l.quantity),
          unitPrice: majorOf(l.unitPriceMinor, r.currency),
          productId: l.productId ?? "",
        })),
        ...Array.from({ length: EXTRA_ROWS }, () => ({
          description: "",
          quantity: "1",
          unitPrice: "",
          productId: "",
        })),
      ];
  const location = state.typed?.locationId ?? r.locationId ?? "";
  const locError = errors.locationId;
  const action = `${SECTION}/${r.id}`;
  return html`${
    recorded.length === 0
      ? ""
      : html`<p>Already recorded as sales: ${recorded.map((l) => `${l.quantity} × ${l.description}`).join(", ")}.</p>`
  }
<form method="post" action="${action}/save" class="card stack" aria-labelledby="h-lines">
  <h2 id="h-lines">Lines read from the photo</h2>
  <input type="hidden" name="shop" value="${r.shopId}">
  <div class="table-wrap"><table class="grid-table" id="receipt-lines">
  <caption class="sr-only">Receipt lines; clear a description to remove its line</caption>
  <thead><tr><th scope="col">Description</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price (${r.currency})</th><th scope="col">Product</th></tr></thead>
  <tbody>${rows.map((row, i) => {
    const n = (f: string) => `lines.${i}.${f}`;
    const id = (f: string) => `f-line-${i}-${f}`;
    return html`<tr>
<td><label class="sr-only" for="${id("description")}">Description of line ${i + 1}</label>
<input id="${id("description")}" name="${n("description")}" value="${row.description}"${invalid(errors, n("description"), id("description"))}>${cellError(errors, n("description"), id("description"))}</td>
<td class="num"><label class="sr-only" for="${id("quantity")}">Quantity of line ${i + 1}</label>
<input id="${id("quantity")}" name="${n("quantity")}" type="number" min="1" step="1" value="${row.quantity}"${invalid(errors, n("quantity"), id("quantity"))}>${cellError(errors, n("quantity"), id("quantity"))}</td>
<td class="num"><label class="sr-only" for="${id("price")}">Unit price of line ${i + 1}</label>
<input id="${id("price")}" name="${n("unitPriceMinor")}" type="number" min="0" step="0.01" value="${row.unitPrice}"${invalid(errors, n("unitPriceMinor"), id("price"))}>${cellError(errors, n("unitPriceMinor"), id("price"))}</td>
<td><label class="sr-only" for="${id("product")}">Product of line ${i + 1}</label>
<select id="${id("product")}" name="${n("productId")}"${invalid(errors, n("productId"), id("product"))}>
<option value="">— none —</option>${catalog.map(
      (p) =>
        html`<option value="${p.productId}"${p.productId === row.productId ? html` selected` : ""}>${p.title} (${p.sku})</option>`,
    )}</select>${cellError(errors, n("productId"), id("product"))}</td>
</tr>`;
  })}</tbody></table></div>
  <p class="hint">A blank price takes the product's own when confirmed; clear a description to remove its line.</p>
  <div class="field"><label for="f-location">Sold at</label>
  <select id="f-location" name="locationId"${locError ? html` aria-invalid="true" aria-describedby="f-location-error"` : ""}>
  <option value="">${locations.items.length === 1 ? "The shop's only location" : "— choose —"}</option>${locations.items.map(
    (l) =>
      html`<option value="${l.id}"${l.id === location ? html` selected` : ""}>${l.code} · ${l.name}</option>`,
  )}</select>${locError ? html`<p class="error" id="f-location-error">${locError}</p>` : ""}</div>
  <div class="actions">
  <button type="submit">Save</button>
  <button type="submit" formaction="${action}/confirm">Confirm</button>
  </div>
</form>`;
}

/** The lines as they stand, once the receipt is decided (or for a viewer who cannot edit). */
function linesTable(r: ReceiptView): Html {
  if (r.lines.length === 0) return html``;
  return html`<div class="table-wrap"><table class="grid-table" id="receipt-lines-read">
<caption>Lines</caption>
<thead><tr><th scope="col">Description</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price</th><th scope="col">SKU</th><th scope="col">Sale</th></tr></thead>
<tbody>${r.lines.map(
    (l) => html`<tr><th scope="row">${l.description}</th><td class="num">${l.quantity}</td>
<td class="num">${l.unitPriceMinor === null ? "product's price" : money(l.unitPriceMinor, r.currency)}</td>
<td>${l.sku ?? "—"}</td><td>${l.saleId ? "recorded" : "—"}</td></tr>`,
  )}</tbody></table></div>`;
}

function rejectForm(scope: SellerScope, r: ReceiptView): Html {
  const rejectable = r.status !== "confirmed" && r.status !== "rejected";
  if (!rejectable || r.lines.some((l) => l.saleId !== null) || !may(scope, "sales.write")) {
    return html``;
  }
  return html`<form method="post" action="${SECTION}/${r.id}/reject">
  <input type="hidden" name="shop" value="${r.shopId}">
  <button type="submit" class="secondary">Reject receipt</button>
</form>`;
}

async function receiptPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  r: ReceiptView | null,
  state: FormState = {},
): Promise<Response> {
  const nav = sellerNav(scope, SECTION);
  if (!r) {
    return page(c, { title: "Receipt", body: html`${nav}${notForRole(scope, "receipts")}` });
  }
  const errors = state.errors ?? {};
  const total = r.totalMinor === null ? "—" : money(r.totalMinor, r.currency);
  return page(c, {
    title: `Receipt of ${when(r.createdAt)}`,
    status: state.status,
    body: html`${nav}${alert(flash(c, DONE), "ok")}${alert(errors.form ?? errors.lines)}
<p><a href="${shopHref(scope, SECTION)}">Back to the receipts</a></p>
<p><a href="${shopHref(scope, `${SECTION}/${r.id}/image`)}"><img src="${shopHref(scope, `${SECTION}/${r.id}/image`)}" alt="The uploaded receipt photo" width="240"></a></p>
<dl class="facts" id="receipt-facts">
  <dt>Status</dt><dd id="receipt-state">${badge(r.status)}</dd>
  <dt>Printed total</dt><dd>${total}</dd>
  <dt>Lines total</dt><dd>${money(r.linesTotalMinor, r.currency)}</dd>
  <dt>Sold</dt><dd>${when(r.soldAt ?? r.createdAt)}</dd>
  ${r.error ? html`<dt>Error</dt><dd>${r.error}</dd>` : ""}
</dl>
${WAITING.includes(r.status) ? waiting(scope, r) : ""}
${r.status === "review" && may(scope, "sales.write") ? await reviewForm(c, scope, r, state) : linesTable(r)}
${r.status === "failed" ? html`<p>The photo could not be read. Reject it and upload a clearer one.</p>` : ""}
${rejectForm(scope, r)}`,
  });
}

/**
 * Re-keys a refusal's `lines.N` to the form's rows: `rows` maps the lines sent to the rows they
 * came from, after `recorded` lines already sold (a confirmation counts those; an edit does not).
 */
function formErrors(errors: FieldMessages, rows: number[], recorded: number): FieldMessages {
  return Object.fromEntries(
    Object.entries(errors).map(([k, v]) => {
      const m = /^lines\.(\d+)\.(.+)$/.exec(k);
      const row = m ? rows[Number(m[1]) - recorded] : undefined;
      return [m && row !== undefined ? `lines.${row}.${m[2]}` : k, v];
    }),
  );
}

/** Save, then (for Confirm) confirm: a refusal stays on the page with what was typed. */
async function decide(c: Context<AppEnv>, then: "saved" | "confirmed"): Promise<Response> {
  const form = await formOf(c);
  const { scope, receipt } = await receiptScope(c, form.shop ?? "");
  if (!receipt) return receiptPage(c, scope, null);
  const ctx = serviceContext(c);
  const { input, rows } = editOf(form, receipt.currency);
  // An edit's refusal counts the lines sent; a confirmation's, every line (the sold ones first).
  let recorded = 0;
  try {
    await editReceipt(ctx, scope.user.id, receipt.id, input);
    recorded = receipt.lines.filter((l) => l.saleId !== null).length;
    if (then === "confirmed") await confirmReceipt(ctx, scope.user.id, receipt.id);
  } catch (err) {
    const refused = await formRefusal(c, err);
    const errors = formErrors(refused.errors, rows, recorded);
    const again = await getReceipt(ctx, scope.user.id, receipt.id);
    return receiptPage(c, scope, again, { ...refused, errors, typed: form });
  }
  return c.redirect(shopHref(scope, `${SECTION}/${receipt.id}`, { done: then }), 303);
}

/**
 * `/console/seller/receipts`: receipt photos (issue 13) for owners and managers: upload one, the
 * OCR reads it (the page polls while it does), then correct the lines, pick each line's product
 * and confirm them as offline sales, or reject the receipt.
 */
export const sellerReceiptPages = new Hono<AppEnv>()
  .get("/seller/receipts", async (c) => receiptsPage(c, await sellerScope(c)))
  .post("/seller/receipts", async (c) => {
    const body = await c.req.parseBody();
    const scope = await sellerScope(c, typeof body.shop === "string" ? body.shop : "");
    if (!scope.shop) throw new NotFound("shop");
    const file = body.file;
    try {
      const type = RECEIPT_IMAGE_TYPES.find((t) => file instanceof File && file.type === t);
      if (!(file instanceof File) || file.size === 0 || !type) {
        throw new ValidationFailed([
          { field: "file", in: "body", message: "choose a PNG or JPEG photo" },
        ]);
      }
      if (file.size > MAX_RECEIPT_BYTES) {
        throw new ValidationFailed([
          { field: "file", in: "body", message: "is larger than the 5 MiB a receipt photo takes" },
        ]);
      }
      const result = await uploadReceipt(
        serviceContext(c),
        scope.user.id,
        scope.shop.id,
        type,
        () => file.arrayBuffer(),
      );
      const done = result.created ? "queued" : "again";
      return c.redirect(shopHref(scope, `${SECTION}/${result.receipt.id}`, { done }), 303);
    } catch (err) {
      return receiptsPage(c, scope, await formRefusal(c, err, [409, 422, 503]));
    }
  })
  .get("/seller/receipts/:id", async (c) => {
    const { scope, receipt } = await receiptScope(c);
    return receiptPage(c, scope, receipt);
  })
  // The polling fragment: the same while the photo is read; then the whole page again.
  .get("/seller/receipts/:id/status", async (c) => {
    const { scope, receipt } = await receiptScope(c);
    if (receipt && WAITING.includes(receipt.status)) return c.html(waiting(scope, receipt));
    c.header("HX-Redirect", shopHref(scope, `${SECTION}/${c.req.param("id")}`));
    return c.body(null, 200);
  })
  .get("/seller/receipts/:id/image", async (c) => {
    const { scope, receipt } = await receiptScope(c);
    if (!receipt) throw new NotFound("Receipt image", c.req.param("id"));
    const file = await receiptImage(serviceContext(c), scope.user.id, receipt.id);
    return new Response(file.body, {
      status: 200,
      headers: { "content-type": file.contentType, "cache-control": "private, max-age=300" },
    });
  })
  .post("/seller/receipts/:id/save", (c) => decide(c, "saved"))
  .post("/seller/receipts/:id/confirm", (c) => decide(c, "confirmed"))
  .post("/seller/receipts/:id/reject", async (c) => {
    const form = await formOf(c);
    const { scope, receipt } = await receiptScope(c, form.shop ?? "");
    if (!receipt) return receiptPage(c, scope, null);
    try {
      await rejectReceipt(serviceContext(c), scope.user.id, receipt.id);
    } catch (err) {
      const refused = await formRefusal(c, err);
      const again = await getReceipt(serviceContext(c), scope.user.id, receipt.id);
      return receiptPage(c, scope, again, {
        status: refused.status,
        errors: { form: Object.values(refused.errors)[0] ?? "" },
      });
    }
    return c.redirect(shopHref(scope, `${SECTION}/${receipt.id}`, { done: "rejected" }), 303);
  });
