import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { parseOr422 } from "../../../lib/input.ts";
import {
  addCartItem,
  type CartLineFlag,
  type CartLineView,
  type CartView,
  getCart,
  removeCartItem,
  setCartItemQuantity,
} from "../../../services/cart/cart.ts";
import { MAX_LINE_QUANTITY } from "../../../services/cart/lines.ts";
import { refusalOf } from "../../errors.ts";
import { alert, type Html, money, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { buyerTabs, formOf, idParam, signedIn } from "./ui.ts";

const FLAG_LABEL: Record<CartLineFlag, string> = {
  product_unavailable: "No longer on sale",
  not_for_sale: "Now sold by auction",
  shop_unavailable: "Shop unavailable",
  shop_paused: "Shop not taking orders",
  insufficient_stock: "Not enough in stock",
  stock_unknown: "Stock cannot be checked",
};

/** A refusal kept beside the line it is about: the quantity typed and the service's message. */
interface LineError {
  productId: string;
  typed: string;
  message: string;
}

/** The quantity as a form sends it (text); the cart service checks its range. */
const quantityForm = z.object({ quantity: z.coerce.number().int() });

function lineRow(l: CartLineView, error: LineError | null): Html {
  const id = `line-${l.productId}`;
  const name = l.title ?? "An item no longer available";
  const err = error?.productId === l.productId ? error : null;
  return html`<tr id="${id}">
  <th scope="row">${
    l.title ? html`<a href="/console/products/${l.productId}">${l.title}</a>` : name
  }${l.shop ? html`<span class="muted block">${l.shop.name}</span>` : ""}${l.flags.map(
    (f) => html` <span class="badge out_of_stock">${FLAG_LABEL[f]}</span>`,
  )}</th>
  <td class="num">${l.unitPriceMinor !== null && l.currency ? money(l.unitPriceMinor, l.currency) : "—"}</td>
  <td>
    <form method="post" action="/console/cart/${l.productId}" class="inline">
      <label class="sr-only" for="${id}-qty">Quantity of ${name}</label>
      <input id="${id}-qty" name="quantity" type="number" inputmode="numeric" min="1" max="${MAX_LINE_QUANTITY}" step="1" value="${err ? err.typed : l.quantity}"${
        err ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""
      }>
      <button type="submit" class="secondary">Update<span class="sr-only"> ${name}</span></button>
    </form>
    ${err ? html`<p class="error" id="${id}-error">${err.message}</p>` : ""}
  </td>
  <td class="num">${l.lineTotalMinor !== null && l.currency ? money(l.lineTotalMinor, l.currency) : "—"}</td>
  <td><form method="post" action="/console/cart/${l.productId}/remove">
    <button type="submit" class="danger">Remove<span class="sr-only"> ${name}</span></button>
  </form></td>
</tr>`;
}

function cartBody(c: Context<AppEnv>, cart: CartView, error: LineError | null, message?: string) {
  if (cart.lines.length === 0) {
    return html`${buyerTabs(c)}${alert(message)}<p>Your cart is empty. <a href="/console/products">Browse products</a>.</p>`;
  }
  return html`${buyerTabs(c)}${alert(message)}
<div class="table-wrap"><table class="grid-table" id="cart">
<caption class="sr-only">Items in your cart; change a quantity or remove an item</caption>
<thead><tr><th scope="col">Item</th><th scope="col" class="num">Price</th><th scope="col">Quantity</th><th scope="col" class="num">Line</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
<tbody>${cart.lines.map((l) => lineRow(l, error))}</tbody>
</table></div>
<dl class="facts">
  <dt>Items</dt><dd>${cart.itemCount}</dd>
  ${cart.subtotals.map(
    (s) =>
      html`<dt>Subtotal${cart.subtotals.length > 1 ? ` (${s.currency})` : ""}</dt><dd id="cart-subtotal"><strong>${money(s.subtotalMinor, s.currency)}</strong></dd>`,
  )}
</dl>
<p class="hint">Delivery is priced at checkout, where you choose delivery or pickup for each shop.</p>
${
  cart.checkoutReady
    ? html`<form method="get" action="/console/checkout"><button type="submit">Check out</button></form>`
    : html`<p class="hint">${
        cart.subtotals.length > 1
          ? "A checkout takes one currency: check out one currency's items at a time."
          : "Remove or fix the flagged items to check out."
      }</p>`
}`;
}

async function cartPage(
  c: Context<AppEnv>,
  opts: { error?: LineError | null; message?: string; status?: ContentfulStatusCode } = {},
): Promise<Response> {
  const cart = await getCart(serviceContext(c), signedIn(c).id);
  return page(c, {
    title: "Cart",
    status: opts.status ?? 200,
    body: cartBody(c, cart, opts.error ?? null, opts.message),
  });
}

/**
 * The buyer's cart: current prices and live availability (the cart service), quantities edited
 * in place, lines removed, the subtotal per currency. A refused quantity (not that many in
 * stock, out of range) stays beside its line with the service's message.
 */
export const cartPages = new Hono<AppEnv>()
  .use("/cart", requireViewer())
  .use("/cart/*", requireViewer())
  .get("/cart", (c) => cartPage(c))
  // "Add to cart" from a product or the wishlist.
  .post("/cart", async (c) => {
    const form = await formOf(c);
    const { quantity } = parseOr422(quantityForm, { quantity: form.quantity || "1" });
    await addCartItem(serviceContext(c), signedIn(c).id, {
      productId: form.productId ?? "",
      quantity,
    });
    return c.redirect("/console/cart", 303);
  })
  .post("/cart/:productId/remove", async (c) => {
    const productId = idParam(c, "productId", "cart line");
    await removeCartItem(serviceContext(c), signedIn(c).id, productId);
    return c.redirect("/console/cart", 303);
  })
  .post("/cart/:productId", async (c) => {
    const productId = idParam(c, "productId", "cart line");
    const typed = (await formOf(c)).quantity ?? "";
    try {
      const input = parseOr422(quantityForm, { quantity: typed });
      await setCartItemQuantity(serviceContext(c), signedIn(c).id, productId, input);
      return c.redirect("/console/cart", 303);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      if (r.status !== 422 && r.status !== 409) throw err;
      return cartPage(c, {
        status: r.status,
        error: { productId, typed, message: r.fields.quantity ?? r.detail },
      });
    }
  });
