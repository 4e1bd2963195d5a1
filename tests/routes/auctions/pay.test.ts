import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { checkouts, orders } from "../../../src/db/schema/index.ts";
import { freshAuction, seedBidders } from "../../helpers/auctions.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { forwardDelivery, pay, processed, stripeClient } from "../../helpers/stripe.ts";

interface Payment {
  orderId: string;
  checkoutId: string;
  paymentIntentId: string;
  clientSecret: string;
  amountMinor: number;
  currency: string;
}

async function addressOf(token: string): Promise<string> {
  const res = await api<{ id: string }>("POST", "/v1/me/addresses", {
    token,
    body: {
      recipientName: "Ana Silva",
      line1: "Rua Augusta 1",
      city: "Lisboa",
      postalCode: "1100-048",
      country: "PT",
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

describe("POST /v1/orders/{id}/pay (auction orders)", () => {
  it("pays a buy-now order through one PaymentIntent that the payments consumer applies", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000, buyNowPriceMinor: 2500 });
    const [buyer, stranger] = await seedBidders(2);
    if (!buyer || !stranger) throw new Error("users");
    const bought = await api<{ orderId: string }>("POST", `/v1/auctions/${auction.id}/buy-now`, {
      token: buyer.token,
      headers: { "idempotency-key": "pay-test" },
    });
    expect(bought.status).toBe(201);
    const orderId = bought.body.orderId;
    const path = `/v1/orders/${orderId}/pay`;

    const noAddress = await api<Problem>("POST", path, { token: buyer.token, body: {} });
    expect(noAddress.status).toBe(422);
    expect(noAddress.body.errors?.[0]?.field).toBe("addressId");
    expect((await api("POST", path, { token: stranger.token, body: {} })).status).toBe(404);

    const addressId = await addressOf(buyer.token);
    const first = await api<Payment>("POST", path, { token: buyer.token, body: { addressId } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ orderId, amountMinor: 2500, currency: "EUR" });
    const again = await api<Payment>("POST", path, { token: buyer.token, body: {} });
    expect(again.body.paymentIntentId).toBe(first.body.paymentIntentId);
    expect(again.body.checkoutId).toBe(first.body.checkoutId);

    const intent = await stripeClient().paymentIntents.retrieve(first.body.paymentIntentId);
    expect(intent).toMatchObject({
      amount: 2500,
      currency: "eur",
      transfer_group: first.body.checkoutId,
      metadata: { checkout_id: first.body.checkoutId, order_ids: orderId },
    });
    const [checkout] = await withDb((db) =>
      db.select().from(checkouts).where(eq(checkouts.id, first.body.checkoutId)),
    );
    expect(checkout).toMatchObject({
      amountMinor: 2500,
      platformFeeMinor: 50,
      paymentIntentId: first.body.paymentIntentId,
      status: "open",
    });

    await pay(first.body.paymentIntentId);
    const delivered = await forwardDelivery("payment_intent.succeeded", first.body.paymentIntentId);
    expect(delivered.status).toBe(200);
    await processed(delivered.eventId);
    const order = await eventually(async () => {
      const [o] = await withDb((db) => db.select().from(orders).where(eq(orders.id, orderId)));
      return o?.status === "paid" ? o : undefined;
    });
    expect(order).toMatchObject({ checkoutId: first.body.checkoutId, totalMinor: 2500 });
    expect(order.shippingAddress).toMatchObject({ city: "Lisboa", country: "PT" });
    const paid = await api<Problem>("POST", path, { token: buyer.token, body: {} });
    expect(paid.status).toBe(409);
  });
});
