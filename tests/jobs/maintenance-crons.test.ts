import { and, desc, eq, gte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { idempotencyKeys, jobRuns, refunds } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { withDb } from "../helpers/db.ts";
import { fireCron } from "../helpers/jobs.ts";
import { paidOrder, refundRows } from "../helpers/orders.ts";
import { stripeClient } from "../helpers/stripe.ts";

/** The latest run of `job` started at or after `since`. */
async function lastRun(job: string, since: Date) {
  const [run] = await withDb((db) =>
    db
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.job, job), gte(jobRuns.startedAt, since)))
      .orderBy(desc(jobRuns.startedAt))
      .limit(1),
  );
  return run;
}

describe("maintenance crons, through the scheduled handler", () => {
  it("purges Idempotency-Key records past their 24 h every hour, and keeps live ones", async () => {
    const userId = uuidv7();
    const record = (key: string, expiresAt: Date) => ({
      userId,
      key,
      route: "POST /v1/checkout/confirm",
      requestHash: "h",
      state: "done",
      lockedUntil: new Date(Date.now() - 60_000),
      responseStatus: 201,
      responseBody: {},
      expiresAt,
    });
    await withDb((db) =>
      db
        .insert(idempotencyKeys)
        .values([
          record("stale", new Date(Date.now() - 60_000)),
          record("live", new Date(Date.now() + 3_600_000)),
        ]),
    );
    const since = new Date(Date.now() - 1000);
    await fireCron("0 * * * *");

    const left = await withDb((db) =>
      db
        .select({ key: idempotencyKeys.key })
        .from(idempotencyKeys)
        .where(eq(idempotencyKeys.userId, userId)),
    );
    expect(left.map((r) => r.key)).toEqual(["live"]);
    const run = await lastRun("idempotency-purge", since);
    expect(run).toMatchObject({ cron: "0 * * * *", outcome: "ok" });
    expect((run?.detail as { purged?: number } | undefined)?.purged).toBeGreaterThanOrEqual(1);
  });

  it("sends a refund opened but never sent to Stripe every quarter hour, once", async () => {
    const f = await paidOrder([{ priceMinor: 6_000, quantity: 1 }]);
    // As a crash between the row and Stripe leaves it: requested, no Stripe id, a while ago.
    await withDb((db) =>
      db.insert(refunds).values({
        id: uuidv7(),
        orderId: f.order.id,
        amountMinor: 1_500,
        reasonKey: "manual:crashed",
        reason: "goodwill",
        status: "requested",
        createdAt: new Date(Date.now() - 10 * 60_000),
      }),
    );
    const since = new Date(Date.now() - 1000);
    await fireCron("*/15 * * * *");
    await fireCron("*/15 * * * *");

    const onStripe = await stripeClient().refunds.list({
      payment_intent: f.checkout.paymentIntentId,
    });
    expect(onStripe.data.map((r) => r.amount)).toEqual([1_500]);
    expect(await refundRows(f.order.id)).toMatchObject([
      { status: "succeeded", stripeRefundId: onStripe.data[0]?.id },
    ]);
    expect(await lastRun("refund-redrive", since)).toMatchObject({
      cron: "*/15 * * * *",
      outcome: "ok",
    });
  });
});
