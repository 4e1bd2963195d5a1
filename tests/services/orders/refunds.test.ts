import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refunds } from "../../../src/db/schema/index.ts";
import { openJobContext } from "../../../src/jobs/context.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { redriveUnsentRefunds } from "../../../src/services/orders/refunds.ts";
import { withDb } from "../../helpers/db.ts";
import { orderRow, paidOrder, refundRows, transferRow } from "../../helpers/orders.ts";
import { stripeClient } from "../../helpers/stripe.ts";

const actor = { type: "system" as const, id: null, requestId: "job:test-refunds" };

describe("unsent refunds", () => {
  it("sends a refund opened but never sent, once, with its transfer reversal", async () => {
    const f = await paidOrder([{ priceMinor: 8_000, quantity: 1 }]);
    // As a crash between the row and Stripe leaves it: requested, no Stripe id, a while ago.
    await withDb((db) =>
      db.insert(refunds).values({
        id: uuidv7(),
        orderId: f.order.id,
        amountMinor: 2_000,
        reasonKey: "manual:crashed",
        reason: "goodwill",
        status: "requested",
        createdAt: new Date(Date.now() - 10 * 60_000),
      }),
    );
    const { ctx, close } = openJobContext(env, "test-refunds");
    try {
      const p = ctx;
      expect(await redriveUnsentRefunds(p, actor)).toBeGreaterThanOrEqual(1);
      await redriveUnsentRefunds(p, actor);
    } finally {
      await close();
    }
    const onStripe = await stripeClient().refunds.list({
      payment_intent: f.checkout.paymentIntentId,
    });
    expect(onStripe.data.map((r) => r.amount)).toEqual([2_000]);
    expect(await refundRows(f.order.id)).toMatchObject([
      { amountMinor: 2_000, status: "succeeded", stripeRefundId: onStripe.data[0]?.id },
    ]);
    expect(await orderRow(f.order.id)).toMatchObject({
      status: "partially_refunded",
      refundedMinor: 2_000,
    });
    // round(2,000 × 7,840 / 8,000)
    expect((await transferRow(f.order.id))?.reversedMinor).toBe(1_960);
  });
});
