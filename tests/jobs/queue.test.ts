import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deadLetters, notifications } from "../../src/db/schema/index.ts";
import worker from "../../src/index.ts";
import { withDb } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { registerUser } from "../helpers/users.ts";

describe("queues", () => {
  it("delivers a message sent on NOTIFICATIONS to its consumer, which writes the notification", async () => {
    const u = await registerUser();
    const dedupeKey = `test:${crypto.randomUUID()}`;
    await env.NOTIFICATIONS.send({
      userId: u.id,
      kind: "test",
      title: "Hello",
      body: "From the queue",
      dedupeKey,
    });
    const row = await eventually(() =>
      withDb(
        async (db) =>
          (await db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey)))[0],
      ),
    );
    expect(row).toMatchObject({ userId: u.id, title: "Hello" });
  });

  it("acks good messages, retries a bad one, and writes a redelivered message once", async () => {
    const u = await registerUser();
    const dedupeKey = `test:${crypto.randomUUID()}`;
    const good = { userId: u.id, kind: "test", title: "T", body: "B", dedupeKey };
    const batch = createMessageBatch<unknown>("notifications", [
      { id: "good-1", timestamp: new Date(), attempts: 1, body: good },
      { id: "good-2", timestamp: new Date(), attempts: 2, body: good },
      { id: "bad", timestamp: new Date(), attempts: 1, body: { nope: true } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["good-1", "good-2"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
    const rows = await withDb((db) =>
      db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey)),
    );
    expect(rows).toHaveLength(1);
  });

  it("records a dead-lettered message once for an admin to see", async () => {
    const id = `dead-${crypto.randomUUID()}`;
    const body = {
      poisoned: true,
      email: { to: "shop@example.test", subject: "Code", text: "Your code is 123456" },
    };
    const msg = { id, timestamp: new Date(), attempts: 6, body };
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("notifications-dlq", [msg]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([id]);
    }
    const rows = await withDb((db) =>
      db.select().from(deadLetters).where(eq(deadLetters.messageId, id)),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ queue: "notifications", attempts: 6 });
    // Kept for diagnosis, but never with the secret an OTP email carries.
    expect(rows[0]?.body).toEqual({
      poisoned: true,
      email: { to: "shop@example.test", subject: "Code", text: "[redacted]" },
    });
  });
});
