import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { NotFound } from "../../services/errors.ts";
import { getBuyerOrder, listBuyerOrders } from "../../services/orders/queries.ts";
import type { OrderDetailView, OrderView } from "../../services/orders/views.ts";
import { type Html, money, page } from "../layout.ts";
import { requireViewer, viewerOf } from "../session.ts";

const ORDERS_PER_PAGE = 25;
const STATUS_LABEL = (s: string) => s.replaceAll("_", " ");
const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** What happened to an order, in order, from the times it records. */
function timeline(o: OrderDetailView): Array<{ at: string; what: string }> {
  const steps: Array<{ at: string | null; what: string }> = [
    { at: o.createdAt, what: "Order placed" },
    { at: o.paidAt, what: "Paid" },
    { at: o.readyForPickupAt, what: "Ready for pickup" },
    { at: o.collectedAt, what: "Collected" },
    ...o.refunds.map((r) => ({
      at: r.createdAt,
      what: `Refund of ${money(r.amountMinor, o.currency)}: ${r.reason} (${r.status})`,
    })),
  ];
  if (o.status === "pending_payment" && o.paymentDueAt) {
    steps.push({ at: o.paymentDueAt, what: "Payment due" });
  }
  return steps
    .filter((s): s is { at: string; what: string } => s.at !== null)
    .sort((a, b) => a.at.localeCompare(b.at));
}

function orderRow(o: OrderView): Html {
  return html`<tr>
  <th scope="row"><a href="/console/orders/${o.id}">${when(o.createdAt)}</a></th>
  <td>${o.shop.name}</td>
  <td><span class="badge ${o.status}">${STATUS_LABEL(o.status)}</span></td>
  <td class="num">${money(o.totalMinor, o.currency)}</td>
</tr>`;
}

/** A buyer's own orders and each one's timeline (the order query services: others' are 404). */
export const orderPages = new Hono<AppEnv>()
  .use("/orders", requireViewer())
  .use("/orders/*", requireViewer())
  .get("/orders", async (c) => {
    const user = viewerOf(c);
    if (!user) throw new NotFound("order");
    const cursor = c.req.query("cursor") || undefined;
    const orders = await listBuyerOrders(serviceContext(c).db, user.id, {
      limit: ORDERS_PER_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    return page(c, {
      title: "Your orders",
      body: html`${
        orders.items.length === 0
          ? html`<p>No orders yet. <a href="/console/products">Browse products</a>.</p>`
          : html`<div class="table-wrap"><table class="grid-table">
<thead><tr><th scope="col">Placed</th><th scope="col">Shop</th><th scope="col">Status</th><th scope="col" class="num">Total</th></tr></thead>
<tbody>${orders.items.map(orderRow)}</tbody></table></div>`
      }
${
  orders.nextCursor
    ? html`<p><a class="button" href="/console/orders?cursor=${encodeURIComponent(orders.nextCursor)}">Older orders</a></p>`
    : ""
}`,
    });
  })
  .get("/orders/:id", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !z.uuid().safeParse(id).success) throw new NotFound("order", id);
    const o = await getBuyerOrder(serviceContext(c).db, user.id, id);
    return page(c, {
      title: `Order from ${o.shop.name}`,
      body: html`<section class="card">
  <p><span class="badge ${o.status}">${STATUS_LABEL(o.status)}</span> · ${o.fulfilment}</p>
  <div class="table-wrap"><table class="grid-table">
    <caption class="sr-only">Items</caption>
    <thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Price</th><th scope="col" class="num">Line</th></tr></thead>
    <tbody>${o.items.map(
      (i) => html`<tr><th scope="row">${i.title}<span class="muted block">${i.sku}</span></th>
      <td class="num">${i.quantity}</td><td class="num">${money(i.unitPriceMinor, o.currency)}</td>
      <td class="num">${money(i.lineTotalMinor, o.currency)}</td></tr>`,
    )}</tbody>
  </table></div>
  <dl class="facts">
    <dt>Subtotal</dt><dd>${money(o.subtotalMinor, o.currency)}</dd>
    <dt>Delivery</dt><dd>${money(o.deliveryFeeMinor, o.currency)}</dd>
    ${o.taxLines.map(
      (t) =>
        html`<dt>Tax ${t.rateBps / 100}%${o.pricesIncludeTax ? " (included)" : ""}</dt><dd>${money(t.taxMinor, o.currency)}</dd>`,
    )}
    <dt>Total</dt><dd><strong>${money(o.totalMinor, o.currency)}</strong></dd>
    ${o.refundedMinor ? html`<dt>Refunded</dt><dd>${money(o.refundedMinor, o.currency)}</dd>` : ""}
    ${o.trackingNumber ? html`<dt>Tracking</dt><dd>${o.carrier ?? ""} ${o.trackingNumber}</dd>` : ""}
  </dl>
</section>
<h2>Timeline</h2>
<ol class="timeline">${timeline(o).map(
        (s) => html`<li><time datetime="${s.at}">${when(s.at)}</time> ${s.what}</li>`,
      )}</ol>`,
    });
  });
