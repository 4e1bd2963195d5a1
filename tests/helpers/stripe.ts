/**
 * Stripe in the payments tests: the real SDK against the local emulator (tests/global-setup.ts),
 * webhooks signed as Stripe signs them and handed to the Worker's route (inside vitest-plugin the
 * Worker has no TCP port for the emulator to reach), the consumer's progress read from Postgres,
 * and a checkout seeded the way `/v1/checkout/confirm` leaves one: held stock, pending orders,
 * a real PaymentIntent.
 */
import { env, exports } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import Stripe from "stripe";
import {
  categories,
  checkouts,
  orderItems,
  orders,
  products,
  shops,
  stripeEvents,
} from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { reserveLines } from "../../src/services/orders/reservations.ts";
import { withDb } from "./db.ts";
import { eventually } from "./eventually.ts";
import { randomIp } from "./http.ts";
import { seedShop, type TestShop } from "./shops.ts";
import { newProduct, type StockStub, stockUp } from "./stock.ts";
import { captured, emulator, stripeBinding } from "./stripe-emulator.ts";
import { registerUser, type TestUser } from "./users.ts";

export { emulator, eventually };

/** The real SDK aimed at the emulator, with retries (as the Worker's own client has). */
export function stripeClient(): Stripe {
  const base = new URL(stripeBinding("STRIPE_API_BASE"));
  return new Stripe(stripeBinding("STRIPE_SECRET_KEY"), {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    maxNetworkRetries: 1,
  });
}

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** `t=…,v1=HMAC_SHA256(secret, t + "." + body)`: the Stripe-Signature header Stripe would send. */
export async function signPayload(
  payload: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${timestamp}.${payload}`),
  );
  return `t=${timestamp},v1=${hex(mac)}`;
}

export type Endpoint = "platform" | "connect";

export const webhookSecret = (endpoint: Endpoint) =>
  stripeBinding(
    endpoint === "platform" ? "STRIPE_WEBHOOK_SECRET" : "STRIPE_CONNECT_WEBHOOK_SECRET",
  );

const webhookPath = (endpoint: Endpoint) =>
  endpoint === "platform" ? "/v1/webhooks/stripe" : "/v1/webhooks/stripe/connect";

/** POSTs a raw body to a webhook route; signed with the right secret unless `signature` is given. */
export async function postWebhook(
  payload: string,
  opts: { endpoint?: Endpoint; signature?: string | null; timestamp?: number } = {},
): Promise<{ status: number; body: unknown }> {
  const endpoint = opts.endpoint ?? "platform";
  const signature =
    opts.signature === undefined
      ? await signPayload(payload, webhookSecret(endpoint), opts.timestamp)
      : opts.signature;
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "cf-connecting-ip": randomIp(),
  };
  if (signature !== null) headers["stripe-signature"] = signature;
  const res = await exports.default.fetch(`http://souk.test${webhookPath(endpoint)}`, {
    method: "POST",
    headers,
    body: payload,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body };
}

/** An event body as Stripe sends one (pretty JSON of the event object), made up by the test. */
export function eventPayload(input: {
  id?: string;
  type: string;
  object: Record<string, unknown>;
  account?: string;
  created?: number;
}): { id: string; payload: string } {
  const id = input.id ?? `evt_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const event = {
    id,
    object: "event",
    api_version: "2025-01-27.acacia",
    created: input.created ?? Math.floor(Date.now() / 1000),
    data: { object: input.object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: input.type,
    ...(input.account ? { account: input.account } : {}),
  };
  return { id, payload: JSON.stringify(event, null, 2) };
}

export interface CapturedDelivery {
  eventId: string;
  body: string;
  signature: string;
}

/**
 * The emulator's own signed delivery of an event about `objectId` (to its capture sink for
 * `endpoint`), byte for byte: what Stripe would have POSTed to the Worker.
 */
export async function capturedDelivery(
  type: string,
  objectId: string,
  endpoint: Endpoint = "platform",
): Promise<CapturedDelivery> {
  const got = await eventually(
    async () => (await captured(endpoint, { type, objectId })).find((c) => c.status < 300),
    undefined,
    `${type} for ${objectId} at the ${endpoint} sink`,
  );
  if (!got.event_id || !got.stripe_signature)
    throw new Error("capture without an event id or signature");
  return { eventId: got.event_id, body: got.body, signature: got.stripe_signature };
}

/** The emulator's signed delivery of one event by id, or undefined until it has one. */
export async function deliveryOf(
  eventId: string,
  endpoint: Endpoint = "platform",
): Promise<CapturedDelivery | undefined> {
  const got = (await captured(endpoint, { eventId })).find((c) => c.status < 300);
  if (!got?.stripe_signature) return undefined;
  return { eventId, body: got.body, signature: got.stripe_signature };
}

/** Forwards the emulator's signed delivery to the Worker's webhook route, as Stripe would. */
export async function forwardDelivery(
  type: string,
  objectId: string,
  endpoint: Endpoint = "platform",
): Promise<CapturedDelivery & { status: number }> {
  const delivery = await capturedDelivery(type, objectId, endpoint);
  const res = await postWebhook(delivery.body, { endpoint, signature: delivery.signature });
  return { ...delivery, status: res.status };
}

export type StripeEventRow = typeof stripeEvents.$inferSelect;

export async function eventRow(eventId: string): Promise<StripeEventRow | undefined> {
  return withDb(
    async (db) => (await db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId)))[0],
  );
}

/** Waits until the queue consumer has applied (and marked) an event. */
export function processed(eventId: string, timeoutMs = 20_000): Promise<StripeEventRow> {
  return eventually(
    async () => {
      const row = await eventRow(eventId);
      return row?.processedAt ? row : undefined;
    },
    timeoutMs,
    `stripe event ${eventId} to be processed`,
  );
}

/** Confirms a PaymentIntent as the buyer's browser would (Stripe.js), on the emulator. */
export async function pay(
  paymentIntentId: string,
  card = "pm_card_visa",
): Promise<{ status: string }> {
  return emulator("POST", `/_emulator/payment_intents/${paymentIntentId}/pay`, {
    payment_method: card,
  });
}

/** A declined attempt: the emulator answers 402 and emits `payment_intent.payment_failed`. */
export async function payDeclined(paymentIntentId: string): Promise<void> {
  await expectRejection(pay(paymentIntentId, "pm_card_chargeDeclined"));
}

async function expectRejection(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    return;
  }
  throw new Error("expected the emulator to refuse");
}

/** A fully onboarded Express account, as a shop has after `payouts/onboard` and Stripe's form. */
export async function onboardedAccount(stripe = stripeClient()): Promise<string> {
  const account = await stripe.accounts.create({
    type: "express",
    country: "PT",
    capabilities: { transfers: { requested: true }, card_payments: { requested: true } },
  });
  await emulator("POST", `/_emulator/accounts/${account.id}/onboard`);
  return account.id;
}

export interface PaymentShop extends TestShop {
  accountId: string | null;
}

/** A visible shop whose payouts go to a real (emulated) connected account. */
export async function seedPaymentShop(opts: { payouts?: boolean } = {}): Promise<PaymentShop> {
  const shop = await seedShop({ payoutsEnabled: opts.payouts ?? true });
  const accountId = (opts.payouts ?? true) ? await onboardedAccount() : null;
  await withDb((db) =>
    db
      .update(shops)
      .set({ stripeAccountId: accountId, payoutsEnabled: accountId !== null })
      .where(eq(shops.id, shop.id)),
  );
  return { ...shop, accountId };
}

export interface SeedLine {
  priceMinor: number;
  quantity: number;
  /** On hand before the checkout held anything; default quantity + 5. */
  onHand?: number;
}

export interface SeededItem {
  id: string;
  productId: string;
  locationId: string;
  quantity: number;
  reservationId: string;
  stub: StockStub;
  onHandBefore: number;
}

export interface SeededOrder {
  id: string;
  shop: PaymentShop;
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  totalMinor: number;
  items: SeededItem[];
}

export interface SeededCheckout {
  id: string;
  buyer: TestUser;
  paymentIntentId: string;
  transferGroup: string;
  amountMinor: number;
  orders: SeededOrder[];
}

export const FEE_BPS = 200;

/**
 * A checkout as confirm leaves it: every line held in its ProductStock object (keys derived from
 * the checkout), one `pending_payment` order per shop with its lines and holds, and one
 * PaymentIntent on the emulator for the total with Souk's metadata. `piAmount` makes Stripe's
 * amount disagree with the records; `deadline` defaults to 30 minutes ahead.
 */
export async function seedCheckout(input: {
  orders: Array<{ shop?: PaymentShop; lines: SeedLine[]; deliveryFeeMinor?: number }>;
  buyer?: TestUser;
  deadline?: Date;
  holdTtlMs?: number;
  piAmount?: number;
}): Promise<SeededCheckout> {
  const stripe = stripeClient();
  const buyer = input.buyer ?? (await registerUser("buyer"));
  const checkoutId = uuidv7();
  const transferGroup = `checkout_${checkoutId}`;
  const deadline = input.deadline ?? new Date(Date.now() + 30 * 60_000);
  const categoryId = uuidv7();
  await withDb((db) =>
    db
      .insert(categories)
      .values({ id: categoryId, slug: `pay-${categoryId}`, name: "Payments test" }),
  );
  const seeded: SeededOrder[] = [];
  for (const spec of input.orders) {
    const shop = spec.shop ?? (await seedPaymentShop());
    const items: SeededItem[] = [];
    const lines: Array<{
      productId: string;
      shopId: string;
      locationId: string;
      quantity: number;
    }> = [];
    for (const [n, line] of spec.lines.entries()) {
      const { productId, stub } = newProduct();
      await withDb((db) =>
        db.insert(products).values({
          id: productId,
          shopId: shop.id,
          categoryId,
          title: `Item ${n + 1}`,
          priceMinor: line.priceMinor,
          currency: "EUR",
          sku: `SKU-${productId.slice(-10)}`,
          attributes: {},
          listingType: "fixed",
          status: "published",
          publishedAt: new Date(),
        }),
      );
      const onHand = line.onHand ?? line.quantity + 5;
      await stockUp(stub, productId, shop.warehouseId, onHand);
      items.push({
        id: uuidv7(),
        productId,
        locationId: shop.warehouseId,
        quantity: line.quantity,
        reservationId: "",
        stub,
        onHandBefore: onHand,
      });
      lines.push({
        productId,
        shopId: shop.id,
        locationId: shop.warehouseId,
        quantity: line.quantity,
      });
    }
    const held = await reserveLines(env.PRODUCT_STOCK, {
      holder: checkoutId,
      lines,
      ttlMs: input.holdTtlMs ?? Math.max(60_000, deadline.getTime() - Date.now() + 60_000),
      actor: { type: "user", id: buyer.id, requestId: `seed:${checkoutId}` },
    });
    if (!held.ok) throw new Error(`could not hold stock: ${JSON.stringify(held.shortages)}`);
    for (const item of items) {
      const h = held.held.find((x) => x.productId === item.productId);
      if (!h) throw new Error("a line was not held");
      item.reservationId = h.reservationId;
    }
    const subtotal = spec.lines.reduce((s, l) => s + l.priceMinor * l.quantity, 0);
    const delivery = spec.deliveryFeeMinor ?? 0;
    const fee = Math.round((subtotal * FEE_BPS) / 10_000);
    seeded.push({
      id: uuidv7(),
      shop,
      subtotalMinor: subtotal,
      deliveryFeeMinor: delivery,
      platformFeeMinor: fee,
      totalMinor: subtotal + delivery,
      items,
    });
  }
  const amount = seeded.reduce((s, o) => s + o.totalMinor, 0);
  await withDb(async (db) => {
    await db.insert(checkouts).values({
      id: checkoutId,
      buyerId: buyer.id,
      currency: "EUR",
      amountMinor: amount,
      platformFeeMinor: seeded.reduce((s, o) => s + o.platformFeeMinor, 0),
      transferGroup,
      paymentDeadline: deadline,
    });
    for (const o of seeded) {
      await db.insert(orders).values({
        id: o.id,
        checkoutId,
        buyerId: buyer.id,
        shopId: o.shop.id,
        currency: "EUR",
        subtotalMinor: o.subtotalMinor,
        deliveryFeeMinor: o.deliveryFeeMinor,
        platformFeeMinor: o.platformFeeMinor,
        totalMinor: o.totalMinor,
        paymentDeadline: deadline,
      });
      await db.insert(orderItems).values(
        o.items.map((i, n) => ({
          id: i.id,
          orderId: o.id,
          productId: i.productId,
          title: `Item ${n + 1}`,
          sku: `SKU-${i.productId.slice(-10)}`,
          unitPriceMinor: input.orders[seeded.indexOf(o)]?.lines[n]?.priceMinor ?? 0,
          quantity: i.quantity,
          locationId: i.locationId,
          reservationId: i.reservationId,
        })),
      );
    }
  });
  const pi = await stripe.paymentIntents.create(
    {
      amount: input.piAmount ?? amount,
      currency: "eur",
      transfer_group: transferGroup,
      automatic_payment_methods: { enabled: true, allow_redirects: "never" },
      metadata: { checkout_id: checkoutId, order_ids: seeded.map((o) => o.id).join(",") },
    },
    { idempotencyKey: `checkout:${checkoutId}` },
  );
  await withDb((db) =>
    db.update(checkouts).set({ paymentIntentId: pi.id }).where(eq(checkouts.id, checkoutId)),
  );
  return {
    id: checkoutId,
    buyer,
    paymentIntentId: pi.id,
    transferGroup,
    amountMinor: amount,
    orders: seeded,
  };
}

/** The orders of a seeded checkout as Postgres has them now, in seed order. */
export async function ordersOf(checkout: SeededCheckout) {
  const rows = await withDb((db) =>
    db
      .select()
      .from(orders)
      .where(
        inArray(
          orders.id,
          checkout.orders.map((o) => o.id),
        ),
      ),
  );
  return checkout.orders.map((o) => {
    const row = rows.find((r) => r.id === o.id);
    if (!row) throw new Error(`order ${o.id} is missing`);
    return row;
  });
}

export async function checkoutRow(checkoutId: string) {
  return withDb(
    async (db) => (await db.select().from(checkouts).where(eq(checkouts.id, checkoutId)))[0],
  );
}
