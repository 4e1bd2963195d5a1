import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../../http/context.ts";
import {
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENCY_KEY_RULE,
  requestHash,
} from "../../../http/middleware/idempotency.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { parseOr422 } from "../../../lib/input.ts";
import { enforceLimit } from "../../../lib/rate-limit.ts";
import { type CartView, getCart } from "../../../services/cart/cart.ts";
import { confirmCheckout } from "../../../services/checkout/confirm.ts";
import type { CheckoutInput } from "../../../services/checkout/plan.ts";
import { type CheckoutPreview, previewCheckout } from "../../../services/checkout/preview.ts";
import { type SlotOffer, slotOffers } from "../../../services/delivery/booking.ts";
import { ValidationFailed } from "../../../services/errors.ts";
import { type BranchView, listBranches } from "../../../services/shops/locations.ts";
import {
  type AddressView,
  createAddress,
  createAddressInput,
  listAddresses,
} from "../../../services/users/addresses.ts";
import { refusalOf } from "../../errors.ts";
import { alert, type FieldMessages, field, type Html, money, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { buyerTabs, formOf, signedIn } from "./ui.ts";

/** Addresses offered at checkout; more are managed through the API. */
const ADDRESSES_SHOWN = 20;

/** One shop of the cart, with what it offers: pickup branches and open delivery windows. */
interface ShopChoices {
  shopId: string;
  shopName: string;
  branches: BranchView[];
  slots: SlotOffer | null;
}

/** What the buyer chose for a shop, as the form carries it (field names are the API's paths). */
type Chosen = Record<string, string>;

const fieldName = (i: number, key: string) => `fulfilment.${i}.${key}`;

/** The shops of the cart's purchasable lines, in the cart's order. */
function shopsOf(cart: CartView): Array<{ id: string; name: string }> {
  const seen = new Map<string, string>();
  for (const l of cart.lines) if (l.purchasable && l.shop) seen.set(l.shop.id, l.shop.name);
  return [...seen].map(([id, name]) => ({ id, name }));
}

async function choicesOf(c: Context<AppEnv>, cart: CartView): Promise<ShopChoices[]> {
  const ctx = serviceContext(c);
  const shops = shopsOf(cart);
  const [branches, offers] = await Promise.all([
    Promise.all(shops.map((s) => listBranches(ctx, s.id))),
    slotOffers(
      ctx.slots,
      shops.map((s) => s.id),
      new Map(),
    ),
  ]);
  return shops.map((s, i) => ({
    shopId: s.id,
    shopName: s.name,
    branches: (branches[i]?.items ?? []).filter((b) => b.pickupEnabled),
    slots: offers.offers.get(s.id) ?? null,
  }));
}

/** The form's fields as the checkout service's input: one fulfilment entry per shop. */
function inputOf(form: Chosen, shopCount: number): CheckoutInput {
  const fulfilment = Array.from({ length: shopCount }, (_, i) => {
    const get = (k: string) => form[fieldName(i, k)] ?? "";
    const shopId = get("shopId");
    const method = get("method");
    if (method === "pickup") return { shopId, method, locationId: get("locationId") } as const;
    const slotStart = get("slotStart");
    return {
      shopId,
      // Anything but the two methods is left for the service to name (422 on the field).
      method: method as "delivery",
      addressId: get("addressId"),
      ...(slotStart ? { slotStart } : {}),
    };
  });
  const expected = form.expectedTotalMinor;
  return {
    fulfilment,
    ...(expected && /^\d+$/.test(expected) ? { expectedTotalMinor: Number(expected) } : {}),
  };
}

function selected(on: boolean): Html {
  return on ? html` selected` : html``;
}

function errorOf(errors: FieldMessages, name: string, id: string): Html {
  const e = errors[name];
  return e ? html`<p class="error" id="${id}-error">${e}</p>` : html``;
}

function invalid(errors: FieldMessages, name: string, id: string): Html {
  return errors[name] ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}

function addressLabel(a: AddressView): string {
  return [a.label, a.recipientName, a.line1, `${a.postalCode} ${a.city}`, a.country]
    .filter(Boolean)
    .join(", ");
}

function slotLabel(s: SlotOffer["slots"][number]): string {
  return `${s.localDate} ${s.localStart} (${s.remaining} left)`;
}

/** One shop's fieldset: delivery to an address (and a window, if the shop has them) or pickup. */
function shopFieldset(
  s: ShopChoices,
  i: number,
  addresses: AddressView[],
  chosen: Chosen,
  errors: FieldMessages,
): Html {
  const get = (k: string) => chosen[fieldName(i, k)] ?? "";
  const method =
    get("method") || (addresses.length === 0 && s.branches.length > 0 ? "pickup" : "delivery");
  const id = (k: string) => `f-${i}-${k}`;
  const defaultAddress = addresses.find((a) => a.isDefault)?.id ?? addresses[0]?.id ?? "";
  const addressId = get("addressId") || defaultAddress;
  const methodName = fieldName(i, "method");
  return html`<fieldset class="card" id="shop-${s.shopId}">
  <legend>${s.shopName}</legend>
  <input type="hidden" name="${fieldName(i, "shopId")}" value="${s.shopId}">
  <fieldset class="field">
    <legend>How it reaches you</legend>
    <label><input type="radio" name="${methodName}" value="delivery"${method === "delivery" ? html` checked` : ""}> Delivery</label>
    <label><input type="radio" name="${methodName}" value="pickup"${method === "pickup" ? html` checked` : ""}${
      s.branches.length === 0 ? html` disabled` : ""
    }> Pickup at a branch${s.branches.length === 0 ? " (none offered)" : ""}</label>
    ${errorOf(errors, methodName, id("method"))}
  </fieldset>
  <div class="field">
    <label for="${id("addressId")}">Delivery address</label>
    <select id="${id("addressId")}" name="${fieldName(i, "addressId")}"${invalid(errors, fieldName(i, "addressId"), id("addressId"))}>
      ${addresses.length === 0 ? html`<option value="">No address yet: add one below</option>` : ""}
      ${addresses.map((a) => html`<option value="${a.id}"${selected(a.id === addressId)}>${addressLabel(a)}</option>`)}
    </select>
    ${errorOf(errors, fieldName(i, "addressId"), id("addressId"))}
  </div>
  ${
    s.slots?.configured
      ? html`<div class="field">
    <label for="${id("slotStart")}">Delivery window</label>
    <select id="${id("slotStart")}" name="${fieldName(i, "slotStart")}"${invalid(errors, fieldName(i, "slotStart"), id("slotStart"))}>
      <option value="">No preference</option>
      ${s.slots.slots.map((w) => html`<option value="${w.start}"${selected(w.start === get("slotStart"))}>${slotLabel(w)}</option>`)}
    </select>
    ${errorOf(errors, fieldName(i, "slotStart"), id("slotStart"))}
  </div>`
      : ""
  }
  ${
    s.branches.length > 0
      ? html`<div class="field">
    <label for="${id("locationId")}">Pickup branch</label>
    <select id="${id("locationId")}" name="${fieldName(i, "locationId")}"${invalid(errors, fieldName(i, "locationId"), id("locationId"))}>
      ${s.branches.map(
        (b) =>
          html`<option value="${b.id}"${selected(b.id === get("locationId"))}>${b.name}${b.openNow ? " (open now)" : ""}</option>`,
      )}
    </select>
    ${errorOf(errors, fieldName(i, "locationId"), id("locationId"))}
  </div>`
      : ""
  }
</fieldset>`;
}

function addressForm(errors: FieldMessages, typed: Chosen): Html {
  const f = (
    name: string,
    label: string,
    opts: { required?: boolean; autocomplete?: string } = {},
  ) => field({ name, label, value: typed[name] ?? "", errors, ...opts });
  return html`<details class="card narrow"${Object.keys(errors).length ? html` open` : ""}>
  <summary>Add a delivery address</summary>
  <form method="post" action="/console/checkout/address" novalidate>
    ${f("recipientName", "Recipient", { required: true, autocomplete: "name" })}
    ${f("line1", "Street and number", { required: true, autocomplete: "address-line1" })}
    ${f("line2", "Address line 2", { autocomplete: "address-line2" })}
    ${f("postalCode", "Postal code", { required: true, autocomplete: "postal-code" })}
    ${f("city", "City", { required: true, autocomplete: "address-level2" })}
    ${f("country", "Country (two letters, e.g. PT)", { required: true, autocomplete: "country" })}
    ${f("phone", "Phone (+country code, optional)", { autocomplete: "tel" })}
    <button type="submit" class="secondary">Save address</button>
  </form>
</details>`;
}

interface ChooseState {
  chosen?: Chosen;
  errors?: FieldMessages;
  message?: string | undefined;
  addressErrors?: FieldMessages;
  addressTyped?: Chosen;
  status?: ContentfulStatusCode;
}

/** Step 1: how each shop's order reaches the buyer. */
async function choosePage(c: Context<AppEnv>, state: ChooseState = {}): Promise<Response> {
  const ctx = serviceContext(c);
  const user = signedIn(c);
  const cart = await getCart(ctx, user.id);
  const [choices, addresses] = await Promise.all([
    choicesOf(c, cart),
    listAddresses(ctx, user.id, { limit: ADDRESSES_SHOWN }),
  ]);
  if (choices.length === 0) {
    return page(c, {
      title: "Checkout",
      body: html`${buyerTabs(c)}<p>Nothing to check out. <a href="/console/cart">Back to the cart</a>.</p>`,
    });
  }
  const subtotal = cart.subtotals[0];
  return page(c, {
    title: "Checkout",
    status: state.status ?? 200,
    body: html`${alert(state.message)}
<p>${cart.itemCount} items${subtotal ? html` · subtotal ${money(subtotal.subtotalMinor, subtotal.currency)}` : ""} · <a href="/console/cart">Change the cart</a></p>
<form method="post" action="/console/checkout/preview" class="stack" novalidate>
  ${choices.map((s, i) => shopFieldset(s, i, addresses.items, state.chosen ?? {}, state.errors ?? {}))}
  <input type="hidden" name="shops" value="${choices.length}">
  <p><button type="submit">Review order</button></p>
</form>
${addressForm(state.addressErrors ?? {}, state.addressTyped ?? {})}`,
  });
}

function fulfilmentText(s: CheckoutPreview["shops"][number]): string {
  const f = s.fulfilment;
  if (f.method === "pickup") return `Pickup at ${f.locationName}`;
  return `Delivery to ${f.address.recipientName}, ${f.address.line1}, ${f.address.postalCode} ${f.address.city}`;
}

/** Step 2: the preview's prices, and the confirm form carrying the same choices. */
function reviewBody(p: CheckoutPreview, chosen: Chosen, shopCount: number): Html {
  const keep = Object.entries(chosen).filter(([k]) => k.startsWith("fulfilment."));
  return html`${p.warnings.map((w) => alert(w.message))}
${p.shops.map(
  (s) => html`<section class="card" aria-labelledby="review-${s.shopId}">
  <h2 id="review-${s.shopId}">${s.shopName}</h2>
  <p>${fulfilmentText(s)}</p>
  <div class="table-wrap"><table class="grid-table">
    <caption class="sr-only">Items from ${s.shopName}</caption>
    <thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Line</th></tr></thead>
    <tbody>${s.lines.map(
      (l) =>
        html`<tr><th scope="row">${l.title}</th><td class="num">${l.quantity}</td><td class="num">${money(l.lineTotalMinor, p.currency)}</td></tr>`,
    )}</tbody>
  </table></div>
  <dl class="facts">
    <dt>Subtotal</dt><dd>${money(s.subtotalMinor, p.currency)}</dd>
    <dt>Delivery</dt><dd>${money(s.deliveryFeeMinor, p.currency)}</dd>
  </dl>
</section>`,
)}
<dl class="facts">
  <dt>Subtotal</dt><dd>${money(p.subtotalMinor, p.currency)}</dd>
  <dt>Delivery</dt><dd>${money(p.deliveryFeeMinor, p.currency)}</dd>
  <dt>Total</dt><dd id="checkout-total"><strong>${money(p.totalMinor, p.currency)}</strong></dd>
</dl>
<form method="post" action="/console/checkout/confirm">
  ${keep.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <input type="hidden" name="shops" value="${shopCount}">
  <input type="hidden" name="expectedTotalMinor" value="${p.totalMinor}">
  <input type="hidden" name="key" value="${crypto.randomUUID()}">
  <div class="actions">
    <button type="submit"${p.ready ? "" : html` disabled`}>Place order and pay ${money(p.totalMinor, p.currency)}</button>
    <a href="/console/checkout">Change choices</a>
  </div>
  <p class="hint">The stock is held for you while you pay; unpaid orders expire.</p>
</form>`;
}

function shopCountOf(form: Chosen): number {
  const n = Number(form.shops);
  return Number.isInteger(n) && n >= 1 && n <= 10 ? n : 1;
}

/** A refusal the choices page shows: field errors beside their fields, the rest on top. */
async function refused(c: Context<AppEnv>, err: unknown, chosen: Chosen): Promise<Response> {
  if (!(err instanceof Error)) throw err;
  const r = await refusalOf(err, c);
  if (![402, 409, 422, 429].includes(r.status)) throw err;
  return choosePage(c, {
    chosen,
    errors: r.fields,
    message: Object.keys(r.fields).length ? "Check the choices below." : r.detail,
    status: r.status,
  });
}

/**
 * Checkout in the console, as a buyer does it through the API: choose delivery (an address, a
 * delivery window when the shop has them) or pickup (a branch) for each shop; the preview prices
 * it; confirm holds the stock and creates the orders and one PaymentIntent, under the same
 * Idempotency-Key rules (a key minted with the review, so a double submit is one purchase) and
 * the same per-user limit; then the payment page.
 */
export const checkoutPages = new Hono<AppEnv>()
  .use("/checkout", requireViewer())
  .use("/checkout/*", requireViewer())
  .get("/checkout", (c) => choosePage(c))
  .post("/checkout/address", async (c) => {
    const form = await formOf(c);
    const blankToNull = (v: string | undefined) => (v?.trim() ? v : null);
    try {
      const input = parseOr422(createAddressInput, {
        recipientName: form.recipientName ?? "",
        line1: form.line1 ?? "",
        line2: blankToNull(form.line2),
        city: form.city ?? "",
        postalCode: form.postalCode ?? "",
        country: form.country ?? "",
        phone: blankToNull(form.phone),
      });
      await createAddress(serviceContext(c), signedIn(c).id, input);
      return c.redirect("/console/checkout", 303);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const r = await refusalOf(err, c);
      return choosePage(c, {
        addressErrors: r.fields,
        addressTyped: form,
        message: "Check the address below.",
        status: 422,
      });
    }
  })
  .post("/checkout/preview", async (c) => {
    const form = await formOf(c);
    const count = shopCountOf(form);
    try {
      const preview = await previewCheckout(
        serviceContext(c),
        signedIn(c).id,
        inputOf(form, count),
      );
      return page(c, { title: "Review your order", body: reviewBody(preview, form, count) });
    } catch (err) {
      return refused(c, err, form);
    }
  })
  .post("/checkout/confirm", async (c) => {
    const form = await formOf(c);
    const user = signedIn(c);
    const key = form.key ?? "";
    try {
      if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
        throw new ValidationFailed([{ field: "key", in: "body", message: IDEMPOTENCY_KEY_RULE }]);
      }
      const input = inputOf(form, shopCountOf(form));
      // The API's limit on confirms, per buyer: the page is no way around it.
      await enforceLimit(c.get("services").redis, "checkout", user.id);
      const { checkout } = await confirmCheckout(serviceContext(c), user.id, input, {
        key,
        requestHash: await requestHash("POST", JSON.stringify(input)),
      });
      return c.redirect(`/console/checkout/payments/${checkout.paymentIntentId}`, 303);
    } catch (err) {
      return refused(c, err, form);
    }
  });
