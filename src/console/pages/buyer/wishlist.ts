import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import {
  addToWishlist,
  listWishlist,
  removeFromWishlist,
  type WishlistItemView,
} from "../../../services/wishlist/wishlist.ts";
import { type Html, money, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { AVAILABILITY_LABEL } from "./product.ts";
import { buyerTabs, formOf, idParam, signedIn } from "./ui.ts";

const WISHLIST_PAGE = 50;

function item(w: WishlistItemView): Html {
  const buyable = w.listingType === "fixed" && w.availability.status !== "out_of_stock";
  return html`<li class="card" id="wish-${w.productId}">
  <h2><a href="/console/products/${w.productId}">${w.title}</a></h2>
  <p class="price">${money(w.priceMinor, w.currency)} <span class="badge ${w.availability.status}">${AVAILABILITY_LABEL[w.availability.status]}</span></p>
  <p class="muted">${w.shop.name}</p>
  <div class="actions">
    ${
      buyable
        ? html`<form method="post" action="/console/cart"><input type="hidden" name="productId" value="${w.productId}"><input type="hidden" name="quantity" value="1">
      <button type="submit">Add to cart<span class="sr-only"> ${w.title}</span></button></form>`
        : ""
    }
    <a href="/console/messages/new?shop=${w.shop.id}&amp;product=${w.productId}">Ask the shop<span class="sr-only"> about ${w.title}</span></a>
    <form method="post" action="/console/wishlist/${w.productId}/remove">
      <button type="submit" class="danger">Remove<span class="sr-only"> ${w.title}</span></button>
    </form>
  </div>
</li>`;
}

async function wishlistPage(c: Context<AppEnv>): Promise<Response> {
  const cursor = c.req.query("cursor") || undefined;
  const list = await listWishlist(serviceContext(c), signedIn(c).id, {
    limit: WISHLIST_PAGE,
    ...(cursor ? { cursor } : {}),
  });
  return page(c, {
    title: "Wishlist",
    body: html`${buyerTabs(c)}
${
  list.items.length === 0
    ? html`<p>Nothing saved yet. On a product's page, choose “Save to wishlist”.</p>`
    : html`<ul class="grid">${list.items.map(item)}</ul>`
}
${
  list.nextCursor
    ? html`<p><a class="button" href="/console/wishlist?cursor=${encodeURIComponent(list.nextCursor)}">More</a></p>`
    : ""
}`,
  });
}

/** The buyer's wishlist (the wishlist service): current price and stock, add to cart, remove. */
export const wishlistPages = new Hono<AppEnv>()
  .use("/wishlist", requireViewer())
  .use("/wishlist/*", requireViewer())
  .get("/wishlist", (c) => wishlistPage(c))
  .post("/wishlist", async (c) => {
    const form = await formOf(c);
    await addToWishlist(serviceContext(c), signedIn(c).id, { productId: form.productId ?? "" });
    return c.redirect("/console/wishlist", 303);
  })
  .post("/wishlist/:productId/remove", async (c) => {
    const productId = idParam(c, "productId", "wishlist item");
    await removeFromWishlist(serviceContext(c), signedIn(c).id, productId);
    return c.redirect("/console/wishlist", 303);
  });
