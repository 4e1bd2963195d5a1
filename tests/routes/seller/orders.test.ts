import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { api } from "../../helpers/http.ts";
import {
  orderRow,
  paidOrder,
  pendingOrder,
  refundRows,
  sellerPost,
  transferRow,
} from "../../helpers/orders.ts";
import { createAdmin, seedMember } from "../../helpers/shops.ts";
import { eventually, postWebhook, processed, stripeClient } from "../../helpers/stripe.ts";
import { captured } from "../../helpers/stripe-emulator.ts";
import { registerUser } from "../../helpers/users.ts";

const stripe = stripeClient();

async function chargeOf(paymentIntentId: string): Promise<string> {
  const pi = await stripe.paymentIntents.retrieve(paymentIntentId);
  return String(pi.latest_charge);
}

/** The emulator's signed charge.refunded deliveries for a charge, once there are `count`. */
async function refundedDeliveries(chargeId: string, count: number) {
  return eventually(
    async () => {
      const all = (
        await captured("platform", { type: "charge.refunded", objectId: chargeId })
      ).filter((c) => c.status < 300 && c.event_id && c.stripe_signature);
      return all.length >= count
        ? all.map((c) => ({
            eventId: c.event_id ?? "",
            body: c.body,
            signature: c.stripe_signature ?? "",
          }))
        : undefined;
    },
    undefined,
    `${count} charge.refunded for ${chargeId}`,
  );
}

describe("seller order reads", () => {
  it("lists a shop's orders for its members (staff included) and 404s everyone else", async () => {
    const f = await paidOrder();
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");
    for (const who of [f.owner, staff]) {
      const res = await api<{ items: Array<{ id: string; status: string }> }>(
        "GET",
        `/v1/seller/orders?shopId=${f.order.shop.id}&status=paid`,
        { token: who.accessToken },
      );
      expect(res.status).toBe(200);
      expect(res.body.items.map((o) => o.id)).toEqual([f.order.id]);
    }
    const stranger = await registerUser("seller");
    const res = await api("GET", `/v1/seller/orders?shopId=${f.order.shop.id}`, {
      token: stranger.accessToken,
    });
    expect(res.status).toBe(404);
    const one = await api<{ items: unknown[] }>("GET", `/v1/seller/orders/${f.order.id}`, {
      token: staff.accessToken,
    });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: f.order.id, items: [{ status: "pending" }] });
  });
});

describe("picking", () => {
  it("refunds a missing line exactly once, however often it is marked or charge.refunded comes", async () => {
    const f = await paidOrder([
      { priceMinor: 2_000, quantity: 1 },
      { priceMinor: 1_500, quantity: 2 },
    ]);
    const [keep, gone] = f.order.items;
    if (!keep || !gone) throw new Error("seed");
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");

    const res = await sellerPost(staff, `/${f.order.id}/items/${gone.id}/missing`);
    expect(res.status).toBe(200);
    // A partial refund during picking keeps the fulfilment status.
    expect(res.body).toMatchObject({ status: "picking", refundedMinor: 3_000 });
    expect(res.body.items.find((i) => i.id === gone.id)).toMatchObject({
      status: "missing",
      refundedMinor: 3_000,
    });
    // Marked again: nothing new.
    expect((await sellerPost(staff, `/${f.order.id}/items/${gone.id}/missing`)).status).toBe(200);
    // The other decision on a decided line: 409.
    const flip = await sellerPost(staff, `/${f.order.id}/items/${gone.id}/picked`);
    expect(flip.status).toBe(409);

    // charge.refunded, delivered twice (and the same delivery posted again): counted once.
    const chargeId = await chargeOf(f.checkout.paymentIntentId);
    const [delivery] = await refundedDeliveries(chargeId, 1);
    if (!delivery) throw new Error("no delivery");
    for (let i = 0; i < 2; i++) {
      expect((await postWebhook(delivery.body, { signature: delivery.signature })).status).toBe(
        200,
      );
    }
    await processed(delivery.eventId);

    const onStripe = await stripe.refunds.list({ payment_intent: f.checkout.paymentIntentId });
    expect(onStripe.data.map((r) => r.amount)).toEqual([3_000]);
    const rows = await refundRows(f.order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      amountMinor: 3_000,
      status: "succeeded",
      reasonKey: `item:${gone.id}`,
      stripeRefundId: onStripe.data[0]?.id,
    });
    const o = await orderRow(f.order.id);
    expect(o).toMatchObject({ status: "picking", refundedMinor: 3_000 });
    // Reversal = round(refund × shop share / total) = round(3,000 × 4,900 / 5,000).
    expect(o.platformFeeMinor).toBe(100);
    const t = await transferRow(f.order.id);
    expect(t?.reversedMinor).toBe(2_940);
    expect((await stripe.transfers.retrieve(t?.stripeTransferId ?? "")).amount_reversed).toBe(
      2_940,
    );
    expect(await auditRows(f.order.id, { action: "order.refund_recorded" })).toHaveLength(1);
    expect(await auditRows(f.order.id, { action: "transfer.reversed" })).toHaveLength(1);

    // The last line decided: ready.
    const last = await sellerPost(staff, `/${f.order.id}/items/${keep.id}/picked`);
    expect(last.status).toBe(200);
    expect(last.body.status).toBe("ready");
    expect(await auditRows(f.order.id, { action: "order.picking" })).toHaveLength(1);
    expect(await auditRows(f.order.id, { action: "order.ready" })).toHaveLength(1);
  });

  it("refunds everything, delivery included, when every line is missing", async () => {
    const f = await paidOrder([{ priceMinor: 4_000, quantity: 1 }], 600);
    const [line] = f.order.items;
    if (!line) throw new Error("seed");
    const res = await sellerPost(f.owner, `/${f.order.id}/items/${line.id}/missing`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "refunded", refundedMinor: 4_600 });
    const onStripe = await stripe.refunds.list({ payment_intent: f.checkout.paymentIntentId });
    expect(onStripe.data.map((r) => r.amount).sort()).toEqual([4_000, 600].sort());
    expect((await transferRow(f.order.id))?.reversedMinor).toBe(4_600 - f.order.platformFeeMinor);
  });

  it("refuses to pick an unpaid order (409) and an unknown line (404)", async () => {
    const f = await pendingOrder();
    const [line] = f.order.items;
    if (!line) throw new Error("seed");
    const res = await sellerPost(f.owner, `/${f.order.id}/items/${line.id}/picked`);
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain("pending_payment");
    const unknown = await sellerPost(f.owner, `/${f.order.id}/items/${crypto.randomUUID()}/picked`);
    expect(unknown.status).toBe(404);
  });
});

describe("ship", () => {
  it("ships a ready order (owner or manager; staff 403) and tells the buyer", async () => {
    const f = await paidOrder();
    const [line] = f.order.items;
    if (!line) throw new Error("seed");
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");
    const body = { carrier: "DHL", trackingNumber: "JD0123" };
    expect((await sellerPost(f.owner, `/${f.order.id}/ship`, body)).status).toBe(409);
    await sellerPost(staff, `/${f.order.id}/items/${line.id}/picked`);
    expect((await sellerPost(staff, `/${f.order.id}/ship`, body)).status).toBe(403);
    expect((await sellerPost(f.owner, `/${f.order.id}/ship`, {})).status).toBe(422);
    const res = await sellerPost(f.owner, `/${f.order.id}/ship`, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "shipped", ...body });
    const audits = await auditRows(f.order.id, { action: "order.shipped" });
    expect(audits).toHaveLength(1);
    expect(audits[0]?.actorId).toBe(f.owner.id);
    await eventually(
      async () => {
        const n = await api<{ items: Array<{ kind: string }> }>("GET", "/v1/notifications", {
          token: f.buyer.accessToken,
        });
        return n.body.items?.some((i) => i.kind === "order.shipped") ? true : undefined;
      },
      undefined,
      "the buyer's shipped notice",
    );
  });
});

describe("refunds", () => {
  it("refunds part then the rest, reverses the shop's share pro rata, and never more than paid", async () => {
    const f = await paidOrder([{ priceMinor: 5_000, quantity: 1 }]);
    const manager = await registerUser("seller");
    await seedMember(f.order.shop.id, manager, "manager");
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");

    const part = { amountMinor: 1_000, reason: "scratched box" };
    expect((await sellerPost(staff, `/${f.order.id}/refunds`, part)).status).toBe(403);
    const key = { "idempotency-key": "goodwill-1" };
    const first = await api<{ status: string; refundedMinor: number }>(
      "POST",
      `/v1/seller/orders/${f.order.id}/refunds`,
      { token: manager.accessToken, body: part, headers: key },
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "partially_refunded", refundedMinor: 1_000 });
    // The same key again: the same refund, not a second one.
    const replay = await api("POST", `/v1/seller/orders/${f.order.id}/refunds`, {
      token: manager.accessToken,
      body: part,
      headers: key,
    });
    expect(replay.status).toBe(200);
    expect(
      (await stripe.refunds.list({ payment_intent: f.checkout.paymentIntentId })).data,
    ).toHaveLength(1);
    // round(1,000 × 4,900 / 5,000) = 980 back from the shop; the platform returns 20 of its fee.
    expect((await transferRow(f.order.id))?.reversedMinor).toBe(980);

    const tooMuch = await sellerPost(f.owner, `/${f.order.id}/refunds`, {
      amountMinor: 4_001,
      reason: "too much",
    });
    expect(tooMuch.status).toBe(409);
    expect((await refundRows(f.order.id)).filter((r) => r.status !== "failed")).toHaveLength(1);

    const admin = await createAdmin();
    const rest = await api<{ status: string; refundedMinor: number }>(
      "POST",
      `/v1/admin/orders/${f.order.id}/refunds`,
      { token: admin.accessToken, body: { amountMinor: 4_000, reason: "dispute settled" } },
    );
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ status: "refunded", refundedMinor: 5_000 });
    expect((await transferRow(f.order.id))?.reversedMinor).toBe(4_900);
    const notAdmin = await api("POST", `/v1/admin/orders/${f.order.id}/refunds`, {
      token: f.owner.accessToken,
      body: { amountMinor: 1, reason: "x" },
    });
    expect(notAdmin.status).toBe(403);
  });
});
