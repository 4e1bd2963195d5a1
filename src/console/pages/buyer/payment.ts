import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import type { Stripe } from "../../../lib/stripe.ts";
import { DEV_ENVIRONMENTS } from "../../../routes/dev/index.ts";
import { MAX_SHOPS_PER_CHECKOUT } from "../../../services/checkout/plan.ts";
import { NotFound } from "../../../services/errors.ts";
import { getBuyerOrder } from "../../../services/orders/queries.ts";
import type { OrderDetailView } from "../../../services/orders/views.ts";
import { isAwaitingPayment, metadataOrderIds } from "../../../services/payments/checkouts.ts";
import { alert, type Html, money, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { formOf, signedIn } from "./ui.ts";

const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9_]{1,200}$/;

/** The emulator's test cards a buyer may pick locally (scripts/stripe-pay.ts lists them all). */
const TEST_CARDS = [
  { id: "pm_card_visa", label: "Visa 4242 (succeeds)" },
  { id: "pm_card_chargeDeclined", label: "Declined card" },
] as const;

interface Payment {
  intent: Stripe.PaymentIntent;
  orders: OrderDetailView[];
}

/**
 * A PaymentIntent and the orders it pays, only for the buyer of every one of them: an intent
 * that is not the viewer's (or not Stripe's at all) is the same 404 as an order that is not.
 */
async function paymentOf(c: Context<AppEnv>): Promise<Payment> {
  const id = c.req.param("pi") ?? "";
  if (!PAYMENT_INTENT_ID.test(id)) throw new NotFound("payment", id);
  const ctx = serviceContext(c);
  const user = signedIn(c);
  let intent: Stripe.PaymentIntent;
  try {
    intent = await ctx.stripe.paymentIntents.retrieve(id);
  } catch {
    throw new NotFound("payment", id);
  }
  const ids = metadataOrderIds(intent.metadata);
  if (ids.length === 0) throw new NotFound("payment", id);
  const orders = await Promise.all(ids.map((o) => getBuyerOrder(ctx.db, user.id, o)));
  return { intent, orders };
}

/** Locally, Stripe is the emulator: its test payment stands in for the Payment Element. */
function emulatorOf(c: Context<AppEnv>): string | null {
  const { config } = c.get("services");
  return config.STRIPE_API_BASE && DEV_ENVIRONMENTS.includes(config.ENVIRONMENT)
    ? config.STRIPE_API_BASE.replace(/\/$/, "")
    : null;
}

const isPaid = (o: OrderDetailView) => o.paidAt !== null;

function orderList(orders: OrderDetailView[]): Html {
  return html`<ul class="stack">${orders.map(
    (o) => html`<li class="card"><a href="/console/orders/${o.id}">Order from ${o.shop.name}</a>
  <span class="badge ${o.status}">${o.status.replaceAll("_", " ")}</span> ${money(o.totalMinor, o.currency)}</li>`,
  )}</ul>`;
}

/**
 * While the webhook is on its way: htmx asks for the orders' state every second (from Postgres,
 * not Stripe); without script, a link.
 */
function waiting(piId: string, orders: OrderDetailView[]): Html {
  const self = `/console/checkout/payments/${piId}`;
  const ids = orders.map((o) => o.id).join(",");
  return html`<div id="payment-status" hx-get="${self}/status?orders=${ids}" hx-trigger="every 1s" hx-swap="outerHTML" role="status">
  <p>Payment received by Stripe; waiting for its confirmation to reach Souk…</p>
  <p><a href="${self}">Refresh</a></p>
</div>`;
}

/**
 * In production: Stripe's Payment Element, mounted by /console/pay.js with the publishable key
 * and this intent's client secret (the page is its buyer's alone). Stripe takes the card, then
 * sends the buyer back here (`return_url`), where the page waits for the webhook as above.
 */
export function paymentElement(opts: {
  publishableKey: string;
  clientSecret: string;
  returnUrl: string;
  total: string;
}): Html {
  return html`<form id="pay-form" class="card narrow">
  <div id="payment-element" data-publishable-key="${opts.publishableKey}" data-client-secret="${opts.clientSecret}" data-return-url="${opts.returnUrl}"></div>
  <p id="pay-error" class="error" role="alert"></p>
  <button type="submit" id="pay-button">Pay ${opts.total}</button>
</form>
<script src="https://js.stripe.com/v3/" defer></script>
<script src="/console/pay.js" defer></script>`;
}

function payForm(c: Context<AppEnv>, p: Payment): Html {
  const total = money(p.intent.amount, p.intent.currency.toUpperCase());
  if (!emulatorOf(c)) {
    const { config } = c.get("services");
    if (!config.STRIPE_PUBLISHABLE_KEY || !p.intent.client_secret) {
      return html`<p>Pay ${total} in the Souk app: this console has no Stripe publishable key (STRIPE_PUBLISHABLE_KEY).</p>`;
    }
    return paymentElement({
      publishableKey: config.STRIPE_PUBLISHABLE_KEY,
      clientSecret: p.intent.client_secret,
      returnUrl: new URL(`/console/checkout/payments/${p.intent.id}`, config.PUBLIC_URL).toString(),
      total,
    });
  }
  return html`<form method="post" action="/console/checkout/payments/${p.intent.id}" class="card narrow">
  <p class="hint">Local Stripe emulator: a test payment, no real card.</p>
  <div class="field">
    <label for="f-card">Test card</label>
    <select id="f-card" name="card">${TEST_CARDS.map((t) => html`<option value="${t.id}">${t.label}</option>`)}</select>
  </div>
  <button type="submit">Pay ${total}</button>
</form>`;
}

const isSettling = (p: Payment) =>
  p.intent.status === "succeeded" || p.intent.status === "processing";

function paymentBody(c: Context<AppEnv>, p: Payment, message?: string): Html {
  const failed = p.orders.some((o) => o.status === "payment_failed");
  return html`${alert(message ?? (failed ? "The payment failed; you can try again." : null))}
${orderList(p.orders)}
${
  p.orders.every(isPaid)
    ? html`<p role="status">Paid. Thank you!</p>`
    : isSettling(p)
      ? waiting(p.intent.id, p.orders)
      : p.orders.some(isAwaitingPayment)
        ? payForm(c, p)
        : html`<p>These orders can no longer be paid.</p>`
}`;
}

/** The order a payment of one order lands on once paid; null while unpaid or for several. */
function paidOrderOf(orders: OrderDetailView[]): string | null {
  const [only] = orders;
  return orders.length === 1 && only && isPaid(only) ? `/console/orders/${only.id}` : null;
}

async function paymentPage(
  c: Context<AppEnv>,
  p: Payment,
  opts: { message?: string; status?: ContentfulStatusCode } = {},
): Promise<Response> {
  // Paid: the buyer lands on the order.
  const paid = paidOrderOf(p.orders);
  if (paid) return c.redirect(paid, 303);
  return page(c, {
    title: "Payment",
    status: opts.status ?? 200,
    body: paymentBody(c, p, opts.message),
  });
}

const orderIdsQuery = z
  .string()
  .transform((s) => s.split(","))
  .pipe(z.array(z.uuid()).min(1).max(MAX_SHOPS_PER_CHECKOUT));

/**
 * After confirm: the orders of the checkout's PaymentIntent and their payment. Locally the buyer
 * pays with one of the emulator's test cards (the Worker asks the emulator, as
 * `npm run stripe:pay` does); Stripe then sends its webhook, which marks the orders paid, and the
 * page follows the buyer there.
 */
export const paymentPages = new Hono<AppEnv>()
  .use("/checkout/payments/*", requireViewer())
  .get("/checkout/payments/:pi", async (c) => paymentPage(c, await paymentOf(c)))
  // The polling fragment: the same while every order awaits the webhook; then the order (one,
  // paid) or the whole page again (several, or the payment failed).
  .get("/checkout/payments/:pi/status", async (c) => {
    const pi = c.req.param("pi");
    const ids = orderIdsQuery.safeParse(c.req.query("orders") ?? "");
    if (!PAYMENT_INTENT_ID.test(pi) || !ids.success) throw new NotFound("payment", pi);
    const db = serviceContext(c).db;
    const user = signedIn(c);
    const orders = await Promise.all(ids.data.map((id) => getBuyerOrder(db, user.id, id)));
    const settling = orders.every((o) => isPaid(o) || o.status === "pending_payment");
    if (settling && !orders.every(isPaid)) return c.html(waiting(pi, orders));
    c.header("HX-Redirect", paidOrderOf(orders) ?? `/console/checkout/payments/${pi}`);
    return c.body(null, 200);
  })
  .post("/checkout/payments/:pi", async (c) => {
    const emulator = emulatorOf(c);
    const p = await paymentOf(c);
    if (!emulator) throw new NotFound("page", c.req.path);
    const card = (await formOf(c)).card ?? "";
    const test = TEST_CARDS.find((t) => t.id === card) ?? TEST_CARDS[0];
    if (p.orders.some(isAwaitingPayment) && p.intent.status !== "succeeded") {
      const res = await fetch(`${emulator}/_emulator/payment_intents/${p.intent.id}/pay`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ payment_method: test.id }),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        const again = await paymentOf(c);
        return paymentPage(c, again, {
          message: `The card was refused: ${body.error?.message ?? `HTTP ${res.status}`}`,
          status: 402,
        });
      }
    }
    return c.redirect(`/console/checkout/payments/${p.intent.id}`, 303);
  });
