import { html } from "hono/html";
import type { PublicProductView } from "../../../services/catalog/views.ts";
import type { Availability } from "../../../services/inventory/availability.ts";
import type { Html } from "../../layout.ts";

/** Availability as the buyer's pages say it. */
export const AVAILABILITY_LABEL: Record<Availability["status"], string> = {
  in_stock: "In stock",
  low_stock: "Low stock",
  out_of_stock: "Out of stock",
  unknown: "Availability unknown",
};

function level(a: Availability): Html {
  return html`<span class="badge ${a.status}">${AVAILABILITY_LABEL[a.status]}</span>${
    a.quantity !== null ? html` <span class="muted">${a.quantity}</span>` : ""
  }`;
}

/**
 * Where the product can be had, per location (the catalog's per-location availability, as
 * `GET /v1/products/{id}` gives it): delivery from the warehouse, pickup at each branch.
 */
export function availabilityByLocation(p: PublicProductView): Html {
  const { delivery, pickup } = p.fulfilment;
  if (!delivery && pickup.length === 0) return html``;
  return html`<section class="card" aria-labelledby="where-heading">
  <h2 id="where-heading">Where to get it</h2>
  <div class="table-wrap"><table class="grid-table" id="availability">
    <caption class="sr-only">Units available per location</caption>
    <thead><tr><th scope="col">Location</th><th scope="col">Available</th></tr></thead>
    <tbody>
      ${delivery ? html`<tr><th scope="row">Delivery</th><td>${level(delivery.availability)}</td></tr>` : ""}
      ${pickup.map((b) => html`<tr><th scope="row">Pickup at ${b.name}</th><td>${level(b.availability)}</td></tr>`)}
    </tbody>
  </table></div>
</section>`;
}

/** A signed-in viewer's actions on a product: into the cart (fixed price), onto the wishlist. */
export function productActions(p: PublicProductView, signedIn: boolean): Html {
  if (!signedIn) {
    return html`<p><a href="/console/sign-in?next=${encodeURIComponent(`/console/products/${p.id}`)}">Sign in</a> to buy or save it.</p>`;
  }
  return html`<div class="actions">
  ${
    p.listingType === "fixed" && p.availability.status !== "out_of_stock"
      ? html`<form method="post" action="/console/cart" class="inline">
    <input type="hidden" name="productId" value="${p.id}">
    <label for="f-add-qty">Quantity</label>
    <input id="f-add-qty" name="quantity" type="number" inputmode="numeric" min="1" step="1" value="1">
    <button type="submit">Add to cart</button>
  </form>`
      : ""
  }
  <form method="post" action="/console/wishlist">
    <input type="hidden" name="productId" value="${p.id}">
    <button type="submit" class="secondary">Save to wishlist</button>
  </form>
  <a href="/console/messages/new?shop=${p.shop.id}&amp;product=${p.id}">Ask the shop</a>
</div>`;
}
