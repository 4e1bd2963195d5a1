import { asc, eq } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { type Order, orderItems, refunds } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import type { TaxLine } from "../../lib/tax.ts";
import { isAwaitingPayment } from "../payments/checkouts.ts";
import { orderTaxLines, refundTaxLines } from "./tax.ts";

type OrderItemRow = typeof orderItems.$inferSelect;
type RefundRow = typeof refunds.$inferSelect;

export interface ShopSummary {
  id: string;
  name: string;
  slug: string;
}

export interface OrderItemView {
  id: string;
  productId: string;
  title: string;
  sku: string;
  unitPriceMinor: number;
  quantity: number;
  lineTotalMinor: number;
  /** The line's tax rate (basis points) and tax, rounded for the line at checkout. */
  taxRateBps: number;
  taxMinor: number;
  status: OrderItemRow["status"];
  refundedMinor: number;
}

export interface RefundView {
  id: string;
  amountMinor: number;
  reason: string;
  status: string;
  stripeRefundId: string | null;
  /** The tax this refund gives back, and per rate. */
  taxMinor: number;
  taxLines: TaxLine[];
  createdAt: string;
  confirmedAt: string | null;
}

export interface OrderView {
  id: string;
  checkoutId: string | null;
  buyerId: string;
  shop: ShopSummary;
  status: Order["status"];
  source: string;
  currency: string;
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  /** Whether the prices included tax; if not, `taxMinor` was added to the total. */
  pricesIncludeTax: boolean;
  /** Σ the lines' and the delivery's tax. */
  taxMinor: number;
  totalMinor: number;
  refundedMinor: number;
  fulfilment: Order["fulfilment"];
  shippingAddress: Record<string, unknown> | null;
  carrier: string | null;
  trackingNumber: string | null;
  /** The branch a pickup order is collected at. */
  pickupLocationId: string | null;
  /** The delivery window booked at checkout, if the buyer chose one. */
  deliverySlot: { start: string; end: string } | null;
  readyForPickupAt: string | null;
  collectedAt: string | null;
  paidAt: string | null;
  /** The payment deadline while the order awaits payment; null once paid or ended. */
  paymentDueAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface OrderDetailView extends OrderView {
  /** The tax per rate: the net amount taxed at it and the tax (delivery included). */
  taxLines: TaxLine[];
  items: OrderItemView[];
  refunds: RefundView[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function addressOf(raw: unknown): Record<string, unknown> | null {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw)
    ? (raw as Record<string, unknown>)
    : null;
}

export function orderView(o: Order, shop: ShopSummary): OrderView {
  return {
    id: o.id,
    checkoutId: o.checkoutId,
    buyerId: o.buyerId,
    shop,
    status: o.status,
    source: o.source,
    currency: o.currency,
    subtotalMinor: o.subtotalMinor,
    deliveryFeeMinor: o.deliveryFeeMinor,
    platformFeeMinor: o.platformFeeMinor,
    pricesIncludeTax: o.pricesIncludeTax,
    taxMinor: o.taxMinor,
    totalMinor: o.totalMinor,
    refundedMinor: o.refundedMinor,
    fulfilment: o.fulfilment,
    shippingAddress: addressOf(o.shippingAddress),
    carrier: o.carrier,
    trackingNumber: o.trackingNumber,
    pickupLocationId: o.pickupLocationId,
    deliverySlot:
      o.deliverySlotStart && o.deliverySlotEnd
        ? { start: o.deliverySlotStart.toISOString(), end: o.deliverySlotEnd.toISOString() }
        : null,
    readyForPickupAt: iso(o.readyForPickupAt),
    collectedAt: iso(o.collectedAt),
    paidAt: iso(o.paidAt),
    paymentDueAt: isAwaitingPayment(o) ? iso(o.paymentDeadline) : null,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function itemView(i: OrderItemRow): OrderItemView {
  return {
    id: i.id,
    productId: i.productId,
    title: i.title,
    sku: i.sku,
    unitPriceMinor: i.unitPriceMinor,
    quantity: i.quantity,
    lineTotalMinor: i.unitPriceMinor * i.quantity,
    taxRateBps: i.taxRateBps,
    taxMinor: i.taxMinor,
    status: i.status,
    refundedMinor: i.refundedMinor,
  };
}

export function refundView(r: RefundRow): RefundView {
  return {
    id: r.id,
    amountMinor: r.amountMinor,
    reason: r.reason,
    status: r.status,
    stripeRefundId: r.stripeRefundId,
    taxMinor: r.taxMinor,
    taxLines: refundTaxLines(r.taxLines),
    createdAt: r.createdAt.toISOString(),
    confirmedAt: iso(r.confirmedAt),
  };
}

/** An order with its lines, its shop's name and its refunds, as buyers and sellers read it. */
export async function orderDetail(db: Queryable, o: Order): Promise<OrderDetailView> {
  const shopRows = await db
    .select({ id: shops.id, name: shops.name, slug: shops.slug })
    .from(shops)
    .where(eq(shops.id, o.shopId));
  const items = await db
    .select()
    .from(orderItems)
    .where(eq(orderItems.orderId, o.id))
    .orderBy(asc(orderItems.id));
  const rs = await db
    .select()
    .from(refunds)
    .where(eq(refunds.orderId, o.id))
    .orderBy(asc(refunds.createdAt), asc(refunds.id));
  const shop = shopRows[0] ?? { id: o.shopId, name: "", slug: "" };
  return {
    ...orderView(o, shop),
    taxLines: orderTaxLines(o, items),
    items: items.map(itemView),
    refunds: rs.map(refundView),
  };
}
