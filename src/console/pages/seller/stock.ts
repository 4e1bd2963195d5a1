import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { stockRequestStatus } from "../../../db/schema/inventory.ts";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { listShopProducts } from "../../../services/catalog/products.ts";
import { DomainError, NotFound } from "../../../services/errors.ts";
import {
  type BulkResult,
  bulkAdjustStock,
  type RefusedLine,
} from "../../../services/inventory/bulk.ts";
import { undoBulkOperation } from "../../../services/inventory/bulk-undo.ts";
import {
  approveStockRequest,
  createStockRequest,
  listStockRequests,
  rejectStockRequest,
} from "../../../services/inventory/requests.ts";
import { listLocations } from "../../../services/shops/locations.ts";
import { alert, type FieldMessages, field, type Html, page } from "../../layout.ts";
import { viewerOf } from "../../session.ts";
import {
  type FormState,
  flash,
  formOf,
  formRefusal,
  may,
  NO_SHOP,
  type SellerScope,
  sellerNav,
  sellerScope,
  shopHref,
  when,
} from "./shell.ts";

/** Products a picker offers (the grid's page size, as the inventory page). */
const PICKER_PRODUCTS = 100;
const REQUESTS = 50;
/** Lines of the bulk form; blank lines are left out. */
const BULK_ROWS = 6;
const uuid = z.uuid();
const TABS = [...stockRequestStatus.enumValues, "all"] as const;

const DONE = {
  approved: "Approved: the change is applied.",
  rejected: "Rejected: stock is untouched.",
  requested: "Request sent to the shop's owners and managers.",
} as const;

interface Names {
  products: Array<{ id: string; title: string; sku: string }>;
  locations: Array<{ id: string; code: string; name: string }>;
}

/** The shop's products and locations, for pickers and for naming requests' lines. */
async function namesOf(c: Context<AppEnv>, scope: SellerScope, shopId: string): Promise<Names> {
  const ctx = serviceContext(c);
  const [products, locations] = await Promise.all([
    listShopProducts(ctx, scope.user.id, { shopId, limit: PICKER_PRODUCTS }),
    listLocations(ctx, scope.user.id, shopId, {}),
  ]);
  return { products: products.items, locations: locations.items };
}

function select(
  id: string,
  name: string,
  label: string,
  options: Array<{ value: string; text: string }>,
  chosen: string | undefined,
  error?: string,
): Html {
  return html`<div class="field"><label for="${id}">${label}</label>
<select id="${id}" name="${name}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""}>
<option value="">—</option>${options.map(
    (o) =>
      html`<option value="${o.value}"${o.value === chosen ? html` selected` : ""}>${o.text}</option>`,
  )}</select>${error ? html`<p class="error" id="${id}-error">${error}</p>` : ""}</div>`;
}

const productOptions = (n: Names) =>
  n.products.map((p) => ({ value: p.id, text: `${p.title} (${p.sku})` }));
const locationOptions = (n: Names) =>
  n.locations.map((l) => ({ value: l.id, text: `${l.code} · ${l.name}` }));

function requestForm(
  scope: SellerScope,
  names: Names,
  typed: Record<string, string>,
  errors: FieldMessages,
): Html {
  return html`<form method="post" action="/console/seller/requests" class="card stack" aria-labelledby="h-ask">
  <h2 id="h-ask">Ask for a stock change</h2>
  <input type="hidden" name="shop" value="${scope.shop?.id ?? ""}">
  <div class="filters">
  ${select("f-req-product", "productId", "Product", productOptions(names), typed.productId, errors.productId)}
  ${select("f-req-location", "locationId", "Location", locationOptions(names), typed.locationId, errors.locationId)}
  ${field({ name: "delta", label: "Change (+ or −)", type: "number", value: typed.delta, errors, required: true })}
  ${field({ name: "reason", label: "Reason", value: typed.reason, errors, required: true })}
  </div>
  <button type="submit">Send request</button>
</form>`;
}

async function requestsPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: FormState & { message?: string } = {},
): Promise<Response> {
  const nav = sellerNav(scope, "/console/seller/requests");
  if (!scope.shop) return page(c, { title: "Stock requests", body: html`${nav}${NO_SHOP}` });
  const shopId = scope.shop.id;
  const tab = TABS.find((t) => t === c.req.query("status")) ?? "pending";
  const [names, list] = await Promise.all([
    namesOf(c, scope, shopId),
    listStockRequests(serviceContext(c), scope.user.id, {
      shopId,
      limit: REQUESTS,
      ...(tab === "all" ? {} : { status: tab }),
    }),
  ]);
  const title = (id: string) => names.products.find((p) => p.id === id)?.title ?? "A product";
  const code = (id: string) => names.locations.find((l) => l.id === id)?.code ?? "—";
  const canReview = may(scope, "stock.review");
  const errors = state.errors ?? {};
  return page(c, {
    title: `Stock requests · ${scope.shop.name}`,
    status: state.status,
    body: html`${nav}${alert(state.message ?? flash(c, DONE), "ok")}${alert(errors.form)}
<nav aria-label="Request status" class="tabs"><ul>${TABS.map(
      (t) =>
        html`<li><a href="${shopHref(scope, "/console/seller/requests", { status: t })}"${t === tab ? html` aria-current="page"` : ""}>${t}</a></li>`,
    )}</ul></nav>
${
  list.items.length === 0
    ? html`<p>No ${tab === "all" ? "" : tab} requests.</p>`
    : html`<div class="table-wrap"><table class="grid-table" id="requests">
<caption class="sr-only">Stock requests, newest first</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Location</th><th scope="col" class="num">Change</th><th scope="col">Reason</th><th scope="col">Asked</th><th scope="col">Status</th></tr></thead>
<tbody>${list.items.map((r) => {
        const label = `${title(r.productId)} ${r.delta > 0 ? `+${r.delta}` : r.delta} at ${code(r.locationId)}`;
        return html`<tr id="request-${r.id}"><th scope="row">${title(r.productId)}</th><td>${code(r.locationId)}</td>
<td class="num">${r.delta > 0 ? `+${r.delta}` : r.delta}</td><td>${r.reason}</td><td>${when(r.createdAt)}</td>
<td>${
          r.status === "pending" && canReview
            ? html`<form method="post" action="/console/seller/requests/${r.id}/approve" class="inline">
  <input type="hidden" name="shop" value="${shopId}">
  <label class="sr-only" for="note-${r.id}">Note for ${label}</label>
  <input id="note-${r.id}" name="note" placeholder="Note (optional)">
  <button type="submit">Approve<span class="sr-only"> ${label}</span></button>
  <button type="submit" class="secondary" formaction="/console/seller/requests/${r.id}/reject">Reject<span class="sr-only"> ${label}</span></button>
</form>`
            : html`<span class="badge ${r.status}">${r.status}</span>${r.reviewNote ? html`<span class="muted block">${r.reviewNote}</span>` : ""}`
        }</td></tr>`;
      })}</tbody></table></div>`
}
${requestForm(scope, names, state.typed ?? {}, errors)}`,
  });
}

/** Approves or rejects; a refusal (409: already decided, or the stock cannot take it) stays here. */
async function review(c: Context<AppEnv>, decision: "approve" | "reject"): Promise<Response> {
  const user = viewerOf(c);
  const id = c.req.param("id") ?? "";
  if (!user || !uuid.safeParse(id).success) throw new NotFound("stock request", id);
  const form = await formOf(c);
  const input = form.note?.trim() ? { note: form.note } : {};
  const ctx = serviceContext(c);
  try {
    const shopId =
      decision === "approve"
        ? (await approveStockRequest(ctx, user.id, id, input)).request.shopId
        : (await rejectStockRequest(ctx, user.id, id, input)).shopId;
    const done = decision === "approve" ? "approved" : "rejected";
    return c.redirect(
      `/console/seller/requests?${new URLSearchParams({ shop: shopId, done })}`,
      303,
    );
  } catch (err) {
    const { errors, status } = await formRefusal(c, err);
    // Only a reviewer of the request's shop gets this far (anyone else: 404 above).
    const scope = await sellerScope(c, form.shop || undefined);
    return requestsPage(c, scope, { errors: { form: Object.values(errors)[0] ?? "" }, status });
  }
}

interface BulkRow {
  productId: string;
  locationId: string;
  mode: string;
  quantity: string;
}

function bulkRows(form: Record<string, string>): BulkRow[] {
  return Array.from({ length: BULK_ROWS }, (_, i) => ({
    productId: form[`productId.${i}`] ?? "",
    locationId: form[`locationId.${i}`] ?? "",
    mode: form[`mode.${i}`] === "delta" ? "delta" : "set",
    quantity: form[`quantity.${i}`] ?? "",
  }));
}

function bulkForm(
  scope: SellerScope,
  names: Names,
  rows: BulkRow[],
  reason: string,
  errors: FieldMessages,
): Html {
  return html`<form method="post" action="/console/seller/bulk" class="card stack" id="bulk-form">
  <input type="hidden" name="shop" value="${scope.shop?.id ?? ""}">
  <p class="hint">Every line is applied, or none is. Leave a line's product empty to skip it.</p>
  ${rows.map(
    (r, i) => html`<fieldset class="filters"><legend>Line ${i + 1}</legend>
  ${select(`f-bulk-product-${i}`, `productId.${i}`, `Product, line ${i + 1}`, productOptions(names), r.productId, errors[`items.${i}.productId`] ?? errors[`items.${i}`])}
  ${select(`f-bulk-location-${i}`, `locationId.${i}`, `Location, line ${i + 1}`, locationOptions(names), r.locationId, errors[`items.${i}.locationId`])}
  <div class="field"><label for="f-bulk-mode-${i}">Mode, line ${i + 1}</label>
  <select id="f-bulk-mode-${i}" name="mode.${i}"><option value="set"${r.mode === "set" ? html` selected` : ""}>set on hand to</option><option value="delta"${r.mode === "delta" ? html` selected` : ""}>change on hand by</option></select></div>
  ${field({ name: `quantity.${i}`, id: `f-bulk-quantity-${i}`, label: `Quantity, line ${i + 1}`, type: "number", value: r.quantity, errors: errors[`items.${i}.quantity`] ? { [`quantity.${i}`]: errors[`items.${i}.quantity`] ?? "" } : {} })}
</fieldset>`,
  )}
  ${field({ name: "reason", label: "Reason", value: reason, errors, required: true })}
  <button type="submit">Apply all lines</button>
</form>`;
}

function bulkResult(result: BulkResult, names: Names, undone: boolean): Html {
  const title = (id: string) => names.products.find((p) => p.id === id)?.title ?? "A product";
  const code = (id: string) => names.locations.find((l) => l.id === id)?.code ?? "—";
  return html`<section class="card" id="bulk-result" aria-labelledby="h-result">
<h2 id="h-result">${undone ? "Undone" : "Applied"}: ${result.lines} line${result.lines === 1 ? "" : "s"}</h2>
<ul>${result.movements.map(
    (m) =>
      html`<li>${title(m.productId)} at ${code(m.locationId)}: on hand ${m.onHandAfter - m.deltaOnHand} → ${m.onHandAfter}</li>`,
  )}</ul>
${
  undone
    ? ""
    : html`<form method="post" action="/console/seller/bulk/${result.operationId}/undo">
  <input type="hidden" name="shop" value="${result.movements[0]?.shopId ?? ""}">
  <button type="submit" class="secondary">Undo this bulk change</button>
</form>`
}</section>`;
}

function refusedLines(err: unknown, names: Names): Html {
  if (!(err instanceof DomainError) || !Array.isArray(err.details.lines)) return html``;
  const lines = err.details.lines as RefusedLine[];
  const title = (id: string) => names.products.find((p) => p.id === id)?.title ?? "A product";
  return html`<ul id="refused">${lines.map(
    (l) =>
      html`<li>Line ${l.index + 1}, ${title(l.productId)}: ${l.reason}${l.available === null ? "" : ` (${l.available} available)`}</li>`,
  )}</ul>`;
}

async function bulkPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: Omit<FormState, "typed"> & {
    rows?: BulkRow[];
    reason?: string;
    refusal?: Html;
    result?: Html;
  } = {},
): Promise<Response> {
  const nav = sellerNav(scope, "/console/seller/bulk");
  if (!scope.shop) return page(c, { title: "Bulk edit", body: html`${nav}${NO_SHOP}` });
  if (!may(scope, "stock.write")) {
    return page(c, {
      title: "Bulk edit",
      body: html`${nav}<p>Your role in this shop (${scope.role}) changes stock through <a href="${shopHref(scope, "/console/seller/requests")}">requests</a>.</p>`,
    });
  }
  const names = await namesOf(c, scope, scope.shop.id);
  const errors = state.errors ?? {};
  return page(c, {
    title: `Bulk edit · ${scope.shop.name}`,
    status: state.status,
    body: html`${nav}${state.result ?? ""}${alert(errors.items ?? errors.form)}${state.refusal ?? ""}
${bulkForm(scope, names, state.rows ?? bulkRows({}), state.reason ?? "", errors)}`,
  });
}

/**
 * Stock changes beyond the grid: requests (staff ask, owners and managers approve or reject;
 * the requests service applies an approval through the product's stock object) and bulk edit
 * (several lines as one all-or-nothing operation through the bulk coordinator, undone as one).
 */
export const sellerStockPages = new Hono<AppEnv>()
  .get("/seller/requests", async (c) => requestsPage(c, await sellerScope(c)))
  .post("/seller/requests", async (c) => {
    const form = await formOf(c);
    const scope = await sellerScope(c, form.shop ?? "");
    try {
      await createStockRequest(serviceContext(c), scope.user.id, {
        productId: form.productId ?? "",
        locationId: form.locationId ?? "",
        delta: form.delta === "" || form.delta === undefined ? Number.NaN : Number(form.delta),
        reason: form.reason ?? "",
      });
    } catch (err) {
      const refused = await formRefusal(c, err);
      return requestsPage(c, scope, { ...refused, typed: form });
    }
    return c.redirect(shopHref(scope, "/console/seller/requests", { done: "requested" }), 303);
  })
  .post("/seller/requests/:id/approve", (c) => review(c, "approve"))
  .post("/seller/requests/:id/reject", (c) => review(c, "reject"))
  .get("/seller/bulk", async (c) => bulkPage(c, await sellerScope(c)))
  .post("/seller/bulk", async (c) => {
    const form = await formOf(c);
    const scope = await sellerScope(c, form.shop ?? "");
    if (!scope.shop) throw new NotFound("shop");
    const rows = bulkRows(form);
    const used = rows.flatMap((r, i) => (r.productId ? [{ r, i }] : []));
    const reason = form.reason ?? "";
    try {
      const result = await bulkAdjustStock(serviceContext(c), scope.user.id, {
        shopId: scope.shop.id,
        reason,
        items: used.map(({ r }) => ({
          productId: r.productId,
          locationId: r.locationId,
          mode: r.mode === "delta" ? ("delta" as const) : ("set" as const),
          quantity: r.quantity.trim() === "" ? Number.NaN : Number(r.quantity),
        })),
      });
      const names = await namesOf(c, scope, scope.shop.id);
      return bulkPage(c, scope, { result: bulkResult(result, names, false) });
    } catch (err) {
      const refused = await formRefusal(c, err);
      // The service names lines by their place among the lines sent: back to the form's lines.
      const errors: FieldMessages = {};
      for (const [name, message] of Object.entries(refused.errors)) {
        const m = /^items\.(\d+)(.*)$/.exec(name);
        const line = m ? used[Number(m[1])]?.i : undefined;
        errors[line === undefined ? name : `items.${line}${m?.[2] ?? ""}`] = message;
      }
      const names = await namesOf(c, scope, scope.shop.id);
      return bulkPage(c, scope, {
        rows,
        reason,
        errors,
        refusal: refusedLines(err, names),
        status: refused.status,
      });
    }
  })
  .post("/seller/bulk/:id/undo", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !uuid.safeParse(id).success) throw new NotFound("bulk operation", id);
    const form = await formOf(c);
    const ctx = serviceContext(c);
    const result = await undoBulkOperation(ctx, user.id, id);
    const scope = await sellerScope(c, form.shop || (result.movements[0]?.shopId ?? undefined));
    const names = scope.shop
      ? await namesOf(c, scope, scope.shop.id)
      : { products: [], locations: [] };
    return bulkPage(c, scope, { result: bulkResult(result, names, true) });
  });
