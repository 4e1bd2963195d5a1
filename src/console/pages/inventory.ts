import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { parseOr422 } from "../../lib/input.ts";
import { getShopProduct, listShopProducts } from "../../services/catalog/products.ts";
import type { SellerProductView } from "../../services/catalog/views.ts";
import { NotFound } from "../../services/errors.ts";
import { undoMovement } from "../../services/inventory/movements.ts";
import { adjustStock, getProductStock } from "../../services/inventory/stock.ts";
import type { LocationStockView } from "../../services/inventory/views.ts";
import { listMyShops } from "../../services/shops/queries.ts";
import { refusalOf } from "../errors.ts";
import { type FieldMessages, type Html, isPartial, page } from "../layout.ts";
import { requireViewer, viewerOf } from "../session.ts";

/** The grid's page size: every product of the page is one stock-object read. */
const GRID_PRODUCTS = 50;
const EDIT_REASON = "Edited in the console inventory grid";
const UNDO_REASON = "Undone in the console inventory grid";

const uuid = z.uuid();
/** The inline edit: a counted on-hand quantity and the low-stock threshold (blank: none). */
const editForm = z.object({
  onHand: z.coerce.number().int(),
  threshold: z
    .string()
    .transform((v) => (v.trim() === "" ? null : Number(v)))
    .pipe(z.number().int().nullable()),
});

interface RowState {
  /** The last change made here, which the row offers to undo. */
  undoMovementId?: string | null;
  message?: string | null;
  errors?: FieldMessages;
  /** What was typed, shown again beside its error. */
  typed?: { onHand?: string; threshold?: string };
}

const rowId = (productId: string, locationId: string) => `stock-${productId}-${locationId}`;

/** One product at one location: levels, the inline edit form, low-stock badge, undo. */
function stockRow(
  product: Pick<SellerProductView, "id" | "title" | "sku">,
  loc: LocationStockView,
  state: RowState = {},
): Html {
  const id = rowId(product.id, loc.locationId);
  const action = `/console/seller/inventory/${product.id}/${loc.locationId}`;
  const err = state.errors ?? {};
  const onHandError = err.onHand ?? err.quantity;
  const thresholdError = err.threshold;
  const label = `${product.title} at ${loc.code ?? "a deleted location"}`;
  return html`<tr id="${id}">
  <th scope="row">${product.title}<span class="muted block">${product.sku} · <a href="/console/seller/products/${product.id}/stock-history">history<span class="sr-only"> of ${product.title}</span></a></span></th>
  <td>${loc.code ?? "—"}${loc.name ? html`<span class="muted block">${loc.name}</span>` : ""}</td>
  <td class="num">${loc.reserved}</td>
  <td class="num">${loc.available}${loc.low ? html` <span class="badge low_stock">Low</span>` : ""}</td>
  <td>
    <form method="post" action="${action}" hx-post="${action}" hx-target="#${id}" hx-swap="outerHTML" class="inline">
      <label class="sr-only" for="${id}-onhand">On hand, ${label}</label>
      <input id="${id}-onhand" name="onHand" type="number" inputmode="numeric" min="0" step="1" value="${state.typed?.onHand ?? loc.onHand}"${
        onHandError ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""
      }>
      <label class="sr-only" for="${id}-threshold">Low-stock threshold, ${label}</label>
      <input id="${id}-threshold" name="threshold" type="number" inputmode="numeric" min="0" step="1" placeholder="none" value="${state.typed?.threshold ?? loc.threshold ?? ""}"${
        thresholdError ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""
      }>
      <button type="submit">Save<span class="sr-only"> ${label}</span></button>
    </form>
    ${
      onHandError || thresholdError
        ? html`<p class="error" id="${id}-error">${onHandError ?? thresholdError}</p>`
        : ""
    }
  </td>
  <td>${state.message ? html`<span role="status">${state.message}</span>` : ""}${
    state.undoMovementId
      ? html`<form method="post" action="/console/seller/inventory/undo/${state.undoMovementId}" hx-post="/console/seller/inventory/undo/${state.undoMovementId}" hx-target="#${id}" hx-swap="outerHTML" class="inline">
      <button type="submit" class="secondary">Undo<span class="sr-only"> the last change to ${label}</span></button>
    </form>`
      : ""
  }</td>
</tr>`;
}

function gridHead(): Html {
  return html`<thead><tr>
  <th scope="col">Product</th><th scope="col">Location</th><th scope="col" class="num">Reserved</th>
  <th scope="col" class="num">Available</th><th scope="col">On hand · threshold</th><th scope="col">Last change</th>
</tr></thead>`;
}

/** The row again after a change (or a refusal): fresh levels from the product's object. */
async function answerRow(
  c: Context<AppEnv>,
  productId: string,
  locationId: string,
  state: RowState,
  status: 200 | 409 | 422 = 200,
): Promise<Response> {
  const user = viewerOf(c);
  if (!user) throw new NotFound("product", productId);
  const ctx = serviceContext(c);
  const stock = await getProductStock(ctx, user.id, productId);
  const loc = stock.locations.find((l) => l.locationId === locationId);
  if (!loc) throw new NotFound("location", locationId);
  if (!isPartial(c)) {
    return c.redirect(`/console/seller/inventory?shop=${stock.shopId}`, 303);
  }
  // The title is not in the stock view: the seller's product read (the same membership check).
  const product = await getShopProduct(ctx, user.id, productId);
  return c.html(stockRow(product, loc, state), status);
}

function refusedStatus(status: number): 409 | 422 {
  return status === 409 ? 409 : 422;
}

/**
 * The seller's inventory grid: every product of one of their shops at every location, edited
 * inline (htmx swaps the row; without script the form posts and the page reloads), each change
 * undoable, low stock flagged. The stock services decide everything: who may read (any member)
 * and write (owner, manager), and what an undo may do.
 */
export const inventoryPages = new Hono<AppEnv>()
  .use("/seller/*", requireViewer("seller"))
  .get("/seller/inventory", async (c) => {
    const user = viewerOf(c);
    if (!user) throw new NotFound("shop");
    const ctx = serviceContext(c);
    const mine = await listMyShops(ctx, user.id, { limit: 100 });
    const shopParam = c.req.query("shop");
    if (shopParam !== undefined && !uuid.safeParse(shopParam).success) {
      throw new NotFound("shop", shopParam);
    }
    // Another shop, named in the URL: the services answer 404, as the API does.
    const shopId = shopParam ?? mine.items[0]?.id;
    if (!shopId) {
      return page(c, {
        title: "Inventory",
        body: html`<p>You are not on the team of any shop yet.</p>`,
      });
    }
    const products = await listShopProducts(ctx, user.id, { shopId, limit: GRID_PRODUCTS });
    const stocks = await Promise.all(
      products.items.map((p) => getProductStock(ctx, user.id, p.id)),
    );
    const shop = mine.items.find((s) => s.id === shopId);
    const rows = products.items.flatMap((p, i) =>
      (stocks[i]?.locations ?? []).map((loc) => stockRow(p, loc)),
    );
    const lowCount = stocks.reduce((n, s) => n + s.locations.filter((l) => l.low).length, 0);
    return page(c, {
      title: `Inventory${shop ? ` · ${shop.name}` : ""}`,
      body: html`${
        mine.items.length > 1
          ? html`<form method="get" action="/console/seller/inventory" class="filters">
  <div class="field"><label for="f-shop">Shop</label>
  <select id="f-shop" name="shop">${mine.items.map(
    (s) =>
      html`<option value="${s.id}"${s.id === shopId ? html` selected` : ""}>${s.name}</option>`,
  )}</select></div>
  <button type="submit">Show</button>
</form>`
          : ""
      }
<p>${products.items.length} products${
        lowCount ? html` · <span class="badge low_stock">${lowCount} low</span>` : ""
      }</p>
${
  rows.length === 0
    ? html`<p>No products yet.</p>`
    : html`<div class="table-wrap"><table class="grid-table" id="inventory">
<caption class="sr-only">Stock per product and location; edit on hand and threshold in place</caption>
${gridHead()}<tbody>${rows}</tbody></table></div>`
}`,
    });
  })
  .post("/seller/inventory/undo/:movementId", async (c) => {
    const user = viewerOf(c);
    const movementId = c.req.param("movementId");
    if (!user || !uuid.safeParse(movementId).success) {
      throw new NotFound("stock movement", movementId);
    }
    const result = await undoMovement(serviceContext(c), user.id, movementId, {
      reason: UNDO_REASON,
    });
    const m = result.movement;
    return answerRow(c, m.productId, m.locationId, {
      message: `Undone: on hand back to ${m.onHandAfter}.`,
    });
  })
  .post("/seller/inventory/:productId/:locationId", async (c) => {
    const user = viewerOf(c);
    const { productId, locationId } = c.req.param();
    if (!user || !uuid.safeParse(productId).success) throw new NotFound("product", productId);
    if (!uuid.safeParse(locationId).success) throw new NotFound("location", locationId);
    const form = await c.req.parseBody();
    const typed = {
      onHand: typeof form.onHand === "string" ? form.onHand : "",
      threshold: typeof form.threshold === "string" ? form.threshold : "",
    };
    try {
      const input = parseOr422(editForm, typed);
      const result = await adjustStock(serviceContext(c), user.id, productId, {
        locationId,
        mode: "set",
        quantity: input.onHand,
        reason: EDIT_REASON,
        threshold: input.threshold,
      });
      const m = result.movement;
      return answerRow(c, productId, locationId, {
        undoMovementId: m.id,
        message: `Saved: on hand ${m.onHandAfter - m.deltaOnHand} → ${m.onHandAfter}.`,
      });
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      // Refusals about the numbers stay in the row; anything else (404, 403) is the page's.
      if (r.status !== 422 && r.status !== 409) throw err;
      if (!isPartial(c)) throw err;
      return answerRow(
        c,
        productId,
        locationId,
        { errors: Object.keys(r.fields).length ? r.fields : { onHand: r.detail }, typed },
        refusedStatus(r.status),
      );
    }
  });
