import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, deadLetters } from "../../src/db/schema/index.ts";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import { withDb } from "../helpers/db.ts";
import { level } from "../helpers/stock.ts";
import {
  capturedDelivery,
  eventRow,
  ordersOf,
  pay,
  seedCheckout,
  stripeClient,
} from "../helpers/stripe.ts";

/** The queue message the webhook route makes of a delivery. */
function messageOf(body: string) {
  const e = JSON.parse(body) as {
    id: string;
    type: string;
    created: number;
    livemode: boolean;
    data: { object: Record<string, unknown> };
  };
  return {
    id: e.id,
    type: e.type,
    account: null,
    created: e.created,
    livemode: e.livemode,
    source: "platform" as const,
    data: { object: e.data.object },
  };
}

async function runBatch(
  queue: string,
  workerEnv: Env,
  msg: { id: string; attempts: number; body: unknown },
) {
  const batch = createMessageBatch<unknown>(queue, [{ ...msg, timestamp: new Date() }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, workerEnv);
  return getQueueResult(batch, ctx);
}

describe("stripe-events consumer under faults", () => {
  it("retries an event while Postgres is unreachable and applies it exactly once after recovery", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 4_200, quantity: 1 }] }],
    });
    const [order] = checkout.orders;
    const item = order?.items[0];
    if (!order || !item) throw new Error("seed");
    await pay(checkout.paymentIntentId);
    const delivery = await capturedDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    const body = messageOf(delivery.body);
    const msgId = `msg-${delivery.eventId}`;

    // Postgres down: a port nothing listens on, through the same local WebSocket bridge.
    const down = { ...env, DATABASE_URL: "postgres://souk:souk@127.0.0.1:1/souk" } as Env;
    for (const attempts of [1, 2]) {
      const result = await runBatch("stripe-events", down, { id: msgId, attempts, body });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([msgId]);
    }
    expect(await eventRow(delivery.eventId)).toBeUndefined();
    expect((await ordersOf(checkout))[0]?.status).toBe("pending_payment");

    // Back up: the retry applies it; two more redeliveries are acknowledged and do nothing.
    for (const attempts of [3, 4, 5]) {
      const result = await runBatch("stripe-events", env, { id: msgId, attempts, body });
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toEqual([msgId]);
    }
    expect((await eventRow(delivery.eventId))?.outcome).toBe("succeeded paid:1 transfers:1");
    expect((await ordersOf(checkout))[0]?.status).toBe("paid");
    const paidAudits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, order.id), eq(auditLog.action, "order.paid"))),
    );
    expect(paidAudits).toHaveLength(1);
    expect(
      (await stripeClient().transfers.list({ transfer_group: checkout.transferGroup })).data,
    ).toHaveLength(1);
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore - 1,
      reserved: 0,
    });
  });

  it("retries a malformed message, and its dead letter is kept once for an admin", async () => {
    const msgId = `bad-${crypto.randomUUID()}`;
    const body = { id: "not-an-event", type: 42 };
    const first = await runBatch("stripe-events", env, { id: msgId, attempts: 1, body });
    expect(first.retryMessages.map((m) => m.msgId)).toEqual([msgId]);
    for (let i = 0; i < 2; i++) {
      const dlq = await runBatch("stripe-events-dlq", env, { id: msgId, attempts: 6, body });
      expect(dlq.explicitAcks).toEqual([msgId]);
    }
    const rows = await withDb((db) =>
      db.select().from(deadLetters).where(eq(deadLetters.messageId, msgId)),
    );
    expect(rows).toMatchObject([{ queue: "stripe-events", attempts: 6, body }]);
  });
});
