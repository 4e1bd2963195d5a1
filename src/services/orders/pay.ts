import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { addresses } from "../../db/schema/addresses.ts";
import { checkouts, orders } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { Stripe } from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound, PaymentFailed, ValidationFailed } from "../errors.ts";
import { createCheckoutIntent } from "../payments/checkouts.ts";

/**
 * Paying an auction order (a win, a buy-now, an accepted second chance). The checkout issue's
 * money path is reused unchanged: one `checkouts` row and one PaymentIntent for this single
 * order, with the same conventions as checkout confirm — `transfer_group` = checkout id,
 * metadata `checkout_id` and `order_ids`, Stripe idempotency key `checkout:{id}:pi` — so the
 * payments consumer marks the order paid on `payment_intent.succeeded` and transfers the shop's
 * share exactly as for a cart checkout. Auction items hold no stock reservation (see orders.ts).
 */
export const payInput = z.object({
  /** One of your addresses; required unless the order already has a shipping address. */
  addressId: z.uuid().optional(),
});
export type PayInput = z.input<typeof payInput>;

export interface AuctionPayment {
  orderId: string;
  checkoutId: string;
  paymentIntentId: string;
  /** For Stripe.js / the Payment Element to confirm the payment in the buyer's browser. */
  clientSecret: string;
  amountMinor: number;
  currency: string;
  paymentDeadline: string;
}

/**
 * Starts (or resumes) paying one auction order of the caller. Another buyer's order is a 404;
 * an order no longer awaiting payment is a 409. Calling again returns the same PaymentIntent.
 * A blocked buyer may still pay an order already won: the block stops new bids and purchases,
 * not settling what is owed.
 */
export async function payAuctionOrder(
  ctx: ServiceContext,
  buyerId: string,
  orderId: string,
  raw: PayInput,
): Promise<AuctionPayment> {
  const input = parseOr422(payInput, raw);
  const { order, checkoutId, existingIntentId } = await withAudit(
    ctx.db,
    ctx.actor,
    async (tx, audit) => {
      const [o] = await tx
        .select()
        .from(orders)
        .where(and(eq(orders.id, orderId), eq(orders.buyerId, buyerId)))
        .for("update");
      if (o?.source !== "auction") throw new NotFound("order", orderId);
      if (o.status !== "pending_payment" && o.status !== "payment_failed") {
        throw new Conflict(`Order ${orderId} is ${o.status}; it cannot be paid.`, {
          currentStatus: o.status,
        });
      }
      if (o.paymentDeadline && o.paymentDeadline.getTime() <= Date.now()) {
        throw new Conflict(`Order ${orderId} is past its payment deadline.`, {
          reason: "deadline_passed",
        });
      }
      let shippingAddress = o.shippingAddress;
      if (input.addressId) {
        const [a] = await tx
          .select()
          .from(addresses)
          .where(
            and(
              eq(addresses.id, input.addressId),
              eq(addresses.userId, buyerId),
              isNull(addresses.deletedAt),
            ),
          );
        if (!a) {
          throw new ValidationFailed([
            { field: "addressId", in: "body", message: "is not one of your addresses" },
          ]);
        }
        shippingAddress = {
          recipientName: a.recipientName,
          line1: a.line1,
          line2: a.line2,
          city: a.city,
          region: a.region,
          postalCode: a.postalCode,
          country: a.country,
          phone: a.phone,
        };
      }
      if (shippingAddress === null) {
        throw new ValidationFailed([
          { field: "addressId", in: "body", message: "is required: where should the item go?" },
        ]);
      }
      const id = o.checkoutId ?? uuidv7();
      let existingIntentId: string | null = null;
      if (o.checkoutId) {
        const [c] = await tx
          .select({ paymentIntentId: checkouts.paymentIntentId })
          .from(checkouts)
          .where(eq(checkouts.id, o.checkoutId));
        existingIntentId = c?.paymentIntentId ?? null;
      } else {
        await tx.insert(checkouts).values({
          id,
          buyerId,
          currency: o.currency,
          amountMinor: o.totalMinor,
          platformFeeMinor: o.platformFeeMinor,
          transferGroup: id,
          status: "open",
          paymentDeadline: o.paymentDeadline ?? new Date(),
        });
        await audit.record({
          action: "checkout.created",
          entityType: "checkout",
          entityId: id,
          newValue: {
            status: "open",
            currency: o.currency,
            amountMinor: o.totalMinor,
            platformFeeMinor: o.platformFeeMinor,
            orderIds: [o.id],
            auctionId: o.auctionId,
          },
        });
      }
      await tx
        .update(orders)
        .set({ checkoutId: id, shippingAddress, updatedAt: new Date() })
        .where(eq(orders.id, o.id));
      await audit.record({
        action: "order.payment_started",
        entityType: "order",
        entityId: o.id,
        newValue: { checkoutId: id, shippingAddressSet: input.addressId !== undefined },
      });
      return { order: o, checkoutId: id, existingIntentId };
    },
  );

  let intent: Stripe.PaymentIntent;
  try {
    // Stripe forgets idempotency keys after 24 h: a resumed payment asks for the intent it made.
    intent = existingIntentId
      ? await ctx.stripe.paymentIntents.retrieve(existingIntentId)
      : await createCheckoutIntent(ctx.stripe, {
          checkoutId,
          amountMinor: order.totalMinor,
          currency: order.currency,
          orderIds: [order.id],
          metadata: { auction_id: order.auctionId ?? "" },
        });
  } catch (err) {
    const message = errorMessage(err);
    ctx.logger.warn("auction PaymentIntent could not be created", { orderId, error: message });
    throw new PaymentFailed(`The payment could not be set up: ${message} Nothing was charged.`, {
      orderId,
      checkoutId,
    });
  }
  if (!intent.client_secret) throw new Error(`PaymentIntent ${intent.id} has no client secret`);
  await ctx.db
    .update(checkouts)
    .set({ paymentIntentId: intent.id, updatedAt: new Date() })
    .where(and(eq(checkouts.id, checkoutId), isNull(checkouts.paymentIntentId)));
  return {
    orderId: order.id,
    checkoutId,
    paymentIntentId: intent.id,
    clientSecret: intent.client_secret,
    amountMinor: order.totalMinor,
    currency: order.currency,
    paymentDeadline: (order.paymentDeadline ?? new Date()).toISOString(),
  };
}
