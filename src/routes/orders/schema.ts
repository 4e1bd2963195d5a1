import { z } from "@hono/zod-openapi";
import { orderItemStatus, orderStatus } from "../../db/schema/orders.ts";
import { text } from "../../lib/text.ts";
import { TaxLineSchema } from "../checkout/schema.ts";
import { idempotencyKeyHeader } from "../schemas.ts";

const minor = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description} Integer minor units of \`currency\`.` });

export const OrderStatusSchema = z.enum(orderStatus.enumValues).openapi("OrderStatus", {
  description:
    "pending_payment → paid → picking → ready → shipped → delivered (pickup: ready → " +
    "ready_for_pickup → collected); cancelled, " +
    "payment_failed, expired, partially_refunded, refunded. See the README's state table.",
});

export const OrderSchema = z
  .object({
    id: z.uuid(),
    checkoutId: z.uuid().nullable(),
    buyerId: z.uuid(),
    shop: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
    status: OrderStatusSchema,
    source: z.string().openapi({ description: "`checkout` or `auction`." }),
    currency: z.string(),
    subtotalMinor: minor("Σ line totals."),
    deliveryFeeMinor: minor("Delivery charged for this order."),
    platformFeeMinor: minor("Kept by the platform from the shop's share."),
    pricesIncludeTax: z.boolean().openapi({
      description: "The prices included tax; if not, `taxMinor` was added to the total.",
    }),
    taxMinor: minor("Σ the lines' and the delivery's tax, each rounded half up."),
    totalMinor: minor("What the buyer paid for this order."),
    refundedMinor: minor("Refunds Stripe has confirmed."),
    fulfilment: z.enum(["delivery", "pickup"]),
    shippingAddress: z.record(z.string(), z.unknown()).nullable(),
    carrier: z.string().nullable(),
    trackingNumber: z.string().nullable(),
    pickupLocationId: z.uuid().nullable().openapi({ description: "Pickup: the branch." }),
    deliverySlot: z
      .object({ start: z.iso.datetime(), end: z.iso.datetime() })
      .nullable()
      .openapi({ description: "The two-hour delivery window booked at checkout, if any." }),
    readyForPickupAt: z.iso.datetime().nullable(),
    collectedAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: "When staff entered the buyer's pickup code." }),
    paidAt: z.iso.datetime().nullable(),
    paymentDueAt: z.iso
      .datetime()
      .nullable()
      .openapi({
        description:
          "While the order awaits payment (`pending_payment`, `payment_failed`): the deadline to " +
          "pay by (UTC). Unpaid then, it expires (an auction win also counts a strike). Null " +
          "once paid or ended.",
      }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Order");

export const OrderDetailSchema = OrderSchema.extend({
  taxLines: z.array(TaxLineSchema).openapi({ description: "Tax per rate, delivery included." }),
  items: z.array(
    z.object({
      id: z.uuid(),
      productId: z.uuid(),
      title: z.string(),
      sku: z.string(),
      unitPriceMinor: z.number().int(),
      quantity: z.number().int(),
      lineTotalMinor: z.number().int(),
      taxRateBps: z.number().int(),
      taxMinor: z.number().int().openapi({ description: "The line's tax, rounded half up." }),
      status: z.enum(orderItemStatus.enumValues).openapi({
        description: "`pending` until a seller marks it `picked` or `missing`.",
      }),
      refundedMinor: z.number().int(),
    }),
  ),
  refunds: z.array(
    z.object({
      id: z.uuid(),
      amountMinor: z.number().int(),
      reason: z.string(),
      status: z.string().openapi({
        description: "`requested` (sent, Stripe not yet done), `succeeded` or `failed`.",
      }),
      stripeRefundId: z.string().nullable(),
      taxMinor: z.number().int().openapi({
        description: "The tax this refund gives back (its share of each line, rounded per line).",
      }),
      taxLines: z.array(TaxLineSchema),
      createdAt: z.iso.datetime(),
      confirmedAt: z.iso.datetime().nullable(),
    }),
  ),
}).openapi("OrderDetail");

export const OrderPageSchema = z
  .object({ items: z.array(OrderSchema), nextCursor: z.string().nullable() })
  .openapi("OrderPage");

export const ListQuery = z.object({
  status: OrderStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." }),
});

export const RefundBody = z
  .object({
    amountMinor: z.int().min(1).max(100_000_000).openapi({
      description: "How much to give back, at most what remains unrefunded (else 409).",
    }),
    reason: text().trim().min(1).max(500),
  })
  .openapi("RefundInput");

export const RefundHeaders = idempotencyKeyHeader(
  "The same key (per user and order) returns the same refund instead of refunding twice; " +
    "with another amount, 409.",
);

export const OrderIdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
});

export const OrderItemParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  itemId: z.uuid().openapi({ param: { name: "itemId", in: "path" } }),
});
