import { eq } from "drizzle-orm";
import { orders, refunds, transfers } from "../../src/db/schema/index.ts";
import { withDb } from "./db.ts";
import { api } from "./http.ts";
import {
  forwardDelivery,
  pay,
  processed,
  type SeededCheckout,
  type SeededOrder,
  type SeedLine,
  seedCheckout,
} from "./stripe.ts";
import type { TestUser } from "./users.ts";

export interface OrderFixture {
  checkout: SeededCheckout;
  order: SeededOrder;
  buyer: TestUser;
  owner: TestUser;
}

/** An unpaid order as confirm leaves it (held stock, a live PaymentIntent). */
export async function pendingOrder(
  lines: SeedLine[] = [{ priceMinor: 2_000, quantity: 1 }],
  deliveryFeeMinor = 0,
): Promise<OrderFixture> {
  const checkout = await seedCheckout({ orders: [{ lines, deliveryFeeMinor }] });
  const [order] = checkout.orders;
  if (!order) throw new Error("seed");
  return { checkout, order, buyer: checkout.buyer, owner: order.shop.owner };
}

/** A paid order: paid on the emulator, the signed webhook applied (stock sold, transfer made). */
export async function paidOrder(
  lines: SeedLine[] = [{ priceMinor: 2_000, quantity: 1 }],
  deliveryFeeMinor = 0,
): Promise<OrderFixture> {
  const f = await pendingOrder(lines, deliveryFeeMinor);
  await pay(f.checkout.paymentIntentId);
  const d = await forwardDelivery("payment_intent.succeeded", f.checkout.paymentIntentId);
  await processed(d.eventId);
  return f;
}

export async function orderRow(orderId: string) {
  const [o] = await withDb((db) => db.select().from(orders).where(eq(orders.id, orderId)));
  if (!o) throw new Error(`order ${orderId} is missing`);
  return o;
}

export async function refundRows(orderId: string) {
  return withDb((db) => db.select().from(refunds).where(eq(refunds.orderId, orderId)));
}

export async function transferRow(orderId: string) {
  const [t] = await withDb((db) =>
    db.select().from(transfers).where(eq(transfers.orderId, orderId)),
  );
  return t;
}

export interface OrderBody {
  id: string;
  status: string;
  refundedMinor: number;
  items: Array<{ id: string; status: string; refundedMinor: number }>;
  refunds: Array<{ amountMinor: number; status: string; stripeRefundId: string | null }>;
}

export async function sellerPost(user: TestUser, path: string, body?: unknown) {
  return api<OrderBody & { code?: string; detail?: string }>("POST", `/v1/seller/orders${path}`, {
    token: user.accessToken,
    ...(body === undefined ? {} : { body }),
  });
}

export async function buyerPost(user: TestUser, path: string, body?: unknown) {
  return api<OrderBody & { code?: string; detail?: string }>("POST", `/v1/orders${path}`, {
    token: user.accessToken,
    ...(body === undefined ? {} : { body }),
  });
}
