import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { orderStatus } from "../../../db/schema/orders.ts";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { NotFound } from "../../../services/errors.ts";
import { decideLine, shipOrder } from "../../../services/orders/fulfilment.ts";
import { collectOrder, markReadyForPickup } from "../../../services/orders/pickup.ts";
import { getShopOrder, listShopOrders } from "../../../services/orders/queries.ts";
import type { OrderDetailView } from "../../../services/orders/views.ts";
import { alert, type FieldMessages, field, type Html, money, page } from "../../layout.ts";
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

const LIST_SIZE = 50;
const uuid = z.uuid();

/** The list's tabs: the statuses that need a hand first, then the rest. */
const TABS = [
  "paid",
  "picking",
  "ready",
  "ready_for_pickup",
  "shipped",
  "collected",
  "all",
] as const;
const tabStatus = z.enum(orderStatus.enumValues).optional();

const DONE = {
  picked: "Line marked picked.",
  missing: "Line marked missing; its refund is on its way to the buyer.",
  shipped: "Shipped; the buyer has been told.",
  ready: "Ready for pickup; the buyer has been sent the pickup code.",
  collected: "Handed over: the order is collected.",
} as const;
type Done = keyof typeof DONE;

/** Whether an order's lines are still to be picked (the service's PICKABLE and `picking`). */
const picking = (o: OrderDetailView) =>
  o.status === "paid" || o.status === "partially_refunded" || o.status === "picking";

function linesTable(o: OrderDetailView, scope: SellerScope): Html {
  const canPick = picking(o) && may(scope, "orders.pick");
  return html`<div class="table-wrap"><table class="grid-table" id="lines">
<caption>Lines</caption>
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Total</th><th scope="col">Status</th>${
    canPick ? html`<th scope="col">Pick</th>` : ""
  }</tr></thead>
<tbody>${o.items.map(
    (
      i,
    ) => html`<tr id="line-${i.id}"><th scope="row">${i.title}<span class="muted block">${i.sku}</span></th>
<td class="num">${i.quantity}</td><td class="num">${money(i.lineTotalMinor, o.currency)}</td>
<td><span class="badge ${i.status}">${i.status}</span></td>${
      canPick
        ? html`<td>${
            i.status === "pending"
              ? html`<div class="actions">${(["picked", "missing"] as const).map(
                  (
                    d,
                  ) => html`<form method="post" action="/console/seller/orders/${o.id}/items/${i.id}/${d}">
  <button type="submit"${d === "missing" ? html` class="danger"` : ""}>${d === "picked" ? "Picked" : "Missing"}<span class="sr-only"> ${i.title}</span></button>
</form>`,
                )}</div>`
              : ""
          }</td>`
        : ""
    }</tr>`,
  )}</tbody></table></div>`;
}

/** What can be done next, by status and fulfilment, for the viewer's role. */
function nextStep(
  o: OrderDetailView,
  scope: SellerScope,
  errors: FieldMessages,
  typed: Record<string, string>,
): Html {
  const base = `/console/seller/orders/${o.id}`;
  if (o.status === "ready" && o.fulfilment === "delivery" && may(scope, "orders.ship")) {
    return html`<form method="post" action="${base}/ship" class="card stack narrow" aria-labelledby="h-ship">
  <h2 id="h-ship">Ship</h2>
  ${field({ name: "carrier", label: "Carrier", value: typed.carrier, errors, required: true })}
  ${field({ name: "trackingNumber", label: "Tracking number", value: typed.trackingNumber, errors, required: true })}
  <button type="submit">Ship order</button>
</form>`;
  }
  if (o.status === "ready" && o.fulfilment === "pickup" && may(scope, "orders.ship")) {
    return html`<form method="post" action="${base}/ready-for-pickup" class="card">
  <p>Picked and waiting at its branch: tell the buyer, who gets a pickup code.</p>
  <button type="submit">Ready for pickup</button>
</form>`;
  }
  if (o.status === "ready_for_pickup" && may(scope, "orders.pick")) {
    return html`<form method="post" action="${base}/collect" class="card stack narrow" aria-labelledby="h-collect">
  <h2 id="h-collect">Hand over</h2>
  <p class="hint">Enter the 6-digit code the buyer shows.</p>
  ${field({ name: "code", label: "Pickup code", value: typed.code, errors, required: true, autocomplete: "off", extra: html` inputmode="numeric"` })}
  <button type="submit">Hand over</button>
</form>${
      may(scope, "orders.ship")
        ? html`<form method="post" action="${base}/ready-for-pickup" class="inline">
  <button type="submit" class="secondary">Send the buyer a new code</button>
</form>`
        : ""
    }`;
  }
  return html``;
}

async function detailPage(
  c: Context<AppEnv>,
  o: OrderDetailView,
  state: FormState & { message?: string } = {},
): Promise<Response> {
  const scope = await sellerScope(c, o.shop.id);
  const errors = state.errors ?? {};
  const address = o.shippingAddress
    ? Object.values(o.shippingAddress)
        .filter((v) => typeof v === "string")
        .join(", ")
    : null;
  return page(c, {
    title: `Order ${o.id.slice(-8)}`,
    status: state.status,
    body: html`${sellerNav(scope, "/console/seller/orders")}
<p><a href="${shopHref(scope, "/console/seller/orders")}">Back to the orders</a></p>
${alert(state.message, "ok")}${alert(errors.form)}
<dl class="facts" id="order-facts">
  <dt>Status</dt><dd><span class="badge ${o.status}">${o.status}</span></dd>
  <dt>Fulfilment</dt><dd>${o.fulfilment}</dd>
  <dt>Paid</dt><dd>${when(o.paidAt)}</dd>
  <dt>Total</dt><dd>${money(o.totalMinor, o.currency)}${o.refundedMinor ? ` (${money(o.refundedMinor, o.currency)} refunded)` : ""}</dd>
  ${address ? html`<dt>Ship to</dt><dd>${address}</dd>` : ""}
  ${o.deliverySlot ? html`<dt>Delivery slot</dt><dd>${when(o.deliverySlot.start)} – ${when(o.deliverySlot.end)}</dd>` : ""}
  ${o.carrier ? html`<dt>Carrier</dt><dd>${o.carrier}, ${o.trackingNumber}</dd>` : ""}
  ${o.collectedAt ? html`<dt>Collected</dt><dd>${when(o.collectedAt)}</dd>` : ""}
</dl>
${linesTable(o, scope)}
${nextStep(o, scope, errors, state.typed ?? {})}`,
  });
}

/** Runs a fulfilment step; a refusal the viewer can fix (409, 422, 429) stays on the order. */
async function step(
  c: Context<AppEnv>,
  done: Done,
  run: (userId: string, orderId: string, form: Record<string, string>) => Promise<OrderDetailView>,
): Promise<Response> {
  const user = viewerOf(c);
  const orderId = c.req.param("id") ?? "";
  if (!user || !uuid.safeParse(orderId).success) throw new NotFound("order", orderId);
  const form = await formOf(c);
  try {
    await run(user.id, orderId, form);
  } catch (err) {
    const refused = await formRefusal(c, err, [409, 422, 429]);
    const order = await getShopOrder(serviceContext(c).db, user.id, orderId);
    return detailPage(c, order, { ...refused, typed: form });
  }
  return c.redirect(`/console/seller/orders/${orderId}?done=${done}`, 303);
}

/**
 * The seller's orders: a shop's orders by status, and one order's fulfilment: pick each line
 * (or mark it missing, which refunds it), ship with carrier and tracking, mark a pickup order
 * ready (the buyer gets the code), hand it over with the code. The order services decide who
 * may do what (staff pick and hand over; owners and managers ship) and in which state.
 */
export const sellerOrderPages = new Hono<AppEnv>()
  .get("/seller/orders", async (c) => {
    const scope = await sellerScope(c);
    const nav = sellerNav(scope, "/console/seller/orders");
    if (!scope.shop) return page(c, { title: "Orders", body: html`${nav}${NO_SHOP}` });
    const tab = TABS.find((t) => t === c.req.query("status")) ?? "paid";
    const status = tabStatus.parse(tab === "all" ? undefined : tab);
    const list = await listShopOrders(serviceContext(c).db, scope.user.id, {
      shopId: scope.shop.id,
      limit: LIST_SIZE,
      ...(status ? { status } : {}),
    });
    return page(c, {
      title: `Orders · ${scope.shop.name}`,
      body: html`${nav}
<nav aria-label="Order status" class="tabs"><ul>${TABS.map(
        (t) =>
          html`<li><a href="${shopHref(scope, "/console/seller/orders", { status: t })}"${t === tab ? html` aria-current="page"` : ""}>${t.replaceAll("_", " ")}</a></li>`,
      )}</ul></nav>
${
  list.items.length === 0
    ? html`<p>No ${tab === "all" ? "" : tab.replaceAll("_", " ")} orders.</p>`
    : html`<div class="table-wrap"><table class="grid-table" id="orders">
<caption class="sr-only">Orders, newest first</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Fulfilment</th><th scope="col">Paid</th><th scope="col" class="num">Total</th></tr></thead>
<tbody>${list.items.map(
        (
          o,
        ) => html`<tr><th scope="row"><a href="/console/seller/orders/${o.id}">Order ${o.id.slice(-8)}</a></th>
<td><span class="badge ${o.status}">${o.status}</span></td><td>${o.fulfilment}</td><td>${when(o.paidAt)}</td>
<td class="num">${money(o.totalMinor, o.currency)}</td></tr>`,
      )}</tbody></table></div>`
}`,
    });
  })
  .get("/seller/orders/:id", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !uuid.safeParse(id).success) throw new NotFound("order", id);
    const order = await getShopOrder(serviceContext(c).db, user.id, id);
    return detailPage(c, order, { message: flash(c, DONE) });
  })
  .post("/seller/orders/:id/items/:itemId/:decision{picked|missing}", (c) => {
    const itemId = c.req.param("itemId");
    const decision = c.req.param("decision") === "missing" ? "missing" : "picked";
    if (!uuid.safeParse(itemId).success) throw new NotFound("order item", itemId);
    return step(c, decision, (userId, orderId) =>
      decideLine(serviceContext(c), userId, orderId, itemId, decision),
    );
  })
  .post("/seller/orders/:id/ship", (c) =>
    step(c, "shipped", (userId, orderId, form) =>
      shipOrder(serviceContext(c), userId, orderId, {
        carrier: form.carrier ?? "",
        trackingNumber: form.trackingNumber ?? "",
      }),
    ),
  )
  .post("/seller/orders/:id/ready-for-pickup", (c) =>
    step(c, "ready", (userId, orderId) => markReadyForPickup(serviceContext(c), userId, orderId)),
  )
  .post("/seller/orders/:id/collect", (c) =>
    step(c, "collected", (userId, orderId, form) =>
      collectOrder(serviceContext(c), userId, orderId, { code: form.code ?? "" }),
    ),
  );
